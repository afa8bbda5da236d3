/**
 * The inbound path map (docs/inbound-paths.md): per accepted domain, where mail from the internet
 * enters (Exchange Online Protection directly, a gateway in front of it, a partner connector), whether
 * enhanced filtering sees past the gateway, what on the path skips filtering, and what becomes of mail
 * that fails authentication, by failure kind. Pure: built from what was read.
 */

import { BlockList, isIPv4 } from 'node:net';

import type { Bypass, Disposition, FailureKind, InboundPath, Outcome } from '../model/paths.js';
import { FAILURE_KINDS } from '../model/paths.js';

export type { Bypass, Disposition, FailureKind, InboundPath, Outcome } from '../model/paths.js';
export { FAILURE_KINDS } from '../model/paths.js';

type Obj = Record<string, unknown>;

export interface PathInputs {
  readonly acceptedDomains: readonly Obj[];
  /** Each accepted domain's MX records, as DNS answered them (lower-case domain keys). */
  readonly mx: Readonly<Record<string, ReadonlyArray<{ preference: number; exchange: string }>>>;
  readonly connectors: readonly Obj[];
  readonly transportRules: readonly Obj[];
  readonly connectionFilter: readonly Obj[];
  readonly spoofItems: readonly Obj[];
  /** Anti-spam policies: their allowed senders and domains skip spam filtering for the senders they name. */
  readonly contentFilter?: readonly Obj[];
  /** The anti-phishing and anti-spam policies that apply to the domain's recipients (the default ones when no rule scopes another). */
  readonly antiPhish: Obj | undefined;
}

const lower = (v: unknown) => (typeof v === 'string' ? v.trim().toLowerCase() : '');
const list = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);
const nameOf = (o: Obj) => String(o['Name'] ?? o['Identity'] ?? '');

/** The IPv4 entries of `list` (addresses, `a-b` ranges, CIDR blocks, as Exchange stores them) that hold `ip`. */
export function entriesHolding(entries: readonly string[], ip: string): string[] {
  if (!isIPv4(ip)) return [];
  return entries.filter((e) => {
    const b = new BlockList();
    const cidr = /^([\d.]+)\/(\d{1,2})$/.exec(e.trim());
    const range = /^([\d.]+)-([\d.]+)$/.exec(e.trim());
    try {
      if (cidr && isIPv4(cidr[1]!)) b.addSubnet(cidr[1]!, Number(cidr[2]), 'ipv4');
      else if (range && isIPv4(range[1]!) && isIPv4(range[2]!)) b.addRange(range[1]!, range[2]!, 'ipv4');
      else if (isIPv4(e.trim())) b.addAddress(e.trim(), 'ipv4');
      else return false;
    } catch {
      return false;
    }
    return b.check(ip, 'ipv4');
  });
}

/** The host at which Exchange Online Protection takes a domain's mail, as Exchange Online names it: `contoso.example` → `contoso-example.mail.protection.outlook.com`. */
export const eopHostOf = (domain: string): string => `${domain.toLowerCase().replace(/\.$/, '').replace(/\./g, '-')}.mail.protection.outlook.com`;

/** An MX exchange of Exchange Online Protection itself. */
export const isEopHost = (host: string): boolean => /\.mail\.protection\.outlook\.com\.?$/i.test(host) || /\.mx\.microsoft\.?$/i.test(host);

/**
 * The enabled connector a gateway's mail arrives on, for the gateway `host`: one whose certificate
 * names the gateway's domain; else a Partner connector for every sender domain (`*`) restricted to IP
 * addresses or a certificate, as third-party filtering services are connected; else an OnPremises
 * connector; else any Partner connector restricted to IP addresses or a certificate.
 */
function gatewayConnector(connectors: readonly Obj[], host: string): Obj | undefined {
  const enabled = connectors.filter((c) => c['Enabled'] !== false);
  const restricted = (c: Obj) => list(c['SenderIPAddresses']).length > 0 || !!c['TlsSenderCertificateName'];
  const partner = (c: Obj) => lower(c['ConnectorType']) === 'partner' && restricted(c);
  const parent = host.split('.').slice(1).join('.');
  const certFor = (c: Obj) => {
    const cert = lower(c['TlsSenderCertificateName']).replace(/^\*\./, '');
    return !!cert && !!parent && (cert === host || cert === parent || cert.endsWith(`.${parent}`) || parent.endsWith(`.${cert}`));
  };
  const everyDomain = (c: Obj) => list(c['SenderDomains']).some((d) => /^(smtp:)?\*(;\d+)?$/i.test(d.trim()));
  return (
    enabled.find((c) => (partner(c) || lower(c['ConnectorType']) === 'onpremises') && certFor(c)) ??
    enabled.find((c) => partner(c) && everyDomain(c)) ??
    enabled.find((c) => lower(c['ConnectorType']) === 'onpremises') ??
    enabled.find(partner)
  );
}

