import { exchangeRead } from './exchange-object.js';
import type { ResourceType } from './types.js';

/** Safe Attachments policies (Defender for Office 365), the Built-In Protection Policy among them. Read-only: the effective policy of each recipient is resolved from it (checks/effective-policy.ts). */
export const safeAttachmentPolicy: ResourceType = { key: 'safeAttachmentPolicy', title: 'Safe Attachments policies', read: exchangeRead('safeAttachments', 'Get-SafeAttachmentPolicy') };
