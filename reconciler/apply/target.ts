import { redactSecrets } from '../redact.js';
import type { Connection } from '../input/connection.js';
import { withoutAnnotations } from '../evaluate/normalise.js';
import { canonicalJson } from '../plan/build.js';
import { errorOf } from '../transport/graph.js';
import { ExchangeError } from '../transport/exchange.js';
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
