import { sha256 } from '../core/hash.js';
import type { Confidence, ResponseAction, ResponsePolicy, Tier } from '../manifest/response.js';
import { ACTIONS, CHAIN_ACTIONS, DEFAULT_BREAKER_WINDOW_HOURS } from '../manifest/response.js';
import type { ChainInvite, ChainMessage, ChainTarget } from '../model/chain.js';
import { inviteRemovals, isContainedLocation } from './chain.js';
import { confidenceOf, higher, signalKey, type Signal, type SubjectRef } from './signals.js';

/**
 * The pure core of `posture respond`: signals become incidents (one per identity and time window),
 * each identity is placed in its tier, and the authority matrix says, action by action, what runs
 * automatically, what waits for a person's approval and what is never done. No I/O: the same
 * inputs give the same decisions.
 */

/** One identity as the tenant describes it, resolved by the reader. */
export interface Identity {
  readonly id: string;
  readonly upn: string;
  readonly displayName?: string;
  /** Its primary mail address, where it differs from the UPN: how messages and meetings name it. */
  readonly mail?: string;
  /** Active directory role assignments (role template ids). */
  readonly roles: readonly string[];
  /** Display names of the groups it is a member of (of those the policy names). */
  readonly groups: readonly string[];
  /** Exchange RecipientTypeDetails of its mailbox, if it has one. */
  readonly recipientType?: string;
}

/** What the decisions know of the tenant. */
export interface ResponseContext {
  readonly policy: ResponsePolicy;
  /** Break-glass accounts (UPNs, lower case) and groups (display names) of the posture. */
  readonly breakGlass: { readonly users: readonly string[]; readonly groups: readonly string[] };
  /** Every identity a signal may name, looked up by id or UPN. */
  readonly identities: readonly Identity[];
  /** How many users the tenant has, for the circuit breaker's share. */
  readonly userCount: number;
  /**
   * Identities (object ids) earlier runs acted on automatically within the circuit breaker's window:
   * the breaker counts them with this run's, so a wave spread over many runs trips it as one would.
   */
  readonly recentlyActedOn?: readonly string[];
}

export type Placement = Tier | 'breakGlass';

/** The tier an identity is in: the first that holds, in TIERS order; break-glass is outside them all. */
export function tierOf(identity: Identity, ctx: Pick<ResponseContext, 'policy' | 'breakGlass'>): Placement {
  const inAny = (names: readonly string[]) => identity.groups.some((g) => names.some((n) => n.toLowerCase() === g.toLowerCase()));
  const upn = identity.upn.toLowerCase();
  if (ctx.breakGlass.users.some((u) => u.toLowerCase() === upn) || inAny(ctx.breakGlass.groups)) return 'breakGlass';
  const t = ctx.policy.tiers;
  if (identity.roles.some((r) => t.privilegedRoles.some((p) => p.toLowerCase() === r.toLowerCase()))) return 'privileged';
  if (t.serviceAccounts.users.some((u) => u.toLowerCase() === upn) || inAny(t.serviceAccounts.groups)) return 'serviceAccount';
  if (inAny(t.highValueGroups)) return 'highValue';
  if ((identity.recipientType ?? '').toLowerCase() === 'sharedmailbox') return 'sharedMailbox';
  return 'standard';
}

/** A signal the policy holds authoritative, with its confidence and the rule that gave it. */
export interface RatedSignal {
  readonly signal: Signal;
  readonly confidence: Confidence;
  /** Index of the rule in `policy.signals`; -1 for a signal no rule holds authoritative, kept because it names a break-glass account. */
  readonly rule: number;
}

export interface Incident {
  /** Stable: the identity and the first signal that opened it. */
  readonly id: string;
  readonly identity: Identity;
  readonly placement: Placement;
  /** The highest confidence of its signals. */
  readonly confidence: Confidence;
  readonly signals: readonly RatedSignal[];
  readonly openedAt: string;
  readonly lastSignalAt: string;
  /**
   * Signals that joined it in this run: an incident of an earlier run that none joined is not acted
   * on again (an earlier one comes with 1 when its automatic actions did not all take).
   */
  readonly fresh: number;
}

