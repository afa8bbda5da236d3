import { z } from 'zod';
import type { Confidence, SignalRule } from '../manifest/response.js';
import { CONFIDENCES } from '../manifest/response.js';

type Obj = Record<string, unknown>;

/** Where a signal came from. */
export type SignalSource = SignalRule['source'];

/** Who a signal is about: an Entra object id, a UPN or mail address, or both. */
export interface SubjectRef {
  readonly id?: string;
  readonly upn?: string;
}

/**
 * One signal, whatever its source, in the form the response decisions read. Pure data, built from
 * what a service or a file returned; nothing in it is trusted beyond its shape.
 */
export interface Signal {
  readonly source: SignalSource;
  /** Unique within its source: the alert id, the detection id, the finding id, the file's id. */
  readonly id: string;
  /**
   * What of it the rules rate, where a service can change it (an alert's severity, a detection's risk
   * level): a signal set aside, or rated, at one version is judged again at another.
   */
  readonly version?: string;
  /** Set when the service says it is over (an alert resolved, a risk dismissed): it leads to no action. */
  readonly resolved?: boolean;
  /** When it was observed (ISO 8601, UTC). */
  readonly observedAt: string;
  /** Who it is about. A signal about several users joins each one's incident. */
  readonly subjects: readonly SubjectRef[];
  /** Who it names besides, as bystanders (an alert's contextual evidence): never acted on, but a break-glass account among them reaches the incident owner. */
  readonly mentions?: readonly SubjectRef[];
  /** Messages it is about (network message ids): each starts a phishing chain, traced and contained as one. */
  readonly messages?: readonly string[];
  /** One line saying what it is. */
  readonly title: string;
  /** What the rules match on, lower case. */
  readonly match: {
    readonly serviceSource?: string;
    readonly category?: string;
    readonly severity?: string;
    readonly evidenceTypes?: readonly string[];
    readonly riskEventType?: string;
    readonly riskLevel?: string;
    readonly control?: string;
    readonly sourceName?: string;
    readonly type?: string;
    readonly reportedConfidence?: Confidence;
  };
}

const str = (v: unknown): string | undefined => (typeof v === 'string' && v.trim() !== '' ? v : undefined);
const lower = (v: unknown): string | undefined => str(v)?.toLowerCase();

/**
 * Evidence roles that make an item a bystander: it is named for context (a mailbox the alert merely
 * mentions, an item scanned along the way), not because it was attacked, received the attack
 * (`destination`: the phished recipient) or did the attacking.
 */
// (`unknownFutureValue` stands for a role newer than this client: it may be a party, so it counts as one.)
const BYSTANDER_ROLES = new Set(['contextual', 'scanned']);

/**
 * Whether an evidence item is about a party to the attack. Defender mostly sends no roles and the
 * verdict `unknown`: such an item counts. An item Defender found clean (`noThreatsFound`), or whose
 * roles are all bystander roles, does not.
 */
function isParty(ev: Obj): boolean {
  if (lower(ev['verdict']) === 'nothreatsfound') return false;
  const roles = Array.isArray(ev['roles']) ? (ev['roles'] as unknown[]).map(lower).filter((r): r is string => !!r) : [];
  return roles.length === 0 || roles.some((r) => !BYSTANDER_ROLES.has(r));
}

/** The users a Defender alert's evidence names (user, mailbox and mailbox configuration evidence): its parties, and the bystanders it mentions. */
function alertSubjects(alert: Obj): { parties: SubjectRef[]; mentions: SubjectRef[] } {
  const parties: SubjectRef[] = [];
  const mentions: SubjectRef[] = [];
  for (const e of Array.isArray(alert['evidence']) ? (alert['evidence'] as unknown[]) : []) {
    if (!e || typeof e !== 'object') continue;
    const ev = e as Obj;
    const out = isParty(ev) ? parties : mentions;
    const account = (ev['userAccount'] && typeof ev['userAccount'] === 'object' ? ev['userAccount'] : {}) as Obj;
    const id = str(account['azureAdUserId']) ?? str(ev['externalDirectoryObjectId']);
    const upn = str(account['userPrincipalName']) ?? str(ev['upn']) ?? str(ev['mailboxPrimaryAddress']) ?? str(ev['primaryAddress']);
    if (id || upn) out.push({ ...(id ? { id } : {}), ...(upn ? { upn } : {}) });
  }
  return { parties, mentions };
}

