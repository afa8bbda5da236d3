import { existsSync, readFileSync } from 'node:fs';
import { ApplyRefused, applyChanges, type ApplyOptions, type ChangeOutcome } from '../apply/apply.js';
import { takeRunLock, type RunLock } from '../apply/lock.js';
import { settleInterrupted } from '../apply/settle.js';
import { applyRecorder, newRunId, refusalEvidence, type RecordablePlan } from '../evidence/recorder.js';
import { trailRecords } from '../evidence/verify.js';
import { type EvidenceActor, type RefusalInput } from '../evidence/records.js';
import { type EvidenceTrail } from '../evidence/store.js';
import type { Connection } from '../input/connection.js';
import { actorOf, evidenceFile, openEvidence } from './evidence.js';
import { printable, type Logger } from './log.js';
import { describeChange, type PlannedChange } from '../model/change.js';
import { terminalSafe } from '../core/text.js';

/** What apply and rollback hold while they run. */
export interface OpenRun {
  readonly lock: RunLock;
  readonly trail: EvidenceTrail | undefined;
  readonly runId: string;
  readonly actor: EvidenceActor;
}

/**
 * What apply and rollback do before anything else: take the run lock of the tenant and the
 * evidence trail (refused, naming the holder, when another run has it), open the trail (checking
 * `expectHead`), and settle any apply run of the trail that was interrupted: read what it was
 * writing, and record the outcome and its end. Nothing is written to the tenant.
 */
export async function openRun(o: {
  conn: Connection;
  evidence: string | false | undefined;
  expectHead?: string | undefined;
  log: Logger;
  /** What the run tries, for the refusal record when an interrupted run cannot be settled. */
  attempt?: () => Omit<RefusalInput, 'reason' | 'message'>;
}): Promise<OpenRun> {
  const file = evidenceFile(o.evidence);
  const lock = await takeRunLock({ tenant: await lockedTenant(o.conn), ...(file !== undefined ? { trail: file } : {}), notice: (m) => o.log.warn(m) });
  try {
    const trail = openEvidence(o.evidence, o.expectHead);
    const runId = newRunId();
    const actor = trail ? await actorOf(o.conn) : { kind: 'unknown' as const, id: 'unknown' };
    if (trail && existsSync(trail.path)) {
      let settlements;
      try {
        settlements = await settleInterrupted(trailRecords(readFileSync(trail.path, 'utf8')), o.conn, { runId, actor });
      } catch (err) {
        if (err instanceof ApplyRefused && o.attempt) recordRefusal({ lock, trail, runId, actor }, err, o.attempt(), o.log);
        throw err;
      }
      for (const s of settlements) {
        for (const r of s.records) trail.append(r);
        o.log.warn(`apply run ${terminalSafe(String(s.run.start.runId))} (started ${terminalSafe(String(s.run.start.time))}) was interrupted and never ended: ${s.lines.join('; ')}. Recorded in the evidence trail; its end record now says so`);
      }
    }
    return { lock, trail, runId, actor };
  } catch (err) {
    await lock.release();
    throw err;
  }
}

/**
 * The tenant a run writes to, as one name: the tenant id (`tid`) its Graph token was issued for,
 * so that a run given the initial domain and one given the id take the same lock. The name given
 * on the command line when the token says nothing (not a JWT, or none to be had yet).
 */
async function lockedTenant(conn: Connection): Promise<string> {
  let token: string;
  try {
    token = await conn.tokens.token('graph');
  } catch {
    return conn.tenant;
  }
  try {
    const claims = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as Record<string, unknown>;
    const tid = claims['tid'];
    if (typeof tid === 'string' && /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(tid)) return tid.toLowerCase();
  } catch {
    // Not a JWT: the service judges it, and the lock takes the name given.
  }
  return conn.tenant;
}

/** Records a refusal in the trail (when there is one); says so on stderr when even that fails. */
export function recordRefusal(run: OpenRun | undefined, err: ApplyRefused, what: Omit<RefusalInput, 'reason' | 'message'>, log: Logger): void {
  if (!run?.trail) return;
  try {
    run.trail.append(refusalEvidence(run.runId, run.actor, { ...what, reason: err.reason, message: err.message }));
  } catch (e) {
    log.warn(`the refusal could not be recorded in the evidence trail (${(e as Error).message})`);
  }
}

