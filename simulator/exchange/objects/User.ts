import type { Collection } from '../../tenant/collection.js';
import { exchangeObject } from '../object.js';

declare module '../../tenant/tenant.js' {
  interface ExchangeCollections {
    User: Collection;
  }
}

/** Get-User: the directory user as Exchange shows it (Manager included). */
export const User = exchangeObject({
  noun: 'User',
  identity: ['Identity', 'Name', 'UserPrincipalName', 'ExternalDirectoryObjectId', 'Guid', 'DistinguishedName'],
  cmdlets: (o) => [o.get()],
});
