/**
 * What commands record: the `plan` record of a plan, the `refusal` of a refused apply or rollback,
 * and an apply run's `apply-start`, `intent` and `change` records and `apply-end`; and which runs
 * a trail shows as interrupted.
 */
import { randomUUID } from 'node:crypto';
import type {
  ApplyStartEvidenceRecord,
  ChangeEvidenceRecord,
  EvidenceActor,
  EvidenceInput,
  EvidenceRecord,
  IntentEvidenceRecord,
  RecordedWrite,
  RefusalInput,
} from './records.js';
import type { EvidenceTrail } from './store.js';
import type { PathMap } from '../model/paths.js';

/** A new run id (a random UUID). */
export function newRunId(): string {
  return randomUUID();
}

/** What a plan document holds that its `plan` record needs. */
export interface RecordedPlan {
  readonly kind: 'plan' | 'drift';
  readonly rollbackOf?: string;
  readonly planHash: string;
  readonly desiredHash: string;
  readonly tenantId: string;
  readonly stack: string;
  readonly summary: { readonly findings: number; readonly byStatus: Readonly<Record<string, number>>; readonly changes: { readonly create: number; readonly update: number; readonly delete: number } };
  readonly inboundPaths?: PathMap;
}

/** The `plan` record of a computed plan (or drift report). */
export function planEvidence(plan: RecordedPlan, runId: string, actor: EvidenceActor, exitCode: number): EvidenceInput {
  return {
    kind: 'plan',
    runId,
    actor,
    command: plan.rollbackOf ? 'rollback' : plan.kind,
    ...(plan.rollbackOf ? { rollbackOf: plan.rollbackOf } : {}),
    planHash: plan.planHash,
    desiredHash: plan.desiredHash,
    tenantId: plan.tenantId,
    stack: plan.stack,
    summary: { findings: plan.summary.findings, byStatus: { ...plan.summary.byStatus }, changes: { ...plan.summary.changes } },
    exitCode,
    ...(plan.inboundPaths
      ? {
          inboundPaths: {
            ...(plan.inboundPaths.evidence ? { period: { from: plan.inboundPaths.evidence.from, to: plan.inboundPaths.evidence.to }, unattributed: plan.inboundPaths.evidence.unattributed } : {}),
            paths: plan.inboundPaths.paths.map((p) => ({
              path: p.key,
              short: [...p.short],
              ...(p.observed ? { observed: { failed: p.observed.failed, byOutcome: { ...p.observed.byOutcome }, deliveredDespiteFailure: p.observed.deliveredDespiteFailure } } : {}),
            })),
          },
        }
      : {}),
  };
}

/** A change of a plan, as far as the trail records it (apply's planned change has this shape). */
export interface RecordableChange {
  readonly findingId: string;
  readonly control: string;
  readonly resource: { readonly type: string; readonly id: string | null; readonly name: string };
  readonly action: 'create' | 'update' | 'delete';
  readonly write: RecordedWrite;
  /** The live value the change was computed from. */
  readonly before: unknown;
  readonly rollbackOf?: { readonly runId: string; readonly seq: number };
}

/** How a change went, as far as the trail records it (apply's change outcome has this shape). */
export interface RecordableOutcome<C extends RecordableChange = RecordableChange> {
  readonly change: C;
  readonly result: 'applied' | 'failed';
  /** The resource as read just before the write. */
  readonly before?: unknown;
  readonly after?: unknown;
  readonly error?: string;
  readonly settled?: string;
}

/** What a plan document holds that an apply run's records need. */
export interface RecordablePlan<C extends RecordableChange = RecordableChange> {
  readonly planHash: string;
  readonly desiredHash: string;
  readonly tenantId: string;
  readonly stack: string;
  readonly changes: readonly C[];
}

/** What apply tells a recorder. Changes are told apart by identity: the ones of the plan given to `start`. */
export interface ApplyEvidenceRecorder<C extends RecordableChange = RecordableChange> {
  start(plan: RecordablePlan<C>): void;
  /** Before each write: the intent, with the resource as read just before it. */
  intent(change: C, before: unknown): void;
  change(outcome: RecordableOutcome<C>): void;
  end(outcomes: readonly RecordableOutcome<C>[], exitCode: number): void;
}

/**
 * Records one apply run: `apply-start`; for each change an `intent` just before its write and a
 * `change` record once it completed; then at the end a `skipped` change record for each planned
 * change that was not attempted, and `apply-end`.
 * An append that fails throws, which stops the apply: no further write goes unrecorded.
 */
