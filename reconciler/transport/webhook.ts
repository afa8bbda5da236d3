/**
 * Posts one JSON document to a webhook (a Teams Workflows or Slack incoming webhook, or any
 * endpoint), with retries: 429, 408 and 5xx answers and network failures are retried with
 * exponential backoff and jitter, honouring Retry-After (seconds or an HTTP date); any other 4xx is
 * final. Each attempt has its own timeout. Redirects are not followed (a 3xx fails, unretried),
 * so the body never goes to a URL an answer chose.
 *
 * The URL is a secret: it never appears in what this module returns. Errors name the HTTP status
 * or the network failure only, and the caller names the destination by its environment variable.
 */
import { isLoopbackHost } from '../core/loopback.js';
import { sleep as realSleep, type Sleep } from './middleware.js';
import { proxyFetch, ProxyError } from './proxy.js';

export interface WebhookPolicy {
  /** Attempts after the first. */
  readonly maxRetries: number;
  /** Backoff without Retry-After: base × 2^attempt, plus up to 50 % jitter. */
  readonly baseDelayMs: number;
  /** The longest wait honoured between attempts (a longer Retry-After fails the delivery). */
  readonly maxDelayMs: number;
  /** Deadline of one attempt. */
  readonly timeoutMs: number;
}

export const DEFAULT_WEBHOOK_POLICY: WebhookPolicy = { maxRetries: 4, baseDelayMs: 1000, maxDelayMs: 60_000, timeoutMs: 30_000 };

export type WebhookResult =
  | { readonly ok: true; readonly attempts: number; readonly status: number }
  | { readonly ok: false; readonly attempts: number; readonly status?: number; readonly error: string };

/**
 * What is wrong with a webhook URL, without quoting it; undefined when it can be used: https, or
 * plain http on a loopback address (a receiver on this machine, for testing), and no user name or
 * password in it.
 */
export function webhookUrlProblem(url: string): string | undefined {
  let u: URL;
  try {
    u = new URL(url.trim());
  } catch {
    return 'does not hold a URL';
  }
  if (u.protocol !== 'https:' && !(u.protocol === 'http:' && isLoopbackHost(u.hostname))) return 'does not hold an https URL (plain http is allowed on loopback addresses only, for testing)';
  if (u.username !== '' || u.password !== '') return 'holds a URL with a user name or password in it';
  return undefined;
}

const RETRYABLE = (status: number) => status === 429 || status === 408 || status >= 500;

/** Retry-After in milliseconds (delay-seconds or an HTTP date), or undefined when absent or unusable. */
export function retryAfterMs(value: string | null, now = Date.now()): number | undefined {
  if (value === null || value.trim() === '') return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** Posts `body` as JSON to `url`. Never throws for an HTTP or network failure: the result says what happened. */
export async function postWebhook(url: string, body: unknown, policy: WebhookPolicy = DEFAULT_WEBHOOK_POLICY, wait: Sleep = realSleep): Promise<WebhookResult> {
  const text = JSON.stringify(body);
  let last: { status?: number; error: string } = { error: 'not sent' };
  for (let attempt = 0; ; attempt++) {
    let retryAfter: number | undefined;
    let retryable: boolean;
    try {
      // https through HTTPS_PROXY / HTTP_PROXY unless NO_PROXY names the host; plain http (loopback only) and loopback hosts direct.
      const res = await (proxyFetch(process.env) ?? fetch)(url.trim(), {
        method: 'POST',
        headers: { 'Content-Type': 'application/json; charset=utf-8' },
        body: text,
        redirect: 'manual',
        signal: AbortSignal.timeout(policy.timeoutMs),
      });
      await res.body?.cancel().catch(() => undefined);
      if (res.status >= 200 && res.status < 300) return { ok: true, attempts: attempt + 1, status: res.status };
      if (res.status >= 300 && res.status < 400) return { ok: false, attempts: attempt + 1, status: res.status, error: `HTTP ${res.status}: a redirect, not followed` };
      last = { status: res.status, error: `HTTP ${res.status}` };
      retryable = RETRYABLE(res.status);
      retryAfter = retryAfterMs(res.headers.get('retry-after'));
    } catch (err) {
      last = { error: networkError(err, policy.timeoutMs) };
      retryable = true;
    }
    const attempts = attempt + 1;
    const failed = () => ({ ok: false as const, attempts, ...(last.status !== undefined ? { status: last.status } : {}), error: `${last.error}${attempts > 1 ? ` after ${attempts} attempts` : ''}` });
    if (!retryable || attempt >= policy.maxRetries) return failed();
    const backoff = policy.baseDelayMs * 2 ** attempt;
    const delay = retryAfter ?? backoff + Math.random() * backoff * 0.5;
    if (delay > policy.maxDelayMs) {
      last = { ...last, error: `${last.error}, and Retry-After asks for ${Math.ceil(delay / 1000)} s, more than the ${policy.maxDelayMs / 1000} s waited` };
      return failed();
    }
    await wait(delay);
  }
}

/** A network failure in words, without the URL: a timeout, or the system's error code. */
function networkError(err: unknown, timeoutMs: number): string {
  const e = err as { name?: string; cause?: { code?: string; name?: string } };
  if (e.name === 'TimeoutError' || e.cause?.name === 'TimeoutError') return `no answer within ${timeoutMs / 1000} s`;
  // A proxy's failure names the proxy (host and port) and its cause, never the webhook's URL.
  if (err instanceof ProxyError) return `no answer (${err.message})`;
  if (e.cause?.code) return `no answer (${e.cause.code})`;
  return 'no answer (the connection failed)';
}
