import type { Directory } from '../evaluate/context.js';
import type { PlanDocument } from '../model/plan.js';
import { sameTenant, type Connection } from '../input/connection.js';
import { InputError } from '../input/synth-output.js';
import type { Manifest } from '../manifest/schema.js';
import { fingerprintOf, labelOf, type PlannedChange, type Write } from '../model/change.js';
import { terminalSafe } from '../core/text.js';
import type { Finding } from '../model/finding.js';
import type { LiveState } from '../model/live.js';
import { canonicalJson } from '../core/json.js';
import { desiredHashOf, planHashOf } from '../plan/build.js';
import { directoryOf } from '../evaluate/context.js';
import { evaluate } from '../evaluate/index.js';
import { plannedChanges } from '../plan/changes.js';
import { failedReads, readTouched } from './preflight.js';
import { hasRails, isResourceType, RESOURCES } from '../resources/registry.js';
import { ExchangeError, isIdempotentCmdlet } from '../transport/exchange.js';
import { errorOf, GraphError, isIdempotent, isPacedEndpoint } from '../transport/graph.js';
import { OutcomeUnknownError } from '../transport/middleware.js';
import { findingsRestored, planRollback } from './rollback.js';
import { rollbackState } from './rollback-state.js';
import { trailRecords } from '../evidence/verify.js';
import { type RefusalReason } from '../evidence/records.js';
import { readTarget, settleWrite, snapshot, writable } from './target.js';
import { writeProblem, writeProblemFor } from './writes.js';

type Obj = Record<string, unknown>;

/** Apply refuses: nothing has been written. `reason` says which rail refused, for the evidence trail. */
export class ApplyRefused extends InputError {
  constructor(
    message: string,
    readonly reason: RefusalReason = 'refused',
  ) {
    super(message);
  }
}

export interface ChangeOutcome {
  readonly change: PlannedChange;
  readonly result: 'applied' | 'failed';
  /** The resource as read just before the write. */
  readonly before?: unknown;
  readonly after?: unknown;
  readonly error?: string;
  /** How the outcome was learnt when the write's answer was not usable: what happened, and what a read showed. */
  readonly settled?: string;
}

export interface ApplyHooks {
  /**
   * Told just before each write, with the resource as read before it (the evidence trail records
   * the intent). `false` stops the run before that write is sent.
   */
  beforeWrite?(change: PlannedChange, before: unknown): boolean | void;
  /** Told about each change as it completes (for the evidence trail and the log); `false` stops the run. */
  onChange?(outcome: ChangeOutcome): boolean | void;
}

/** What preflight needs besides the plan. */
export interface PreflightOptions {
  readonly maxChanges: number;
  readonly today: string;
  /** The evidence trail's text: a rollback plan is checked against the run it reverses. */
  readonly trail?: string;
}

const isObj = (v: unknown): v is Obj => !!v && typeof v === 'object' && !Array.isArray(v);

/** Checks that the file is a plan this version can apply, before trusting any field of it. */
export function checkShape(plan: PlanDocument): void {
  if (plan.formatVersion !== 1) throw new ApplyRefused(`plan format version ${String(plan.formatVersion)} is not supported (this version applies 1)`, 'not-a-plan');
  if (!Array.isArray(plan.changes) || !Array.isArray(plan.findings) || !Array.isArray(plan.incomplete) || typeof plan.planHash !== 'string') {
    throw new ApplyRefused('the file is not a complete plan (changes, findings, incomplete and planHash are required)', 'not-a-plan');
  }
  for (const c of plan.changes) {
    if (!isObj(c) || !isObj(c.write) || !isObj(c.resource) || typeof c.fingerprint !== 'string') throw new ApplyRefused('the plan holds a change that is not well formed', 'altered');
    // Apply finds what to do from the stored type: one this version does not know is refused, never guessed.
    if (!isResourceType(c.resource.type)) throw new ApplyRefused(`the plan holds a change to ${terminalSafe(JSON.stringify(c.resource.type))}, a resource type this version does not know; nothing was written`, 'altered');
  }
}

