import { graphError, HttpError, type SimResponse } from '../http/errors.js';
import type { Collection, Entity } from '../tenant/collection.js';
import type { GraphCollectionName, Tenant } from '../tenant/tenant.js';
import { parseSelect, select } from './odata.js';
import { ctxUrl, type RouteContext } from './entity.js';

/**
 * Change tracking (delta query) of the directory collections, as Microsoft Graph runs it
 * ("Use delta query to track changes in Microsoft Graph data"): GET /<collection>/delta answers the
 * current state page by page behind `@odata.nextLink` (`$skiptoken`), then an `@odata.deltaLink`
 * (`$deltatoken`); that link later answers what changed since, an object changed or added in its
 * current state, one removed as `{ id, "@removed": { reason } }`. Changes made while a round is
 * paged come in the next round. Delta links of identity resources live seven days: an older one is
 * answered 400 `syncStateNotFound` ("The sync state generation is not found…"); a token the service
 * no longer holds (see {@link resetDeltaTokens}) is answered 410 Gone `resyncRequired`, and the
 * client starts again with a full synchronisation.
 *
 * Every mutation of a tracked collection goes through the collection's own insert, replace and
 * remove, which the journal wraps when the collection is first tracked: what a route handler, a
 * scenario's timeline or a test changes is recorded alike. Changes before that need no journal: a
 * first round reads the current state.
 */

/** How long a delta link is honoured, on the tenant's clock. */
export const DELTA_TOKEN_LIFETIME_MS = 7 * 24 * 3600_000;

/** Objects per page of a delta round. */
const DELTA_PAGE = 100;

interface Change {
  readonly seq: number;
  readonly id: string;
  readonly removed: boolean;
}

interface Journal {
  seq: number;
  /** Bumped by a synchronisation reset: tokens of an earlier generation are no longer held. */
  generation: number;
  readonly changes: Map<string, Change[]>;
  readonly tracked: Set<string>;
}

const journals = new WeakMap<Tenant, Journal>();

function journalOf(t: Tenant): Journal {
  let j = journals.get(t);
  if (!j) journals.set(t, (j = { seq: 0, generation: 0, changes: new Map(), tracked: new Set() }));
  return j;
}

/** Wraps a collection so that each insert, replace and remove is recorded in the tenant's journal. */
function tracking(j: Journal, name: string, inner: Collection): Collection {
  const list = j.changes.get(name) ?? [];
  j.changes.set(name, list);
  const record = (id: string, removed: boolean) => list.push({ seq: ++j.seq, id, removed });
  return {
    get size() {
      return inner.size;
    },
    at: (p) => inner.at(p),
    get: (id) => inner.get(id),
    findBy: (f, v) => inner.findBy(f, v),
    values: () => inner.values(),
    insert(item) {
      inner.insert(item);
      record(item.id, false);
    },
    replace(id, item) {
      inner.replace(id, item);
      record(item.id, false);
    },
    remove(id) {
      const item = inner.get(id);
      const gone = inner.remove(id);
      if (gone) record(item?.id ?? id, true);
      return gone;
    },
  };
}

/** Starts recording the changes of a tenant's collection (once); returns the journal. */
export function trackChanges(t: Tenant, name: GraphCollectionName): Journal {
  const j = journalOf(t);
  if (!j.tracked.has(name)) {
    j.tracked.add(name);
    t.graph[name] = tracking(j, name, t.graph[name]);
  }
  return j;
}

/** Drops every delta token issued so far: their next use is answered 410 Gone, as after a service-side reset. */
export function resetDeltaTokens(t: Tenant): void {
  const j = journalOf(t);
  j.generation++;
  // Nothing before the reset can be asked for again.
  for (const list of j.changes.values()) list.length = 0;
}

interface Token {
  /** The collection. */
  c: string;
  /** The journal's generation when issued. */
  g: number;
  /** Changes after this sequence number are the round's. */
  s: number;
  /** The round covers changes up to this one (fixed when it started). */
  u: number;
  /** When the delta link was issued (ms on the tenant's clock). */
  t: number;
  /** Initial round: the next position of the collection; a change round: the next change's index. */
  p: number;
  /** Whether this is the initial round (the current state) or a round of changes. */
  i: boolean;
  /** The round's $select. */
  sel?: string;
}

const encode = (tok: Token) => Buffer.from(JSON.stringify(tok)).toString('base64url');

