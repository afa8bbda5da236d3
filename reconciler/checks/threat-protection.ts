import type { Evaluation } from '../evaluate/context.js';
import type { GroupMemberships, RoleHolders } from '../model/live.js';
import { privilegedRolesOf } from '../resources/directory-role-assignment.js';
import { judgeEffective, mustBeTrue, mustHold, notKnown, oneOf, unmet } from './effective-findings.js';
import { isPresetPolicy, membershipOf, type Membership } from './effective-policy.js';
import { populationsOf, type Population } from './populations.js';

type Obj = Record<string, unknown>;

const POPULATIONS = new WeakMap<Evaluation, Population[]>();

/** What every threat protection check reads besides its own kind's policies and rules. */
export interface ThreatContext {
  readonly populations: Population[];
  readonly membership: Membership;
  readonly readAt: string;
}

/**
 * The populations of a threat protection control: everyone, the privileged and the declared
 * high-value groups, from the users, mailboxes, role holders and group memberships that were read.
 * A population whose members are not known (a high-value group that is no group of the directory)
 * makes the control not evaluated for it.
 */
export function threatContext(ev: Evaluation, control: string, mailboxes: Obj[], memberships: GroupMemberships, roleHolders: RoleHolders): ThreatContext | undefined {
  const d = ev.manifest.desired.threatProtection;
  if (!d) return undefined;
  const users = ev.live.users;
  if (!users?.ok) {
    // Whom the populations hold comes from the users: without them the control is not evaluated, never passed.
    if (users) ev.notEvaluated(control, users, 'users');
    else notKnown(ev, control, 'the users', 'the users were not read');
    return undefined;
  }
  const populations = populationsFor(ev, users.value, mailboxes, memberships, roleHolders);
  for (const p of populations) if (p.unknown) notKnown(ev, control, `the members of ${p.title}`, `${p.unknown}, so whom it holds is not known`);
  return { populations: populations.filter((p) => !p.unknown), membership: membershipOf(memberships), readAt: users.readAt };
}

/**
 * The populations of one evaluation, built once whichever control of the area asks first (the same
 * sections give the same populations): MAIL.THREAT.1–5 judge the same members.
 */
export function populationsFor(ev: Evaluation, users: Obj[], mailboxes: readonly Obj[], memberships: GroupMemberships, roleHolders: RoleHolders): Population[] {
  const known = POPULATIONS.get(ev);
  if (known) return known;
  const populations = populationsOf({
    users, mailboxes, roleHolders, memberships,
    roles: privilegedRolesOf(ev.manifest), highValueGroups: ev.manifest.desired.threatProtection?.populations.highValueGroups ?? [],
  });
  POPULATIONS.set(ev, populations);
  return populations;
}

/** A preset's policy cannot be written: how to fix it instead. */
const presetOnly = (remediation: string) => (policy: Obj): string | undefined => (isPresetPolicy(policy) ? remediation : undefined);

/** MAIL.THREAT.1–2. */
export function checkThreatProtection(ev: Evaluation): void {
  checkImpersonation(ev);
  checkAntiSpam(ev);
}

