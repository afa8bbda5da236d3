import type { Operation } from 'fast-json-patch';
import type { Evaluation } from '../evaluate/context.js';
import type { Section } from '../model/live.js';
import {
  coverage,
  describeNotCounted,
  describeWhy,
  KINDS,
  nameOf,
  notCounted,
  type Membership,
  type NotCounted,
  type ProtectionPolicies,
  type Recipient,
  type Why,
} from './effective-policy.js';
import type { Population } from './populations.js';

type Obj = Record<string, unknown>;

/**
 * The findings of the threat protection controls (MAIL.THREAT.1–5), all judged the same way: on
 * the effective policy of each population (checks/effective-policy.ts), never on a policy alone.
 * Pure.
 */

/** How many members a finding lists by name; the count says how many more. */
export const MEMBERS_LISTED = 20;

/** One setting a control wants on the effective policy, and whether the live value meets it (a stricter one does). */
export interface Wanted {
  readonly property: string;
  /** What a write sets when the live value falls short. */
  readonly value: unknown;
  /** Whether the live value meets it. */
  meets(live: unknown): boolean;
  /** How the shortfall reads, when not `Property value (is live)`: `protected user casey@… in TargetedUsersToProtect`. */
  readonly says?: string;
}

const eqi = (a: unknown, b: string) => typeof a === 'string' && a.trim().toLowerCase() === b.toLowerCase();
/** A boolean that must be true. */
export const mustBeTrue = (property: string): Wanted => ({ property, value: true, meets: (v) => v === true });
/** A boolean that must be false. */
export const mustBeFalse = (property: string): Wanted => ({ property, value: false, meets: (v) => v === false });
/** A value that must be one of `ok`, case-insensitively (a write sets the first). */
export const oneOf = (property: string, ok: readonly string[]): Wanted => ({ property, value: ok[0], meets: (v) => ok.some((o) => eqi(v, o)) });

/**
 * A list on `policy` that must hold each entry of `want`, compared by `key` (an entry's own text,
 * case-insensitive, by default). A write adds what it lacks to what it has, never removes.
 */
export function mustHold(
  policy: Obj,
  property: string,
  want: ReadonlyArray<string | { key: string; entry: string }>,
  o: { key?: (entry: string) => string; what?: string } = {},
): Wanted {
  const key = o.key ?? ((e: string) => e.trim().toLowerCase());
  const have = Array.isArray(policy[property]) ? (policy[property] as unknown[]).filter((x): x is string => typeof x === 'string') : [];
  const keys = new Set(have.map(key));
  const lacking = want.map((w) => (typeof w === 'string' ? { key: w.toLowerCase(), entry: w } : w)).filter((w) => !keys.has(w.key));
  return {
    property,
    value: [...have, ...lacking.map((w) => w.entry)],
    meets: () => lacking.length === 0,
    says: `${o.what ? `${o.what} ` : ''}${lacking.map((w) => w.key).join(', ')} in ${property}`,
  };
}

