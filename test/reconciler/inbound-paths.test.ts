import { describe, expect, it } from 'vitest';
import { entriesHolding, inboundPaths, isEopHost, type PathInputs } from '../../reconciler/checks/inbound-paths.js';
import { readMx } from '../../reconciler/resources/mx-record.js';

type Obj = Record<string, unknown>;

const domain = (d: string): Obj => ({ DomainName: d, DomainType: 'Authoritative' });
const antiPhish: Obj = { Name: 'Office365 AntiPhish Default', IsDefault: true, HonorDmarcPolicy: true, DmarcRejectAction: 'Reject', DmarcQuarantineAction: 'Quarantine', EnableSpoofIntelligence: true, AuthenticationFailAction: 'MoveToJmf' };
const gatewayConnector = (extra: Obj = {}): Obj => ({ Name: 'From gateway', Enabled: true, ConnectorType: 'OnPremises', SenderIPAddresses: ['198.51.100.25'], EFSkipLastIP: false, EFSkipIPs: [], EFUsers: [], EFTestMode: false, ...extra });

function inputs(o: Partial<PathInputs> = {}): PathInputs {
  return {
    acceptedDomains: [domain('contoso.example'), domain('fabrikam.example')],
    mx: { 'contoso.example': [{ preference: 0, exchange: 'contoso-example.mail.protection.outlook.com' }], 'fabrikam.example': [{ preference: 10, exchange: 'mx1.gateway.example' }] },
    connectors: [],
    transportRules: [],
    connectionFilter: [{ Name: 'Default', IPAllowList: [] }],
    spoofItems: [],
    antiPhish,
    ...o,
  };
}
const outcomes = (p: { dispositions: Record<string, { outcome: string }> }) => Object.fromEntries(Object.entries(p.dispositions).map(([k, v]) => [k, v.outcome]));

