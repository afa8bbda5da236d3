import { redactSecrets } from '../core/redact.js';
import type { Connection } from '../input/connection.js';
import { withoutAnnotations } from '../core/annotations.js';
import { canonicalJson, sameJson } from '../core/json.js';
import { errorOf } from '../transport/graph.js';
import { ExchangeError } from '../transport/exchange.js';
import { restored } from './rollback.js';
import type { Write } from './writes.js';

type Obj = Record<string, unknown>;

/**
 * The resource a write acts on, read as the service returns it: the Graph entity at the write's
 * path, or the Exchange object the cmdlet names. `null` when it does not exist, and for a write
 * that creates a new resource. Apply records it as the change's before-value; rollback restores it.
 */
export async function readTarget(conn: Connection, w: Write): Promise<unknown> {
  if (w.api === 'graph') {
    return w.method === 'POST' ? readCreated(conn, w) : readGraph(conn, w.path);
  }
  if (w.cmdlet.startsWith('New-')) return null;
  const noun = w.cmdlet.replace(/^[A-Za-z]+-/, '');
  try {
    const [found] = await conn.exchange.invoke<Obj>(`Get-${noun}`, { Identity: String(w.parameters['Identity']) });
    return found ? withoutAnnotations(found) : null;
  } catch (err) {
    if (err instanceof ExchangeError && /NotFound/i.test(err.type)) return null;
    throw err;
  }
}

/**
 * For a POST that creates a delegated permission grant or an inbox rule (as a rollback does): the
 * item that already holds the same grant or rule, if any, so creating it again would duplicate it.
 * `null` for any other POST.
 */
async function readCreated(conn: Connection, w: Write & { api: 'graph' }): Promise<unknown> {
  const b = w.body ?? {};
  const same = (x: unknown, y: unknown) => String(x ?? '').toLowerCase() === String(y ?? '').toLowerCase();
  if (w.path === '/oauth2PermissionGrants') {
    const grants = await conn.graph.list<Obj>(`/oauth2PermissionGrants?$filter=${encodeURIComponent(`clientId eq '${String(b['clientId'])}'`)}`);
    const found = grants.find((g) => same(g['resourceId'], b['resourceId']) && same(g['consentType'], b['consentType']) && same(g['principalId'], b['principalId']));
    return found ? withoutAnnotations(found) : null;
  }
  if (/\/messageRules$/.test(w.path)) {
    const rules = await conn.graph.list<Obj>(w.path);
    const found = rules.find((r) => r['displayName'] === b['displayName'] && canonicalJson(r['actions'] ?? null) === canonicalJson(b['actions'] ?? null) && canonicalJson(r['conditions'] ?? null) === canonicalJson(b['conditions'] ?? null));
    return found ? withoutAnnotations(found) : null;
  }
  return null;
}

/** The Graph entity at a path, without annotations; `null` when the service answers 404. */
export async function readGraph(conn: Connection, path: string): Promise<unknown> {
  const reply = await conn.graph.request<Obj>('GET', path);
  if (reply.status === 404) return null;
  if (reply.status >= 400) throw errorOf(reply, path);
  return withoutAnnotations(reply.body);
}

/** A value without its OData annotations, at any depth (they carry the endpoint's URL, not state). */
export { withoutAnnotations };

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
 * Reads the resource a write acts on and says whether the write took: a create finds what it
 * created, a delete finds the resource gone, a PATCH, PUT or Set- finds the values it wrote. `before`
 * is the resource as read before the write (as {@link snapshot} gives it). Never writes.
 */
export async function settleWrite(conn: Connection, w: Write, before: unknown): Promise<Settled> {
  const unchanged = (value: unknown) => sameJson(snapshot(value), snapshot(before));
  const notTaken = (value: unknown): Settled =>
    unchanged(value) ? { outcome: 'not-taken', value, reason: 'a read shows the resource as it was before the write' } : { outcome: 'unclear', value, reason: 'a read shows the resource neither as it was before the write nor as written' };
  if (w.api === 'graph') {
    if (w.method === 'POST') {
      if (w.path === '/identity/conditionalAccess/policies') {
        const name = (w.body ?? {})['displayName'];
        const same = (await conn.graph.list<Obj>('/identity/conditionalAccess/policies')).filter((p) => p['displayName'] === name);
        if (same.length === 1) return { outcome: 'took', value: withoutAnnotations(same[0]), created: same[0] };
        if (same.length === 0) return { outcome: 'not-taken', value: null, reason: `no conditional access policy named ${JSON.stringify(name)} exists` };
        return { outcome: 'unclear', value: null, reason: `${same.length} conditional access policies are named ${JSON.stringify(name)}` };
      }
      const found = await readCreated(conn, w);
      return found ? { outcome: 'took', value: found, created: found } : { outcome: 'not-taken', value: null, reason: 'what it creates does not exist' };
    }
    const value = await readTarget(conn, w);
    if (w.method === 'DELETE') return value === null ? { outcome: 'took', value: null } : notTaken(value);
    return restored(w.body ?? {}, value) ? { outcome: 'took', value } : notTaken(value);
  }
  if (w.cmdlet.startsWith('New-')) {
    const noun = w.cmdlet.replace(/^New-/, '');
    try {
      const [found] = await conn.exchange.invoke<Obj>(`Get-${noun}`, { Identity: String(w.parameters['DomainName'] ?? w.parameters['Identity'] ?? w.parameters['Name']) });
      return found ? { outcome: 'took', value: withoutAnnotations(found), created: found } : { outcome: 'not-taken', value: null, reason: 'what it creates does not exist' };
    } catch (err) {
      if (err instanceof ExchangeError && /NotFound/i.test(err.type)) return { outcome: 'not-taken', value: null, reason: 'what it creates does not exist' };
      throw err;
    }
  }
  const value = await readTarget(conn, w);
  if (value === null) return { outcome: 'unclear', value, reason: 'the object it sets no longer exists' };
  const expected = w.cmdlet.startsWith('Disable-')
    ? { State: 'Disabled' }
    : w.cmdlet.startsWith('Enable-')
      ? { State: 'Enabled' }
      : Object.fromEntries(Object.entries(w.parameters).filter(([k]) => k !== 'Identity' && k !== 'Confirm'));
  return restored(expected, value) ? { outcome: 'took', value } : notTaken(value);
}
