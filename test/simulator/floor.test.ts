import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_LIMITS, type RequestLogEntry, type RunningSimulator } from '../../simulator/index.js';
import { floorOf } from '../../simulator/http/floor.js';
import { exo, graph, start } from './helpers.js';

const limits = { ...DEFAULT_LIMITS, latencyMs: 50 };
const at = (n: number) => 1_700_000_000_000 + n;
const token = (position: number, cursor: string) => Buffer.from(`${position}:${cursor}`).toString('base64url');

describe('the floor of a run, from its request log and the limits', () => {
  it('counts $batch items against the per-app rate and not their envelopes; 429s are not charged', () => {
    const log: RequestLogEntry[] = [
      { api: 'graph', method: 'POST', path: '/v1.0/$batch', status: 200, time: at(0) },
      ...Array.from({ length: 20 }, (_, i): RequestLogEntry => ({ api: 'graph', method: 'GET', path: `/users/u${i}/mailFolders/inbox/messageRules`, status: 200, time: at(1), batch: 1 })),
      { api: 'graph', method: 'GET', path: '/users/u0/mailFolders/inbox/messageRules', status: 429, time: at(1), batch: 1 },
      { api: 'graph', method: 'GET', path: '/v1.0/domains', status: 200, time: at(2) },
    ];
    const f = floorOf(log, { limits, size: 'small' });
    expect(f.limits.find((l) => l.limit === 'Graph per-app rate')).toEqual({ limit: 'Graph per-app rate', charged: 21, rate: '2000 per 1 s', seconds: 0.05 });
  });

  it('gives the per-app rate its windows: 4,001 requests at 2,000 a second need two seconds and a round trip', () => {
    const log = Array.from({ length: 4001 }, (_, i): RequestLogEntry => ({ api: 'graph', method: 'GET', path: `/users/u${i}/mailFolders/inbox/messageRules`, status: 200, time: at(i), batch: Math.floor(i / 20) }));
    const f = floorOf(log, { limits, size: 'large' });
    expect(f).toMatchObject({ seconds: 2.05, binding: 'Graph per-app rate' });
    // Each mailbox read once: its own limits are far away.
    expect(f.limits.find((l) => l.limit.startsWith('mailbox'))).toMatchObject({ charged: 1, seconds: 0.05 });
  });

  it('paces conditional access and identity protection at their own rate, and charges identity routes their resource units ($select takes one off)', () => {
    const log: RequestLogEntry[] = [
      ...Array.from({ length: 6 }, (_, i): RequestLogEntry => ({ api: 'graph', method: 'GET', path: i % 2 ? '/v1.0/identityProtection/riskyUsers' : '/v1.0/identity/conditionalAccess/policies', status: 200, time: at(i) })),
      { api: 'graph', method: 'GET', path: '/v1.0/identity/conditionalAccess/policies', status: 429, time: at(7) },
      { api: 'graph', method: 'GET', path: '/v1.0/users?$select=id', status: 200, time: at(8) },
      { api: 'graph', method: 'GET', path: '/v1.0/users', status: 200, time: at(9) },
    ];
    const f = floorOf(log, { limits, size: 'small' });
    expect(f.binding).toBe('conditional access and identity protection pace');
    expect(f.seconds).toBe(5.05);
    expect(f.limits.find((l) => l.limit === 'identity resource units')).toMatchObject({ charged: 3, rate: '3500 units per 10 s' });
  });

  it('chains the pages of a paged read, one round trip each, and one more for the reads made from its last page', () => {
    const log: RequestLogEntry[] = [
      { api: 'exchange', method: 'POST', path: '/adminapi/beta/t/InvokeCommand', status: 200, time: at(0), cmdlet: 'Get-Mailbox' },
      ...[1000, 2000, 3000].map((p, i): RequestLogEntry => ({ api: 'exchange', method: 'POST', path: `/adminapi/beta/t/InvokeCommand?$skiptoken=${token(p, 'c1')}`, status: 200, time: at(i + 1), cmdlet: 'Get-Mailbox' })),
      // Another cmdlet's list, paged on its own cursor.
      { api: 'exchange', method: 'POST', path: `/adminapi/beta/t/InvokeCommand?$skiptoken=${token(1000, 'c2')}`, status: 200, time: at(5), cmdlet: 'Get-User' },
    ];
    const alone = floorOf(log, { limits, size: 'small' });
    expect(alone.limits.find((l) => l.limit.startsWith('latency'))).toEqual({ limit: 'latency × pages in sequence (Exchange Get-Mailbox)', charged: 4, rate: '50 ms a round trip', seconds: 0.2 });
    const fed = floorOf(log, { limits, size: 'small', feeds: 'Get-Mailbox' });
    expect(fed).toMatchObject({ seconds: 0.25, binding: 'latency × pages in sequence (Exchange Get-Mailbox and the reads of its last page)' });
    expect(fed.limits.find((l) => l.limit === 'Exchange per-app rate')).toMatchObject({ charged: 5 });
  });

  it('a Graph list read twice is two chains, not one twice as long', () => {
    const page = (p?: number): RequestLogEntry => ({ api: 'graph', method: 'GET', path: `/v1.0/users?$top=999${p ? `&$skiptoken=${p}` : ''}`, status: 200, time: at(p ?? 0) });
    const f = floorOf([page(), page(1), page(2), page(), page(1), page(2)], { limits, size: 'small' });
    expect(f.limits.find((l) => l.limit.startsWith('latency'))).toMatchObject({ charged: 3, seconds: 0.15 });
  });

  it('with limits off, only the round trip is left', () => {
    const f = floorOf([{ api: 'graph', method: 'GET', path: '/v1.0/domains', status: 200, time: at(0) }], { limits: { ...limits, enabled: false }, size: 'small' });
    expect(f).toMatchObject({ seconds: 0.05, binding: 'latency (limits off)' });
  });
});