describe('the inbound path map', () => {
  it('an MX on Exchange Online Protection is a direct path, judged by the anti-phishing policy', () => {
    const [eop] = inboundPaths(inputs());
    expect(eop).toMatchObject({ key: 'contoso.example/eop', entry: 'eop', hosts: ['contoso-example.mail.protection.outlook.com'], enhancedFiltering: 'not-applicable', bypasses: [] });
    expect(outcomes(eop!)).toEqual({ 'dmarc-reject': 'reject', 'dmarc-quarantine': 'quarantine', 'spf-hardfail': 'junk', 'compauth-fail': 'junk' });
    expect(eop!.dispositions['dmarc-reject'].because).toBe('anti-phishing policy "Office365 AntiPhish Default" honours DMARC p=reject (DmarcRejectAction Reject)');
  });

  it('a gateway without enhanced filtering delivers every failure to the inbox, and says why', () => {
    const paths = inboundPaths(inputs({ connectors: [gatewayConnector()] }));
    const gw = paths.find((p) => p.entry === 'gateway')!;
    expect(gw).toMatchObject({ key: 'fabrikam.example/gateway:mx1.gateway.example', connector: 'From gateway', enhancedFiltering: 'off' });
    expect(new Set(Object.values(outcomes(gw)))).toEqual(new Set(['inbox']));
    expect(gw.dispositions['dmarc-reject'].because).toMatch(/judges the gateway, not the sender/);
  });

  it('enhanced filtering on the gateway connector makes the path judged like a direct one; test mode or some recipients only does not', () => {
    const on = inboundPaths(inputs({ connectors: [gatewayConnector({ EFSkipLastIP: true })] })).find((p) => p.entry === 'gateway')!;
    expect(on.enhancedFiltering).toBe('on');
    expect(outcomes(on)['dmarc-reject']).toBe('reject');
    const test = inboundPaths(inputs({ connectors: [gatewayConnector({ EFSkipIPs: ['198.51.100.25'], EFTestMode: true })] })).find((p) => p.entry === 'gateway')!;
    expect([test.enhancedFiltering, outcomes(test)['dmarc-reject']]).toEqual(['test', 'inbox']);
    const some = inboundPaths(inputs({ connectors: [gatewayConnector({ EFSkipLastIP: true, EFUsers: ['ceo@fabrikam.example'] })] })).find((p) => p.entry === 'gateway')!;
    expect([some.enhancedFiltering, outcomes(some)['dmarc-reject']]).toEqual(['some', 'inbox']);
  });

  it('the gateway allow-listed in the connection filter skips everything on its path; an unrelated entry is listed, not decisive', () => {
    const allowed = inboundPaths(inputs({ connectors: [gatewayConnector({ EFSkipLastIP: true })], connectionFilter: [{ Name: 'Default', IPAllowList: ['198.51.100.0/24'] }] }));
    const gw = allowed.find((p) => p.entry === 'gateway')!;
    expect(gw.bypasses).toEqual([{ kind: 'ip-allow-list', name: 'Default', detail: 'connection filter policy "Default" allows 198.51.100.0/24 (this path\'s own servers)', scope: 'all' }]);
    expect(outcomes(gw)['dmarc-reject']).toBe('inbox');
    const eop = allowed.find((p) => p.entry === 'eop')!;
    expect(eop.bypasses.map((b) => b.scope)).toEqual(['some']);
    expect(outcomes(eop)['dmarc-reject']).toBe('reject');
  });

  it('an SCL -1 rule with no condition bypasses every path; one for a sender domain only is listed; a disabled or test-mode one is not', () => {
    const rules: Obj[] = [
      { Name: 'Marketing platform', State: 'Enabled', Mode: 'Enforce', SetSCL: -1, SenderDomainIs: ['mailer.example'] },
      { Name: 'Old bypass', State: 'Disabled', Mode: 'Enforce', SetSCL: -1 },
      { Name: 'Trial', State: 'Enabled', Mode: 'Audit', SetSCL: -1 },
    ];
    const [eop] = inboundPaths(inputs({ transportRules: rules }));
    expect(eop!.bypasses).toEqual([{ kind: 'scl-minus-one', name: 'Marketing platform', detail: 'transport rule "Marketing platform" sets SCL -1 from senders in mailer.example', scope: 'some' }]);
    expect(outcomes(eop!)['compauth-fail']).toBe('junk');
    const [all] = inboundPaths(inputs({ transportRules: [{ Name: 'Everything', State: 'Enabled', Mode: 'Enforce', SetSCL: -1 }] }));
    expect(outcomes(all!)).toEqual({ 'dmarc-reject': 'inbox', 'dmarc-quarantine': 'inbox', 'spf-hardfail': 'inbox', 'compauth-fail': 'inbox' });
  });

  it('DMARC not honoured and spoof intelligence off: failures reach the inbox; a quarantine action quarantines', () => {
    const [off] = inboundPaths(inputs({ antiPhish: { ...antiPhish, HonorDmarcPolicy: false, EnableSpoofIntelligence: false } }));
    expect(new Set(Object.values(outcomes(off!)))).toEqual(new Set(['inbox']));
    const [q] = inboundPaths(inputs({ antiPhish: { ...antiPhish, HonorDmarcPolicy: false, AuthenticationFailAction: 'Quarantine' } }));
    expect(outcomes(q!)).toEqual({ 'dmarc-reject': 'quarantine', 'dmarc-quarantine': 'quarantine', 'spf-hardfail': 'quarantine', 'compauth-fail': 'quarantine' });
  });

  it('a partner connector is a path of its own; a domain with no MX or a null MX still receives at its own EOP host', () => {
    const paths = inboundPaths(inputs({
      acceptedDomains: [domain('contoso.example'), domain('parked.example'), domain('null.example')],
      mx: { 'contoso.example': [{ preference: 0, exchange: 'contoso-example.mail.protection.outlook.com' }], 'null.example': [{ preference: 0, exchange: '.' }] },
      connectors: [{ Name: 'Partner Woodgrove', Enabled: true, ConnectorType: 'Partner', SenderDomains: ['smtp:woodgrove.example;1'], SenderIPAddresses: [] }],
    }));
    expect(paths.map((p) => [p.key, p.hosts, p.unpublished ?? false])).toEqual([
      ['contoso.example/eop', ['contoso-example.mail.protection.outlook.com'], false],
      ['null.example/eop', ['null-example.mail.protection.outlook.com'], true],
      ['parked.example/eop', ['parked-example.mail.protection.outlook.com'], true],
      ['*/partner:partner woodgrove', [], false],
    ]);
  });

  it('the gateway\'s connector is the one whose certificate names it, then a partner connector for every domain, then an on-premises one', () => {
    const hybrid = { Name: 'Hybrid on-premises', Enabled: true, ConnectorType: 'OnPremises', SenderIPAddresses: ['192.0.2.10'] };
    const byCert = { Name: 'Gateway by certificate', Enabled: true, ConnectorType: 'Partner', SenderDomains: ['smtp:*;1'], TlsSenderCertificateName: '*.gateway.example', EFSkipLastIP: true };
    const byIp = { Name: 'Gateway by IP', Enabled: true, ConnectorType: 'Partner', SenderDomains: ['smtp:*;1'], SenderIPAddresses: ['198.51.100.25'] };
    const gwOf = (connectors: Obj[]) => inboundPaths(inputs({ connectors })).find((p) => p.entry === 'gateway')!;
    expect(gwOf([hybrid, byCert]).connector).toBe('Gateway by certificate');
    expect(gwOf([hybrid, byIp]).connector).toBe('Gateway by IP');
    expect(gwOf([hybrid]).connector).toBe('Hybrid on-premises');
    // The gateway's own connector is no partner path of its own.
    expect(inboundPaths(inputs({ connectors: [hybrid, byCert] })).filter((p) => p.entry === 'partner')).toEqual([]);
  });

  it('an SCL -1 rule skips filtering for every message only without conditions, or for every outside sender, or from the path\'s own servers', () => {
    const rule = (o: Obj): Obj => ({ Name: 'R', State: 'Enabled', Mode: 'Enforce', SetSCL: -1, ...o });
    const scope = (o: Obj) => inboundPaths(inputs({ transportRules: [rule(o)], connectors: [gatewayConnector()] })).find((p) => p.entry === 'gateway')!.bypasses[0]!.scope;
    expect(scope({})).toBe('all');
    expect(scope({ FromScope: 'NotInOrganization' })).toBe('all');
    expect(scope({ SenderIpRanges: ['198.51.100.0/24'] })).toBe('all');
    expect(scope({ FromScope: 'InOrganization' })).toBe('some');
    expect(scope({ HeaderContainsMessageHeader: 'X-Scanned', HeaderContainsWords: ['yes'] })).toBe('some');
    expect(scope({ SenderIpRanges: ['198.51.100.0/24'], ExceptIfSentTo: ['ceo@fabrikam.example'] })).toBe('some');
    expect(scope({ From: ['news@mailer.example'] })).toBe('some');
  });
});

