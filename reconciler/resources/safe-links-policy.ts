import { exchangeRead } from './exchange-object.js';
import type { ResourceType } from './types.js';

/** Safe Links policies (Defender for Office 365), the Built-In Protection Policy among them. Read-only: the effective policy of each recipient is resolved from it (checks/effective-policy.ts). */
export const safeLinksPolicy: ResourceType = { key: 'safeLinksPolicy', title: 'Safe Links policies', read: exchangeRead('safeLinks', 'Get-SafeLinksPolicy') };
