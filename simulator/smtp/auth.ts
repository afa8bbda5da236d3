import { BlockList, isIPv4, isIPv6 } from 'node:net';
import { normalizeName, parseMx, type DnsRecord } from '../dns/zone.js';

/*
 * Email authentication as Exchange Online Protection computes it, against the DNS records of a
 * scenario (no resolver: the records are the world). Enough of SPF (RFC 7208) for scenarios: ip4,
 * ip6, a, mx, include, redirect and all with their qualifiers, the ten-lookup limit; and DMARC
 * (RFC 7489) of the From domain or its parent, with relaxed or strict alignment. Pure.
 */

export type SpfResult = 'pass' | 'fail' | 'softfail' | 'neutral' | 'none' | 'permerror' | 'temperror';

/** An address as compared: an IPv4-mapped IPv6 address (`::ffff:127.0.0.1`) is its IPv4 address. */
export const plainIp = (ip: string): string => (/^::ffff:\d+\.\d+\.\d+\.\d+$/i.test(ip) ? ip.slice(7) : ip);

/** The TXT strings at a name, each record's character-strings joined. */
export function txtAt(dns: readonly DnsRecord[], name: string): string[] {
  const key = normalizeName(name);
  return dns.filter((r) => r.type === 'TXT' && normalizeName(r.name) === key).map((r) => (Array.isArray(r.data) ? r.data.join('') : r.data));
}

const recordsAt = (dns: readonly DnsRecord[], name: string, type: DnsRecord['type']) => dns.filter((r) => r.type === type && normalizeName(r.name) === normalizeName(name));

/** Whether `ip` is in the `a.b.c.d/n` (or `x::/n`) block; a bare address is /32 (/128). */
export function inBlock(ip: string, block: string): boolean {
  const addr = plainIp(ip);
  const [base, bits] = block.split('/') as [string, string | undefined];
  const family = isIPv4(base) ? 'ipv4' : isIPv6(base) ? 'ipv6' : undefined;
  if (!family || (family === 'ipv4' ? !isIPv4(addr) : !isIPv6(addr))) return false;
  const prefix = bits === undefined ? (family === 'ipv4' ? 32 : 128) : Number(bits);
  if (!Number.isInteger(prefix) || prefix < 0 || prefix > (family === 'ipv4' ? 32 : 128)) return false;
  const list = new BlockList();
  try {
    list.addSubnet(base, prefix, family);
  } catch {
    return false;
  }
  return list.check(addr, family);
}

/** Whether an IP list entry as Exchange stores it (an address, `a-b`, or a CIDR block) holds `ip`. */
export function entryHolds(entry: string, ip: string): boolean {
  const e = entry.trim();
  const addr = plainIp(ip);
  const range = /^([\d.]+)-([\d.]+)$/.exec(e);
  if (range) {
    if (!isIPv4(range[1]!) || !isIPv4(range[2]!) || !isIPv4(addr)) return false;
    const list = new BlockList();
    try {
      list.addRange(range[1]!, range[2]!, 'ipv4');
    } catch {
      return false;
    }
    return list.check(addr, 'ipv4');
  }
  return inBlock(addr, e);
}

class SpfError extends Error {
  constructor(readonly result: 'permerror' | 'temperror') {
    super(result);
  }
}

const QUALIFIED: Record<string, SpfResult> = { '+': 'pass', '-': 'fail', '~': 'softfail', '?': 'neutral' };

/** SPF of `domain` for a message from `ip`. */
export function evaluateSpf(domain: string, ip: string, dns: readonly DnsRecord[]): SpfResult {
  if (!domain) return 'none';
  const budget = { lookups: 0 };
  try {
    return check(normalizeName(domain), plainIp(ip), dns, budget);
  } catch (err) {
    if (err instanceof SpfError) return err.result;
    throw err;
  }
}

