import { withoutAnnotations } from '../core/annotations.js';
import { sha256 } from '../core/hash.js';
import type { Connection } from '../input/connection.js';
import type { ResponseAction } from '../manifest/response.js';
import type { Manifest } from '../manifest/schema.js';
import { fingerprintOf, type PlannedChange } from '../model/change.js';
import type { IncidentAction, IncidentView } from '../model/incident.js';
import { ACTIONABLE, type IncompleteRead } from '../model/finding.js';
import { runPlan } from '../plan/run.js';
import { desiredHashOf } from '../plan/build.js';
import { respondersFor } from '../resources/registry.js';
import type { ResponseTarget } from '../resources/types.js';
import { TOOL_VERSION } from '../version.js';
import type { ChainTarget, ChainView } from '../model/chain.js';
import { correlate, decide, decideChain, holdWideChains, type Decision, type Disposition, type Identity, type Incident, type Placement } from './decide.js';
import { readResponseInputs } from './read.js';
import { stillOpen } from './chain.js';
import { traceChain, type TracedChain } from './trace.js';
import { AuditLogReadError, readAuditLog, type AuditLogRecord } from '../read/audit-log.js';
import { fromFinding, higher, type Signal, type SignalFile } from './signals.js';
import { responsePlanHashOf } from './hash.js';

type Obj = Record<string, unknown>;

/** One action of an incident in the response plan: what the matrix said, and the writes it takes. */
export type PlannedAction = IncidentAction<ResponseAction, Disposition>;

/** An incident in the response plan. */
export type PlannedIncident = IncidentView<Placement, ResponseAction, Disposition>;

/** A phishing chain in the response plan. */
export type PlannedChain = ChainView<Disposition>;

/** A chain to trace: its message, how sure the signals behind it are, and which they are. */
export interface ChainStart {
  readonly networkMessageId: string;
  readonly confidence: 'high' | 'medium' | 'low';
  readonly startedBy: readonly string[];
  /** Internal accounts the signals behind it are about (the user who clicked): the audit log is read for them. */
  readonly subjects?: readonly string[];
  /** The accounts an earlier run found in it (an invite since removed no longer names its organizer). */
  readonly accounts?: ChainView['accounts'];
}

/** What the audit log is searched for, for each internal account of a chain since delivery: sign-ins, rules, forwarding, delegates, consents, devices, security info. */
export const CHAIN_AUDIT_OPERATIONS = [
  'UserLoggedIn', 'New-InboxRule', 'Set-InboxRule', 'UpdateInboxRules', 'Set-Mailbox', 'Add-MailboxPermission', 'Add-RecipientPermission',
  'Add-MailboxFolderPermission', 'Consent to application.', 'Add delegated permission grant.', 'Add registered owner to device.', 'Add device.', 'User registered security info.',
] as const;
/** How the audit log query is awaited: it usually finishes in seconds to minutes; one not done is read by the next run. */
const AUDIT_POLLING = { intervalMs: 2_000, maxWaitMs: 120_000 };

/** The result of one respond run's planning: what `--out` writes and the trail's `response` record summarises. */
export interface ResponsePlan {
  readonly format: 'email-posture-response';
  readonly formatVersion: 1;
  readonly createdAt: string;
  readonly tool: { readonly name: 'email-posture'; readonly version: string };
  readonly stack: string;
  readonly organization: string;
  readonly tenantId: string;
  readonly desiredHash: string;
  /** Who owns the incidents (the policy's owner), as `name (contact)`. */
  readonly owner: string;
  /** The signals read: observed from `since` on; `until` is the newest of them, where the next run's read begins (less one window, for alerts that arrive late). */
  readonly window: { readonly since: string; readonly until: string };
  readonly incidents: readonly PlannedIncident[];
  /** Incidents about a break-glass account: never acted on, for the incident owner to look at. */
  readonly protected: readonly PlannedIncident[];
  /** Phishing chains: a message, the invites that followed it and their containment (absent in plans of earlier versions). */
  readonly chains?: readonly PlannedChain[];
  readonly setAside: ReadonlyArray<{ readonly source: string; readonly id: string; readonly version?: string; readonly reason: string }>;
  readonly circuitBreaker?: string;
  /** Watches that ended: users a run put on the watchlist `watchlist.days` ago, taken off it. */
  readonly watchesEnded: ReadonlyArray<{ readonly upn: string; readonly since: string; readonly writes: number }>;
  /** The writes of the automatic actions (and of the watches that ended), in order. */
  readonly changes: readonly PlannedChange[];
  /** The writes that wait for a person's approval. */
  readonly approvals: readonly PlannedChange[];
  /** Non-empty: a read failed, and nothing is acted on. */
  readonly incomplete: readonly IncompleteRead[];
  readonly planHash: string;
}

