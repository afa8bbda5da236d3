import type { Collection } from '../../tenant/collection.js';
import { checkEnum, COMMON, exchangeObject } from '../object.js';

declare module '../../tenant/tenant.js' {
  interface ExchangeCollections {
    TenantAllowBlockListSpoofItems: Collection;
  }
}

/**
 * Spoofed sender entries of the Tenant Allow/Block List: a pair of the spoofed sender (an address of
 * the organisation's own domains, or an outside domain) and the infrastructure that sends as it (its
 * PTR domain, or its /24 range), allowed or blocked. An allowed pair lets that mail past spoof
 * intelligence, however it fails authentication. Identity is a random GUID. A new organisation has
 * none. Get- takes -Action and -SpoofType (Internal or External) as filters.
 */
export const TenantAllowBlockListSpoofItems = exchangeObject({
  noun: 'TenantAllowBlockListSpoofItems',
  identity: ['Identity', 'ObjectId'],
  cmdlets: () => [
    {
      name: 'Get-TenantAllowBlockListSpoofItems',
      writes: false,
      parameters: { Identity: 'string', Action: 'string', SpoofType: 'string', ...COMMON },
      run: (t, p) => {
        const action = p['Action'] !== undefined ? checkEnum('Action', p['Action'], ['Allow', 'Block']).toLowerCase() : undefined;
        const type = p['SpoofType'] !== undefined ? checkEnum('SpoofType', p['SpoofType'], ['Internal', 'External']).toLowerCase() : undefined;
        return [...t.exchange.TenantAllowBlockListSpoofItems.values()].filter(
          (e) => (!action || String(e['Action']).toLowerCase() === action) && (!type || String(e['SpoofType']).toLowerCase().replace('intra-org', 'internal') === type),
        );
      },
    },
  ],
});
