import type { Collection } from '../../tenant/collection.js';
import { checkEnum, exchangeObject } from '../object.js';

declare module '../../tenant/tenant.js' {
  interface ExchangeCollections {
    InboundConnector: Collection;
  }
}

/**
 * What an inbound connector holds when a scenario leaves a property out, as Get-InboundConnector
 * shows a connector made in the Exchange admin center. Enhanced filtering for connectors (skip
 * listing) is off: EFSkipLastIP false, EFSkipIPs and EFUsers empty, so Exchange Online Protection
 * judges the connecting server (the gateway in front of it), not the original sender.
 */
export const INBOUND_CONNECTOR_PROPERTIES: Readonly<Record<string, unknown>> = {
  Enabled: true,
  ConnectorType: 'Partner',
  ConnectorSource: 'Default',
  Comment: null,
  SenderIPAddresses: [],
  SenderDomains: ['smtp:*;1'],
  TrustedOrganizations: [],
  AssociatedAcceptedDomains: [],
  RequireTls: false,
  RestrictDomainsToIPAddresses: false,
  RestrictDomainsToCertificate: false,
  CloudServicesMailEnabled: false,
  TreatMessagesAsInternal: false,
  TlsSenderCertificateName: null,
  EFTestMode: false,
  ScanAndDropRecipients: [],
  EFSkipLastIP: false,
  EFSkipIPs: [],
  EFSkipMailGateway: [],
  EFUsers: [],
  IsValid: true,
  ObjectState: 'Unchanged',
};

/**
 * Inbound connectors: mail from a partner organisation or from the organisation's own servers (or a
 * gateway in front of Exchange Online), who may use the connector (sender domains, sender IP
 * addresses, a TLS certificate) and whether enhanced filtering looks past the last hop. A new
 * organisation has none. Set-InboundConnector changes the enhanced filtering settings and Enabled.
 */
export const InboundConnector = exchangeObject({
  noun: 'InboundConnector',
  properties: INBOUND_CONNECTOR_PROPERTIES,
  cmdlets: (o) => [
    o.get(),
    o.set({ Enabled: 'bool', EFSkipLastIP: 'bool', EFSkipIPs: 'strings', EFUsers: 'strings', EFTestMode: 'bool', ConnectorType: 'string', RequireTls: 'bool', RestrictDomainsToIPAddresses: 'bool', RestrictDomainsToCertificate: 'bool' }, (x, p) => {
      const next = { ...x };
      for (const k of ['Enabled', 'EFSkipLastIP', 'EFTestMode', 'RequireTls', 'RestrictDomainsToIPAddresses', 'RestrictDomainsToCertificate'] as const) if (p[k] !== undefined) next[k] = p[k];
      for (const k of ['EFSkipIPs', 'EFUsers'] as const) if (p[k] !== undefined) next[k] = p[k] === null ? [] : [...new Set(p[k] as string[])];
      if (p['ConnectorType'] !== undefined) next['ConnectorType'] = checkEnum('ConnectorType', p['ConnectorType'], ['OnPremises', 'Partner']);
      return next;
    }),
  ],
});
