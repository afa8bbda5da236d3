import { describe, expect, it } from 'vitest';
import { loadScenario } from '../../simulator/index.js';
import { evaluateSpf, dmarcRecordOf } from '../../simulator/smtp/auth.js';
import { mailConfigFrom } from '../../simulator/smtp/config.js';
import { judge, type MailConfig, type MessageFacts } from '../../simulator/smtp/judge.js';
import { analyzedEmailOf, messageTraceOf } from '../../simulator/smtp/record.js';
import { EOP_HOST, GATEWAY_HOST, gatewayMessages } from '../../simulator/scenario/gateway.js';
import type { DnsRecord } from '../../simulator/dns/zone.js';

/**
 * The judge alone: message facts and the tenant's configuration in, what Exchange Online Protection
 * would do out. The configuration is the gateway scenario's (MX to a gateway whose connector has
 * enhanced filtering off, tailspintoys.example at p=reject, news.tailspintoys.example at
 * p=quarantine), changed one setting at a time.
 */
type Obj = Record<string, unknown>;

function gatewayConfig(change: { connector?: Obj; antiPhish?: Obj; connectionFilter?: Obj; rules?: Obj[]; spoofItems?: Obj[]; dns?: DnsRecord[] } = {}): MailConfig {
  const s = loadScenario('gateway');
  const exchange = s.exchange as unknown as Record<string, Obj[] | undefined>;
  const base = mailConfigFrom((noun) => exchange[noun] ?? [], s.dns);
  return {
    ...base,
    inboundConnectors: base.inboundConnectors.map((c) => (c['Name'] === 'From Secure Gateway' ? { ...c, ...change.connector } : c)),
    antiPhishPolicies: base.antiPhishPolicies.map((p) => (p['IsDefault'] === true ? { ...p, ...change.antiPhish } : p)),
    connectionFilterPolicies: base.connectionFilterPolicies.map((p) => ({ ...p, ...change.connectionFilter })),
    transportRules: [...base.transportRules, ...(change.rules ?? [])],
    spoofItems: change.spoofItems ?? base.spoofItems,
    dns: [...base.dns, ...(change.dns ?? [])],
  };
}

/** A spoof of the CISO's address sent from an outside server. */
const spoof = (o: Partial<MessageFacts> = {}): MessageFacts => ({ host: GATEWAY_HOST, clientIp: '203.0.113.77', mailFrom: 'ciso@tailspintoys.example', from: 'ciso@tailspintoys.example', recipient: 'payroll@tailspintoys.example', ...o });

