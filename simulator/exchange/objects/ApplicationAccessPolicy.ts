import type { Collection } from '../../tenant/collection.js';
import { exchangeObject } from '../object.js';

declare module '../../tenant/tenant.js' {
  interface ExchangeCollections {
    ApplicationAccessPolicy: Collection;
  }
}

/**
 * Application access policies: which mailboxes an app's application permissions (Graph and EWS)
 * reach. Each names the app (AppId), the mail-enabled security group or mailbox it applies to
 * (ScopeName, the display name; ScopeIdentity, its name; ScopeIdentityRaw, its SID and object GUID),
 * and AccessRight RestrictAccess (only those mailboxes) or DenyAccess (all but those). Identity is
 * `<tenant id>\<app id>:<scope SID>;<scope GUID>`. A new organisation has none.
 */
export const ApplicationAccessPolicy = exchangeObject({
  noun: 'ApplicationAccessPolicy',
  identity: ['Identity', 'Guid'],
  indexed: ['AppId'],
  cmdlets: (o) => [o.get()],
});