describe('the floor of requests the simulator answered', () => {
  let sim: RunningSimulator;
  beforeAll(async () => {
    sim = await start({ scenario: 'compliant', generate: { mailboxes: 2500 } });
  });
  afterAll(() => sim?.stop());

  it('reads the log as the services charged it: a $batch of rules, a paged Get-Mailbox, conditional access', async () => {
    const ids = [...sim.tenant.graph.users.values()].slice(0, 20).map((u) => u.id);
    const batch = await graph(sim, 'POST', '/v1.0/$batch', { body: { requests: ids.map((id, i) => ({ id: String(i), method: 'GET', url: `/users/${id}/mailFolders/inbox/messageRules` })) } });
    expect(batch.status).toBe(200);
    await graph(sim, 'GET', '/v1.0/identity/conditionalAccess/policies');
    let page = await exo(sim, 'Get-Mailbox', { ResultSize: 'Unlimited' });
    let pages = 1;
    while (page.body['@odata.nextLink']) {
      page = await exo(sim, 'Get-Mailbox', { ResultSize: 'Unlimited' }, { url: page.body['@odata.nextLink'] });
      pages++;
    }
    expect(pages).toBe(3);
    const f = floorOf(sim.requests.entries, { limits: { ...DEFAULT_LIMITS, latencyMs: 20 }, size: sim.tenant.size, feeds: 'Get-Mailbox' });
    expect(f.limits.find((l) => l.limit === 'Graph per-app rate')).toMatchObject({ charged: 21 });
    expect(f.limits.find((l) => l.limit === 'Exchange per-app rate')).toMatchObject({ charged: 3 });
    expect(f.limits.find((l) => l.limit === 'conditional access and identity protection pace')).toMatchObject({ charged: 1 });
    expect(f.limits.find((l) => l.limit.startsWith('latency'))).toMatchObject({ charged: 4, seconds: 0.08 });
  });
});
