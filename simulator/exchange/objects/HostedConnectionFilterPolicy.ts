import { isIPv4 } from 'node:net';
import type { Collection } from '../../tenant/collection.js';
import { CmdletError, exchangeObject } from '../object.js';

declare module '../../tenant/tenant.js' {
  interface ExchangeCollections {
    HostedConnectionFilterPolicy: Collection;
  }
}

/**
 * The connection filter policy: IP addresses whose mail is always let through (IPAllowList: spam
 * filtering skipped, DMARC's verdict included) or always refused (IPBlockList), and the Microsoft
 * safe list (EnableSafeList). Exchange Online has one, named Default; it cannot be created or removed.
 */
export const HostedConnectionFilterPolicy = exchangeObject({
  noun: 'HostedConnectionFilterPolicy',
  defaults: [
    {
      Guid: '2a3c4b5d-6e7f-4081-9a2b-3c4d5e6f7081',
      Identity: 'Default',
      Name: 'Default',
      AdminDisplayName: '',
      IsDefault: true,
      IPAllowList: [],
      IPBlockList: [],
      EnableSafeList: false,
      DirectoryBasedEdgeBlockMode: 'Default',
      IsValid: true,
      ObjectState: 'Unchanged',
      WhenCreated: '2024-01-08T09:00:00Z',
      WhenChanged: '2024-01-08T09:00:00Z',
    },
  ],
  cmdlets: (o) => [
    o.get(),
    o.set({ IPAllowList: 'strings', IPBlockList: 'strings', EnableSafeList: 'bool', AdminDisplayName: 'string' }, (x, p) => ({
      ...x,
      ...(p['IPAllowList'] !== undefined ? { IPAllowList: ipList('IPAllowList', p['IPAllowList']) } : {}),
      ...(p['IPBlockList'] !== undefined ? { IPBlockList: ipList('IPBlockList', p['IPBlockList']) } : {}),
      ...(p['EnableSafeList'] !== undefined ? { EnableSafeList: p['EnableSafeList'] } : {}),
      ...(p['AdminDisplayName'] !== undefined ? { AdminDisplayName: p['AdminDisplayName'] ?? '' } : {}),
    })),
  ],
});

const ipNumber = (ip: string) => ip.split('.').reduce((n, part) => n * 256 + Number(part), 0);

/**
 * An IP list as Exchange Online stores it: each entry a single IPv4 address, a range `a-b`, or a CIDR
 * block from /24 to /32 (IPv6 is not accepted); duplicates dropped; `$null` empties the list.
 */
function ipList(param: string, value: unknown): string[] {
  if (value === null) return [];
  const out: string[] = [];
  for (const raw of value as string[]) {
    const entry = raw.trim();
    const cidr = /^([^/]+)\/(\d{1,2})$/.exec(entry);
    const range = /^([^-]+)-([^-]+)$/.exec(entry);
    let ok: boolean;
    if (cidr) {
      ok = isIPv4(cidr[1]!) && Number(cidr[2]) <= 32;
      if (ok && Number(cidr[2]) < 24) {
        throw new CmdletError('System.Management.Automation.ParameterBindingException', `Cannot validate argument on parameter '${param}'. The IP range ${entry} is too large: a CIDR range must be /24 to /32.`);
      }
    } else if (range) {
      ok = isIPv4(range[1]!) && isIPv4(range[2]!) && ipNumber(range[1]!) <= ipNumber(range[2]!);
    } else {
      ok = isIPv4(entry);
    }
    if (!ok) {
      throw new CmdletError(
        'System.Management.Automation.ParameterBindingException',
        `Cannot process argument transformation on parameter '${param}'. Cannot convert value "${entry}" to type "Microsoft.Exchange.Data.IPRange". Error: "Invalid IP range: ${entry}"`,
      );
    }
    if (!out.includes(entry)) out.push(entry);
  }
  return out;
}
