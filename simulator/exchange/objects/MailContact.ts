import type { Collection } from '../../tenant/collection.js';
import { exchangeObject } from '../object.js';

declare module '../../tenant/tenant.js' {
  interface ExchangeCollections {
    MailContact: Collection;
  }
}

/** Mail contacts: outside addresses in the address book, which a forwarding target may name. */
export const MailContact = exchangeObject({
  noun: 'MailContact',
  identity: ['Identity', 'Name', 'Alias', 'DisplayName', 'PrimarySmtpAddress', 'Guid', 'DistinguishedName'],
  cmdlets: (o) => [o.get()],
});
