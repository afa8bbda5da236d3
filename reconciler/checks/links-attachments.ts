import type { Operation } from 'fast-json-patch';
import type { Evaluation } from '../evaluate/context.js';
import type { GroupMemberships, RoleHolders, Section } from '../model/live.js';
import {
  coverage,
  describeNotCounted,
  describeWhy,
  isBuiltInPolicy,
  isPresetPolicy,
  KINDS,
  membershipOf,
  nameOf,
  notCounted,
  type Membership,
  type NotCounted,
  type ProtectionPolicies,
  type Recipient,
} from './effective-policy.js';

type Obj = Record<string, unknown>;

/**
 * MAIL.THREAT.3 (Safe Links), MAIL.THREAT.4 (Safe Attachments) and MAIL.THREAT.5 (anti-malware),
 * judged on the effective policy of each population (checks/effective-policy.ts). A policy that
 * applies to nobody, or that a preset overrides for everyone it matches, counts neither for nor
 * against a control: it is never a finding and never a pass, and each finding names it. Pure.
 */

/** A population as these checks need it (the shape checks/populations.ts builds). */
export interface LinksPopulation {
  /** `everyone`, `privileged` or `group:<name>`. */
  readonly key: string;
  /** How messages name it. */
  readonly title: string;
  readonly members: readonly Recipient[];
  /** Set when whom it holds is not known: the control is not evaluated for it. */
  readonly unknown?: string;
}

/** How many members a finding lists by name; the count says how many more. */
export const LISTED = 20;

/** One setting wanted on the effective policy: the value a write sets, and whether the live value meets it (a stricter one does). */
interface Wanted {
  readonly property: string;
  readonly value: unknown;
  meets(live: unknown): boolean;
  readonly says?: string;
}

const eqi = (a: unknown, b: string) => typeof a === 'string' && a.trim().toLowerCase() === b.toLowerCase();
const isTrue = (property: string): Wanted => ({ property, value: true, meets: (v) => v === true });
const isFalse = (property: string): Wanted => ({ property, value: false, meets: (v) => v === false });
/** One of `ok`; a write sets the first. */
const anyOf = (property: string, ok: readonly string[]): Wanted => ({ property, value: ok[0], meets: (v) => ok.some((o) => eqi(v, o)) });
const strings = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);

/** A list that must hold each of `want` (case-insensitive); a write adds what it lacks to what it has. */
function holdsAll(property: string, live: unknown, want: readonly string[]): Wanted {
  const have = strings(live);
  const keys = new Set(have.map((h) => h.trim().toLowerCase()));
  const lacking = want.filter((w) => !keys.has(w.toLowerCase()));
  return { property, value: [...have, ...lacking], meets: () => lacking.length === 0, says: `${lacking.join(', ')} in ${property}` };
}

/** What a policy leaves unmet: each shortfall in words, the patch that meets them, and the live values judged. */
function unmet(policy: Obj, wanted: readonly Wanted[]): { missing: string[]; patch: Operation[]; live: Obj } {
  const missing: string[] = [];
  const patch: Operation[] = [];
  const live: Obj = { Identity: policy['Identity'] ?? nameOf(policy) };
  for (const w of wanted) {
    live[w.property] = policy[w.property] ?? null;
    if (w.meets(policy[w.property])) continue;
    missing.push(w.says ?? `${w.property} ${JSON.stringify(w.value)} (is ${JSON.stringify(policy[w.property] ?? null)})`);
    patch.push({ op: 'replace', path: `/${w.property}`, value: w.value });
  }
  return { missing, patch, live };
}

const plural = (n: number, one: string) => `${n} ${one}${n === 1 ? '' : 's'}`;
const listed = (rs: readonly Recipient[]) => ({ members: rs.slice(0, LISTED).map((r) => r.upn), memberCount: rs.length });

/** Not evaluated as a failed read is: the run is incomplete and says why. */
function notKnown(ev: Evaluation, control: string, endpoint: string, readAt: string, what: string, error: string): void {
  const failed: Section<never> = { ok: false, endpoint, readAt, reason: 'read-failed', error };
  ev.notEvaluated(control, failed as Section<unknown> & { ok: false }, what);
}

