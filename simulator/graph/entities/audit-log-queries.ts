import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { badRequest, graphError, HttpError } from '../../http/errors.js';
import type { Collection, Entity } from '../../tenant/collection.js';
import type { Tenant } from '../../tenant/tenant.js';
import { listPage } from '../odata.js';
import { ctxUrl, graphEntity, obj, slot, type RouteContext } from '../entity.js';

/** Where the audit search service takes a query once it has run. */
export const AUDIT_QUERY_OUTCOMES = ['succeeded', 'failed', 'cancelled', 'running'] as const;
export type AuditQueryOutcome = (typeof AUDIT_QUERY_OUTCOMES)[number];

/** How the simulated audit search service runs queries: a scenario's `graph.auditLogSearch`. */
export interface AuditLogSearchSettings {
  /**
   * The status every query reaches once it has run (default `succeeded`): `failed` or `cancelled`
   * for a search the service gives up, `running` for one that never finishes.
   */
  outcome: AuditQueryOutcome;
  /** The most records one query returns; more matching records set `isRecordCountLimitExceeded`. */
  recordCountLimit: number;
  /**
   * How long after a change its audit record becomes searchable, on the tenant's clock (records
   * of the tenant's own changes: rule and forwarding changes). Microsoft documents no bound, only
   * that records usually arrive within 60 to 90 minutes: the default.
   */
  ingestionDelayMs: number;
  /** While true, the tenant's changes leave no audit record (records lost, as the service sometimes does). */
  loseRecords: boolean;
}

declare module '../../tenant/tenant.js' {
  interface GraphCollections {
    /** The tenant's unified audit log: microsoft.graph.security.auditLogRecord, as a query returns them. */
    auditLogRecords: Collection;
  }
  interface GraphScenarioState {
    auditLogSearch: AuditLogSearchSettings;
  }
  interface TenantSlots {
    /** The audit log queries created through the API, and how the service runs them. */
    readonly auditLogSearch: AuditLogSearch;
  }
}

const QUERY_TYPE = '#microsoft.graph.security.auditLogQuery';
const RECORD_TYPE = '#microsoft.graph.security.auditLogRecord';

/**
 * How long a query takes on the tenant's clock. A query also moves one step per GET of it (see
 * {@link AuditLogSearch.poll}); whichever comes first.
 */
export const AUDIT_QUERY_RUN_MS = 30_000;

/**
 * The per-query record limit when a scenario gives none. The limit the service applies is
 * published in a section of the throttling page the simulator's reference does not hold; 50,000 is
 * the figure the Purview audit search has long used, taken here as a stand-in.
 */
const DEFAULT_RECORD_COUNT_LIMIT = 50_000;

/** When a change's audit record becomes searchable when a scenario does not say: 60 minutes. */
export const DEFAULT_INGESTION_DELAY_MS = 60 * 60_000;

/** One change of the tenant, as its audit record tells it. */
export interface AuditedChange {
  /** The operation: Set-Mailbox, New-InboxRule, Set-InboxRule, Remove-InboxRule (admin cmdlets), UpdateInboxRules (a client's change). */
  readonly operation: string;
  /** The mailbox changed. */
  readonly mailbox: { readonly upn: string; readonly guid?: string };
  /** Who made it: the mailbox's owner when not given. */
  readonly actor?: string;
  /** The object changed within the mailbox (a rule's name), for objectId. */
  readonly object?: string;
  readonly parameters?: ReadonlyArray<{ readonly Name: string; readonly Value: string }>;
}

/**
 * Writes the audit record of a change made in the tenant (it becomes searchable as the audit log
 * settings say). Admin cmdlets are exchangeAdmin records; a client's change of inbox rules is the
 * mailbox audit's exchangeItem UpdateInboxRules.
 */
export function auditChange(t: Tenant, change: AuditedChange): void {
  const item = change.operation.toLowerCase() === 'updateinboxrules';
  const actor = change.actor ?? change.mailbox.upn;
  const objectId = change.object ? `${change.mailbox.upn}\\${change.object}` : change.mailbox.upn;
  t.auditLogSearch.record(
    {
      id: randomUUID(),
      createdDateTime: t.clock.iso(),
      auditLogRecordType: item ? 'exchangeItem' : 'exchangeAdmin',
      operation: change.operation,
      organizationId: t.id,
      userType: 'regular',
      userId: actor,
      service: 'Exchange',
      objectId,
      userPrincipalName: actor,
      clientIp: '',
      administrativeUnits: [],
      auditData: {
        '@odata.type': 'microsoft.graph.security.auditData',
        ObjectId: objectId,
        MailboxOwnerUPN: change.mailbox.upn,
        ...(change.mailbox.guid ? { MailboxGuid: change.mailbox.guid } : {}),
        ...(change.parameters ? { Parameters: change.parameters } : {}),
      },
    },
    t.clock.now(),
  );
}

