import type { Collection } from '../../tenant/collection.js';
import { protectionRule } from '../rule.js';

declare module '../../tenant/tenant.js' {
  interface ExchangeCollections {
    SafeAttachmentRule: Collection;
  }
}

/** Rules of the Safe Attachments policies (Defender for Office 365): which recipients each custom policy applies to, in priority order. */
export const SafeAttachmentRule = protectionRule('SafeAttachmentRule', ['SafeAttachmentPolicy']);