interface Judge {
  readonly control: string;
  readonly check: string;
  readonly resourceType: string;
  readonly endpoint: string;
  readonly readAt: string;
  readonly set: ProtectionPolicies;
  readonly membership: Membership;
  wanted(policy: Obj): { missing: string[]; patch: Operation[]; live: Obj };
  /** Why a policy cannot be written and how to fix it instead, or undefined when a write fixes it. */
  cannotWrite(policy: Obj): string | undefined;
}

/**
 * One finding per population and deficient effective policy, its resource the policy (so the first
 * such finding carries the write); the members it covers, the reason it applies and the policies
 * that counted for no one are in its summary and data.
 */
function judge(ev: Evaluation, populations: readonly LinksPopulation[], j: Judge): void {
  const kind = KINDS[j.set.kind];
  const known = populations.filter((p) => {
    if (p.unknown) notKnown(ev, j.control, '/groups/{id}/transitiveMembers', j.readAt, `the members of ${p.title}`, `${p.unknown}, so whom it holds is not known`);
    return !p.unknown;
  });
  const all = [...new Map(known.flatMap((p) => p.members.map((m) => [m.id, m] as const))).values()];
  const dormant: NotCounted[] = notCounted(j.set, all, j.membership);
  const written = new Set<string>();
  for (const population of known) {
    if (!population.members.length) continue;
    const c = coverage(j.set, population.members, j.membership);
    const unknown = new Map<string, { rule: string; groups: readonly string[]; count: number }>();
    for (const u of c.unknown) {
      const key = `${u.rule}\u0000${u.groups.join(',')}`;
      unknown.set(key, { rule: u.rule, groups: u.groups, count: (unknown.get(key)?.count ?? 0) + 1 });
    }
    for (const u of unknown.values()) {
      notKnown(ev, j.control, '/groups/{id}/transitiveMembers', j.readAt, `the ${kind.title} of ${population.title}`,
        `rule "${u.rule}" names ${u.groups.map((g) => `"${g}"`).join(', ')}, whose members are not known (no group of the directory by that name), so whom it covers is not known (${plural(u.count, 'member')} of ${population.title})`);
    }
    if (c.uncovered.length) {
      ev.add({
        control: j.control, check: j.check, resource: { type: j.resourceType, id: null, name: `${population.title}: no ${kind.title}` },
        key: `${population.key}/none`, status: 'violation', action: 'none',
        summary: `${population.title} (${plural(population.members.length, 'user')}): no ${kind.title} applies to ${plural(c.uncovered.length, 'member')}${kind.builtIn ? ', and no Built-In Protection Policy was read' : ', and no default policy was read'}.`,
        evidence: { endpoint: j.endpoint, readAt: j.readAt, live: { population: population.title, notCovered: listed(c.uncovered) } },
        scopes: [],
      });
    }
    for (const e of c.effective) {
      if (!e.policy) {
        notKnown(ev, j.control, j.endpoint, j.readAt, `the ${kind.title} of ${population.title}`, `${describeWhy(e.why).replace(/^via /, '')} applies, but its ${kind.title} was not among those read`);
        continue;
      }
      const judged = j.wanted(e.policy);
      if (!judged.missing.length) continue;
      const name = String(e.policy['Identity'] ?? nameOf(e.policy));
      const blocked = j.cannotWrite(e.policy);
      const first = !blocked && !written.has(name.toLowerCase());
      if (!blocked) written.add(name.toLowerCase());
      const counted = dormant.filter((d) => d.name.toLowerCase() !== name.toLowerCase());
      const notes = counted.length ? ` Not counted: ${counted.slice(0, 3).map(describeNotCounted).join('; ')}${counted.length > 3 ? `; and ${counted.length - 3} more` : ''}.` : '';
      ev.add({
        control: j.control, check: j.check, resource: { type: j.resourceType, id: String(e.policy['Guid'] ?? name), name },
        key: `${population.key}/${name}`, status: 'drift',
        action: first ? 'update' : 'none', patch: first ? judged.patch : [],
        summary: `${population.title} (${plural(e.members.length, 'user')}): ${kind.title} "${e.name}" ${describeWhy(e.why)} lacks ${judged.missing.join(', ')}.${blocked ? ' It cannot be changed.' : ''}${notes}`,
        evidence: {
          endpoint: j.endpoint, readAt: j.readAt,
          live: {
            ...judged.live, population: population.title, appliesBecause: e.why, notCovered: listed(e.members),
            notCounted: counted.map((d) => ({ policy: d.name, reason: d.reason, ...(d.rule ? { rule: d.rule } : {}), ...(d.by ? { overriddenBy: d.by, matched: d.matched } : {}), says: describeNotCounted(d) })),
          },
        },
        ...(blocked ? { remediation: blocked } : !first ? { remediation: `The write to "${name}" is planned with its first finding.` } : {}),
        scopes: [{ type: 'policy', value: name }],
      });
    }
  }
}