function decode(raw: string): Token {
  try {
    const t = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8')) as Token;
    if (typeof t.c !== 'string' || ![t.g, t.s, t.u, t.t, t.p].every((n) => Number.isInteger(n) && n >= 0) || typeof t.i !== 'boolean') throw new Error('bad');
    return t;
  } catch {
    throw new HttpError(graphError(400, 'BadRequest', 'The delta token or skip token is not valid.'));
  }
}

export interface DeltaOptions {
  readonly typeName: string;
  /** Properties `$select` may name. */
  readonly known?: readonly string[];
  /** How an object is shown before `$select` (the entity's own view). */
  readonly render?: (c: RouteContext) => (item: Entity) => Record<string, unknown>;
  /** The reason a removed object carries: `changed` for objects soft-deleted (restorable), `deleted` for those gone for good. */
  readonly removedReason: 'changed' | 'deleted';
}

/** GET /<name>/delta: an initial round, a page of one, or a round of changes since a delta link. */
export function deltaRoute(name: GraphCollectionName, o: DeltaOptions) {
  return (c: RouteContext): SimResponse => {
    const j = trackChanges(c.tenant, name);
    const now = c.tenant.clock.now();
    const skip = c.query.get('$skiptoken');
    const delta = c.query.get('$deltatoken');
    let tok: Token;
    if (skip || delta) {
      tok = decode((skip ?? delta)!);
      if (tok.c !== name) throw new HttpError(graphError(400, 'BadRequest', 'The delta token or skip token is not valid.'));
      if (tok.g !== j.generation) {
        throw new HttpError(graphError(410, 'resyncRequired', 'The sync state is no longer held by the service; start again with a full synchronization.'));
      }
      if (delta) {
        if (now - tok.t > DELTA_TOKEN_LIFETIME_MS) {
          throw new HttpError(graphError(400, 'syncStateNotFound', 'The sync state generation is not found. The delta token is expired and data must be synchronized again.'));
        }
        // A new round of changes: those after the link's sequence number, up to now.
        tok = { c: name, g: tok.g, s: tok.u, u: j.seq, t: tok.t, p: 0, i: false, ...(tok.sel !== undefined ? { sel: tok.sel } : {}) };
      }
    } else {
      const sel = c.query.get('$select') ?? undefined;
      tok = { c: name, g: j.generation, s: j.seq, u: j.seq, t: now, p: 0, i: true, ...(sel !== undefined ? { sel } : {}) };
    }
    const query = new URLSearchParams(tok.sel !== undefined ? { $select: tok.sel } : {});
    const fields = parseSelect(query, o.known, o.typeName);
    const show = o.render ? o.render({ ...c, query }) : (i: Entity) => i;
    const coll = c.tenant.graph[name];
    const value: Record<string, unknown>[] = [];
    let p = tok.p;
    let more: boolean;
    if (tok.i) {
      for (; p < coll.size && value.length < DELTA_PAGE; p++) {
        const item = coll.at(p);
        if (item) value.push(select(show(item), fields));
      }
      while (p < coll.size && !coll.at(p)) p++;
      more = p < coll.size;
    } else {
      // The round's changes, each object once (at its last change), in the order of that change.
      const list = j.changes.get(name) ?? [];
      const inRound = list.filter((ch) => ch.seq > tok.s && ch.seq <= tok.u);
      const last = new Map<string, Change>();
      for (const ch of inRound) last.set(ch.id.toLowerCase(), ch);
      const ordered = [...last.values()].sort((a, b) => a.seq - b.seq);
      for (; p < ordered.length && value.length < DELTA_PAGE; p++) {
        const ch = ordered[p]!;
        const item = ch.removed ? undefined : coll.get(ch.id);
        value.push(item ? select(show(item), fields) : { id: ch.id, '@removed': { reason: o.removedReason } });
      }
      more = p < ordered.length;
    }
    const base = new URL(`${c.baseUrl}/${c.version}/${name}/delta`);
    const body: Record<string, unknown> = { '@odata.context': ctxUrl(c, name), value };
    if (more) {
      base.searchParams.set('$skiptoken', encode({ ...tok, p }));
      body['@odata.nextLink'] = base.toString();
    } else {
      // The link for the next round: changes after those this round covered, issued now.
      base.searchParams.set('$deltatoken', encode({ c: name, g: tok.g, s: tok.u, u: tok.u, t: now, p: 0, i: false, ...(tok.sel !== undefined ? { sel: tok.sel } : {}) }));
      body['@odata.deltaLink'] = base.toString();
    }
    return { status: 200, body };
  };
}
