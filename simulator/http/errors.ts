import { randomUUID } from 'node:crypto';

/** An answer from a route handler, before serialisation. */
export interface SimResponse {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

/** Graph's error body: `{error:{code,message,innerError:{"request-id",date}}}`. */
export function graphError(status: number, code: string, message: string, headers: Record<string, string> = {}): SimResponse {
  return {
    status,
    headers,
    body: {
      error: {
        code,
        message,
        innerError: { 'request-id': randomUUID(), date: new Date().toISOString().slice(0, 19), 'client-request-id': randomUUID() },
      },
    },
  };
}

/** A handler throws this to answer with an error. */
export class HttpError extends Error {
  constructor(readonly response: SimResponse) {
    super(`HTTP ${response.status}`);
  }
}

export const badRequest = (message: string, code = 'BadRequest') => new HttpError(graphError(400, code, message));
export const notFound = (message: string, code = 'Request_ResourceNotFound') => new HttpError(graphError(404, code, message));