const same = (a: unknown, b: unknown) => canonicalJson(a ?? null) === canonicalJson(b ?? null);
const edited = (c: PlannedChange, rollback: boolean) =>
  new ApplyRefused(`the plan's change to ${labelOf(c.resource)} is not the one ${rollback ? 'the evidence trail' : 'the posture'} calls for: the plan file was edited; make a new ${rollback ? 'rollback' : 'plan'}`, 'altered');

/** What preflight read: the live state of what the plan touches, and each change's target where that read showed it. */
export interface Preflight {
  readonly live: LiveState;
  readonly dir: Directory;
  /** The target of a change as read by this preflight (see {@link ApplyOptions.targets}). */
  readonly targets: ReadonlyMap<PlannedChange, unknown>;
}

/**
 * Checks that make apply refuse before anything is written. The plan file is trusted for nothing it
 * does not prove: every write is derived again, from the posture and a fresh read (or, for a
 * rollback, from the evidence trail and a fresh read), and must be exactly the write the plan holds.
 * The fresh read is of what the changes touch (apply/preflight.ts): the sections their controls
 * and rails are computed from, and, for a type read where its writes act, only those objects.
 */
export async function preflight(plan: PlanDocument, manifest: Manifest, conn: Connection, o: PreflightOptions): Promise<Preflight> {
  checkShape(plan);
  if (plan.planHash !== planHashOf(plan)) throw new ApplyRefused('the plan file was altered after it was made (its hash does not match its content); make a new plan', 'altered');
  if (plan.kind !== 'plan') throw new ApplyRefused('this is a drift report, not a plan; make one with `posture plan --out FILE`', 'not-a-plan');
  if (plan.desiredHash !== desiredHashOf(manifest)) throw new ApplyRefused('the posture changed since the plan was made (the synthesized manifest differs); make a new plan', 'stale');
  if (typeof plan.tenantId !== 'string' || !sameTenant(plan.tenantId, conn.tenant)) throw new ApplyRefused(`the plan is for tenant ${plan.tenantId}, not ${conn.tenant}`, 'tenant');
  if (plan.incomplete.length) throw new ApplyRefused('the plan was made from an incomplete read; make a new plan', 'incomplete-read');
  if (plan.changes.length > o.maxChanges) throw new ApplyRefused(`the plan has ${plan.changes.length} changes, more than --max-changes ${o.maxChanges}; review it in parts or raise the limit`, 'max-changes');
  // A rollback's writes come from the evidence trail, which anyone who can write the file can rewrite whole.
  if (plan.rollbackOf) checkWriteTargets(plan.changes);

  const touched = await readTouched(plan.changes, manifest, { graph: conn.graph, exchange: conn.exchange, resolver: conn.resolver });
  const { live } = touched;
  const evaluated = evaluate(touched.manifest, live, o.today);
  const failed = failedReads(evaluated.incomplete);
  if (failed.length) throw new ApplyRefused(`the tenant could not be read completely before applying: ${failed.map((i) => i.what).join(', ')}`, 'incomplete-read');
  const dir = directoryOf(live);
  if (plan.rollbackOf) await checkRollback(plan, plan.rollbackOf, conn, o);
  else checkPlanned(plan, evaluated.findings, plannedChanges(evaluated.findings, touched.manifest, live, dir));
  checkWriteTargets(plan.changes);
  checkRails(plan.changes, manifest, dir, live);
  // A target the preflight read is the one the fingerprint was checked against; a rollback reads its own.
  return { live, dir, targets: plan.rollbackOf ? new Map() : touched.targets };
}

/** A plan's changes must be exactly what the posture calls for now, against the live state they were computed from. */
function checkPlanned(plan: PlanDocument, findings: readonly Finding[], changes: readonly PlannedChange[]): void {
  const byId = new Map(findings.map((f) => [f.id, f]));
  const expected = new Map(changes.map((c) => [c.findingId, c]));
  for (const c of plan.changes) {
    const now = byId.get(c.findingId);
    if (!now || fingerprintOf(now.evidence.live) !== c.fingerprint) {
      throw new ApplyRefused(`stale plan: ${labelOf(c.resource)} changed since ${terminalSafe(String(c.readAt))}; make a new plan`, 'stale');
    }
    const e = expected.get(c.findingId);
    if (c.rollbackOf || !e || e.action !== c.action || !same(e.write, c.write)) throw edited(c, false);
  }
}