function check(domain: string, ip: string, dns: readonly DnsRecord[], budget: { lookups: number }): SpfResult {
  const records = txtAt(dns, domain).filter((t) => /^v=spf1(\s|$)/i.test(t.trim()));
  if (records.length === 0) return 'none';
  if (records.length > 1) throw new SpfError('permerror');
  const terms = records[0]!.trim().split(/\s+/).slice(1);
  let redirect: string | undefined;
  const lookup = () => {
    if (++budget.lookups > 10) throw new SpfError('permerror');
  };
  for (const term of terms) {
    const mod = /^([a-z][a-z0-9_.-]*)=(.*)$/i.exec(term);
    if (mod) {
      if (mod[1]!.toLowerCase() === 'redirect') redirect = mod[2]!;
      continue;
    }
    const m = /^([+\-~?]?)([a-z0-9]+)(?::([^/]*))?(?:\/(\d+))?(?:\/\/(\d+))?$/i.exec(term);
    if (!m) throw new SpfError('permerror');
    const result = QUALIFIED[m[1] || '+']!;
    const mechanism = m[2]!.toLowerCase();
    const arg = m[3];
    let hit: boolean;
    switch (mechanism) {
      case 'all':
        hit = true;
        break;
      case 'ip4':
      case 'ip6':
        if (!arg) throw new SpfError('permerror');
        hit = inBlock(ip, m[4] ? `${arg}/${m[4]}` : arg);
        break;
      case 'a':
      case 'mx': {
        lookup();
        const target = normalizeName(arg || domain);
        const hosts = mechanism === 'a' ? [target] : recordsAt(dns, target, 'MX').map((r) => parseMx(String(r.data))?.exchange).filter((x): x is string => !!x);
        const v4 = m[4] ? Number(m[4]) : 32;
        hit = hosts.some((h) => recordsAt(dns, h, 'A').some((r) => inBlock(ip, `${String(r.data)}/${v4}`)));
        break;
      }
      case 'include': {
        if (!arg) throw new SpfError('permerror');
        lookup();
        const inner = check(normalizeName(arg), ip, dns, budget);
        if (inner === 'none' || inner === 'permerror') throw new SpfError('permerror');
        if (inner === 'temperror') throw new SpfError('temperror');
        hit = inner === 'pass';
        break;
      }
      case 'exists':
      case 'ptr':
        lookup();
        hit = false;
        break;
      default:
        throw new SpfError('permerror');
    }
    if (hit) return result;
  }
  if (redirect) {
    lookup();
    const inner = check(normalizeName(redirect), ip, dns, budget);
    if (inner === 'none') throw new SpfError('permerror');
    return inner;
  }
  return 'neutral';
}

/** The organisational domain: the last two labels (the scenario's domains sit under one-label suffixes). */
export const orgDomain = (domain: string): string => normalizeName(domain).split('.').slice(-2).join('.');

export interface DmarcRecord {
  /** Where the record was found: the From domain, or its organisational domain. */
  readonly at: string;
  /** The policy that applies to the From domain: `p`, or `sp` for a subdomain when the record has one. */
  readonly policy: 'none' | 'quarantine' | 'reject';
  readonly strictSpf: boolean;
  readonly strictDkim: boolean;
}

/** The DMARC record for a From domain: its own, else its organisational domain's. */
export function dmarcRecordOf(fromDomain: string, dns: readonly DnsRecord[]): DmarcRecord | undefined {
  const domain = normalizeName(fromDomain);
  const candidates = [...new Set([domain, orgDomain(domain)])];
  for (const at of candidates) {
    const text = txtAt(dns, `_dmarc.${at}`).find((t) => /^v=DMARC1\s*(;|$)/i.test(t.trim()));
    if (!text) continue;
    const tags = Object.fromEntries(
      text.split(';').map((t) => t.trim()).filter(Boolean).map((t) => {
        const i = t.indexOf('=');
        return [t.slice(0, i).trim().toLowerCase(), t.slice(i + 1).trim().toLowerCase()];
      }),
    );
    const policyOf = (v: string | undefined) => (v === 'reject' || v === 'quarantine' || v === 'none' ? v : undefined);
    const p = policyOf(tags['p']);
    if (!p) continue;
    const policy = at !== domain ? (policyOf(tags['sp']) ?? p) : p;
    return { at, policy, strictSpf: tags['aspf'] === 's', strictDkim: tags['adkim'] === 's' };
  }
  return undefined;
}

/** Whether an authenticated domain aligns with the From domain (relaxed: the same organisational domain). */
export const aligned = (authenticated: string, fromDomain: string, strict: boolean): boolean =>
  strict ? normalizeName(authenticated) === normalizeName(fromDomain) : orgDomain(authenticated) === orgDomain(fromDomain);
