import type { Middleware } from '@microsoft/microsoft-graph-client';
import { describe, NetworkError, originOf, OutcomeUnknownError, RefusedRequestError, sleep, type Sleep, type WriteContext } from './middleware.js';

export interface HttpReply<T = unknown> {
  readonly status: number;
  readonly headers: Headers;
  readonly body: T;
}

/** A response that was cut short or is not JSON, even after retries. */
export class MalformedResponseError extends Error {}

/**
 * Sends one request through a middleware chain and parses the JSON body. A body that does not parse
 * (a truncated answer) is retried a few times like a network failure, then reported. A request that
 * is not `idempotent` is never sent again after an answer that was cut off: it may have been carried
 * out, and {@link OutcomeUnknownError} says so. Redirects are never followed: a 3xx answer is a
 * failed request, whatever origin it points to, so an answer is only ever read from the URL the
 * request was sent to.
 */
export async function send<T>(chain: Middleware, method: string, url: string, body: unknown, headers: Record<string, string> = {}, wait: Sleep = sleep, idempotent = true, cost = 1): Promise<HttpReply<T>> {
  for (let attempt = 0; ; attempt++) {
    const context: WriteContext = {
      idempotent,
      cost,
      request: url,
      options: {
        method,
        headers: { Accept: 'application/json', ...(body !== undefined ? { 'Content-Type': 'application/json' } : {}), ...headers },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
        redirect: 'manual',
      },
    };
    await chain.execute(context);
    const res = context.response;
    if (!res) throw new NetworkError('no response');
    if (res.status >= 300 && res.status < 400) {
      await res.body?.cancel().catch(() => undefined);
      throw new RefusedRequestError(redirectMessage(res, url));
    }
    const text = await res.text().catch((err: unknown) => {
      if (!idempotent) throw new OutcomeUnknownError(`the answer was cut off (${describe(err)}): it may have been carried out, so it was not sent again`);
      throw new NetworkError(`the answer was cut off (${describe(err)})`);
    });
    if (!text) return { status: res.status, headers: res.headers, body: undefined as T };
    try {
      return { status: res.status, headers: res.headers, body: JSON.parse(text) as T };
    } catch {
      if (!idempotent) throw new OutcomeUnknownError(`HTTP ${res.status} with a body that is not valid JSON (${text.length} bytes, truncated?): it may have been carried out, so it was not sent again`);
      if (attempt >= 2) throw new MalformedResponseError(`HTTP ${res.status} with a body that is not valid JSON (${text.length} bytes, truncated?)`);
      await wait(500 * (attempt + 1));
    }
  }
}

/** What a refused redirect says: where it pointed (origin and path, never its query), and why it was not followed. */
function redirectMessage(res: Response, url: string): string {
  const location = res.headers.get('location');
  let where = 'nowhere (no Location)';
  if (location) {
    try {
      const to = new URL(location, url);
      where = `${to.pathname === '/' ? to.origin : `${to.origin}${to.pathname}`}${to.origin === originOf(url) ? '' : ' (another origin)'}`;
    } catch {
      where = 'a Location that is not a URL';
    }
  }
  return `HTTP ${res.status} redirect to ${where} not followed: answers are read only from the URL asked, on ${originOf(url) ?? url}`;
}