/** MAIL.THREAT.1: impersonation and spoof protection on the effective anti-phishing policy of each population. */
function checkImpersonation(ev: Evaluation): void {
  const d = ev.manifest.desired.threatProtection?.impersonation;
  if (!d) return;
  const got = ev.need<[Obj[], Obj[], Obj[], Obj[], Obj[], Obj[], GroupMemberships, RoleHolders]>('MAIL.THREAT.1', [
    'antiPhishPolicy', 'antiPhishRule', 'eopProtectionPolicyRule', 'atpProtectionPolicyRule', 'mailbox', 'acceptedDomain', 'groupMembership', 'directoryRoleAssignment',
  ]);
  if (!got || !ev.live.antiPhish?.ok) return;
  const [policies, rules, eop, atp, mailboxes, accepted, memberships, roleHolders] = got;
  const ctx = threatContext(ev, 'MAIL.THREAT.1', mailboxes, memberships, roleHolders);
  if (!ctx) return;
  const own = new Set(accepted.map((a) => String(a['DomainName'] ?? a['Name'] ?? '').toLowerCase()));
  // The organisation's own domains are protected by EnableOrganizationDomainsProtection; partner domains are listed.
  const partners = d.protectedDomains.filter((x) => !own.has(x.toLowerCase()));
  const users = d.protectedUsers.map((upn) => {
    const u = ev.directory.userByUpn(upn);
    const name = typeof u?.['displayName'] === 'string' && u['displayName'].trim() ? u['displayName'].replace(/;/g, ' ').trim() : upn.split('@')[0]!;
    return { key: upn.toLowerCase(), entry: `${name};${upn}` };
  });
  const actions = d.action === 'Delete' ? ['Delete'] : ['Quarantine', 'Delete'];
  const wanted = (policy: Obj) =>
    unmet(policy, [
      ...(users.length ? [mustBeTrue('EnableTargetedUserProtection'), mustHold(policy, 'TargetedUsersToProtect', users, { key: (e) => (e.split(';').pop() ?? e).trim().toLowerCase(), what: 'protected user' }), oneOf('TargetedUserProtectionAction', actions)] : []),
      mustBeTrue('EnableOrganizationDomainsProtection'),
      ...(partners.length ? [mustBeTrue('EnableTargetedDomainsProtection'), mustHold(policy, 'TargetedDomainsToProtect', partners.map((x) => ({ key: x.toLowerCase(), entry: x.toLowerCase() })), { what: 'protected domain' })] : []),
      oneOf('TargetedDomainProtectionAction', actions),
      mustBeTrue('EnableMailboxIntelligence'),
      mustBeTrue('EnableMailboxIntelligenceProtection'),
      oneOf('MailboxIntelligenceProtectionAction', actions),
      mustBeTrue('EnableSpoofIntelligence'),
      oneOf('AuthenticationFailAction', ['Quarantine']),
      mustBeTrue('EnableFirstContactSafetyTips'),
    ]);
  judgeEffective(ev, {
    control: 'MAIL.THREAT.1', check: 'impersonation-protection', resourceType: 'antiPhishPolicy',
    endpoint: 'Exchange Get-AntiPhishPolicy', readAt: ev.live.antiPhish.readAt, populations: ctx.populations, membership: ctx.membership,
    // Impersonation protection follows the Defender for Office 365 preset rules; spoof protection the EOP ones.
    sets: [{ kind: 'antiPhish', policies, rules, presetRules: atp }, { kind: 'antiPhish', policies, rules, presetRules: eop }],
    wanted,
    cannotWrite: presetOnly('The policy belongs to a preset security policy, which Microsoft manages: add the protected users and domains in the preset\'s settings in the Microsoft Defender portal, or scope the population to a custom policy.'),
  });
}

/** MAIL.THREAT.2: phishing quarantined and zero-hour auto purge on the effective anti-spam policy of each population. */
function checkAntiSpam(ev: Evaluation): void {
  const d = ev.manifest.desired.threatProtection?.antiSpam;
  if (!d) return;
  const got = ev.need<[Obj[], Obj[], Obj[], Obj[], GroupMemberships, RoleHolders]>('MAIL.THREAT.2', [
    'hostedContentFilterPolicy', 'hostedContentFilterRule', 'eopProtectionPolicyRule', 'mailbox', 'groupMembership', 'directoryRoleAssignment',
  ]);
  if (!got || !ev.live.contentFilter?.ok) return;
  const [policies, rules, eop, mailboxes, memberships, roleHolders] = got;
  const ctx = threatContext(ev, 'MAIL.THREAT.2', mailboxes, memberships, roleHolders);
  if (!ctx) return;
  judgeEffective(ev, {
    control: 'MAIL.THREAT.2', check: 'antispam-phish-actions', resourceType: 'hostedContentFilterPolicy',
    endpoint: 'Exchange Get-HostedContentFilterPolicy', readAt: ev.live.contentFilter.readAt, populations: ctx.populations, membership: ctx.membership,
    sets: [{ kind: 'antiSpam', policies, rules, presetRules: eop }],
    wanted: (policy) =>
      unmet(policy, [
        oneOf('HighConfidencePhishAction', [d.highConfidencePhishAction, 'Delete']),
        oneOf('PhishSpamAction', [d.phishSpamAction, 'Delete']),
        mustBeTrue('SpamZapEnabled'),
        mustBeTrue('PhishZapEnabled'),
      ]),
    cannotWrite: presetOnly('The policy belongs to a preset security policy, which Microsoft manages and keeps at its recommended settings; report it to Microsoft support or scope the population to a custom policy.'),
  });
}
