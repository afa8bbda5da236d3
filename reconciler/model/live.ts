import type { DomainDns } from '../read/dns.js';

type Obj = Record<string, unknown>;

/**
 * One part of the live tenant as read, or why it could not be read. A failed section is never
 * treated as empty: checks that need it report `not-evaluated`, and the run is incomplete.
 */
export type Section<T> =
  | { readonly ok: true; readonly value: T; readonly endpoint: string; readonly readAt: string }
  | {
      readonly ok: false;
      readonly endpoint: string;
      readonly readAt: string;
      readonly error: string;
      readonly reason: 'permission-missing' | 'licence-missing' | 'read-failed';
      readonly permission?: string;
      /** For `licence-missing`: the plan the tenant lacks. */
      readonly licence?: string;
    };

export interface MailboxRef {
  readonly id: string;
  readonly upn: string;
}

/** Application permissions to the mail APIs: their service principals (with app roles) and the assignments granted for them. */
export interface AppPermissions {
  readonly resources: readonly Obj[];
  readonly assignments: readonly Obj[];
}

export interface InboxRules {
  readonly mailboxes: number;
  readonly rules: ReadonlyArray<{ readonly mailbox: MailboxRef; readonly rule: Obj }>;
}

/** Members of the groups threat protection rules and the posture name, through nested groups. */
export interface GroupMemberships {
  /** Each group a name resolved to: the names it was named by, the group, and its members' object ids (lower case). */
  readonly groups: ReadonlyArray<{ readonly names: readonly string[]; readonly id: string; readonly displayName: string; readonly members: readonly string[] }>;
  /** Names that are no group of the directory (a dynamic distribution group, a deleted group): whom they cover is unknown. */
  readonly unresolved: readonly string[];
}

/** Who holds the posture's privileged roles (active or eligible assignments), directly or through a role-assignable group. */
export interface RoleHolders {
  /** Role template id (lower case) → the object ids (lower case) of the users holding it. */
  readonly byRole: Readonly<Record<string, readonly string[]>>;
}

