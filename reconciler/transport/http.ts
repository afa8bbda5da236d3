import type { Middleware } from '@microsoft/microsoft-graph-client';
import { NetworkError, OutcomeUnknownError, sleep, type Sleep, type WriteContext } from './middleware.js';

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
 * out, and {@link OutcomeUnknownError} says so.
 */
export async function send<T>(chain: Middleware, method: string, url: string, body: unknown, headers: Record<string, string> = {}, wait: Sleep = sleep, idempotent = true): Promise<HttpReply<T>> {
  for (let attempt = 0; ; attempt++) {
    const context: WriteContext = {
      idempotent,
      request: url,
      options: {
        method,
        headers: { Accept: 'application/json', ...(body !== undefined ? { 'Content-Type': 'application/json' } : {}), ...headers },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      },
    };
    await chain.execute(context);
    const res = context.response;
    if (!res) throw new NetworkError('no response');
    const text = await res.text().catch((err: Error) => {
      if (!idempotent) throw new OutcomeUnknownError(`the answer was cut off (${err.message}): it may have been carried out, so it was not sent again`);
      throw new NetworkError(`the answer was cut off (${err.message})`);
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
