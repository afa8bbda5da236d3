import { badRequest } from '../../http/errors.js';
import type { Collection, Entity } from '../../tenant/collection.js';
import { listPage, matches, parseFilter, type FilterClause } from '../odata.js';
import { ctxUrl, graphEntity, resourceNotFound, type RouteContext } from '../entity.js';

declare module '../../tenant/tenant.js' {
  interface GraphCollections {
    /** Exchange Online's message trace, one row per message and recipient: microsoft.graph.exchangeMessageTrace. */
    messageTraces: Collection;
  }
}

/** The properties of an exchangeMessageTrace, in the order Graph returns them. */
export const MESSAGE_TRACE_PROPERTIES = ['id', 'senderAddress', 'recipientAddress', 'messageId', 'receivedDateTime', 'subject', 'size', 'fromIP', 'toIP', 'status'] as const;

/** The delivery statuses of v1.0 (exchangeMessageTraceStatus; `recalled` only with Prefer: include-unknown-enum-members). */
export const MESSAGE_TRACE_STATUSES = ['gettingStatus', 'pending', 'failed', 'delivered', 'expanded', 'quarantined', 'filteredAsSpam'] as const;
export type MessageTraceStatus = (typeof MESSAGE_TRACE_STATUSES)[number];

const DAY = 86_400_000;
/** Without a receivedDateTime filter the service answers for the previous 48 hours. */
const DEFAULT_WINDOW_MS = 2 * DAY;
const MAX_INTERVAL_MS = 10 * DAY;
const MAX_AGE_MS = 90 * DAY;

/** Which operators each property takes in `$filter`, as the resource documents them. */
const EQ_ONLY = ['id', 'messageId', 'recipientAddress', 'senderAddress', 'fromIP', 'toIP', 'status'];
const FILTERABLE = [...EQ_ONLY, 'receivedDateTime', 'subject'];

/** The server a detail's Receive event names. */
const RECEIVING_SERVER = 'SIMPR01MB0001.namprd00.prod.outlook.com';

/** A row as Graph shows it: v1.0 in lower camel case without a type; beta with @odata.type and the status capitalised. */
function render(item: Entity, version: 'v1.0' | 'beta'): Record<string, unknown> {
  const out: Record<string, unknown> = version === 'beta' ? { '@odata.type': '#microsoft.graph.exchangeMessageTrace' } : {};
  for (const p of MESSAGE_TRACE_PROPERTIES) out[p] = item[p] ?? null;
  if (version === 'beta' && typeof out['status'] === 'string') out['status'] = out['status'].charAt(0).toUpperCase() + out['status'].slice(1);
  return out;
}

/**
 * The clauses of `$filter` checked against what each property supports: `eq` on the identifiers,
 * addresses and status, `ge`/`le` on receivedDateTime, `contains`/`startsWith`/`endsWith` on subject.
 */
function clausesOf(c: RouteContext): FilterClause[] {
  const raw = c.query.get('$filter');
  if (!raw) return [];
  const clauses = parseFilter(raw, FILTERABLE, ['contains', 'startswith', 'endswith']);
  for (const cl of clauses) {
    const ok =
      cl.field === 'receivedDateTime' ? cl.op === 'ge' || cl.op === 'le' : cl.field === 'subject' ? cl.op === 'contains' || cl.op === 'startswith' || cl.op === 'endswith' : cl.op === 'eq';
    if (!ok) throw badRequest(`The operator '${cl.op}' is not supported on property '${cl.field}' of resource 'exchangeMessageTrace'.`, 'BadRequest');
    if (cl.field === 'status' && !MESSAGE_TRACE_STATUSES.some((s) => s.toLowerCase() === String(cl.value).toLowerCase())) {
      throw badRequest(`The value '${String(cl.value)}' is not a valid exchangeMessageTraceStatus.`, 'BadRequest');
    }
    if (cl.field !== 'receivedDateTime' && typeof cl.value !== 'string') throw badRequest(`The value of property '${cl.field}' must be a string literal.`, 'BadRequest');
  }
  return clauses;
}

/**
 * The period asked for: both bounds of receivedDateTime or neither (the previous 48 hours). The
 * interval is at most 10 days, the start at most 90 days back, the end not after the current time.
 */
function window(c: RouteContext, clauses: readonly FilterClause[]): { from: number; to: number } {
  const now = c.tenant.clock.now();
  const ge = clauses.filter((x) => x.field === 'receivedDateTime' && x.op === 'ge');
  const le = clauses.filter((x) => x.field === 'receivedDateTime' && x.op === 'le');
  if (!ge.length && !le.length) return { from: now - DEFAULT_WINDOW_MS, to: now };
  if (ge.length !== 1 || le.length !== 1) {
    throw badRequest("Filtering on receivedDateTime needs both bounds, once each: 'receivedDateTime ge {start} and receivedDateTime le {end}'.", 'BadRequest');
  }
  const from = Date.parse(String(ge[0]!.value));
  const to = Date.parse(String(le[0]!.value));
  if (Number.isNaN(from) || Number.isNaN(to)) throw badRequest('receivedDateTime bounds must be ISO 8601 date-times (YYYY-MM-DDThh:mm:ssZ).', 'BadRequest');
  if (to < from) throw badRequest('The end of the receivedDateTime range must not be before its start.', 'BadRequest');
  if (to - from > MAX_INTERVAL_MS) throw badRequest('The receivedDateTime range must not exceed 10 days.', 'BadRequest');
  if (from < now - MAX_AGE_MS) throw badRequest('The start of the receivedDateTime range must not be more than 90 days before the current date.', 'BadRequest');
  if (to > now) throw badRequest('The end of the receivedDateTime range must not be later than the current date.', 'BadRequest');
  return { from, to };
}

