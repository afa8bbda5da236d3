import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningSimulator } from '../../simulator/index.js';
import { graph, start } from './helpers.js';

describe('$batch', () => {
  let sim: RunningSimulator;
  beforeAll(async () => {
    sim = await start({ generate: { mailboxes: 40 } });
  });
  afterAll(() => sim.stop());

  const batch = (requests: unknown[]) => graph(sim, 'POST', '/v1.0/$batch', { body: { requests } });

  it('answers each item with its own status, headers and body', async () => {
    const r = await batch([
      { id: '1', method: 'GET', url: '/users/user1@tailspintoys.example/mailFolders/inbox/messageRules' },
      { id: '2', method: 'GET', url: 'domains' },
      { id: '3', method: 'GET', url: '/users/bg-alpha@tailspintoys.example/mailFolders/inbox/messageRules' },
    ]);
    expect(r.status).toBe(200);
    const byId = Object.fromEntries(r.body.responses.map((x: { id: string }) => [x.id, x]));
    expect(byId['1']).toMatchObject({ status: 200, headers: { 'Content-Type': 'application/json' }, body: { value: expect.any(Array) } });
    expect(byId['2'].body.value.length).toBe(4);
    expect(byId['3']).toMatchObject({ status: 404, body: { error: { code: 'MailboxNotEnabledForRESTAPI' } } });
  });

  it('takes at most 20 requests', async () => {
    const twenty = Array.from({ length: 20 }, (_, i) => ({ id: String(i), method: 'GET', url: `/users/user${i}@tailspintoys.example/mailFolders/inbox/messageRules` }));
    expect((await batch(twenty)).status).toBe(200);
    const r = await batch([...twenty, { id: '20', method: 'GET', url: '/domains' }]);
    expect(r.status).toBe(400);
    expect(r.body.error.message).toMatch(/cannot exceed 20/);
  });

  it('refuses absolute URLs and URLs that keep the version, item by item', async () => {
    const r = await batch([
      { id: 'a', method: 'GET', url: '/v1.0/domains' },
      { id: 'b', method: 'GET', url: `${sim.graphUrl}/v1.0/domains` },
      { id: 'c', method: 'GET', url: '/domains' },
    ]);
    const status = Object.fromEntries(r.body.responses.map((x: { id: string; status: number }) => [x.id, x.status]));
    expect(status).toEqual({ a: 400, b: 400, c: 200 });
  });

  it('answers 424 to an item whose dependency failed, and runs dependants in order', async () => {
    const r = await batch([
      { id: '1', method: 'GET', url: '/users/nobody@tailspintoys.example' },
      { id: '2', method: 'GET', url: '/domains', dependsOn: ['1'] },
      { id: '3', method: 'GET', url: '/domains' },
      { id: '4', method: 'GET', url: '/groups', dependsOn: ['3'] },
    ]);
    const status = Object.fromEntries(r.body.responses.map((x: { id: string; status: number }) => [x.id, x.status]));
    expect(status).toEqual({ '1': 404, '2': 424, '3': 200, '4': 200 });
    expect((await batch([{ id: '1', method: 'GET', url: '/domains', dependsOn: ['9'] }])).status).toBe(400);
    expect((await batch([{ id: '1', method: 'GET', url: '/domains' }, { id: '1', method: 'GET', url: '/groups' }])).status).toBe(400);
  });

  it('checks permissions per item', async () => {
    const token = (await import('../../simulator/index.js')).mintToken({ tenantId: sim.tenantId, roles: ['MailboxSettings.Read'] });
    const r = await graph(sim, 'POST', '/v1.0/$batch', {
      token,
      body: { requests: [{ id: '1', method: 'GET', url: '/users/user1@tailspintoys.example/mailFolders/inbox/messageRules' }, { id: '2', method: 'GET', url: '/users' }] },
    });
    const status = Object.fromEntries(r.body.responses.map((x: { id: string; status: number }) => [x.id, x.status]));
    expect(status).toEqual({ '1': 200, '2': 403 });
  });
});

describe('$batch throttling per item', () => {
  it('throttles items on their own limits, with Retry-After inside the item', async () => {
    const sim = await start({ limits: { enabled: true, latencyMs: 100 }, generate: { mailboxes: 5 } });
    try {
      const same = Array.from({ length: 6 }, (_, i) => ({ id: String(i), method: 'GET', url: '/users/user1@tailspintoys.example/mailFolders/inbox/messageRules' }));
      const r = await graph(sim, 'POST', '/v1.0/$batch', { body: { requests: same } });
      const throttled = r.body.responses.filter((x: { status: number }) => x.status === 429);
      expect(throttled).toHaveLength(2);
      expect(throttled[0].headers['Retry-After']).toBe('1');
      const ca = await graph(sim, 'POST', '/v1.0/$batch', {
        body: { requests: [{ id: '1', method: 'GET', url: '/identity/conditionalAccess/policies' }, { id: '2', method: 'GET', url: '/identity/conditionalAccess/policies' }] },
      });
      expect(ca.body.responses.map((x: { status: number }) => x.status).sort()).toEqual([200, 429]);
    } finally {
      await sim.stop();
    }
  });
});
