import { normalizeName, type DnsRecord } from '../dns/zone.js';
import { aligned, dmarcRecordOf, entryHolds, evaluateSpf, plainIp, type SpfResult } from './auth.js';

/*
 * What Exchange Online Protection does with one inbound message, as the tenant's configuration says
 * it would, in Microsoft's order: which IP it judges (the client's, or the gateway's in front of it
 * unless enhanced filtering for connectors looks past it), SPF, DKIM and DMARC against the
 * scenario's DNS, the overrides that skip filtering (an SCL -1 transport rule, the connection filter
 * IP allow list, an allowed spoof pair), then the effective anti-phishing policy (DMARC's policy when
 * it is honoured, then spoof intelligence on a composite authentication failure). Pure: message facts
 * and configuration in, a verdict out. The SMTP listener (smtp/server.ts) and the gateway scenario's
 * evidence (scenario/gateway.ts) both judge with it.
 */

type Obj = Record<string, unknown>;

/** What the listener knows of a message for one recipient. */
export interface MessageFacts {
  /** The MX exchange the client connected to, e.g. `mx1.secure-gateway.example`. */
  readonly host: string;
  /** The connecting client's IP. */
  readonly clientIp: string;
  /** The envelope sender (MAIL FROM); `''` for the null sender. */
  readonly mailFrom: string;
  /** The From header's address. */
  readonly from: string;
  readonly recipient: string;
  /** A DKIM verdict the message carries (probes are unsigned; `X-Sim-DKIM: pass d=<domain>` gives one). */
  readonly dkim?: { readonly result: 'pass' | 'fail'; readonly domain: string } | undefined;
  /** Header fields by lower-case name, for transport rule conditions on headers. */
  readonly headers?: Readonly<Record<string, string>>;
}

/** The tenant's configuration the judgement reads: Exchange objects as their Get- cmdlets show them (defaults filled in), and the DNS records. */
export interface MailConfig {
  readonly acceptedDomains: readonly Obj[];
  readonly inboundConnectors: readonly Obj[];
  readonly transportRules: readonly Obj[];
  readonly connectionFilterPolicies: readonly Obj[];
  readonly antiPhishPolicies: readonly Obj[];
  readonly spoofItems: readonly Obj[];
  readonly dns: readonly DnsRecord[];
}

/** What becomes of the message: refused at the end of DATA, quarantined, delivered to Junk, delivered to the inbox. */
export type Disposition = 'reject' | 'quarantine' | 'junk' | 'inbox';

export type OverrideSource = 'Exchange transport rule' | 'Connection policy' | 'Tenant Allow Block List';

export interface Verdict {
  readonly disposition: Disposition;
  /** Where the message entered: EOP directly, through the gateway in front of it, or from a partner (a Partner connector on the EOP host). */
  readonly path: 'eop' | 'gateway' | 'partner';
  /** The inbound connector the message arrived on, if any. */
  readonly connector: string | undefined;
  /** Whether enhanced filtering for connectors looked past the gateway for this recipient. */
  readonly enhancedFiltering: boolean;
  /** The IP EOP judged: the client's, or the gateway's without enhanced filtering. */
  readonly evaluatedIp: string;
  /** The IP that connected to EOP: the gateway's on a gateway path (message trace's fromIP). */
  readonly connectingIp: string;
  readonly spf: SpfResult;
  /** The domain SPF was checked for: the MAIL FROM domain, or the From domain for the null sender. */
  readonly spfDomain: string;
  readonly dkim: 'pass' | 'fail' | 'none';
  readonly dmarc: 'pass' | 'fail' | 'none';
  /** The DMARC policy that applies to the From domain (p, or sp for a subdomain), when it publishes one. */
  readonly dmarcPolicy: 'none' | 'quarantine' | 'reject' | undefined;
  readonly compauth: 'pass' | 'fail' | 'softpass' | 'none';
  /**
   * The compauth reason code: 000 failed DMARC (reject or quarantine), 010 the same for one of the
   * organisation's accepted domains, 001 failed implicit authentication, 100 passed, 200 soft pass,
   * 905 not evaluated (complex routing without enhanced filtering).
   */
  readonly compauthReason: string;
  /** The override that let the message skip filtering. */
  readonly override: { readonly source: OverrideSource; readonly name: string } | undefined;
  /** The anti-phishing policy that applies (undefined when an override decided first). */
  readonly policy: string | undefined;
  /** The policy setting that decided, e.g. `DmarcRejectAction Reject`. */
  readonly action: string | undefined;
  /** The SMTP reply for a refused message. */
  readonly reply: string | undefined;
  /** Why, in a sentence. */
  readonly because: string;
}

