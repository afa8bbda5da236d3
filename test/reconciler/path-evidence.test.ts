import { describe, expect, it } from 'vitest';
import { inboundPaths } from '../../reconciler/checks/inbound-paths.js';
import { kindOf, outcomeOf, pathOf } from '../../reconciler/checks/paths.js';
import type { FailedMessage } from '../../reconciler/model/live.js';
import type { MappedPath, PathMap } from '../../reconciler/model/paths.js';
import { failedMessageOf } from '../../reconciler/resources/analyzed-email.js';
import { judgeProbe, outcomeOfTrace, planProbes, probeExitCode } from '../../reconciler/probe/plan.js';
import { judgeSmtpError } from '../../reconciler/transport/smtp.js';
import { tracePause } from '../../reconciler/probe/run.js';

type Obj = Record<string, unknown>;

const antiPhish: Obj = { Name: 'Default', IsDefault: true, HonorDmarcPolicy: true, DmarcRejectAction: 'Reject', DmarcQuarantineAction: 'Quarantine', EnableSpoofIntelligence: true, AuthenticationFailAction: 'Quarantine' };
const paths = inboundPaths({
  acceptedDomains: [{ DomainName: 'contoso.example' }, { DomainName: 'fabrikam.example' }],
  mx: { 'contoso.example': [{ preference: 0, exchange: 'contoso-example.mail.protection.outlook.com' }], 'fabrikam.example': [{ preference: 10, exchange: 'mx1.gateway.example' }] },
  connectors: [
    { Name: 'From gateway', ConnectorType: 'OnPremises', SenderIPAddresses: ['198.51.100.25'] },
    { Name: 'Partner Woodgrove', ConnectorType: 'Partner', SenderDomains: ['smtp:woodgrove.example;1'], TlsSenderCertificateName: 'mail.woodgrove.example' },
  ],
  transportRules: [], connectionFilter: [], spoofItems: [], antiPhish,
});

const copy = (o: Obj = {}): Obj => ({
  networkMessageId: 'n-1', internetMessageId: '<m1@x>', recipientEmailAddress: 'Pat@Contoso.example', directionality: 'inbound', subject: 'Invoice', loggedDateTime: '2026-11-28T10:00:00Z',
  senderDetail: { fromAddress: 'billing@tailspin-billing.test', ipv4: '203.0.113.9' }, inboundConnectorFormattedName: '',
  authenticationDetails: { senderPolicyFramework: 'Fail', dkim: 'None', dmarc: 'Fail', compositeAuthentication: 'Fail' },
  originalDelivery: { action: 'delivered', location: 'inbox_folder' }, latestDelivery: { action: 'delivered', location: 'deletedFolder' }, overrideSources: [],
  ...o,
});
const failing = (o: Obj = {}, senderPolicy: FailedMessage['senderPolicy'] = 'reject'): FailedMessage => ({ ...failedMessageOf(copy(o))!, senderPolicy });

describe('failing mail as evidence', () => {
  it('keeps inbound copies that failed SPF, DMARC or composite authentication; a soft fail or outbound copy is not kept', () => {
    expect(failedMessageOf(copy())).toMatchObject({ recipient: 'pat@contoso.example', sender: 'billing@tailspin-billing.test', senderIp: '203.0.113.9', delivered: { location: 'inbox_folder' }, latestLocation: 'deletedFolder' });
    expect(failedMessageOf(copy({ authenticationDetails: { senderPolicyFramework: 'SoftFail', dkim: 'Pass', dmarc: 'Pass', compositeAuthentication: 'Pass' } }))).toBeUndefined();
    expect(failedMessageOf(copy({ directionality: 'outbound' }))).toBeUndefined();
    expect(failedMessageOf(copy({ authenticationDetails: { senderPolicyFramework: 'Pass', dkim: 'None', dmarc: 'None', compositeAuthentication: 'Fail' } }))).toBeDefined();
    // Behind a gateway without enhanced filtering SPF fails for ordinary mail: DMARC or compauth passing makes it authentic.
    expect(failedMessageOf(copy({ authenticationDetails: { senderPolicyFramework: 'Fail', dkim: 'Pass', dmarc: 'Pass', compositeAuthentication: 'Pass' } }))).toBeUndefined();
    expect(failedMessageOf(copy({ authenticationDetails: { senderPolicyFramework: 'fail', dkim: 'none', dmarc: 'none', compositeAuthentication: 'softpass' } }))).toBeUndefined();
  });

  it('a DMARC failure takes the sender domain\'s policy; else SPF; else composite authentication', () => {
    expect(kindOf(failing({}, 'reject'))).toBe('dmarc-reject');
    expect(kindOf(failing({}, 'quarantine'))).toBe('dmarc-quarantine');
    expect(kindOf(failing({}, 'none'))).toBe('spf-hardfail');
    expect(kindOf(failing({ authenticationDetails: { senderPolicyFramework: 'Pass', dmarc: 'None', compositeAuthentication: 'Fail' } }, 'unknown'))).toBe('compauth-fail');
    // A policy that could not be looked up never lowers the requirement: judged as p=reject.
    expect(kindOf(failing({}, 'unknown'))).toBe('dmarc-reject');
  });

  it('the disposition is what the service did on delivery', () => {
    const at = (location: string, action = 'delivered') => outcomeOf(failing({ originalDelivery: { action, location } }));
    expect([at('inbox_folder'), at('junkFolder', 'deliveredToJunk'), at('quarantine', 'blocked'), at('failed', 'blocked'), at('dropped', 'blocked'), at('quarantine')]).toEqual(['inbox', 'junk', 'quarantine', 'reject', 'reject', 'quarantine']);
  });

  it('a copy is on the path of its connector, else its recipient domain\'s direct path; a connector no path has is unattributed', () => {
    expect(pathOf(paths, failing())?.key).toBe('contoso.example/eop');
    expect(pathOf(paths, failing({ recipientEmailAddress: 'lee@fabrikam.example', inboundConnectorFormattedName: 'From gateway' }))?.key).toBe('fabrikam.example/gateway:mx1.gateway.example');
    expect(pathOf(paths, failing({ inboundConnectorFormattedName: 'partner woodgrove' }))?.key).toBe('*/partner:partner woodgrove');
    expect(pathOf(paths, failing({ inboundConnectorFormattedName: 'Old relay' }))).toBeUndefined();
    // fabrikam's MX is the gateway: mail that reached EOP without it came on the direct path no MX names.
    const direct = pathOf(paths, failing({ recipientEmailAddress: 'lee@fabrikam.example' }))!;
    expect([direct.key, direct.hosts, direct.unpublished]).toEqual(['fabrikam.example/eop', ['fabrikam-example.mail.protection.outlook.com'], true]);
  });
});

