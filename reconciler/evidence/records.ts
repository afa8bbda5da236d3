/**
 * The records of the evidence trail: their kinds and fields, and the check every record passes
 * before it is appended. The format is described in docs/evidence.md.
 */

// The incident's shape depends on nothing either: the plan and the record share it.
import type { IncidentView } from '../model/incident.js';
import type { ChainView } from '../model/chain.js';

/**
 * A write as the trail records it: the shape of the write apply sends (`Write` of the apply
 * layer), restated here so that the record format depends on nothing above it.
 */
export type RecordedWrite =
  | { readonly api: 'graph'; readonly method: 'POST' | 'PATCH' | 'PUT' | 'DELETE'; readonly path: string; readonly body?: Readonly<Record<string, unknown>> }
  | { readonly api: 'exchange'; readonly cmdlet: string; readonly parameters: Readonly<Record<string, unknown>> };

/** Format version of a record (`v`). A reader refuses nothing on it today; it is hashed like any field. */
export const EVIDENCE_FORMAT_VERSION = 1;

/** The `prev` of the first record: 64 zeros. */
export const GENESIS_PREV = '0'.repeat(64);

/** Who ran the command: an application (client) id or a user principal. Never a token or a secret. */
export interface EvidenceActor {
  readonly kind: 'application' | 'user' | 'unknown';
  /** Application (client) id, user object id, or a description such as `unknown`. */
  readonly id: string;
  /** Display name or user principal name, when known. */
  readonly name?: string;
}

/** Fields every record carries. `seq`, `prev`, `hash` and `v` are set by the trail, never by the caller. */
export interface EvidenceRecordBase {
  /** Record format version. */
  readonly v: number;
  /** 1 for the first record of the file, then 2, 3, … with no gap. */
  readonly seq: number;
  /** One id per command run: a plan, or an apply with all its changes. */
  readonly runId: string;
  /** ISO time the record was written. */
  readonly time: string;
  readonly actor: EvidenceActor;
  /** `hash` of the previous record; {@link GENESIS_PREV} for the first. */
  readonly prev: string;
  /** SHA-256 (hex) of the record's canonical JSON without the `hash` field. */
  readonly hash: string;
}

/** Finding counts of a plan, as in the plan document's summary. */
export interface EvidencePlanSummary {
  readonly findings: number;
  /** Findings by status (`drift`, `missing`, …). */
  readonly byStatus: Readonly<Record<string, number>>;
  /** Changes apply would make (automatic remediation only). */
  readonly changes: { readonly create: number; readonly update: number; readonly delete: number };
}

/** A plan (or drift) was computed. */
export interface PlanEvidenceRecord extends EvidenceRecordBase {
  readonly kind: 'plan';
  /** `plan`, `drift`, or `rollback` (a plan that reverses an apply run). */
  readonly command: 'plan' | 'drift' | 'rollback';
  /** For a rollback plan: the apply run it reverses. */
  readonly rollbackOf?: string;
  /** The plan document's `planHash`. */
  readonly planHash: string;
  /** SHA-256 of the canonical manifest the plan was computed against. */
  readonly desiredHash: string;
  readonly tenantId: string;
  readonly stack: string;
  readonly summary: EvidencePlanSummary;
  /** The exit code of the command (0 clean, 2 changes or drift, 1 incomplete). */
  readonly exitCode: number;
  /** Audit evidence of the inbound paths (MAIL.PATH.1/2): each path's shortfalls and what became of failing mail in the period. */
  readonly inboundPaths?: RecordedPathEvidence;
}

/** Per inbound path: the failure kinds it falls short on, and the failing messages of the period by final disposition. */
export interface RecordedPathEvidence {
  readonly period?: { readonly from: string; readonly to: string };
  readonly unattributed?: number;
  readonly paths: ReadonlyArray<{
    readonly path: string;
    readonly short: readonly string[];
    readonly observed?: { readonly failed: number; readonly byOutcome: Readonly<Record<string, number>>; readonly deliveredDespiteFailure: number };
  }>;
}

