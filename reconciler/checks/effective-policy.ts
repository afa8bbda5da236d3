import type { GroupMemberships } from '../model/live.js';
import { addressOf, domainOfAddress } from './recipients.js';

type Obj = Record<string, unknown>;

/**
 * The effective threat protection policy of a recipient, as Exchange Online picks it: of each kind,
 * exactly one policy applies, the first that matches in this order (Microsoft Learn, "Order of
 * precedence for preset security policies and other policies"):
 *
 *   1. the Strict preset security policy, 2. the Standard preset security policy,
 *   3. custom policies by their rule's Priority (0 first), 4. the default policy (IsDefault), or for
 *   Safe Links and Safe Attachments the Built-In Protection Policy.
 *
 * A rule applies when its State is Enabled, every kind of condition it has holds (SentTo,
 * SentToMemberOf, RecipientDomainIs; values within one kind are alternatives) and none of its
 * exceptions does (ExceptIfSentTo, ExceptIfSentToMemberOf, ExceptIfRecipientDomainIs). Whom a group
 * covers comes from its membership as read; a group whose membership is not known makes the answer
 * unknown, never "does not match". Pure.
 */

export type ProtectionKind = 'antiSpam' | 'antiPhish' | 'antiMalware' | 'safeLinks' | 'safeAttachments';

export interface KindSpec {
  /** What it is called in messages: `anti-phishing policy "Exec"`. */
  readonly title: string;
  /** The rule property (custom and preset rules alike) naming the policy the rule applies. */
  readonly policyProperty: string;
  /** Whether a Built-In Protection Policy comes last instead of a default policy. */
  readonly builtIn: boolean;
}

export const KINDS: Readonly<Record<ProtectionKind, KindSpec>> = {
  antiSpam: { title: 'anti-spam policy', policyProperty: 'HostedContentFilterPolicy', builtIn: false },
  antiPhish: { title: 'anti-phishing policy', policyProperty: 'AntiPhishPolicy', builtIn: false },
  antiMalware: { title: 'anti-malware policy', policyProperty: 'MalwareFilterPolicy', builtIn: false },
  safeLinks: { title: 'Safe Links policy', policyProperty: 'SafeLinksPolicy', builtIn: true },
  safeAttachments: { title: 'Safe Attachments policy', policyProperty: 'SafeAttachmentPolicy', builtIn: true },
};

/** The names of the two preset security policies' rules (Get-EOPProtectionPolicyRule, Get-ATPProtectionPolicyRule). */
export const STRICT_PRESET = 'Strict Preset Security Policy';
export const STANDARD_PRESET = 'Standard Preset Security Policy';

/** Everything of one kind the resolver reads. */
export interface ProtectionPolicies {
  readonly kind: ProtectionKind;
  /** Get-<Kind>Policy. */
  readonly policies: readonly Obj[];
  /** Get-<Kind>Rule. */
  readonly rules: readonly Obj[];
  /**
   * The preset rules that decide this kind: Get-EOPProtectionPolicyRule for anti-spam, anti-malware
   * and anti-phishing spoof protection; Get-ATPProtectionPolicyRule for Safe Links, Safe
   * Attachments and anti-phishing impersonation protection.
   */
  readonly presetRules: readonly Obj[];
}

/** A recipient as rules match it. */
export interface Recipient {
  /** Its directory object id, lower case (group membership is by object id). */
  readonly id: string;
  readonly upn: string;
  /** How messages name it. */
  readonly displayName?: string;
  /** Every value a rule's SentTo may name it by: addresses, UPN, alias, name, ids (lower case). */
  readonly names: readonly string[];
  /** The domains of its addresses (lower case). */
  readonly domains: readonly string[];
}

/** The members (object ids, lower case) of a group a rule names, or undefined when whom it covers is not known. */
export type Membership = (groupName: string) => ReadonlySet<string> | undefined;

/** Why a policy applies. */
export type Why =
  | { readonly kind: 'strict-preset'; readonly rule: string }
  | { readonly kind: 'standard-preset'; readonly rule: string }
  | { readonly kind: 'custom'; readonly rule: string; readonly priority: number }
  | { readonly kind: 'default' }
  | { readonly kind: 'built-in' };