/** Decisions whose writes are read from the tenant at once (the transports pace and retry each class of request). */
const RESPONSE_READS_IN_FLIGHT = 24;

const decisionId = (d: Decision) => `RSP-${sha256(`${d.incident}\u0000${d.action}`).slice(0, 16)}`;

const incidentView = (inc: Incident, actions: PlannedAction[]): PlannedIncident => ({
  id: inc.id,
  identity: { id: inc.identity.id, upn: inc.identity.upn, ...(inc.identity.displayName ? { displayName: inc.identity.displayName } : {}) },
  tier: inc.placement,
  confidence: inc.confidence,
  openedAt: inc.openedAt,
  lastSignalAt: inc.lastSignalAt,
  signals: inc.signals.map((s) => ({ source: s.signal.source, id: s.signal.id, ...(s.signal.version !== undefined ? { version: s.signal.version } : {}), title: s.signal.title, observedAt: s.signal.observedAt, confidence: s.confidence, rule: s.rule })),
  actions,
});

/** The hash of a response plan: SHA-256 of its canonical JSON without `planHash`. */
export const responsePlanHash = (p: Omit<ResponsePlan, 'planHash'> & { planHash?: string }): string => responsePlanHashOf(p);

export interface PlanResponseOptions {
  readonly manifest: Manifest;
  readonly conn: Pick<Connection, 'graph' | 'exchange' | 'tenant' | 'resolver'>;
  /** Read signals observed from this time on (the cursor, or now − lookback). */
  readonly since: string;
  readonly now: Date;
  readonly files?: readonly SignalFile[];
  /** Incidents of earlier runs still open: their signals do not count twice, new ones join them. */
  readonly open?: (identities: readonly Identity[]) => Incident[];
  /** Signals earlier runs set aside for good (`signalKey`): not reported again. */
  readonly seen?: ReadonlySet<string>;
  /** Identities earlier runs acted on automatically within the circuit breaker's window. */
  readonly recentlyActedOn?: readonly string[];
  /** The last run's cursor: the cursor never moves back, whatever this run reads. */
  readonly cursor?: string;
  /** Users whose watch (added by an earlier run) has lasted the policy's watchlist.days: taken off the watchlist. */
  readonly watchesEnded?: ReadonlyArray<{ readonly id: string; readonly upn: string; readonly since: string }>;
  /** Chains to trace besides those this run's signals start: earlier runs' chains not yet contained, and messages named on the command line. */
  readonly chains?: readonly ChainStart[];
  /** Sweep every calendar of the tenant for each chain's invites, not only its recipients' (paced; one request per mailbox). */
  readonly sweepCalendars?: boolean;
}

/**
 * One respond run up to its plan: read signals and the directory, correlate, place each identity in
 * its tier, decide by the matrix, and turn each decision into the exact writes its action takes now
 * (read from the tenant, so an action already done takes none). Writes nothing.
 */
