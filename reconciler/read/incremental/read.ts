import { canonicalJson } from '../../core/json.js';
import type { Manifest } from '../../manifest/schema.js';
import type { LiveState, Section } from '../../model/live.js';
import { readAuditLog, type AuditLogPolling } from '../audit-log.js';
import type { IncrementalRead, Obj, ReadContext, ResourceType } from '../../resources/types.js';
import { GraphError, type BatchItem } from '../../transport/graph.js';
import type { HttpReply } from '../../transport/http.js';
import { readTenant, typesToRead } from '../live.js';
import { auditWindow, mergeChanged, mergeDelta, planMailboxReads, watermarkOf, type MailboxPlan } from './plan.js';
import { compactRows, expandRows, fullReadReason, STATE_VERSION, type IncrementalState } from './state.js';

/**
 * An incremental read of the tenant: the same live state a full read gives, read from the state an
 * earlier run kept and what changed since. Every type is read as `readTenant` reads it; the reads
 * of types that declare how they follow changes (`ReadSpec.incremental`) are answered here:
 *
 * - a Graph collection with a delta function: its delta link, merged into the rows kept (a first
 *   round of the delta function on a full read, so the next run has a link); a link the service no
 *   longer honours (410 Gone, or 400 syncStateNotFound past its seven days) starts that collection
 *   again with a first round;
 * - an Exchange list with a change watermark: the rows changed at or after it, merged by key;
 * - a per-mailbox read: only the mailboxes the audit log names (changes of the declared operations
 *   in a window reaching `overlapMs` before the last one's end), those changed since the watermark,
 *   those not in the observation, and the rotation's slice; the others' items are the kept ones.
 *
 * The rotation reads every mailbox again within `period` runs: a change whose audit record never
 * arrives (or arrives more than `overlapMs` late) is seen by the run whose slice holds its mailbox,
 * at most `period` incremental runs after it was made.
 *
 * Mailboxes removed from the tenant leave the kept rows only on a full read (WhenChanged does not
 * show a removal); their per-mailbox items read again answer "not enabled", which reads as none.
 */

/** How long the services honour a delta link (identity resources: seven days). */
export const DELTA_LINK_LIFETIME_MS = 7 * 86_400_000;

/** How late an audit record may arrive and still be read by the next run's window. */
export const DEFAULT_AUDIT_OVERLAP_MS = 24 * 3600_000;

export interface IncrementalOptions {
  readonly tenantId: string;
  readonly desiredHash: string;
  /** The state the last run kept, if any. */
  readonly state: IncrementalState | undefined;
  /** Read everything, as without state (the state is written again from it). */
  readonly full?: boolean;
  /** Runs within which every mailbox is read again. */
  readonly period: number;
  /** @default {@link DEFAULT_AUDIT_OVERLAP_MS} */
  readonly overlapMs?: number;
  /** How the audit log query is waited for. */
  readonly auditPolling: AuditLogPolling;
  /** Now, by the services' clock. @default ctx.now, or the machine's clock */
  readonly now?: Date;
}

export interface IncrementalRun {
  readonly live: LiveState;
  /** The state to keep for the next run; undefined when a read failed (the earlier state stays). */
  readonly state: IncrementalState | undefined;
  /** `full` with its reason, or `incremental`. */
  readonly mode: { readonly kind: 'full'; readonly reason: string } | { readonly kind: 'incremental' };
  /** Mailboxes whose per-mailbox items were read from the service, and how many the observation held. */
  readonly mailboxesRead: number;
  readonly mailboxesKept: number;
  /** Collections whose delta link was refused and read again from a first round. */
  readonly resynced: readonly string[];
  /** The audit log window read, and how many of its records named a change. */
  readonly audit?: { readonly start: string; readonly end: string; readonly records: number; readonly problem?: string };
}

type Incremental<K extends IncrementalRead['kind']> = { type: ResourceType; how: Extract<IncrementalRead, { kind: K }> };

