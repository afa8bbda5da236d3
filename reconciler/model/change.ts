import { withoutAnnotations } from '../core/annotations.js';
import { canonicalJson } from '../core/json.js';
import { sha256 } from '../core/hash.js';
import { terminalSafe } from '../core/text.js';
import type { FindingResource } from './finding.js';

type Obj = Record<string, unknown>;

/** One write to the tenant, exactly as apply will send it. */
export type Write =
  | { readonly api: 'graph'; readonly method: 'POST' | 'PATCH' | 'PUT' | 'DELETE'; readonly path: string; readonly body?: Obj }
  | { readonly api: 'exchange'; readonly cmdlet: string; readonly parameters: Obj };

/** A change of a saved plan: what to write, and the live state it was computed against. */
export interface PlannedChange {
  readonly findingId: string;
  readonly control: string;
  /** The resource, and its type: apply and rollback find what to do from `resource.type` through the registry. */
  readonly resource: FindingResource;
  readonly action: 'create' | 'update' | 'delete';
  /** SHA-256 of the live value the change was computed from; apply refuses when it has changed. */
  readonly fingerprint: string;
  readonly readAt: string;
  readonly write: Write;
  /** The live value the change was computed from (as the finding shows it). */
  readonly before: unknown;
  /** Set on the changes of a rollback plan: the apply run and evidence record the change undoes. */
  readonly rollbackOf?: { readonly runId: string; readonly seq: number };
}

/**
 * A resource as messages name it: its type and name on one line (a name anyone in the tenant can
 * set may hold a newline, which would forge a line of the message it is in).
 */
export const labelOf = (r: { readonly type: string; readonly name: string }) => `${terminalSafe(String(r.type))} "${terminalSafe(String(r.name))}"`;

/** One line for a change: sign, resource, control and the write. */
export const describeChange = (c: PlannedChange) =>
  `${c.action === 'create' ? '+' : c.action === 'delete' ? '-' : '~'} ${c.resource.type} "${c.resource.name}" (${c.control}): ${
    c.write.api === 'graph' ? `${c.write.method} ${c.write.path}` : c.write.cmdlet
  }`;

/** SHA-256 of a live value in canonical JSON, OData annotations left out: the same state always has the same fingerprint. */
export const fingerprintOf = (live: unknown) => sha256(canonicalJson(withoutAnnotations(live ?? null)));
