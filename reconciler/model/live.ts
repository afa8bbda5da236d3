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
  transportRules?: Section<Obj[]>;
  mailboxes?: Section<Obj[]>;
  antiPhish?: Section<Obj[]>;
  dkim?: Section<Obj[]>;
  acceptedDomains?: Section<Obj[]>;
  mailContacts?: Section<Obj[]>;
  mailUsers?: Section<Obj[]>;
  /** Get-User, read only when a transport rule sends mail to the sender's manager. */
  exchangeUsers?: Section<Obj[]>;
  appPermissions?: Section<AppPermissions>;
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
