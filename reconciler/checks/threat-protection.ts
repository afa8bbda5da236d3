import type { Operation } from 'fast-json-patch';
import type { Evaluation } from '../evaluate/context.js';
import type { GroupMemberships, RoleHolders, Section } from '../model/live.js';
import { privilegedRolesOf } from '../resources/directory-role-assignment.js';
import {
  coverage,
  describeNotCounted,
  describeWhy,
  isPresetPolicy,
  KINDS,
  membershipOf,
  nameOf,
  notCounted,
  type Membership,
  type NotCounted,
  type ProtectionPolicies,
  type Recipient,
  type Why,
} from './effective-policy.js';
import { populationsOf, type Population } from './populations.js';

type Obj = Record<string, unknown>;

/** How many members a finding lists by name; the count says how many more. */
export const MEMBERS_LISTED = 20;

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

/** Not evaluated, as a failed read is: the run is incomplete and says why. */
function notKnown(ev: Evaluation, control: string, what: string, error: string): void {
  const failed: Section<never> = { ok: false, endpoint: '/groups/{id}/transitiveMembers', readAt: new Date().toISOString(), reason: 'read-failed', error };
  ev.notEvaluated(control, failed as Section<unknown> & { ok: false }, what);
}

/** One setting a control wants on the effective policy, and whether the live value meets it (a stricter one does). */
export interface Wanted {
  readonly property: string;
  /** What a write sets when the live value falls short. */
  readonly value: unknown;
  /** Whether the live value meets it. */
  meets(live: unknown): boolean;
  /** How the shortfall reads: `EnableFirstContactSafetyTips is false`. */
  readonly describe?: (live: unknown) => string;
}

const eqi = (a: unknown, b: string) => typeof a === 'string' && a.toLowerCase() === b.toLowerCase();
/** A boolean that must be true. */
export const mustBeTrue = (property: string): Wanted => ({ property, value: true, meets: (v) => v === true });
/** An action that must be one of `ok` (the first is what a write sets). */
export const oneOf = (property: string, ok: readonly string[]): Wanted => ({ property, value: ok[0], meets: (v) => ok.some((o) => eqi(v, o)) });

const list = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);
const members = (rs: readonly Recipient[]) => ({ members: rs.slice(0, MEMBERS_LISTED).map((r) => r.upn), memberCount: rs.length });
const plural = (n: number, one: string) => `${n} ${one}${n === 1 ? '' : 's'}`;

/**
 * Judges the effective policy of each population of one kind against what a control wants, and
 * reports each deficient one: one finding per population and effective policy, whose resource is
 * the policy (so remediation writes it), naming why it applies, the members it leaves unprotected
 * and the policies that counted for no one. A policy that applies to nobody or is overridden is
 * never a finding, nor a pass. The first finding of a policy carries its write; a preset's policy is
 * reported without one.
 */