export function applyRecorder<C extends RecordableChange = RecordableChange>(trail: EvidenceTrail, runId: string, actor: EvidenceActor): ApplyEvidenceRecorder<C> {
  let current: RecordablePlan<C> | undefined;
  const intents = new Map<C, number>();
  const about = (c: C) => ({
    findingId: c.findingId,
    control: c.control,
    resource: { type: c.resource.type, id: c.resource.id, name: c.resource.name },
    action: c.action,
    write: c.write,
    ...(c.rollbackOf ? { rollbackOf: c.rollbackOf } : {}),
  });
  const changeRecord = (c: C, result: 'applied' | 'failed' | 'skipped', before: unknown, after: unknown, error?: string, settled?: string): EvidenceInput => ({
    kind: 'change',
    runId,
    actor,
    planHash: current!.planHash,
    ...about(c),
    before: before ?? null,
    after: after ?? null,
    result,
    ...(error !== undefined ? { error } : {}),
    ...(settled !== undefined ? { settled } : {}),
    ...(intents.has(c) ? { intent: intents.get(c)! } : {}),
  });
  return {
    start(plan) {
      current = plan;
      trail.append({ kind: 'apply-start', runId, actor, planHash: plan.planHash, desiredHash: plan.desiredHash, tenantId: plan.tenantId, stack: plan.stack, changes: plan.changes.length });
    },
    intent(change, before) {
      if (!current) throw new Error('evidence: an intent was recorded before apply-start');
      const record = trail.append({ kind: 'intent', runId, actor, planHash: current.planHash, ...about(change), before: before ?? null });
      intents.set(change, record.seq);
    },
    change(outcome) {
      if (!current) throw new Error('evidence: a change was recorded before apply-start');
      trail.append(changeRecord(outcome.change, outcome.result, outcome.before !== undefined ? outcome.before : outcome.change.before, outcome.after, outcome.error, outcome.settled));
    },
    end(outcomes, exitCode) {
      if (!current) throw new Error('evidence: apply-end was recorded before apply-start');
      const attempted = new Set(outcomes.map((o) => o.change));
      const skipped = current.changes.filter((c) => !attempted.has(c));
      for (const c of skipped) trail.append(changeRecord(c, 'skipped', c.before, null, 'not attempted: apply stopped at the first failure'));
      const applied = outcomes.filter((o) => o.result === 'applied').length;
      trail.append({ kind: 'apply-end', runId, actor, planHash: current.planHash, counts: { applied, failed: outcomes.length - applied, skipped: skipped.length }, exitCode });
    },
  };
}

/** An apply run that has an `apply-start` and no `apply-end`: it was killed, or is still running. */
export interface InterruptedApply {
  readonly start: ApplyStartEvidenceRecord;
  /** Its `change` records so far. */
  readonly changes: readonly ChangeEvidenceRecord[];
  /** Its intents without an outcome: the write each names was being sent when the run stopped. */
  readonly pending: readonly IntentEvidenceRecord[];
  /** Whether the run recorded intents at all (trails of earlier versions do not). */
  readonly recordsIntents: boolean;
}

/** The apply runs of a trail that began and did not end, in file order. Pure. */
export function interruptedApplies(records: readonly EvidenceRecord[]): InterruptedApply[] {
  const ended = new Set(records.filter((r) => r.kind === 'apply-end').map((r) => r.runId));
  return records
    .filter((r): r is ApplyStartEvidenceRecord => r.kind === 'apply-start' && !ended.has(r.runId))
    .map((start) => {
      const ofRun = records.filter((r) => r.runId === start.runId);
      const changes = ofRun.filter((r): r is ChangeEvidenceRecord => r.kind === 'change');
      const intents = ofRun.filter((r): r is IntentEvidenceRecord => r.kind === 'intent');
      const answered = new Set(changes.map((c) => c.intent).filter((n): n is number => n !== undefined));
      return { start, changes, pending: intents.filter((i) => !answered.has(i.seq)), recordsIntents: intents.length > 0 };
    });
}

/** A refusal to record: everything but what the trail and the run id add. */
/** The `refusal` record of an apply or rollback that refused. */
export function refusalEvidence(runId: string, actor: EvidenceActor, refusal: RefusalInput): EvidenceInput {
  return { kind: 'refusal', runId, actor, ...refusal };
}

