import { Resolver } from 'node:dns/promises';
import { scopeFor, tokenProvider, type AuthMethod, type TokenProvider } from '../auth/tokens.js';
import type { DnsResolver } from '../read/dns.js';
import { ExchangeTransport } from '../transport/exchange.js';
import { GraphTransport, type RateLimiter } from '../transport/graph.js';
import { DEFAULT_RETRY } from '../transport/middleware.js';
import { proxyFetch, ProxyError, type FetchLike } from '../transport/proxy.js';
import { InputError } from './synth-output.js';

export interface ConnectionOptions {
  /** Tenant id (GUID) or initial domain. */
  readonly tenant?: string;
  readonly auth: AuthMethod;
  readonly graphUrl: string;
  readonly exchangeUrl: string;
  /** HOST:PORT of the DNS server to ask; the system's resolvers when absent. */
  readonly dnsServer?: string;
  readonly timeoutMs: number;
  /** Retries of one request. @default 6 */
  readonly maxRetries?: number;
  readonly env: NodeJS.ProcessEnv;
  /** Graph's per-app rate, shared with the other connections of the same application (the tenants of a fleet shard). */
  readonly graphRateLimiter?: RateLimiter;
}

export interface Connection {
  readonly tenant: string;
  readonly tokens: TokenProvider;
  readonly graph: GraphTransport;
  readonly exchange: ExchangeTransport;
  readonly resolver: DnsResolver;
}

/** Tenant ids (GUIDs) and initial domains are both case-insensitive: one tenant, however it is written. */
export const sameTenant = (a: string, b: string): boolean => a.toLowerCase() === b.toLowerCase();

export const DEFAULT_GRAPH_URL = 'https://graph.microsoft.com';
export const DEFAULT_EXCHANGE_URL = 'https://outlook.office365.com';

import { isLoopbackHost } from '../core/loopback.js';

export { isLoopbackHost };

/** A DNS resolver, pointed at `server` (HOST:PORT) when given. */
export function dnsResolver(server: string | undefined, timeoutMs = 3000): DnsResolver {
  const resolver = new Resolver({ timeout: timeoutMs, tries: 2 });
  if (server) {
    const m = /^(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(server);
    if (!m) throw new InputError(`--dns-server "${server}" is not HOST or HOST:PORT`);
    try {
      resolver.setServers([server]);
    } catch (err) {
      throw new InputError(`--dns-server "${server}": ${(err as Error).message}`);
    }
  }
  return resolver;
}

/** Is the URL's host this machine: localhost, an IPv4 address in 127.0.0.0/8 or [::1]? */
export function isLoopbackUrl(u: URL): boolean {
  return isLoopbackHost(u.hostname);
}

/** Checks the endpoint options and builds the transports. No request is sent yet. */
export function connect(o: ConnectionOptions): Connection {
  const tenant = o.tenant ?? o.env['AZURE_TENANT_ID'];
  if (!tenant) throw new InputError('no tenant: pass --tenant (tenant id or initial domain) or set AZURE_TENANT_ID');
  // It becomes part of the Exchange URL path: nothing in it may change that URL.
  if (!/^[A-Za-z0-9][A-Za-z0-9.-]*$/.test(tenant)) throw new InputError(`tenant ${JSON.stringify(tenant)} is not a tenant id (GUID) or initial domain`);
  for (const [name, url] of [['--graph-url', o.graphUrl], ['--exchange-url', o.exchangeUrl]] as const) {
    let u: URL;
    try {
      u = new URL(url);
    } catch {
      throw new InputError(`${name} "${url}" is not a URL`);
    }
    if (u.protocol !== 'https:' && !(u.protocol === 'http:' && isLoopbackHost(u.hostname))) {
      throw new InputError(`${name} ${url}: only https is allowed, except on loopback (127.0.0.0/8, ::1, localhost: the simulator)`);
    }
    if (u.username || u.password || u.search || u.hash) throw new InputError(`${name} ${url}: give the endpoint only, without credentials, query or fragment`);
  }
  const graphScope = scopeFor('graph', new URL(o.graphUrl), isLoopbackUrl(new URL(o.graphUrl)));
  const exchangeScope = scopeFor('exchange', new URL(o.exchangeUrl), isLoopbackUrl(new URL(o.exchangeUrl)));
  const retry = { ...DEFAULT_RETRY, maxRetries: o.maxRetries ?? DEFAULT_RETRY.maxRetries };
  // HTTPS_PROXY, HTTP_PROXY and NO_PROXY, as undici reads them; Node's own fetch when none is set.
  let fetch: FetchLike | undefined;
  try {
    fetch = proxyFetch(o.env);
  } catch (err) {
    if (err instanceof ProxyError) throw new InputError(err.message);
    throw err;
  }
  const tokens = tokenProvider(o.auth, { env: o.env, tenant, graphScope, exchangeScope });
  return {
    tenant,
    tokens,
    graph: new GraphTransport({ baseUrl: o.graphUrl, tokens, timeoutMs: o.timeoutMs, retry, ...(fetch ? { fetch } : {}), ...(o.graphRateLimiter ? { rateLimiter: o.graphRateLimiter } : {}) }),
    exchange: new ExchangeTransport({ baseUrl: o.exchangeUrl, tenant, tokens, timeoutMs: o.timeoutMs, retry, ...(fetch ? { fetch } : {}) }),
    resolver: dnsResolver(o.dnsServer),
  };
}

/**
 * Gets the Graph and Exchange tokens before anything is read, so a credential that does not work
 * stops the run with one message instead of failing every read. Pre-issued tokens are not checked
 * here: the service judges them. Either way, a token issued for another tenant than the one the run
 * names (by id) stops it: its reads would be another tenant's, reported as this one's.
 */
export async function signIn(conn: Connection): Promise<void> {
  if (conn.tokens.canRefresh) {
    await conn.tokens.token('graph');
    await conn.tokens.token('exchange');
  }
  for (const api of ['graph', 'exchange'] as const) {
    let token: string;
    try {
      token = await conn.tokens.token(api);
    } catch {
      // A pre-issued token that is not there fails the first read that needs it, as before.
      continue;
    }
    const issuedFor = tokenTenant(token);
    if (issuedFor && GUID.test(conn.tenant) && issuedFor.toLowerCase() !== conn.tenant.toLowerCase()) {
      throw new InputError(`the ${api === 'graph' ? 'Graph' : 'Exchange'} token was issued for tenant ${issuedFor}, not ${conn.tenant}: nothing was read`);
    }
  }
}

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The tenant (`tid`) an access token was issued for, when it is a JWT that says; never the token itself. */
export function tokenTenant(token: string): string | undefined {
  try {
    const payload = token.split('.')[1];
    if (!payload) return undefined;
    const tid = (JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<string, unknown>)['tid'];
    return typeof tid === 'string' && GUID.test(tid) ? tid : undefined;
  } catch {
    return undefined;
  }
}
