import { exchangeRead } from './exchange-object.js';
import type { ResourceType } from './types.js';

/** The Tenant Allow/Block List's spoofed sender pairs: an allowed pair skips spoof intelligence. Read-only. */
export const spoofItem: ResourceType = { key: 'spoofItem', title: 'allowed and blocked spoofed senders', read: exchangeRead('spoofItems', 'Get-TenantAllowBlockListSpoofItems') };
