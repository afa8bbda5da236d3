import type { Context, Middleware } from '@microsoft/microsoft-graph-client';
import { NetworkError, sleep, type Sleep } from './middleware.js';

export interface HttpReply<T = unknown> {
  readonly status: number;
  readonly headers: Headers;
  readonly body: T;
}

/** A response that was cut short or is not JSON, even after retries. */
export class MalformedResponseError extends Error {}

/**
 * Sends one request through a middleware chain and parses the JSON body. A body that does not parse
 * (a truncated answer) is retried a few times like a network failure, then reported.
 */
export async function send<T>(chain: Middleware, method: string, url: string, body: unknown, headers: Record<string, string> = {}, wait: Sleep = sleep): Promise<HttpReply<T>> {
  for (let attempt = 0; ; attempt++) {
    const context: Context = {
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
      throw new NetworkError(`the answer was cut off (${err.message})`);
    });
    if (!text) return { status: res.status, headers: res.headers, body: undefined as T };
    try {
      return { status: res.status, headers: res.headers, body: JSON.parse(text) as T };
    } catch {
      if (attempt >= 2) throw new MalformedResponseError(`HTTP ${res.status} with a body that is not valid JSON (${text.length} bytes, truncated?)`);
      await wait(500 * (attempt + 1));
    }
  }
}