/** What a recorded apply of some changes came to. */
export interface RecordedApply {
  readonly outcomes: readonly ChangeOutcome[];
  /** 0: every change applied and verified; 1: one failed, or could not be recorded. */
  readonly code: 0 | 1;
  /** Whether the run's end is on record. */
  readonly ended: boolean;
  /** The closing line for stdout. */
  readonly summary: string;
}

/**
 * Applies changes under the run's lock (several at once, as `options` allow), each recorded in the
 * trail: the intent before its write, the outcome after it (a change that cannot be recorded stops
 * the run), in the fixed order `applyChanges` gives them, then the run's end.
 * Prints each outcome to `out` as it comes (stderr when stdout carries a JSON document). Used by apply
 * and by respond's automatic actions.
 */
export async function applyRecorded(p: RecordablePlan<PlannedChange>, conn: Connection, run: OpenRun, command: string, out: NodeJS.WritableStream = process.stdout, options: ApplyOptions = {}): Promise<RecordedApply> {
  const recorder = run.trail ? applyRecorder<PlannedChange>(run.trail, run.runId, run.actor) : undefined;
  recorder?.start(p);
  let unrecorded: string | undefined;
  let notStarted: string | undefined;
  const outcomes = await applyChanges(p, conn, {
    beforeWrite: (change, before) => {
      // The intent is on disk before the write is sent; and no write starts without the lock.
      try {
        run.lock.assertHeld();
        recorder?.intent(change, before);
        return true;
      } catch (err) {
        notStarted = `${describeChange(change)} was not sent: ${(err as Error).message}`;
        process.stderr.write(printable(`posture ${command}: ${terminalSafe(notStarted)}; ${command} stopped\n`));
        return false;
      }
    },
    onChange: (o) => {
      out.write(printable(`  ${o.result === 'applied' ? 'applied' : 'FAILED '} ${terminalSafe(describeChange(o.change))}${o.error ? `\n    ${terminalSafe(o.error)}` : ''}${o.settled ? `\n    ${terminalSafe(o.settled)}` : ''}\n`));
      try {
        recorder?.change(o);
        return true;
      } catch (err) {
        // No write goes unrecorded: stop here, and say plainly which change the trail is missing.
        unrecorded = `${o.result === 'applied' ? 'was applied' : 'failed'} but could not be recorded in the evidence trail (${(err as Error).message})`;
        process.stderr.write(printable(`posture ${command}: ${terminalSafe(describeChange(o.change))} ${terminalSafe(unrecorded)}; ${command} stopped\n`));
        return false;
      }
    },
  }, options);
  const failed = outcomes.filter((o) => o.result === 'failed');
  const code = failed.length || unrecorded || notStarted ? 1 : 0;
  let ended = !unrecorded;
  if (!unrecorded) {
    try {
      recorder?.end(outcomes, code);
    } catch (err) {
      ended = false;
      process.stderr.write(printable(`posture ${command}: the end of the run could not be recorded in the evidence trail (${terminalSafe((err as Error).message)})\n`));
    }
  }
  const summary = unrecorded
    ? `Apply stopped: the last change ${terminalSafe(unrecorded)}. ${p.changes.length - outcomes.length} not attempted. Keep the evidence file as it is, and record what happened by hand.\n`
    : notStarted
      ? `Apply stopped before a write: ${outcomes.length - failed.length} applied, ${p.changes.length - outcomes.length} not attempted.\n`
      : failed.length
        ? `Apply stopped at the first failure: ${outcomes.length - failed.length} applied, ${failed.length} failed, ${p.changes.length - outcomes.length} not attempted. Run ${command === 'apply' ? 'plan and apply' : command} again once the cause is fixed.\n`
        : `Apply complete: ${outcomes.length} change${outcomes.length === 1 ? '' : 's'} applied and verified.\n`;
  return { outcomes, code, ended, summary };
}