/** What a policy leaves unmet: each shortfall in words, the patch that meets them, and the live values judged. */
export function unmet(policy: Obj, wanted: readonly Wanted[]): { missing: string[]; patch: Operation[]; live: Obj } {
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
const listed = (rs: readonly Recipient[]) => ({ members: rs.slice(0, MEMBERS_LISTED).map((r) => r.upn), memberCount: rs.length });

/** Not evaluated, as a failed read is: the run is incomplete and says why. */
export function notKnown(ev: Evaluation, control: string, what: string, error: string, endpoint = '/groups/{id}/transitiveMembers', readAt = new Date().toISOString()): void {
  const failed: Section<never> = { ok: false, endpoint, readAt, reason: 'read-failed', error };
  ev.notEvaluated(control, failed as Section<unknown> & { ok: false }, what);
}

/** What one threat protection control judges. */
export interface EffectiveJudgement {
  readonly control: string;
  readonly check: string;
  readonly resourceType: string;
  /** The read the findings come from, and when. */
  readonly endpoint: string;
  readonly readAt: string;
  /** The populations whose members are known. */
  readonly populations: readonly Population[];
  readonly membership: Membership;
  /** The policies and rules of the kind, once per part of it that presets decide on their own (anti-phishing: spoof and impersonation). */
  readonly sets: readonly ProtectionPolicies[];
  /** What the control wants of a policy. */
  wanted(policy: Obj): { missing: string[]; patch: Operation[]; live: Obj };
  /** Why a policy cannot be written and how to fix it instead (a preset's, the Built-In Protection Policy), or undefined when a write fixes it. */
  cannotWrite(policy: Obj): string | undefined;
}

/**
 * Judges the effective policy of each population against what a control wants, and reports each
 * deficient one: one finding per population and effective policy, whose resource is the policy (so
 * remediation writes it), naming why it applies, the members it leaves unprotected and the policies
 * that counted for no one. A policy that applies to nobody or is overridden is never a finding, nor
 * a pass. The first finding of a policy carries its write; a policy that cannot be written is
 * reported with how to fix it instead.
 */
export function judgeEffective(ev: Evaluation, j: EffectiveJudgement): void {
  const kind = KINDS[j.sets[0]!.kind];
  const all = [...new Map(j.populations.flatMap((p) => p.members.map((m) => [m.id, m] as const))).values()];
  const dormant: NotCounted[] = [];
  for (const set of j.sets) for (const n of notCounted(set, all, j.membership)) if (!dormant.some((d) => d.name.toLowerCase() === n.name.toLowerCase())) dormant.push(n);
  const written = new Set<string>();
  for (const population of j.populations) {
    if (!population.members.length) continue;
    // The policies that apply to the population (one per part of the kind), with the members of each.
    const byPolicy = new Map<string, { name: string; policy?: Obj; why: Why; members: Map<string, Recipient> }>();
    const unknown = new Map<string, { rule: string; groups: readonly string[]; count: number }>();
    for (const set of j.sets) {
      const c = coverage(set, population.members, j.membership);
      for (const u of c.unknown) {
        const key = `${u.rule}\u0000${u.groups.join(',')}`;
        unknown.set(key, { rule: u.rule, groups: u.groups, count: (unknown.get(key)?.count ?? 0) + 1 });
      }
      if (c.uncovered.length) {
        ev.add({
          control: j.control, check: j.check, resource: { type: j.resourceType, id: null, name: `${population.title}: no ${kind.title}` },
          key: `${population.key}/none/${set.kind}`, status: 'violation', action: 'none',
          summary: `${population.title} (${plural(population.members.length, 'user')}): no ${kind.title} applies to ${plural(c.uncovered.length, 'member')}, and no ${kind.builtIn ? 'Built-In Protection Policy' : 'default policy'} was read.`,
          evidence: { endpoint: j.endpoint, readAt: j.readAt, live: { population: population.title, notCovered: listed(c.uncovered) } },
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
      notKnown(ev, j.control, `the ${kind.title} of ${population.title}`,
        `rule "${u.rule}" names ${u.groups.map((g) => `"${g}"`).join(', ')}, which is no group of the directory (a dynamic distribution group?), so whom it covers is not known (${plural(u.count, 'member')} of ${population.title})`, undefined, j.readAt);
    }
    for (const e of byPolicy.values()) {
      if (!e.policy) {
        // A preset applies whose policy was not among those read: what protects these members is not known.
        notKnown(ev, j.control, `the ${kind.title} of ${population.title}`, `${describeWhy(e.why).replace(/^via /, '')} applies, but its ${kind.title} "${e.name}" was not among those read`, j.endpoint, j.readAt);
        continue;
      }
      const judged = j.wanted(e.policy);
      if (!judged.missing.length) continue;
      const name = String(e.policy['Identity'] ?? nameOf(e.policy));
      const blocked = j.cannotWrite(e.policy);
      const first = !blocked && !written.has(name.toLowerCase());
      if (!blocked) written.add(name.toLowerCase());
      const covered = [...e.members.values()];
      const counted = dormant.filter((d) => d.name.toLowerCase() !== name.toLowerCase());
      const notes = counted.length ? ` Not counted: ${counted.slice(0, 3).map(describeNotCounted).join('; ')}${counted.length > 3 ? `; and ${counted.length - 3} more` : ''}.` : '';
      ev.add({
        control: j.control, check: j.check, resource: { type: j.resourceType, id: String(e.policy['Guid'] ?? name), name },
        key: `${population.key}/${name}`, status: 'drift',
        action: first ? 'update' : 'none', patch: first ? judged.patch : [],
        summary: `${population.title} (${plural(population.members.length, 'user')}): ${kind.title} "${e.name}" ${describeWhy(e.why)} lacks ${judged.missing.join(', ')}; it applies to ${covered.length === population.members.length ? 'all of them' : `${covered.length} of them`}.${blocked ? ' It cannot be changed.' : ''}${notes}`,
        evidence: {
          endpoint: j.endpoint, readAt: j.readAt,
          live: {
            ...judged.live, population: population.title, appliesBecause: e.why, notCovered: listed(covered),
            notCounted: counted.map((d) => ({ policy: d.name, reason: d.reason, ...(d.rule ? { rule: d.rule } : {}), ...(d.by ? { overriddenBy: d.by, matched: d.matched } : {}), says: describeNotCounted(d) })),
          },
        },
        ...(blocked ? { remediation: blocked } : !first ? { remediation: `The write to "${name}" is planned with its first finding.` } : {}),
        scopes: [{ type: 'policy', value: name }],
      });
    }
  }
}
