import { sha256 } from '../core/hash.js';
import type { Confidence, ResponseAction, ResponsePolicy, Tier } from '../manifest/response.js';
import { ACTIONS } from '../manifest/response.js';
import { confidenceOf, higher, type Signal, type SubjectRef } from './signals.js';

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
  readonly reason: 'not-authoritative' | 'unknown-identity' | 'no-time';
}

/** Looks identities up by object id or UPN, case-insensitively. */
function identityIndex(ids: readonly Identity[]): (ref: SubjectRef) => Identity | undefined {
  const byId = new Map(ids.map((i) => [i.id.toLowerCase(), i]));
  const byUpn = new Map(ids.map((i) => [i.upn.toLowerCase(), i]));
  return (ref) => (ref.id !== undefined ? byId.get(ref.id.toLowerCase()) : undefined) ?? (ref.upn !== undefined ? byUpn.get(ref.upn.toLowerCase()) : undefined);
}

/**
 * Correlates signals into incidents: per identity, a signal within `windowHours` of the incident's
 * last signal joins it; one later than that opens a new one. A signal seen twice (same source and
 * id) counts once, and one an earlier run already saw (`alreadySeen`: `source|id`) not at all.
 * Incidents still open from an earlier run are continued, not duplicated.
 */
export function correlate(signals: readonly Signal[], ctx: ResponseContext, open: readonly Incident[] = [], alreadySeen: ReadonlySet<string> = new Set()): { incidents: Incident[]; setAside: SetAside[] } {
  const setAside: SetAside[] = [];
  const findIdentity = identityIndex(ctx.identities);
  const windowMs = ctx.policy.windowHours * 3_600_000;
  const byIdentity = new Map<string, Incident[]>();
  // A continued incident is placed again from the posture and directory as they are now: an account
  // made break-glass (or given a role) since it opened is treated as what it is now.
  for (const inc of open) {
    const now = findIdentity({ id: inc.identity.id }) ?? inc.identity;
    byIdentity.set(inc.identity.id, [...(byIdentity.get(inc.identity.id) ?? []), { ...inc, identity: now, placement: tierOf(now, ctx) }]);
  }
  const seen = new Set<string>([...alreadySeen, ...open.flatMap((i) => i.signals.map((s) => `${s.signal.source}|${s.signal.id}`))]);
  const sorted = [...signals].sort((a, b) => a.observedAt.localeCompare(b.observedAt) || `${a.source}|${a.id}`.localeCompare(`${b.source}|${b.id}`));
  for (const signal of sorted) {
    const key = `${signal.source}|${signal.id}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const at = Date.parse(signal.observedAt);
    if (Number.isNaN(at)) {
      setAside.push({ signal, reason: 'no-time' });
      continue;
    }
    const identities = [...new Map(signal.subjects.map((r) => findIdentity(r)).filter((i): i is Identity => !!i).map((i) => [i.id, i])).values()];
    const rated = confidenceOf(ctx.policy.signals, signal);
    // Any signal about a break-glass account reaches the incident owner, authoritative or not; it is never acted on.
    const guarded = identities.filter((i) => tierOf(i, ctx) === 'breakGlass');
    if (!rated && guarded.length === 0) {
      setAside.push({ signal, reason: 'not-authoritative' });
      continue;
    }
    if (identities.length === 0) {
      setAside.push({ signal, reason: 'unknown-identity' });
      continue;
    }
    for (const identity of rated ? identities : guarded) {
      const list = byIdentity.get(identity.id) ?? [];
      const r: RatedSignal = rated ? { signal, confidence: rated.confidence, rule: rated.rule } : { signal, confidence: 'low', rule: -1 };
      const last = list[list.length - 1];
      // A finding is a state seen now (the rule is there), not an event at a time: it belongs to the
      // identity's latest incident whatever its age, which it reopens; it opens one only when there is none.
      if (last && (signal.source === 'finding' || at - Date.parse(last.lastSignalAt) <= windowMs)) {
        const lastSignalAt = signal.source !== 'finding' && signal.observedAt > last.lastSignalAt ? signal.observedAt : last.lastSignalAt;
        list[list.length - 1] = { ...last, confidence: higher(last.confidence, r.confidence), signals: [...last.signals, r], lastSignalAt, fresh: last.fresh + 1 };
      } else {
        list.push({
          id: `INC-${sha256(`${identity.id.toLowerCase()}\u0000${key}`).slice(0, 16)}`,
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
    for (const action of ACTIONS) {
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
  const automatic = new Set(decisions.filter((d) => d.disposition === 'automatic').map((d) => d.identity.id));
  const { maxIdentities, maxShare } = ctx.policy.circuitBreaker;
  const share = ctx.userCount > 0 ? automatic.size / ctx.userCount : 1;
  if (automatic.size > maxIdentities || (automatic.size > 1 && share > maxShare)) {
    const why = `automatic actions would touch ${automatic.size} identities, more than the circuit breaker allows (${maxIdentities} identities, ${(maxShare * 100).toFixed(1)}% of ${ctx.userCount} users): none runs automatically, each waits for approval`;
    return {
      decisions: decisions.map((d) => (d.disposition === 'automatic' ? { ...d, disposition: 'approval', heldBack: why } : d)),
      protected: protectedIncidents,
      circuitBreaker: why,
    };
  }
  return { decisions, protected: protectedIncidents };
}