const presetOrBuiltIn = (kindTitle: string) => (policy: Obj): string | undefined => {
  if (isBuiltInPolicy(policy)) {
    return `The Built-In Protection Policy cannot be changed: create a custom ${kindTitle} with these settings and a rule for the population, or turn on the Standard or Strict preset security policy for it.`;
  }
  if (isPresetPolicy(policy)) {
    return `The policy belongs to a preset security policy, which Microsoft manages and cannot be changed: scope the population to a custom ${kindTitle} with these settings, or to the other preset.`;
  }
  return undefined;
};

/** The sections every one of these controls reads besides its kind's own, and the membership of the groups rules name. */
function context(ev: Evaluation, control: string, got: readonly unknown[]): { membership: Membership } | undefined {
  const users = ev.live.users;
  if (users && !users.ok) {
    ev.notEvaluated(control, users, 'users');
    return undefined;
  }
  const memberships = got[0] as GroupMemberships | undefined;
  const holders = got[1] as RoleHolders | undefined;
  if (!memberships || !holders) return undefined;
  return { membership: membershipOf(memberships) };
}

/** MAIL.THREAT.3–5 on the populations (undefined when they could not be built; each control then says why it was not evaluated). */
export function checkLinksAttachments(ev: Evaluation, populations: readonly LinksPopulation[] | undefined): void {
  checkSafeLinks(ev, populations);
  checkSafeAttachments(ev, populations);
  checkMalwareFilter(ev, populations);
}

/** MAIL.THREAT.3: Safe Links on the effective policy of each population. */
function checkSafeLinks(ev: Evaluation, populations: readonly LinksPopulation[] | undefined): void {
  const d = ev.manifest.desired.threatProtection?.links;
  if (!d) return;
  const got = ev.need<[Obj[], Obj[], Obj[], Obj[], GroupMemberships, RoleHolders]>('MAIL.THREAT.3', ['safeLinksPolicy', 'safeLinksRule', 'atpProtectionPolicyRule', 'mailbox', 'groupMembership', 'directoryRoleAssignment']);
  if (!got || !ev.live.safeLinks?.ok) return;
  const [policies, rules, atp, , memberships, holders] = got;
  const ctx = context(ev, 'MAIL.THREAT.3', [memberships, holders]);
  if (!ctx || !populations) return;
  judge(ev, populations, {
    control: 'MAIL.THREAT.3', check: 'safe-links', resourceType: 'safeLinksPolicy',
    endpoint: 'Exchange Get-SafeLinksPolicy', readAt: ev.live.safeLinks.readAt,
    set: { kind: 'safeLinks', policies, rules, presetRules: atp }, membership: ctx.membership,
    wanted: (policy) =>
      unmet(policy, [
        isTrue('EnableSafeLinksForEmail'),
        ...(d.teams ? [isTrue('EnableSafeLinksForTeams')] : []),
        ...(d.office ? [isTrue('EnableSafeLinksForOffice')] : []),
        isFalse('AllowClickThrough'),
        isFalse('DisableUrlRewrite'),
        isTrue('ScanUrls'),
        isTrue('DeliverMessageAfterScan'),
        ...(d.internalSenders ? [isTrue('EnableForInternalSenders')] : []),
      ]),
    cannotWrite: presetOrBuiltIn('Safe Links policy'),
  });
}

/** The quarantine policy no one but an admin releases from: it meets any declared one. */
const ADMIN_ONLY = 'AdminOnlyAccessPolicy';

