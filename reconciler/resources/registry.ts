import { adminConsentRequestPolicy } from './admin-consent-request-policy.js';
import { antiPhishPolicy } from './anti-phish-policy.js';
import { appRoleAssignment } from './app-role-assignment.js';
import { appRegistration } from './app-registration.js';
import { applicationAccessPolicy } from './application-access-policy.js';
import { authenticationMethodsPolicy } from './authentication-methods-policy.js';
import { authenticationStrengthPolicy } from './authentication-strength-policy.js';
import { authorizationPolicy } from './authorization-policy.js';
import { conditionalAccessPolicy } from './conditional-access-policy.js';
import { domain, group, servicePrincipal, user } from './directory.js';
import { dkimSigningConfig } from './dkim-signing-config.js';
import { dnsRecords } from './dns.js';
import { externalInOutlook } from './external-in-outlook.js';
import { acceptedDomain, exchangeUser, mailContact, mailUser } from './exchange-readonly.js';
import { hostedContentFilterPolicy } from './hosted-content-filter-policy.js';
import { hostedConnectionFilterPolicy } from './hosted-connection-filter-policy.js';
import { hostedOutboundSpamFilterPolicy } from './hosted-outbound-spam-filter-policy.js';
import { inboxRule } from './inbox-rule.js';
import { inboundConnector } from './inbound-connector.js';
import { mxRecord } from './mx-record.js';
import { spoofItem } from './spoof-item.js';
import { mailbox } from './mailbox.js';
import { oauth2PermissionGrant } from './oauth2-permission-grant.js';
import { organizationConfig } from './organization-config.js';
import { remoteDomain } from './remote-domain.js';
import { servicePrincipalOwner } from './service-principal-owner.js';
import { sharingPolicy } from './sharing-policy.js';
import { transportConfig } from './transport-config.js';
import { transportRule } from './transport-rule.js';
import { analyzedEmail } from './analyzed-email.js';
import { authenticationMethod } from './authentication-method.js';
import { calendarEvent } from './calendar-event.js';
import { groupMember } from './group-member.js';
import { mailboxDelegate } from './mailbox-delegate.js';
import { riskyUser } from './risky-user.js';
import { signInSessions } from './sign-in-sessions.js';
import { userAccount } from './user-account.js';
import type { Confirmable, Describable, ResourceType, Respondable, Reversible, Writable, WithRails } from './types.js';
import { antiPhishRule } from './anti-phish-rule.js';
import { atpProtectionPolicyRule } from './atp-protection-policy-rule.js';
import { directoryRoleAssignment } from './directory-role-assignment.js';
import { eopProtectionPolicyRule } from './eop-protection-policy-rule.js';
import { groupMembership } from './group-membership.js';
import { hostedContentFilterRule } from './hosted-content-filter-rule.js';
import { malwareFilterPolicy } from './malware-filter-policy.js';
import { malwareFilterRule } from './malware-filter-rule.js';
import { safeAttachmentPolicy } from './safe-attachment-policy.js';
import { safeAttachmentRule } from './safe-attachment-rule.js';
import { safeLinksPolicy } from './safe-links-policy.js';
import { safeLinksRule } from './safe-links-rule.js';
import { userRegistrationDetails } from './user-registration-details.js';
import type { FindingResource } from '../model/finding.js';

/**
 * Every resource type, one line each. The only place that maps a key to its module. Reads start in
 * this order (the paced conditional access endpoint early, before the many Exchange reads queue
 * on the connection pool).
 */
