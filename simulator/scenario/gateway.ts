import { createHash } from 'node:crypto';
import { mailConfigFrom } from '../smtp/config.js';
import { judge, type MailConfig, type MessageFacts } from '../smtp/judge.js';
import { analyzedEmailOf, messageTraceOf, type JudgedMessage } from '../smtp/record.js';
import { applyDrifts, loadScenario, type ScenarioOverlay } from './scenario.js';

/*
 * The `gateway` scenario, built as data: Tailspin Toys behind a third-party mail gateway whose
 * inbound connector has enhanced filtering off, a partner connector for Woodgrove Bank, an SCL -1
 * rule for the marketing platform, news.tailspintoys.example received by Exchange Online Protection
 * directly; and a week of inbound mail as Defender and message trace show it. Each message is
 * judged by the simulator's own judge (smtp/judge.ts) against the scenario's configuration, so the
 * evidence is what that configuration does: through the gateway every message is judged on the
 * gateway's IP, so the spoofs of tailspintoys.example and of payroll-partner.example (both
 * p=reject) reach the inbox (compauth none, reason 905), while the same kind of spoof sent
 * straight to Exchange Online Protection is refused. `npm run scenarios` writes
 * simulator/scenarios/gateway.json from here; a test checks the file is what this builds.
 */

type Obj = Record<string, unknown>;

