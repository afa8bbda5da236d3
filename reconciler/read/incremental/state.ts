type Obj = Record<string, unknown>;

/**
 * What `posture drift --incremental` keeps between runs, in a file beside the evidence trail: bound
 * to one tenant and one posture (its desired hash), it holds each delta-read collection's rows and
 * delta link, the mailbox rows with their WhenChanged watermark, each mailbox's per-mailbox items
 * (only those that have any), the end of the audit window last read and the rotation's cursor.
 * Together they are the last full observation, from which the findings are computed again as from
 * a full read. Pure: building, checking and compacting; reading and writing the file is store.ts.
 */
export const STATE_VERSION = 1;

/** Rows held as their common values plus each row's differences (60,000 mailboxes mostly agree). */
export interface CompactRows {
  readonly common: Obj;
  /** Each row: the properties whose value differs from `common`, and `$absent`, those it lacks. */
  readonly rows: ReadonlyArray<Obj>;
}

export interface IncrementalState {
  readonly version: typeof STATE_VERSION;
  readonly tenantId: string;
  /** The posture's desired hash: another posture reads other things, so its state is not this one's. */
  readonly desiredHash: string;
  /** When the observation was made, by the services' clock (ISO 8601). */
  readonly observedAt: string;
  /** Rows and delta link of each delta-read type, by type key. */
  readonly delta: Readonly<Record<string, { readonly link: string; readonly rows: CompactRows }>>;
  /** The rows of each type read for what changed since a watermark, by type key. */
  readonly changed: Readonly<Record<string, { readonly watermark: string | null; readonly rows: CompactRows }>>;
  /** Per-mailbox items of each per-mailbox type, by type key, then mailbox id (lower case); a mailbox without items is left out. */
  readonly perMailbox: Readonly<Record<string, Readonly<Record<string, readonly Obj[]>>>>;
  /** The end of the audit log window last read (ISO 8601). */
  readonly auditEnd: string;
  /** Every mailbox is read again within `period` runs; `cursor` is where the next run's slice starts. */
  readonly rotation: { readonly period: number; readonly cursor: number };
}

const ABSENT = '$absent';
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * A value's JSON, kept per object: rows expanded from a compaction share their common values, and
 * a list most rows hold is written out once, not once per row.
 */
function keyer(): (v: unknown) => string {
  const cache = new WeakMap<object, string>();
  return (v) => {
    if (typeof v !== 'object' || v === null) return JSON.stringify(v) ?? 'undefined';
    let k = cache.get(v);
    if (k === undefined) cache.set(v, (k = JSON.stringify(v)));
    return k;
  };
}

/** Compacts rows: the value most rows hold for each property is written once. */
export function compactRows(rows: readonly Obj[]): CompactRows {
  const keyOf = keyer();
  const same = (a: unknown, b: unknown) => a === b || keyOf(a) === keyOf(b);
  const counts = new Map<string, Map<string, { value: unknown; n: number }>>();
  for (const row of rows) {
    for (const [k, v] of Object.entries(row)) {
      let byValue = counts.get(k);
      if (!byValue) counts.set(k, (byValue = new Map()));
      const key = keyOf(v);
      const hit = byValue.get(key);
      if (hit) hit.n++;
      else if (byValue.size < 64) byValue.set(key, { value: v, n: 1 });
    }
  }
  const common: Obj = {};
  for (const [k, byValue] of counts) {
    let best: { value: unknown; n: number } | undefined;
    for (const c of byValue.values()) if (!best || c.n > best.n) best = c;
    if (best && best.n > rows.length / 2) common[k] = best.value;
  }
  return {
    common,
    rows: rows.map((row) => {
      const out: Obj = {};
      for (const [k, v] of Object.entries(row)) if (!(k in common) || !same(common[k], v)) out[k] = v;
      const absent = Object.keys(common).filter((k) => !(k in row));
      if (absent.length) out[ABSENT] = absent;
      return out;
    }),
  };
}