/** Which policy applies to a recipient. */
export type Applied =
  /** `policy` is absent only for a preset whose policy object was not among those read. */
  | { readonly status: 'applies'; readonly name: string; readonly policy?: Obj; readonly why: Why }
  /** No policy applies (a kind with no default policy in what was read). */
  | { readonly status: 'none' }
  /** It depends on the membership of groups that could not be resolved, first at this rule. */
  | { readonly status: 'unknown'; readonly rule: string; readonly groups: readonly string[] };

/** How a reason reads in a sentence: `via rule "Exec rule" priority 0`, `the Strict preset`. */
export function describeWhy(why: Why): string {
  switch (why.kind) {
    case 'strict-preset':
      return 'via the Strict preset security policy';
    case 'standard-preset':
      return 'via the Standard preset security policy';
    case 'custom':
      return `via rule "${why.rule}" priority ${why.priority}`;
    case 'default':
      return 'as the default policy';
    case 'built-in':
      return 'as the Built-In Protection Policy';
  }
}

const lower = (v: unknown) => (typeof v === 'string' ? v.trim().toLowerCase() : '');
const values = (v: unknown): string[] => (Array.isArray(v) ? v : v === null || v === undefined || v === '' ? [] : [v]).filter((x): x is string => typeof x === 'string' && x.trim() !== '');
export const nameOf = (o: Obj): string => String(o['Name'] ?? o['Identity'] ?? '');
const isEnabled = (r: Obj) => lower(r['State']) === 'enabled';
/** Whether a policy is one of the preset security policies' (Microsoft's to manage). */
export const isPresetPolicy = (p: Obj) => ['standard', 'strict'].includes(lower(p['RecommendedPolicyType']));
export const isBuiltInPolicy = (p: Obj) => p['IsBuiltInProtection'] === true;
export const isDefaultPolicy = (p: Obj) => p['IsDefault'] === true;

/** A three-valued match: a group whose membership is not known leaves it open. */
export type Tri = { readonly v: true } | { readonly v: false } | { readonly v: 'unknown'; readonly groups: string[] };
const T: Tri = { v: true };
const F: Tri = { v: false };

/** `domain` is `want` or one of its subdomains. */
const inDomain = (domain: string, want: string) => domain === want || domain.endsWith(`.${want}`);

type ConditionKind = 'SentTo' | 'SentToMemberOf' | 'RecipientDomainIs';
const CONDITIONS: readonly ConditionKind[] = ['SentTo', 'SentToMemberOf', 'RecipientDomainIs'];

/** Whether one kind of condition (or exception) holds for a recipient: any of its values (lower case). */
function holds(kind: ConditionKind, vals: readonly string[], r: Recipient, membership: Membership): Tri {
  // Loops, not closures: this runs for every member of every population under every rule.
  if (kind === 'SentTo') {
    for (const v of vals) if (r.names.includes(v)) return T;
    return F;
  }
  if (kind === 'RecipientDomainIs') {
    for (const v of vals) for (const d of r.domains) if (inDomain(d, v)) return T;
    return F;
  }
  const unknown: string[] = [];
  for (const g of vals) {
    const members = membership(g);
    if (!members) unknown.push(g);
    else if (members.has(r.id)) return T;
  }
  return unknown.length ? { v: 'unknown', groups: unknown } : F;
}

/** A rule's conditions and exceptions, read once: the kinds it has, with their values in lower case. */
function compile(rule: Obj): (r: Recipient, membership: Membership) => Tri {
  const kinds = (prefix: string) => CONDITIONS.map((k) => [k, values(rule[`${prefix}${k}`]).map((v) => v.trim().toLowerCase())] as const).filter(([, v]) => v.length > 0);
  const conditions = kinds('');
  const exceptions = kinds('ExceptIf');
  // Names of groups as the rule wrote them, for messages.
  const original = new Map([...values(rule['SentToMemberOf']), ...values(rule['ExceptIfSentToMemberOf'])].map((g) => [g.trim().toLowerCase(), g.trim()]));
  const named = (gs: readonly string[]) => gs.map((g) => original.get(g) ?? g);
  return (r, membership) => {
    let unknownCond: string[] | undefined;
    for (const [k, vals] of conditions) {
      const h = holds(k, vals, r, membership);
      if (h.v === false) return F;
      if (h.v === 'unknown') unknownCond = [...(unknownCond ?? []), ...h.groups];
    }
    let unknownExcept: string[] | undefined;
    for (const [k, vals] of exceptions) {
      const h = holds(k, vals, r, membership);
      if (h.v === true) return F;
      if (h.v === 'unknown') unknownExcept = [...(unknownExcept ?? []), ...h.groups];
    }
    if (!unknownCond && !unknownExcept) return T;
    return { v: 'unknown', groups: named([...(unknownCond ?? []), ...(unknownExcept ?? [])]) };
  };
}