/** A stable GUID for a name, so the scenario is the same on every build. */
export const guidOf = (name: string): string => {
  const h = createHash('sha256').update(`gateway:${name}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
};

/** The scenario's clock: the evidence covers the 7 days before it. */
export const GATEWAY_CLOCK = '2026-11-30T12:00:00Z';

/** The hosts mail enters through. */
export const GATEWAY_HOST = 'mx1.secure-gateway.example';
/** Exchange Online Protection's host for news.tailspintoys.example (published as its MX). */
export const EOP_HOST = 'news-tailspintoys-example.mail.protection.outlook.com';
/** The tenant's own EOP host (no longer its MX, still reachable: partners with forced TLS send to it). */
export const TENANT_EOP_HOST = 'tailspintoys-example.mail.protection.outlook.com';
/** The gateway's servers, as its connector lists them: EOP sees the first. */
export const GATEWAY_IPS = ['198.51.100.25', '198.51.100.26'] as const;
export const GATEWAY_CONNECTOR = 'From Secure Gateway';
export const PARTNER_CONNECTOR = 'Partner Woodgrove Bank';

const existingDrifts: ScenarioOverlay['drifts'] = [
  {
    id: 'mx-to-gateway',
    description: 'The MX of tailspintoys.example points to the gateway, not to Exchange Online Protection.',
    patch: [{ op: 'replace', path: '/dns/3', value: { name: 'tailspintoys.example', type: 'MX', ttl: 3600, data: `10 ${GATEWAY_HOST}` } }],
  },
  {
    id: 'gateway-connector-no-enhanced-filtering',
    description: "The gateway's inbound connector accepts its servers' mail; enhanced filtering for connectors was never turned on.",
    patch: [
      {
        op: 'add',
        path: '/exchange/InboundConnector',
        value: [
          {
            Guid: '0f3c9a52-6b1e-4d7a-9c2e-5a8b7d6e4f10', Identity: GATEWAY_CONNECTOR, Name: GATEWAY_CONNECTOR, ConnectorType: 'OnPremises',
            SenderIPAddresses: [...GATEWAY_IPS], RestrictDomainsToIPAddresses: true, RequireTls: true, Comment: 'Inbound from the mail gateway',
            WhenCreated: '2025-02-11T09:00:00Z', WhenChanged: '2025-02-11T09:00:00Z',
          },
          {
            Guid: '5c2d8e91-3a7f-4b06-8d14-9e0f2a6b7c35', Identity: PARTNER_CONNECTOR, Name: PARTNER_CONNECTOR, ConnectorType: 'Partner',
            SenderDomains: ['smtp:woodgrovebank.example;1'], RequireTls: true, TlsSenderCertificateName: 'mail.woodgrovebank.example', RestrictDomainsToCertificate: true,
            WhenCreated: '2025-04-03T14:20:00Z', WhenChanged: '2025-04-03T14:20:00Z',
          },
        ],
      },
    ],
  },
  {
    id: 'marketing-scl-bypass',
    description: 'Mail from the marketing platform skips spam filtering (SCL -1), under a declared exception until 2027-03-31.',
    patch: [
      {
        op: 'add',
        path: '/exchange/TransportRule/-',
        value: {
          Guid: '7d3e9f20-1b4c-4a58-9e6d-2f8a0c5b1e47', Identity: 'Marketing platform bypass', Name: 'Marketing platform bypass', State: 'Enabled', Mode: 'Enforce', Priority: 2,
          SentToScope: null, ApplyHtmlDisclaimerText: null, SetSCL: -1, RedirectMessageTo: null, BlindCopyTo: null, SenderDomainIs: ['campaigns.mailer-platform.example'],
          WhenChanged: '2026-09-14T08:00:00Z',
        },
      },
    ],
  },
];

const txt = (name: string, data: string) => ({ op: 'add', path: '/dns/-', value: { name, type: 'TXT', ttl: 3600, data } });

/** The outside domains the week's mail comes from, with their SPF and DMARC records (adatum.example publishes none). */
const OUTSIDE_DNS = [
  txt('payroll-partner.example', 'v=spf1 ip4:203.0.113.64/27 -all'),
  txt('_dmarc.payroll-partner.example', 'v=DMARC1; p=reject; rua=mailto:dmarc@payroll-partner.example'),
  txt('woodgrovebank.example', 'v=spf1 ip4:203.0.113.96/28 -all'),
  txt('_dmarc.woodgrovebank.example', 'v=DMARC1; p=quarantine; rua=mailto:dmarc@woodgrovebank.example'),
  txt('fabrikam.example', 'v=spf1 ip4:203.0.113.16/28 -all'),
  txt('_dmarc.fabrikam.example', 'v=DMARC1; p=reject; rua=mailto:dmarc@fabrikam.example'),
  txt('contoso.example', 'v=spf1 ip4:203.0.113.32/28 -all'),
  txt('_dmarc.contoso.example', 'v=DMARC1; p=none; rua=mailto:dmarc@contoso.example'),
  txt('litware.example', 'v=spf1 ip4:203.0.113.48/28 ~all'),
  txt('northwind.example', 'v=spf1 ip4:203.0.113.128/28 -all'),
];

/** The shared mailbox the posture's probe declares as its recipient. */
export const PROBE_MAILBOX = 'mail-probe@tailspintoys.example';
const PROBE_USER_ID = '6b0d2f4e-8a1c-4e3b-9d57-1f2a3c4b5d6e';
const PROBE_MAILBOX_GUID = '9e4a7c21-3d5b-4f8e-a612-7b0c9d8e1f23';

const configDrifts: ScenarioOverlay['drifts'] = [
  ...existingDrifts,
  {
    id: 'news-mx-to-eop',
    description: 'news.tailspintoys.example receives mail at Exchange Online Protection directly (its MX is an EOP host), beside the gateway.',
    patch: [{ op: 'add', path: '/dns/-', value: { name: 'news.tailspintoys.example', type: 'MX', ttl: 3600, data: `0 ${EOP_HOST}` } }],
  },
  {
    id: 'probe-mailbox',
    description: 'A shared mailbox kept for posture probes, mail-probe@tailspintoys.example: test messages go there and to nobody else.',
    patch: [
      { op: 'add', path: '/graph/users/-', value: { id: PROBE_USER_ID, displayName: 'Mail probe', userPrincipalName: PROBE_MAILBOX, mail: PROBE_MAILBOX, accountEnabled: false, userType: 'Member', givenName: null, surname: null, jobTitle: null, department: 'Messaging', createdDateTime: '2026-10-01T09:00:00Z', onPremisesSyncEnabled: null, signInSessionsValidFromDateTime: '2026-10-01T09:00:00Z' } },
      { op: 'add', path: '/exchange/Mailbox/-', value: { Guid: PROBE_MAILBOX_GUID, Identity: 'Mail probe', Name: 'mail-probe', Alias: 'mail-probe', DisplayName: 'Mail probe', UserPrincipalName: PROBE_MAILBOX, PrimarySmtpAddress: PROBE_MAILBOX, EmailAddresses: [`SMTP:${PROBE_MAILBOX}`, 'smtp:mail-probe@news.tailspintoys.example', 'smtp:mail-probe@tailspin-toys.example', 'smtp:mail-probe@tailspintoys.onmicrosoft.example', 'smtp:mail-probe@tailspintoys.mail.onmicrosoft.example'], ExternalDirectoryObjectId: PROBE_USER_ID, RecipientTypeDetails: 'SharedMailbox', ForwardingAddress: null, ForwardingSmtpAddress: null, DeliverToMailboxAndForward: false } },
    ],
  },
  {
    id: 'outside-senders-dns',
    description: "SPF and DMARC of the outside domains the week's mail comes from: payroll-partner.example and fabrikam.example publish p=reject, woodgrovebank.example p=quarantine, contoso.example p=none; litware.example and northwind.example SPF only.",
    patch: OUTSIDE_DNS,
  },
];

const D = 'tailspintoys.example';

/** One message of the week, before it is judged. */
interface Planned {
  readonly key: string;
  readonly kind: MessageKind;
  readonly host: string;
  readonly clientIp: string;
  readonly from: string;
  readonly displayName: string;
  readonly mailFrom?: string;
  readonly to: string;
  readonly subject: string;
  /** The sender's DKIM signature verifies (ordinary mail is signed; the spoofs are not). */
  readonly signed?: boolean;
}

/** What each message of the week is, for tests and for the counts in docs/scenarios.md. */
export type MessageKind =
  | 'ordinary'
  | 'marketing'
  | 'spoof-own-domain'
  | 'spoof-outside-domain'
  | 'partner'
  | 'partner-failing'
  | 'direct-spoof-own-domain'
  | 'direct-spoof-subdomain'
  | 'direct-spf-fail';

const ordinary: ReadonlyArray<[string, string, string, string]> = [
  ['orders@fabrikam.example', 'Fabrikam Orders', '203.0.113.20', 'Order confirmation 4471'],
  ['orders@fabrikam.example', 'Fabrikam Orders', '203.0.113.20', 'Order confirmation 4498'],
  ['jo.lee@fabrikam.example', 'Jo Lee', '203.0.113.21', 'Samples for the spring range'],
  ['jo.lee@fabrikam.example', 'Jo Lee', '203.0.113.21', 'Re: Samples for the spring range'],
  ['billing@fabrikam.example', 'Fabrikam Billing', '203.0.113.22', 'Statement for November'],
  ['events@contoso.example', 'Contoso Events', '203.0.113.35', 'Toy fair: your stand is confirmed'],
  ['kim.ito@contoso.example', 'Kim Ito', '203.0.113.36', 'Shipping schedule, week 49'],
  ['kim.ito@contoso.example', 'Kim Ito', '203.0.113.36', 'Re: Shipping schedule, week 49'],
  ['support@contoso.example', 'Contoso Support', '203.0.113.37', 'Ticket 88213 resolved'],
  ['hello@adatum.example', 'Adatum', '203.0.113.150', 'Your subscription renews soon'],
  ['pat.moss@adatum.example', 'Pat Moss', '203.0.113.151', 'Lunch on Thursday?'],
  ['pat.moss@adatum.example', 'Pat Moss', '203.0.113.151', 'Re: Lunch on Thursday?'],
  ['news@adatum.example', 'Adatum News', '203.0.113.152', 'Adatum monthly'],
  ['sales@litware.example', 'Litware Sales', '203.0.113.50', 'Quote for packaging'],
  ['sales@litware.example', 'Litware Sales', '203.0.113.50', 'Revised quote for packaging'],
  ['ops@litware.example', 'Litware Ops', '203.0.113.51', 'Planned maintenance window'],
];
const mailboxes = ['alex.kim', 'jordan.patel', 'casey.lee', 'dana.whitfield', 'morgan.reed', 'taylor.nguyen', 'sam.ortiz', 'riley.chen', 'drew.evans'].map((n) => `${n}@${D}`);

const PLANNED: readonly Planned[] = [
  ...ordinary.map(([from, displayName, clientIp, subject], i): Planned => ({ key: `ordinary-${i + 1}`, kind: 'ordinary', host: GATEWAY_HOST, clientIp, from, displayName, to: mailboxes[i % mailboxes.length]!, subject, signed: true })),
  { key: 'marketing-1', kind: 'marketing', host: GATEWAY_HOST, clientIp: '192.0.2.180', from: 'offers@campaigns.mailer-platform.example', displayName: 'Tailspin Toys Offers', to: `morgan.reed@${D}`, subject: 'Campaign proof: winter sale', signed: true },
  { key: 'marketing-2', kind: 'marketing', host: GATEWAY_HOST, clientIp: '192.0.2.181', from: 'offers@campaigns.mailer-platform.example', displayName: 'Tailspin Toys Offers', to: `taylor.nguyen@${D}`, subject: 'Campaign proof: gift guide' },
  { key: 'spoof-own-1', kind: 'spoof-own-domain', host: GATEWAY_HOST, clientIp: '203.0.113.200', from: `ciso@${D}`, displayName: 'Avery Morgan', to: `payroll@${D}`, subject: 'Urgent: payroll change before the cut-off' },
  { key: 'spoof-own-2', kind: 'spoof-own-domain', host: GATEWAY_HOST, clientIp: '203.0.113.201', from: `ciso@${D}`, displayName: 'Avery Morgan', to: `dana.whitfield@${D}`, subject: 'Are you at your desk? Need a favour' },
  { key: 'spoof-own-3', kind: 'spoof-own-domain', host: GATEWAY_HOST, clientIp: '203.0.113.202', from: `it-helpdesk@${D}`, mailFrom: 'bounce@invoices-relay.example', displayName: 'IT Helpdesk', to: `jordan.patel@${D}`, subject: 'Your mailbox is almost full' },
  { key: 'spoof-outside-1', kind: 'spoof-outside-domain', host: GATEWAY_HOST, clientIp: '203.0.113.203', from: 'desk@payroll-partner.example', displayName: 'Payroll Provider Desk', to: `payroll@${D}`, subject: 'Updated bank details for December payroll' },
  { key: 'spoof-outside-2', kind: 'spoof-outside-domain', host: GATEWAY_HOST, clientIp: '203.0.113.203', from: 'desk@payroll-partner.example', displayName: 'Payroll Provider Desk', to: `dana.whitfield@${D}`, subject: 'Re: Updated bank details for December payroll' },
  { key: 'partner-1', kind: 'partner', host: TENANT_EOP_HOST, clientIp: '203.0.113.100', from: 'treasury@woodgrovebank.example', displayName: 'Woodgrove Treasury', to: `dana.whitfield@${D}`, subject: 'Daily balance report', signed: true },
  { key: 'partner-2', kind: 'partner', host: TENANT_EOP_HOST, clientIp: '203.0.113.100', from: 'treasury@woodgrovebank.example', displayName: 'Woodgrove Treasury', to: `dana.whitfield@${D}`, subject: 'Daily balance report', signed: true },
  { key: 'partner-3', kind: 'partner', host: TENANT_EOP_HOST, clientIp: '203.0.113.101', from: 'rm@woodgrovebank.example', displayName: 'Woodgrove Relationship Manager', to: `ciso@${D}`, subject: 'Annual review meeting', signed: true },
  { key: 'partner-failing-1', kind: 'partner-failing', host: TENANT_EOP_HOST, clientIp: '203.0.113.140', from: 'notices@woodgrovebank.example', displayName: 'Woodgrove Notices', to: `dana.whitfield@${D}`, subject: 'Action needed: confirm your account signatories' },
  { key: 'partner-failing-2', kind: 'partner-failing', host: TENANT_EOP_HOST, clientIp: '203.0.113.141', from: 'notices@woodgrovebank.example', displayName: 'Woodgrove Notices', to: `payroll@${D}`, subject: 'Action needed: confirm your account signatories' },
  { key: 'direct-own-1', kind: 'direct-spoof-own-domain', host: EOP_HOST, clientIp: '203.0.113.220', from: `ciso@${D}`, displayName: 'Avery Morgan', to: `payroll@${D}`, subject: 'Urgent: payroll change before the cut-off' },
  { key: 'direct-own-2', kind: 'direct-spoof-own-domain', host: EOP_HOST, clientIp: '203.0.113.221', from: `payroll@${D}`, displayName: 'Payroll', to: `alex.kim@${D}`, subject: 'Your payslip is ready' },
  { key: 'direct-subdomain-1', kind: 'direct-spoof-subdomain', host: EOP_HOST, clientIp: '203.0.113.222', from: `billing@news.${D}`, displayName: 'Tailspin Toys News', to: `casey.lee@${D}`, subject: 'Your newsletter payment failed' },
  { key: 'direct-spf-fail-1', kind: 'direct-spf-fail', host: EOP_HOST, clientIp: '203.0.113.223', from: 'accounts@northwind.example', displayName: 'Northwind Accounts', to: `sam.ortiz@${D}`, subject: 'Invoice 2291 overdue' },
];

const START = Date.parse(GATEWAY_CLOCK) - 7 * 86_400_000;
const STEP = Math.floor((7 * 86_400_000) / (PLANNED.length + 1));

/**
 * When the i-th message was received: the week cut into equal slots, taken in a fixed shuffled order
 * (kinds interleave), on the minute plus a few seconds; the last well before the clock.
 */
const receivedAt = (i: number) => {
  const slot = ((i * 13) % PLANNED.length) + 1;
  const t = START + slot * STEP;
  return new Date(t - (t % 60_000) + ((i * 7) % 50) * 1000).toISOString().slice(0, 19) + 'Z';
};

/** The scenario's configuration (before its evidence), as the judge reads it. */
function gatewayConfig(): MailConfig {
  const base = applyDrifts(loadScenario('compliant'), { name: 'gateway', description: '', extends: 'compliant', drifts: configDrifts });
  const exchange = base.exchange as unknown as Record<string, Obj[] | undefined>;
  return mailConfigFrom((noun) => exchange[noun] ?? [], base.dns);
}

/** The week's messages, judged against the scenario's configuration. */
export function gatewayMessages(config: MailConfig = gatewayConfig()): Array<JudgedMessage & { readonly key: string; readonly kind: MessageKind }> {
  return PLANNED.map((p, i) => {
    const mailFrom = p.mailFrom ?? p.from;
    const facts: MessageFacts = {
      host: p.host, clientIp: p.clientIp, mailFrom, from: p.from, recipient: p.to,
      ...(p.signed ? { dkim: { result: 'pass' as const, domain: p.from.split('@')[1]! } } : {}),
    };
    const id = guidOf(`message:${p.key}`);
    return {
      key: p.key, kind: p.kind,
      networkMessageId: id,
      internetMessageId: `<${id.replace(/-/g, '').slice(0, 20)}@${mailFrom.split('@')[1]}>`,
      subject: p.subject,
      size: 4_000 + ((i * 2_731) % 40_000),
      receivedAt: receivedAt(i),
      facts,
      displayName: p.displayName,
      verdict: judge(facts, config),
      analyzedEmailId: guidOf(`analyzed:${p.key}`),
      messageTraceId: guidOf(`trace:${p.key}`),
    };
  });
}

/** The scenario, as the overlay file holds it. */
export function gatewayScenario(): Obj {
  const config = gatewayConfig();
  const messages = gatewayMessages(config);
  const own = (d: string) => config.acceptedDomains.some((a) => String(a['DomainName']).toLowerCase() === d);
  return {
    name: 'gateway',
    description:
      'Tailspin Toys behind a third-party mail gateway: MX points to the gateway, whose inbound connector has enhanced filtering off; a partner connector for Woodgrove Bank; an SCL -1 rule for the marketing platform under a declared exception; news.tailspintoys.example received by Exchange Online Protection directly; and a week of inbound mail (analyzed emails, message trace) in which spoofs of tailspintoys.example and payroll-partner.example came through the gateway to the inbox.',
    extends: 'compliant',
    drifts: [
      ...configDrifts,
      {
        id: 'analyzed-emails',
        description:
          "A week of inbound mail as Defender analyzed it, one item per recipient: ordinary mail through the gateway; the marketing platform's under its SCL -1 rule; spoofs of tailspintoys.example and of payroll-partner.example (p=reject) through the gateway, delivered to the inbox (compauth none: EOP judged the gateway); Woodgrove Bank's mail on the partner connector, two failing DMARC and quarantined; spoofs sent straight to Exchange Online Protection, refused or quarantined.",
        patch: [{ op: 'add', path: '/graph/analyzedEmails', value: messages.map((m) => analyzedEmailOf(m, { ownDomain: own })) }],
      },
      {
        id: 'message-traces',
        description: "The same week in message trace, one row per message and recipient: delivered, quarantined or failed, fromIP the server that connected to Exchange Online (the gateway's for mail through it).",
        patch: [{ op: 'add', path: '/graph/messageTraces', value: messages.map((m) => messageTraceOf(m)) }],
      },
      { id: 'clock', description: 'The tenant\u2019s clock: 2026-11-30 12:00 UTC, the end of the week of mail.', patch: [{ op: 'add', path: '/clock', value: GATEWAY_CLOCK }] },
    ],
  };
}