/** A signal that led to no incident, and why. */
export interface SetAside {
  readonly signal: Signal;
  readonly reason: SetAsideReason;
}

/**
 * Why a signal led to no incident. `outside-window`: observed before the run's read began or after
 * its time (a file's signal from long ago, a clock far ahead): judged again when read again.
 * `ambiguous-identity`: its id and UPN name different users (or one names nobody). `resolved`: the
 * service says it is over.
 */
export type SetAsideReason = 'not-authoritative' | 'unknown-identity' | 'ambiguous-identity' | 'no-time' | 'outside-window' | 'resolved';

/** Reasons that hold for a signal at its version whenever it is read again: later runs do not report it twice. */
// (Not `resolved`: a resolved alert or dismissed risk can be reopened, and is judged again when read again.)
export const SETTLED_REASONS: readonly SetAsideReason[] = ['not-authoritative', 'unknown-identity', 'ambiguous-identity', 'no-time'];

/** How far ahead of the run's time a service's clock may be before its signal is set aside. */
export const CLOCK_SKEW_MS = 5 * 60_000;

/**
 * Looks identities up by object id and UPN, case-insensitively. The object id decides: a UPN that
 * names nobody (the user renamed since) is no matter, but an id and a UPN of different users, or an
 * id that names nobody beside a UPN that names someone (a deleted user's address reused), are
 * ambiguous, and the users either names come back so a break-glass account among them is guarded.
 */
function identityIndex(ids: readonly Identity[]): (ref: SubjectRef) => { identity?: Identity; ambiguous?: Identity[] } {
  const byId = new Map(ids.map((i) => [i.id.toLowerCase(), i]));
  const byUpn = new Map(ids.map((i) => [i.upn.toLowerCase(), i]));
  return (ref) => {
    const a = ref.id !== undefined ? byId.get(ref.id.toLowerCase()) : undefined;
    const b = ref.upn !== undefined ? byUpn.get(ref.upn.toLowerCase()) : undefined;
    if (ref.id !== undefined && b !== undefined && a !== b) return { ambiguous: [a, b].filter((x): x is Identity => !!x) };
    const identity = ref.id !== undefined ? a : b;
    return identity ? { identity } : {};
  };
}

/**
 * Correlates signals into incidents: per identity, a signal within `windowHours` of an incident's
 * span (from its first signal to its last, either side) joins it; one outside every span opens a new
 * one. A signal seen twice (same source, id and version) counts once, and one an earlier run already
 * saw (`alreadySeen`: `signalKey`) not at all. Incidents still open from an earlier run are
 * continued, not duplicated. Signals are judged only within `bounds` (the run's read window, and its
 * time plus a little clock skew): one observed outside it is set aside.
 */