/** The string-collection filters of a query and the record property each one matches (case-insensitively). */
const LIST_FILTERS = {
  recordTypeFilters: 'auditLogRecordType',
  serviceFilters: 'service',
  operationFilters: 'operation',
  userPrincipalNameFilters: 'userPrincipalName',
  ipAddressFilters: 'clientIp',
  objectIdFilters: 'objectId',
  administrativeUnitIdFilters: 'administrativeUnits',
} as const;
type ListFilter = keyof typeof LIST_FILTERS;

interface StoredQuery {
  query: Entity;
  createdAt: number;
  polls: number;
  /** The ids of the query's records, fixed when it succeeded. */
  recordIds?: string[];
}

/**
 * The audit log queries of a tenant. A query is created `notStarted`; the first GET of it finds it
 * `running` and the second finds it finished, or it has finished once the tenant's clock is
 * {@link AUDIT_QUERY_RUN_MS} past its creation. It finishes as `settings.outcome` says at that
 * moment (so a test may change the outcome of a query already created); with `running` it never
 * does. A succeeded query's records are those of the audit log matching its filters at that moment.
 */
export class AuditLogSearch {
  private readonly queries = new Map<string, StoredQuery>();
  /** Records of the tenant's changes not yet searchable, oldest first. */
  private readonly arriving: Array<{ at: number; record: Entity }> = [];

  constructor(readonly settings: AuditLogSearchSettings) {}

  /**
   * Records a change made in the tenant: searchable {@link AuditLogSearchSettings.ingestionDelayMs}
   * after `now`, or never while `loseRecords` is set.
   */
  record(record: Entity, now: number): void {
    if (this.settings.loseRecords) return;
    this.arriving.push({ at: now + this.settings.ingestionDelayMs, record });
  }

  /** Moves the records that have arrived by `now` into the searchable log. */
  private arrive(now: number, records: Collection): void {
    while (this.arriving.length && this.arriving[0]!.at <= now) records.insert(this.arriving.shift()!.record);
  }

  /** Where queries end; tests may change it while the simulator runs. */
  get outcome(): AuditQueryOutcome {
    return this.settings.outcome;
  }

  set outcome(value: AuditQueryOutcome) {
    this.settings.outcome = value;
  }

  create(query: Entity, now: number): Entity {
    this.queries.set(query.id, { query, createdAt: now, polls: 0 });
    return query;
  }

  /** A query as it stands at `now` (a GET of it counts as one poll when `poll`), or undefined. */
  get(id: string, now: number, records: Collection, poll = false): StoredQuery | undefined {
    const q = this.queries.get(id);
    if (!q) return undefined;
    if (poll) q.polls++;
    this.arrive(now, records);
    this.advance(q, now, records);
    return q;
  }

  /** Every query, oldest first, as each stands at `now`. */
  list(now: number, records: Collection): Entity[] {
    this.arrive(now, records);
    return [...this.queries.values()].map((q) => (this.advance(q, now, records), q.query));
  }

  private advance(q: StoredQuery, now: number, records: Collection): void {
    const status = q.query['status'];
    if (status !== 'notStarted' && status !== 'running') return;
    const ran = now >= q.createdAt + AUDIT_QUERY_RUN_MS;
    const step = ran ? 2 : Math.min(q.polls, 2);
    if (step === 0) return;
    if (step === 1 || this.outcome === 'running') {
      q.query['status'] = 'running';
      return;
    }
    if (this.outcome !== 'succeeded') {
      q.query['status'] = this.outcome;
      return;
    }
    const matching = [...records.values()].filter((r) => recordMatches(q.query, r)).sort(byCreated);
    const limit = this.settings.recordCountLimit;
    q.recordIds = matching.slice(0, limit).map((r) => r.id);
    Object.assign(q.query, { status: 'succeeded', approximateReturnedRecordCount: q.recordIds.length, isRecordCountLimitExceeded: matching.length > limit });
  }
}

const byCreated = (a: Entity, b: Entity) => Date.parse(String(a['createdDateTime'])) - Date.parse(String(b['createdDateTime'])) || a.id.localeCompare(b.id);

const lower = (v: unknown) => (typeof v === 'string' ? v.toLowerCase() : undefined);

/**
 * Whether an audit record answers a query: created within [filterStartDateTime, filterEndDateTime)
 * (the end left out, so consecutive windows do not read a record twice: the documentation does not
 * say), each non-empty list filter naming the record's value (any of its administrative units), the
 * keyword within its auditData. All case-insensitive.
 */