function enhancedFilteringOf(c: Obj | undefined): InboundPath['enhancedFiltering'] {
  if (!c) return 'off';
  const skips = c['EFSkipLastIP'] === true || list(c['EFSkipIPs']).length > 0;
  if (!skips) return 'off';
  if (c['EFTestMode'] === true) return 'test';
  return list(c['EFUsers']).length ? 'some' : 'on';
}

/** Transport rule properties that are settings of a condition, not conditions themselves. */
const NOT_CONDITIONS = new Set(['SenderAddressLocation', 'RecipientAddressType', 'FromScopeDescription']);
/** The conditions and exceptions a transport rule sets (any with a value), by property name. */
export function conditionsOf(r: Obj): string[] {
  const set = (v: unknown) => v !== null && v !== undefined && v !== false && v !== '' && !(Array.isArray(v) && v.length === 0);
  const CONDITION = /^(ExceptIf|From|SentTo|Sender|Recipient|Header|Subject|AnyOf|Attachment|MessageType|MessageContains|MessageSize|SCLOver|WithImportance|HasSenderOverride|HasClassification|HasNoClassification|Between|Manager|ADComparison|Content|ContentCharacterSet|Body)/;
  return Object.keys(r).filter((k) => CONDITION.test(k) && !NOT_CONDITIONS.has(k) && set(r[k])).sort();
}

/** What on a path skips filtering: SCL -1 rules, allow-listed IPs, allowed spoof pairs. */
function bypassesOf(i: PathInputs, sources: readonly string[]): Bypass[] {
  const out: Bypass[] = [];
  for (const r of i.transportRules) {
    if (lower(r['State']) === 'disabled' || lower(r['Mode']) !== 'enforce' || r['SetSCL'] === null || Number(r['SetSCL']) !== -1) continue;
    const ips = list(r['SenderIpRanges']);
    const domains = list(r['SenderDomainIs']);
    const conditions = conditionsOf(r);
    const others = conditions.filter((c) => c !== 'SenderIpRanges' && c !== 'SenderDomainIs');
    // Every message of the path: no condition at all, only "from outside the organisation", or only
    // sender IP ranges that hold the path's own servers.
    const fromPath = ips.length > 0 && sources.length > 0 && sources.every((x) => entriesHolding(ips, x).length > 0) && conditions.every((c) => c === 'SenderIpRanges');
    const external = conditions.length === 1 && conditions[0] === 'FromScope' && lower(r['FromScope']) === 'notinorganization';
    const what = ips.length ? `from ${ips.join(', ')}` : domains.length ? `from senders in ${domains.join(', ')}` : external ? 'for every message from outside the organisation' : conditions.length ? `when ${conditions.join(', ')} match` : 'for every message';
    const also = others.length && (ips.length || domains.length) ? ` (and when ${others.join(', ')} match)` : '';
    out.push({ kind: 'scl-minus-one', name: nameOf(r), detail: `transport rule "${nameOf(r)}" sets SCL -1 ${what}${also}`, scope: !conditions.length || external || fromPath ? 'all' : 'some' });
  }
  for (const p of i.connectionFilter) {
    const allowed = list(p['IPAllowList']);
    if (!allowed.length) continue;
    const onPath = [...new Set(sources.flatMap((x) => entriesHolding(allowed, x)))];
    out.push({
      kind: 'ip-allow-list', name: nameOf(p),
      detail: `connection filter policy "${nameOf(p)}" allows ${(onPath.length ? onPath : allowed).join(', ')}${onPath.length ? " (this path's own servers)" : ''}`,
      scope: onPath.length ? 'all' : 'some',
    });
  }
  for (const p of i.contentFilter ?? []) {
    const named = [...list(p['AllowedSenderDomains']), ...list(p['AllowedSenders'])];
    if (!named.length) continue;
    out.push({ kind: 'allowed-sender', name: nameOf(p), detail: `anti-spam policy "${nameOf(p)}" allows ${named.join(', ')}`, scope: 'some' });
  }
  for (const s of i.spoofItems) {
    if (lower(s['Action']) !== 'allow') continue;
    out.push({ kind: 'spoof-allow', name: String(s['Identity'] ?? ''), detail: `the Tenant Allow/Block List allows ${String(s['SpoofedUser'])} spoofed from ${String(s['SendingInfrastructure'])}`, scope: 'some' });
  }
  return out;
}

const QUARANTINE_ACTIONS: Readonly<Record<string, Outcome>> = { reject: 'reject', quarantine: 'quarantine', movetojmf: 'junk', delete: 'reject', redirect: 'quarantine', noaction: 'inbox' };

