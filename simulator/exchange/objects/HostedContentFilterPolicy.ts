import type { Collection } from '../../tenant/collection.js';
import { exchangeObject } from '../object.js';

declare module '../../tenant/tenant.js' {
  interface ExchangeCollections {
    HostedContentFilterPolicy: Collection;
  }
}

/** Inbound anti-spam (content filter) policies, with their allowed and blocked senders. */
export const HostedContentFilterPolicy = exchangeObject({
  noun: 'HostedContentFilterPolicy',
  cmdlets: (o) => [o.get()],
});