export function correlate(
  signals: readonly Signal[],
  ctx: ResponseContext,
  open: readonly Incident[] = [],
  alreadySeen: ReadonlySet<string> = new Set(),
  bounds?: { readonly since: string; readonly until: string },
): { incidents: Incident[]; setAside: SetAside[] } {
  const setAside: SetAside[] = [];
  const findIdentity = identityIndex(ctx.identities);
  const windowMs = ctx.policy.windowHours * 3_600_000;
  const byIdentity = new Map<string, Incident[]>();
  // A continued incident is placed again from the posture and directory as they are now: an account
  // made break-glass (or given a role) since it opened is treated as what it is now.
  for (const inc of open) {
    const now = findIdentity({ id: inc.identity.id }).identity ?? inc.identity;
    byIdentity.set(inc.identity.id, [...(byIdentity.get(inc.identity.id) ?? []), { ...inc, identity: now, placement: tierOf(now, ctx) }]);
  }
  const seen = new Set<string>([...alreadySeen, ...open.flatMap((i) => i.signals.map((s) => signalKey(s.signal)))]);
  const sorted = [...signals].sort((a, b) => a.observedAt.localeCompare(b.observedAt) || signalKey(a).localeCompare(signalKey(b)));
  const earliest = bounds ? Date.parse(bounds.since) : -Infinity;
  const latest = bounds ? Date.parse(bounds.until) + CLOCK_SKEW_MS : Infinity;
  for (const signal of sorted) {
    const key = signalKey(signal);
    if (seen.has(key)) continue;
    seen.add(key);
    const at = Date.parse(signal.observedAt);
    if (Number.isNaN(at)) {
      setAside.push({ signal, reason: 'no-time' });
      continue;
    }
    // A service's signal is read by when it last changed (an old alert raised to high is read again), so
    // only its future is bounded; a file's signal is bounded both ways.
    if (at > latest || (signal.source === 'external' && at < earliest)) {
      setAside.push({ signal, reason: 'outside-window' });
      continue;
    }
    const refs = signal.subjects.map((r) => findIdentity(r));
    const candidates = [...new Map(refs.flatMap((r) => (r.identity ? [r.identity] : (r.ambiguous ?? []))).map((i) => [i.id, i])).values()];
    const ambiguous = refs.some((r) => r.ambiguous);
    const identities = ambiguous ? [] : candidates;
    const rated = confidenceOf(ctx.policy.signals, signal);
    // Any signal about a break-glass account reaches the incident owner, authoritative, resolved, ambiguous or not, and one
    // that only mentions it as a bystander too; it is never acted on.
    const mentioned = (signal.mentions ?? []).flatMap((r) => {
      const m = findIdentity(r);
      return m.identity ? [m.identity] : (m.ambiguous ?? []);
    });
    const guarded = [...new Map([...candidates, ...mentioned].filter((i) => tierOf(i, ctx) === 'breakGlass').map((i) => [i.id, i])).values()];
    const reason: SetAsideReason | undefined = ambiguous ? 'ambiguous-identity' : signal.resolved ? 'resolved' : !rated ? 'not-authoritative' : identities.length === 0 ? 'unknown-identity' : undefined;
    // A break-glass account only mentioned joins a protected incident beside the parties' own.
    const bystanders = reason ? [] : guarded.filter((g) => !identities.some((i) => i.id === g.id));
    // Set aside unless it reaches a break-glass account's protected incident (an ambiguous one is reported either way).
    if (reason && (guarded.length === 0 || reason === 'ambiguous-identity')) setAside.push({ signal, reason });
    for (const identity of reason ? guarded : [...identities, ...bystanders]) {
      const list = byIdentity.get(identity.id) ?? [];
      const r: RatedSignal = rated && !reason && !bystanders.includes(identity) ? { signal, confidence: rated.confidence, rule: rated.rule } : { signal, confidence: 'low', rule: -1 };
      // A finding is a state seen now (the rule is there), not an event at a time: it belongs to the
      // identity's latest incident whatever its age, which it reopens; it opens one only when there is none.
      const joins =
        signal.source === 'finding' ? list.length - 1 : list.findLastIndex((inc) => at >= Date.parse(inc.openedAt) - windowMs && at <= Date.parse(inc.lastSignalAt) + windowMs);
      const into = joins >= 0 ? list[joins] : undefined;
      if (into) {
        const event = signal.source !== 'finding';
        list[joins] = {
          ...into,
          confidence: higher(into.confidence, r.confidence),
          signals: [...into.signals, r],
          openedAt: event && signal.observedAt < into.openedAt ? signal.observedAt : into.openedAt,
          lastSignalAt: event && signal.observedAt > into.lastSignalAt ? signal.observedAt : into.lastSignalAt,
          fresh: into.fresh + 1,
        };
      } else {
        list.push({
          // Known by the identity and the signal that opened it, whatever that signal's version.
          id: `INC-${sha256(`${identity.id.toLowerCase()}\u0000${signal.source}|${signal.id}`).slice(0, 16)}`,
          identity,
          placement: tierOf(identity, ctx),
          confidence: r.confidence,
          signals: [r],
          openedAt: signal.observedAt,
          lastSignalAt: signal.observedAt,
          fresh: 1,
        });
      }
      byIdentity.set(identity.id, list);
    }
  }
  // Incidents of earlier runs that no new signal joined are done with: they are not acted on again.
  const incidents = [...byIdentity.values()].flat().filter((i) => i.fresh > 0).sort((a, b) => a.openedAt.localeCompare(b.openedAt) || a.id.localeCompare(b.id));
  return { incidents, setAside };
}