/** A rollback plan's changes must be exactly the reverse of recorded, not yet undone changes of its run, which must still be live. */
async function checkRollback(plan: PlanDocument, runId: string, conn: Connection, o: PreflightOptions): Promise<void> {
  if (o.trail === undefined) throw new ApplyRefused('a rollback plan is checked against the evidence trail it was made from: name it with --evidence FILE', 'evidence');
  let records;
  try {
    records = trailRecords(o.trail);
  } catch (err) {
    throw new ApplyRefused(`evidence: ${(err as Error).message}`, 'evidence');
  }
  const { steps } = planRollback(records, runId);
  const bySeq = new Map(steps.map((s) => [s.record.seq, s]));
  for (const c of plan.changes) {
    const s = c.rollbackOf?.runId === runId ? bySeq.get(c.rollbackOf.seq) : undefined;
    if (!s) {
      throw new ApplyRefused(`the rollback's change to ${labelOf(c.resource)} undoes no applied change of run ${runId} that is still to undo (the plan was edited, or the run was rolled back already)`, 'altered');
    }
    if (s.action !== c.action || !same(s.write, c.write)) throw edited(c, true);
  }
  const restores = findingsRestored(plan.changes.map((c) => bySeq.get(c.rollbackOf!.seq)!), records);
  if (!same(restores, plan.restores ?? [])) {
    throw new ApplyRefused(
      `the rollback plan does not list the ${restores.length} finding${restores.length === 1 ? '' : 's'} it brings back as the evidence trail says (it lists ${plan.restores?.length ?? 0}): the plan file was edited; make a new rollback`,
      'altered',
    );
  }
  const { states, stale } = await rollbackState(conn, runId, plan.changes.map((c) => bySeq.get(c.rollbackOf!.seq)!));
  if (stale.length) throw new ApplyRefused(`stale rollback: ${stale.join('; ')}`, 'stale');
  for (const c of plan.changes) {
    if (states.get(bySeq.get(c.rollbackOf!.seq)!)!.fingerprint !== c.fingerprint) {
      throw new ApplyRefused(`stale plan: ${labelOf(c.resource)} changed since ${terminalSafe(String(c.readAt))}; make a new rollback`, 'stale');
    }
  }
}

/**
 * Rails judge exactly what will be sent: every write must be one its resource type makes, written
 * in its one canonical form, before any other rail looks at its path. A path with a dot segment, a
 * doubled or encoded slash, a query, or an absolute URL would be judged as one thing and sent as
 * another; a write filed under another type would escape that type's rails.
 */
function checkWriteTargets(changes: readonly PlannedChange[]): void {
  for (const c of changes) {
    const problem = writeProblemFor(c.resource.type, c.write);
    if (problem) {
      const where = c.write.api === 'graph' ? `${String(c.write.method)} ${JSON.stringify(c.write.path)}` : JSON.stringify(c.write.cmdlet);
      throw new ApplyRefused(`refusing the plan's change to ${labelOf(c.resource)}: its write ${where} is not one apply makes (${problem}); nothing was written`, 'rail');
    }
  }
}

/**
 * The rails of each resource type that has them (the break-glass rail of conditional access), over
 * that type's changes in plan order, whatever the plan file says.
 */
function checkRails(changes: readonly PlannedChange[], manifest: Manifest, dir: Directory, live: LiveState): void {
  for (const t of RESOURCES.filter(hasRails)) {
    const refused = t.rails(changes.filter((c) => c.resource.type === t.key), { manifest, dir, live });
    if (refused) throw new ApplyRefused(refused, 'rail');
  }
}

/** How apply runs the changes. */
export interface ApplyOptions {
  /**
   * How many changes are under way at once (read, write, read back), within the limits: changes
   * that share what the service limits them by (one mailbox, one target, the paced conditional
   * access endpoints) go one after another, in plan order. `posture apply` runs
   * {@link DEFAULT_CONCURRENCY}. @default 1: one change at a time
   */
  readonly concurrency?: number;
  /**
   * The target of a change as the preflight read it just before, for changes whose target the
   * preflight's read showed (and whose fingerprint it checked): not read again. Any other change's
   * target is read just before its write.
   */
  readonly targets?: ReadonlyMap<PlannedChange, unknown>;
}

/** How many changes `posture apply` has under way at once. */
export const DEFAULT_CONCURRENCY = 32;

