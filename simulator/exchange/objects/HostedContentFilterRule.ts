import type { Collection } from '../../tenant/collection.js';
import { protectionRule } from '../rule.js';

declare module '../../tenant/tenant.js' {
  interface ExchangeCollections {
    HostedContentFilterRule: Collection;
  }
}

/** Rules of the inbound anti-spam policies: which recipients each custom policy applies to, in priority order. */
export const HostedContentFilterRule = protectionRule('HostedContentFilterRule', ['HostedContentFilterPolicy']);