/** Whether a rule applies to a recipient (its State aside): every kind of condition it has, and none of its exceptions. A rule with no condition applies to everyone. */
export const ruleMatches = (rule: Obj, r: Recipient, membership: Membership): Tri => compile(rule)(r, membership);

/** One step of the order: a rule and the policy it applies (or the rule-less default / built-in policy). */
interface Candidate {
  readonly rule?: Obj;
  readonly match?: (r: Recipient, membership: Membership) => Tri;
  readonly name: string;
  readonly policy?: Obj;
  readonly why: Why;
}

/** The candidates of a kind in the order Exchange tries them; disabled rules are left out. */
export function precedence(set: ProtectionPolicies): Candidate[] {
  const spec = KINDS[set.kind];
  const byName = new Map(set.policies.map((p) => [lower(p['Name'] ?? p['Identity']), p] as const));
  for (const p of set.policies) if (typeof p['Identity'] === 'string') byName.set(lower(p['Identity']), p);
  const out: Candidate[] = [];
  for (const [preset, kind, type] of [[STRICT_PRESET, 'strict-preset', 'strict'], [STANDARD_PRESET, 'standard-preset', 'standard']] as const) {
    for (const rule of set.presetRules) {
      if (lower(rule['Name'] ?? rule['Identity']) !== preset.toLowerCase() || !isEnabled(rule)) continue;
      // The preset rule names its policy of this kind; the anti-phishing impersonation part (an ATP rule) does not, and its policy is the preset's.
      const named = lower(rule[spec.policyProperty]);
      const policy = (named ? byName.get(named) : undefined) ?? set.policies.find((p) => lower(p['RecommendedPolicyType']) === type);
      out.push({ rule, match: compile(rule), name: policy ? nameOf(policy) : preset, ...(policy ? { policy } : {}), why: { kind, rule: nameOf(rule) } });
    }
  }
  const custom = set.rules
    .filter(isEnabled)
    .map((rule) => ({ rule, policy: byName.get(lower(rule[spec.policyProperty])) }))
    // A rule whose policy is not among those read (or is a preset's, which no custom rule may name) applies nothing here.
    .filter((c): c is { rule: Obj; policy: Obj } => !!c.policy && !isPresetPolicy(c.policy))
    .sort((a, b) => Number(a.rule['Priority'] ?? 0) - Number(b.rule['Priority'] ?? 0) || nameOf(a.rule).localeCompare(nameOf(b.rule)));
  for (const c of custom) out.push({ rule: c.rule, match: compile(c.rule), name: nameOf(c.policy), policy: c.policy, why: { kind: 'custom', rule: nameOf(c.rule), priority: Number(c.rule['Priority'] ?? 0) } });
  const last = spec.builtIn ? set.policies.find(isBuiltInPolicy) : set.policies.find(isDefaultPolicy);
  if (last) out.push({ name: nameOf(last), policy: last, why: { kind: spec.builtIn ? 'built-in' : 'default' } });
  return out;
}

/** A resolver for one kind: the candidates are ordered once, then each recipient costs one pass over them. */
export function resolver(set: ProtectionPolicies, membership: Membership): (r: Recipient) => Applied {
  const order = precedence(set);
  // One answer per candidate, shared by every recipient it applies to: a population of 60,000 costs no answer objects.
  const answers: Applied[] = order.map((c) => ({ status: 'applies', name: c.name, ...(c.policy ? { policy: c.policy } : {}), why: c.why }));
  return (r) => {
    for (let i = 0; i < order.length; i++) {
      const c = order[i]!;
      const m = c.match ? c.match(r, membership) : T;
      if (m.v === false) continue;
      if (m.v === 'unknown') return { status: 'unknown', rule: nameOf(c.rule!), groups: [...new Set(m.groups)] };
      return answers[i]!;
    }
    return NONE;
  };
}

