import { afterEach, describe, expect, it } from 'vitest';
import type { RunningSimulator } from '../../simulator/index.js';
import { exo, graph, start } from './helpers.js';

let sim: RunningSimulator | undefined;
afterEach(async () => {
  await sim?.stop();
  sim = undefined;
});

describe('published limits (on by default)', () => {
  it('conditional access: 1 request per second per tenant, 429 without Retry-After', async () => {
    sim = await start({ limits: { enabled: true } });
    const a = await graph(sim, 'GET', '/v1.0/identity/conditionalAccess/policies');
    const b = await graph(sim, 'GET', '/v1.0/identity/conditionalAccess/policies');
    expect(a.status).toBe(200);
    expect(b.status).toBe(429);
    expect(b.body.error.code).toBe('TooManyRequests');
    expect(b.headers.get('retry-after')).toBeNull();
    const risky = await graph(sim, 'GET', '/v1.0/identityProtection/riskyUsers');
    expect(risky.status).toBe(429);
  });

  it('identity endpoints: a resource-unit budget per 10 s, 429 with Retry-After, $select costs less', async () => {
    sim = await start({ limits: { enabled: true, identityUnitsPer10s: 7 } });
    const statuses = [];
    for (let i = 0; i < 4; i++) statuses.push((await graph(sim, 'GET', '/v1.0/users')).status);
    expect(statuses).toEqual([200, 200, 200, 429]);
    const throttled = await graph(sim, 'GET', '/v1.0/groups');
    expect(Number(throttled.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    await sim.stop();
    sim = await start({ limits: { enabled: true, identityUnitsPer10s: 7 } });
    const selected = [];
    for (let i = 0; i < 7; i++) selected.push((await graph(sim, 'GET', '/v1.0/users?$select=id')).headers.get('x-ms-resource-unit'));
    expect(selected).toEqual(['1', '1', '1', '1', '1', '1', '1']);
  });

  it('mailboxes: a request window per mailbox with Retry-After, and 4 concurrent requests per mailbox', async () => {
    sim = await start({ limits: { enabled: true, mailboxPer10Minutes: 3 } });
    const path = '/v1.0/users/morgan.reed@tailspintoys.example/mailFolders/inbox/messageRules';
    const statuses = [];
    for (let i = 0; i < 4; i++) statuses.push((await graph(sim, 'GET', path)).status);
    expect(statuses).toEqual([200, 200, 200, 429]);
    expect((await graph(sim, 'GET', '/v1.0/users/taylor.nguyen@tailspintoys.example/mailFolders/inbox/messageRules')).status).toBe(200);
    await sim.stop();

    sim = await start({ limits: { enabled: true, latencyMs: 150 } });
    const concurrent = await Promise.all(Array.from({ length: 6 }, () => graph(sim!, 'GET', path)));
    const codes = concurrent.map((r) => r.status).sort();
    expect(codes).toEqual([200, 200, 200, 200, 429, 429]);
    expect(concurrent.find((r) => r.status === 429)!.headers.get('retry-after')).toBe('1');
  });

  it('2,000 requests per second per app across Graph', async () => {
    sim = await start({ limits: { enabled: true, appPerSecond: 3 } });
    const statuses = [];
    for (let i = 0; i < 4; i++) statuses.push((await graph(sim, 'GET', '/v1.0/domains')).status);
    expect(statuses).toEqual([200, 200, 200, 429]);
  });

  it('adds the configured latency', async () => {
    sim = await start({ limits: { enabled: false, latencyMs: 120 } });
    const t0 = performance.now();
    await graph(sim, 'GET', '/v1.0/domains');
    expect(performance.now() - t0).toBeGreaterThanOrEqual(115);
  });
});

describe('fault injection by route', () => {
  it('5xx, then normal service once the rule is spent', async () => {
    sim = await start({ faults: [{ route: '^/v1\\.0/users$', kind: 'status', status: 503, times: 2 }] });
    const codes = [];
    for (let i = 0; i < 3; i++) codes.push((await graph(sim, 'GET', '/v1.0/users')).status);
    expect(codes).toEqual([503, 503, 200]);
    expect((await graph(sim, 'GET', '/v1.0/domains')).status).toBe(200);
  });

  it('a 429 storm with Retry-After, after letting some requests through', async () => {
    sim = await start({ faults: [{ route: '/domains', kind: 'throttle', retryAfter: 3, after: 1, times: 2 }] });
    const replies = [];
    for (let i = 0; i < 4; i++) replies.push(await graph(sim, 'GET', '/v1.0/domains'));
    expect(replies.map((r) => r.status)).toEqual([200, 429, 429, 200]);
    expect(replies[1]!.headers.get('retry-after')).toBe('3');
  });

  it('a connection reset', async () => {
    sim = await start({ faults: [{ route: '/domains', kind: 'reset', times: 1 }] });
    await expect(graph(sim, 'GET', '/v1.0/domains')).rejects.toThrow();
    expect((await graph(sim, 'GET', '/v1.0/domains')).status).toBe(200);
  });

  it('a dropped answer: the request is carried out, then the connection is destroyed', async () => {
    sim = await start({ faults: [{ route: '/oauth2PermissionGrants/', method: 'DELETE', kind: 'drop', times: 1 }] });
    const [grant] = [...sim.tenant.graph.oauth2PermissionGrants.values()];
    await expect(graph(sim, 'DELETE', `/v1.0/oauth2PermissionGrants/${grant!.id}`)).rejects.toThrow();
    expect(sim.tenant.graph.oauth2PermissionGrants.get(grant!.id)).toBeUndefined();
    expect((await graph(sim, 'DELETE', `/v1.0/oauth2PermissionGrants/${grant!.id}`)).status).toBe(404);
    await sim.stop();
    sim = await start({ faults: [{ api: 'exchange', route: '^Set-RemoteDomain$', kind: 'drop', times: 1 }] });
    await expect(exo(sim, 'Set-RemoteDomain', { Identity: 'Default', AutoForwardEnabled: true })).rejects.toThrow();
    expect([...sim.tenant.exchange.RemoteDomain.values()].find((d) => d['Identity'] === 'Default')!['AutoForwardEnabled']).toBe(true);
  });

  it('a held answer: the request is carried out, and answered only when the test releases it', async () => {
    sim = await start({ faults: [{ route: '/policies/authorizationPolicy', method: 'PATCH', kind: 'hold', times: 1 }] });
    expect(sim.tenant.authorizationPolicy['allowInvitesFrom']).not.toBe('none');
    let answered = false;
    const patch = graph(sim, 'PATCH', '/v1.0/policies/authorizationPolicy', { body: { allowInvitesFrom: 'none' } }).then((r) => {
      answered = true;
      return r;
    });
    await sim.faults.held();
    expect(sim.tenant.authorizationPolicy['allowInvitesFrom']).toBe('none');
    expect(answered).toBe(false);
    sim.faults.release();
    expect((await patch).status).toBe(204);
    // Exchange too: the cmdlet ran before its answer is held back.
    sim.faults.add({ api: 'exchange', route: '^Set-RemoteDomain$', kind: 'hold', times: 1 });
    const domain = () => [...sim!.tenant.exchange.RemoteDomain.values()].find((d) => d['Identity'] === 'Default')!;
    expect(domain()['AutoForwardEnabled']).toBe(false);
    const set = exo(sim, 'Set-RemoteDomain', { Identity: 'Default', AutoForwardEnabled: true });
    await sim.faults.held();
    expect([...sim.tenant.exchange.RemoteDomain.values()].find((d) => d['Identity'] === 'Default')!['AutoForwardEnabled']).toBe(true);
    sim.faults.release();
    expect((await set).status).toBe(200);
  });

  it('an answer slower than the client waits', async () => {
    sim = await start({ faults: [{ route: '/domains', kind: 'slow', delayMs: 5_000 }] });
    const res = fetch(`${sim.graphUrl}/v1.0/domains`, { headers: { Authorization: `Bearer ${sim.token('graph')}` }, signal: AbortSignal.timeout(200) });
    await expect(res).rejects.toThrow(/aborted|timeout/i);
  });

  it('truncated JSON', async () => {
    sim = await start({ faults: [{ route: '/users', kind: 'truncate', times: 1 }] });
    const res = await fetch(`${sim.graphUrl}/v1.0/users`, { headers: { Authorization: `Bearer ${sim.token('graph')}` } });
    expect(res.status).toBe(200);
    await expect(res.json()).rejects.toThrow();
  });

  it('a nextLink that loops back to the same page', async () => {
    sim = await start({ faults: [{ route: '/users', kind: 'loop-next-link' }] });
    const first = await graph(sim, 'GET', '/v1.0/users?$top=5');
    const second = await graph(sim, 'GET', first.body['@odata.nextLink']);
    expect(second.body['@odata.nextLink']).toBe(first.body['@odata.nextLink']);
    expect(second.body.value).toEqual(first.body.value);
  });

  it('a token that expires mid-run: 401 for the token in use, a new token works', async () => {
    sim = await start({ faults: [{ route: '/domains', kind: 'expire-token', after: 2, times: 1 }] });
    const token = sim.token('graph');
    const codes = [];
    for (let i = 0; i < 4; i++) codes.push((await graph(sim, 'GET', '/v1.0/domains', { token })).status);
    expect(codes).toEqual([200, 200, 200, 401]);
    expect((await graph(sim, 'GET', '/v1.0/domains', { token: sim.token('graph') })).status).toBe(200);
  });

  it('Exchange faults match the cmdlet name', async () => {
    sim = await start({ faults: [{ api: 'exchange', route: '^Get-Mailbox$', kind: 'status', status: 500, times: 1 }] });
    expect((await exo(sim, 'Get-Mailbox')).status).toBe(500);
    expect((await exo(sim, 'Get-Mailbox')).status).toBe(200);
  });
});

describe('request log', () => {
  it('records method, path, status and time of every request, $batch items included', async () => {
    sim = await start();
    const t0 = Date.now();
    await graph(sim, 'GET', '/v1.0/domains?$top=2');
    await graph(sim, 'POST', '/v1.0/$batch', { body: { requests: [{ id: '1', method: 'GET', url: '/users?$top=1' }] } });
    await exo(sim, 'Get-AcceptedDomain');
    const e = sim.requests.entries;
    expect(e[0]).toMatchObject({ api: 'graph', method: 'GET', path: '/v1.0/domains?$top=2', status: 200 });
    expect(e[0]!.time).toBeGreaterThanOrEqual(t0);
    expect(e.find((x) => x.batch !== undefined)).toMatchObject({ path: '/users?$top=1', status: 200 });
    expect(e.at(-1)).toMatchObject({ api: 'exchange', method: 'POST', status: 200 });
    expect(sim.requests.count((x) => x.api === 'graph' && x.batch === undefined)).toBe(2);
  });
});