const lower = (v: unknown) => (typeof v === 'string' ? v.trim().toLowerCase() : '');
const list = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : typeof v === 'string' && v ? [v] : []);
const nameOf = (o: Obj) => String(o['Name'] ?? o['Identity'] ?? '');
export const domainOf = (address: string): string => normalizeName(address.slice(address.lastIndexOf('@') + 1));

/** An MX exchange of Exchange Online Protection itself. */
export const isEopHost = (host: string): boolean => /\.mail\.protection\.outlook\.com\.?$/i.test(host) || /\.mx\.microsoft\.?$/i.test(host);

/** The first address of an IP list entry (an address, `a-b`, or a CIDR block). */
const firstAddress = (entry: string) => entry.trim().split(/[/-]/)[0]!;

/** The enabled connector a gateway's mail arrives on: OnPremises, else a Partner connector restricted to IP addresses. */
function gatewayConnector(connectors: readonly Obj[]): Obj | undefined {
  const enabled = connectors.filter((c) => c['Enabled'] !== false);
  return enabled.find((c) => lower(c['ConnectorType']) === 'onpremises') ?? enabled.find((c) => lower(c['ConnectorType']) === 'partner' && list(c['SenderIPAddresses']).length > 0);
}

/** Whether a connector's sender domains (`smtp:domain;1`, `*` for any) name the sender's domain. */
function senderDomainsName(c: Obj, domain: string): boolean {
  return list(c['SenderDomains']).some((d) => {
    const m = /^(?:smtp:)?([^;]+)(?:;\d+)?$/i.exec(d.trim());
    const name = normalizeName(m?.[1] ?? '');
    if (!name || name === '*') return false;
    return name.startsWith('*.') ? domain.endsWith(name.slice(1)) : domain === name;
  });
}

/** On the EOP host: the connector a partner's or own server's mail arrives on, by its IP, else a Partner connector by sender domain. */
function directConnector(connectors: readonly Obj[], ip: string, senderDomain: string): Obj | undefined {
  const enabled = connectors.filter((c) => c['Enabled'] !== false);
  return enabled.find((c) => list(c['SenderIPAddresses']).some((e) => entryHolds(e, ip))) ?? enabled.find((c) => lower(c['ConnectorType']) === 'partner' && senderDomainsName(c, senderDomain));
}

/** Enhanced filtering for connectors on `c` for this recipient: skip listing on, not in test mode, everyone or this recipient. */
function enhancedFilteringFor(c: Obj | undefined, recipient: string): boolean {
  if (!c) return false;
  const skips = c['EFSkipLastIP'] === true || list(c['EFSkipIPs']).length > 0;
  const users = list(c['EFUsers']).map((u) => u.toLowerCase());
  return skips && c['EFTestMode'] !== true && (users.length === 0 || users.includes(recipient.toLowerCase()));
}

/** Whether a domain is one of the organisation's accepted domains or under one. */
const isAccepted = (domain: string, c: MailConfig) => c.acceptedDomains.some((a) => {
  const d = lower(a['DomainName'] ?? a['Name']);
  return d !== '' && (domain === d || domain.endsWith(`.${d}`));
});

/** The anti-phishing policy that applies: the enabled default one, else the first enabled one. */
export function effectiveAntiPhish(policies: readonly Obj[]): Obj | undefined {
  const enabled = policies.filter((p) => p['Enabled'] !== false);
  return enabled.find((p) => p['IsDefault'] === true) ?? enabled[0];
}