const NONE: Applied = { status: 'none' };

/** The policy of a kind that applies to one recipient, and why. */
export const effectivePolicy = (set: ProtectionPolicies, r: Recipient, membership: Membership): Applied => resolver(set, membership)(r);

/** The members one effective policy covers. */
export interface Coverage {
  readonly name: string;
  readonly policy?: Obj;
  readonly why: Why;
  readonly members: Recipient[];
}

/** A population under one kind: the effective policies with the members each covers, in precedence order. */
export interface PopulationCoverage {
  readonly effective: Coverage[];
  /** Members no policy applies to. */
  readonly uncovered: Recipient[];
  /** Members whose policy depends on groups whose membership is not known. */
  readonly unknown: Array<{ readonly recipient: Recipient; readonly rule: string; readonly groups: readonly string[] }>;
}

/** The effective policies of a population, each with the members it covers. Linear in the members. */
export function coverage(set: ProtectionPolicies, members: readonly Recipient[], membership: Membership): PopulationCoverage {
  const order = precedence(set);
  const resolve = resolver(set, membership);
  const byKey = new Map<string, Coverage>();
  const keys = new Map<Applied, string>();
  const uncovered: Recipient[] = [];
  const unknown: PopulationCoverage['unknown'] = [];
  for (const r of members) {
    const a = resolve(r);
    if (a.status === 'none') uncovered.push(r);
    else if (a.status === 'unknown') unknown.push({ recipient: r, rule: a.rule, groups: a.groups });
    else {
      let key = keys.get(a);
      if (key === undefined) keys.set(a, (key = `${a.why.kind}\u0000${a.name.toLowerCase()}`));
      const c = byKey.get(key) ?? { name: a.name, ...(a.policy ? { policy: a.policy } : {}), why: a.why, members: [] };
      c.members.push(r);
      byKey.set(key, c);
    }
  }
  const rank = (c: Coverage) => order.findIndex((p) => p.why.kind === c.why.kind && p.name.toLowerCase() === c.name.toLowerCase());
  return { effective: [...byKey.values()].sort((a, b) => rank(a) - rank(b)), uncovered, unknown };
}

/** Why a policy counts for no one. */
export interface NotCounted {
  readonly name: string;
  readonly policy: Obj;
  readonly reason: 'no-rule' | 'rule-disabled' | 'matches-nobody' | 'overridden';
  /** Its rule, when it has one. */
  readonly rule?: string;
  /** For `overridden`: how many members its rule matches, and what applies to them instead (`the Strict preset`, `anti-spam policy "X"`). */
  readonly matched?: number;
  readonly by?: readonly string[];
}

const whoInstead = (kind: ProtectionKind, a: Applied & { status: 'applies' }) =>
  a.why.kind === 'strict-preset' ? 'the Strict preset' : a.why.kind === 'standard-preset' ? 'the Standard preset' : `${KINDS[kind].title} "${a.name}"`;

/**
 * The custom and default policies of a kind that count for no one among `members` (the union of the
 * populations): no rule, a disabled rule, a rule that matches none of them, or a rule whose members
 * are all taken by a policy before it (a preset, most often). Preset and built-in policies are
 * Microsoft's and are not listed. Members whose match is unknown do not count either way.
 */
