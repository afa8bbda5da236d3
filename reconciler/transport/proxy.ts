import type * as Undici from 'undici';
import { rememberSecret } from '../core/redact.js';
import { isLoopbackHost } from '../core/loopback.js';

/**
 * Outbound HTTP through the proxy the environment names. HTTPS_PROXY / https_proxy (for https
 * URLs; HTTP_PROXY / http_proxy when no HTTPS proxy is set) and NO_PROXY / no_proxy are read the
 * usual way: the lower-case name wins; NO_PROXY is a list of host names (`example.com` and
 * `.example.com` also cover their subdomains), optionally with `:port`, or `*` for none.
 *
 * Some requests never go through a proxy, whatever the variables say: a plain http URL (which the
 * connection and webhook rules allow on loopback only: the simulator, a local relay, a receiver on
 * this machine) and an https URL whose host is a loopback name (localhost, 127.0.0.0/8, ::1), as
 * Go's ProxyFromEnvironment and most tools treat localhost. A proxy is another machine: its
 * loopback is not ours, and plain http through it would show it the bearer token and the body.
 * Those go out through Node's own fetch. Every other request goes to the proxy through a CONNECT
 * tunnel that carries TLS, so the proxy sees the target's host and port, never the headers or the
 * body (the bearer token stays between us and the service).
 *
 * With none of the proxy variables set, nothing here is used (undici is not even loaded): requests
 * go out through Node's own fetch exactly as before. undici is loaded on the first request that
 * goes through a proxy, and its fetch is used only with its own dispatcher, so the two always come
 * from the same version.
 */

/** The proxy variables of an environment, resolved as undici resolves them. */
export interface ProxySettings {
  readonly httpProxy: string;
  readonly httpsProxy: string;
  readonly noProxy: string;
}

/** The fetch the transports call. */
export type FetchLike = (url: string, init?: RequestInit) => Promise<Response>;

/** A proxy that failed a request: it was the proxy, not the service, that could not be reached or said no. */
export class ProxyError extends Error {}

/** The proxy settings of `env`, or undefined when no proxy is set (NO_PROXY alone changes nothing). */
export function proxySettings(env: NodeJS.ProcessEnv): ProxySettings | undefined {
  const httpProxy = env['http_proxy'] ?? env['HTTP_PROXY'] ?? '';
  const httpsProxy = env['https_proxy'] ?? env['HTTPS_PROXY'] ?? '';
  if (!httpProxy && !httpsProxy) return undefined;
  return { httpProxy, httpsProxy, noProxy: env['no_proxy'] ?? env['NO_PROXY'] ?? '' };
}

/** Where a proxy is, for messages: its host and port, never its user name or password. */
export function proxyHost(proxy: URL): string {
  return proxy.port ? proxy.host : `${proxy.host}:${proxy.protocol === 'https:' ? 443 : 80}`;
}

/**
 * Checks a proxy URL and remembers its password as a secret, so it is masked wherever it would
 * appear. Only http:// and https:// proxies are taken; the message never holds the URL.
 */