export async function planResponse(o: PlanResponseOptions): Promise<ResponsePlan> {
  const policy = o.manifest.desired.response;
  if (!policy) throw new Error('the posture declares no response policy (IncidentResponse)');
  const until = o.now.toISOString();
  const read = await readResponseInputs(policy, o.manifest.breakGlass.groups, o.conn, o.since, o.files ?? []);
  const own = await findingSignals(o.manifest, o.conn, o.now);
  const inputs = { ...read, signals: [...read.signals, ...own.signals], incomplete: [...read.incomplete, ...own.incomplete] };
  const base = {
    format: 'email-posture-response' as const,
    formatVersion: 1 as const,
    createdAt: until,
    tool: { name: 'email-posture' as const, version: TOOL_VERSION },
    stack: o.manifest.stack,
    organization: o.manifest.organization.name,
    tenantId: o.conn.tenant,
    desiredHash: desiredHashOf(o.manifest),
    owner: `${policy.owner.name} (${policy.owner.contact})`,
    window: { since: o.since, until },
  };
  if (inputs.incomplete.length) {
    const doc = { ...base, incidents: [], protected: [], chains: [], setAside: [], watchesEnded: [], changes: [], approvals: [], incomplete: inputs.incomplete };
    return { ...doc, planHash: responsePlanHash(doc) };
  }
  const ctx = { policy, breakGlass: o.manifest.breakGlass, identities: inputs.identities, userCount: inputs.userCount, recentlyActedOn: o.recentlyActedOn ?? [] };
  const { incidents, setAside } = correlate(inputs.signals, ctx, o.open?.(inputs.identities) ?? [], o.seen, { since: o.since, until });
  // The cursor: the newest signal read from the services (their clock, not this machine's), or where this read began.
  // It never moves back (a quiet run keeps it), and never past this run's own time (a signal dated in the future cannot stall it).
  const newest = Math.min(
    read.signals.filter((x) => x.source !== 'external').map((x) => Date.parse(x.observedAt)).filter((t) => !Number.isNaN(t)).reduce((a, b) => Math.max(a, b), Math.max(Date.parse(o.since), o.cursor ? Date.parse(o.cursor) : 0)),
    o.now.getTime(),
  );
  const decided = decide(incidents, ctx);
  const traced = await traceChains(chainStarts([...incidents], o.chains ?? []), inputs.identities, o);
  if (traced.incomplete.length) {
    const doc = { ...base, incidents: [], protected: [], chains: [], setAside: [], watchesEnded: [], changes: [], approvals: [], incomplete: traced.incomplete };
    return { ...doc, planHash: responsePlanHash(doc) };
  }
  const targets = await responseTargets(o.manifest, o.conn);
  const changes: PlannedChange[] = [];
  const approvals: PlannedChange[] = [];
  const actionsOf = new Map<string, PlannedAction[]>();
  // One action on one identity once per run, whichever of its incidents decided it first.
  const taken = new Set<string>();
  const byId = new Map(incidents.map((i) => [i.id, i]));
  const jobs: Array<{ d: Decision; id: string; since: string; acts: boolean; chain?: ChainTarget }> = decided.decisions.map((d) => {
    const inc = byId.get(d.incident)!;
    const once = `${d.identity.id.toLowerCase()}|${d.action}|${d.disposition}`;
    const acts = d.disposition !== 'never' && !taken.has(once);
    if (acts) taken.add(once);
    return { d, id: decisionId(d), since: inc.openedAt, acts };
  });
  const chainDecided = holdWideChains(traced.chains.map((c) => ({ ...c, ...decideChain(c, ctx) })), ctx);
  for (const c of chainDecided) for (const d of c.decisions) jobs.push({ d, id: chainDecisionId(d), since: c.message.receivedAt, acts: d.disposition !== 'never', chain: c.target });
  // The writes of each decision, read from the tenant a few at a time; kept in decision order.
  const found: PlannedChange[][] = new Array(jobs.length);
  let next = 0;
  const worker = async () => {
    while (next < jobs.length) {
      const i = next++;
      const j = jobs[i]!;
      found[i] = j.acts ? await decisionWrites({ id: j.id, action: j.d.action, user: j.d.identity, since: j.since, ...(j.chain ? { chain: j.chain } : {}) }, targets, o.conn) : [];
    }
  };
  await Promise.all(Array.from({ length: Math.min(RESPONSE_READS_IN_FLIGHT, jobs.length) }, worker));
  const chainActions = new Map<string, Array<PlannedChain['actions'][number]>>();
  for (const [i, { d, id, chain }] of jobs.entries()) {
    const writes = found[i]!;
    (d.disposition === 'automatic' ? changes : approvals).push(...writes);
    const owner = policy.actionOwners[d.action] ?? policy.owner;
    const action = { action: d.action, disposition: d.disposition, rule: d.rule, ...(d.heldBack ? { heldBack: d.heldBack } : {}), decisionId: id, writes: writes.length, owner: `${owner.name} (${owner.contact})` };
    if (chain) chainActions.set(d.incident, [...(chainActions.get(d.incident) ?? []), { id: d.identity.id, upn: d.identity.upn, tier: d.tier, ...action }]);
    else actionsOf.set(d.incident, [...(actionsOf.get(d.incident) ?? []), action]);
  }
  const chains: PlannedChain[] = chainDecided.map((c) => chainView(c, chainActions.get(c.id) ?? [], traced.steps.get(c.id) ?? []));
  for (const n of traced.notFound) chains.push(n);
  // The end of a watch is the policy's own decision (watchlist.days), not a signal's: it runs whatever the circuit breaker says.
  const watchesEnded: Array<{ upn: string; since: string; writes: number }> = [];
  for (const w of o.watchesEnded ?? []) {
    const writes = await decisionWrites({ id: `RSP-${sha256(`unwatch\u0000${w.id.toLowerCase()}\u0000${w.since}`).slice(0, 16)}`, action: 'unwatch', user: { id: w.id, upn: w.upn }, since: w.since }, targets, o.conn);
    changes.push(...writes);
    watchesEnded.push({ upn: w.upn, since: w.since, writes: writes.length });
  }
  const doc = {
    ...base,
    window: { since: o.since, until: new Date(newest).toISOString() },
    watchesEnded,
    incidents: incidents.filter((i) => i.placement !== 'breakGlass').map((i) => incidentView(i, actionsOf.get(i.id) ?? [])),
    protected: decided.protected.map((i) => incidentView(i, [])),
    chains,
    setAside: setAside.map((s) => ({ source: s.signal.source, id: s.signal.id, ...(s.signal.version !== undefined ? { version: s.signal.version } : {}), reason: s.reason })),
    ...(decided.circuitBreaker ? { circuitBreaker: decided.circuitBreaker } : {}),
    changes,
    approvals,
    incomplete: [],
  };
  return { ...doc, planHash: responsePlanHash(doc) };
}

