import type { StateSlot } from '../tenant/slot.js';
import type { ExchangeNoun } from '../tenant/tenant.js';
import type { Cmdlet, ExchangeObject } from './object.js';
import { AcceptedDomain } from './objects/AcceptedDomain.js';
import { AntiPhishPolicy } from './objects/AntiPhishPolicy.js';
import { ApplicationAccessPolicy } from './objects/ApplicationAccessPolicy.js';
import { DkimSigningConfig } from './objects/DkimSigningConfig.js';
import { ExternalInOutlook } from './objects/ExternalInOutlook.js';
import { HostedConnectionFilterPolicy } from './objects/HostedConnectionFilterPolicy.js';
import { HostedContentFilterPolicy } from './objects/HostedContentFilterPolicy.js';
import { HostedOutboundSpamFilterPolicy } from './objects/HostedOutboundSpamFilterPolicy.js';
import { InboundConnector } from './objects/InboundConnector.js';
import { InboxRule } from './objects/InboxRule.js';
import { MailContact } from './objects/MailContact.js';
import { Mailbox } from './objects/Mailbox.js';
import { MailboxPermission } from './objects/MailboxPermission.js';
import { MailUser } from './objects/MailUser.js';
import { OrganizationConfig } from './objects/OrganizationConfig.js';
import { RecipientPermission } from './objects/RecipientPermission.js';
import { RemoteDomain } from './objects/RemoteDomain.js';
import { SharingPolicy } from './objects/SharingPolicy.js';
import { TransportConfig } from './objects/TransportConfig.js';
import { TenantAllowBlockListSpoofItems } from './objects/TenantAllowBlockListSpoofItems.js';
import { TransportRule } from './objects/TransportRule.js';
import { User } from './objects/User.js';
import { HostedContentFilterRule } from './objects/HostedContentFilterRule.js';
import { AntiPhishRule } from './objects/AntiPhishRule.js';
import { MalwareFilterPolicy } from './objects/MalwareFilterPolicy.js';
import { MalwareFilterRule } from './objects/MalwareFilterRule.js';
import { SafeLinksPolicy } from './objects/SafeLinksPolicy.js';
import { SafeLinksRule } from './objects/SafeLinksRule.js';
import { SafeAttachmentPolicy } from './objects/SafeAttachmentPolicy.js';
import { SafeAttachmentRule } from './objects/SafeAttachmentRule.js';
import { EOPProtectionPolicyRule } from './objects/EOPProtectionPolicyRule.js';
import { ATPProtectionPolicyRule } from './objects/ATPProtectionPolicyRule.js';

export { bindParameters, CmdletError, type Cmdlet } from './object.js';

/** The Exchange Online object types the simulator serves, one line each (exchange/objects/<Noun>.ts). */
export const EXCHANGE_OBJECTS = [
  HostedOutboundSpamFilterPolicy,
  HostedContentFilterPolicy,
  RemoteDomain,
  TransportRule,
  Mailbox,
  AntiPhishPolicy,
  DkimSigningConfig,
  AcceptedDomain,
  MailContact,
  MailUser,
  User,
  InboxRule,
  HostedConnectionFilterPolicy,
  TransportConfig,
  MailboxPermission,
  RecipientPermission,
  ApplicationAccessPolicy,
  HostedContentFilterRule,
  AntiPhishRule,
  MalwareFilterPolicy,
  MalwareFilterRule,
  SafeLinksPolicy,
  SafeLinksRule,
  SafeAttachmentPolicy,
  SafeAttachmentRule,
  EOPProtectionPolicyRule,
  ATPProtectionPolicyRule,
  ExternalInOutlook,
  SharingPolicy,
  OrganizationConfig,
  InboundConnector,
  TenantAllowBlockListSpoofItems,
] as const;

// Every collection an object module declares in ExchangeCollections must be registered above: a module
// left out of the list fails to compile here, naming the noun.
type Registered = (typeof EXCHANGE_OBJECTS)[number] extends infer O ? (O extends ExchangeObject<infer N> ? N : never) : never;
type Unregistered = Exclude<ExchangeNoun, Registered>;
const everyNounRegistered: [Unregistered] extends [never] ? true : Unregistered = true;
void everyNounRegistered;

/** The object types held as collections, with their indexed fields and the objects a scenario that leaves them out holds. */
export const EXCHANGE_COLLECTIONS = EXCHANGE_OBJECTS.flatMap((o: ExchangeObject) => (o.collection ? [o.collection] : []));

/** State of the object types that is not a collection (the organisation's configuration objects). */
export const EXCHANGE_STATE: readonly StateSlot[] = EXCHANGE_OBJECTS.flatMap((o: ExchangeObject) => (o.state ? [o.state] : []));

/** The cmdlets the simulator implements, by name (lower case). */
export const CMDLETS: ReadonlyMap<string, Cmdlet> = new Map(EXCHANGE_OBJECTS.flatMap((o: ExchangeObject) => o.cmdlets.map((c) => [c.name.toLowerCase(), c] as const)));
