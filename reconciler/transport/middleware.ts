import type { Context, Middleware } from '@microsoft/microsoft-graph-client';
import { HTTPMessageHandler } from '@microsoft/microsoft-graph-client';
import { CredentialError, type Api, type TokenProvider } from '../auth/tokens.js';
import { describeCause, ProxyError, type FetchLike } from './proxy.js';

/**
 * The HTTP pipeline both transports share, built from the Graph client's middleware interface and its
 * fetch handler: retry → pacing → auth → timeout → fetch. The Graph client's own authentication
 * handler is not used (it drops the Authorization header on http:// endpoints such as the
 * simulator), and URLs are built here, so absolute nextLinks pass through untouched.
 */

export interface RetryPolicy {
  /** Attempts after the first. */
  maxRetries: number;
  /** Backoff when the service gives no Retry-After: base × 2^attempt, plus up to 50 % jitter. */
  baseDelayMs: number;
  /** Longest wait honoured for one Retry-After. */
  maxDelayMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { maxRetries: 6, baseDelayMs: 1000, maxDelayMs: 60_000 };

export type Sleep = (ms: number) => Promise<void>;
export const sleep: Sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Statistics a run reports (and the benchmark reads). */
export interface TransportStats {
  requests: number;
  retries: number;
  throttled: number;
}

/** A network failure or a timeout: no HTTP answer at all. */
export class NetworkError extends Error {}

/**
 * No usable answer to a request that is not safe to send twice (a create or a delete): it may or
 * may not have been carried out. It is not sent again; the caller reads the target to learn which.
 */
export class OutcomeUnknownError extends NetworkError {}

/** The context of a request the pipeline must not send twice unless the service says it did not carry it out. */
export interface WriteContext extends Context {
  /** `false` for a create or a delete: resent only after a 429 (not carried out), never after a lost answer. */
  idempotent?: boolean;
  /** Requests the service's per-app rate counts for this one: a `$batch` counts its items. @default 1 */
  cost?: number;
}

/**
 * A request the transport will not send, or an answer it will not read: a URL on another origin
 * than the transport's own (the token goes nowhere else), or a redirect. Never retried.
 */
export class RefusedRequestError extends Error {}

abstract class Link implements Middleware {
  protected next!: Middleware;
  setNext(m: Middleware): void {
    this.next = m;
  }
  abstract execute(context: Context): Promise<void>;
}

const RETRYABLE = new Set([429, 500, 502, 503, 504]);

/**
 * Retries throttled, failed and unanswered requests, honouring Retry-After; bounded, with jitter.
 * A request that is not idempotent (see {@link WriteContext}) is retried only after a 429, which
 * says it was not carried out: a lost answer throws {@link OutcomeUnknownError}, a 5xx is returned.
 */
export class RetryLink extends Link {
  constructor(
    private readonly policy: RetryPolicy,
    private readonly stats: TransportStats,
    private readonly wait: Sleep,
  ) {
    super();
  }

  async execute(context: Context): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      let failure: unknown;
      try {
        context.response = undefined;
        this.stats.requests++;
        await this.next.execute(context);
      } catch (err) {
        if (err instanceof RefusedRequestError) throw err;
        // No token could be had: asking again at once would fail the same way.
        if (err instanceof CredentialError) throw err;
        failure = err;
      }
      const status = context.response?.status;
      if (status === 429) this.stats.throttled++;
      if ((context as WriteContext).idempotent === false && failure !== undefined) {
        throw new OutcomeUnknownError(`no answer (${failure instanceof Error ? failure.message : describe(failure)}): it may have been carried out, so it was not sent again`);
      }
      const retryable = (context as WriteContext).idempotent === false ? status === 429 : failure !== undefined || (status !== undefined && RETRYABLE.has(status));
      if (!retryable || attempt >= this.policy.maxRetries) {
        if (failure !== undefined) throw failure instanceof NetworkError ? failure : new NetworkError(describe(failure));
        return;
      }
      this.stats.retries++;
      const retryAfter = Number(context.response?.headers.get('retry-after'));
      const backoff = this.policy.baseDelayMs * 2 ** attempt;
      const delay = Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter * 1000 : backoff + Math.random() * backoff * 0.5;
      await context.response?.body?.cancel().catch(() => undefined);
      await this.wait(Math.min(delay, this.policy.maxDelayMs));
    }
  }
}

/**
 * Client-side pacing for endpoints limited to N requests per second that answer 429 without
 * Retry-After (conditional access and identity protection): requests to them start at least
 * `intervalMs` apart, and at least `intervalMs` after the one before was answered. The service
 * counts a request when it arrives, which is after it was started and before it is answered: a
 * request held up on the way (a busy connection, a busy service) would otherwise arrive less than
 * the interval before the next one.
 */
export class PacingLink extends Link {
  private nextSlot = 0;
  constructor(
    private readonly paced: (url: URL) => boolean,
    private readonly intervalMs: number,
    private readonly wait: Sleep,
  ) {
    super();
  }

  async execute(context: Context): Promise<void> {
    if (this.paced(new URL(String(context.request)))) {
      const now = Date.now();
      const slot = Math.max(now, this.nextSlot);
      this.nextSlot = slot + this.intervalMs;
      if (slot > now) await this.wait(slot - now);
      try {
        await this.next.execute(context);
      } finally {
        this.nextSlot = Math.max(this.nextSlot, Date.now() + this.intervalMs);
      }
      return;
    }
    await this.next.execute(context);
  }
}

