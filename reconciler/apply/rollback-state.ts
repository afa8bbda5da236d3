import type { Connection } from '../input/connection.js';
import { fingerprintOf, labelOf } from '../model/change.js';
import { terminalSafe } from '../core/text.js';
import { sameJson } from '../core/json.js';
import type { ReverseStep } from './rollback.js';
import { readTarget, snapshot, writable } from './target.js';

/** What a rollback step will act on, as read now. */
export interface StepState {
  readonly value: unknown;
  readonly fingerprint: string;
  readonly readAt: string;
}

/**
 * Reads the resource each step acts on (by the resource type its record stores) and checks that it
 * is still what the run left: the value recorded after the run's last change to it. Steps are in
 * rollback order (last change first), so the first step on a resource is the one whose recorded
 * after-value must be live; an earlier change to the same resource finds its state restored by the
 * steps before it.
 */
export async function rollbackState(conn: Connection, runId: string, steps: readonly ReverseStep[]): Promise<{ states: Map<ReverseStep, StepState>; stale: string[] }> {
  const states = new Map<ReverseStep, StepState>();
  const stale: string[] = [];
  const seen = new Set<string>();
  for (const s of steps) {
    const type = s.record.resource.type;
    const readAt = new Date().toISOString();
    const value = snapshot(await readTarget(conn, type, s.write));
    states.set(s, { value, fingerprint: fingerprintOf(value), readAt });
    const key = `${type} ${writable(type).targetKey(s.write)}`;
    if (seen.has(key)) continue;
    seen.add(key);
    if (!sameJson(value, snapshot(s.record.after))) {
      stale.push(`${labelOf(s.record.resource)} ${s.record.action === 'delete' ? 'is back since' : 'changed since'} run ${runId} applied it at ${terminalSafe(String(s.record.time))}`);
    }
  }
  return { states, stale };
}