export type Disposition = 'automatic' | 'approval' | 'never';

/** One action for one incident, and why: the matrix cell, the tier and the signals that caused it. */
export interface Decision {
  readonly incident: string;
  readonly identity: { readonly id: string; readonly upn: string };
  readonly action: ResponseAction;
  readonly disposition: Disposition;
  readonly tier: Placement;
  readonly confidence: Confidence;
  /** Where the matrix says so: `matrix.highValue.high.automatic`. */
  readonly rule: string;
  /** The signals (source and id) behind it. */
  readonly signals: readonly string[];
  /** Set when the circuit breaker held back an automatic action. */
  readonly heldBack?: string;
}

export interface ResponseDecisions {
  readonly decisions: Decision[];
  /** Incidents about a break-glass account: recorded and notified, never acted on. */
  readonly protected: Incident[];
  /** Why the circuit breaker tripped, if it did. */
  readonly circuitBreaker?: string;
}

/**
 * What the matrix says for each incident. An action listed in no list of its cell is not taken;
 * `never` decisions are kept so the plan shows what was refused. When the automatic actions would
 * touch more identities than the circuit breaker allows, none runs automatically: each waits for
 * approval, saying why.
 */
export function decide(incidents: readonly Incident[], ctx: ResponseContext): ResponseDecisions {
  const decisions: Decision[] = [];
  const protectedIncidents: Incident[] = [];
  for (const inc of incidents) {
    if (inc.placement === 'breakGlass') {
      protectedIncidents.push(inc);
      continue;
    }
    const cell = ctx.policy.matrix[inc.placement][inc.confidence];
    // A chain's message and invites are contained per mailbox they reached (decideChain), not per incident.
    for (const action of ACTIONS.filter((a) => !CHAIN_ACTIONS.includes(a))) {
      const disposition: Disposition | undefined = cell.never.includes(action) ? 'never' : cell.automatic.includes(action) ? 'automatic' : cell.approval.includes(action) ? 'approval' : undefined;
      if (!disposition) continue;
      decisions.push({
        incident: inc.id,
        identity: { id: inc.identity.id, upn: inc.identity.upn },
        action,
        disposition,
        tier: inc.placement,
        confidence: inc.confidence,
        rule: `matrix.${inc.placement}.${inc.confidence}.${disposition}`,
        signals: inc.signals.map((s) => `${s.signal.source}:${s.signal.id}`),
      });
    }
  }
  const now = new Set(decisions.filter((d) => d.disposition === 'automatic').map((d) => d.identity.id.toLowerCase()));
  const earlier = new Set((ctx.recentlyActedOn ?? []).map((id) => id.toLowerCase()));
  // The breaker counts a rolling window: the identities earlier runs acted on within it, and this run's.
  const touched = new Set([...earlier, ...now]);
  const { maxIdentities, maxShare } = ctx.policy.circuitBreaker;
  const windowHours = ctx.policy.circuitBreaker.windowHours ?? DEFAULT_BREAKER_WINDOW_HOURS;
  const share = ctx.userCount > 0 ? touched.size / ctx.userCount : 1;
  const adds = [...now].some((id) => !earlier.has(id));
  if (adds && (touched.size > maxIdentities || (touched.size > 1 && share > maxShare))) {
    const before = touched.size - [...now].filter((id) => !earlier.has(id)).length;
    const why = `automatic actions would touch ${touched.size} identities within ${windowHours} hours (${before} by earlier runs), more than the circuit breaker allows (${maxIdentities} identities, ${(maxShare * 100).toFixed(1)}% of ${ctx.userCount} users): none runs automatically, each waits for approval`;
    return {
      decisions: decisions.map((d) => (d.disposition === 'automatic' ? { ...d, disposition: 'approval', heldBack: why } : d)),
      protected: protectedIncidents,
      circuitBreaker: why,
    };
  }
  return { decisions, protected: protectedIncidents };
}

