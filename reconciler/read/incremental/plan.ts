type Obj = Record<string, unknown>;

/**
 * The pure core of an incremental run: merging what changed into the rows kept, the audit window,
 * which mailboxes' per-mailbox items are read again, and the rotation that reads every mailbox
 * again within its period whatever the audit log says.
 */

const idOf = (row: Obj, key: string): string | undefined => {
  const v = row[key];
  return typeof v === 'string' && v ? v.toLowerCase() : undefined;
};

/**
 * The rows after a delta round: an object in `changes` replaces the row of its id (or is added
 * after the others), one carrying `@removed` takes its row out. Rows keep their order, as the
 * service keeps positions. Annotations of the round (`@odata.*`) are not kept.
 */
export function mergeDelta(rows: readonly Obj[], changes: readonly Obj[]): Obj[] {
  const byId = new Map<string, Obj | null>();
  const order: string[] = [];
  for (const r of rows) {
    const id = idOf(r, 'id');
    if (id === undefined || byId.has(id)) continue;
    byId.set(id, r);
    order.push(id);
  }
  for (const c of changes) {
    const id = idOf(c, 'id');
    if (id === undefined) continue;
    if (!byId.has(id)) order.push(id);
    if ('@removed' in c) byId.set(id, null);
    else byId.set(id, Object.fromEntries(Object.entries(c).filter(([k]) => !k.startsWith('@odata.'))));
  }
  return order.flatMap((id): Obj[] => {
    const row = byId.get(id);
    return row ? [row] : [];
  });
}

/** The rows after a read of those changed since a watermark: a changed row replaces the row of its `key`, a new one is added. */
export function mergeChanged(rows: readonly Obj[], changed: readonly Obj[], key: string): Obj[] {
  const at = new Map<string, number>();
  const out = [...rows];
  out.forEach((r, i) => {
    const k = idOf(r, key);
    if (k !== undefined) at.set(k, i);
  });
  for (const c of changed) {
    const k = idOf(c, key);
    const i = k === undefined ? undefined : at.get(k);
    if (i === undefined) {
      if (k !== undefined) at.set(k, out.length);
      out.push(c);
    } else out[i] = c;
  }
  return out;
}

/** The latest value of a date field among rows, as the service wrote it; null when none has one. */
export function watermarkOf(rows: readonly Obj[], field: string): string | null {
  let best: { at: number; text: string } | null = null;
  for (const r of rows) {
    const v = r[field];
    if (typeof v !== 'string') continue;
    const at = Date.parse(v);
    if (!Number.isNaN(at) && (!best || at > best.at)) best = { at, text: v };
  }
  return best ? best.text : null;
}

/**
 * The audit log window of a run: from the last window's end less `overlapMs` (records arrive late:
 * one created before the last run's end but searchable only after it is read now), to now.
 */
export function auditWindow(lastEnd: string, now: Date, overlapMs: number): { start: string; end: string } {
  const start = new Date(Math.min(Date.parse(lastEnd) - overlapMs, now.getTime()));
  return { start: start.toISOString(), end: now.toISOString() };
}

/**
 * The mailbox an audit record is about, by address (lower case): the mailbox's owner for a mailbox
 * audit record, else the object the record names (`<mailbox>\<rule>`, or the mailbox itself).
 */
export function auditedMailbox(record: Obj): string | undefined {
  const data = typeof record['auditData'] === 'object' && record['auditData'] !== null ? (record['auditData'] as Obj) : {};
  const owner = data['MailboxOwnerUPN'];
  if (typeof owner === 'string' && owner) return owner.toLowerCase();
  const object = typeof data['ObjectId'] === 'string' ? data['ObjectId'] : record['objectId'];
  if (typeof object !== 'string' || !object) return undefined;
  return object.split('\\')[0]!.toLowerCase();
}

/**
 * The slice of mailboxes the rotation reads this run: `ids` in a fixed order (sorted), a
 * `ceil(n / period)` run of them from `cursor`, wrapping round; and where the next run starts. Over
 * any `period` consecutive runs over the same mailboxes, every one of them is in a slice.
 */
export function rotationSlice(ids: readonly string[], cursor: number, period: number): { slice: string[]; next: number } {
  const sorted = [...new Set(ids.map((i) => i.toLowerCase()))].sort();
  const n = sorted.length;
  if (n === 0) return { slice: [], next: 0 };
  const size = Math.ceil(n / period);
  const start = cursor % n;
  const slice = Array.from({ length: Math.min(size, n) }, (_, i) => sorted[(start + i) % n]!);
  return { slice, next: (start + size) % n };
}

export interface MailboxPlanInput {
  /** The mailboxes of the last observation: id (lower case) and the addresses audit records name them by. */
  readonly known: ReadonlyArray<{ readonly id: string; readonly names: readonly string[] }>;
  /** The audit log records of the window, of the operations that make a mailbox worth reading again. */
  readonly audit: readonly Obj[];
  /** The mailboxes whose rows changed since the watermark (ids, any case). */
  readonly changed: readonly string[];
  readonly rotation: { readonly cursor: number; readonly period: number };
}

export interface MailboxPlan {
  /** Mailboxes (lower-case ids) whose per-mailbox items are read from the service this run; any mailbox not known is read too. */
  readonly read: ReadonlySet<string>;
  /** Why, for each: `audit`, `changed`, `rotation` (first reason). */
  readonly because: ReadonlyMap<string, 'audit' | 'changed' | 'rotation'>;
  /** Audit records naming a mailbox the observation does not hold (read anyway, as new ones are). */
  readonly unknownAddresses: readonly string[];
  readonly nextCursor: number;
}

/** Which mailboxes to read again: those the audit log names, those changed since the watermark, and the rotation's slice. */
export function planMailboxReads(input: MailboxPlanInput): MailboxPlan {
  const byName = new Map<string, string>();
  for (const m of input.known) for (const n of m.names) if (n) byName.set(n.toLowerCase(), m.id.toLowerCase());
  const because = new Map<string, 'audit' | 'changed' | 'rotation'>();
  const unknown = new Set<string>();
  for (const r of input.audit) {
    const address = auditedMailbox(r);
    if (address === undefined) continue;
    const id = byName.get(address);
    if (id === undefined) unknown.add(address);
    else if (!because.has(id)) because.set(id, 'audit');
  }
  for (const c of input.changed) if (!because.has(c.toLowerCase())) because.set(c.toLowerCase(), 'changed');
  const { slice, next } = rotationSlice(input.known.map((m) => m.id), input.rotation.cursor, input.rotation.period);
  for (const id of slice) if (!because.has(id)) because.set(id, 'rotation');
  return { read: new Set(because.keys()), because, unknownAddresses: [...unknown].sort(), nextCursor: next };
}
