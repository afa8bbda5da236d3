import type { Collection } from '../../tenant/collection.js';
import { exchangeObject } from '../object.js';

declare module '../../tenant/tenant.js' {
  interface ExchangeCollections {
    AcceptedDomain: Collection;
  }
}

/** Accepted domains: the domains the organisation receives mail for (InitialDomain, IsCoexistenceDomain included). */
export const AcceptedDomain = exchangeObject({
  noun: 'AcceptedDomain',
  identity: ['Identity', 'Name', 'DomainName', 'Guid'],
  indexed: ['DomainName'],
  cmdlets: (o) => [o.get()],
});