/** The `@odata.type` suffix of each evidence item: `mailboxConfigurationEvidence`. */
const evidenceTypes = (alert: Obj): string[] =>
  (Array.isArray(alert['evidence']) ? (alert['evidence'] as unknown[]) : [])
    .map((e) => (e && typeof e === 'object' ? str((e as Obj)['@odata.type']) : undefined))
    .filter((t): t is string => !!t)
    .map((t) => t.replace(/^#?microsoft\.graph\.security\./i, '').toLowerCase());

/** The network message ids of an alert's analyzed-message evidence, each once. */
const alertMessages = (alert: Obj): string[] => [
  ...new Set(
    (Array.isArray(alert['evidence']) ? (alert['evidence'] as unknown[]) : [])
      .filter((e): e is Obj => !!e && typeof e === 'object' && lower((e as Obj)['@odata.type'])?.endsWith('.analyzedmessageevidence') === true)
      .map((e) => lower(e['networkMessageId']))
      .filter((id): id is string => !!id && NETWORK_MESSAGE_ID.test(id)),
  ),
];

/** A network message id as Exchange Online issues them: a GUID. Anything else is not looked up. */
export const NETWORK_MESSAGE_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A Defender alert (`/security/alerts_v2`) as a signal; undefined when it names nobody or has no id. */
export function fromDefenderAlert(alert: Obj): Signal | undefined {
  const id = str(alert['id']);
  const { parties: subjects, mentions } = alertSubjects(alert);
  if (!id || subjects.length + mentions.length === 0) return undefined;
  return {
    source: 'defenderAlert',
    id,
    ...(lower(alert['severity']) ? { version: lower(alert['severity']) } : {}),
    ...(lower(alert['status']) === 'resolved' ? { resolved: true } : {}),
    observedAt: str(alert['createdDateTime']) ?? str(alert['lastUpdateDateTime']) ?? '',
    subjects,
    ...(mentions.length ? { mentions } : {}),
    ...(alertMessages(alert).length ? { messages: alertMessages(alert) } : {}),
    title: str(alert['title']) ?? 'Defender alert',
    match: {
      ...(lower(alert['serviceSource']) ? { serviceSource: lower(alert['serviceSource']) } : {}),
      ...(lower(alert['category']) ? { category: lower(alert['category']) } : {}),
      ...(lower(alert['severity']) ? { severity: lower(alert['severity']) } : {}),
      evidenceTypes: evidenceTypes(alert),
    },
  };
}

/** An Identity Protection risk detection as a signal. */
export function fromRiskDetection(d: Obj): Signal | undefined {
  const id = str(d['id']);
  const userId = str(d['userId']);
  const upn = str(d['userPrincipalName']);
  if (!id || (!userId && !upn)) return undefined;
  return {
    source: 'riskDetection',
    id,
    ...(lower(d['riskLevel']) ? { version: lower(d['riskLevel']) } : {}),
    ...(['dismissed', 'remediated', 'confirmedsafe'].includes(lower(d['riskState']) ?? '') ? { resolved: true } : {}),
    observedAt: str(d['detectedDateTime']) ?? str(d['activityDateTime']) ?? '',
    subjects: [{ ...(userId ? { id: userId } : {}), ...(upn ? { upn } : {}) }],
    title: `Risk detection ${str(d['riskEventType']) ?? 'unknown'} (${str(d['riskLevel']) ?? 'unknown'} risk)`,
    match: {
      ...(lower(d['riskEventType']) ? { riskEventType: lower(d['riskEventType']) } : {}),
      ...(lower(d['riskLevel']) ? { riskLevel: lower(d['riskLevel']) } : {}),
    },
  };
}

/** A risky user (at risk, not remediated or dismissed) as a signal; undefined for one no longer at risk. */
export function fromRiskyUser(u: Obj): Signal | undefined {
  const id = str(u['id']);
  if (!id || lower(u['riskState']) !== 'atrisk') return undefined;
  const upn = str(u['userPrincipalName']);
  return {
    source: 'riskyUser',
    id: `${id}@${str(u['riskLastUpdatedDateTime']) ?? ''}`,
    observedAt: str(u['riskLastUpdatedDateTime']) ?? '',
    subjects: [{ id, ...(upn ? { upn } : {}) }],
    title: `User at ${str(u['riskLevel']) ?? 'unknown'} risk (${str(u['riskDetail']) ?? 'no detail'})`,
    match: { ...(lower(u['riskLevel']) ? { riskLevel: lower(u['riskLevel']) } : {}) },
  };
}

/** A finding of the posture's own checks, about one user, as a signal. */
export function fromFinding(f: { id: string; control: { id: string }; summary: string; evidence: { readAt: string } }, subject: SubjectRef): Signal {
  return { source: 'finding', id: f.id, observedAt: f.evidence.readAt, subjects: [subject], title: f.summary, match: { control: f.control.id.toLowerCase() } };
}

/** Signals from other tools (a mail gateway, a SIEM): the documented, versioned file format. */
export const SIGNAL_FILE_SCHEMA = 'email-posture/signals@1';
const externalSignal = z
  .object({
    id: z.string().trim().min(1).max(200),
    /** The tool that raised it, e.g. mail-gateway: letters, digits, `.`, `_` and `-`, so that `source:id` names one signal. */
    source: z.string().trim().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/, 'letters, digits, ".", "_" and "-" only, at most 100'),
    /** What kind of signal, in the tool's words, e.g. credential-phish-click. */
    type: z.string().trim().min(1).max(100),
    observedAt: z.iso.datetime({ offset: true }),
    user: z.object({ id: z.guid().optional(), upn: z.email().optional() }).strict().refine((u) => u.id !== undefined || u.upn !== undefined, 'name the user by id or upn'),
    confidence: z.enum(CONFIDENCES).optional(),
    title: z.string().trim().min(1).max(500),
    /** The message it is about (a user's report, a gateway's verdict): its phishing chain is traced and contained. */
    networkMessageId: z.string().regex(NETWORK_MESSAGE_ID, 'a network message id (a GUID)').optional(),
  })
  .strict();
export const signalFileSchema = z.object({ schema: z.literal(SIGNAL_FILE_SCHEMA), signals: z.array(externalSignal).max(100_000) }).strict();
export type SignalFile = z.infer<typeof signalFileSchema>;

/** The signals of a parsed signal file. */
export function fromSignalFile(file: SignalFile): Signal[] {
  return file.signals.map((s) => ({
    source: 'external',
    id: `${s.source}:${s.id}`,
    observedAt: new Date(s.observedAt).toISOString(),
    subjects: [{ ...(s.user.id ? { id: s.user.id } : {}), ...(s.user.upn ? { upn: s.user.upn } : {}) }],
    ...(s.networkMessageId ? { messages: [s.networkMessageId.toLowerCase()] } : {}),
    title: s.title,
    match: { sourceName: s.source.toLowerCase(), type: s.type.toLowerCase(), ...(s.confidence ? { reportedConfidence: s.confidence } : {}) },
  }));
}

/** How a signal is known across runs: its source, id and version, as one unambiguous string. */
export const signalKey = (s: Pick<Signal, 'source' | 'id' | 'version'>): string => JSON.stringify([s.source, s.id, s.version ?? '']);

const RANK: Record<Confidence, number> = { low: 0, medium: 1, high: 2 };
export const higher = (a: Confidence, b: Confidence): Confidence => (RANK[a] >= RANK[b] ? a : b);

const anyOf = (wanted: readonly string[] | undefined, got: string | undefined) => wanted === undefined || (got !== undefined && wanted.some((w) => w.toLowerCase() === got));

/** Whether a rule matches a signal: same source, and every field the rule lists matches. */
export function ruleMatches(rule: SignalRule, s: Signal): boolean {
  if (rule.source !== s.source) return false;
  const m = s.match;
  switch (rule.source) {
    case 'defenderAlert':
      return (
        anyOf(rule.serviceSources, m.serviceSource) &&
        anyOf(rule.categories, m.category) &&
        anyOf(rule.severities, m.severity) &&
        (rule.evidenceTypes === undefined || rule.evidenceTypes.some((t) => (m.evidenceTypes ?? []).includes(t.toLowerCase())))
      );
    case 'riskDetection':
      return anyOf(rule.riskEventTypes, m.riskEventType) && anyOf(rule.riskLevels, m.riskLevel);
    case 'riskyUser':
      return anyOf(rule.riskLevels, m.riskLevel);
    case 'finding':
      return anyOf(rule.controls, m.control);
    case 'external':
      return (
        anyOf(rule.sourceNames, m.sourceName) &&
        anyOf(rule.types, m.type) &&
        (rule.minReportedConfidence === undefined || (m.reportedConfidence !== undefined && RANK[m.reportedConfidence] >= RANK[rule.minReportedConfidence]))
      );
  }
}

/** The confidence the first matching rule gives a signal, and which rule (its index); undefined: not authoritative. */
export function confidenceOf(rules: readonly SignalRule[], s: Signal): { confidence: Confidence; rule: number } | undefined {
  const i = rules.findIndex((r) => ruleMatches(r, s));
  return i < 0 ? undefined : { confidence: rules[i]!.confidence, rule: i };
}