/** One event of a message's journey to one recipient, as getDetailsByRecipient returns it. */
export interface MessageTraceEvent {
  readonly event: string;
  readonly description: string;
  readonly action?: string;
  /** Seconds after the message was received. */
  readonly afterSeconds?: number;
}

/** What follows Receive for each status, when a row does not carry its own `events`. */
const FOLLOWING: Record<string, MessageTraceEvent | undefined> = {
  delivered: { event: 'Deliver', description: 'The message was successfully delivered.' },
  filteredAsSpam: { event: 'Deliver', description: 'The message was delivered to the Junk Email folder.' },
  quarantined: { event: 'Quarantine', description: 'The message was quarantined.' },
  failed: { event: 'Fail', description: 'The message could not be delivered.' },
  pending: { event: 'Defer', description: 'The message is waiting to be delivered.' },
  expanded: { event: 'Expand', description: 'The distribution group was expanded.' },
};

/**
 * The events of one row: the ones it carries (`events`, kept by the SMTP listener and not a Graph
 * property), else Receive and what its status implies.
 */
function detailsOf(t: Entity): Record<string, unknown>[] {
  const own = Array.isArray(t['events']) ? (t['events'] as MessageTraceEvent[]) : undefined;
  const status = String(t['status'] ?? '');
  const events: MessageTraceEvent[] = own ?? [
    { event: 'Receive', description: `Message received by: ${RECEIVING_SERVER}` },
    ...(FOLLOWING[status] ? [{ ...FOLLOWING[status]!, afterSeconds: 2 }] : []),
  ];
  const received = Date.parse(String(t['receivedDateTime'] ?? ''));
  return events.map((e) => ({
    id: t.id,
    messageId: t['messageId'] ?? null,
    dateTime: Number.isNaN(received) ? null : new Date(received + (e.afterSeconds ?? 0) * 1000).toISOString().slice(0, 19) + 'Z',
    event: e.event,
    action: e.action ?? '',
    description: e.description,
    data: `<root><MEP Name="ServerHostName" String="${RECEIVING_SERVER}" /><MEP Name="MessageSize" Integer="${Number(t['size'] ?? 0)}" /></root>`,
  }));
}

/** `recipientAddress='a@b'` (quotes doubled inside), as the function's parameter is written. */
function recipientParameter(raw: string): string {
  const m = /^'((?:[^']|'')*)'$/.exec(raw.trim());
  if (!m || !m[1]) throw badRequest("getDetailsByRecipient needs recipientAddress='<address>'.", 'BadRequest');
  return m[1].replace(/''/g, "'");
}

/**
 * Exchange Online's message trace in Graph (`/admin/exchange/tracing/messageTraces`): one row per
 * message and recipient, newest first, for the previous 48 hours unless `$filter` gives both bounds
 * of receivedDateTime (at most 10 days, starting at most 90 days back, ending no later than now);
 * `$filter` on the identifiers, addresses and status (eq) and the subject (contains, startsWith,
 * endsWith); pages of 1,000 by default, `$top` up to 5,000. getDetailsByRecipient gives the events
 * of one row. 100 requests per 5 minutes. The simulator gives each recipient's row its own id
 * (Exchange shares one id across a message's recipients).
 */
export const messageTraces = graphEntity({
  name: 'messageTraces',
  collection: { name: 'messageTraces', indexed: ['messageId', 'recipientAddress'] },
  throttle: 'message-trace',
  permissions: { read: ['ExchangeMessageTrace.Read.All'] },
  routes: [
    {
      method: 'GET', pattern: '/admin/exchange/tracing/messageTraces', permission: 'read',
      handle: (c) => {
        const clauses = clausesOf(c);
        const { from, to } = window(c, clauses);
        const others = clauses.filter((x) => x.field !== 'receivedDateTime');
        const rows = [...c.tenant.graph.messageTraces.values()]
          .filter((t) => {
            const at = Date.parse(String(t['receivedDateTime'] ?? ''));
            return !Number.isNaN(at) && at >= from && at <= to && matches(t, others);
          })
          .sort((a, b) => Date.parse(String(b['receivedDateTime'])) - Date.parse(String(a['receivedDateTime'])) || a.id.localeCompare(b.id));
        const query = new URLSearchParams(c.query);
        query.delete('$filter');
        return listPage(rows, query, {
          typeName: 'microsoft.graph.exchangeMessageTrace', defaultTop: 1000, maxTop: 5000, known: MESSAGE_TRACE_PROPERTIES,
          render: (t) => render(t, c.version), requestUrl: c.requestUrl, context: ctxUrl(c, 'admin/exchange/tracing/messageTraces'), loopNextLink: c.loopNextLink,
        });
      },
    },
    {
      method: 'GET', pattern: '/admin/exchange/tracing/messageTraces/{id}/getDetailsByRecipient(recipientAddress={recipient})', permission: 'read',
      handle: (c) => {
        const recipient = recipientParameter(c.params['recipient']!);
        const row = c.tenant.graph.messageTraces.get(c.params['id']!);
        if (!row) throw resourceNotFound(c.params['id']!);
        const value = String(row['recipientAddress'] ?? '').toLowerCase() === recipient.toLowerCase() ? detailsOf(row) : [];
        return { status: 200, body: { '@odata.context': ctxUrl(c, 'Collection(microsoft.graph.exchangeMessageTraceDetail)'), value } };
      },
    },
  ],
});