/** What the service limits a change's requests by: changes of one lane go one after another. */
function laneOf(c: PlannedChange): string {
  const w = c.write;
  // Conditional access and identity protection allow 1 request/s per tenant: one lane for them all.
  if (w.api === 'graph' && isPacedEndpoint(new URL(w.path, 'https://graph.invalid'))) return 'paced';
  const t = writable(c.resource.type);
  return `${c.resource.type} ${t.limitScope ? t.limitScope(w) : t.targetKey(w)}`;
}

/**
 * Applies the plan's changes, each verified by a read after it: the changes of each run of one
 * resource type in the plan (600 inbox rules) up to `concurrency` at once (see {@link ApplyOptions}),
 * the runs one after another. What is recorded keeps one order whatever the timing: the hooks are
 * told in a fixed sequence, in each run intents going `concurrency` changes ahead of outcomes
 * (intent 1 … intent N, outcome 1, intent N+1, outcome 2, …; with 1, or a run of one change,
 * intent and outcome of each change in turn), every outcome in plan order. A change whose target
 * read fails, or that fails or does not verify, stops the run: from the moment it is known, no
 * write not yet sent is sent and no intent not yet recorded is recorded (the changes already under
 * way finish and are recorded), so a lane's next change never follows a failed one. Running
 * again (after a new plan) converges: a change already made no longer appears in the plan.
 */
export async function applyChanges(plan: Pick<PlanDocument, 'changes'>, conn: Connection, hooks: ApplyHooks, o: ApplyOptions = {}): Promise<ChangeOutcome[]> {
  const changes = plan.changes;
  const window = Math.max(1, Math.floor(o.concurrency ?? 1));
  // Each change's lane predecessor must finish before the change reads its target.
  const done: Array<Promise<void>> = [];
  const finish: Array<() => void> = [];
  const laneLast = new Map<string, number>();
  const laneWait: Array<Promise<void>> = [];
  for (let i = 0; i < changes.length; i++) {
    done.push(new Promise<void>((r) => finish.push(r)));
    let lane: string;
    try {
      lane = laneOf(changes[i]!);
    } catch {
      lane = `change ${i}`;
    }
    const prev = laneLast.get(lane);
    laneWait.push(prev === undefined ? Promise.resolve() : done[prev]!);
    laneLast.set(lane, i);
  }
  type Read = { ok: true; before: unknown } | { ok: false; error: string };
  const reads = new Map<number, Promise<Read>>();
  const readOf = (i: number) => {
    let r = reads.get(i);
    if (!r) {
      const change = changes[i]!;
      r = laneWait[i]!.then(async (): Promise<Read> => {
        try {
          return { ok: true, before: o.targets?.has(change) ? snapshot(o.targets.get(change)) : snapshot(await readTarget(conn, change.resource.type, change.write)) };
        } catch (err) {
          return { ok: false, error: (err as Error).message };
        }
      });
      reads.set(i, r);
    }
    return r;
  };
  const results = new Map<number, Promise<ChangeOutcome>>();
  const outcomes: ChangeOutcome[] = [];
  let stopped = false;
  // A failure seen, whenever it is seen: a write not yet sent is not sent (nor its intent recorded),
  // whatever place in the sequence it has. `stopped` alone would let the writes the sequence reaches
  // before the failure's outcome go out, one lane's next change among them.
  let halted = false;
  // The fixed sequence, in each run of changes of one type: intents of its first `window` changes,
  // then for each change k its outcome and the intent of change k+window.
  const intent = async (i: number, end: number) => {
    if (stopped) return;
    // Reads of the changes about to start go ahead (never past the window or the run), so the sequence does not wait on each in turn.
    for (let j = i; j < Math.min(end, i + window); j++) void readOf(j);
    const change = changes[i]!;
    const read = await readOf(i);
    if (stopped || halted) {
      finish[i]!();
      return;
    }
    if (!read.ok) {
      results.set(i, Promise.resolve({ change, result: 'failed', error: read.error }));
      finish[i]!();
      stopped = halted = true;
      return;
    }
    if (hooks.beforeWrite?.(change, read.before) === false) {
      finish[i]!();
      stopped = halted = true;
      return;
    }
    results.set(
      i,
      writeAndVerify(conn, change, read.before)
        .then((r) => {
          if (r.result === 'failed') halted = true;
          return r;
        })
        .finally(() => finish[i]!()),
    );
  };
  const outcome = async (k: number) => {
    const result = results.get(k);
    if (!result) return;
    const got = await result;
    outcomes.push(got);
    const goOn = hooks.onChange?.(got);
    if (got.result === 'failed' || goOn === false) stopped = true;
  };
  // Changes of one type next to each other in the plan are independent of each other (distinct
  // targets, or one lane); a change of another type may build on what came before it (a policy
  // naming a strength the plan creates first), so each such run of the plan starts when the one
  // before it has ended.
  for (let start = 0; start < changes.length; ) {
    let end = start + 1;
    while (end < changes.length && changes[end]!.resource.type === changes[start]!.resource.type) end++;
    const width = Math.min(window, end - start);
    for (let i = start; i < start + width; i++) await intent(i, end);
    for (let k = start; k < end; k++) {
      await outcome(k);
      if (k + width < end) await intent(k + width, end);
    }
    start = end;
  }
  return outcomes;
}