/**
 * The posture's own findings as signals, for the controls the policy's finding rules name: the
 * posture is read for those controls only, and each actionable finding about a user (a rule
 * forwarding outside, a consent to a mail scope) is a signal about that user. A finding is known by
 * its id, which names the very rule or grant: one made again after containment is a new signal.
 */
async function findingSignals(manifest: Manifest, conn: Pick<Connection, 'graph' | 'exchange' | 'tenant' | 'resolver'>, now: Date): Promise<{ signals: Signal[]; incomplete: IncompleteRead[] }> {
  const named = new Set((manifest.desired.response?.signals ?? []).flatMap((r) => (r.source === 'finding' ? r.controls : [])));
  const controls = manifest.controls.filter((c) => named.has(c.id.replace(/v\d+$/, '')));
  if (controls.length === 0) return { signals: [], incomplete: [] };
  const run = await runPlan({ kind: 'drift', manifest: { ...manifest, controls }, tenantId: conn.tenant, today: now.toISOString().slice(0, 10), read: { graph: conn.graph, exchange: conn.exchange, resolver: conn.resolver } });
  const signals = run.findings.filter((f) => ACTIONABLE.includes(f.status) && f.subject).map((f) => fromFinding(f, f.subject!));
  return { signals, incomplete: run.incomplete };
}

/** What every response action's target shares: the watchlist group (its id and members) and the risky scopes. */
export interface TargetContext {
  readonly watchlistGroupId?: string;
  readonly watchlistMembers?: ReadonlyMap<string, Obj>;
  readonly riskyScopes: readonly string[];
}

/** Reads what the targets of a response need from the tenant: the watchlist group's id and its members, once per run. */
export async function responseTargets(manifest: Manifest, conn: Pick<Connection, 'graph'>): Promise<TargetContext> {
  const policy = manifest.desired.response;
  const riskyScopes = manifest.desired.consent?.highRiskScopes ?? ['Mail.Read', 'Mail.ReadWrite', 'Mail.Send', 'MailboxSettings.ReadWrite', 'EWS.AccessAsUser.All', 'IMAP.AccessAsUser.All', 'POP.AccessAsUser.All', 'SMTP.Send'];
  if (!policy?.watchlist) return { riskyScopes };
  const watchlistGroupId = await groupId(conn, policy.watchlist.group);
  const members = await conn.graph.list<Obj>(`/groups/${encodeURIComponent(watchlistGroupId)}/members?$select=id,userPrincipalName`);
  const watchlistMembers = new Map(members.map((m) => [String(m['id']).toLowerCase(), withoutAnnotations(m) as Obj]));
  return { riskyScopes, watchlistGroupId, watchlistMembers };
}