/** MAIL.THREAT.4: Safe Attachments on the effective policy of each population. */
function checkSafeAttachments(ev: Evaluation, populations: readonly LinksPopulation[] | undefined): void {
  const d = ev.manifest.desired.threatProtection?.attachments;
  if (!d) return;
  const got = ev.need<[Obj[], Obj[], Obj[], Obj[], GroupMemberships, RoleHolders]>('MAIL.THREAT.4', ['safeAttachmentPolicy', 'safeAttachmentRule', 'atpProtectionPolicyRule', 'mailbox', 'groupMembership', 'directoryRoleAssignment']);
  if (!got || !ev.live.safeAttachments?.ok) return;
  const [policies, rules, atp, , memberships, holders] = got;
  const ctx = context(ev, 'MAIL.THREAT.4', [memberships, holders]);
  if (!ctx || !populations) return;
  judge(ev, populations, {
    control: 'MAIL.THREAT.4', check: 'safe-attachments', resourceType: 'safeAttachmentPolicy',
    endpoint: 'Exchange Get-SafeAttachmentPolicy', readAt: ev.live.safeAttachments.readAt,
    set: { kind: 'safeAttachments', policies, rules, presetRules: atp }, membership: ctx.membership,
    wanted: (policy) =>
      unmet(policy, [
        isTrue('Enable'),
        // Dynamic delivery, when accepted, is the least strict; Block always meets it.
        anyOf('Action', d.action === 'DynamicDelivery' ? ['DynamicDelivery', 'Block'] : ['Block']),
        // A custom quarantine policy's release permissions are not read: it is never judged (nor overwritten) by name.
        ...(BUILT_IN_QUARANTINE_TAGS.has(String(policy['QuarantineTag'] ?? '').toLowerCase()) || !policy['QuarantineTag'] ? [anyOf('QuarantineTag', [d.quarantineTag, ADMIN_ONLY])] : []),
      ]),
    cannotWrite: presetOrBuiltIn('Safe Attachments policy'),
  });
}

/** The quarantine policies Microsoft ships; any other name is a custom policy. */
const BUILT_IN_QUARANTINE_TAGS = new Set(['adminonlyaccesspolicy', 'defaultfullaccesspolicy', 'defaultfullaccesswithnotificationpolicy', 'notificationenabledpolicy']);

/** MAIL.THREAT.5: the common attachments filter and zero-hour auto purge on the effective anti-malware policy of each population. */
function checkMalwareFilter(ev: Evaluation, populations: readonly LinksPopulation[] | undefined): void {
  const d = ev.manifest.desired.threatProtection?.attachments?.malware;
  if (!d) return;
  const got = ev.need<[Obj[], Obj[], Obj[], Obj[], GroupMemberships, RoleHolders]>('MAIL.THREAT.5', ['malwareFilterPolicy', 'malwareFilterRule', 'eopProtectionPolicyRule', 'mailbox', 'groupMembership', 'directoryRoleAssignment']);
  if (!got || !ev.live.malwareFilter?.ok) return;
  const [policies, rules, eop, , memberships, holders] = got;
  const ctx = context(ev, 'MAIL.THREAT.5', [memberships, holders]);
  if (!ctx || !populations) return;
  judge(ev, populations, {
    control: 'MAIL.THREAT.5', check: 'malware-filter', resourceType: 'malwareFilterPolicy',
    endpoint: 'Exchange Get-MalwareFilterPolicy', readAt: ev.live.malwareFilter.readAt,
    set: { kind: 'antiMalware', policies, rules, presetRules: eop }, membership: ctx.membership,
    wanted: (policy) =>
      unmet(policy, [
        isTrue('EnableFileFilter'),
        holdsAll('FileTypes', policy['FileTypes'], d.fileTypes),
        // Reject and Quarantine both keep the file from the recipient: either meets the posture, neither is overwritten.
        anyOf('FileTypeAction', [...new Set([d.fileTypeAction, 'Reject', 'Quarantine'])]),
        isTrue('ZapEnabled'),
      ]),
    // The Default policy is the organisation's to set; a preset's is not.
    cannotWrite: (policy) => (isPresetPolicy(policy) ? "The policy belongs to a preset security policy, which Microsoft manages and cannot be changed: scope the population to a custom anti-malware policy with these settings, or to the other preset." : undefined),
  });
}
