import { exchangeRead } from './exchange-object.js';
import type { ResourceType } from './types.js';

/** Anti-phishing policy rules: which recipients each custom anti-phishing policy applies to, in priority order. Read-only: the effective policy of each recipient is resolved from it (checks/effective-policy.ts). */
export const antiPhishRule: ResourceType = { key: 'antiPhishRule', title: 'anti-phishing policy rules', read: exchangeRead('antiPhishRules', 'Get-AntiPhishRule') };
