import type { Argv } from 'yargs';
import type { Manifest } from '../manifest/schema.js';
import type { LiveState } from '../model/live.js';
import { desiredHashOf } from '../plan/build.js';
import { readIncremental, type IncrementalRun } from '../read/incremental/read.js';
import { loadState, saveState, statePathFor } from '../read/incremental/store.js';
import type { ReadContext } from '../resources/types.js';
import type { AuditLogPolling } from '../read/audit-log.js';
import { terminalSafe } from '../core/text.js';
import { InputError } from '../input/synth-output.js';
import { evidenceFile } from './evidence.js';

/** `posture drift --incremental`, `--full` and `--rotation-period`. */
export function incrementalOptions<T>(y: Argv<T>) {
  return y
    .option('incremental', {
      type: 'boolean',
      default: false,
      describe: 'Read only what changed since the last incremental run (delta queries, mailboxes changed since, the audit log), from a state kept beside the evidence trail; a full read when there is none',
    })
    .option('full', { type: 'boolean', default: false, describe: 'With --incremental: read everything this run, and keep the state it gives' })
    .option('rotation-period', {
      type: 'number',
      default: 7,
      describe: 'With --incremental: every mailbox is read in full again within this many runs, whatever the audit log says (1 to 90)',
    });
}

export interface IncrementalArgs {
  readonly incremental: boolean;
  readonly full: boolean;
  readonly 'rotation-period': number;
  readonly evidence: string | false;
}

/**
 * Audit log queries take from seconds to minutes in the service: polled after 250 ms, then twice as
 * long each time up to every 4 s (well within the security API's 150 requests a minute), for up to
 * 15 minutes; without its answer every mailbox is read.
 */
function auditPolling(): AuditLogPolling {
  let next = 250;
  return {
    intervalMs: 4_000,
    maxWaitMs: 15 * 60_000,
    sleep: (ms) => {
      const wait = Math.min(ms, next);
      next = Math.min(next * 2, 4_000);
      return new Promise((resolve) => setTimeout(resolve, wait));
    },
  };
}

export interface IncrementalSetup {
  readonly statePath: string;
  readonly readLive: (m: Manifest, ctx: ReadContext) => Promise<LiveState>;
  /** After the run: keeps the state when the run read everything it needed; what to log. */
  finish(complete: boolean): string[];
}

/**
 * The incremental read of a drift run, or undefined without `--incremental`. The state file is the
 * evidence trail's (`<trail>.drift-state.json`): a run without a trail has no state to keep.
 */
export function incrementalSetup(args: IncrementalArgs, tenantId: string): IncrementalSetup | undefined {
  if (!args.incremental) {
    if (args.full) throw new InputError('--full reads in full an incremental run: it is given with --incremental');
    return undefined;
  }
  const period = args['rotation-period'];
  if (!Number.isInteger(period) || period < 1 || period > 90) throw new InputError(`--rotation-period ${JSON.stringify(period)} is not a whole number of runs from 1 to 90`);
  const trail = evidenceFile(args.evidence);
  if (trail === undefined) throw new InputError('--incremental keeps its state beside the evidence trail: it cannot be used with --no-evidence');
  const statePath = statePathFor(trail);
  const loaded = loadState(statePath);
  let run: IncrementalRun | undefined;
  return {
    statePath,
    readLive: async (m, ctx) => {
      run = await readIncremental(m, ctx, {
        tenantId, desiredHash: desiredHashOf(m), state: loaded.state, period, auditPolling: auditPolling(),
        ...(args.full ? { full: true } : {}),
        ...(ctx.now ? { now: ctx.now } : {}),
      });
      return run.live;
    },
    finish(complete) {
      if (!run) return [];
      const lines: string[] = [];
      if (loaded.problem) lines.push(`the incremental state could not be used: ${terminalSafe(loaded.problem)}`);
      if (run.mode.kind === 'full') lines.push(`read in full: ${terminalSafe(run.mode.reason)}`);
      else lines.push(`read incrementally: ${run.mailboxesRead} of ${run.mailboxesKept} mailboxes read again${run.audit ? `, ${run.audit.records} audit records from ${run.audit.start} to ${run.audit.end}` : ''}`);
      if (run.audit?.problem !== undefined) lines.push(`the audit log could not be read (${terminalSafe(run.audit.problem)}): every mailbox was read again`);
      for (const c of run.resynced) lines.push(`the delta link of ${terminalSafe(c)} was refused by the service: read again in full`);
      if (complete && run.state) {
        saveState(statePath, run.state);
        lines.push(`incremental state kept in ${statePath}`);
      } else lines.push('the run is incomplete: the incremental state was not changed');
      return lines;
    },
  };
}
