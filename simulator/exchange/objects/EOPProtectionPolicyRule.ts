import type { Collection } from '../../tenant/collection.js';
import { protectionRule } from '../rule.js';

declare module '../../tenant/tenant.js' {
  interface ExchangeCollections {
    EOPProtectionPolicyRule: Collection;
  }
}

/** The rules of the Standard and Strict preset security policies for Exchange Online Protection (anti-spam, anti-phishing spoof protection, anti-malware), named "Standard Preset Security Policy" and "Strict Preset Security Policy". They exist only once a preset has been turned on. */
export const EOPProtectionPolicyRule = protectionRule('EOPProtectionPolicyRule', ['HostedContentFilterPolicy', 'AntiPhishPolicy', 'MalwareFilterPolicy']);
