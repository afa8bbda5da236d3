/**
 * The one redaction of the tool. Everything it prints or writes (the human plan, the reports, apply's
 * lines, logs, evidence) passes through here first, so a token or a secret that a service echoes in
 * an error body, or that sits in a value read from the tenant, never reaches a terminal or a file.
 */

/** What a secret is replaced with. */
export const REDACTED = '[redacted]';

/** Keys whose values are secrets, whatever they hold. */
const SECRET_KEY = /secret|password|token|assertion|authorization|certificate|client_secret|private_?key|api_?key|cookie/i;
/** A property name, as opposed to a map key such as an e-mail address or a display name. */
const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$-]*$/;
const JWT = /eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*/g;
const BEARER = /\bBearer\s+[A-Za-z0-9._~+/=-]+/gi;
const SECRET_PARAM = /\b((?:client_secret|client_assertion|password|secret|assertion|access_token|refresh_token|id_token|sig)=)[^&\s"']+/gi;
const PEM = /-----BEGIN [A-Z0-9 ]+-----[\s\S]*?(?:-----END [A-Z0-9 ]+-----|$)/g;
/** Basic credentials in a header (a proxy's `Proxy-Authorization: Basic …`). */
const BASIC = /\b((?:Proxy-)?Authorization:\s*Basic\s+)[A-Za-z0-9+/=]+/gi;
/** The user name and password of a URL (`http://user:password@proxy:3128`): everything between `//` and `@`. */
const URL_USERINFO = /\b([a-z][a-z0-9+.-]*:\/\/)[^\s/?#@"'<>`]+@/gi;

/** Secrets this process holds (tokens it was given or obtained, client secrets), masked wherever they appear. */
const known = new Set<string>();

/** The shortest value remembered as a secret: shorter ones would mask ordinary words. */
const MIN_SECRET_LENGTH = 8;

/**
 * Remembers a secret the process holds (an access token, a client secret, a pipeline token), so
 * that it is masked wherever it appears, even when it has no recognisable shape.
 */
export function rememberSecret(value: string | undefined): void {
  if (typeof value === 'string' && value.length >= MIN_SECRET_LENGTH) known.add(value);
}

/**
 * Remembers a URL that is a secret as a whole (a webhook URL: whoever holds it can post), so that
 * neither it nor its path and query, where the secret part is, appears anywhere.
 */
export function rememberSecretUrl(url: string): void {
  rememberSecret(url);
  rememberSecret(url.trim());
  try {
    const u = new URL(url.trim());
    rememberSecret(u.href);
    rememberSecret(`${u.pathname}${u.search}`);
    rememberSecret(u.search.slice(1));
  } catch {
    // Not a URL: remembered as given.
  }
}

/** Masks tokens and secrets in a string: known secrets, JWTs, Bearer and Basic credentials, `secret=` parameters, PEM blocks, a URL's user name and password. */
export function redactText(text: string): string {
  let masked = text;
  for (const secret of known) if (masked.includes(secret)) masked = masked.split(secret).join(REDACTED);
  masked = masked
    .replace(PEM, REDACTED)
    .replace(JWT, REDACTED)
    .replace(BEARER, `Bearer ${REDACTED}`)
    .replace(BASIC, `$1${REDACTED}`)
    .replace(URL_USERINFO, `$1${REDACTED}@`)
    .replace(SECRET_PARAM, `$1${REDACTED}`);
  return masked === `Bearer ${REDACTED}` ? REDACTED : masked;
}

/**
 * A deep copy with every secret replaced by `"[redacted]"`: any value under a property whose name
 * matches /secret|password|token|assertion|authorization|certificate|client_secret|private_?key|api_?key|cookie/i
 * (booleans and nulls, which cannot hold one, are kept), and in every string what
 * {@link redactText} masks. Map keys that are not property names (an owner's e-mail address) are
 * not taken for secret fields.
 */
export function redactSecrets<T>(value: T): T {
  return redactValue(value, 0) as T;
}

function redactValue(value: unknown, depth: number): unknown {
  if (depth > 200) throw new Error('value is nested too deeply to be redacted (a cycle?)');
  if (typeof value === 'string') return redactText(value);
  if (Array.isArray(value)) return value.map((v) => redactValue(v, depth + 1));
  if (value !== null && typeof value === 'object') {
    const toJSON = (value as { toJSON?: unknown }).toJSON;
    if (typeof toJSON === 'function') return redactValue((toJSON as () => unknown).call(value), depth + 1);
    return Object.fromEntries(
      Object.entries(value as Record<string, unknown>).map(([k, v]) => [
        redactText(k),
        isSecretKey(k) && v !== null && v !== undefined && typeof v !== 'boolean' ? REDACTED : redactValue(v, depth + 1),
      ]),
    );
  }
  return value;
}

const isSecretKey = (key: string): boolean => IDENTIFIER.test(key) && SECRET_KEY.test(key);
