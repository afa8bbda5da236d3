import type { Collection } from '../../tenant/collection.js';
import { protectionRule } from '../rule.js';

declare module '../../tenant/tenant.js' {
  interface ExchangeCollections {
    ATPProtectionPolicyRule: Collection;
  }
}

/** The rules of the Standard and Strict preset security policies for Defender for Office 365 (Safe Links, Safe Attachments, anti-phishing impersonation protection), named as the EOP ones. They exist only once a preset has been turned on. */
export const ATPProtectionPolicyRule = protectionRule('ATPProtectionPolicyRule', ['SafeLinksPolicy', 'SafeAttachmentPolicy']);