export function recordMatches(query: Entity, record: Entity): boolean {
  const t = Date.parse(String(record['createdDateTime'] ?? ''));
  if (Number.isNaN(t) || t < Date.parse(String(query['filterStartDateTime'])) || t >= Date.parse(String(query['filterEndDateTime']))) return false;
  for (const [filter, property] of Object.entries(LIST_FILTERS) as Array<[ListFilter, string]>) {
    const wanted = (query[filter] as string[] | undefined)?.map((v) => v.toLowerCase()) ?? [];
    if (!wanted.length) continue;
    const value = record[property];
    const values = Array.isArray(value) ? value.map(lower) : [lower(value)];
    if (!values.some((v) => v !== undefined && wanted.includes(v))) return false;
  }
  const keyword = lower(query['keywordFilter']);
  if (keyword && !JSON.stringify(record['auditData'] ?? {}).toLowerCase().includes(keyword)) return false;
  return true;
}

/** A DateTimeOffset as a request body gives it: a date, or a date-time with `Z` or an offset. */
const DATE_TIME = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,7})?)?(Z|[+-]\d{2}:\d{2}))?$/;

/**
 * The query a create request asks for, or 400. The create page marks every property optional; the
 * simulator requires the time window (a search over the whole log is not what a client should
 * send), as a valid DateTimeOffset each, the end not before the start.
 */
function queryFrom(body: unknown, recordCountLimit: number): Entity {
  const b = obj(body);
  const when = (name: string): string => {
    const raw = b[name];
    if (raw === undefined || raw === null) throw badRequest(`The property '${name}' is required.`, 'BadRequest');
    if (typeof raw !== 'string' || !DATE_TIME.test(raw) || Number.isNaN(Date.parse(raw))) {
      throw badRequest(`Cannot convert the literal '${String(raw)}' to the expected type 'Edm.DateTimeOffset' for property '${name}'.`, 'BadRequest');
    }
    return new Date(raw).toISOString().replace('.000Z', 'Z');
  };
  const start = when('filterStartDateTime');
  const end = when('filterEndDateTime');
  if (Date.parse(end) < Date.parse(start)) throw badRequest('filterEndDateTime must not be earlier than filterStartDateTime.', 'BadRequest');
  const strings = (name: string): string[] => {
    const v = b[name];
    if (v === undefined || v === null) return [];
    if (!Array.isArray(v) || !v.every((s) => typeof s === 'string')) throw badRequest(`The property '${name}' must be a collection of strings.`, 'BadRequest');
    return v as string[];
  };
  const text = (name: string): string | null => {
    const v = b[name];
    if (v === undefined || v === null) return null;
    if (typeof v !== 'string') throw badRequest(`The property '${name}' must be a string.`, 'BadRequest');
    return v;
  };
  // The create page's examples send `serviceFilter` (one string); the resource page names the
  // property `serviceFilters` (a collection). Both are taken; the query answers with `serviceFilters`.
  const serviceFilter = text('serviceFilter');
  // recordTypeFilters values are not checked against the auditLogRecordType list (over 250 names).
  return {
    '@odata.type': QUERY_TYPE,
    id: randomUUID(),
    displayName: text('displayName'),
    filterStartDateTime: start,
    filterEndDateTime: end,
    recordTypeFilters: strings('recordTypeFilters'),
    keywordFilter: text('keywordFilter'),
    serviceFilters: [...strings('serviceFilters'), ...(serviceFilter ? [serviceFilter] : [])],
    operationFilters: strings('operationFilters'),
    userPrincipalNameFilters: strings('userPrincipalNameFilters'),
    ipAddressFilters: strings('ipAddressFilters'),
    objectIdFilters: strings('objectIdFilters'),
    administrativeUnitIdFilters: strings('administrativeUnitIdFilters'),
    // A status in the request is not taken: every query starts notStarted.
    status: 'notStarted',
    approximateReturnedRecordCount: null,
    isRecordCountLimitExceeded: false,
    recordCountLimit,
  };
}

const queryNotFound = (id: string) => new HttpError(graphError(404, 'NotFound', `The audit log query '${id}' was not found.`));

function findQuery(c: RouteContext, poll = false): StoredQuery {
  const id = c.params['id']!;
  const q = c.tenant.auditLogSearch.get(id, c.tenant.clock.now(), c.tenant.graph.auditLogRecords, poll);
  if (!q) throw queryNotFound(id);
  return q;
}

const renderRecord = (r: Entity): Record<string, unknown> => ({
  '@odata.type': RECORD_TYPE,
  ...r,
  administrativeUnits: r['administrativeUnits'] ?? [],
  auditData: r['auditData'] ?? { '@odata.type': 'microsoft.graph.security.auditData' },
});