/**
 * The exact writes one decision's action takes now, read from the tenant through the types that
 * serve the action (none: it is done, or there is nothing to act on). The same function plans a
 * response and checks an approved one again before it is applied.
 */
export async function decisionWrites(
  d: { readonly id: string; readonly action: string; readonly user: { readonly id: string; readonly upn: string }; readonly since: string; readonly chain?: ChainTarget },
  targets: TargetContext,
  conn: Pick<Connection, 'graph' | 'exchange'>,
): Promise<PlannedChange[]> {
  const target: ResponseTarget = { user: d.user, since: d.since, ...targets, ...(d.chain ? { chain: d.chain } : {}) };
  const out: PlannedChange[] = [];
  const readAt = new Date().toISOString();
  for (const type of respondersFor(d.action)) {
    for (const w of await type.respondWrites(d.action, target, conn as Connection)) {
      out.push({ findingId: d.id, control: `respond.${d.action}`, resource: w.resource, action: w.action, fingerprint: fingerprintOf(w.before), readAt, write: w.write, before: w.before });
    }
  }
  return out;
}

/** The id of the group with this display name; an error when there is none or several. */
async function groupId(conn: Pick<Connection, 'graph'>, name: string): Promise<string> {
  const found = await conn.graph.list<Obj>(`/groups?$filter=${encodeURIComponent(`displayName eq '${name.replace(/'/g, "''")}'`)}&$select=id,displayName`);
  if (found.length !== 1) throw new Error(`the watchlist group "${name}" ${found.length === 0 ? 'does not exist' : `is the name of ${found.length} groups`} in the tenant`);
  return String(found[0]!['id']);
}

/** A chain is known by its message: the same message is one chain across signals and runs. */
export const chainIdOf = (networkMessageId: string) => `CHN-${sha256(networkMessageId.toLowerCase()).slice(0, 16)}`;
const chainDecisionId = (d: Decision) => `RSP-${sha256(`${d.incident}\u0000${d.action}\u0000${d.identity.id.toLowerCase()}`).slice(0, 16)}`;

/** The chains this run traces: one per message its incidents' signals name (at the highest confidence among them), and the starts given. */
function chainStarts(incidents: readonly Incident[], given: readonly ChainStart[]): ChainStart[] {
  const by = new Map<string, { confidence: ChainStart['confidence']; startedBy: Set<string>; subjects: Set<string> }>();
  const add = (id: string, confidence: ChainStart['confidence'], from: readonly string[], subjects: readonly string[]) => {
    const key = id.toLowerCase();
    const e = by.get(key) ?? { confidence, startedBy: new Set<string>(), subjects: new Set<string>() };
    e.confidence = higher(e.confidence, confidence);
    for (const f of from) e.startedBy.add(f);
    for (const u of subjects) e.subjects.add(u.toLowerCase());
    by.set(key, e);
  };
  for (const inc of incidents) for (const s of inc.signals) for (const m of s.signal.messages ?? []) if (s.rule >= 0) add(m, s.confidence, [`${s.signal.source}:${s.signal.id}`], inc.placement === 'breakGlass' ? [] : [inc.identity.upn]);
  const known = new Map<string, ChainView['accounts']>();
  for (const g of given) {
    add(g.networkMessageId, g.confidence, g.startedBy, g.subjects ?? []);
    if (g.accounts) known.set(g.networkMessageId.toLowerCase(), g.accounts);
  }
  return [...by.entries()]
    .map(([networkMessageId, e]) => ({ networkMessageId, confidence: e.confidence, startedBy: [...e.startedBy].sort(), subjects: [...e.subjects].sort(), ...(known.has(networkMessageId) ? { accounts: known.get(networkMessageId)! } : {}) }))
    .sort((a, b) => a.networkMessageId.localeCompare(b.networkMessageId));
}

type TracedForDecision = Parameters<typeof decideChain>[0] & {
  readonly leftAlone: ReadonlyArray<{ iCalUId: string; subject: string; organizer: string; reason: string }>;
  readonly accounts: PlannedChain['accounts'];
  readonly pendingEvidence: string[];
  readonly noCloudMailbox: readonly string[];
  readonly swept: boolean;
};

