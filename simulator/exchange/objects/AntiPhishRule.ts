import type { Collection } from '../../tenant/collection.js';
import { protectionRule } from '../rule.js';

declare module '../../tenant/tenant.js' {
  interface ExchangeCollections {
    AntiPhishRule: Collection;
  }
}

/** Rules of the anti-phishing policies: which recipients each custom policy applies to, in priority order. */
export const AntiPhishRule = protectionRule('AntiPhishRule', ['AntiPhishPolicy']);
