import type { Collection } from '../../tenant/collection.js';
import { checkEnum, exchangeObject } from '../object.js';

declare module '../../tenant/tenant.js' {
  interface ExchangeCollections {
    HostedOutboundSpamFilterPolicy: Collection;
  }
}

/** Outbound spam filter policies: AutoForwardingMode decides whether mail may be forwarded automatically to outside recipients. */
export const HostedOutboundSpamFilterPolicy = exchangeObject({
  noun: 'HostedOutboundSpamFilterPolicy',
  cmdlets: (o) => [
    o.get(),
    o.set({ AutoForwardingMode: 'string' }, (x, p) => ({
      ...x,
      ...(p['AutoForwardingMode'] !== undefined ? { AutoForwardingMode: checkEnum('AutoForwardingMode', p['AutoForwardingMode'], ['Automatic', 'Off', 'On']) } : {}),
    })),
  ],
});
