import { exchangeRead } from './exchange-object.js';
import type { ResourceType } from './types.js';

/** Safe Links policy rules (Defender for Office 365): which recipients each custom Safe Links policy applies to. Read-only: the effective policy of each recipient is resolved from it (checks/effective-policy.ts). */
export const safeLinksRule: ResourceType = { key: 'safeLinksRule', title: 'Safe Links policy rules', read: exchangeRead('safeLinksRules', 'Get-SafeLinksRule') };