/** Every identity each address (UPN and mail, lower case) answers to. */
function byEveryAddress(identities: readonly Identity[]): Map<string, Identity[]> {
  const all = new Map<string, Identity[]>();
  for (const i of identities) for (const a of new Set([i.upn.toLowerCase(), ...(i.mail ? [i.mail.toLowerCase()] : [])])) all.set(a, [...(all.get(a) ?? []), i]);
  return all;
}

/** Identities by address (UPN and mail), lower case; an address more than one answers to maps to none. */
export const addressIndex = (identities: readonly Identity[]): Map<string, Identity> =>
  new Map([...byEveryAddress(identities).entries()].filter(([, is]) => is.length === 1).map(([a, is]) => [a, is[0]!]));

/** Addresses more than one identity answers to, each with those identities. */
const sharedAddresses = (identities: readonly Identity[]): Map<string, Identity[]> => new Map([...byEveryAddress(identities).entries()].filter(([, is]) => is.length > 1));

/** A phishing chain as its containment is decided: the message and invites as traced, how sure, and what started it. */
export interface ChainToDecide {
  readonly id: string;
  readonly confidence: Confidence;
  readonly startedBy: readonly string[];
  readonly message: ChainMessage;
  readonly invites: readonly ChainInvite[];
}

export interface ChainDecisions {
  readonly decisions: Decision[];
  /** What of the chain the resource types act on. */
  readonly target: ChainTarget;
  /** Mailboxes the chain reached that are never acted on, or that the directory does not hold. */
  readonly untouched: Array<{ address: string; reason: 'break-glass' | 'not-in-directory' | 'ambiguous-address' | 'no-cloud-mailbox' }>;
  readonly heldBack?: string;
}

/**
 * What the matrix says for a chain's containment, mailbox by mailbox: each mailbox the message or an
 * invite of the chain reached is placed in its tier, and the cell of that tier at the chain's
 * confidence decides `purgeMessage` (where it holds a copy) and `removeInvites` (where it holds an
 * invite copy). A break-glass mailbox is never touched; an address the directory does not know is
 * named, not guessed. When a chain would act automatically on more mailboxes than the circuit
 * breaker's number and share of users both (a signal naming a message half the company got), each
 * of those actions waits for approval.
 */
