import type { Connection } from '../input/connection.js';
import { endpointOf } from '../transport/graph.js';
import type { HttpReply } from '../transport/http.js';

type Obj = Record<string, unknown>;

/** What to search the audit log for. */
export interface AuditLogFilter {
  /** Start of the window (ISO 8601 date-time), inclusive. */
  readonly start: string;
  /** End of the window (ISO 8601 date-time). */
  readonly end: string;
  /** Who performed the activity; all users when empty. */
  readonly userPrincipalNames: readonly string[];
  /** The activities (e.g. `New-InboxRule`); all when empty. */
  readonly operations: readonly string[];
  /** Record types (auditLogRecordType, e.g. `exchangeAdmin`); all when left out or empty. */
  readonly recordTypes?: readonly string[];
  /** The query's display name, as the audit search shows it. */
  readonly displayName?: string;
}

/** How the query is waited for. `sleep` and `now` are injectable so tests need not wait. */
export interface AuditLogPolling {
  /** Time between two reads of the query's status. */
  readonly intervalMs: number;
  /** Longest time to wait for the query to succeed, from its creation. */
  readonly maxWaitMs: number;
  readonly sleep?: (ms: number) => Promise<void>;
  /** Milliseconds since the epoch. */
  readonly now?: () => number;
}

/** One audit log entry as the query returns it (microsoft.graph.security.auditLogRecord). */
export interface AuditLogRecord extends Obj {
  readonly id: string;
  readonly createdDateTime?: string;
  readonly auditLogRecordType?: string;
  readonly operation?: string;
  readonly userPrincipalName?: string;
  readonly clientIp?: string;
  readonly auditData?: Obj;
}

/** The records of a query that succeeded, all of them. */
export interface AuditLogRead {
  readonly queryId: string;
  readonly records: AuditLogRecord[];
}

/**
 * The audit log could not be read. The message names what was not read (the window and filters)
 * and why; `queryId` is the query's when one was created.
 */
export class AuditLogReadError extends Error {
  constructor(
    readonly what: string,
    readonly reason: string,
    readonly queryId?: string,
  ) {
    super(`${what} were not read: ${reason}`);
    this.name = 'AuditLogReadError';
  }
}

const QUERIES = '/security/auditLog/queries';
const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** The audit records a filter asks for, in words, for messages. */
export function describeAuditLogFilter(f: AuditLogFilter): string {
  const parts = [
    f.userPrincipalNames.length ? `users ${f.userPrincipalNames.join(', ')}` : undefined,
    f.operations.length ? `operations ${f.operations.join(', ')}` : undefined,
    f.recordTypes?.length ? `record types ${f.recordTypes.join(', ')}` : undefined,
  ].filter(Boolean);
  return `audit log records from ${f.start} to ${f.end}${parts.length ? ` (${parts.join('; ')})` : ''}`;
}