/** Waits, before every attempt, for the per-app rate to have room for what the attempt counts. */
export class RateLink extends Link {
  constructor(private readonly acquire: (n: number) => Promise<void>) {
    super();
  }

  async execute(context: Context): Promise<void> {
    await this.acquire((context as WriteContext).cost ?? 1);
    await this.next.execute(context);
  }
}

/**
 * Sets the bearer token, only on requests to the transport's own origin (any other is refused, so
 * no URL an answer supplies can take the token elsewhere); after a 401 asks the provider for a new
 * token once, when it can give one.
 */
export class AuthLink extends Link {
  constructor(
    private readonly tokens: TokenProvider,
    private readonly api: Api,
    private readonly origin: string,
  ) {
    super();
  }

  async execute(context: Context): Promise<void> {
    const url = String(context.request);
    const target = originOf(url);
    const name = this.api === 'graph' ? 'Graph' : 'Exchange';
    if (target !== this.origin) {
      throw new RefusedRequestError(`refusing to send the ${name} token to ${target ?? 'a URL that does not parse'}, which is not the configured endpoint ${this.origin}`);
    }
    if (hasUserInfo(url)) throw new RefusedRequestError(`refusing to send the ${name} token to a URL with a user name or password in it (on ${target})`);
    await this.send(context, false);
    if (context.response?.status === 401 && this.tokens.canRefresh) {
      await context.response.body?.cancel().catch(() => undefined);
      await this.send(context, true);
    }
  }

  private async send(context: Context, refresh: boolean): Promise<void> {
    const token = await this.tokens.token(this.api, refresh);
    const headers = new Headers(context.options?.headers as Record<string, string> | undefined);
    headers.set('Authorization', `Bearer ${token}`);
    context.options = { ...context.options, headers: Object.fromEntries(headers.entries()) };
    await this.next.execute(context);
  }
}

/** Gives every attempt its own deadline. */
export class TimeoutLink extends Link {
  constructor(private readonly timeoutMs: number) {
    super();
  }

  async execute(context: Context): Promise<void> {
    const original = context.options;
    context.options = { ...original, signal: AbortSignal.timeout(this.timeoutMs) };
    try {
      await this.next.execute(context);
    } catch (err) {
      throw new NetworkError((err as Error).name === 'TimeoutError' ? `no answer within ${this.timeoutMs / 1000} s` : describe(err));
    } finally {
      context.options = original;
    }
  }
}

const hasUserInfo = (url: string): boolean => {
  try {
    const u = new URL(url);
    return u.username !== '' || u.password !== '';
  } catch {
    return false;
  }
};

/**
 * What is wrong with an `@odata.nextLink` an answer gave, or undefined when it can be followed as
 * far as its form goes: it must be an absolute http(s) URL (a relative or protocol-relative link
 * means whatever its reader resolves it against; `//other.example/…` is another host), with no
 * user name or password in it. Whether it is on the transport's own origin is checked as well,
 * by each transport, before the token goes anywhere. Leading or trailing space, control
 * characters and backslashes, which URL parsers drop or turn into slashes, are refused rather than
 * guessed at.
 */
export function nextLinkFormProblem(link: unknown): string | undefined {
  if (typeof link !== 'string') return 'the service returned a nextLink that is not a URL';
  let u: URL;
  try {
    u = new URL(link);
  } catch {
    return 'the service returned a nextLink that is not an absolute URL';
  }
  if (!/^https?:\/\/[^\s\\]/i.test(link) || /\\|\s$/.test(link) || [...link].some((ch) => ch.charCodeAt(0) < 0x20) || (u.protocol !== 'https:' && u.protocol !== 'http:')) return 'the service returned a nextLink that is not an absolute http(s) URL';
  if (u.username !== '' || u.password !== '') return 'the service returned a nextLink with a user name or password in it';
  return undefined;
}

/** The origin of a URL (`https://graph.microsoft.com`), or undefined when it does not parse. */
export function originOf(url: string): string | undefined {
  try {
    return new URL(url).origin;
  } catch {
    return undefined;
  }
}

/**
 * What a failed request failed of, in a few words rather than "fetch failed": the cause chain's
 * innermost errors (`ECONNREFUSED 127.0.0.1:443`, `getaddrinfo ENOTFOUND host`, `certificate has
 * expired (CERT_HAS_EXPIRED)`), or a proxy's failure as the proxy path worded it.
 */
export function describe(err: unknown): string {
  if (err instanceof NetworkError || err instanceof ProxyError) return err.message;
  return describeCause(err);
}

/** The last link when requests go through a proxy: sends each with the given fetch (undici's, with its proxy agent). */
class FetchHandler implements Middleware {
  constructor(private readonly send: FetchLike) {}
  async execute(context: Context): Promise<void> {
    context.response = await this.send(String(context.request), context.options);
  }
}

/**
 * Builds the chain and returns its head. `fetch` (from `proxyFetch` when a proxy variable is
 * set) replaces the Graph client's fetch handler, which calls Node's fetch.
 */
export function pipeline(links: Link[], fetch?: FetchLike): Middleware {
  const handler: Middleware = fetch ? new FetchHandler(fetch) : new HTTPMessageHandler();
  const all: Middleware[] = [...links, handler];
  for (let i = 0; i < all.length - 1; i++) all[i]!.setNext!(all[i + 1]!);
  return all[0]!;
}
