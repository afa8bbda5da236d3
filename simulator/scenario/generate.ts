import type { TenantSize } from '../http/limits.js';
import { ArrayCollection, GeneratedCollection, type Entity } from '../tenant/collection.js';
import { tenantFromScenario } from '../tenant/from-scenario.js';
import { mailboxAuditDefaults } from '../exchange/objects/Mailbox.js';
import { inboxRuleStore } from '../graph/entities/message-rules.js';
import type { Tenant } from '../tenant/tenant.js';
import type { Scenario } from './scenario.js';

export interface GenerateOptions {
  /** Users with mailboxes added to the base scenario. */
  mailboxes: number;
  /** Extra conditional access policies (each excludes the base scenario's break-glass exclusions). @default 0 */
  caPolicies?: number;
  /** Share of generated mailboxes with an inbox rule forwarding outside, 0 to 1. @default 0 */
  forwardingShare?: number;
  /** Share of generated mailboxes with ForwardingSmtpAddress set outside, 0 to 1. @default 0 */
  mailboxForwardingShare?: number;
  /** Share of generated users with no strong authentication method registered, 0 to 1. @default 0 */
  notMfaCapableShare?: number;
}

const PREFIX = '7e57a000-0000-4000-8000-';
const userId = (i: number) => `${PREFIX}${i.toString(16).padStart(12, '0')}`;
const indexOfId = (id: string) => (id.toLowerCase().startsWith(PREFIX) ? parseInt(id.slice(PREFIX.length), 16) : undefined);

/** A deterministic 0..1 value per position and purpose, so a generated tenant is the same every run. */
function unit(i: number, salt: number): number {
  let h = (i + 1) * 2654435761 + salt * 40503;
  h = Math.imul(h ^ (h >>> 16), 2246822507);
  h = Math.imul(h ^ (h >>> 13), 3266489909);
  return ((h ^ (h >>> 16)) >>> 0) / 4294967296;
}

/**
 * A large tenant: the base scenario plus `mailboxes` generated users, each with a mailbox, inbox
 * rules and a row of the registration report, and `caPolicies` extra policies. Generated objects are computed when read, never held, so
 * a 100,000-mailbox tenant starts at once and costs memory only for what a client changes.
 */