/** A `posture probe` run: the test messages sent to each inbound path and the disposition each got. */
export interface ProbeEvidenceRecord extends EvidenceRecordBase {
  readonly kind: 'probe';
  readonly desiredHash: string;
  readonly tenantId: string;
  readonly stack: string;
  readonly probes: ReadonlyArray<{
    readonly path: string;
    readonly host: string;
    readonly probe: string;
    readonly messageId: string;
    readonly failure: string;
    readonly expected: string;
    readonly required: string;
    /** The disposition message trace (or the SMTP session) showed; absent when it was not seen. */
    readonly got?: string;
    readonly result: string;
  }>;
  readonly exitCode: number;
}

/** An apply began, for the plan with this hash. */
export interface ApplyStartEvidenceRecord extends EvidenceRecordBase {
  readonly kind: 'apply-start';
  readonly planHash: string;
  readonly desiredHash: string;
  readonly tenantId: string;
  readonly stack: string;
  /** How many changes the apply means to make. */
  readonly changes: number;
}

/** One change apply made, tried, or skipped. */
export interface ChangeEvidenceRecord extends EvidenceRecordBase {
  readonly kind: 'change';
  readonly planHash: string;
  /** The finding the change remediates. */
  readonly findingId: string;
  /** Versioned control id, e.g. `MAIL.FWD.1v1`. */
  readonly control: string;
  readonly resource: { readonly type: string; readonly id: string | null; readonly name: string };
  readonly action: 'create' | 'update' | 'delete';
  /** The write as it was sent (what rollback reverses). */
  readonly write?: RecordedWrite;
  /** For a change of a rollback plan: the run and record it undoes. */
  readonly rollbackOf?: { readonly runId: string; readonly seq: number };
  /** The live value read just before the write (`null` when the resource did not exist). */
  readonly before: unknown;
  /** The live value read back after the write (`null` after a delete, or when the write failed before it). */
  readonly after: unknown;
  readonly result: 'applied' | 'failed' | 'skipped';
  /** Why it failed or was skipped. */
  readonly error?: string;
  /** When the write's answer was lost or unusable, or its run was interrupted: what happened, and that a read settled the result. */
  readonly settled?: string;
  /** The `seq` of the `intent` record written just before the write (absent in trails of earlier versions). */
  readonly intent?: number;
  /** For the outcome of an interrupted run's write, recorded by a later run: that run's id. */
  readonly settledBy?: string;
}

/**
 * A write is about to be sent: written (and fsynced) before it, so that a run killed between the
 * write and its `change` record leaves the intent behind, for `evidence verify` to report and the
 * next apply or rollback to settle by reading the target.
 */
export interface IntentEvidenceRecord extends EvidenceRecordBase {
  readonly kind: 'intent';
  readonly planHash: string;
  readonly findingId: string;
  readonly control: string;
  readonly resource: { readonly type: string; readonly id: string | null; readonly name: string };
  readonly action: 'create' | 'update' | 'delete';
  /** The write about to be sent. */
  readonly write: RecordedWrite;
  readonly rollbackOf?: { readonly runId: string; readonly seq: number };
  /** The resource as read just before the write (`null` when it did not exist). */
  readonly before: unknown;
}

/** An apply ended. */
export interface ApplyEndEvidenceRecord extends EvidenceRecordBase {
  readonly kind: 'apply-end';
  readonly planHash: string;
  readonly counts: { readonly applied: number; readonly failed: number; readonly skipped: number };
  /** The exit code of the command (1 for an interrupted run settled by a later one). */
  readonly exitCode: number;
  /** For an interrupted run, ended by a later run that settled it: what happened. */
  readonly settled?: string;
  /** For an interrupted run: the id of the run that settled it. */
  readonly settledBy?: string;
}

/** Why apply or rollback refused, before writing anything. */
export type RefusalReason =
  | 'altered'
  | 'stale'
  | 'rail'
  | 'max-changes'
  | 'incomplete-read'
  | 'tenant'
  | 'not-approved'
  | 'restore-insecure'
  | 'not-a-plan'
  | 'evidence'
  | 'interrupted-run'
  | 'refused';

