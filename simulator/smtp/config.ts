import type { DnsRecord } from '../dns/zone.js';
import { ANTI_PHISH_POLICY_PROPERTIES } from '../exchange/objects/AntiPhishPolicy.js';
import { INBOUND_CONNECTOR_PROPERTIES } from '../exchange/objects/InboundConnector.js';
import type { Tenant } from '../tenant/tenant.js';
import { domainOf, type MailConfig } from './judge.js';

type Obj = Record<string, unknown>;

const withDefaults = (defaults: Readonly<Record<string, unknown>>) => (o: Obj): Obj => ({ ...structuredClone(defaults), ...o });

/** The judge's configuration from Exchange objects by noun (as a scenario or the tenant holds them) and DNS records, with the defaults Get- fills in. */
export function mailConfigFrom(exchange: (noun: string) => readonly Obj[], dns: readonly DnsRecord[]): MailConfig {
  return {
    acceptedDomains: exchange('AcceptedDomain'),
    inboundConnectors: exchange('InboundConnector').map(withDefaults(INBOUND_CONNECTOR_PROPERTIES)),
    transportRules: exchange('TransportRule'),
    connectionFilterPolicies: exchange('HostedConnectionFilterPolicy'),
    antiPhishPolicies: exchange('AntiPhishPolicy').map(withDefaults(ANTI_PHISH_POLICY_PROPERTIES)),
    spoofItems: exchange('TenantAllowBlockListSpoofItems'),
    dns,
  };
}

/** The tenant's configuration as it is now (a Set- cmdlet's change counts from the next message). */
export function mailConfigOf(tenant: Tenant): MailConfig {
  const collections = tenant.exchange as unknown as Record<string, { values(): IterableIterator<Obj> } | undefined>;
  return mailConfigFrom((noun) => [...(collections[noun]?.values() ?? [])], tenant.dns);
}

/** Whether a recipient's domain is one of the tenant's accepted domains. */
export function isAcceptedDomain(tenant: Tenant, address: string): boolean {
  const domain = domainOf(address);
  return [...tenant.exchange.AcceptedDomain.values()].some((a) => String(a['DomainName'] ?? a['Name'] ?? '').toLowerCase() === domain);
}

/**
 * Whether the tenant receives mail for an address: a mailbox's or mail user's primary or proxy
 * address, or a mail-enabled group's. The primary address is looked up first (a generated tenant
 * answers it without a scan).
 */
export function isRecipient(tenant: Tenant, address: string): boolean {
  const want = address.toLowerCase();
  for (const noun of ['Mailbox', 'MailUser'] as const) if (tenant.exchange[noun].findBy('PrimarySmtpAddress', want).length) return true;
  const proxy = (v: unknown) => typeof v === 'string' && /^smtp:/i.test(v) && v.slice(5).toLowerCase() === want;
  for (const noun of ['Mailbox', 'MailUser'] as const) {
    for (const r of tenant.exchange[noun].values()) if (Array.isArray(r['EmailAddresses']) && r['EmailAddresses'].some(proxy)) return true;
  }
  for (const g of tenant.graph.groups.values()) if (g['mailEnabled'] === true && String(g['mail'] ?? '').toLowerCase() === want) return true;
  return false;
}
