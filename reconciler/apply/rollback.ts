import { resolveControl } from '../../policies/catalogue.js';
import type { ApplyStartEvidenceRecord, ChangeEvidenceRecord, EvidenceRecord } from '../evidence/records.js';
import type { PlannedChange, Write } from '../model/change.js';
import type { RestoredFinding } from '../model/plan.js';
import { REDACTED } from '../core/redact.js';
import { isReversible, writableType } from '../resources/registry.js';
import { writeProblemFor } from './writes.js';

/** The reverse of one recorded change, before the live state is read. */
export interface ReverseStep {
  readonly record: ChangeEvidenceRecord;
  readonly write: Write;
  readonly action: PlannedChange['action'];
  /** The resource as the rollback addresses it (a created policy now has an id). */
  readonly resource: PlannedChange['resource'];
}

/** A recorded change that rollback cannot reverse, and why. */
export interface Irreversible {
  readonly record: ChangeEvidenceRecord;
  readonly reason: string;
}

/**
 * The write that undoes a recorded change, by the resource type the record stores: that type's
 * inverse of its recorded write and before-value (and, for a created resource, its after-value).
 * A type the registry does not know is refused, never guessed. Pure: reads nothing.
 */
export function reverseOf(record: ChangeEvidenceRecord): ReverseStep | Irreversible | undefined {
  const w = record.write;
  const no = (reason: string): Irreversible => ({ record, reason });
  if (!w) return no('the record does not hold the write that was made');
  const type = writableType(record.resource?.type);
  if (typeof type === 'string') return no(`its resource type cannot be undone by this version (${type})`);
  const recorded = writeProblemFor(type.key, w);
  if (recorded) return no(`its recorded write is not one apply makes (${recorded}), so it cannot be trusted to say what to reverse`);
  if (JSON.stringify(record.before ?? null).includes(REDACTED)) return no('its recorded before-value has redacted parts, which cannot be written back');
  if (!isReversible(type)) return no(`a change to ${type.title} cannot be undone by a rollback`);
  const inverse = type.inverse({ resource: record.resource, write: w, before: record.before, after: record.after });
  if (inverse === undefined) return undefined;
  if (typeof inverse === 'string') return no(inverse);
  const problem = writeProblemFor(type.key, inverse.write);
  return problem ? no(`its reverse would not be a write apply makes (${problem})`) : { record, write: inverse.write, action: inverse.action, resource: inverse.resource ?? record.resource };
}

/**
 * The reverse steps of one apply run, last change first. Only changes that were applied are
 * reversed; a change that failed may have been partly made and is named as irreversible.
 */
export function reverseRun(records: readonly EvidenceRecord[]): { steps: ReverseStep[]; irreversible: Irreversible[] } {
  const steps: ReverseStep[] = [];
  const irreversible: Irreversible[] = [];
  const changes = records.filter((r): r is ChangeEvidenceRecord => r.kind === 'change');
  for (const record of [...changes].reverse()) {
    if (record.result === 'skipped') continue;
    if (record.result === 'failed') {
      irreversible.push({ record, reason: `it failed during the run (${record.error ?? 'no detail'}) and may have been partly made: check it by hand` });
      continue;
    }
    const r = reverseOf(record);
    if (!r) continue;
    if ('reason' in r) irreversible.push(r);
    else steps.push(r);
  }
  return { steps, irreversible };
}

/**
 * What a rollback of one apply run consists of, from the whole trail: the run's apply-start, the
 * reverse steps of its applied changes not already undone by an earlier rollback, and what cannot be
 * reversed. `undone` counts changes an earlier rollback already reversed.
 */
export function planRollback(records: readonly EvidenceRecord[], runId: string): { start?: ApplyStartEvidenceRecord; steps: ReverseStep[]; irreversible: Irreversible[]; undone: number } {
  const ofRun = records.filter((r) => r.runId === runId);
  const start = ofRun.find((r): r is ApplyStartEvidenceRecord => r.kind === 'apply-start');
  const undoneSeqs = new Set(
    records.filter((r): r is ChangeEvidenceRecord => r.kind === 'change' && r.result === 'applied' && r.rollbackOf?.runId === runId).map((r) => r.rollbackOf!.seq),
  );
  const { steps, irreversible } = reverseRun(ofRun.filter((r) => !(r.kind === 'change' && undoneSeqs.has(r.seq))));
  return { ...(start ? { start } : {}), steps, irreversible, undone: undoneSeqs.size };
}

/**
 * How many rollbacks deep a recorded change is: 0 for a change an apply made for a finding, 1 for
 * a rollback's change that undid it, 2 for one that undid that rollback, and so on. A change whose
 * `rollbackOf` names no change of the trail counts as 0 (a fix), so undoing it is never taken for
 * harmless.
 */
function rollbackDepth(record: ChangeEvidenceRecord, records: readonly EvidenceRecord[]): number {
  let depth = 0;
  const seen = new Set<ChangeEvidenceRecord>();
  for (let r: ChangeEvidenceRecord | undefined = record; r?.rollbackOf && !seen.has(r); ) {
    seen.add(r);
    const of: { runId: string; seq: number } = r.rollbackOf;
    r = records.find((x): x is ChangeEvidenceRecord => x.kind === 'change' && x.runId === of.runId && x.seq === of.seq);
    if (!r) return 0;
    depth++;
  }
  return depth;
}

/**
 * The findings a rollback brings back: every step that undoes a security fix. A change an apply
 * made for a finding is a fix; a rollback's change that undid it brought the finding back, so
 * undoing that makes the fix again; undoing a rollback of a rollback brings the finding back once
 * more. A step restores its finding when the change it reverses is an even number of rollbacks
 * deep, followed through `records` (the whole trail). Pure.
 */
export function findingsRestored(steps: readonly Pick<ReverseStep, 'record'>[], records: readonly EvidenceRecord[]): RestoredFinding[] {
  return steps
    .filter((s) => rollbackDepth(s.record, records) % 2 === 0)
    .map(({ record }) => {
      const found = resolveControl(record.control.replace(/v[0-9]+$/, ''));
      const control = 'control' in found ? found.control : undefined;
      return {
        findingId: record.findingId,
        control: record.control,
        // A response action is no catalogue control: say which action it was.
        title: control?.title ?? (record.control.startsWith('respond.') ? `the response action ${record.control.slice('respond.'.length)} (posture respond)` : record.control),
        severity: control?.severity ?? 'unknown',
        resource: { type: record.resource.type, id: record.resource.id, name: record.resource.name },
      };
    });
}
