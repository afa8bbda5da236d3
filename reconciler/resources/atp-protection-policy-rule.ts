import { exchangeRead } from './exchange-object.js';
import type { ResourceType } from './types.js';

/** The Standard and Strict preset security policies' rules for Safe Links, Safe Attachments and anti-phishing impersonation protection: whom each preset applies to. None until a preset is turned on. Read-only: the effective policy of each recipient is resolved from it (checks/effective-policy.ts). */
export const atpProtectionPolicyRule: ResourceType = { key: 'atpProtectionPolicyRule', title: 'Defender for Office 365 preset security policy rules', read: exchangeRead('atpProtectionRules', 'Get-ATPProtectionPolicyRule') };
