import type { Middleware } from '@microsoft/microsoft-graph-client';
import type { TokenProvider } from '../auth/tokens.js';
import { send, type HttpReply } from './http.js';
import type { FetchLike } from './proxy.js';
import { AuthLink, DEFAULT_RETRY, nextLinkFormProblem, PacingLink, pipeline, RateLink, RetryLink, sleep, TimeoutLink, type RetryPolicy, type Sleep, type TransportStats } from './middleware.js';
import { GRAPH_APP_RATE, RateLimiter } from './rate.js';

export { RateLimiter } from './rate.js';

/** A Graph error answer, kept whole so callers can tell a missing permission from a failure. */
export class GraphError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    readonly endpoint: string,
    message: string,
  ) {
    super(`${endpoint}: HTTP ${status} ${code}: ${message}`);
  }
}

export interface GraphTransportOptions {
  /** e.g. https://graph.microsoft.com, or the simulator's URL. */
  readonly baseUrl: string;
  readonly tokens: TokenProvider;
  readonly version?: 'v1.0' | 'beta';
  readonly retry?: RetryPolicy;
  readonly timeoutMs?: number;
  /**
   * Minimum spacing of conditional access and identity protection requests (1 request/s per tenant,
   * 429 without Retry-After). 10 % over the limit, since the service measures arrivals, not sends.
   * @default 1100
   */
  readonly pacedIntervalMs?: number;
  /**
   * Requests per second across Graph, $batch items counted one by one, over a sliding second as the
   * service counts them (see `rate.ts`). @default 2000, Graph's per-app limit
   */
  readonly requestsPerSecond?: number;
  /**
   * A limiter shared with the other transports of the same application, in place of this
   * transport's own: the per-app rate is across tenants, so the tenants one process reads at once
   * (a fleet shard) keep under it together.
   */
  readonly rateLimiter?: RateLimiter;
  readonly sleep?: Sleep;
  /** The fetch requests go out with: `proxyFetch(env)` when a proxy is set; Node's own otherwise. */
  readonly fetch?: FetchLike;
}

/** Endpoints limited to 1 request per second per tenant, which answer 429 without Retry-After. */
export const isPacedEndpoint = (url: URL) => /\/(identity\/conditionalAccess|identityProtection)\//i.test(url.pathname);

const MAX_PAGES = 100_000;

export interface BatchItem {
  readonly id: string;
  readonly method: 'GET' | 'DELETE' | 'POST' | 'PATCH';
  /** Relative to the version, e.g. `/users/{id}/mailFolders/inbox/messageRules`. */
  readonly url: string;
  readonly body?: unknown;
}

/** The one Graph transport every resource handler uses. */
export class GraphTransport {
  readonly stats: TransportStats = { requests: 0, retries: 0, throttled: 0 };
  private readonly chain: Middleware;
  private readonly root: string;
  private readonly wait: Sleep;
  private readonly rate: RateLimiter;

  constructor(private readonly options: GraphTransportOptions) {
    this.wait = options.sleep ?? sleep;
    this.rate = options.rateLimiter ?? new RateLimiter(options.requestsPerSecond ?? GRAPH_APP_RATE.limit, this.wait);
    this.root = `${options.baseUrl.replace(/\/+$/, '')}/${options.version ?? 'v1.0'}`;
    this.chain = pipeline([
      new RetryLink(options.retry ?? DEFAULT_RETRY, this.stats, this.wait),
      new PacingLink(isPacedEndpoint, options.pacedIntervalMs ?? 1100, this.wait),
      new AuthLink(options.tokens, 'graph', new URL(this.root).origin),
      // Every attempt, a retry too, is counted against the per-app rate (a $batch as its items), as
      // late as can be before it goes out, so the time counted is close to when it is sent; before
      // the timeout, so waiting for the rate is not taken for a slow answer.
      new RateLink((n) => this.rate.acquire(n)),
      new TimeoutLink(options.timeoutMs ?? 30_000),
    ], options.fetch);
  }

