import { exchangeRead } from './exchange-object.js';
import type { ResourceType } from './types.js';

/** The Standard and Strict preset security policies' rules for anti-spam, anti-phishing spoof protection and anti-malware: whom each preset applies to. None until a preset is turned on. Read-only: the effective policy of each recipient is resolved from it (checks/effective-policy.ts). */
export const eopProtectionPolicyRule: ResourceType = { key: 'eopProtectionPolicyRule', title: 'Exchange Online Protection preset security policy rules', read: exchangeRead('eopProtectionRules', 'Get-EOPProtectionPolicyRule') };
