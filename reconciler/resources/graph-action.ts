import type { Permission } from '../../policies/types.js';
import type { Connection } from '../input/connection.js';
import type { Write } from '../model/change.js';
import { canonicalJson } from '../core/json.js';
import { readGraph, graphWriteOf } from './graph-entity.js';
import type { ReadBack, ResourceType, Respondable, ResponseTarget, ResponseWrite, Writable } from './types.js';

type GraphWrite = Write & { api: 'graph' };

/** What a Graph action type declares: a POST that acts on a target read at another path. */
export interface GraphActionSpec {
  readonly key: string;
  readonly title: string;
  readonly writes: ReadonlyArray<readonly ['POST', string]>;
  readonly writePermissions: readonly Permission[];
  /** The path the action's target is read at (`null` when it does not exist). */
  targetPath(w: GraphWrite): string;
  /** The rule for whether the action took, from the target before and after it. */
  took(after: unknown, before: unknown): string | undefined;
  readonly responds: readonly string[];
  respondWrites(action: string, target: ResponseTarget, conn: Connection): Promise<ResponseWrite[]>;
}

const graphOnly = (w: Write): GraphWrite => graphWriteOf(w, 'Graph actions');

/**
 * A Graph action (revokeSignInSessions, confirmCompromised): a POST whose effect is read at its
 * target. Never planned from a finding (only `posture respond` makes it), never reversible: the
 * service offers no undo (a revoked session stays revoked).
 */
export function graphAction(spec: GraphActionSpec): ResourceType & Writable & Respondable {
  return {
    key: spec.key,
    title: spec.title,
    writes: { graph: spec.writes },
    writePermissions: spec.writePermissions,
    writeFor: () => undefined,
    readTarget: (conn, w) => readGraph(conn, spec.targetPath(graphOnly(w))),
    async readBack(conn, w): Promise<ReadBack> {
      return { value: await readGraph(conn, spec.targetPath(graphOnly(w))) };
    },
    took: (_w, after, before) => spec.took(after, before),
    effect: () => 'update',
    targetKey: (w) => `graph ${spec.targetPath(graphOnly(w)).toLowerCase()} ${canonicalJson(graphOnly(w).body ?? null)}`,
    responds: spec.responds,
    respondWrites: spec.respondWrites,
  };
}