  /**
   * Absolute URL of a path relative to the version. An absolute URL (a nextLink) passes through only
   * when it is on the Graph endpoint itself: the token is never sent anywhere else.
   */
  url(pathOrUrl: string): string {
    if (!/^https?:\/\//i.test(pathOrUrl)) return `${this.root}${pathOrUrl.startsWith('/') ? '' : '/'}${pathOrUrl}`;
    if (new URL(pathOrUrl).origin !== new URL(this.root).origin) {
      throw new GraphError(0, 'ForeignUrl', pathOrUrl, `refusing to send the Graph token to ${new URL(pathOrUrl).origin}, which is not the Graph endpoint ${new URL(this.root).origin}`);
    }
    return pathOrUrl;
  }

  /**
   * One request; non-2xx answers are returned, not thrown. A POST or a DELETE is not sent twice
   * after a lost answer or a 5xx (see {@link isIdempotent}): the caller reads to learn whether it took.
   */
  async request<T = unknown>(method: string, pathOrUrl: string, body?: unknown, idempotent = isIdempotent(method), cost = 1): Promise<HttpReply<T>> {
    return send<T>(this.chain, method, this.url(pathOrUrl), body, {}, this.wait, idempotent, cost);
  }

  /** One request that must succeed; a GraphError otherwise. */
  async call<T = unknown>(method: string, pathOrUrl: string, body?: unknown, idempotent = isIdempotent(method), cost = 1): Promise<T> {
    const reply = await this.request<T>(method, pathOrUrl, body, idempotent, cost);
    if (reply.status >= 400) throw errorOf(reply, endpointOf(this.url(pathOrUrl)));
    return reply.body;
  }

  /**
   * Streams a collection page by page, following absolute @odata.nextLink. A nextLink seen before
   * (a loop) or a runaway number of pages is an error, never a silently short list.
   */
  async *pages<T = Record<string, unknown>>(path: string): AsyncGenerator<T[]> {
    const seen = new Set<string>();
    let next: string | undefined = this.url(path);
    for (let page = 0; next; page++) {
      if (page >= MAX_PAGES) throw new GraphError(0, 'TooManyPages', endpointOf(this.url(path)), `more than ${MAX_PAGES} pages`);
      const body: { value?: T[]; '@odata.nextLink'?: string } = await this.call(`GET`, next);
      if (!Array.isArray(body?.value)) throw new GraphError(0, 'UnexpectedResponse', endpointOf(next), 'the answer has no value array');
      yield body.value;
      const link: unknown = body['@odata.nextLink'];
      const problem = link === undefined ? undefined : nextLinkFormProblem(link);
      if (problem) throw new GraphError(0, 'UnexpectedResponse', endpointOf(next), problem);
      if (typeof link === 'string') {
        if (seen.has(link) || link === next) throw new GraphError(0, 'PagingLoop', endpointOf(this.url(path)), 'the service returned a nextLink that leads back to a page already read');
        seen.add(link);
      }
      next = link as string | undefined;
    }
  }

  /** A whole collection. */
  async list<T = Record<string, unknown>>(path: string): Promise<T[]> {
    const all: T[] = [];
    for await (const page of this.pages<T>(path)) all.push(...page);
    return all;
  }

  /**
   * JSON batching, at most 20 items per call, URLs relative to the version. Items answered 429 or
   * 5xx are sent again (after the largest Retry-After among them); the outcome of each item is
   * returned by id.
   */
  async batch(items: readonly BatchItem[]): Promise<Map<string, HttpReply>> {
    if (items.length > 20) throw new Error('a batch holds at most 20 requests');
    const results = new Map<string, HttpReply>();
    let pending = [...items];
    const policy = this.options.retry ?? DEFAULT_RETRY;
    for (let attempt = 0; pending.length > 0; attempt++) {
      const body = { requests: pending.map((i) => ({ id: i.id, method: i.method, url: i.url, ...(i.body !== undefined ? { body: i.body, headers: { 'Content-Type': 'application/json' } } : {}) })) };
      // A batch of reads may be sent again; one holding a write may not. The service counts its items, not the envelope.
      const reads = pending.every((i) => i.method === 'GET');
      const reply = await this.call<{ responses: Array<{ id: string; status: number; headers?: Record<string, string>; body?: unknown }> }>('POST', '/$batch', body, reads, pending.length);
      const retry: BatchItem[] = [];
      let waitMs = 0;
      for (const r of reply.responses ?? []) {
        const item = pending.find((i) => i.id === r.id);
        if (!item) continue;
        if ((r.status === 429 || r.status >= 500) && attempt < policy.maxRetries) {
          if (r.status === 429) this.stats.throttled++;
          const after = Number(r.headers?.['Retry-After'] ?? r.headers?.['retry-after']);
          waitMs = Math.max(waitMs, Number.isFinite(after) && after > 0 ? after * 1000 : policy.baseDelayMs * 2 ** attempt);
          retry.push(item);
        } else {
          results.set(r.id, { status: r.status, headers: new Headers(r.headers ?? {}), body: r.body });
        }
      }
      const missing = pending.filter((i) => !results.has(i.id) && !retry.includes(i));
      for (const m of missing) results.set(m.id, { status: 0, headers: new Headers(), body: { error: { code: 'NoResponse', message: 'the batch answer had no response for this item' } } });
      pending = retry;
      if (pending.length) {
        this.stats.retries += pending.length;
        await this.wait(Math.min(waitMs + Math.random() * 250, policy.maxDelayMs));
      }
    }
    return results;
  }
}

/** GET, PATCH and PUT set a state and may be sent again; POST creates and DELETE removes, and may not. */
export const isIdempotent = (method: string): boolean => !['POST', 'DELETE'].includes(method.toUpperCase());

/** The path (and query) of a URL, for messages and evidence. */
export function endpointOf(url: string): string {
  try {
    const u = new URL(url);
    return decodeURIComponent(u.pathname + u.search);
  } catch {
    return url;
  }
}

export function errorOf(reply: HttpReply, endpoint: string): GraphError {
  const e = (reply.body as { error?: { code?: string; message?: string } } | undefined)?.error;
  return new GraphError(reply.status, e?.code ?? 'Unknown', endpoint, e?.message ?? 'no error message');
}
