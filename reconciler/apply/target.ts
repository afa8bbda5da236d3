import type { Connection } from '../input/connection.js';
import { withoutAnnotations } from '../core/annotations.js';
import type { Write } from '../model/change.js';
import { sameJson } from '../core/json.js';
import { redactSecrets } from '../core/redact.js';
import { writableType } from '../resources/registry.js';
import type { ResourceType, Writable } from '../resources/types.js';

/** The writable resource type a stored change names; preflight has refused any other before a write is read or sent. */
export function writable(type: string): ResourceType & Writable {
  const t = writableType(type);
  if (typeof t === 'string') throw new Error(t);
  return t;
}

/**
 * The resource a write acts on, read as the service returns it, by its resource type: `null` when
 * it does not exist, and for a write that creates, what already holds the same. Apply records it as
 * the change's before-value; rollback restores it.
 */
export async function readTarget(conn: Connection, type: string, w: Write): Promise<unknown> {
  return writable(type).readTarget(conn, w);
}

/**
 * A read value in the form the evidence trail stores it (annotations dropped, secrets redacted,
 * plain JSON), so a value read now compares equal to one recorded earlier.
 */
export function snapshot(value: unknown): unknown {
  return JSON.parse(JSON.stringify(redactSecrets(withoutAnnotations(value ?? null)) ?? null)) as unknown;
}

/** What a read says about a write whose outcome is not known (its answer was lost, or the run was killed). */
export type Settled =
  | { readonly outcome: 'took'; readonly value: unknown; /** For a create: what it created, with its id. */ readonly created?: unknown }
  | { readonly outcome: 'not-taken' | 'unclear'; readonly value: unknown; readonly reason: string };

/**
 * Reads the resource a write acts on and says whether the write took, by its type's one rule: a
 * create finds what it created, a delete finds the resource gone, any other write finds what it
 * wrote. `before` is the resource as read before the write (as {@link snapshot} gives it). Never writes.
 */
export async function settleWrite(conn: Connection, type: string, w: Write, before: unknown): Promise<Settled> {
  const t = writable(type);
  const unchanged = (value: unknown) => sameJson(snapshot(value), snapshot(before));
  const notTaken = (value: unknown): Settled =>
    unchanged(value) ? { outcome: 'not-taken', value, reason: 'a read shows the resource as it was before the write' } : { outcome: 'unclear', value, reason: 'a read shows the resource neither as it was before the write nor as written' };
  const read = await t.readBack(conn, w);
  if ('unclear' in read) return { outcome: 'unclear', value: null, reason: read.unclear };
  const value = read.value;
  switch (t.effect(w)) {
    case 'create':
      return value !== null ? { outcome: 'took', value, created: value } : { outcome: 'not-taken', value: null, reason: 'what it creates does not exist' };
    case 'delete':
      return value === null ? { outcome: 'took', value: null } : notTaken(value);
    case 'update':
      if (value === null) return { outcome: 'unclear', value, reason: 'the object it sets no longer exists' };
      return t.took(w, value, before) === undefined ? { outcome: 'took', value } : notTaken(value);
  }
}