/** What EOP does to a failure when it judges the original sender, from the anti-phishing policy. */
function judged(kind: FailureKind, ap: Obj | undefined): Disposition {
  const name = ap ? `anti-phishing policy "${nameOf(ap)}"` : 'no anti-phishing policy that was read';
  const spoof = (): Disposition => {
    if (!ap || ap['EnableSpoofIntelligence'] === false) return { outcome: 'inbox', because: `${name} has spoof intelligence off: a failed composite authentication is not acted on` };
    const a = lower(ap['AuthenticationFailAction']) || 'movetojmf';
    return { outcome: QUARANTINE_ACTIONS[a] ?? 'junk', because: `${name} acts on a failed composite authentication with AuthenticationFailAction ${String(ap['AuthenticationFailAction'] ?? 'MoveToJmf')}` };
  };
  if ((kind === 'dmarc-reject' || kind === 'dmarc-quarantine') && ap && ap['HonorDmarcPolicy'] !== false) {
    const property = kind === 'dmarc-reject' ? 'DmarcRejectAction' : 'DmarcQuarantineAction';
    const value = String(ap[property] ?? (kind === 'dmarc-reject' ? 'Reject' : 'Quarantine'));
    return { outcome: QUARANTINE_ACTIONS[value.toLowerCase()] ?? 'quarantine', because: `${name} honours DMARC p=${kind === 'dmarc-reject' ? 'reject' : 'quarantine'} (${property} ${value})` };
  }
  return spoof();
}

function dispositions(path: Pick<InboundPath, 'entry' | 'enhancedFiltering' | 'bypasses'>, ap: Obj | undefined): Record<FailureKind, Disposition> {
  const out = {} as Record<FailureKind, Disposition>;
  for (const kind of FAILURE_KINDS) {
    const bypass = path.bypasses.find((b) => b.scope === 'all');
    if (path.entry === 'gateway' && path.enhancedFiltering !== 'on') {
      // Complex routing (compauth reason 905): EOP sees the gateway, not the sender, and does not act on authentication.
      out[kind] = { outcome: 'inbox', because: `mail arrives through a gateway without enhanced filtering for connectors${path.enhancedFiltering === 'test' ? ' (test mode only)' : path.enhancedFiltering === 'some' ? ' for every recipient' : ''}, so Exchange Online Protection judges the gateway, not the sender, and does not act on the failure` };
    } else if (bypass) {
      out[kind] = { outcome: 'inbox', because: `${bypass.detail}, which skips the authentication verdict` };
    } else out[kind] = judged(kind, ap);
  }
  return out;
}

/** The inbound paths of every accepted domain (InternalRelay and Authoritative alike), in domain order. */
export function inboundPaths(i: PathInputs): InboundPath[] {
  const out: InboundPath[] = [];
  const gateways = new Set<Obj>();
  const domains = [...new Set(i.acceptedDomains.map((d) => lower(d['DomainName'] ?? d['Name'])).filter(Boolean))].sort();
  for (const domain of domains) {
    const mx = [...(i.mx[domain] ?? [])].filter((r) => r.exchange && r.exchange !== '.').sort((a, b) => a.preference - b.preference || a.exchange.localeCompare(b.exchange));
    const eopHosts = mx.filter((r) => isEopHost(r.exchange)).map((r) => lower(r.exchange));
    const gatewayHosts = mx.filter((r) => !isEopHost(r.exchange)).map((r) => lower(r.exchange));
    {
      // Exchange Online Protection takes every accepted domain's mail at the domain's own host, whatever
      // the MX says: behind a gateway, anyone who sends there directly skips the gateway; without an MX
      // (or with a null MX) the domain still receives there. That path is mapped too.
      const bypasses = bypassesOf(i, []);
      const p = { entry: 'eop' as const, enhancedFiltering: 'not-applicable' as const, bypasses };
      out.push({
        key: `${domain}/eop`, domain, hosts: eopHosts.length ? eopHosts : [eopHostOf(domain)], ...(eopHosts.length ? {} : { unpublished: true as const }),
        ...p, dispositions: dispositions(p, i.antiPhish),
      });
    }
    for (const host of gatewayHosts) {
      const gw = gatewayConnector(i.connectors, host);
      if (gw) gateways.add(gw);
      const sources = gw ? list(gw['SenderIPAddresses']) : [];
      const bypasses = bypassesOf(i, sources);
      const p = { entry: 'gateway' as const, enhancedFiltering: enhancedFilteringOf(gw), bypasses };
      out.push({ key: `${domain}/gateway:${host}`, domain, hosts: [host], ...(gw ? { connector: nameOf(gw) } : {}), ...p, dispositions: dispositions(p, i.antiPhish) });
    }
  }
  // Partner connectors receive mail for every domain from the partner's servers.
  for (const c of i.connectors) {
    if (gateways.has(c) || c['Enabled'] === false || lower(c['ConnectorType']) !== 'partner') continue;
    const bypasses = bypassesOf(i, list(c['SenderIPAddresses']));
    const p = { entry: 'partner' as const, enhancedFiltering: 'not-applicable' as const, bypasses };
    out.push({ key: `*/partner:${lower(nameOf(c))}`, domain: '*', hosts: [], connector: nameOf(c), ...p, dispositions: dispositions(p, i.antiPhish) });
  }
  return out;
}