export function decideChain(chain: ChainToDecide, ctx: Pick<ResponseContext, 'policy' | 'breakGlass' | 'identities' | 'userCount'>): ChainDecisions {
  const byAddress = addressIndex(ctx.identities);
  const shared = sharedAddresses(ctx.identities);
  const byId = new Map(ctx.identities.map((i) => [i.id.toLowerCase(), i]));
  const purge = chain.message.copies.flatMap((c) => {
    const who = byAddress.get(c.recipient.toLowerCase());
    return who && tierOf(who, ctx) !== 'breakGlass' && !isContainedLocation(c.latestLocation) ? [{ ...c, mailboxId: who.id }] : [];
  });
  const removals = chain.invites.flatMap((inv) => inviteRemovals(inv).map((r) => ({ ...r, iCalUId: inv.iCalUId })));
  const has = new Map<string, { identity: Identity; actions: Set<ResponseAction> }>();
  const untouched = new Map<string, ChainDecisions['untouched'][number]['reason']>();
  const note = (identity: Identity | undefined, address: string, action: ResponseAction) => {
    // An address two identities answer to is neither's: never acted on, a break-glass account among them named as such.
    const both = shared.get(address.toLowerCase());
    if (both) return void untouched.set(address.toLowerCase(), both.some((i) => tierOf(i, ctx) === 'breakGlass') ? 'break-glass' : 'ambiguous-address');
    if (!identity) return void untouched.set(address.toLowerCase(), 'not-in-directory');
    const entry = has.get(identity.id.toLowerCase()) ?? { identity, actions: new Set<ResponseAction>() };
    entry.actions.add(action);
    has.set(identity.id.toLowerCase(), entry);
  };
  for (const c of chain.message.copies) note(byAddress.get(c.recipient.toLowerCase()), c.recipient, 'purgeMessage');
  for (const r of removals) note(byId.get(r.copy.mailbox.id.toLowerCase()), r.copy.mailbox.upn, 'removeInvites');
  const decisions: Decision[] = [];
  for (const { identity, actions } of [...has.values()].sort((a, b) => a.identity.upn.localeCompare(b.identity.upn))) {
    const tier = tierOf(identity, ctx);
    if (tier === 'breakGlass') {
      untouched.set(identity.upn.toLowerCase(), 'break-glass');
      continue;
    }
    const cell = ctx.policy.matrix[tier][chain.confidence];
    for (const action of CHAIN_ACTIONS.filter((a) => actions.has(a))) {
      const disposition: Disposition | undefined = cell.never.includes(action) ? 'never' : cell.automatic.includes(action) ? 'automatic' : cell.approval.includes(action) ? 'approval' : undefined;
      if (!disposition) continue;
      decisions.push({ incident: chain.id, identity: { id: identity.id, upn: identity.upn }, action, disposition, tier, confidence: chain.confidence, rule: `matrix.${tier}.${chain.confidence}.${disposition}`, signals: chain.startedBy });
    }
  }
  const target: ChainTarget = { networkMessageId: chain.message.networkMessageId, subject: chain.message.subject, purge, removals };
  const out = { target, untouched: [...untouched.entries()].map(([address, reason]) => ({ address, reason })).sort((a, b) => a.address.localeCompare(b.address)) };
  const automatic = new Set(decisions.filter((d) => d.disposition === 'automatic').map((d) => d.identity.id.toLowerCase()));
  const { maxIdentities, maxShare } = ctx.policy.circuitBreaker;
  const share = ctx.userCount > 0 ? automatic.size / ctx.userCount : 1;
  if (automatic.size > maxIdentities && share > maxShare) {
    const why = `the chain would act automatically on ${automatic.size} mailboxes, ${(share * 100).toFixed(1)}% of ${ctx.userCount} users, more than the circuit breaker allows (${maxIdentities} and ${(maxShare * 100).toFixed(1)}%): each of its actions waits for approval`;
    return { ...out, decisions: decisions.map((d) => (d.disposition === 'automatic' ? { ...d, disposition: 'approval', heldBack: why } : d)), heldBack: why };
  }
  return { ...out, decisions };
}

/**
 * The circuit breaker over every chain of the run together: when their automatic actions would
 * touch more mailboxes than both its number and its share of users (many messages, each under the
 * limit), none of them runs automatically.
 */
export function holdWideChains<C extends { decisions: Decision[]; heldBack?: string }>(chains: C[], ctx: { policy: { circuitBreaker: { maxIdentities: number; maxShare: number } }; userCount: number }): C[] {
  const mailboxes = new Set(chains.flatMap((c) => c.decisions.filter((d) => d.disposition === 'automatic').map((d) => d.identity.id.toLowerCase())));
  const { maxIdentities, maxShare } = ctx.policy.circuitBreaker;
  const share = ctx.userCount > 0 ? mailboxes.size / ctx.userCount : 1;
  if (chains.length < 2 || !(mailboxes.size > maxIdentities && share > maxShare)) return chains;
  const why = `${chains.length} chains would act automatically on ${mailboxes.size} mailboxes, ${(share * 100).toFixed(1)}% of ${ctx.userCount} users, more than the circuit breaker allows (${maxIdentities} and ${(maxShare * 100).toFixed(1)}%): each of their actions waits for approval`;
  return chains.map((c) => ({ ...c, heldBack: c.heldBack ?? why, decisions: c.decisions.map((d) => (d.disposition === 'automatic' ? { ...d, disposition: 'approval' as const, heldBack: why } : d)) }));
}