function declared<K extends IncrementalRead['kind']>(types: readonly ResourceType[], kind: K): Array<Incremental<K>> {
  return types.flatMap((type) => (type.read?.incremental?.kind === kind ? [{ type, how: type.read.incremental as Extract<IncrementalRead, { kind: K }> }] : []));
}

/**
 * A delta link the service no longer honours (410 Gone, or 400 syncStateNotFound past its lifetime),
 * or one that is not on this run's Graph endpoint (another endpoint, or an edited state file): the
 * transport never sends the token there, and the collection starts again with a first round.
 */
const resyncNeeded = (err: unknown) => err instanceof GraphError && (err.status === 410 || (err.status === 400 && /^syncStateNotFound$/i.test(err.code)) || err.code === 'ForeignUrl');

/** One delta round from `url` to its delta link. */
async function deltaRound(ctx: ReadContext, url: string): Promise<{ rows: Obj[]; link: string }> {
  const rows: Obj[] = [];
  let next = url;
  for (let page = 0; page < 100_000; page++) {
    const body = await ctx.graph.call<Obj>('GET', next);
    if (!Array.isArray(body?.['value'])) throw new GraphError(0, 'UnexpectedResponse', next, 'the answer has no value array');
    rows.push(...(body['value'] as Obj[]));
    const delta = body['@odata.deltaLink'];
    const more = body['@odata.nextLink'];
    if (typeof delta === 'string') return { rows, link: delta };
    if (typeof more !== 'string' || more === next) throw new GraphError(0, 'UnexpectedResponse', next, 'a delta page has neither a next link nor a delta link');
    next = more;
  }
  throw new GraphError(0, 'TooManyPages', url, 'the delta round did not end');
}