export function notCounted(set: ProtectionPolicies, members: readonly Recipient[], membership: Membership): NotCounted[] {
  const resolve = resolver(set, membership);
  const spec = KINDS[set.kind];
  const applied = members.map((r) => [r, resolve(r)] as const);
  const out: NotCounted[] = [];
  for (const policy of set.policies) {
    if (isPresetPolicy(policy) || isBuiltInPolicy(policy)) continue;
    const name = nameOf(policy);
    const isDefault = !spec.builtIn && isDefaultPolicy(policy);
    const rules = set.rules.filter((r) => lower(r[spec.policyProperty]) === name.toLowerCase() || (typeof policy['Identity'] === 'string' && lower(r[spec.policyProperty]) === lower(policy['Identity'])));
    if (!isDefault && !rules.length) {
      out.push({ name, policy, reason: 'no-rule' });
      continue;
    }
    const enabled = rules.filter(isEnabled);
    if (!isDefault && !enabled.length) {
      out.push({ name, policy, reason: 'rule-disabled', rule: nameOf(rules[0]!) });
      continue;
    }
    const matchers = enabled.map(compile);
    const matched = applied.filter(([r]) => isDefault || matchers.some((match) => match(r, membership).v === true));
    if (!matched.length) {
      out.push({ name, policy, reason: 'matches-nobody', ...(enabled[0] ? { rule: nameOf(enabled[0]) } : {}) });
      continue;
    }
    if (matched.some(([, a]) => a.status === 'applies' && a.name.toLowerCase() === name.toLowerCase() && a.why.kind !== 'strict-preset' && a.why.kind !== 'standard-preset')) continue;
    if (matched.some(([, a]) => a.status !== 'applies')) continue;
    const by = [...new Set(matched.map(([, a]) => whoInstead(set.kind, a as Applied & { status: 'applies' })))];
    out.push({ name, policy, reason: 'overridden', ...(enabled[0] ? { rule: nameOf(enabled[0]) } : {}), matched: matched.length, by });
  }
  return out;
}

/** How a policy that counts for no one reads: `"Exec protection" applies to nobody: its rule is disabled`. */
export function describeNotCounted(n: NotCounted): string {
  switch (n.reason) {
    case 'no-rule':
      return `"${n.name}" applies to nobody: no rule applies it`;
    case 'rule-disabled':
      return `"${n.name}" applies to nobody: its rule${n.rule ? ` "${n.rule}"` : ''} is disabled`;
    case 'matches-nobody':
      return `"${n.name}" applies to nobody: its rule${n.rule ? ` "${n.rule}"` : ''} matches no member of the populations`;
    case 'overridden':
      return `"${n.name}" is overridden by ${(n.by ?? []).join(' and ')} for ${n.matched === 1 ? 'the 1 member' : `all ${n.matched} members`} it matches`;
  }
}

/** An address as Exchange lists it (`SMTP:a@b`, `smtp:a@b`, `a@b`), lower case; other forms through addressOf. */
function plainAddress(v: string): string | undefined {
  const a = /^smtp:/i.test(v) ? v.slice(5) : v;
  if (/^[^\s<>"[\]:@]+@[^\s<>"[\]:@]+$/.test(a)) return a.toLowerCase();
  return /^[a-z0-9]+:/i.test(a) && !a.includes('@') ? undefined : addressOf(v);
}

/** A recipient from its mailbox (Get-Mailbox): the names a rule may use for it and its domains. */
export function recipientOfMailbox(m: Obj, displayName?: string): Recipient | undefined {
  const id = lower(m['ExternalDirectoryObjectId']);
  const upn = lower(m['UserPrincipalName']) || lower(m['PrimarySmtpAddress']);
  if (!id || !upn) return undefined;
  const addresses = [m['PrimarySmtpAddress'], m['UserPrincipalName'], m['WindowsEmailAddress'], ...values(m['EmailAddresses'])]
    .map((a) => (typeof a === 'string' ? plainAddress(a) : undefined))
    .filter((a): a is string => !!a);
  const names = new Set<string>([id, upn, ...addresses]);
  for (const k of ['Identity', 'Name', 'Alias', 'DisplayName', 'Guid', 'DistinguishedName']) if (lower(m[k])) names.add(lower(m[k]));
  const dn = displayName ?? (typeof m['DisplayName'] === 'string' ? m['DisplayName'] : undefined);
  return { id, upn, ...(dn ? { displayName: dn } : {}), names: [...names], domains: [...new Set(addresses.map(domainOfAddress))] };
}

/** Group membership as read (groupMemberships): a name resolves to its group's members; an unresolved name to undefined. */
export function membershipOf(read: GroupMemberships): Membership {
  const byName = new Map<string, ReadonlySet<string>>();
  for (const g of read.groups) {
    const members = new Set(g.members);
    for (const n of [...g.names, g.displayName, g.id]) byName.set(n.trim().toLowerCase(), members);
  }
  return (name) => byName.get(name.trim().toLowerCase());
}