/**
 * Microsoft Purview audit log search (`/security/auditLog/queries`, microsoft.graph.security
 * auditLogQuery): a client creates a query over a time window and filters, polls it until it has
 * succeeded, then pages through its records. The log itself is the scenario's `auditLogRecords`;
 * `auditLogSearch` says how queries end (see {@link AuditLogSearch}).
 *
 * Permissions are the service-level ones of the create and get pages: AuditLogsQuery.Read.All for
 * every log, or one per Microsoft 365 service. Any one of them admits a request; records are not
 * narrowed to the service a per-service permission names, which the pages do not describe.
 * Throttled under the security class: the audit query service's own limits are in a section of the
 * throttling page the simulator's reference does not hold. No licence is checked: audit search
 * comes with the tenant's Microsoft 365 plans.
 */
export const auditLogQueries = graphEntity({
  name: 'auditLogQueries',
  collection: { name: 'auditLogRecords', indexed: ['userPrincipalName', 'operation'] },
  state: slot({
    key: 'auditLogSearch',
    schema: z
      .object({
        outcome: z.enum(AUDIT_QUERY_OUTCOMES).default('succeeded'),
        recordCountLimit: z.number().int().positive().default(DEFAULT_RECORD_COUNT_LIMIT),
        ingestionDelayMs: z.number().int().nonnegative().default(DEFAULT_INGESTION_DELAY_MS),
        loseRecords: z.boolean().default(false),
      })
      .strict()
      .prefault({}),
    property: 'auditLogSearch',
    init: (value) => new AuditLogSearch({ ...value }),
  }),
  throttle: 'security',
  permissions: {
    read: [
      'AuditLogsQuery.Read.All',
      'AuditLogsQuery-Exchange.Read.All',
      'AuditLogsQuery-Entra.Read.All',
      'AuditLogsQuery-SharePoint.Read.All',
      'AuditLogsQuery-OneDrive.Read.All',
      'AuditLogsQuery-Endpoint.Read.All',
      'AuditLogsQuery-CRM.Read.All',
    ],
  },
  routes: [
    {
      method: 'POST', pattern: '/security/auditLog/queries', permission: 'read',
      handle: (c) => {
        const query = queryFrom(c.body, c.tenant.auditLogSearch.settings.recordCountLimit);
        c.tenant.auditLogSearch.create(query, c.tenant.clock.now());
        return { status: 201, body: { '@odata.context': ctxUrl(c, 'security/auditLog/queries/$entity'), ...query } };
      },
    },
    {
      method: 'GET', pattern: '/security/auditLog/queries', permission: 'read',
      handle: (c) =>
        listPage(c.tenant.auditLogSearch.list(c.tenant.clock.now(), c.tenant.graph.auditLogRecords), c.query, {
          typeName: 'microsoft.graph.security.auditLogQuery', defaultTop: 100, maxTop: 1000, filterable: ['status', 'displayName'],
          requestUrl: c.requestUrl, context: ctxUrl(c, 'security/auditLog/queries'), loopNextLink: c.loopNextLink,
        }),
    },
    {
      // The get page's example answer wraps the query in `"value": {…}`; the simulator answers with
      // the query itself, as the create answer and every other Graph entity GET do.
      method: 'GET', pattern: '/security/auditLog/queries/{id}', permission: 'read',
      handle: (c) => ({ status: 200, body: { '@odata.context': ctxUrl(c, 'security/auditLog/queries/$entity'), ...findQuery(c, true).query } }),
    },
    {
      method: 'GET', pattern: '/security/auditLog/queries/{id}/records', permission: 'read',
      handle: (c) => {
        const q = findQuery(c);
        // The list-records page does not say what a query that has not succeeded answers. The
        // simulator refuses it (400) rather than answer an empty page, which a client could take
        // for "no records"; a client must wait for `succeeded` either way.
        if (q.query['status'] !== 'succeeded' || !q.recordIds) {
          throw badRequest(`The audit log query '${q.query.id}' has not succeeded (status ${String(q.query['status'])}); its records cannot be read yet.`, 'BadRequest');
        }
        const records = q.recordIds.flatMap((id) => c.tenant.graph.auditLogRecords.get(id) ?? []);
        return listPage(records, c.query, {
          typeName: 'microsoft.graph.security.auditLogRecord', defaultTop: 150, maxTop: 1000, render: renderRecord,
          requestUrl: c.requestUrl, context: ctxUrl(c, `security/auditLog/queries('${q.query.id}')/records`), loopNextLink: c.loopNextLink,
        });
      },
    },
  ],
});