/**
 * The rows a {@link compactRows} holds, each a new object (the order of the original row's
 * properties is not kept). Common values are shared between rows, as a full read shares equal
 * lists (read/live.ts): rows are read-only from here on.
 */
export function expandRows(c: CompactRows): Obj[] {
  return c.rows.map((r) => {
    const absent = Array.isArray(r[ABSENT]) ? new Set(r[ABSENT] as string[]) : undefined;
    const out: Obj = {};
    for (const [k, v] of Object.entries(c.common)) if (!absent?.has(k)) out[k] = v;
    for (const [k, v] of Object.entries(r)) if (k !== ABSENT) out[k] = v;
    return out;
  });
}

/**
 * The state a file holds, checked; a message naming what is wrong otherwise. The file is the
 * reconciler's own, but it is read as any input is: a state that does not check is never used.
 */
export function parseState(raw: unknown): IncrementalState | { problem: string } {
  if (!isObj(raw)) return { problem: 'it is not a JSON object' };
  if (raw['version'] !== STATE_VERSION) return { problem: `its version is ${JSON.stringify(raw['version'])}, this version reads ${STATE_VERSION}` };
  for (const k of ['tenantId', 'desiredHash', 'observedAt', 'auditEnd']) {
    if (typeof raw[k] !== 'string' || !raw[k]) return { problem: `${k} is not a string` };
  }
  for (const k of ['observedAt', 'auditEnd']) if (Number.isNaN(Date.parse(String(raw[k])))) return { problem: `${k} is not a date-time` };
  const compact = (v: unknown) => isObj(v) && isObj(v['common']) && Array.isArray(v['rows']) && (v['rows'] as unknown[]).every(isObj);
  const delta = raw['delta'];
  if (!isObj(delta) || !Object.values(delta).every((d) => isObj(d) && typeof d['link'] === 'string' && compact(d['rows']))) return { problem: 'delta is not a map of links and rows' };
  const changed = raw['changed'];
  if (!isObj(changed) || !Object.values(changed).every((d) => isObj(d) && (d['watermark'] === null || typeof d['watermark'] === 'string') && compact(d['rows']))) return { problem: 'changed is not a map of watermarks and rows' };
  const per = raw['perMailbox'];
  if (!isObj(per) || !Object.values(per).every((t) => isObj(t) && Object.values(t).every((items) => Array.isArray(items) && items.every(isObj)))) return { problem: 'perMailbox is not a map of items by mailbox' };
  const rotation = raw['rotation'];
  if (!isObj(rotation) || !Number.isInteger(rotation['period']) || (rotation['period'] as number) < 1 || !Number.isInteger(rotation['cursor']) || (rotation['cursor'] as number) < 0) {
    return { problem: 'rotation is not a period and a cursor' };
  }
  return raw as unknown as IncrementalState;
}

/** Why a run must read in full instead of from the state, or undefined when the state can be used. */
export function fullReadReason(
  state: IncrementalState | undefined,
  run: { readonly tenantId: string; readonly desiredHash: string; readonly now: Date; readonly lifetimeMs: number; readonly period: number; readonly full?: boolean },
): string | undefined {
  if (run.full) return '--full was given';
  if (!state) return 'no state from an earlier run';
  if (state.tenantId.toLowerCase() !== run.tenantId.toLowerCase()) return 'the state is of another tenant';
  if (state.desiredHash !== run.desiredHash) return 'the state is of another posture (its desired hash differs)';
  if (state.rotation.period !== run.period) return `the state rotates over ${state.rotation.period} runs, this run over ${run.period}`;
  const age = run.now.getTime() - Date.parse(state.observedAt);
  if (age > run.lifetimeMs) return `the state is older than its delta links live (${Math.floor(age / 86_400_000)} days)`;
  if (age < 0) return 'the state was observed after now (a clock moved back)';
  return undefined;
}
