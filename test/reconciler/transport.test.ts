import { afterEach, describe, expect, it } from 'vitest';
import type { TokenProvider } from '../../reconciler/auth/tokens.js';
import { ExchangeTransport } from '../../reconciler/transport/exchange.js';
import { GraphError, GraphTransport } from '../../reconciler/transport/graph.js';
import { OutcomeUnknownError } from '../../reconciler/transport/middleware.js';
import { startSimulator, type RunningSimulator, type SimulatorOptions } from '../../simulator/index.js';

let sim: RunningSimulator | undefined;
afterEach(async () => {
  await sim?.stop();
  sim = undefined;
});

const fixed = (s: RunningSimulator): TokenProvider => ({ canRefresh: false, description: 'test', token: async (api) => s.token(api) });
const graph = (s: RunningSimulator, tokens = fixed(s)) => new GraphTransport({ baseUrl: s.graphUrl, tokens, retry: { maxRetries: 3, baseDelayMs: 50, maxDelayMs: 2000 } });
const start = async (o: SimulatorOptions = {}) => (sim = await startSimulator({ scenario: 'compliant', ...o }));

describe('Graph transport over real HTTP', () => {
  it('follows absolute http:// nextLinks to the end of a collection', async () => {
    const s = await start({ generate: { mailboxes: 250 }, limits: { enabled: false } });
    const t = graph(s);
    const pages: number[] = [];
    for await (const page of t.pages('/users?$select=id')) pages.push(page.length);
    expect(pages).toEqual([100, 100, 63]);
  });

  it('never sends the token to a host that is not the Graph endpoint', async () => {
    const s = await start();
    const t = graph(s);
    await expect(t.request('GET', 'http://127.0.0.1:9/steal')).rejects.toThrow(/refusing to send the Graph token to http:\/\/127\.0\.0\.1:9/);
    expect(t.url(`${s.graphUrl}/v1.0/users?$skiptoken=x`)).toBe(`${s.graphUrl}/v1.0/users?$skiptoken=x`);
  });

  it('paces conditional access requests to 1 per second, so the 429 without Retry-After never comes', async () => {
    const s = await start();
    const t = graph(s);
    const started = performance.now();
    await Promise.all([t.list('/identity/conditionalAccess/policies'), t.list('/identity/conditionalAccess/policies'), t.list('/identity/conditionalAccess/policies')]);
    expect(performance.now() - started).toBeGreaterThanOrEqual(1900);
    expect(s.requests.count((e) => e.status === 429)).toBe(0);
  });

  it('honours Retry-After on 429 and retries 5xx, within its bound', async () => {
    const s = await start({ faults: [{ route: '/domains', kind: 'throttle', retryAfter: 1, times: 1 }, { route: '/groups', kind: 'status', status: 503 }], limits: { enabled: false } });
    const t = graph(s);
    expect((await t.list('/domains')).length).toBe(4);
    expect(t.stats).toMatchObject({ throttled: 1, retries: 1 });
    await expect(t.list('/groups')).rejects.toBeInstanceOf(GraphError);
    expect(s.requests.count((e) => e.path.startsWith('/v1.0/groups'))).toBe(4);
  });

  it('retries the throttled items of a $batch until each has an answer', async () => {
    const s = await start({ generate: { mailboxes: 4 }, limits: { enabled: true, latencyMs: 100 } });
    const t = graph(s);
    const items = Array.from({ length: 8 }, (_, i) => ({ id: String(i), method: 'GET' as const, url: '/users/user1@tailspintoys.example/mailFolders/inbox/messageRules' }));
    const replies = await t.batch(items);
    expect([...replies.values()].map((r) => r.status)).toEqual(Array(8).fill(200));
    expect(s.requests.count((e) => e.batch !== undefined && e.status === 429)).toBeGreaterThan(0);
  });

  it('gets a new token after a 401 when the provider can refresh', async () => {
    const s = await start({ faults: [{ route: '/domains', kind: 'expire-token', times: 1 }], limits: { enabled: false } });
    const cache = new Map<string, string>();
    const refreshing: TokenProvider = {
      canRefresh: true,
      description: 'test',
      token: async (api, refresh) => {
        if (refresh || !cache.has(api)) cache.set(api, s.token(api));
        return cache.get(api)!;
      },
    };
    const t = graph(s, refreshing);
    await t.list('/domains');
    await t.list('/domains');
    expect(s.requests.count((e) => e.status === 401)).toBe(1);
  });

  it('reports a paging loop instead of reading forever', async () => {
    const s = await start({ faults: [{ route: '/users', kind: 'loop-next-link' }], limits: { enabled: false } });
    await expect(graph(s).list('/users')).rejects.toThrow(/leads back to a page already read/);
  });
});

