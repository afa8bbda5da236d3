import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadScenario, type RunningSimulator } from '../../simulator/index.js';
import { exo, start } from './helpers.js';

/** The compliant tenant with a gateway's connector and two spoof pairs, as a scenario would give them. */
function scenario() {
  const s = loadScenario('compliant') as unknown as { exchange: Record<string, unknown[]> };
  s.exchange['InboundConnector'] = [
    { Guid: '0f3c9a52-6b1e-4d7a-9c2e-5a8b7d6e4f10', Identity: 'From gateway', Name: 'From gateway', ConnectorType: 'OnPremises', SenderIPAddresses: ['198.51.100.25'], WhenChanged: '2025-03-01T10:00:00Z' },
  ];
  s.exchange['TenantAllowBlockListSpoofItems'] = [
    { Guid: 'a1', Identity: '375e76f1-eefb-1626-c8bc-5efefd057488', ObjectId: '375e76f1-eefb-1626-c8bc-5efefd057488', Action: 'Allow', SpoofType: 'External', SpoofedUser: 'fabrikam.example', SendingInfrastructure: 'mailer.example' },
    { Guid: 'b2', Identity: 'f8cb0908-8533-1156-ce7b-9aebd685b0eb', ObjectId: 'f8cb0908-8533-1156-ce7b-9aebd685b0eb', Action: 'Block', SpoofType: 'Internal', SpoofedUser: 'ceo@tailspintoys.example', SendingInfrastructure: '203.0.113.0/24' },
  ];
  return s;
}

describe('Get-/Set-InboundConnector', () => {
  let sim: RunningSimulator;
  let bare: RunningSimulator;
  beforeAll(async () => {
    [sim, bare] = await Promise.all([start({ scenario: scenario() as never }), start()]);
  });
  afterAll(() => Promise.all([sim.stop(), bare.stop()]));

  it('a new organisation has no connector', async () => {
    expect((await exo(bare, 'Get-InboundConnector')).body.value).toEqual([]);
  });

  it('a connector comes with the service defaults: enhanced filtering off, TLS not required, any sender domain', async () => {
    const [c] = (await exo(sim, 'Get-InboundConnector')).body.value;
    expect(c).toMatchObject({ Identity: 'From gateway', ConnectorType: 'OnPremises', Enabled: true, SenderIPAddresses: ['198.51.100.25'], SenderDomains: ['smtp:*;1'], EFSkipLastIP: false, EFSkipIPs: [], EFUsers: [], EFTestMode: false, RequireTls: false });
    expect(c).not.toHaveProperty('id');
  });

  it('turns enhanced filtering on (skip the last IP) and back, stamping WhenChanged; a wrong connector type is refused as binding does', async () => {
    expect((await exo(sim, 'Set-InboundConnector', { Identity: 'from gateway', EFSkipLastIP: true })).status).toBe(200);
    const [on] = (await exo(sim, 'Get-InboundConnector', { Identity: 'From gateway' })).body.value;
    expect(on).toMatchObject({ EFSkipLastIP: true });
    expect(on.WhenChanged).not.toBe('2025-03-01T10:00:00Z');
    const bad = await exo(sim, 'Set-InboundConnector', { Identity: 'From gateway', ConnectorType: 'Gateway' });
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.body)).toContain('ParameterBindingException');
    await exo(sim, 'Set-InboundConnector', { Identity: 'From gateway', EFSkipLastIP: false });
    expect((await exo(sim, 'Get-InboundConnector')).body.value[0]).toMatchObject({ EFSkipLastIP: false, ConnectorType: 'OnPremises' });
  });
});

describe('Get-TenantAllowBlockListSpoofItems', () => {
  let sim: RunningSimulator;
  beforeAll(async () => {
    sim = await start({ scenario: scenario() as never });
  });
  afterAll(() => sim.stop());

  it('lists every spoof pair, and filters by -Action and -SpoofType', async () => {
    expect((await exo(sim, 'Get-TenantAllowBlockListSpoofItems')).body.value.map((e: { SpoofedUser: string }) => e.SpoofedUser)).toEqual(['fabrikam.example', 'ceo@tailspintoys.example']);
    expect((await exo(sim, 'Get-TenantAllowBlockListSpoofItems', { Action: 'allow' })).body.value.map((e: { Action: string }) => e.Action)).toEqual(['Allow']);
    expect((await exo(sim, 'Get-TenantAllowBlockListSpoofItems', { SpoofType: 'Internal' })).body.value.map((e: { SendingInfrastructure: string }) => e.SendingInfrastructure)).toEqual(['203.0.113.0/24']);
    expect((await exo(sim, 'Get-TenantAllowBlockListSpoofItems', { Action: 'Permit' })).status).toBe(400);
  });
});

describe('the gateway scenario', () => {
  let sim: RunningSimulator;
  beforeAll(async () => {
    sim = await start({ scenario: 'gateway' });
  });
  afterAll(() => sim.stop());

  it('answers the gateway MX (and the news subdomain\'s EOP MX), its connector without enhanced filtering, the partner connector and the marketing SCL -1 rule', async () => {
    const connectors = (await exo(sim, 'Get-InboundConnector')).body.value as Array<Record<string, unknown>>;
    expect(connectors.map((c) => [c['Name'], c['ConnectorType'], c['EFSkipLastIP']])).toEqual([['From Secure Gateway', 'OnPremises', false], ['Partner Woodgrove Bank', 'Partner', false]]);
    const rules = (await exo(sim, 'Get-TransportRule')).body.value as Array<Record<string, unknown>>;
    expect(rules.find((r) => r['Name'] === 'Marketing platform bypass')).toMatchObject({ SetSCL: -1, SenderDomainIs: ['campaigns.mailer-platform.example'] });
    expect(sim.tenant.dns.filter((r) => r.type === 'MX')).toEqual([
      expect.objectContaining({ name: 'tailspintoys.example', data: '10 mx1.secure-gateway.example' }),
      expect.objectContaining({ name: 'news.tailspintoys.example', data: '0 news-tailspintoys-example.mail.protection.outlook.com' }),
    ]);
  });
});