/** One change's write, sent once, and its read back; a write whose answer was lost is settled by a read, never sent again. */
async function writeAndVerify(conn: Connection, change: PlannedChange, before: unknown): Promise<ChangeOutcome> {
  try {
    let created: unknown;
    let settled: string | undefined;
    try {
      created = await send(conn, change.write);
    } catch (err) {
      // A create or delete is never sent twice blindly: read to learn whether it took, and say so.
      if (!outcomeUnknown(err, change.write)) throw err;
      const s = await settleWrite(conn, change.resource.type, change.write, before);
      if (s.outcome !== 'took') {
        throw new Error(`${(err as Error).message}; ${s.reason}, so ${s.outcome === 'not-taken' ? 'it did not take' : 'whether it took is not known: check it by hand'}, and it was not sent again`, { cause: err });
      }
      created = s.created;
      settled = `${(err as Error).message}; a read shows the write took`;
    }
    const after = await verify(conn, change, created, before);
    return { change, result: 'applied', before, after: snapshot(after), ...(settled ? { settled } : {}) };
  } catch (err) {
    return { change, result: 'failed', before, error: (err as Error).message };
  }
}

/**
 * Whether a failed write may have taken: no answer (or a cut-off one) to a create or a delete, a 5xx
 * to one, and the answers a create or delete gets when it is sent again after it took (404 for a
 * delete, AlreadyExists for a New- cmdlet). Idempotent writes are retried by the transport instead.
 */
function outcomeUnknown(err: unknown, w: Write): boolean {
  if (w.api === 'graph' ? isIdempotent(w.method) : isIdempotentCmdlet(w.cmdlet)) return false;
  if (err instanceof OutcomeUnknownError) return true;
  if ((err instanceof GraphError || err instanceof ExchangeError) && err.status >= 500) return true;
  if (err instanceof GraphError && w.api === 'graph' && w.method === 'DELETE' && err.status === 404) return true;
  return err instanceof ExchangeError && /AlreadyExists/i.test(err.type);
}

async function send(conn: Connection, w: Write): Promise<unknown> {
  const problem = writeProblem(w);
  if (problem) throw new Error(`refusing to send a write that is not one apply makes (${problem})`);
  if (w.api === 'exchange') return conn.exchange.invoke(w.cmdlet, w.parameters);
  const reply = await conn.graph.request(w.method, w.path, w.body);
  if (reply.status >= 400) throw errorOf(reply, w.path);
  return reply.body;
}

/**
 * Reads the resource back and checks the write took, by its resource type's one rule (the same for
 * a write apply plans and one that restores a recorded value); returns the value read.
 */
async function verify(conn: Connection, c: PlannedChange, created: unknown, before: unknown): Promise<unknown> {
  const fail = (what: string): never => {
    throw new Error(`${c.rollbackOf ? 'the rollback of' : 'the write to'} ${labelOf(c.resource)} did not take: ${what}`);
  };
  const t = writable(c.resource.type);
  const read = await t.readBack(conn, c.write, created);
  if ('unclear' in read) return fail(read.unclear);
  const problem = t.took(c.write, read.value, before);
  if (problem) fail(problem);
  return read.value;
}
