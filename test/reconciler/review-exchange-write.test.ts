import { afterEach, describe, expect, it } from 'vitest';
import type { TokenProvider } from '../../reconciler/auth/tokens.js';
import { ExchangeTransport } from '../../reconciler/transport/exchange.js';
import { startSimulator, type RunningSimulator } from '../../simulator/index.js';

let sim: RunningSimulator | undefined;
afterEach(async () => {
  await sim?.stop();
  sim = undefined;
});

const fixed = (s: RunningSimulator): TokenProvider => ({ canRefresh: false, description: 'test', token: async (api) => s.token(api) });

describe('an Exchange write is sent once, whatever its answer says', () => {
  it('a nextLink in the answer to New-DkimSigningConfig does not send the create again', async () => {
    const s = (sim = await startSimulator({ scenario: 'compliant', limits: { enabled: false } }));
    const news = [...s.tenant.exchange.DkimSigningConfig.values()].find((d) => d['Domain'] === 'news.tailspintoys.example')!;
    s.tenant.exchange.DkimSigningConfig.remove(news.id);
    // The answer carries a nextLink on the Exchange endpoint itself: following it POSTs the same cmdlet again.
    s.faults.add({ api: 'exchange', route: '^New-DkimSigningConfig$', kind: 'foreign-next-link', url: `${s.exoUrl}/adminapi/beta/${s.tenantId}/InvokeCommand?$skiptoken=2`, times: 1 });
    const x = new ExchangeTransport({ baseUrl: s.exoUrl, tenant: s.tenantId, tokens: fixed(s), retry: { maxRetries: 3, baseDelayMs: 50, maxDelayMs: 2000 } });
    await x.invoke('New-DkimSigningConfig', { DomainName: 'news.tailspintoys.example', Enabled: true }).catch(() => undefined);
    expect(s.requests.count((e) => e.cmdlet === 'New-DkimSigningConfig')).toBe(1);
  });

  it('nor does one in the answer to a Set- cmdlet', async () => {
    const s = (sim = await startSimulator({ scenario: 'compliant', limits: { enabled: false } }));
    s.faults.add({ api: 'exchange', route: '^Set-RemoteDomain$', kind: 'foreign-next-link', url: `${s.exoUrl}/adminapi/beta/${s.tenantId}/InvokeCommand?$skiptoken=2`, times: 1 });
    const x = new ExchangeTransport({ baseUrl: s.exoUrl, tenant: s.tenantId, tokens: fixed(s), retry: { maxRetries: 3, baseDelayMs: 50, maxDelayMs: 2000 } });
    await x.invoke('Set-RemoteDomain', { Identity: 'Default', AutoForwardEnabled: false }).catch(() => undefined);
    expect(s.requests.count((e) => e.cmdlet === 'Set-RemoteDomain')).toBe(1);
  });
});
