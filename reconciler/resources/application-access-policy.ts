import { exchangeRead } from './exchange-object.js';
import type { ResourceType } from './types.js';

/**
 * Exchange application access policies (Get-ApplicationAccessPolicy): which mailboxes an app's
 * application permissions reach (AccessRight RestrictAccess to a mail-enabled security group or a
 * mailbox, or DenyAccess to them). Read-only: restricting an app can cut off mail it needs, so the
 * finding gives the New-ApplicationAccessPolicy command for its owner to run.
 */
export const applicationAccessPolicy: ResourceType = {
  key: 'applicationAccessPolicy',
  title: 'application access policies',
  read: exchangeRead('applicationAccessPolicies', 'Get-ApplicationAccessPolicy'),
};
