import type { Collection } from '../../tenant/collection.js';
import { exchangeObject } from '../object.js';

declare module '../../tenant/tenant.js' {
  interface ExchangeCollections {
    MailUser: Collection;
  }
}

/** Mail users: directory users whose mail goes to an outside address (ExternalEmailAddress). */
export const MailUser = exchangeObject({
  noun: 'MailUser',
  identity: ['Identity', 'Name', 'Alias', 'DisplayName', 'UserPrincipalName', 'PrimarySmtpAddress', 'ExternalDirectoryObjectId', 'Guid', 'DistinguishedName'],
  cmdlets: (o) => [o.get()],
});
