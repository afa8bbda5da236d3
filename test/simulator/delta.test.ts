import { afterEach, describe, expect, it } from 'vitest';
import type { RunningSimulator } from '../../simulator/index.js';
import { DELTA_TOKEN_LIFETIME_MS, resetDeltaTokens } from '../../simulator/graph/delta.js';
import { graph, start, type Reply } from './helpers.js';

let sim: RunningSimulator | undefined;
afterEach(async () => {
  await sim?.stop();
  sim = undefined;
});

/** Follows a delta round to its delta link: every object of the round and the link. */
async function round(s: RunningSimulator, url: string): Promise<{ items: Array<Record<string, unknown>>; deltaLink: string; pages: number }> {
  const items: Array<Record<string, unknown>> = [];
  let next: string | undefined = url;
  let pages = 0;
  for (;;) {
    const r: Reply = await graph(s, 'GET', next);
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    pages++;
    items.push(...(r.body.value as Array<Record<string, unknown>>));
    expect('@odata.nextLink' in r.body && '@odata.deltaLink' in r.body).toBe(false);
    if (r.body['@odata.deltaLink']) return { items, deltaLink: r.body['@odata.deltaLink'] as string, pages };
    next = r.body['@odata.nextLink'] as string;
    expect(typeof next).toBe('string');
  }
}

describe('delta queries', () => {
  it('an initial round pages the current state, then a delta link answers only what changed since, with $select kept', async () => {
    sim = await start({ generate: { mailboxes: 250 } });
    sim.clock.set('2026-11-16T00:00:00Z');
    const first = await round(sim, '/v1.0/users/delta?$select=id,displayName,accountEnabled');
    expect(first.pages).toBeGreaterThan(2);
    const total = [...sim.tenant.graph.users.values()].length;
    expect(first.items).toHaveLength(total);
    expect(Object.keys(first.items[0]!).sort()).toEqual(['accountEnabled', 'displayName', 'id']);

    const none = await round(sim, first.deltaLink);
    expect(none.items).toEqual([]);

    const [a, b] = [...sim.tenant.graph.users.values()].slice(3, 5);
    // A PATCH over HTTP, and a change made to the tenant directly: both are tracked.
    expect((await graph(sim, 'PATCH', `/v1.0/users/${a!.id}`, { body: { accountEnabled: false } })).status).toBe(204);
    sim.tenant.graph.users.remove(b!.id);
    sim.tenant.graph.users.insert({ id: 'new-user-1', displayName: 'New', userPrincipalName: 'new@example.test', accountEnabled: true });
    const changes = await round(sim, none.deltaLink);
    expect(changes.items).toEqual([
      { id: a!.id, displayName: a!['displayName'], accountEnabled: false },
      { id: b!.id, '@removed': { reason: 'changed' } },
      { id: 'new-user-1', displayName: 'New', accountEnabled: true },
    ]);
    // The round's link starts after those changes.
    expect((await round(sim, changes.deltaLink)).items).toEqual([]);
  });

  it('grants removed for good carry reason deleted; a change made while a round is paged comes in the next round', async () => {
    sim = await start();
    const s = sim;
    const grants = [...s.tenant.graph.oauth2PermissionGrants.values()];
    expect(grants.length).toBeGreaterThan(0);
    const first = await round(s, '/v1.0/oauth2PermissionGrants/delta');
    expect(first.items.map((g) => g['id']).sort()).toEqual(grants.map((g) => g.id).sort());
    expect((await graph(s, 'DELETE', `/v1.0/oauth2PermissionGrants/${encodeURIComponent(grants[0]!.id)}`)).status).toBe(204);
    const second = await round(s, first.deltaLink);
    expect(second.items).toEqual([{ id: grants[0]!.id, '@removed': { reason: 'deleted' } }]);
  });

  it('changes while an initial round is paged are in the next round, not lost', async () => {
    sim = await start({ generate: { mailboxes: 250 } });
    const s = sim;
    const p1 = await graph(s, 'GET', '/v1.0/users/delta?$select=id,displayName');
    const late = [...s.tenant.graph.users.values()][0]!;
    s.tenant.graph.users.replace(late.id, { ...late, displayName: 'Renamed while paging' });
    const rest = await round(s, p1.body['@odata.nextLink']);
    const next = await round(s, rest.deltaLink);
    expect(next.items).toEqual([{ id: late.id, displayName: 'Renamed while paging' }]);
  });

  it('a delta link older than seven days is refused with syncStateNotFound; after a reset, 410 Gone resyncRequired', async () => {
    sim = await start();
    const s = sim;
    s.clock.set('2026-11-16T00:00:00Z');
    const groups = await round(s, '/v1.0/groups/delta?$select=id,displayName');
    const sps = await round(s, '/v1.0/servicePrincipals/delta');
    s.clock.advance(DELTA_TOKEN_LIFETIME_MS - 1000);
    const fresh = await round(s, groups.deltaLink);
    s.clock.advance(2000);
    const expired = await graph(s, 'GET', groups.deltaLink);
    expect(expired.status).toBe(400);
    expect(expired.body.error.code).toBe('syncStateNotFound');
    // The link a round issues lives seven days from then.
    expect((await graph(s, 'GET', fresh.deltaLink)).status).toBe(200);
    resetDeltaTokens(s.tenant);
    const gone = await graph(s, 'GET', fresh.deltaLink);
    expect(gone.status).toBe(410);
    expect(gone.body.error.code).toBe('resyncRequired');
    expect((await graph(s, 'GET', sps.deltaLink)).status).toBe(410);
    // A full synchronisation starts again.
    expect((await round(s, '/v1.0/groups/delta?$select=id,displayName')).items.length).toBe(groups.items.length);
  });

  it('refuses a token that is not one, and a $select of an unknown property', async () => {
    sim = await start();
    expect((await graph(sim, 'GET', '/v1.0/users/delta?$deltatoken=not-a-token')).status).toBe(400);
    expect((await graph(sim, 'GET', '/v1.0/users/delta?$select=nope')).status).toBe(400);
    expect((await graph(sim, 'GET', '/v1.0/users/delta', { token: sim.token('graph', { roles: ['Mail.Read'] }) })).status).toBe(403);
  });
});