export const RESOURCES: readonly ResourceType[] = [
  user,
  group,
  domain,
  conditionalAccessPolicy,
  authenticationStrengthPolicy,
  authorizationPolicy,
  adminConsentRequestPolicy,
  oauth2PermissionGrant,
  servicePrincipal,
  appRoleAssignment,
  servicePrincipalOwner,
  appRegistration,
  authenticationMethodsPolicy,
  userRegistrationDetails,
  hostedOutboundSpamFilterPolicy,
  hostedContentFilterPolicy,
  hostedConnectionFilterPolicy,
  transportConfig,
  applicationAccessPolicy,
  remoteDomain,
  transportRule,
  externalInOutlook,
  sharingPolicy,
  organizationConfig,
  mailContact,
  mailUser,
  antiPhishPolicy,
  hostedContentFilterRule,
  antiPhishRule,
  eopProtectionPolicyRule,
  atpProtectionPolicyRule,
  malwareFilterPolicy,
  malwareFilterRule,
  safeLinksPolicy,
  safeLinksRule,
  safeAttachmentPolicy,
  safeAttachmentRule,
  // After the rules: it reads the groups they name.
  groupMembership,
  directoryRoleAssignment,
  dkimSigningConfig,
  acceptedDomain,
  dnsRecords,
  // After the accepted domains: their MX records are queried.
  mxRecord,
  inboundConnector,
  spoofItem,
  mailbox,
  inboxRule,
  exchangeUser,
  signInSessions,
  riskyUser,
  userAccount,
  groupMember,
  authenticationMethod,
  mailboxDelegate,
  analyzedEmail,
  calendarEvent,
];

/** Types every run reads: owners and the references of a posture resolve in them. */
export const ALWAYS_READ: readonly string[] = [user.key, group.key];

const BY_KEY = new Map(RESOURCES.map((t) => [t.key, t]));
if (BY_KEY.size !== RESOURCES.length) throw new Error('two resource types share a key');

/** A resource type named by a plan, a trail or the catalogue that this version does not know. */
export class UnknownResourceType extends Error {}

/** The resource type of a key; a key no type has is refused, never guessed. */
export function resourceType(key: unknown): ResourceType {
  const t = typeof key === 'string' ? BY_KEY.get(key) : undefined;
  if (!t) throw new UnknownResourceType(`unknown resource type ${JSON.stringify(key)}: this version knows ${RESOURCES.map((r) => r.key).join(', ')}`);
  return t;
}

/** Whether a key names a registered type. */
export const isResourceType = (key: unknown): boolean => typeof key === 'string' && BY_KEY.has(key);

export const isWritable = (t: ResourceType): t is ResourceType & Writable => 'writeFor' in t;
export const isReversible = (t: ResourceType): t is ResourceType & Writable & Reversible => isWritable(t) && 'inverse' in t;
export const hasRails = (t: ResourceType): t is ResourceType & WithRails => 'rails' in t;
export const isConfirmable = (t: ResourceType): t is ResourceType & Confirmable => 'confirm' in t;
export const isRespondable = (t: ResourceType): t is ResourceType & Writable & Respondable => isWritable(t) && 'respondWrites' in t;

/** The types that serve a response action, in registry order. */
export const respondersFor = (action: string): Array<ResourceType & Writable & Respondable> => RESOURCES.filter(isRespondable).filter((t) => t.responds.includes(action));

const isDescribable = (t: ResourceType): t is ResourceType & Describable => 'describe' in t;

/** The writable type of a key, or why the key names none. */
export function writableType(key: unknown): (ResourceType & Writable) | string {
  let t: ResourceType;
  try {
    t = resourceType(key);
  } catch (err) {
    return (err as Error).message;
  }
  return isWritable(t) ? t : `${t.key} is read-only: apply never writes it`;
}

/** How messages name one resource: its type's own wording, or `type "name"`. */
export function describeResource(r: FindingResource): string {
  const t = BY_KEY.get(r.type);
  return t && isDescribable(t) ? t.describe(r) : `${r.type} "${r.name}"`;
}

/** Every Graph write of every writable type, as method and route. */
export const GRAPH_WRITES: ReadonlyArray<readonly [method: string, route: string, type: string]> = RESOURCES.filter(isWritable).flatMap((t) => (t.writes.graph ?? []).map(([m, r]) => [m, r, t.key] as const));

/** Every Exchange cmdlet of every writable type. */
export const EXCHANGE_WRITES: ReadonlyMap<string, string> = new Map(RESOURCES.filter(isWritable).flatMap((t) => (t.writes.exchange ?? []).map((c) => [c, t.key] as const)));