/** An apply or rollback refused: who tried what, and why. Nothing was written to the tenant. */
export interface RefusalEvidenceRecord extends EvidenceRecordBase {
  readonly kind: 'refusal';
  readonly command: 'apply' | 'rollback';
  readonly reason: RefusalReason;
  /** The message the command printed. */
  readonly message: string;
  /** The `planHash` the refused plan claims, when it holds one. */
  readonly planHash?: string;
  /** The plan file as given on the command line, and the SHA-256 of its bytes. */
  readonly planFile?: { readonly path: string; readonly sha256: string };
  /** For a rollback plan, or a rollback: the apply run it reverses. */
  readonly rollbackOf?: string;
  /** How many changes the refused plan holds, when known. */
  readonly changes?: number;
  readonly tenantId: string;
  readonly stack?: string;
}

/** An incident as a `response` record keeps it: who (id and UPN), how sure, the signals and what the matrix decided. */
export type RecordedIncident = IncidentView;

/**
 * A respond run planned its response: the signals it read (up to `window.until`, where the next run
 * starts), the incidents, and each decision with the matrix rule, tier and signals behind it. The
 * automatic actions follow as an apply run of the same `planHash`.
 */
export interface ResponseEvidenceRecord extends EvidenceRecordBase {
  readonly kind: 'response';
  readonly planHash: string;
  readonly desiredHash: string;
  readonly tenantId: string;
  readonly stack: string;
  readonly window: { readonly since: string; readonly until: string };
  readonly incidents: readonly RecordedIncident[];
  /** Incidents about break-glass accounts: recorded, never acted on. */
  readonly protected: readonly RecordedIncident[];
  /** Phishing chains: message, invites, trace, containment and what was still open (absent in trails of earlier versions). */
  readonly chains?: readonly ChainView[];
  readonly setAside: ReadonlyArray<{ readonly source: string; readonly id: string; readonly version?: string; readonly reason: string }>;
  readonly circuitBreaker?: string;
  /** The time the run took as now (absent in trails of earlier versions: the record's time). */
  readonly ranAt?: string;
  /** Writes of the automatic actions, and of those waiting for approval. */
  readonly changes: number;
  readonly approvals: number;
  readonly exitCode: number;
}

/** Why a finding is alerted: first seen, seen again after it was resolved (or excepted), or its exception expired. */
export type AlertReason = 'new' | 'reopened' | 'exception-expired';

/** An alert destination as the trail names it: its kind and the environment variable that holds its URL (never the URL). */
export interface RecordedDestination {
  readonly kind: string;
  readonly urlFromEnv: string;
}

/**
 * One alert sent (or tried) to one destination by `plan`/`drift --deliver-alerts`. Only a
 * `delivered` record counts as delivered: a finding with a `failed` one is sent again next run.
 */
export interface AlertDeliveryEvidenceRecord extends EvidenceRecordBase {
  readonly kind: 'alert-delivery';
  /** The plan whose finding was alerted. */
  readonly planHash: string;
  readonly tenantId: string;
  readonly stack: string;
  readonly findingId: string;
  /** Versioned control id, e.g. `MAIL.FWD.4v1`. */
  readonly control: string;
  readonly reason: AlertReason;
  /** The finding's status when it was alerted (`violation`, `exception-expired`, …). */
  readonly findingStatus: string;
  readonly destination: RecordedDestination;
  readonly result: 'delivered' | 'failed';
  /** How many requests were sent (retries included). */
  readonly attempts: number;
  /** The HTTP status of the last answer, when there was one. */
  readonly httpStatus?: number;
  /** Why it failed. */
  readonly error?: string;
}

/**
 * The end of a run that delivered alerts: the findings of alert-mode controls open in it. A later
 * run takes a finding that is absent from a complete run's `open` (it was resolved or excepted) and
 * comes back as reopened, and alerts it again.
 */