const mapped = (p: (typeof paths)[number], o: Partial<MappedPath> = {}): MappedPath => ({
  ...p, owners: { objective: { name: 'O', team: 'T', contact: 'o@contoso.example' } }, required: { 'dmarc-reject': 'quarantine', 'dmarc-quarantine': 'junk', 'spf-hardfail': 'junk', 'compauth-fail': 'junk' }, short: [], ...o,
});
const map: PathMap = { paths: paths.map((p) => mapped(p)) };
const config = { recipient: 'probe@contoso.example', outsideDomain: 'woodgrove.example', marker: '[probe]' };

describe('probe plan', () => {
  it('two probes per MX host of each path (own domain, outside p=reject domain), none to a partner path', () => {
    const { probes, unprobed, problems } = planProbes(map, config, new Map([['contoso.example', 'reject'], ['fabrikam.example', 'none'], ['woodgrove.example', 'reject']]), 'run-1234-5678', (d) => `probe@${d}`);
    expect(problems).toEqual([]);
    expect(probes.map((p) => [p.path, p.host, p.kind, p.from, p.failure, p.expected, p.required])).toEqual([
      ['contoso.example/eop', 'contoso-example.mail.protection.outlook.com', 'own-domain-spoof', 'posture-probe@contoso.example', 'dmarc-reject', 'reject', 'quarantine'],
      ['contoso.example/eop', 'contoso-example.mail.protection.outlook.com', 'outside-spoof', 'posture-probe@woodgrove.example', 'dmarc-reject', 'reject', 'quarantine'],
      // fabrikam's own EOP host, which no MX names: mail sent there skips the gateway. fabrikam
      // publishes p=none: only the outside spoof goes (a spoof of it fails nothing definite).
      ['fabrikam.example/eop', 'fabrikam-example.mail.protection.outlook.com', 'outside-spoof', 'posture-probe@woodgrove.example', 'dmarc-reject', 'reject', 'quarantine'],
      ['fabrikam.example/gateway:mx1.gateway.example', 'mx1.gateway.example', 'outside-spoof', 'posture-probe@woodgrove.example', 'dmarc-reject', 'inbox', 'quarantine'],
    ]);
    // Each path at the probe mailbox's address in its own domain, as the path's routing routes it.
    expect(probes.every((p) => p.to === `probe@${p.path.split('/')[0]}` && p.subject.startsWith('[probe] '))).toBe(true);
    expect(new Set(probes.map((p) => p.messageId)).size).toBe(4);
    expect(unprobed.map((u) => u.path)).toEqual(['fabrikam.example/eop', 'fabrikam.example/gateway:mx1.gateway.example', '*/partner:partner woodgrove']);
    expect(unprobed[0]!.reason).toMatch(/^fabrikam\.example publishes no DMARC policy to enforce/);
  });

  it('a path of a domain the probe mailbox has no address in is not probed, says why, and leaves the run incomplete', () => {
    const { probes, unprobed, problems } = planProbes(map, config, new Map([['contoso.example', 'reject'], ['fabrikam.example', 'reject'], ['woodgrove.example', 'reject']]), 'r');
    expect(new Set(probes.map((p) => p.path))).toEqual(new Set(['contoso.example/eop']));
    expect(unprobed.find((u) => u.path === 'fabrikam.example/eop')?.reason).toBe('the probe mailbox probe@contoso.example has no address in fabrikam.example: add one (an smtp: proxy address) to probe this path');
    expect(problems).toEqual([
      'fabrikam.example/eop was not probed: the probe mailbox probe@contoso.example has no address in fabrikam.example: add one (an smtp: proxy address) to probe this path',
      'fabrikam.example/gateway:mx1.gateway.example was not probed: the probe mailbox probe@contoso.example has no address in fabrikam.example: add one (an smtp: proxy address) to probe this path',
    ]);
  });

  it('an outside domain without p=reject, or a policy that could not be looked up, is a problem, not a silent skip', () => {
    const { probes, problems } = planProbes(map, config, new Map([['contoso.example', 'unknown'], ['fabrikam.example', 'reject'], ['woodgrove.example', 'quarantine']]), 'r', (d) => `probe@${d}`);
    expect(problems.join('\n')).toMatch(/woodgrove\.example \(probe\.outsideDomain\) publishes p=quarantine, not p=reject/);
    expect(problems.join('\n')).toMatch(/DMARC policy of contoso\.example could not be looked up/);
    expect(probes.map((p) => [p.path, p.kind])).toEqual([['fabrikam.example/eop', 'own-domain-spoof'], ['fabrikam.example/gateway:mx1.gateway.example', 'own-domain-spoof']]);
  });

  it('judges what each probe got against the map and the requirement', () => {
    const [eop, , , , , gatewayOutside] = planProbes(map, config, new Map([['contoso.example', 'reject'], ['fabrikam.example', 'reject'], ['woodgrove.example', 'reject']]), 'r', (d) => `probe@${d}`).probes;
    expect([judgeProbe(eop!, 'reject'), judgeProbe(eop!, 'quarantine'), judgeProbe(eop!, 'inbox'), judgeProbe(eop!, undefined)]).toEqual(['confirmed', 'differs', 'delivered', 'not-confirmed']);
    expect(judgeProbe(gatewayOutside!, 'inbox')).toBe('delivered');
    expect(judgeProbe({ ...gatewayOutside!, excepted: true }, 'inbox')).toBe('excepted');
    expect([outcomeOfTrace('delivered'), outcomeOfTrace('filteredAsSpam'), outcomeOfTrace('Quarantined'), outcomeOfTrace('failed'), outcomeOfTrace('pending'), outcomeOfTrace('gettingStatus')]).toEqual(['inbox', 'junk', 'quarantine', 'reject', undefined, undefined]);
    expect([probeExitCode(['confirmed', 'excepted', 'differs'], []), probeExitCode(['confirmed', 'delivered'], []), probeExitCode(['delivered', 'not-confirmed'], []), probeExitCode(['confirmed'], ['x'])]).toEqual([0, 2, 1, 1]);
  });

  it('message trace is read at its pace: 100 requests in 5 minutes, one per pending message a round', () => {
    expect(tracePause(2, 30_000)).toBe(30_000);
    expect(tracePause(40, 30_000)).toBe(120_000);
    expect(tracePause(0, 1_000)).toBe(1_000);
    // Whatever the interval asked, a round of n reads is followed by at least 3n seconds.
    for (const n of [1, 10, 33, 100]) expect(tracePause(n, 1_000) / 1000 / n).toBeGreaterThanOrEqual(3);
  });

  it('an SMTP refusal is a rejection only at the end of DATA; before the message is read it says nothing of the path', () => {
    expect(judgeSmtpError({ responseCode: 550, response: '550 5.7.509 Access denied, sending domain contoso.example does not pass DMARC verification', command: 'DATA', code: 'EMESSAGE' }).kind).toBe('rejected');
    expect(judgeSmtpError({ responseCode: 550, response: '550 5.1.10 RESOLVER.ADR.RecipientNotFound', command: 'RCPT TO', code: 'EENVELOPE' }).kind).toBe('refused-recipient');
    // A blocklisted runner, a relay refused, a HELO not liked, a refused DATA command: not confirmed.
    for (const e of [
      { responseCode: 550, response: '550 5.7.606 Access denied, banned sending IP', command: 'RCPT TO', code: 'EENVELOPE' },
      { responseCode: 550, response: '550 5.7.64 TenantAttribution; Relay Access Denied', command: 'RCPT TO', code: 'EENVELOPE' },
      { responseCode: 554, response: '554 5.7.1 Service unavailable; Client host blocked using Spamhaus', command: 'CONN', code: 'EPROTOCOL' },
      { responseCode: 501, response: '501 5.5.4 Invalid domain name', command: 'EHLO', code: 'EPROTOCOL' },
      { responseCode: 554, response: '554 5.5.1 No valid recipients', command: 'DATA', code: 'EENVELOPE' },
      { responseCode: 451, response: '451 4.7.500 Server busy', command: 'DATA', code: 'EMESSAGE' },
      { code: 'ECONNREFUSED', message: 'connect ECONNREFUSED' },
    ] as const) expect(judgeSmtpError(e).kind, 'response' in e ? e.response : e.message).toBe('failed');
  });
});
