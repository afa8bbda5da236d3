import type { Collection } from '../../tenant/collection.js';
import { exchangeObject } from '../object.js';

declare module '../../tenant/tenant.js' {
  interface ExchangeCollections {
    RemoteDomain: Collection;
  }
}

/** Remote domains: per destination domain (`*` for the Default one), whether automatic forwarding leaves the organisation. */
export const RemoteDomain = exchangeObject({
  noun: 'RemoteDomain',
  identity: ['Identity', 'Name', 'DomainName', 'Guid'],
  cmdlets: (o) => [
    o.get(),
    o.set({ AutoForwardEnabled: 'bool' }, (x, p) => ({ ...x, ...(p['AutoForwardEnabled'] !== undefined ? { AutoForwardEnabled: p['AutoForwardEnabled'] } : {}) })),
  ],
});