describe('helpers', () => {
  it('IPv4 entries as Exchange stores them hold an address: single, range, CIDR', () => {
    expect(entriesHolding(['198.51.100.25', '203.0.113.1-203.0.113.9', '192.0.2.0/24', 'bogus'], '192.0.2.7')).toEqual(['192.0.2.0/24']);
    expect(entriesHolding(['203.0.113.1-203.0.113.9'], '203.0.113.9')).toEqual(['203.0.113.1-203.0.113.9']);
    expect(entriesHolding(['198.51.100.25'], '2001:db8::1')).toEqual([]);
  });
  it('Exchange Online Protection hosts', () => {
    expect([isEopHost('contoso-com.mail.protection.outlook.com'), isEopHost('contoso-com.l-v1.mx.microsoft'), isEopHost('mx.gateway.example')]).toEqual([true, true, false]);
  });
});

describe('readMx', () => {
  const resolver = {
    resolveMx: async (name: string) => {
      if (name === 'contoso.example') return [{ exchange: 'MX2.Gateway.example', priority: 20 }, { exchange: 'mx1.gateway.example', priority: 10 }];
      if (name === 'parked.example') throw Object.assign(new Error('queryMx ENODATA'), { code: 'ENODATA' });
      throw Object.assign(new Error('queryMx ESERVFAIL'), { code: 'ESERVFAIL' });
    },
  };
  it('sorts by preference, lower-cases the exchange; no record is no MX; a failed query is an error, never "no MX"', async () => {
    expect(await readMx(['contoso.example', 'parked.example', 'broken.example'], resolver)).toEqual([
      { domain: 'contoso.example', records: [{ preference: 10, exchange: 'mx1.gateway.example' }, { preference: 20, exchange: 'mx2.gateway.example' }] },
      { domain: 'parked.example', records: [] },
      { domain: 'broken.example', error: 'ESERVFAIL' },
    ]);
    expect(await readMx(['contoso.example'], {})).toEqual([{ domain: 'contoso.example', error: 'the resolver cannot query MX records' }]);
  });
});