export function judgeEffective(
  ev: Evaluation,
  o: {
    readonly control: string;
    readonly check: string;
    readonly resourceType: string;
    readonly endpoint: string;
    readonly readAt: string;
    readonly ctx: ThreatContext;
    /** The policies and rules of the kind, once per part of it that presets decide on their own (anti-phishing: spoof and impersonation). */
    readonly sets: readonly ProtectionPolicies[];
    /** What the control wants of a policy. */
    wanted(policy: Obj): { missing: string[]; patch: Operation[]; live: Obj };
    /** How to fix a preset's policy by hand. */
    readonly presetRemediation: string;
  },
): void {
  const { ctx } = o;
  const all = [...new Map(ctx.populations.flatMap((p) => p.members.map((m) => [m.id, m] as const))).values()];
  const dormant: NotCounted[] = [];
  for (const set of o.sets) for (const n of notCounted(set, all, ctx.membership)) if (!dormant.some((d) => d.name.toLowerCase() === n.name.toLowerCase())) dormant.push(n);
  const written = new Set<string>();
  for (const population of ctx.populations) {
    if (!population.members.length) continue;
    // The policies that apply to the population (one per part of the kind), with the members of each.
    const byPolicy = new Map<string, { name: string; policy?: Obj; why: Why; members: Map<string, Recipient> }>();
    const unknown = new Map<string, { rule: string; groups: readonly string[]; count: number }>();
    for (const set of o.sets) {
      const c = coverage(set, population.members, ctx.membership);
      for (const u of c.unknown) {
        const key = `${u.rule}\u0000${u.groups.join(',')}`;
        unknown.set(key, { rule: u.rule, groups: u.groups, count: (unknown.get(key)?.count ?? 0) + 1 });
      }
      if (c.uncovered.length) {
        ev.add({
          control: o.control, check: o.check, resource: { type: o.resourceType, id: null, name: `${population.title}: no ${KINDS[set.kind].title}` },
          key: `${population.key}/none/${set.kind}`, status: 'violation', action: 'none',
          summary: `${population.title} (${plural(c.uncovered.length, 'user')}): no ${KINDS[set.kind].title} applies to ${plural(c.uncovered.length, 'member')}, and no default policy was read.`,
          evidence: { endpoint: o.endpoint, readAt: o.readAt, live: { population: population.title, ...members(c.uncovered) } },
          scopes: [],
        });
      }
      for (const e of c.effective) {
        const key = e.name.toLowerCase();
        const entry = byPolicy.get(key) ?? { name: e.name, ...(e.policy ? { policy: e.policy } : {}), why: e.why, members: new Map<string, Recipient>() };
        for (const m of e.members) entry.members.set(m.id, m);
        byPolicy.set(key, entry);
      }
    }
    for (const u of unknown.values()) {
      notKnown(ev, o.control, `the ${KINDS[o.sets[0]!.kind].title} of ${population.title}`, `rule "${u.rule}" names ${u.groups.map((g) => `"${g}"`).join(', ')}, which is no group of the directory (a dynamic distribution group?), so whom it covers is not known (${plural(u.count, 'member')} of ${population.title})`);
    }
    for (const e of byPolicy.values()) {
      if (!e.policy) {
        // A preset applies whose policy was not among those read: what protects these members is not known.
        notKnown(ev, o.control, `the ${KINDS[o.sets[0]!.kind].title} of ${population.title}`, `${describeWhy(e.why).replace(/^via /, '')} applies, but its ${KINDS[o.sets[0]!.kind].title} "${e.name}" was not among those read`);
        continue;
      }
      const judged = o.wanted(e.policy);
      if (!judged.missing.length) continue;
      const preset = isPresetPolicy(e.policy);
      const name = String(e.policy['Identity'] ?? nameOf(e.policy));
      const covered = [...e.members.values()];
      const first = !written.has(name.toLowerCase());
      written.add(name.toLowerCase());
      const counted = dormant.filter((d) => d.name.toLowerCase() !== name.toLowerCase());
      const notes = counted.length ? ` Not counted: ${counted.slice(0, 3).map(describeNotCounted).join('; ')}${counted.length > 3 ? `; and ${counted.length - 3} more` : ''}.` : '';
      ev.add({
        control: o.control, check: o.check, resource: { type: o.resourceType, id: String(e.policy['Guid'] ?? name), name },
        key: `${population.key}/${name}`, status: 'drift',
        action: preset || !first ? 'none' : 'update', patch: preset || !first ? [] : judged.patch,
        summary: `${population.title} (${plural(population.members.length, 'user')}): ${KINDS[o.sets[0]!.kind].title} "${e.name}" ${describeWhy(e.why)} lacks ${judged.missing.join(', ')}; it applies to ${covered.length === population.members.length ? 'all of them' : `${covered.length} of them`}.${notes}`,
        evidence: {
          endpoint: o.endpoint, readAt: o.readAt,
          live: {
            ...judged.live, population: population.title, appliesBecause: e.why, notCovered: members(covered),
            notCounted: counted.map((d) => ({ policy: d.name, reason: d.reason, ...(d.rule ? { rule: d.rule } : {}), ...(d.by ? { overriddenBy: d.by, matched: d.matched } : {}), says: describeNotCounted(d) })),
          },
        },
        ...(preset ? { remediation: o.presetRemediation } : !first ? { remediation: `The write to "${name}" is planned with its first finding.` } : {}),
        scopes: [{ type: 'policy', value: name }],
      });
    }
  }
}