function parseProxy(variable: string, value: string): URL {
  let u: URL;
  try {
    u = new URL(value);
  } catch {
    throw new ProxyError(`${variable} is not a URL: give it as http://host:port (credentials, if any, as http://user:password@host:port)`);
  }
  // The password, as written and decoded, and the pair; the user name alone is no secret, and
  // masking it everywhere would hide ordinary words. In a URL both are masked by their place.
  if (u.password) {
    rememberSecret(u.password);
    rememberSecret(`${u.username}:${u.password}`);
    try {
      rememberSecret(decodeURIComponent(u.password));
      rememberSecret(`${decodeURIComponent(u.username)}:${decodeURIComponent(u.password)}`);
    } catch {
      // Not percent-encoded text: the raw form is remembered already.
    }
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new ProxyError(`${variable} is not an http:// or https:// URL: only http and https proxies are supported`);
  if (!u.hostname) throw new ProxyError(`${variable} has no host`);
  return u;
}

/**
 * The proxy a request to `url` goes through, or undefined when it goes direct. This decides the
 * routing, and names the proxy when a request fails: plain http and loopback hosts go direct, then
 * NO_PROXY, then the HTTPS proxy (or the HTTP one when no HTTPS proxy is set).
 */
export function proxyFor(url: URL, settings: ProxySettings): string | undefined {
  if (url.protocol !== 'https:' || isLoopbackHost(url.hostname)) return undefined;
  const chosen = settings.httpsProxy || settings.httpProxy;
  if (!chosen) return undefined;
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1').toLowerCase();
  const port = Number.parseInt(url.port, 10) || 443;
  const entries = settings.noProxy.split(/[,\s]/).filter(Boolean);
  if (entries.length > 0 && settings.noProxy === '*') return undefined;
  for (const entry of entries) {
    const m = /^(.+):(\d+)$/.exec(entry);
    const name = (m ? m[1]! : entry).replace(/^\*?\./, '').replace(/^\[(.*)\]$/, '$1').toLowerCase();
    if (m && Number.parseInt(m[2]!, 10) !== port) continue;
    if (host === name || host.endsWith(`.${name}`)) return undefined;
  }
  return chosen;
}

const fetchers = new Map<string, FetchLike>();

/**
 * The fetch for an environment: undefined when no proxy variable is set (use Node's fetch), else a
 * fetch that sends each request as {@link proxyFor} says: direct with Node's fetch, or with
 * undici's fetch through a tunnelling ProxyAgent, one per proxy, whose failures say whether the
 * proxy failed them. A proxy variable that is not an http(s) URL is a {@link ProxyError} at once.
 */
export function proxyFetch(env: NodeJS.ProcessEnv): FetchLike | undefined {
  const settings = proxySettings(env);
  if (!settings) return undefined;
  const key = JSON.stringify(settings);
  const known = fetchers.get(key);
  if (known) return known;
  const proxies = new Map<string, URL>();
  if (settings.httpProxy) proxies.set(settings.httpProxy, parseProxy(env['http_proxy'] !== undefined ? 'http_proxy' : 'HTTP_PROXY', settings.httpProxy));
  if (settings.httpsProxy) proxies.set(settings.httpsProxy, parseProxy(env['https_proxy'] !== undefined ? 'https_proxy' : 'HTTPS_PROXY', settings.httpsProxy));
  // Loaded on the first request through a proxy: a run that sends nothing through one never pays for undici.
  let loaded: Promise<typeof Undici> | undefined;
  const dispatchers = new Map<string, Undici.Dispatcher>();
  const send: FetchLike = async (url, init) => {
    const target = new URL(url);
    const via = proxyFor(target, settings);
    if (!via) return fetch(url, init);
    const undici = await (loaded ??= import('undici'));
    let dispatcher = dispatchers.get(via);
    if (!dispatcher) dispatchers.set(via, (dispatcher = new undici.ProxyAgent({ uri: via, proxyTunnel: true })));
    try {
      return (await undici.fetch(url, { ...(init as Parameters<typeof Undici.fetch>[1]), dispatcher })) as unknown as Response;
    } catch (err) {
      if ((err as Error | undefined)?.name === 'TimeoutError' || (err as Error | undefined)?.name === 'AbortError') throw err;
      throw proxyFailure(err, proxies.get(via)!, target);
    }
  };
  fetchers.set(key, send);
  return send;
}

/** The chain of causes of an error, AggregateError members included, outermost first. */
export function causes(err: unknown): unknown[] {
  const out: unknown[] = [];
  const walk = (e: unknown, depth: number) => {
    if (e === undefined || e === null || depth > 8 || out.includes(e)) return;
    out.push(e);
    const errors = (e as { errors?: unknown }).errors;
    if (Array.isArray(errors)) for (const x of errors) walk(x, depth + 1);
    walk((e as { cause?: unknown }).cause, depth + 1);
  };
  walk(err, 0);
  return out;
}

/** A code Node or undici gives a connection failure (ECONNREFUSED, UND_ERR_SOCKET, CERT_HAS_EXPIRED). */
const codeOf = (e: unknown): string | undefined => {
  const code = (e as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' ? code : undefined;
};

/**
 * What a request through a proxy failed of, naming the proxy when it was the proxy: a connection to
 * the proxy that failed (a proxied request connects to the proxy only, so a refused, reset or timed-out
 * connect or a name that does not resolve is the proxy's), or the proxy's answer to CONNECT. A
 * failure inside the tunnel (the service's certificate) names the service, through the proxy.
 */
function proxyFailure(err: unknown, proxy: URL, target: URL): Error {
  const at = proxyHost(proxy);
  const all = causes(err);
  const tunnel = all.map((e) => /Proxy response \((\d+)\) !== 200 when HTTP Tunneling/.exec((e as Error)?.message ?? '')).find(Boolean);
  if (tunnel) {
    const status = Number(tunnel[1]);
    const ask = `CONNECT ${target.hostname}:${target.port || 443}`;
    if (status === 407) return new ProxyError(`proxy ${at} asked for authentication (HTTP 407 to ${ask})${proxy.username ? ': it refused the user name and password given' : ': give them as http://user:password@host:port'}`);
    return new ProxyError(`proxy ${at} answered HTTP ${status} to ${ask}`);
  }
  const codes = new Set(all.map(codeOf).filter((c): c is string => c !== undefined));
  const plain = describeCause(err);
  if (codes.has('ECONNREFUSED')) return new ProxyError(`proxy ${at} refused the connection (${plain})`);
  if (codes.has('ENOTFOUND') || codes.has('EAI_AGAIN')) return new ProxyError(`proxy ${at}: its name does not resolve (${plain})`);
  if (codes.has('ETIMEDOUT') || codes.has('UND_ERR_CONNECT_TIMEOUT')) return new ProxyError(`proxy ${at} did not accept the connection in time (${plain})`);
  if (codes.has('EHOSTUNREACH') || codes.has('ENETUNREACH')) return new ProxyError(`proxy ${at} cannot be reached (${plain})`);
  return new ProxyError(`${plain} (through proxy ${at})`);
}

/**
 * The cause of a failed request in a few words, not "fetch failed": the innermost errors of the
 * cause chain (AggregateError members each), as `ECONNREFUSED 127.0.0.1:443`, `getaddrinfo
 * ENOTFOUND host`, `certificate has expired (CERT_HAS_EXPIRED)`.
 */
export function describeCause(err: unknown): string {
  const all = causes(err);
  const leaves = all.filter((e) => {
    const errors = (e as { errors?: unknown }).errors;
    return (e as { cause?: unknown }).cause === undefined && !(Array.isArray(errors) && errors.length > 0);
  });
  const texts = [...new Set(leaves.map(describeOne).filter((t) => t !== ''))];
  if (texts.length > 0) return texts.join('; ');
  const top = err as { message?: unknown } | undefined;
  return typeof top?.message === 'string' && top.message ? top.message : String(err);
}

function describeOne(e: unknown): string {
  if (e === null || typeof e !== 'object') return e === undefined ? '' : String(e);
  const x = e as { code?: unknown; message?: unknown; syscall?: unknown; address?: unknown; port?: unknown; hostname?: unknown };
  const code = codeOf(e);
  const message = typeof x.message === 'string' ? x.message : '';
  if (code && x.syscall === 'connect' && typeof x.address === 'string') return `${code} ${x.address}${x.port !== undefined ? `:${String(x.port)}` : ''}`;
  if (code && typeof x.syscall === 'string' && message.includes(code)) return message.replace(/^connect /, '');
  if (code && message && !message.includes(code)) return `${message} (${code})`;
  return message || code || '';
}
