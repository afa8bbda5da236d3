import { graphError, type SimResponse } from '../http/errors.js';
import type { RequestLog } from '../http/log.js';
import type { TokenClaims } from '../http/token.js';
import { serveGraph, type GraphService } from './service.js';

const MAX_BATCH = 20;

interface BatchItem {
  id: string;
  method: string;
  url: string;
  headers?: Record<string, string>;
  body?: unknown;
  dependsOn?: string[];
}

/**
 * JSON batching: at most 20 items with relative URLs; each item is routed, authorised and throttled
 * on its own; an item whose dependency failed is answered 424; items without dependencies run
 * concurrently, as Graph does not promise any order.
 */
export async function serveBatch(svc: GraphService, log: RequestLog, outer: { url: URL; body: unknown; claims: TokenClaims; logIndex: number }): Promise<SimResponse> {
  const body = outer.body as { requests?: unknown } | null;
  if (!body || !Array.isArray(body.requests)) return graphError(400, 'BadRequest', "Invalid batch payload format: 'requests' must be an array.");
  const items = body.requests as BatchItem[];
  if (items.length > MAX_BATCH) return graphError(400, 'BadRequest', `Number of batch requests cannot exceed ${MAX_BATCH}.`);
  const ids = new Set<string>();
  for (const item of items) {
    if (typeof item?.id !== 'string' || typeof item.method !== 'string' || typeof item.url !== 'string') {
      return graphError(400, 'BadRequest', "Invalid batch payload format: each request needs 'id', 'method' and 'url'.");
    }
    if (ids.has(item.id)) return graphError(400, 'BadRequest', `Batch request id '${item.id}' is not unique.`);
    ids.add(item.id);
  }
  for (const item of items) {
    for (const d of item.dependsOn ?? []) if (!ids.has(d)) return graphError(400, 'BadRequest', `Request '${item.id}' depends on unknown request '${d}'.`);
  }

  const version = outer.url.pathname.split('/')[1]!;
  const results = new Map<string, Promise<{ id: string; status: number; headers: Record<string, string>; body: unknown }>>();
  const visiting = new Set<string>();

  const run = (item: BatchItem): Promise<{ id: string; status: number; headers: Record<string, string>; body: unknown }> => {
    const existing = results.get(item.id);
    if (existing) return existing;
    if (visiting.has(item.id)) return Promise.resolve(itemResponse(item.id, graphError(400, 'BadRequest', 'Circular dependsOn in batch request.')));
    visiting.add(item.id);
    const promise = (async () => {
      const deps = await Promise.all((item.dependsOn ?? []).map((d) => run(items.find((i) => i.id === d)!)));
      if (deps.some((d) => d.status >= 400)) {
        return record(item, itemResponse(item.id, graphError(424, 'FailedDependency', 'Dependent request failed.')));
      }
      if (/^https?:/i.test(item.url) || /^\/?(v1\.0|beta)\//i.test(item.url)) {
        return record(item, itemResponse(item.id, graphError(400, 'BadRequest', `Invalid request URL '${item.url}': a batch item takes a URL relative to the version, such as /users.`)));
      }
      const url = new URL(`${svc.baseUrl}/${version}/${item.url.replace(/^\//, '')}`);
      const admitted = svc.throttler.admitApp(outer.claims.appid);
      if (!admitted.ok) {
        return record(item, itemResponse(item.id, graphError(429, 'TooManyRequests', 'Too many requests.', { 'Retry-After': String(admitted.retryAfterSeconds ?? 1) })));
      }
      const outcome = await serveGraph(svc, { method: item.method.toUpperCase(), url, body: item.body, claims: outer.claims, inBatch: true });
      const response = outcome.kind === 'reset' ? graphError(500, 'InternalServerError', 'The request was aborted.') : outcome.response;
      return record(item, itemResponse(item.id, response));
    })();
    results.set(item.id, promise);
    return promise;
  };

  function record(item: BatchItem, r: { id: string; status: number; headers: Record<string, string>; body: unknown }) {
    log.add({ api: 'graph', method: item.method.toUpperCase(), path: item.url, status: r.status, time: Date.now(), batch: outer.logIndex });
    return r;
  }

  const responses = await Promise.all(items.map(run));
  return { status: 200, body: { responses } };
}

function itemResponse(id: string, r: SimResponse) {
  return {
    id,
    status: r.status,
    headers: { 'Cache-Control': 'no-cache', 'Content-Type': 'application/json', ...(r.headers ?? {}) },
    body: r.body ?? null,
  };
}
