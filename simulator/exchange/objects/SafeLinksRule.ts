import type { Collection } from '../../tenant/collection.js';
import { protectionRule } from '../rule.js';

declare module '../../tenant/tenant.js' {
  interface ExchangeCollections {
    SafeLinksRule: Collection;
  }
}

/** Rules of the Safe Links policies (Defender for Office 365): which recipients each custom policy applies to, in priority order. */
export const SafeLinksRule = protectionRule('SafeLinksRule', ['SafeLinksPolicy']);
