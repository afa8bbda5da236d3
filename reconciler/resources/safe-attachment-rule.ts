import { exchangeRead } from './exchange-object.js';
import type { ResourceType } from './types.js';

/** Safe Attachments policy rules (Defender for Office 365): which recipients each custom Safe Attachments policy applies to. Read-only: the effective policy of each recipient is resolved from it (checks/effective-policy.ts). */
export const safeAttachmentRule: ResourceType = { key: 'safeAttachmentRule', title: 'Safe Attachments policy rules', read: exchangeRead('safeAttachmentRules', 'Get-SafeAttachmentRule') };