describe('Exchange transport', () => {
  it('pages InvokeCommand results by POSTing the nextLink with the same body', async () => {
    const s = await start({ generate: { mailboxes: 2500 }, limits: { enabled: false } });
    const t = new ExchangeTransport({ baseUrl: s.exoUrl, tenant: s.tenantId, tokens: fixed(s), pageSize: 1000 });
    const all = await t.invoke('Get-Mailbox', { ResultSize: 'Unlimited' });
    expect(all).toHaveLength(2511);
    expect(s.requests.count((e) => e.api === 'exchange')).toBe(3);
  });

  it('turns an Exchange error into a message naming the cmdlet and the exception type', async () => {
    const s = await start({ limits: { enabled: false } });
    const t = new ExchangeTransport({ baseUrl: s.exoUrl, tenant: s.tenantId, tokens: fixed(s) });
    await expect(t.invoke('Get-RemoteDomain', { Identity: 'nope' })).rejects.toThrow(/^Get-RemoteDomain: HTTP 404 Microsoft\.Exchange\.Configuration\.Tasks\.ManagementObjectNotFoundException: The operation couldn't be performed/);
  });

  it('never sends a create or a delete twice after a lost answer or a 5xx; a 429 (not carried out) is sent again', async () => {
    const s = await start({
      limits: { enabled: false },
      faults: [
        { route: '/oauth2PermissionGrants/', method: 'DELETE', kind: 'drop', times: 1 },
        { route: '/identity/conditionalAccess/policies$', method: 'POST', kind: 'status', status: 503, times: 1 },
        { route: '/policies/authorizationPolicy', method: 'PATCH', kind: 'reset', times: 1 },
        { route: '^/v1\\.0/groups$', kind: 'reset', times: 1 },
        { route: '^/v1\\.0/oauth2PermissionGrants$', method: 'POST', kind: 'throttle', retryAfter: 1, times: 1 },
      ],
    });
    const t = graph(s);
    const [grant] = [...s.tenant.graph.oauth2PermissionGrants.values()];
    await expect(t.request('DELETE', `/oauth2PermissionGrants/${grant!.id}`)).rejects.toBeInstanceOf(OutcomeUnknownError);
    expect(s.requests.count((e) => e.method === 'DELETE')).toBe(1);
    expect((await t.request('POST', '/identity/conditionalAccess/policies', { displayName: 'x' })).status).toBe(503);
    expect(s.requests.count((e) => e.method === 'POST' && e.path.includes('conditionalAccess'))).toBe(1);
    // PATCH and GET set or read a state: sent again.
    expect((await t.request('PATCH', '/policies/authorizationPolicy', { allowInvitesFrom: 'everyone' })).status).toBe(204);
    expect((await t.list('/groups')).length).toBeGreaterThan(0);
    // A 429 says the request was not carried out: a create is sent again after it.
    const created = await t.request('POST', '/oauth2PermissionGrants', { clientId: grant!['clientId'], consentType: 'AllPrincipals', resourceId: grant!['resourceId'], scope: 'User.Read' });
    expect(created.status).toBe(201);
    expect(s.requests.count((e) => e.method === 'POST' && e.path.endsWith('/oauth2PermissionGrants'))).toBe(2);

    const x = new ExchangeTransport({ baseUrl: s.exoUrl, tenant: s.tenantId, tokens: fixed(s), retry: { maxRetries: 3, baseDelayMs: 50, maxDelayMs: 2000 } });
    s.faults.add({ api: 'exchange', route: '^New-DkimSigningConfig$', kind: 'drop', times: 1 });
    s.faults.add({ api: 'exchange', route: '^Set-RemoteDomain$', kind: 'drop', times: 1 });
    await expect(x.invoke('New-DkimSigningConfig', { DomainName: 'tailspintoys.example', Enabled: true })).rejects.toBeInstanceOf(OutcomeUnknownError);
    expect(s.requests.count((e) => e.cmdlet === 'New-DkimSigningConfig')).toBe(1);
    await x.invoke('Set-RemoteDomain', { Identity: 'Default', AutoForwardEnabled: false });
    expect(s.requests.count((e) => e.cmdlet === 'Set-RemoteDomain')).toBe(2);
  });
});

