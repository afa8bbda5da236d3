import { EXCHANGE_WRITES, GRAPH_WRITES, writableType } from '../resources/registry.js';

/*
 * Every write apply (or a rollback) makes is one its resource type declares (the registry collects
 * them: a Graph method and route, `{id}` one path segment, or an Exchange cmdlet). A plan whose
 * write is not one of these, written exactly so, is refused: the rails judge the path as it will be
 * sent, and a path the transport or the service would normalise into another one (dot segments,
 * doubled or encoded slashes, an absolute URL, a query) is not judged, it is refused.
 */

/** What a path segment may hold as it is (RFC 3986 pchar), besides percent-escapes. */
const PCHAR = /^(?:[A-Za-z0-9\-._~!$&'()*+,;=:@]|%[0-9A-Fa-f]{2})+$/;

/**
 * Why an id segment is not in its normal form (RFC 3986 6.2.2), or undefined when it is: only
 * characters a segment may hold, no escape of a character that needs none (`%2e` is a dot), and
 * nothing that decodes to a dot segment.
 */
function idSegmentProblem(segment: string): string | undefined {
  if (segment === '') return 'an empty segment';
  if (!PCHAR.test(segment)) return `"${segment}" holds a character a path segment cannot hold unencoded`;
  for (const [, hex] of segment.matchAll(/%([0-9A-Fa-f]{2})/g)) {
    const ch = String.fromCharCode(parseInt(hex!, 16));
    if (/[A-Za-z0-9\-._~]/.test(ch)) return `"${segment}" encodes "${ch}", which needs no encoding`;
  }
  let decoded: string;
  try {
    decoded = decodeURIComponent(segment);
  } catch {
    return `"${segment}" holds a percent-encoding that is not UTF-8`;
  }
  // An id may hold an encoded "/" (base64 inbox rule ids do); never one that makes a dot segment once decoded.
  if (decoded.split(/[/\\]/).some((part) => part === '.' || part === '..')) return `"${segment}" decodes to a dot segment`;
  return undefined;
}

/**
 * Why a write is not one apply makes, exactly as it would be sent, or undefined when it is. The
 * break-glass rail and every other check judge a write by its path: that path must be the one the
 * transport sends and the service routes.
 */
export function writeProblem(w: unknown): string | undefined {
  const r = matchWrite(w);
  return 'problem' in r ? r.problem : undefined;
}

/**
 * Why a write is not one its resource type makes: {@link writeProblem}, or a write of another
 * type (a plan cannot put a conditional access write under another type to pass its rails).
 */
export function writeProblemFor(type: unknown, w: unknown): string | undefined {
  const t = writableType(type);
  if (typeof t === 'string') return t;
  const r = matchWrite(w);
  if ('problem' in r) return r.problem;
  return r.type === t.key ? undefined : `it is a write of ${r.type}, not of ${t.key}`;
}

/** The resource type a write is one of, or undefined when it is no write apply makes. */
export function writeTypeOf(w: unknown): string | undefined {
  const r = matchWrite(w);
  return 'type' in r ? r.type : undefined;
}

/** The type whose write it is, or why it is not one. */
function matchWrite(w: unknown): { type: string } | { problem: string } {
  if (!w || typeof w !== 'object') return { problem: 'it is not a write' };
  const write = w as Record<string, unknown>;
  if (write['api'] === 'exchange') {
    if (typeof write['cmdlet'] !== 'string' || !EXCHANGE_WRITES.has(write['cmdlet'])) return { problem: `${JSON.stringify(write['cmdlet'])} is not a cmdlet apply runs` };
    if (!write['parameters'] || typeof write['parameters'] !== 'object' || Array.isArray(write['parameters'])) return { problem: 'its parameters are not an object' };
    return { type: EXCHANGE_WRITES.get(write['cmdlet'])! };
  }
  if (write['api'] !== 'graph') return { problem: `the API ${JSON.stringify(write['api'])} is neither graph nor exchange` };
  const { method, path } = write;
  if (typeof path !== 'string') return { problem: 'its path is not a string' };
  if (!path.startsWith('/')) return { problem: /^[a-z][a-z0-9+.-]*:/i.test(path) ? 'it is an absolute URL, not a path on the Graph endpoint' : 'it does not start with "/"' };
  if (/[?#]/.test(path)) return { problem: 'it carries a query or a fragment' };
  if (/[\s\\\p{Cc}]/u.test(path)) return { problem: 'it holds a backslash, a space or a control character' };
  const segments = path.slice(1).split('/');
  const routes = GRAPH_WRITES.filter(([m]) => m === method);
  if (!routes.length) return { problem: `${JSON.stringify(method)} is not a method apply writes with` };
  for (const [, route, type] of routes) {
    const parts = route.slice(1).split('/');
    if (parts.length !== segments.length || parts.some((part, i) => part !== '{id}' && part !== segments[i])) continue;
    const problem = parts.map((part, i) => (part === '{id}' ? idSegmentProblem(segments[i]!) : undefined)).find((p) => p !== undefined);
    return problem ? { problem } : { type };
  }
  const dots = segments.find((seg) => seg === '.' || seg === '..' || /^(%2e|\.){1,2}$/i.test(seg));
  if (dots !== undefined) return { problem: `it holds the dot segment "${dots}"` };
  if (segments.includes('')) return { problem: 'it holds a doubled slash' };
  return { problem: `${method} ${JSON.stringify(path)} is not a write apply makes` };
}
