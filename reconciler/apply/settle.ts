import { interruptedApplies, type InterruptedApply } from '../evidence/recorder.js';
import { type EvidenceActor, type EvidenceInput, type EvidenceRecord } from '../evidence/records.js';
import { sameTenant, type Connection } from '../input/connection.js';
import { ApplyRefused } from './apply.js';
import { settleWrite, snapshot } from './target.js';
import { labelOf } from '../model/change.js';
import { terminalSafe } from '../core/text.js';

/** The records that end an interrupted apply run, and what to tell the person running this one. */
export interface Settlement {
  readonly run: InterruptedApply;
  readonly records: EvidenceInput[];
  /** One line per fact, for the log. */
  readonly lines: string[];
}

const what = (r: { resource: { type: string; name: string } }) => labelOf(r.resource);

/**
 * Settles the apply runs of a trail that began and never ended (a killed process): for the write
 * each was sending (its `intent` without an outcome), reads the target to learn whether it took,
 * and gives the `change` record saying so and the `apply-end` that closes the run. Reads, never
 * writes. The caller holds the run lock, so none of these runs is still going, and appends the
 * records to the trail. A run on another tenant cannot be read from this connection: refused.
 */
export async function settleInterrupted(records: readonly EvidenceRecord[], conn: Connection, by: { runId: string; actor: EvidenceActor }): Promise<Settlement[]> {
  const settlements: Settlement[] = [];
  for (const run of interruptedApplies(records)) {
    const { start } = run;
    if (!sameTenant(start.tenantId, conn.tenant)) {
      throw new ApplyRefused(
        `apply run ${terminalSafe(String(start.runId))} on tenant ${terminalSafe(String(start.tenantId))} was interrupted (record ${start.seq}) and is not settled: run apply or rollback for that tenant with this evidence trail first, so that what it wrote is read and recorded`,
        'interrupted-run',
      );
    }
    const at = new Date().toISOString();
    const out: EvidenceInput[] = [];
    const lines: string[] = [];
    let applied = run.changes.filter((c) => c.result === 'applied').length;
    let failed = run.changes.filter((c) => c.result === 'failed').length;
    for (const intent of run.pending) {
      const base = {
        kind: 'change' as const,
        runId: start.runId,
        actor: by.actor,
        planHash: intent.planHash,
        findingId: intent.findingId,
        control: intent.control,
        resource: intent.resource,
        action: intent.action,
        write: intent.write,
        ...(intent.rollbackOf ? { rollbackOf: intent.rollbackOf } : {}),
        before: intent.before ?? null,
        intent: intent.seq,
        settledBy: by.runId,
      };
      const prefix = `run ${terminalSafe(String(start.runId))} was interrupted while it sent this write (intent, record ${intent.seq}); run ${by.runId} read the target at ${at}`;
      let s;
      try {
        s = await settleWrite(conn, intent.resource.type, intent.write, intent.before ?? null);
      } catch (err) {
        throw new Error(`apply run ${terminalSafe(String(start.runId))} was interrupted while it wrote ${what(intent)}, and reading it to learn whether the write took failed (${(err as Error).message}); nothing was written`, { cause: err });
      }
      if (s.outcome === 'took') {
        applied++;
        out.push({ ...base, after: snapshot(s.created ?? s.value), result: 'applied', settled: `${prefix}: the write took` });
        lines.push(`its change to ${what(intent)} took (a read shows it): recorded as applied`);
      } else if (s.outcome === 'not-taken') {
        out.push({ ...base, after: null, result: 'skipped', error: `${prefix}: ${s.reason}, so the write did not take` });
        lines.push(`its change to ${what(intent)} did not take (${s.reason}): recorded as not made`);
      } else {
        failed++;
        out.push({ ...base, after: snapshot(s.value), result: 'failed', error: `${prefix}: ${s.reason}; check it by hand` });
        lines.push(`whether its change to ${what(intent)} took is not known (${s.reason}): recorded as failed; check it by hand`);
      }
    }
    const skipped = Math.max(0, start.changes - applied - failed);
    const older = run.recordsIntents ? '' : ' It recorded no intents (an earlier version made it): a write after its last record may have been made unrecorded; check the tenant against the plan by hand.';
    const settled = `the run was interrupted after ${run.changes.length + run.pending.length} of its ${start.changes} changes were begun, and never ended; run ${by.runId} settled it at ${at} by reading the tenant.${older}`;
    out.push({ kind: 'apply-end', runId: start.runId, actor: by.actor, planHash: start.planHash, counts: { applied, failed, skipped }, exitCode: 1, settled, settledBy: by.runId });
    if (!run.pending.length) lines.push(`no write was under way when it stopped${older}`);
    settlements.push({ run, records: out, lines });
  }
  return settlements;
}
