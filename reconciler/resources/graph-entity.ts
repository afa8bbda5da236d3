import type { Permission } from '../../policies/types.js';
import { withoutAnnotations } from '../core/annotations.js';
import type { Connection } from '../input/connection.js';
import type { Write } from '../model/change.js';
import type { Finding } from '../model/finding.js';
import { canonicalJson } from '../core/json.js';
import { errorOf } from '../transport/graph.js';
import { differs, isObj, pickLike, writable } from './compare.js';
import type { Inverse, Obj, ReadBack, ReadSpec, RecordedChange, ResourceType, Reversible, Writable, WriteContext } from './types.js';

type GraphWrite = Write & { api: 'graph' };
type Method = GraphWrite['method'];

/** The Graph entity at a path, without annotations; `null` when the service answers 404. */
export async function readGraph(conn: Connection, path: string): Promise<unknown> {
  const reply = await conn.graph.request<Obj>('GET', path);
  if (reply.status === 404) return null;
  if (reply.status >= 400) throw errorOf(reply, path);
  return withoutAnnotations(reply.body);
}

/** What a Graph entity type declares; {@link graphEntity} makes the rest. */
export interface GraphEntitySpec {
  readonly key: string;
  readonly title: string;
  readonly read?: ReadSpec;
  /** Every write of the type, as method and route; `{id}` is one path segment. */
  readonly writes: ReadonlyArray<readonly [Method, string]>;
  readonly writePermissions: readonly Permission[];
  writeFor(f: Finding, ctx: WriteContext): Write | undefined;
  /** For a create: the items that already hold what it would create. Without it, a create finds nothing before it, and only the id it answers with after. */
  findCreated?(conn: Connection, w: GraphWrite): Promise<Obj[]>;
  /** For a delete: the target read after it (default: a GET of its path, 404 = gone). */
  readDeleted?(conn: Connection, w: GraphWrite): Promise<unknown>;
  /** The rule for whether a PATCH, PUT or POST took (default: every property written reads back, loosely compared). */
  took?(w: GraphWrite, after: Obj): string | undefined;
  /** How a deleted one is made again from its recorded value; without it, a delete cannot be undone. */
  recreate?(before: Obj, w: GraphWrite): GraphWrite;
  /** Whether rollback may undo its changes at all (default true). */
  readonly reversible?: boolean;
}

/** A write of a Graph type as a Graph write; `what` names the type in the error a write of another API gets. */
export const graphWriteOf = (w: Write, what: string): Write & { api: 'graph' } => {
  if (w.api !== 'graph') throw new Error(`${what} ${what.endsWith('s') ? 'are' : 'is'} written with Graph, not with ${w.cmdlet}`);
  return w;
};
const graphOnly = (w: Write): GraphWrite => graphWriteOf(w, 'a Graph entity');

/** A Graph entity written with POST, PATCH, PUT and DELETE: reads, read-back, the rule for "it took", and the inverse, from a few lines of data. */
export function graphEntity(spec: GraphEntitySpec): ResourceType & Writable & Partial<Reversible> {
  const byId = (w: GraphWrite, id: string) => `${w.path}/${encodeURIComponent(id)}`;
  const type: ResourceType & Writable = {
    key: spec.key,
    title: spec.title,
    ...(spec.read ? { read: spec.read } : {}),
    writes: { graph: spec.writes },
    writePermissions: spec.writePermissions,
    writeFor: spec.writeFor,
    async readTarget(conn, write) {
      const w = graphOnly(write);
      if (w.method !== 'POST') return readGraph(conn, w.path);
      const found = spec.findCreated ? await spec.findCreated(conn, w) : [];
      return found[0] ? withoutAnnotations(found[0]) : null;
    },
    async readBack(conn, write, created): Promise<ReadBack> {
      const w = graphOnly(write);
      if (w.method === 'DELETE') return { value: spec.readDeleted ? await spec.readDeleted(conn, w) : await readGraph(conn, w.path) };
      if (w.method !== 'POST') return { value: await readGraph(conn, w.path) };
      const id = isObj(created) ? created['id'] : undefined;
      if (typeof id === 'string' && id) return { value: await readGraph(conn, byId(w, id)) };
      if (created !== undefined) return { unclear: 'the service did not return the id of what it created' };
      const found = spec.findCreated ? await spec.findCreated(conn, w) : [];
      if (found.length > 1) return { unclear: `${found.length} items hold what it creates` };
      return { value: found[0] ? withoutAnnotations(found[0]) : null };
    },
    took(write, after) {
      const w = graphOnly(write);
      if (w.method === 'DELETE') return after === null ? undefined : 'it still exists';
      if (!isObj(after)) return 'it cannot be read back';
      return spec.took ? spec.took(w, after) : differs(w.body ?? {}, after);
    },
    effect(write) {
      const { method } = graphOnly(write);
      return method === 'POST' ? 'create' : method === 'DELETE' ? 'delete' : 'update';
    },
    targetKey(write) {
      const w = graphOnly(write);
      return w.method === 'POST' ? `graph ${w.path.toLowerCase()} ${canonicalJson(w.body ?? null)}` : `graph ${w.path.toLowerCase()}`;
    },
  };
  if (spec.reversible === false) return type;
  return {
    ...type,
    inverse(record: RecordedChange): Inverse | string | undefined {
      const w = graphOnly(record.write);
      const { before, after } = record;
      switch (w.method) {
        case 'PATCH':
          if (!isObj(before)) return 'the resource did not exist before the change';
          return { write: { api: 'graph', method: 'PATCH', path: w.path, body: pickLike(before, w.body ?? {}) }, action: 'update' };
        case 'PUT':
          if (!isObj(before)) return 'the resource did not exist before the change';
          return { write: { api: 'graph', method: 'PUT', path: w.path, body: writable(before) }, action: 'update' };
        case 'POST': {
          const id = isObj(after) ? after['id'] : undefined;
          if (typeof id !== 'string' || !id) return 'the id of the created resource was not recorded';
          return { write: { api: 'graph', method: 'DELETE', path: byId(w, id) }, action: 'delete', resource: { ...record.resource, id } };
        }
        case 'DELETE':
          if (!isObj(before)) return 'the deleted resource was not recorded';
          if (!spec.recreate) return `a deletion at ${w.path} cannot be undone`;
          return { write: spec.recreate(before, w), action: 'create' };
      }
    },
  };
}

/** The read of a Graph collection (every page) or singleton into its section. */
export const graphRead = (section: ReadSpec['section'], kind: 'graph-list' | 'graph-get', path: string, permissions: readonly Permission[], licence?: string): ReadSpec => ({
  section,
  how: { kind, path },
  permissions,
  ...(licence ? { licence } : {}),
});