describe('the judge: a gateway in front of Exchange Online Protection', () => {
  it('without enhanced filtering judges the gateway and delivers a spoof of the own domain (compauth none, reason 905)', () => {
    const v = judge(spoof(), gatewayConfig());
    expect(v).toMatchObject({
      disposition: 'inbox', path: 'gateway', connector: 'From Secure Gateway', enhancedFiltering: false,
      evaluatedIp: '198.51.100.25', connectingIp: '198.51.100.25', spf: 'fail', dkim: 'none', dmarc: 'fail', dmarcPolicy: 'reject', compauth: 'none', compauthReason: '905',
    });
    expect(v.reply).toBeUndefined();
    expect(v.because).toMatch(/gateway's IP 198\.51\.100\.25, not the sender/);
  });

  it('with enhanced filtering (skip the last IP) judges the sender: the same spoof is refused with 550 5.7.509', () => {
    const v = judge(spoof(), gatewayConfig({ connector: { EFSkipLastIP: true } }));
    expect(v).toMatchObject({ disposition: 'reject', enhancedFiltering: true, evaluatedIp: '203.0.113.77', connectingIp: '198.51.100.25', compauth: 'fail', compauthReason: '010', policy: 'Office365 AntiPhish Default', action: 'DmarcRejectAction Reject' });
    expect(v.reply).toBe('550 5.7.509 Access denied, sending domain [TAILSPINTOYS.EXAMPLE] does not pass DMARC verification and has a DMARC policy of reject.');
    expect(judge(spoof(), gatewayConfig({ connector: { EFSkipIPs: ['198.51.100.0/24'] } })).disposition).toBe('reject');
  });

  it('enhanced filtering in test mode, or for other recipients only, still judges the gateway', () => {
    expect(judge(spoof(), gatewayConfig({ connector: { EFSkipLastIP: true, EFTestMode: true } }))).toMatchObject({ disposition: 'inbox', enhancedFiltering: false, compauthReason: '905' });
    expect(judge(spoof(), gatewayConfig({ connector: { EFSkipLastIP: true, EFUsers: ['ciso@tailspintoys.example'] } }))).toMatchObject({ disposition: 'inbox', enhancedFiltering: false });
    expect(judge(spoof(), gatewayConfig({ connector: { EFSkipLastIP: true, EFUsers: ['PAYROLL@tailspintoys.example'] } }))).toMatchObject({ disposition: 'reject', enhancedFiltering: true });
  });

  it('a DKIM signature aligned with the From domain passes DMARC even through the gateway', () => {
    const v = judge({ host: GATEWAY_HOST, clientIp: '203.0.113.20', mailFrom: 'orders@fabrikam.example', from: 'orders@fabrikam.example', recipient: 'alex.kim@tailspintoys.example', dkim: { result: 'pass', domain: 'fabrikam.example' } }, gatewayConfig());
    expect(v).toMatchObject({ disposition: 'inbox', spf: 'fail', dkim: 'pass', dmarc: 'pass', compauth: 'pass' });
  });
});

describe('the judge: straight to Exchange Online Protection', () => {
  it('refuses a spoof of a p=reject domain', () => {
    expect(judge(spoof({ host: EOP_HOST }), gatewayConfig())).toMatchObject({ disposition: 'reject', path: 'eop', connector: undefined, evaluatedIp: '203.0.113.77', spf: 'fail', dmarc: 'fail' });
    expect(judge(spoof({ host: 'contoso-com.l-v1.mx.microsoft' }), gatewayConfig()).disposition).toBe('reject');
  });

  it('quarantines a spoof of a p=quarantine domain, or moves it to Junk when the policy says so', () => {
    const news = spoof({ host: EOP_HOST, from: 'billing@news.tailspintoys.example', mailFrom: 'billing@news.tailspintoys.example' });
    expect(judge(news, gatewayConfig())).toMatchObject({ disposition: 'quarantine', dmarcPolicy: 'quarantine', action: 'DmarcQuarantineAction Quarantine' });
    expect(judge(news, gatewayConfig({ antiPhish: { DmarcQuarantineAction: 'MoveToJmf' } }))).toMatchObject({ disposition: 'junk', action: 'DmarcQuarantineAction MoveToJmf' });
  });

  it('DmarcRejectAction Quarantine quarantines; without HonorDmarcPolicy spoof intelligence decides (AuthenticationFailAction)', () => {
    expect(judge(spoof({ host: EOP_HOST }), gatewayConfig({ antiPhish: { DmarcRejectAction: 'Quarantine' } }))).toMatchObject({ disposition: 'quarantine', action: 'DmarcRejectAction Quarantine' });
    expect(judge(spoof({ host: EOP_HOST }), gatewayConfig({ antiPhish: { HonorDmarcPolicy: false } }))).toMatchObject({ disposition: 'quarantine', action: 'AuthenticationFailAction Quarantine' });
    expect(judge(spoof({ host: EOP_HOST }), gatewayConfig({ antiPhish: { HonorDmarcPolicy: false, AuthenticationFailAction: 'MoveToJmf' } }))).toMatchObject({ disposition: 'junk' });
    expect(judge(spoof({ host: EOP_HOST }), gatewayConfig({ antiPhish: { HonorDmarcPolicy: false, EnableSpoofIntelligence: false } }))).toMatchObject({ disposition: 'inbox' });
  });

  it('SPF failing without a DMARC record is a composite authentication failure', () => {
    const v = judge({ host: EOP_HOST, clientIp: '203.0.113.250', mailFrom: 'accounts@northwind.example', from: 'accounts@northwind.example', recipient: 'sam.ortiz@tailspintoys.example' }, gatewayConfig());
    expect(v).toMatchObject({ spf: 'fail', dmarc: 'none', compauth: 'fail', compauthReason: '001', disposition: 'quarantine', action: 'AuthenticationFailAction Quarantine' });
  });

  it("a partner's mail arrives on its connector; failing DMARC at p=quarantine it is quarantined", () => {
    const facts = { host: EOP_HOST, clientIp: '203.0.113.140', mailFrom: 'notices@woodgrovebank.example', from: 'notices@woodgrovebank.example', recipient: 'dana.whitfield@tailspintoys.example' };
    expect(judge(facts, gatewayConfig())).toMatchObject({ path: 'partner', connector: 'Partner Woodgrove Bank', disposition: 'quarantine' });
    expect(judge({ ...facts, clientIp: '203.0.113.100' }, gatewayConfig())).toMatchObject({ path: 'partner', spf: 'pass', dmarc: 'pass', disposition: 'inbox' });
  });
});

describe('the judge: overrides act before authentication', () => {
  const eopSpoof = spoof({ host: EOP_HOST });

  it('an enabled SCL -1 transport rule that matches delivers to the inbox', () => {
    const rule = (o: Obj): Obj => ({ Guid: 'r1', Name: 'Bypass', State: 'Enabled', Mode: 'Enforce', Priority: 1, SetSCL: -1, ...o });
    expect(judge(eopSpoof, gatewayConfig({ rules: [rule({ SenderDomainIs: ['tailspintoys.example'] })] }))).toMatchObject({ disposition: 'inbox', override: { source: 'Exchange transport rule', name: 'Bypass' } });
    expect(judge(eopSpoof, gatewayConfig({ rules: [rule({ SenderIpRanges: ['203.0.113.0/24'] })] }))).toMatchObject({ disposition: 'inbox', override: { source: 'Exchange transport rule' } });
    expect(judge(eopSpoof, gatewayConfig({ rules: [rule({})] }))).toMatchObject({ disposition: 'inbox', override: { source: 'Exchange transport rule' } });
    expect(judge(eopSpoof, gatewayConfig({ rules: [rule({ SenderIpRanges: ['192.0.2.0/24'] })] })).disposition).toBe('reject');
    expect(judge(eopSpoof, gatewayConfig({ rules: [rule({ State: 'Disabled' })] })).disposition).toBe('reject');
    expect(judge(eopSpoof, gatewayConfig({ rules: [rule({ Mode: 'Audit' })] })).disposition).toBe('reject');
    expect(judge(eopSpoof, gatewayConfig({ rules: [rule({ SetSCL: 5 })] })).disposition).toBe('reject');
  });

  it("the scenario's marketing rule lets even a spoof of the marketing domain through", () => {
    const v = judge(spoof({ host: EOP_HOST, from: 'offers@campaigns.mailer-platform.example', mailFrom: 'offers@campaigns.mailer-platform.example' }), gatewayConfig({ dns: [{ name: '_dmarc.mailer-platform.example', type: 'TXT', data: 'v=DMARC1; p=reject' }] }));
    expect(v).toMatchObject({ disposition: 'inbox', dmarc: 'fail', override: { source: 'Exchange transport rule', name: 'Marketing platform bypass' } });
  });

  it('the IP in the connection filter IP allow list delivers to the inbox', () => {
    expect(judge(eopSpoof, gatewayConfig({ connectionFilter: { IPAllowList: ['203.0.113.70-203.0.113.80'] } }))).toMatchObject({ disposition: 'inbox', override: { source: 'Connection policy', name: 'Default' } });
    // Through the gateway without enhanced filtering, the gateway's IP is the one listed.
    expect(judge(spoof(), gatewayConfig({ connectionFilter: { IPAllowList: ['198.51.100.25'] } }))).toMatchObject({ override: { source: 'Connection policy' } });
    expect(judge(eopSpoof, gatewayConfig({ connectionFilter: { IPAllowList: ['198.51.100.25'] } })).disposition).toBe('reject');
  });

  it("an allowed spoof pair (the sender's /24, or the MAIL FROM domain) delivers to the inbox; a blocked one does not", () => {
    const pair = (o: Obj): Obj => ({ Guid: 'p1', Identity: 'p1', Action: 'Allow', SpoofType: 'Internal', SpoofedUser: 'tailspintoys.example', SendingInfrastructure: '203.0.113.0/24', ...o });
    expect(judge(eopSpoof, gatewayConfig({ spoofItems: [pair({})] }))).toMatchObject({ disposition: 'inbox', override: { source: 'Tenant Allow Block List' } });
    expect(judge(spoof({ host: EOP_HOST, mailFrom: 'bounce@bulk-sender.example' }), gatewayConfig({ spoofItems: [pair({ SendingInfrastructure: 'bulk-sender.example' })] })).override?.source).toBe('Tenant Allow Block List');
    expect(judge(eopSpoof, gatewayConfig({ spoofItems: [pair({ SpoofedUser: 'ciso@tailspintoys.example' })] })).disposition).toBe('inbox');
    expect(judge(eopSpoof, gatewayConfig({ spoofItems: [pair({ Action: 'Block' })] })).disposition).toBe('reject');
    expect(judge(eopSpoof, gatewayConfig({ spoofItems: [pair({ SendingInfrastructure: '198.51.100.0/24' })] })).disposition).toBe('reject');
  });
});

describe('SPF and DMARC from the scenario records', () => {
  const dns: DnsRecord[] = [
    { name: 'a.example', type: 'TXT', data: 'v=spf1 ip4:192.0.2.0/24 ip6:2001:db8::/32 include:b.example ~all' },
    { name: 'b.example', type: 'TXT', data: 'v=spf1 ip4:198.51.100.7 -all' },
    { name: 'c.example', type: 'TXT', data: 'v=spf1 include:missing.example -all' },
    { name: 'd.example', type: 'TXT', data: ['v=spf1 a mx ', 'redirect=b.example'] },
    { name: 'd.example', type: 'A', data: '203.0.113.9' },
    { name: 'd.example', type: 'MX', data: '10 mail.d.example' },
    { name: 'mail.d.example', type: 'A', data: '203.0.113.10' },
    { name: 'e.example', type: 'TXT', data: 'v=spf1 -all' },
    { name: 'e.example', type: 'TXT', data: 'v=spf1 +all' },
    { name: '_dmarc.f.example', type: 'TXT', data: 'v=DMARC1; p=reject; sp=none; adkim=s' },
  ];
  it('evaluates ip4, ip6, include, a, mx and redirect with their qualifiers', () => {
    expect(evaluateSpf('a.example', '192.0.2.44', dns)).toBe('pass');
    expect(evaluateSpf('a.example', '::ffff:192.0.2.44', dns)).toBe('pass');
    expect(evaluateSpf('a.example', '2001:db8::1', dns)).toBe('pass');
    expect(evaluateSpf('a.example', '198.51.100.7', dns)).toBe('pass');
    expect(evaluateSpf('a.example', '203.0.113.1', dns)).toBe('softfail');
    expect(evaluateSpf('b.example', '203.0.113.1', dns)).toBe('fail');
    expect(evaluateSpf('c.example', '203.0.113.1', dns)).toBe('permerror');
    expect(evaluateSpf('d.example', '203.0.113.9', dns)).toBe('pass');
    expect(evaluateSpf('d.example', '203.0.113.10', dns)).toBe('pass');
    expect(evaluateSpf('d.example', '198.51.100.7', dns)).toBe('pass');
    expect(evaluateSpf('d.example', '203.0.113.11', dns)).toBe('fail');
    expect(evaluateSpf('e.example', '203.0.113.11', dns)).toBe('permerror');
    expect(evaluateSpf('nothing.example', '203.0.113.11', dns)).toBe('none');
  });
  it("finds the From domain's DMARC record or its organisational domain's, with sp for subdomains", () => {
    expect(dmarcRecordOf('f.example', dns)).toEqual({ at: 'f.example', policy: 'reject', strictSpf: false, strictDkim: true });
    expect(dmarcRecordOf('mail.f.example', dns)).toMatchObject({ at: 'f.example', policy: 'none' });
    expect(dmarcRecordOf('g.example', dns)).toBeUndefined();
  });
});

describe("the gateway scenario's evidence", () => {
  const messages = gatewayMessages();
  const count = (kind: string, disposition: string) => messages.filter((m) => m.kind === kind && m.verdict.disposition === disposition).length;

  it('is what the judge makes of each message: spoofs through the gateway delivered, the same spoofs straight to EOP refused', () => {
    expect(messages).toHaveLength(32);
    expect(count('ordinary', 'inbox')).toBe(16);
    expect(count('marketing', 'inbox')).toBe(2);
    expect(count('spoof-own-domain', 'inbox')).toBe(3);
    expect(count('spoof-outside-domain', 'inbox')).toBe(2);
    expect(count('partner', 'inbox')).toBe(3);
    expect(count('partner-failing', 'quarantine')).toBe(2);
    expect(count('direct-spoof-own-domain', 'reject')).toBe(2);
    expect(count('direct-spoof-subdomain', 'quarantine')).toBe(1);
    expect(count('direct-spf-fail', 'quarantine')).toBe(1);
    for (const m of messages.filter((x) => x.kind.startsWith('spoof-'))) expect(m.verdict).toMatchObject({ path: 'gateway', dmarc: 'fail', dmarcPolicy: 'reject', compauth: 'none' });
  });

  it('records each as Defender and message trace show it', () => {
    const spoofed = messages.find((m) => m.kind === 'spoof-own-domain')!;
    expect(analyzedEmailOf(spoofed)).toMatchObject({
      networkMessageId: spoofed.networkMessageId, recipientEmailAddress: 'payroll@tailspintoys.example', directionality: 'inbound',
      senderDetail: { fromAddress: 'ciso@tailspintoys.example', mailFromAddress: 'ciso@tailspintoys.example', ipv4: '198.51.100.25' },
      authenticationDetails: { senderPolicyFramework: 'Fail', dkim: 'None', dmarc: 'Fail', compositeAuthentication: 'None' },
      inboundConnectorFormattedName: 'From Secure Gateway', latestDelivery: { action: 'delivered', location: 'inbox_folder' }, originalDelivery: { action: 'delivered', location: 'inbox_folder' },
      overrideSources: [], primaryOverrideSource: null,
    });
    const refused = messages.find((m) => m.kind === 'direct-spoof-own-domain')!;
    expect(analyzedEmailOf(refused)).toMatchObject({ inboundConnectorFormattedName: '', latestDelivery: { action: 'blocked', location: 'failed' }, policy: 'Office365 AntiPhish Default', policyType: 'antiPhish' });
    expect(messageTraceOf(refused)).toEqual({
      id: refused.messageTraceId, senderAddress: 'ciso@tailspintoys.example', recipientAddress: 'payroll@tailspintoys.example', messageId: refused.internetMessageId,
      receivedDateTime: refused.receivedAt, subject: refused.subject, size: refused.size, fromIP: '203.0.113.220', toIP: '', status: 'failed',
    });
    const marketing = messages.find((m) => m.kind === 'marketing')!;
    expect(analyzedEmailOf(marketing)).toMatchObject({ overrideSources: ['Exchange transport rule'], primaryOverrideSource: 'Exchange transport rule', spamConfidenceLevel: '-1' });
    expect(analyzedEmailOf(messages.find((m) => m.kind === 'partner-failing')!)).toMatchObject({ inboundConnectorFormattedName: 'Partner Woodgrove Bank', latestDelivery: { action: 'blocked', location: 'quarantine' } });
  });
});