/** An answer's Graph error, in one line. */
function failure(reply: HttpReply, endpoint: string): string {
  const e = (reply.body as { error?: { code?: unknown; message?: unknown } } | undefined)?.error;
  const detail = `HTTP ${reply.status} ${typeof e?.code === 'string' ? e.code : 'Unknown'}: ${typeof e?.message === 'string' ? e.message : 'no error message'}`;
  return `${endpoint}: ${reply.status === 403 ? `permission missing (AuditLogsQuery.Read.All or the service's AuditLogsQuery-*.Read.All): ${detail}` : detail}`;
}

/**
 * The query as an answer gives it. The get page's example wraps the query in `"value": {…}`;
 * the create answer and Graph's entity answers give it bare. Both are taken.
 */
function queryOf(body: unknown): Obj | undefined {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return undefined;
  const b = body as Obj;
  if (typeof b['status'] !== 'string' && typeof b['value'] === 'object' && b['value'] !== null && !Array.isArray(b['value'])) return b['value'] as Obj;
  return b;
}

/**
 * Reads the Microsoft Purview audit log: creates an audit log query for the filter, polls it until
 * it has succeeded, then reads every page of its records. Throws one {@link AuditLogReadError},
 * naming the records not read, when the query cannot be created, fails, is cancelled, has not
 * succeeded within `maxWaitMs`, exceeds its record-count limit (its records would be a part), or
 * when a page of records cannot be read. It never answers an empty list for a query that did not
 * succeed.
 *
 * The create request is not sent twice (a POST is not retried): an answer lost on the way is an
 * error, and the query it may have created is left to the service.
 */
export async function readAuditLog(conn: Pick<Connection, 'graph'>, filter: AuditLogFilter, polling: AuditLogPolling): Promise<AuditLogRead> {
  const what = describeAuditLogFilter(filter);
  const fail = (reason: string, queryId?: string): never => {
    throw new AuditLogReadError(what, reason, queryId);
  };
  const start = Date.parse(filter.start);
  const end = Date.parse(filter.end);
  if (Number.isNaN(start) || Number.isNaN(end)) fail(`the window ${filter.start} to ${filter.end} is not two ISO 8601 date-times`);
  if (end < start) fail(`the window ends (${filter.end}) before it starts (${filter.start})`);
  if (!(polling.intervalMs > 0) || !(polling.maxWaitMs >= 0)) fail('the polling interval must be positive and the maximum wait not negative');
  const sleep = polling.sleep ?? defaultSleep;
  const now = polling.now ?? Date.now;

  const ask = async (method: string, path: string, body?: unknown): Promise<HttpReply> => {
    try {
      return await conn.graph.request(method, path, body);
    } catch (err) {
      return fail(`${endpointOf(conn.graph.url(path))}: ${err instanceof Error ? err.message : String(err)}`);
    }
  };

  const created = await ask('POST', QUERIES, {
    '@odata.type': '#microsoft.graph.security.auditLogQuery',
    displayName: filter.displayName ?? `email-posture ${filter.start} to ${filter.end}`,
    filterStartDateTime: filter.start,
    filterEndDateTime: filter.end,
    userPrincipalNameFilters: [...filter.userPrincipalNames],
    operationFilters: [...filter.operations],
    ...(filter.recordTypes?.length ? { recordTypeFilters: [...filter.recordTypes] } : {}),
  });
  if (created.status < 200 || created.status >= 300) fail(`creating the audit log query failed: ${failure(created, QUERIES)}`);
  const id = queryOf(created.body)?.['id'];
  if (typeof id !== 'string' || !id) return fail(`the answer to creating the audit log query (HTTP ${created.status}) has no query id`);

  const queryPath = `${QUERIES}/${encodeURIComponent(id)}`;
  const deadline = now() + polling.maxWaitMs;
  let query: Obj;
  for (;;) {
    const reply = await ask('GET', queryPath);
    if (reply.status !== 200) fail(`reading the audit log query failed: ${failure(reply, queryPath)}`, id);
    const q = queryOf(reply.body);
    const status = q?.['status'];
    if (status === 'succeeded') {
      query = q!;
      break;
    }
    if (status === 'failed' || status === 'cancelled') fail(`the audit log query ${id} ended ${status}`, id);
    if (status !== 'notStarted' && status !== 'running') fail(`the audit log query ${id} has a status this reader does not know: ${JSON.stringify(status ?? null)}`, id);
    const left = deadline - now();
    if (left <= 0) fail(`the audit log query ${id} did not succeed within ${polling.maxWaitMs / 1000} s (still ${String(status)})`, id);
    await sleep(Math.min(polling.intervalMs, left));
  }
  if (query['isRecordCountLimitExceeded'] === true) {
    fail(`the audit log query ${id} matched more than its record-count limit (${String(query['recordCountLimit'] ?? 'unknown')}), so its records would be a part of them: narrow the window or the filters`, id);
  }

  const recordsPath = `${queryPath}/records`;
  let records: Obj[];
  try {
    records = await conn.graph.list<Obj>(recordsPath);
  } catch (err) {
    return fail(`reading the records of audit log query ${id} failed: ${err instanceof Error ? err.message : String(err)}`, id);
  }
  const malformed = records.find((r) => typeof r !== 'object' || r === null || typeof r['id'] !== 'string');
  if (malformed !== undefined) fail(`a record of audit log query ${id} has no id: ${JSON.stringify(malformed).slice(0, 200)}`, id);
  return { queryId: id, records: records as AuditLogRecord[] };
}