/** Whether a transport rule's conditions hold for the message (a rule without a condition this judge reads holds for every message). */
function ruleMatches(r: Obj, f: MessageFacts, ip: string): boolean {
  const fromDomain = domainOf(f.from);
  const domains = list(r['SenderDomainIs']).map((d) => normalizeName(d));
  if (domains.length && !domains.some((d) => fromDomain === d || fromDomain.endsWith(`.${d}`))) return false;
  const ranges = list(r['SenderIpRanges']);
  if (ranges.length && !ranges.some((e) => entryHolds(e, ip))) return false;
  const senders = list(r['From']).map((a) => a.toLowerCase());
  if (senders.length && !senders.includes(f.from.toLowerCase())) return false;
  if (lower(r['FromScope']) === 'inorganization') return false;
  const header = lower(r['HeaderContainsMessageHeader']);
  if (header) {
    const value = (f.headers?.[header] ?? '').toLowerCase();
    const words = list(r['HeaderContainsWords']).map((w) => w.toLowerCase());
    if (!f.headers?.[header] || (words.length && !words.some((w) => value.includes(w)))) return false;
  }
  return true;
}

/** The first override that lets the message skip filtering, in Exchange's order. */
function overrideOf(f: MessageFacts, ip: string, spfDomain: string, c: MailConfig): Verdict['override'] {
  const rules = c.transportRules
    .filter((r) => lower(r['State'] ?? 'Enabled') === 'enabled' && lower(r['Mode'] ?? 'Enforce') === 'enforce' && r['SetSCL'] !== null && r['SetSCL'] !== undefined && Number(r['SetSCL']) === -1)
    .sort((a, b) => Number(a['Priority'] ?? 0) - Number(b['Priority'] ?? 0));
  const rule = rules.find((r) => ruleMatches(r, f, ip));
  if (rule) return { source: 'Exchange transport rule', name: nameOf(rule) };
  const allowing = c.connectionFilterPolicies.find((p) => list(p['IPAllowList']).some((e) => entryHolds(e, ip)));
  if (allowing) return { source: 'Connection policy', name: nameOf(allowing) };
  const fromDomain = domainOf(f.from);
  const slash24 = /^(\d+\.\d+\.\d+)\.\d+$/.exec(plainIp(ip))?.[1];
  const pair = c.spoofItems.find((s) => {
    if (lower(s['Action']) !== 'allow') return false;
    const user = lower(s['SpoofedUser']);
    if (user !== fromDomain && user !== f.from.toLowerCase()) return false;
    const infra = lower(s['SendingInfrastructure']);
    return (slash24 !== undefined && infra === `${slash24}.0/24`) || (infra !== '' && infra === spfDomain);
  });
  if (pair) return { source: 'Tenant Allow Block List', name: `${String(pair['SpoofedUser'])}, ${String(pair['SendingInfrastructure'])}` };
  return undefined;
}