export function generateTenant(base: Scenario, o: GenerateOptions): Tenant {
  const tenant = tenantFromScenario(base);
  const domain = (base.graph.domains.find((d) => d['isDefault']) ?? base.graph.domains[0])?.id ?? base.tenant.initialDomain;
  const n = o.mailboxes;
  const upn = (i: number) => `user${i}@${domain}`;
  const indexOfUpn = (v: string) => {
    const m = new RegExp(`^user(\\d+)@${domain.replace(/\./g, '\\.')}$`, 'i').exec(v);
    return m ? Number(m[1]) : undefined;
  };
  const inRange = (i: number | undefined) => (i !== undefined && i >= 0 && i < n ? i : undefined);
  const forwardsRule = (i: number) => unit(i, 1) < (o.forwardingShare ?? 0);
  const forwardsMailbox = (i: number) => unit(i, 2) < (o.mailboxForwardingShare ?? 0);

  const makeUser = (i: number): Entity => ({
    id: userId(i),
    displayName: `User ${i}`,
    userPrincipalName: upn(i),
    mail: upn(i),
    accountEnabled: true,
    userType: 'Member',
    givenName: 'User',
    surname: String(i),
    jobTitle: null,
    department: ['Sales', 'Operations', 'Engineering', 'Finance', 'Support'][i % 5],
  });
  const baseUsers = [...tenant.graph.users.values()];
  const users = new GeneratedCollection(n, makeUser, (field, value) => {
    if (typeof value !== 'string') return undefined;
    if (field === 'id') return inRange(indexOfId(value)) ?? -1;
    if (field === 'userPrincipalName' || field === 'mail') return inRange(indexOfUpn(value)) ?? -1;
    return undefined;
  }, baseUsers);

  // The registration report: one row per generated user, at the same position, computed when read.
  const capable = (i: number) => unit(i, 3) >= (o.notMfaCapableShare ?? 0);
  const makeRegistration = (i: number): Entity => ({
    id: userId(i),
    userPrincipalName: upn(i),
    userDisplayName: `User ${i}`,
    userType: 'member',
    isAdmin: false,
    isSsprRegistered: capable(i),
    isSsprEnabled: true,
    isSsprCapable: capable(i),
    isMfaRegistered: capable(i),
    isMfaCapable: capable(i),
    isPasswordlessCapable: false,
    methodsRegistered: capable(i) ? ['microsoftAuthenticatorPush'] : [],
    isSystemPreferredAuthenticationMethodEnabled: true,
    systemPreferredAuthenticationMethods: capable(i) ? ['PushNotification'] : [],
    userPreferredMethodForSecondaryAuthentication: capable(i) ? 'push' : 'none',
    lastUpdatedDateTime: '2026-01-05T06:00:00Z',
  });
  const registrations = new GeneratedCollection(n, makeRegistration, (field, value) => {
    if (typeof value !== 'string') return undefined;
    if (field === 'id') return inRange(indexOfId(value)) ?? -1;
    if (field === 'userPrincipalName') return inRange(indexOfUpn(value)) ?? -1;
    return undefined;
  }, [...tenant.graph.userRegistrationDetails.values()]);

  const makeMailbox = (i: number): Entity => ({
    id: `${userId(i)}`,
    Guid: userId(i),
    Identity: `User ${i}`,
    Name: `user${i}`,
    Alias: `user${i}`,
    DisplayName: `User ${i}`,
    UserPrincipalName: upn(i),
    PrimarySmtpAddress: upn(i),
    ExternalDirectoryObjectId: userId(i),
    RecipientTypeDetails: 'UserMailbox',
    ForwardingAddress: null,
    ForwardingSmtpAddress: forwardsMailbox(i) ? `smtp:archive${i}@mailbox-forward.example` : null,
    DeliverToMailboxAndForward: forwardsMailbox(i),
    // Audited as a new mailbox is: the Microsoft-managed actions for every logon type.
    ...mailboxAuditDefaults(),
  });
  const baseMailboxes = [...tenant.exchange.Mailbox.values()];
  const mailboxes = new GeneratedCollection(n, makeMailbox, (field, value) => {
    if (typeof value !== 'string') return undefined;
    if (['id', 'Guid', 'ExternalDirectoryObjectId'].includes(field)) return inRange(indexOfId(value)) ?? -1;
    if (['UserPrincipalName', 'PrimarySmtpAddress'].includes(field)) return inRange(indexOfUpn(value)) ?? -1;
    return undefined;
  }, baseMailboxes);

  const baseRules = new Map([...baseUsers].map((u) => [u.id.toLowerCase(), true]));
  const rules = inboxRuleStore(
    Object.fromEntries(baseUsers.map((u) => [u.id, tenant.inboxRules.list(u.id)])),
    (id) => {
      const i = inRange(indexOfId(id));
      if (i === undefined || baseRules.has(id.toLowerCase())) return [];
      const list: Entity[] = [];
      if (i % 3 === 0) {
        list.push({ id: `AQAAA${i.toString(36)}Bw==`, displayName: 'Newsletters', sequence: 1, isEnabled: true, hasError: false, isReadOnly: false, conditions: { senderContains: ['newsletter'] }, actions: { moveToFolder: 'AAMkNews', stopProcessingRules: false } });
      }
      if (forwardsRule(i)) {
        list.push({
          id: `AQAAA${i.toString(36)}Fw==`,
          displayName: '.',
          sequence: 2,
          isEnabled: true,
          hasError: false,
          isReadOnly: false,
          conditions: {},
          actions: { forwardTo: [{ emailAddress: { name: 'x', address: `collector${i}@exfil.example` } }], stopProcessingRules: false },
        });
      }
      return list;
    },
  );

  const policies = [...tenant.graph.conditionalAccessPolicies.values()];
  const template = policies.find((p) => p['state'] === 'enabled');
  const excluded = ((template?.['conditions'] as { users?: { excludeUsers?: string[] } } | undefined)?.users?.excludeUsers ?? []).filter((x) => x !== 'GuestsOrExternalUsers');
  for (let k = 0; k < (o.caPolicies ?? 0); k++) {
    policies.push({
      id: `${PREFIX.slice(0, 19)}ca00-${k.toString(16).padStart(12, '0')}`,
      templateId: null,
      displayName: `App ${k}: require MFA`,
      createdDateTime: '2026-01-05T10:00:00Z',
      modifiedDateTime: null,
      state: 'enabled',
      sessionControls: null,
      conditions: {
        userRiskLevels: [], signInRiskLevels: [], clientAppTypes: ['all'], servicePrincipalRiskLevels: [], insiderRiskLevels: null,
        platforms: null, locations: null, devices: null, clientApplications: null, authenticationFlows: null,
        applications: { includeApplications: [`0000000${k % 10}-0000-0ff1-ce00-000000000000`], excludeApplications: [], includeUserActions: [], includeAuthenticationContextClassReferences: [], applicationFilter: null },
        users: { includeUsers: ['All'], excludeUsers: excluded, includeGroups: [], excludeGroups: [], includeRoles: [], excludeRoles: [], includeGuestsOrExternalUsers: null, excludeGuestsOrExternalUsers: null },
      },
      grantControls: { operator: 'OR', builtInControls: ['mfa'], customAuthenticationFactors: [], termsOfUse: [], authenticationStrength: null },
    });
  }

  const size: TenantSize = n + baseUsers.length < 50 ? 'small' : n + baseUsers.length <= 500 ? 'medium' : 'large';
  const graph = { ...tenant.graph, users, userRegistrationDetails: registrations, conditionalAccessPolicies: new ArrayCollection(policies) };
  const exchange = { ...tenant.exchange, Mailbox: mailboxes };
  return {
    ...tenant,
    size,
    graph,
    exchange,
    inboxRules: rules,
    mailboxOf: (id) => mailboxes.findBy('ExternalDirectoryObjectId', id)[0],
  };
}