/** The live tenant, section by section. A section is absent when no declared control needs it. */
export interface LiveState {
  users?: Section<Obj[]>;
  groups?: Section<Obj[]>;
  domains?: Section<Obj[]>;
  caPolicies?: Section<Obj[]>;
  /** Authentication strengths (built-in and custom), which conditional access grants reference. */
  authStrengths?: Section<Obj[]>;
  /** The authentication methods registration report, one row per user. */
  registrationDetails?: Section<Obj[]>;
  /** The authentication methods policy, with its method configurations. */
  authMethodsPolicy?: Section<Obj>;
  authorizationPolicy?: Section<Obj>;
  adminConsentRequestPolicy?: Section<Obj>;
  grants?: Section<Obj[]>;
  servicePrincipals?: Section<Obj[]>;
  outboundSpam?: Section<Obj[]>;
  contentFilter?: Section<Obj[]>;
  connectionFilter?: Section<Obj[]>;
  /** Get-TransportConfig: the organisation's one transport settings object. */
  transportConfig?: Section<Obj[]>;
  remoteDomains?: Section<Obj[]>;
  /** Get-ExternalInOutlook: the organisation's one external sender tag setting. */
  externalInOutlook?: Section<Obj[]>;
  sharingPolicies?: Section<Obj[]>;
  /** Get-OrganizationConfig: the organisation's one configuration object. */
  organizationConfig?: Section<Obj[]>;
  transportRules?: Section<Obj[]>;
  mailboxes?: Section<Obj[]>;
  antiPhish?: Section<Obj[]>;
  dkim?: Section<Obj[]>;
  acceptedDomains?: Section<Obj[]>;
  /** Inbound paths: Get-InboundConnector, Get-TenantAllowBlockListSpoofItems, and each accepted domain's MX records from DNS. */
  inboundConnectors?: Section<Obj[]>;
  spoofItems?: Section<Obj[]>;
  /** Inbound mail of the evidence period that failed authentication (MAIL.PATH.2). */
  failedInboundMail?: Section<FailedInboundMail>;
  mxRecords?: Section<ReadonlyArray<{ readonly domain: string; readonly records?: ReadonlyArray<{ preference: number; exchange: string }>; readonly error?: string }>>;
  mailContacts?: Section<Obj[]>;
  mailUsers?: Section<Obj[]>;
  /** Get-User, read only when a transport rule sends mail to the sender's manager. */
  exchangeUsers?: Section<Obj[]>;
  /** Threat protection: rules and preset rules (Get-*Rule, Get-EOPProtectionPolicyRule, Get-ATPProtectionPolicyRule), and the policies besides anti-spam and anti-phishing. */
  contentFilterRules?: Section<Obj[]>;
  antiPhishRules?: Section<Obj[]>;
  malwareFilter?: Section<Obj[]>;
  malwareFilterRules?: Section<Obj[]>;
  safeLinks?: Section<Obj[]>;
  safeLinksRules?: Section<Obj[]>;
  safeAttachments?: Section<Obj[]>;
  safeAttachmentRules?: Section<Obj[]>;
  eopProtectionRules?: Section<Obj[]>;
  atpProtectionRules?: Section<Obj[]>;
  /** Members of the groups the rules read and the posture's high-value groups name. */
  groupMemberships?: Section<GroupMemberships>;
  /** Holders of the posture's privileged roles. */
  privilegedRoleHolders?: Section<RoleHolders>;
  appPermissions?: Section<AppPermissions>;
  /** Owners of the non-Microsoft apps holding a mail application permission, by service principal id (lower case). */
  mailAppOwners?: Section<Record<string, Obj[]>>;
  /** Application objects with their password and key credentials. */
  applications?: Section<Obj[]>;
  /** Get-ApplicationAccessPolicy. */
  applicationAccessPolicies?: Section<Obj[]>;
  inboxRules?: Section<InboxRules>;
  dns?: Map<string, DomainDns>;
}

/** Looks principals up by the names a posture uses: users by UPN, groups by display name or mail. */
export interface Directory {
  userByUpn(upn: string): Obj | undefined;
  userById(id: string): Obj | undefined;
  groupByName(name: string): Obj | undefined;
  groupByMail(mail: string): Obj | undefined;
  groupById(id: string): Obj | undefined;
}

/** One inbound copy that failed SPF, DMARC or composite authentication, as Defender analysed it. */
export interface FailedMessage {
  readonly networkMessageId: string;
  readonly internetMessageId: string;
  readonly recipient: string;
  readonly sender: string;
  readonly senderIp: string;
  readonly subject: string;
  readonly receivedAt: string;
  /** The inbound connector it arrived on (inboundConnectorFormattedName); empty when none. */
  readonly connector: string;
  readonly authentication: { readonly spf: string; readonly dkim: string; readonly dmarc: string; readonly compauth: string };
  /** What the service did when it delivered the copy (originalDelivery). */
  readonly delivered: { readonly action: string; readonly location: string };
  /** Where the copy is now (latestDelivery.location). */
  readonly latestLocation: string;
  readonly overrideSources: readonly string[];
  /** The DMARC policy the sender's domain publishes; `unknown` when it could not be looked up. */
  readonly senderPolicy: 'reject' | 'quarantine' | 'none' | 'unknown';
}

export interface FailedInboundMail {
  readonly from: string;
  readonly to: string;
  readonly days: number;
  /** Inbound copies read in the period, failing or not. */
  readonly read: number;
  readonly messages: readonly FailedMessage[];
  /** Sender domains whose DMARC policy could not be looked up (absent in values read before it). */
  readonly unresolved?: readonly string[];
  /** Sender domains past the lookup cap, their failures judged as p=reject. */
  readonly notLookedUp?: number;
}