export interface AlertRunEvidenceRecord extends EvidenceRecordBase {
  readonly kind: 'alert-run';
  readonly planHash: string;
  readonly tenantId: string;
  readonly stack: string;
  /** Whether every read succeeded: a complete run shows that a finding it did not find is gone. */
  readonly complete: boolean;
  /**
   * The alert-mode controls (unversioned ids) this run could judge, complete or not: a finding of one
   * of them that is not open is gone too. A tenant that can never read one section (a permission or
   * licence it lacks) still sees its other controls' findings close and reopen.
   */
  readonly evaluated?: readonly string[];
  /** Ids of the findings of alert-mode controls that were open (to act on), sorted. */
  readonly open: readonly string[];
  readonly counts: { readonly delivered: number; readonly failed: number };
}

/** One line of the evidence file. */
export type EvidenceRecord =
  | PlanEvidenceRecord
  | ApplyStartEvidenceRecord
  | IntentEvidenceRecord
  | ChangeEvidenceRecord
  | ApplyEndEvidenceRecord
  | RefusalEvidenceRecord
  | ResponseEvidenceRecord
  | ProbeEvidenceRecord
  | AlertDeliveryEvidenceRecord
  | AlertRunEvidenceRecord;

export type EvidenceKind = EvidenceRecord['kind'];
export const EVIDENCE_KINDS: readonly EvidenceKind[] = ['plan', 'apply-start', 'intent', 'change', 'apply-end', 'refusal', 'response', 'probe', 'alert-delivery', 'alert-run'];

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/** What a caller appends: a record without the fields the trail sets. `time` defaults to now. */
export type EvidenceInput = DistributiveOmit<EvidenceRecord, 'v' | 'seq' | 'prev' | 'hash' | 'time'> & { time?: string };

/** A refusal to record: everything but what the trail and the run id add. */
export type RefusalInput = Omit<RefusalEvidenceRecord, keyof EvidenceRecordBase | 'kind'>;

const HEX64 = /^[0-9a-f]{64}$/;

/** Is this a SHA-256 hex string (lower case, as the trail writes them)? */
export function isHash(value: unknown): value is string {
  return typeof value === 'string' && HEX64.test(value);
}


/** `abcdef012345…`: a hash shortened for a message. */
export const shortHash = (hash: string) => `${hash.slice(0, 12)}…`;

function check(condition: unknown, message: string): asserts condition {
  if (!condition) throw new Error(`evidence record: ${message}`);
}

const nonEmpty = (v: unknown): v is string => typeof v === 'string' && v.length > 0;
const count = (v: unknown) => Number.isSafeInteger(v) && (v as number) >= 0;