/** Judges one message for one recipient. */
export function judge(f: MessageFacts, c: MailConfig): Verdict {
  const clientIp = plainIp(f.clientIp);
  const fromDomain = domainOf(f.from);
  const spfDomain = f.mailFrom ? domainOf(f.mailFrom) : fromDomain;

  // Which IP EOP judges, and the connector the message arrives on.
  let path: Verdict['path'];
  let connector: Obj | undefined;
  let connectingIp: string;
  let ef = false;
  if (isEopHost(f.host)) {
    connector = directConnector(c.inboundConnectors, clientIp, spfDomain) ?? directConnector(c.inboundConnectors, clientIp, fromDomain);
    path = connector && lower(connector['ConnectorType']) === 'partner' ? 'partner' : 'eop';
    connectingIp = clientIp;
  } else {
    path = 'gateway';
    connector = gatewayConnector(c.inboundConnectors);
    const relay = list(connector?.['SenderIPAddresses'])[0];
    const published = c.dns.find((r) => r.type === 'A' && normalizeName(r.name) === normalizeName(f.host))?.data;
    connectingIp = relay ? firstAddress(relay) : typeof published === 'string' ? published : clientIp;
    ef = enhancedFilteringFor(connector, f.recipient);
  }
  const evaluatedIp = path === 'gateway' && !ef ? connectingIp : clientIp;

  // Authentication.
  const spf = evaluateSpf(spfDomain, evaluatedIp, c.dns);
  const dkim: Verdict['dkim'] = f.dkim?.result ?? 'none';
  const record = dmarcRecordOf(fromDomain, c.dns);
  const dmarcPass = !!record && ((spf === 'pass' && aligned(spfDomain, fromDomain, record.strictSpf)) || (dkim === 'pass' && !!f.dkim && aligned(f.dkim.domain, fromDomain, record.strictDkim)));
  const dmarc: Verdict['dmarc'] = !record ? 'none' : dmarcPass ? 'pass' : 'fail';
  const dkimAligned = dkim === 'pass' && !!f.dkim && aligned(f.dkim.domain, fromDomain, false);
  const notEvaluated = path === 'gateway' && !ef;
  let compauth: Verdict['compauth'];
  let compauthReason: string;
  if (dmarc === 'pass' || (!record && (spf === 'pass' || dkimAligned))) [compauth, compauthReason] = ['pass', '100'];
  else if (notEvaluated) [compauth, compauthReason] = ['none', '905'];
  else if (dmarc === 'fail') [compauth, compauthReason] = ['fail', record!.policy === 'none' ? '001' : isAccepted(fromDomain, c) ? '010' : '000'];
  else if (spf === 'fail') [compauth, compauthReason] = ['fail', '001'];
  else [compauth, compauthReason] = ['softpass', '200'];

  const base = {
    path, connector: connector ? nameOf(connector) : undefined, enhancedFiltering: ef, evaluatedIp, connectingIp,
    spf, spfDomain, dkim, dmarc, dmarcPolicy: record?.policy, compauth, compauthReason,
  };
  const where = path === 'gateway' ? `through the gateway${connector ? ` (connector "${nameOf(connector)}")` : ''}` : path === 'partner' ? `from the partner (connector "${nameOf(connector!)}")` : 'sent directly to Exchange Online Protection';

  // Overrides act before authentication does.
  const override = overrideOf(f, evaluatedIp, spfDomain, c);
  if (override) {
    return { ...base, disposition: 'inbox', override, policy: undefined, action: undefined, reply: undefined, because: `${override.source} "${override.name}" lets the message ${where} skip filtering` };
  }

  const policy = effectiveAntiPhish(c.antiPhishPolicies);
  const policyName = policy ? nameOf(policy) : undefined;
  const done = (disposition: Disposition, action: string | undefined, because: string): Verdict => ({
    ...base, disposition, override: undefined, policy: policyName, action,
    reply: disposition === 'reject' ? `550 5.7.509 Access denied, sending domain [${fromDomain.toUpperCase()}] does not pass DMARC verification and has a DMARC policy of reject.` : undefined,
    because,
  });
  if (notEvaluated) {
    return done('inbox', undefined, `EOP judged the gateway's IP ${connectingIp}, not the sender: without enhanced filtering for connectors composite authentication is not evaluated (compauth none, reason 905) and the message ${where} is delivered`);
  }
  if (!policy) return done('inbox', undefined, `no anti-phishing policy applies to the message ${where}`);
  const honour = policy['HonorDmarcPolicy'] !== false;
  if (dmarc === 'fail' && honour && record!.policy === 'reject') {
    const a = lower(policy['DmarcRejectAction'] ?? 'Reject');
    if (a === 'reject') return done('reject', 'DmarcRejectAction Reject', `DMARC of ${fromDomain} fails under p=reject and "${policyName}" honours it: refused`);
    if (a === 'quarantine') return done('quarantine', 'DmarcRejectAction Quarantine', `DMARC of ${fromDomain} fails under p=reject; "${policyName}" quarantines it`);
  }
  if (dmarc === 'fail' && honour && record!.policy === 'quarantine') {
    const a = lower(policy['DmarcQuarantineAction'] ?? 'Quarantine');
    if (a === 'movetojmf') return done('junk', 'DmarcQuarantineAction MoveToJmf', `DMARC of ${fromDomain} fails under p=quarantine; "${policyName}" moves it to Junk`);
    if (a !== 'noaction') return done('quarantine', `DmarcQuarantineAction ${String(policy['DmarcQuarantineAction'] ?? 'Quarantine')}`, `DMARC of ${fromDomain} fails under p=quarantine; "${policyName}" quarantines it`);
  }
  if (compauth === 'fail' && policy['EnableSpoofIntelligence'] !== false) {
    const a = lower(policy['AuthenticationFailAction'] ?? 'MoveToJmf');
    return a === 'quarantine'
      ? done('quarantine', 'AuthenticationFailAction Quarantine', `composite authentication of ${fromDomain} fails and spoof intelligence in "${policyName}" quarantines it`)
      : done('junk', 'AuthenticationFailAction MoveToJmf', `composite authentication of ${fromDomain} fails and spoof intelligence in "${policyName}" moves it to Junk`);
  }
  return done('inbox', undefined, `the message ${where} passes (compauth ${compauth})`);
}