/** What a list of settings leaves unmet on a policy: the shortfalls, the patch that meets them, and the live values. */
export function unmet(policy: Obj, wanted: readonly Wanted[]): { missing: string[]; patch: Operation[]; live: Obj } {
  const missing: string[] = [];
  const patch: Operation[] = [];
  const live: Obj = { Identity: policy['Identity'] ?? nameOf(policy) };
  for (const w of wanted) {
    live[w.property] = policy[w.property] ?? null;
    if (w.meets(policy[w.property])) continue;
    missing.push(w.describe ? w.describe(policy[w.property]) : `${w.property} ${JSON.stringify(w.value)}`);
    patch.push({ op: 'replace', path: `/${w.property}`, value: w.value });
  }
  return { missing, patch, live };
}

/** A list that must hold every one of `want` (compared by `key`); a write adds what is missing, keeping what is there. */
export function mustHold(property: string, want: ReadonlyArray<{ key: string; entry: string }>, key: (entry: string) => string, what: string): (policy: Obj) => Wanted {
  return (policy) => {
    const have = list(policy[property]);
    const keys = new Set(have.map((h) => key(h)));
    const lacking = want.filter((w) => !keys.has(w.key));
    return {
      property,
      value: [...have, ...lacking.map((w) => w.entry)],
      meets: () => lacking.length === 0,
      describe: () => `${what} ${lacking.map((w) => w.key).join(', ')} in ${property}`,
    };
  };
}

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
      ...(users.length ? [mustBeTrue('EnableTargetedUserProtection'), mustHold('TargetedUsersToProtect', users, (e) => (e.split(';').pop() ?? e).trim().toLowerCase(), 'protected user')(policy), oneOf('TargetedUserProtectionAction', actions)] : []),
      mustBeTrue('EnableOrganizationDomainsProtection'),
      ...(partners.length ? [mustBeTrue('EnableTargetedDomainsProtection'), mustHold('TargetedDomainsToProtect', partners.map((x) => ({ key: x.toLowerCase(), entry: x.toLowerCase() })), (e) => e.trim().toLowerCase(), 'protected domain')(policy)] : []),
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
    endpoint: 'Exchange Get-AntiPhishPolicy', readAt: ev.live.antiPhish.readAt, ctx,
    // Impersonation protection follows the Defender for Office 365 preset rules; spoof protection the EOP ones.
    sets: [{ kind: 'antiPhish', policies, rules, presetRules: atp }, { kind: 'antiPhish', policies, rules, presetRules: eop }],
    wanted,
    presetRemediation: 'The policy belongs to a preset security policy, which Microsoft manages: add the protected users and domains in the preset\'s settings in the Microsoft Defender portal, or scope the population to a custom policy.',
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
    endpoint: 'Exchange Get-HostedContentFilterPolicy', readAt: ev.live.contentFilter.readAt, ctx,
    sets: [{ kind: 'antiSpam', policies, rules, presetRules: eop }],
    wanted: (policy) =>
      unmet(policy, [
        oneOf('HighConfidencePhishAction', [d.highConfidencePhishAction, 'Delete']),
        oneOf('PhishSpamAction', [d.phishSpamAction, 'Delete']),
        mustBeTrue('SpamZapEnabled'),
        mustBeTrue('PhishZapEnabled'),
      ]),
    presetRemediation: 'The policy belongs to a preset security policy, which Microsoft manages and keeps at its recommended settings; report it to Microsoft support or scope the population to a custom policy.',
  });
}