/** Reads the tenant incrementally (see the module's comment). */
export async function readIncremental(m: Manifest, ctx: ReadContext, o: IncrementalOptions): Promise<IncrementalRun> {
  const now = o.now ?? ctx.now ?? new Date();
  const types = typesToRead(m);
  const deltas = declared(types, 'graph-delta');
  const changedLists = declared(types, 'exchange-changed');
  const perMailbox = declared(types, 'per-mailbox');
  const overlapMs = o.overlapMs ?? DEFAULT_AUDIT_OVERLAP_MS;

  const reason = fullReadReason(o.state, { tenantId: o.tenantId, desiredHash: o.desiredHash, now, lifetimeMs: DELTA_LINK_LIFETIME_MS, period: o.period, ...(o.full ? { full: true } : {}) });
  const state = reason === undefined ? o.state : undefined;

  // The mailboxes of the observation, and the audit log's changes since the last window.
  const known = new Map<string, string[]>();
  for (const c of changedLists) {
    for (const row of state?.changed[c.type.key] ? expandRows(state.changed[c.type.key]!.rows) : []) {
      const id = row[c.how.mailboxId];
      if (typeof id === 'string' && id) known.set(id.toLowerCase(), [...(known.get(id.toLowerCase()) ?? []), ...c.how.names.flatMap((n) => (typeof row[n] === 'string' ? [row[n] as string] : []))]);
    }
  }
  const incremental = reason === undefined && state !== undefined;
  // The audit log query runs alongside the other reads; only the per-mailbox reads wait for it.
  const operations = [...new Set([...changedLists, ...perMailbox].flatMap((d) => d.how.auditOperations))];
  const window = incremental && perMailbox.length ? auditWindow(state!.auditEnd, now, overlapMs) : undefined;
  let auditProblem: string | undefined;
  const auditRead: Promise<Obj[]> = window
    ? readAuditLog({ graph: ctx.graph }, { ...window, userPrincipalNames: [], operations, displayName: 'posture drift: changes since the last run' }, o.auditPolling).then(
        (r) => r.records,
        (err: unknown) => {
          auditProblem = err instanceof Error ? err.message : String(err);
          return [];
        },
      )
    : Promise.resolve([]);
  let audit: Obj[] = [];

  let plan: Promise<MailboxPlan> | undefined;
  const changedIds: string[] = [];
  const nextDelta: Record<string, { link: string; rows: Obj[] }> = {};
  const nextWatermarks: Record<string, string | null> = {};
  const resynced: string[] = [];
  /** Mailboxes whose per-mailbox items were asked of the service. */
  const asked = new Set<string>();

  // The mailboxes whose items are read: computed once the changed rows and the audit log are known
  // (before the per-mailbox reads start). Without the audit log, every mailbox is read again.
  const planFor = (): Promise<MailboxPlan> => {
    plan ??= auditRead.then((records) => {
      audit = records;
      const made = planMailboxReads({
        known: [...known].map(([id, names]) => ({ id, names })),
        audit: records,
        changed: changedIds,
        rotation: { cursor: state?.rotation.cursor ?? 0, period: o.period },
      });
      return auditProblem === undefined ? made : { ...made, read: new Set(known.keys()), nextCursor: state?.rotation.cursor ?? 0 };
    });
    return plan;
  };

  const graph = new Proxy(ctx.graph, {
    get(target, prop, receiver) {
      if (prop === 'list') {
        return async (path: string) => {
          const d = deltas.find((x) => x.type.read?.how.kind === 'graph-list' && x.type.read.how.path === path);
          if (!d) return target.list(path);
          const kept = incremental ? state!.delta[d.type.key] : undefined;
          let round: { rows: Obj[]; link: string } | undefined;
          if (kept) {
            try {
              const changes = await deltaRound(ctx, kept.link);
              round = { rows: mergeDelta(expandRows(kept.rows), changes.rows), link: changes.link };
            } catch (err) {
              if (!resyncNeeded(err)) throw err;
              resynced.push(d.type.title);
            }
          }
          if (!round) {
            const first = await deltaRound(ctx, d.how.path);
            round = { rows: mergeDelta([], first.rows), link: first.link };
          }
          nextDelta[d.type.key] = round;
          return round.rows.map((r) => ({ ...r }));
        };
      }
      if (prop === 'batch') {
        return async (items: readonly BatchItem[]) => {
          const p = perMailbox[0];
          if (!incremental || !p) return target.batch(items);
          const mailboxPlan = await planFor();
          const replies = new Map<string, HttpReply>();
          const ask: BatchItem[] = [];
          for (const item of items) {
            const id = item.method === 'GET' ? p.how.mailboxOf(item.url)?.toLowerCase() : undefined;
            if (id !== undefined && known.has(id) && !mailboxPlan.read.has(id)) {
              const kept = state!.perMailbox[p.type.key]?.[id] ?? [];
              replies.set(item.id, { status: 200, headers: {}, body: { value: kept.map((r) => ({ ...r })) } } as unknown as HttpReply);
            } else {
              if (id !== undefined) asked.add(id);
              ask.push(item);
            }
          }
          if (ask.length) for (const [k, v] of await target.batch(ask)) replies.set(k, v);
          return replies;
        };
      }
      const v: unknown = Reflect.get(target, prop, receiver);
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });

  const exchange = new Proxy(ctx.exchange, {
    get(target, prop, receiver) {
      if (prop === 'invoke') {
        return async (cmdlet: string, parameters: Record<string, unknown> = {}, onPage?: (rows: readonly Obj[]) => void) => {
          const c = changedLists.find((x) => x.type.read?.how.kind === 'exchange' && x.type.read.how.cmdlet === cmdlet && canonicalJson(x.type.read.how.parameters ?? {}) === canonicalJson(parameters));
          if (!c) return target.invoke(cmdlet, parameters, onPage);
          const kept = incremental ? state!.changed[c.type.key] : undefined;
          let rows: Obj[];
          if (kept) {
            // Rows that never changed have no watermark of their own: then the last observation's time, less the overlap.
            const since = kept.watermark ?? new Date(Date.parse(state!.observedAt) - overlapMs).toISOString();
            const changed = await target.invoke<Obj>(cmdlet, { ...parameters, Filter: `${c.how.field} -ge '${since.replace(/'/g, "''")}'` });
            for (const r of changed) if (typeof r[c.how.mailboxId] === 'string') changedIds.push(r[c.how.mailboxId] as string);
            rows = mergeChanged(expandRows(kept.rows), changed, c.how.key);
          } else {
            rows = await target.invoke<Obj>(cmdlet, parameters);
            if (incremental) for (const r of rows) if (typeof r[c.how.mailboxId] === 'string') changedIds.push(r[c.how.mailboxId] as string);
          }
          nextWatermarks[c.type.key] = watermarkOf(rows, c.how.field);
          if (incremental) void planFor();
          onPage?.(rows);
          return rows;
        };
      }
      const v: unknown = Reflect.get(target, prop, receiver);
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });

  const live = await readTenant(m, { ...ctx, graph, exchange });
  const settled = plan ? await plan : undefined;
  await auditRead;

  // The next state, from the sections as read (a failed one keeps the earlier state).
  const sections = [...deltas, ...changedLists, ...perMailbox].map((d) => (live as Record<string, Section<unknown> | undefined>)[d.type.read!.section]);
  const allRead = sections.every((s) => s === undefined || s.ok);
  const mailboxesRead = incremental ? asked.size : countAll(live, perMailbox);
  const run = {
    live, mode: incremental ? ({ kind: 'incremental' } as const) : ({ kind: 'full', reason: reason! } as const), mailboxesRead, mailboxesKept: known.size, resynced,
    ...(incremental && window ? { audit: { ...window, records: audit.length, ...(auditProblem !== undefined ? { problem: auditProblem } : {}) } } : {}),
  };
  if (!allRead) return { ...run, state: undefined };
  const next: IncrementalState = {
    version: STATE_VERSION,
    tenantId: o.tenantId,
    desiredHash: o.desiredHash,
    observedAt: now.toISOString(),
    delta: Object.fromEntries(Object.entries(nextDelta).map(([k, v]) => [k, { link: v.link, rows: compactRows(v.rows) }])),
    changed: Object.fromEntries(
      changedLists.flatMap((c) => {
        const s = (live as Record<string, Section<unknown> | undefined>)[c.type.read!.section];
        return s?.ok && Array.isArray(s.value) ? [[c.type.key, { watermark: nextWatermarks[c.type.key] ?? null, rows: compactRows(s.value as Obj[]) }]] : [];
      }),
    ),
    perMailbox: Object.fromEntries(perMailbox.flatMap((p) => {
      const s = (live as Record<string, Section<unknown> | undefined>)[p.type.read!.section];
      if (!s?.ok) return [];
      const byMailbox: Record<string, Obj[]> = {};
      for (const { mailbox, rule } of itemsOf(s.value)) (byMailbox[mailbox.toLowerCase()] ??= []).push(rule);
      return [[p.type.key, byMailbox]];
    })),
    // Without the audit log every mailbox was read again: the window is covered all the same.
    auditEnd: window?.end ?? now.toISOString(),
    rotation: { period: o.period, cursor: incremental ? (settled?.nextCursor ?? state!.rotation.cursor) : 0 },
  };
  return { ...run, state: next };
}

/** The items of a per-mailbox section: `{ mailbox: { id }, rule }` rows, as the inbox rule section holds them. */
function itemsOf(value: unknown): Array<{ mailbox: string; rule: Obj }> {
  const rows = (value as { rules?: unknown } | undefined)?.rules;
  if (!Array.isArray(rows)) return [];
  return rows.flatMap((r: { mailbox?: { id?: unknown }; rule?: unknown }) => (typeof r?.mailbox?.id === 'string' && r.rule && typeof r.rule === 'object' ? [{ mailbox: r.mailbox.id, rule: r.rule as Obj }] : []));
}

const countAll = (live: LiveState, perMailbox: ReadonlyArray<Incremental<'per-mailbox'>>) =>
  perMailbox.reduce((n, p) => n + Number(((live as Record<string, Section<unknown> | undefined>)[p.type.read!.section] as { ok?: boolean; value?: { mailboxes?: number } } | undefined)?.value?.mailboxes ?? 0), 0);
