import type { DnsRecord } from '../dns/server.js';
import type { TenantSize } from '../http/limits.js';
import { ArrayCollection, type Collection, type Entity } from './collection.js';

/** Graph collections the simulator serves, by scenario key. */
export const GRAPH_COLLECTIONS = [
  'users',
  'groups',
  'domains',
  'conditionalAccessPolicies',
  'namedLocations',
  'permissionGrantPolicies',
  'oauth2PermissionGrants',
  'servicePrincipals',
  'appRoleAssignments',
  'roleAssignments',
  'riskyUsers',
  'riskDetections',
] as const;
export type GraphCollectionName = (typeof GRAPH_COLLECTIONS)[number];

/** Graph collections and Exchange nouns a scenario may leave out (they default to empty). */
export const OPTIONAL_COLLECTIONS: readonly string[] = ['appRoleAssignments', 'MailContact', 'MailUser', 'User'];

/** Exchange Online object types the simulator serves, by cmdlet noun. */
export const EXCHANGE_NOUNS = [
  'HostedOutboundSpamFilterPolicy',
  'HostedContentFilterPolicy',
  'RemoteDomain',
  'TransportRule',
  'Mailbox',
  'AntiPhishPolicy',
  'DkimSigningConfig',
  'AcceptedDomain',
  'MailContact',
  'MailUser',
  'User',
] as const;
export type ExchangeNoun = (typeof EXCHANGE_NOUNS)[number];

/** Fields looked up often enough to keep an index. */
export const INDEXED_FIELDS: Partial<Record<GraphCollectionName, string[]>> = {
  users: ['userPrincipalName', 'mail'],
  groups: ['displayName', 'mail'],
  oauth2PermissionGrants: ['clientId', 'principalId'],
  servicePrincipals: ['appId'],
  appRoleAssignments: ['resourceId', 'principalId'],
  roleAssignments: ['roleDefinitionId', 'principalId'],
};

/** Inbox rules per mailbox (keyed by user object id), read through Graph messageRules and Get-InboxRule alike. */
export class InboxRuleStore {
  private readonly fixed = new Map<string, ArrayCollection>();
  private readonly removed = new Set<string>();

  constructor(
    rules: Record<string, Entity[]> = {},
    /** Rules of mailboxes not in `rules`, computed on demand. */
    private readonly generate?: (userId: string) => Entity[],
  ) {
    for (const [user, list] of Object.entries(rules)) this.fixed.set(user.toLowerCase(), new ArrayCollection(list));
  }

  /** The rules of a mailbox, in sequence order. */
  list(userId: string): Entity[] {
    const fixed = this.fixed.get(userId.toLowerCase());
    const all = fixed ? [...fixed.values()] : (this.generate?.(userId) ?? []);
    return all.filter((r) => !this.removed.has(`${userId.toLowerCase()}/${r.id}`)).sort((a, b) => Number(a['sequence'] ?? 0) - Number(b['sequence'] ?? 0));
  }

  /** Adds a rule to a mailbox (after its existing rules, unless it names a sequence). */
  add(userId: string, rule: Entity): void {
    const key = userId.toLowerCase();
    let fixed = this.fixed.get(key);
    if (!fixed) {
      fixed = new ArrayCollection(this.generate?.(userId) ?? []);
      this.fixed.set(key, fixed);
    }
    fixed.insert(rule);
  }

  remove(userId: string, ruleId: string): boolean {
    if (!this.list(userId).some((r) => r.id === ruleId)) return false;
    this.removed.add(`${userId.toLowerCase()}/${ruleId}`);
    return true;
  }
}

/** The service plans features depend on. */
export type Licence = 'AAD_PREMIUM' | 'AAD_PREMIUM_P2';
export const ALL_LICENCES: readonly Licence[] = ['AAD_PREMIUM', 'AAD_PREMIUM_P2'];

/** The state of one simulated tenant. Handlers read and change it; scenarios and the generator build it. */
export interface Tenant {
  readonly id: string;
  readonly size: TenantSize;
  /** Service plans the tenant holds: AAD_PREMIUM (conditional access), AAD_PREMIUM_P2 (Identity Protection). */
  readonly licences: Set<Licence>;
  /** The tenant's initial domain, e.g. contoso.onmicrosoft.example; DKIM selector targets live under it. */
  readonly initialDomain: string;
  readonly graph: Record<GraphCollectionName, Collection>;
  authorizationPolicy: Record<string, unknown>;
  adminConsentRequestPolicy: Record<string, unknown>;
  /** Group id → member object ids. */
  readonly groupMembers: Map<string, string[]>;
  readonly inboxRules: InboxRuleStore;
  readonly exchange: Record<ExchangeNoun, Collection>;
  readonly dns: DnsRecord[];
  /** Which users have a mailbox: user object id → Mailbox entity. */
  mailboxOf(userId: string): Entity | undefined;
}