/** Traces each chain (the organisation's verified domains read once); a trace that could not read everything makes the run incomplete. */
async function traceChains(starts: readonly ChainStart[], identities: readonly Identity[], o: PlanResponseOptions): Promise<{ chains: TracedForDecision[]; steps: Map<string, PlannedChain['trace']>; notFound: PlannedChain[]; incomplete: IncompleteRead[] }> {
  const out = { chains: [] as TracedForDecision[], steps: new Map<string, PlannedChain['trace']>(), notFound: [] as PlannedChain[], incomplete: [] as IncompleteRead[] };
  if (starts.length === 0) return out;
  const domains = await organisationDomains(o.manifest, o.conn);
  if (typeof domains === 'string') {
    out.incomplete.push({ what: "the organisation's domains (which senders of a chain are internal)", endpoint: '/domains', error: domains });
    return out;
  }
  const windowHours = o.manifest.desired.response!.windowHours;
  for (const s of starts) {
    const id = chainIdOf(s.networkMessageId);
    const r = await traceChain(o.conn, s.networkMessageId, { domains, windowHours, identities, now: o.now, ...(o.sweepCalendars ? { sweep: true } : {}) });
    out.incomplete.push(...r.incomplete);
    out.steps.set(id, r.steps);
    if (r.notFound !== undefined) {
      out.notFound.push({ id, networkMessageId: s.networkMessageId, confidence: s.confidence, startedBy: s.startedBy, notTraced: r.notFound, invites: [], leftAlone: [], accounts: [], trace: r.steps, actions: [], untouched: [], open: { messages: [], invites: [] } });
    } else if (r.chain) {
      const accounts = chainAccounts(r.chain.invites, s.accounts ?? [], s.subjects ?? []);
      const pendingEvidence: string[] = r.chain.leftAlone.filter((l) => l.reason === 'mixed-copies').map((l) => `meeting "${l.subject}" by ${l.organizer} (${l.iCalUId}): its copies disagree on carrying the message's links; a person must look`);
      if (accounts.length) {
        const filter = { start: r.chain.message.receivedAt, end: o.now.toISOString(), userPrincipalNames: accounts.map((a) => a.upn), operations: CHAIN_AUDIT_OPERATIONS, displayName: `email-posture ${id}` };
        try {
          const { queryId, records } = await readAuditLog(o.conn, filter, AUDIT_POLLING);
          r.steps.push(...auditSteps(queryId, records, accounts));
        } catch (err) {
          const why = err instanceof AuditLogReadError ? err.message : `the audit log could not be searched: ${(err as Error).message}`;
          r.steps.push({ source: 'auditLog', from: '/security/auditLog/queries', found: `not read: ${why}` });
          pendingEvidence.push(`the audit log of ${accounts.map((a) => a.upn).join(', ')} since ${r.chain.message.receivedAt}`);
        }
      }
      out.chains.push({ id, confidence: s.confidence, startedBy: s.startedBy, message: r.chain.message, invites: r.chain.invites, leftAlone: r.chain.leftAlone, accounts, pendingEvidence, noCloudMailbox: r.noCloudMailbox ?? [], swept: o.sweepCalendars === true });
    }
  }
  return out;
}

/** The organisation's verified domains and the posture's primary one, lower case; or why they could not be read. */
async function organisationDomains(manifest: Manifest, conn: Pick<Connection, 'graph'>): Promise<string[] | string> {
  try {
    const listed = await conn.graph.list<Obj>('/domains?$select=id,isVerified');
    return [...new Set([manifest.organization.primaryDomain, ...listed.filter((d) => d['isVerified'] === true).map((d) => String(d['id']))].map((d) => d.toLowerCase()))];
  } catch (err) {
    return (err as Error).message;
  }
}

/**
 * A chain traced again now, as its containment would act on it (for an approval, which trusts the
 * saved plan for nothing): its target, or why it cannot be had.
 */
