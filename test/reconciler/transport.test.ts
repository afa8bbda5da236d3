import { afterEach, describe, expect, it, vi } from 'vitest';
import type { TokenProvider } from '../../reconciler/auth/tokens.js';
import { ExchangeTransport } from '../../reconciler/transport/exchange.js';
import { GraphError, GraphTransport } from '../../reconciler/transport/graph.js';
import { send } from '../../reconciler/transport/http.js';
import { AuthLink, OutcomeUnknownError, PacingLink, pipeline, RefusedRequestError } from '../../reconciler/transport/middleware.js';
import { startSimulator, type RunningSimulator, type SimulatorOptions } from '../../simulator/index.js';
import { startCollector, type Collector } from './collector.js';

let sim: RunningSimulator | undefined;
let collector: Collector | undefined;
afterEach(async () => {
  await sim?.stop();
  await collector?.stop();
  sim = undefined;
  collector = undefined;
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
    // The waits the pacing asks for are computed, not measured, so this holds on a loaded machine.
    const s = await start({ limits: { enabled: false } });
    const waits: number[] = [];
    const t = new GraphTransport({ baseUrl: s.graphUrl, tokens: fixed(s), sleep: async (ms) => void waits.push(ms) });
    await Promise.all([t.list('/identity/conditionalAccess/policies'), t.list('/identity/conditionalAccess/policies'), t.list('/identity/conditionalAccess/policies')]);
    await t.list('/users?$select=id');
    expect(s.requests.count((e) => e.path.startsWith('/v1.0/identity/conditionalAccess'))).toBe(3);
    // The second and third requests were each held back until their own slot, 1.1 s after the one before.
    expect(waits).toHaveLength(2);
    const [second, third] = [...waits].sort((a, b) => a - b);
    expect(second).toBeGreaterThan(1000);
    expect(third! - second!).toBeGreaterThan(1000);
  });

  it('paces from when the request before was answered, not only from when it was started', async () => {
    // A clock of its own: the first request takes 500 ms to be answered (held up on the way, as on a busy connection).
    let clock = 10_000;
    const now = vi.spyOn(Date, 'now').mockImplementation(() => clock);
    try {
      const waits: number[] = [];
      const link = new PacingLink(() => true, 1100, async (ms) => {
        waits.push(ms);
        clock += ms;
      });
      const starts: number[] = [];
      link.setNext({ execute: async () => { starts.push(clock); clock += 500; } } as never);
      await link.execute({ request: 'https://graph.microsoft.com/v1.0/identity/conditionalAccess/policies' } as never);
      await link.execute({ request: 'https://graph.microsoft.com/v1.0/identity/conditionalAccess/policies' } as never);
      // Answered at 10 500, so the second starts at 11 600, not at 11 100 (600 ms after the first arrived, at most).
      expect(starts).toEqual([10_000, 11_600]);
      expect(waits).toEqual([1100]);
    } finally {
      now.mockRestore();
    }
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

describe('tokens go only to their own origin; redirects are never followed', () => {
  const exchange = (s: RunningSimulator) => new ExchangeTransport({ baseUrl: s.exoUrl, tenant: s.tenantId, tokens: fixed(s), retry: { maxRetries: 3, baseDelayMs: 50, maxDelayMs: 2000 } });
  const other = async () => (collector = await startCollector());

  it('the Exchange transport refuses a nextLink to another host: no request, no token, a failed read', async () => {
    const c = await other();
    const s = await start({ limits: { enabled: false }, faults: [{ api: 'exchange', route: '^Get-Mailbox$', kind: 'foreign-next-link', url: `${c.url}/adminapi/beta/x/InvokeCommand?$skiptoken=1` }] });
    await expect(exchange(s).invoke('Get-Mailbox', { ResultSize: 'Unlimited' })).rejects.toThrow(
      new RegExp(`^Get-Mailbox: HTTP 200: the service returned a nextLink to ${c.url.replace(/\./g, '\\.')}, which is not the Exchange endpoint`),
    );
    expect(c.requests).toEqual([]);
  });

  it('the Graph transport refuses a nextLink to another host', async () => {
    const c = await other();
    const s = await start({ limits: { enabled: false }, faults: [{ route: '^/v1.0/domains$', kind: 'foreign-next-link', url: `${c.url}/v1.0/domains?$skiptoken=1` }] });
    await expect(graph(s).list('/domains')).rejects.toThrow(/refusing to send the Graph token to http:\/\/127\.0\.0\.1:\d+, which is not the Graph endpoint/);
    expect(c.requests).toEqual([]);
  });

  it('a redirect to another host is a failed read, not its body taken as tenant data', async () => {
    const c = await other();
    const s = await start({
      limits: { enabled: false },
      faults: [
        { route: '^/v1.0/domains$', kind: 'redirect', status: 302, url: `${c.url}/v1.0/domains` },
        { api: 'exchange', route: '^Get-AcceptedDomain$', kind: 'redirect', status: 307, url: `${c.url}/adminapi/beta/x/InvokeCommand` },
      ],
    });
    await expect(graph(s).list('/domains')).rejects.toThrow(/^HTTP 302 redirect to http:\/\/127\.0\.0\.1:\d+\/v1\.0\/domains \(another origin\) not followed/);
    await expect(exchange(s).invoke('Get-AcceptedDomain')).rejects.toThrow(/^HTTP 307 redirect to http:\/\/127\.0\.0\.1:\d+\/adminapi\/beta\/x\/InvokeCommand \(another origin\) not followed/);
    expect(c.requests).toEqual([]);
    // Refused once, not retried: a redirect is an answer, not a failure that may pass.
    expect(s.requests.count((e) => e.path.startsWith('/v1.0/domains'))).toBe(1);
  });

  it('a redirect on the same host is not followed either: the answer is read only from the URL asked', async () => {
    const s = await start({ limits: { enabled: false }, faults: [{ route: '^/v1.0/domains$', kind: 'redirect', status: 301, url: '/v1.0/users', times: 1 }] });
    const t = graph(s);
    await expect(t.list('/domains')).rejects.toThrow(/^HTTP 301 redirect to http:\/\/127\.0\.0\.1:\d+\/v1\.0\/users not followed/);
    expect(s.requests.count((e) => e.path.startsWith('/v1.0/users'))).toBe(0);
    expect((await t.list('/domains')).length).toBe(4);
  });

  it('the auth link puts the token on requests to its own origin only, whatever URL reaches it', async () => {
    const c = await other();
    const s = await start({ limits: { enabled: false } });
    let asked = 0;
    const tokens: TokenProvider = { canRefresh: false, description: 'test', token: async () => (asked++, s.token('graph')) };
    const chain = pipeline([new AuthLink(tokens, 'graph', new URL(s.graphUrl).origin)]);
    await expect(send(chain, 'GET', `${c.url}/v1.0/domains`, undefined)).rejects.toBeInstanceOf(RefusedRequestError);
    await expect(send(chain, 'GET', `${c.url}/v1.0/domains`, undefined)).rejects.toThrow(/refusing to send the Graph token to http:\/\/127\.0\.0\.1:\d+, which is not the configured endpoint/);
    expect(c.requests).toEqual([]);
    expect(asked).toBe(0);
    expect((await send<{ value: unknown[] }>(chain, 'GET', `${s.graphUrl}/v1.0/domains`, undefined)).body.value).toHaveLength(4);
  });
});

describe('what a hostile answer may try: every redirect status, and nextLinks that are not plainly on the endpoint', () => {
  const exchange = (s: RunningSimulator) => new ExchangeTransport({ baseUrl: s.exoUrl, tenant: s.tenantId, tokens: fixed(s), retry: { maxRetries: 3, baseDelayMs: 50, maxDelayMs: 2000 } });
  const outcome = (p: Promise<unknown[]>) => p.then((v) => `read ${v.length}`, (e: Error) => e.message);

  it.each([301, 302, 303, 307, 308])('HTTP %i to another host is a failed read on both transports, sent once, never followed', async (status) => {
    const c = (collector = await startCollector());
    const s = await start({
      limits: { enabled: false },
      faults: [
        { route: '^/v1.0/domains$', kind: 'redirect', status, url: `${c.url}/v1.0/domains` },
        { api: 'exchange', route: '^Get-AcceptedDomain$', kind: 'redirect', status, url: `${c.url}/adminapi/beta/x/InvokeCommand` },
      ],
    });
    await expect(graph(s).list('/domains')).rejects.toThrow(new RegExp(`^HTTP ${status} redirect to http://127\\.0\\.0\\.1:\\d+/v1\\.0/domains \\(another origin\\) not followed`));
    await expect(exchange(s).invoke('Get-AcceptedDomain')).rejects.toThrow(new RegExp(`^HTTP ${status} redirect to http://127\\.0\\.0\\.1:\\d+/adminapi/beta/x/InvokeCommand \\(another origin\\) not followed`));
    expect(c.requests).toEqual([]);
    expect(s.requests.entries.map((e) => e.status)).toEqual([status, status]);
  });

  it('a redirect to a protocol-relative Location is refused too, and says it points elsewhere', async () => {
    const c = (collector = await startCollector());
    const s = await start({ limits: { enabled: false }, faults: [{ route: '^/v1.0/domains$', kind: 'redirect', status: 302, url: `//${new URL(c.url).host}/v1.0/domains` }] });
    await expect(graph(s).list('/domains')).rejects.toThrow(/^HTTP 302 redirect to http:\/\/127\.0\.0\.1:\d+\/v1\.0\/domains \(another origin\) not followed/);
    expect(c.requests).toEqual([]);
  });

  /** nextLinks a hostile answer could give, each with the reason it is refused; `own` is the transport's endpoint, `other` the collector's host. */
  const hostileLinks = (own: string, other: string, path: string): Array<[string, RegExp]> => {
    const o = new URL(own);
    return [
      [`//${other}${path}?$skiptoken=1`, /nextLink that is not an absolute URL/],
      [`${path}?$skiptoken=2`, /nextLink that is not an absolute URL/],
      [`http:${other}${path}?$skiptoken=3`, /nextLink that is not an absolute http\(s\) URL/],
      [`http:\\\\${other}${path}?$skiptoken=4`, /nextLink that is not an absolute http\(s\) URL/],
      [`  ${o.origin}${path}?$skiptoken=5`, /nextLink that is not an absolute http\(s\) URL/],
      [`${o.protocol}//${o.host}@${other}${path}?$skiptoken=6`, /nextLink with a user name or password in it/],
      [`${o.protocol}//user:secret@${o.host}${path}?$skiptoken=7`, /nextLink with a user name or password in it/],
      [`ftp://${o.host}${path}`, /nextLink that is not an absolute http\(s\) URL/],
    ];
  };

  it('Graph: a relative, protocol-relative, malformed or credential-carrying nextLink is a failed read; nothing is sent for it', async () => {
    const c = (collector = await startCollector());
    const s = await start({ limits: { enabled: false } });
    for (const [link, reason] of hostileLinks(s.graphUrl, new URL(c.url).host, '/v1.0/domains')) {
      s.faults.clear();
      s.faults.add({ route: '^/v1.0/domains$', kind: 'foreign-next-link', url: link, times: 1 });
      s.requests.clear();
      expect(await outcome(graph(s).list('/domains')), link).toMatch(reason);
      expect(s.requests.entries.map((e) => e.path), link).toEqual(['/v1.0/domains']);
    }
    expect(c.requests).toEqual([]);
  });

  it('Exchange: the same nextLinks are failed reads; nothing is POSTed for them', async () => {
    const c = (collector = await startCollector());
    const s = await start({ limits: { enabled: false } });
    const path = `/adminapi/beta/${s.tenantId}/InvokeCommand`;
    for (const [link, reason] of hostileLinks(s.exoUrl, new URL(c.url).host, path)) {
      s.faults.clear();
      s.faults.add({ api: 'exchange', route: '^Get-AcceptedDomain$', kind: 'foreign-next-link', url: link, times: 1 });
      s.requests.clear();
      expect(await outcome(exchange(s).invoke('Get-AcceptedDomain')), link).toMatch(new RegExp(`^Get-AcceptedDomain: HTTP 200: .*${reason.source}`));
      expect(s.requests.entries.map((e) => e.path), link).toEqual([path]);
    }
    expect(c.requests).toEqual([]);
  });

  it('the same endpoint written with another case or scheme: the same origin is followed, another scheme is not', async () => {
    const s = await start({ limits: { enabled: false } });
    const own = new URL(s.graphUrl);
    s.faults.add({ route: '^/v1.0/domains$', kind: 'foreign-next-link', url: `HTTP://${own.host.toUpperCase()}/v1.0/domains?$skip=0`, times: 1 });
    // The page, and the same collection again through the link: the link was followed, on the same origin.
    expect(await outcome(graph(s).list('/domains'))).toBe('read 8');
    s.faults.add({ route: '^/v1.0/domains$', kind: 'foreign-next-link', url: `https://${own.host}/v1.0/domains?$skip=0`, times: 1 });
    expect(await outcome(graph(s).list('/domains'))).toMatch(/refusing to send the Graph token to https:\/\/127\.0\.0\.1:\d+, which is not the Graph endpoint http:/);
  });

  it('the auth link refuses a URL with a user name or password, even on its own origin, and does not retry it', async () => {
    const s = await start({ limits: { enabled: false } });
    let asked = 0;
    const tokens: TokenProvider = { canRefresh: false, description: 'test', token: async () => (asked++, s.token('graph')) };
    const t = graph(s, tokens);
    const own = new URL(s.graphUrl);
    await expect(t.request('GET', `${own.protocol}//user:secret@${own.host}/v1.0/domains`)).rejects.toThrow(/^refusing to send the Graph token to a URL with a user name or password in it/);
    expect(asked).toBe(0);
    expect(t.stats.retries).toBe(0);
    expect(s.requests.entries).toEqual([]);
  });
});