/** Throws an Error naming what is wrong when `input` is not a record the trail may append. */
export function validateInput(input: EvidenceInput): void {
  check(EVIDENCE_KINDS.includes(input.kind), `unknown kind ${JSON.stringify((input as { kind: unknown }).kind)}`);
  check(nonEmpty(input.runId), 'runId must be a non-empty string');
  check(input.actor && ['application', 'user', 'unknown'].includes(input.actor.kind) && nonEmpty(input.actor.id), 'actor must have a kind (application, user or unknown) and an id');
  if (input.kind !== 'probe' && (input.kind !== 'refusal' || input.planHash !== undefined)) check(isHash(input.planHash), 'planHash must be a lower-case SHA-256 hex string');
  if (input.time !== undefined) check(!Number.isNaN(Date.parse(input.time)), `time ${JSON.stringify(input.time)} is not an ISO date`);
  switch (input.kind) {
    case 'plan':
      check(nonEmpty(input.desiredHash), 'desiredHash is required');
      check(input.command === 'plan' || input.command === 'drift' || input.command === 'rollback', 'command must be plan, drift or rollback');
      check(nonEmpty(input.tenantId) && nonEmpty(input.stack), 'tenantId and stack are required');
      check(input.summary && count(input.summary.findings), 'summary.findings must be a count');
      check(Number.isInteger(input.exitCode), 'exitCode must be an integer');
      break;
    case 'apply-start':
      check(nonEmpty(input.desiredHash), 'desiredHash is required');
      check(nonEmpty(input.tenantId) && nonEmpty(input.stack), 'tenantId and stack are required');
      check(count(input.changes), 'changes must be a count');
      break;
    case 'change':
      check(nonEmpty(input.findingId), 'findingId is required');
      check(nonEmpty(input.control), 'control (the versioned control id) is required');
      check(input.resource && nonEmpty(input.resource.type) && typeof input.resource.name === 'string', 'resource must have a type and a name');
      check(['create', 'update', 'delete'].includes(input.action), 'action must be create, update or delete');
      check(['applied', 'failed', 'skipped'].includes(input.result), 'result must be applied, failed or skipped');
      break;
    case 'intent':
      check(nonEmpty(input.findingId), 'findingId is required');
      check(nonEmpty(input.control), 'control (the versioned control id) is required');
      check(input.resource && nonEmpty(input.resource.type) && typeof input.resource.name === 'string', 'resource must have a type and a name');
      check(['create', 'update', 'delete'].includes(input.action), 'action must be create, update or delete');
      check(!!input.write && typeof input.write === 'object', 'write (the write about to be sent) is required');
      break;
    case 'apply-end':
      check(input.counts && count(input.counts.applied) && count(input.counts.failed) && count(input.counts.skipped), 'counts must hold applied, failed and skipped');
      check(Number.isInteger(input.exitCode), 'exitCode must be an integer');
      break;
    case 'response':
      check(nonEmpty(input.desiredHash), 'desiredHash is required');
      check(nonEmpty(input.tenantId) && nonEmpty(input.stack), 'tenantId and stack are required');
      check(input.window && !Number.isNaN(Date.parse(input.window.since)) && !Number.isNaN(Date.parse(input.window.until)), 'window must hold since and until as ISO dates');
      check(Array.isArray(input.incidents) && Array.isArray(input.protected) && Array.isArray(input.setAside), 'incidents, protected and setAside must be lists');
      check(input.chains === undefined || Array.isArray(input.chains), 'chains must be a list');
      check(count(input.changes) && count(input.approvals), 'changes and approvals must be counts');
      check(Number.isInteger(input.exitCode), 'exitCode must be an integer');
      break;
    case 'probe':
      check(nonEmpty(input.desiredHash), 'desiredHash is required');
      check(nonEmpty(input.tenantId) && nonEmpty(input.stack), 'tenantId and stack are required');
      check(Array.isArray(input.probes), 'probes must be a list');
      check(Number.isInteger(input.exitCode), 'exitCode must be an integer');
      break;
    case 'alert-delivery':
      check(nonEmpty(input.tenantId) && nonEmpty(input.stack), 'tenantId and stack are required');
      check(nonEmpty(input.findingId) && nonEmpty(input.control), 'findingId and control are required');
      check(['new', 'reopened', 'exception-expired'].includes(input.reason), 'reason must be new, reopened or exception-expired');
      check(input.destination && nonEmpty(input.destination.kind) && nonEmpty(input.destination.urlFromEnv), 'destination must have a kind and urlFromEnv');
      check(input.result === 'delivered' || input.result === 'failed', 'result must be delivered or failed');
      check(count(input.attempts), 'attempts must be a count');
      break;
    case 'alert-run':
      check(nonEmpty(input.tenantId) && nonEmpty(input.stack), 'tenantId and stack are required');
      check(typeof input.complete === 'boolean', 'complete must be true or false');
      check(Array.isArray(input.open) && input.open.every(nonEmpty), 'open must be a list of finding ids');
      check(input.evaluated === undefined || (Array.isArray(input.evaluated) && input.evaluated.every(nonEmpty)), 'evaluated must be a list of control ids');
      check(input.counts && count(input.counts.delivered) && count(input.counts.failed), 'counts must hold delivered and failed');
      break;
    case 'refusal':
      check(input.command === 'apply' || input.command === 'rollback', 'command must be apply or rollback');
      check(nonEmpty(input.reason) && nonEmpty(input.message), 'reason and message are required');
      check(nonEmpty(input.tenantId), 'tenantId is required');
      break;
  }
}