export async function chainTargetNow(manifest: Manifest, conn: Pick<Connection, 'graph'>, chain: { readonly id: string; readonly networkMessageId: string; readonly confidence: ChainStart['confidence']; readonly startedBy: readonly string[]; readonly swept?: boolean }, identities: readonly Identity[], userCount: number, now: Date): Promise<ChainTarget | string> {
  const policy = manifest.desired.response;
  if (!policy) return 'the posture declares no response policy';
  const domains = await organisationDomains(manifest, conn);
  if (typeof domains === 'string') return `the organisation's domains could not be read: ${domains}`;
  const r = await traceChain(conn, chain.networkMessageId, { domains, windowHours: policy.windowHours, identities, now, ...(chain.swept ? { sweep: true } : {}) });
  if (r.incomplete.length) return `the chain could not be traced again: ${r.incomplete.map((i) => `${i.what}: ${i.error}`).join('; ')}`;
  if (!r.chain) return r.notFound ?? 'the chain could not be traced again';
  return decideChain({ id: chain.id, confidence: chain.confidence, startedBy: chain.startedBy, message: r.chain.message, invites: r.chain.invites }, { policy, breakGlass: manifest.breakGlass, identities, userCount }).target;
}

/** A traced chain as the plan shows it. */
function chainView(c: TracedForDecision & { untouched: PlannedChain['untouched'] }, actions: PlannedChain['actions'], trace: PlannedChain['trace']): PlannedChain {
  const m = c.message;
  return {
    id: c.id,
    networkMessageId: m.networkMessageId,
    confidence: c.confidence,
    startedBy: c.startedBy,
    message: {
      subject: m.subject,
      sender: m.sender.address,
      ...(m.sender.ip ? { senderIp: m.sender.ip } : {}),
      ...(m.sender.returnPath ? { returnPath: m.sender.returnPath } : {}),
      directionality: m.directionality,
      authentication: m.authentication,
      receivedAt: m.receivedAt,
      links: m.links,
      recipients: m.copies.length,
    },
    invites: c.invites.map((i) => ({ iCalUId: i.iCalUId, subject: i.subject, organizer: i.organizer, organizerKind: i.organizerKind, matchedBy: i.matchedBy, copies: i.copies.length })),
    leftAlone: c.leftAlone.map((l) => ({ iCalUId: l.iCalUId, subject: l.subject, organizer: l.organizer, reason: l.reason })),
    accounts: c.accounts,
    trace,
    actions,
    untouched: [...c.untouched, ...c.noCloudMailbox.map((address) => ({ address, reason: 'no-cloud-mailbox' as const }))].sort((a, b) => a.address.localeCompare(b.address)),
    ...(c.swept ? { swept: true } : {}),
    open: { ...stillOpen(m, c.invites), ...(c.pendingEvidence.length ? { evidence: c.pendingEvidence } : {}) },
  };
}

/** The internal accounts of a chain: each that organised one of its invites, and each its signals are about. */
function chainAccounts(invites: TracedChain['invites'], known: PlannedChain['accounts'], subjects: readonly string[]): PlannedChain['accounts'] {
  const out = new Map<string, PlannedChain['accounts'][number]>();
  for (const i of invites) if (i.organizerKind !== 'outside') out.set(i.organizer.toLowerCase(), { upn: i.organizer.toLowerCase(), role: i.organizerKind });
  for (const a of known) if (!out.has(a.upn.toLowerCase())) out.set(a.upn.toLowerCase(), { upn: a.upn.toLowerCase(), role: a.role });
  for (const u of subjects) if (!out.has(u)) out.set(u, { upn: u, role: 'signal-subject' });
  return [...out.values()].sort((a, b) => a.upn.localeCompare(b.upn));
}

/** What the audit log says of each account since delivery: its operations, counted, and the addresses it signed in from. */
function auditSteps(queryId: string, records: readonly AuditLogRecord[], accounts: PlannedChain['accounts']): PlannedChain['trace'] {
  return accounts.map((a) => {
    const mine = records.filter((r) => String(r.userPrincipalName ?? '').toLowerCase() === a.upn);
    const ops = new Map<string, number>();
    for (const r of mine) ops.set(String(r.operation ?? 'unknown'), (ops.get(String(r.operation ?? 'unknown')) ?? 0) + 1);
    const ips = [...new Set(mine.filter((r) => r.operation === 'UserLoggedIn' && r.clientIp).map((r) => String(r.clientIp)))].sort();
    const found = mine.length === 0 ? `${a.upn}: no sign-in, rule, forwarding, delegate, consent or device change since delivery` : `${a.upn}: ${[...ops.entries()].sort().map(([op, n]) => `${op} ×${n}`).join(', ')}${ips.length ? `; signed in from ${ips.join(', ')}` : ''}`;
    return { source: 'auditLog' as const, from: `/security/auditLog/queries/${queryId}/records`, found };
  });
}
