import { exchangeRead } from './exchange-object.js';
import type { ResourceType } from './types.js';

/** Anti-spam policy rules: which recipients each custom anti-spam policy applies to, in priority order. Read-only: the effective policy of each recipient is resolved from it (checks/effective-policy.ts). */
export const hostedContentFilterRule: ResourceType = { key: 'hostedContentFilterRule', title: 'anti-spam policy rules', read: exchangeRead('contentFilterRules', 'Get-HostedContentFilterRule') };
