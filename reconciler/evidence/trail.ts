/**
 * The evidence trail: an append-only JSON Lines file in which every `plan` and every `apply` leaves
 * records, each chained to the one before by its SHA-256 hash, so that an edited, removed, inserted
 * or reordered record is detected and named. The format is described in docs/evidence.md.
 */
import { createHash, randomUUID } from 'node:crypto';
import { appendFileSync, closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import lockfile from 'proper-lockfile';
import type { ChangeOutcome } from '../apply/apply.js';
import { MAX_JSON_DEPTH, tooDeep } from '../input/json-depth.js';
import type { PlannedChange, Write } from '../model/change.js';
import type { PlanDocument } from '../model/plan.js';
import { redactSecrets } from '../redact.js';

/** Format version of a record (`v`). A reader refuses nothing on it today; it is hashed like any field. */
export const EVIDENCE_FORMAT_VERSION = 1;

/** The `prev` of the first record: 64 zeros. */
export const GENESIS_PREV = '0'.repeat(64);

export { REDACTED, redactSecrets } from '../redact.js';

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
  readonly write?: Write;
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
  readonly write: Write;
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

/** One line of the evidence file. */
export type EvidenceRecord = PlanEvidenceRecord | ApplyStartEvidenceRecord | IntentEvidenceRecord | ChangeEvidenceRecord | ApplyEndEvidenceRecord | RefusalEvidenceRecord;

export type EvidenceKind = EvidenceRecord['kind'];
export const EVIDENCE_KINDS: readonly EvidenceKind[] = ['plan', 'apply-start', 'intent', 'change', 'apply-end', 'refusal'];

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/** What a caller appends: a record without the fields the trail sets. `time` defaults to now. */
export type EvidenceInput = DistributiveOmit<EvidenceRecord, 'v' | 'seq' | 'prev' | 'hash' | 'time'> & { time?: string };

/** The ways a trail can fail verification. */
export type ProblemKind = 'edited' | 'removed' | 'inserted' | 'reordered' | 'malformed' | 'truncated';

export interface VerifyProblem {
  /** 1-based line of the file the problem is at (for a removed record: the line where it belongs). */
  readonly line: number;
  /** The record's sequence number (for a removed record: the first missing one), when known. */
  readonly seq?: number;
  readonly kind: ProblemKind;
  /** One sentence, e.g. "record 7 (line 7) was edited: its hash does not match its content". */
  readonly message: string;
}

export interface VerifyResult {
  /** No problem at all. */
  readonly ok: boolean;
  /** Lines that hold a well-formed record, whatever their problems. */
  readonly records: number;
  /** Hash of the chain's last record: the value to keep elsewhere and pass back as `expectHead`. {@link GENESIS_PREV} for an empty trail. */
  readonly head: string;
  /** Sequence number of that record (0 for an empty trail). */
  readonly headSeq: number;
  /** In line order. */
  readonly problems: VerifyProblem[];
}

export interface VerifyOptions {
  /** A head hash recorded earlier (e.g. in a CI log): the trail's head must equal it. */
  readonly expectHead?: string;
}

const HEX64 = /^[0-9a-f]{64}$/;

/** Is this a SHA-256 hex string (lower case, as the trail writes them)? */
export function isHash(value: unknown): value is string {
  return typeof value === 'string' && HEX64.test(value);
}

/**
 * Canonical JSON: object keys sorted by UTF-16 code units, recursively; no whitespace; strings and
 * numbers as `JSON.stringify` writes them; keys whose value is `undefined` left out. For the JSON
 * values records hold this is RFC 8785 (JCS), so a record hashes the same however its line is formatted.
 */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map((v) => (v === undefined ? 'null' : canonicalJson(v))).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const obj = value as Record<string, unknown>;
    return `{${Object.keys(obj)
      .sort()
      .filter((k) => obj[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${canonicalJson(obj[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');

/** The hash a record must carry: SHA-256 of its canonical JSON without the `hash` field. */
export function recordHash(record: object): string {
  const { hash: _hash, ...rest } = record as Record<string, unknown>;
  return sha256(canonicalJson(rest));
}

/** A new run id (a random UUID). */
export function newRunId(): string {
  return randomUUID();
}

/** The `plan` record of a computed plan (or drift report). */
export function planEvidence(plan: PlanDocument, runId: string, actor: EvidenceActor, exitCode: number): EvidenceInput {
  return {
    kind: 'plan',
    runId,
    actor,
    command: plan.rollbackOf ? 'rollback' : plan.kind,
    ...(plan.rollbackOf ? { rollbackOf: plan.rollbackOf } : {}),
    planHash: plan.planHash,
    desiredHash: plan.desiredHash,
    tenantId: plan.tenantId,
    stack: plan.stack,
    summary: { findings: plan.summary.findings, byStatus: { ...plan.summary.byStatus }, changes: { ...plan.summary.changes } },
    exitCode,
  };
}

/** What apply tells a recorder (the shape of `ApplyRecorder` in reconciler/cli/apply.ts). */
export interface ApplyEvidenceRecorder {
  start(plan: PlanDocument): void;
  /** Before each write: the intent, with the resource as read just before it. */
  intent(change: PlannedChange, before: unknown): void;
  change(outcome: ChangeOutcome): void;
  end(outcomes: readonly ChangeOutcome[], exitCode: number): void;
}

/**
 * Records one apply run: `apply-start`; for each change an `intent` just before its write and a
 * `change` record once it completed; then at the end a `skipped` change record for each planned
 * change that was not attempted, and `apply-end`.
 * An append that fails throws, which stops the apply: no further write goes unrecorded.
 */
export function applyRecorder(trail: EvidenceTrail, runId: string, actor: EvidenceActor): ApplyEvidenceRecorder {
  let current: PlanDocument | undefined;
  const intents = new Map<PlannedChange, number>();
  const about = (c: PlannedChange) => ({
    findingId: c.findingId,
    control: c.control,
    resource: { type: c.resource.type, id: c.resource.id, name: c.resource.name },
    action: c.action,
    write: c.write,
    ...(c.rollbackOf ? { rollbackOf: c.rollbackOf } : {}),
  });
  const changeRecord = (c: PlannedChange, result: 'applied' | 'failed' | 'skipped', before: unknown, after: unknown, error?: string, settled?: string): EvidenceInput => ({
    kind: 'change',
    runId,
    actor,
    planHash: current!.planHash,
    ...about(c),
    before: before ?? null,
    after: after ?? null,
    result,
    ...(error !== undefined ? { error } : {}),
    ...(settled !== undefined ? { settled } : {}),
    ...(intents.has(c) ? { intent: intents.get(c)! } : {}),
  });
  return {
    start(plan) {
      current = plan;
      trail.append({ kind: 'apply-start', runId, actor, planHash: plan.planHash, desiredHash: plan.desiredHash, tenantId: plan.tenantId, stack: plan.stack, changes: plan.changes.length });
    },
    intent(change, before) {
      if (!current) throw new Error('evidence: an intent was recorded before apply-start');
      const record = trail.append({ kind: 'intent', runId, actor, planHash: current.planHash, ...about(change), before: before ?? null });
      intents.set(change, record.seq);
    },
    change(outcome) {
      if (!current) throw new Error('evidence: a change was recorded before apply-start');
      trail.append(changeRecord(outcome.change, outcome.result, outcome.before !== undefined ? outcome.before : outcome.change.before, outcome.after, outcome.error, outcome.settled));
    },
    end(outcomes, exitCode) {
      if (!current) throw new Error('evidence: apply-end was recorded before apply-start');
      const attempted = new Set(outcomes.map((o) => o.change));
      const skipped = current.changes.filter((c) => !attempted.has(c));
      for (const c of skipped) trail.append(changeRecord(c, 'skipped', c.before, null, 'not attempted: apply stopped at the first failure'));
      const applied = outcomes.filter((o) => o.result === 'applied').length;
      trail.append({ kind: 'apply-end', runId, actor, planHash: current.planHash, counts: { applied, failed: outcomes.length - applied, skipped: skipped.length }, exitCode });
    },
  };
}

/** An apply run that has an `apply-start` and no `apply-end`: it was killed, or is still running. */
export interface InterruptedApply {
  readonly start: ApplyStartEvidenceRecord;
  /** Its `change` records so far. */
  readonly changes: readonly ChangeEvidenceRecord[];
  /** Its intents without an outcome: the write each names was being sent when the run stopped. */
  readonly pending: readonly IntentEvidenceRecord[];
  /** Whether the run recorded intents at all (trails of earlier versions do not). */
  readonly recordsIntents: boolean;
}

/** The apply runs of a trail that began and did not end, in file order. Pure. */
export function interruptedApplies(records: readonly EvidenceRecord[]): InterruptedApply[] {
  const ended = new Set(records.filter((r) => r.kind === 'apply-end').map((r) => r.runId));
  return records
    .filter((r): r is ApplyStartEvidenceRecord => r.kind === 'apply-start' && !ended.has(r.runId))
    .map((start) => {
      const ofRun = records.filter((r) => r.runId === start.runId);
      const changes = ofRun.filter((r): r is ChangeEvidenceRecord => r.kind === 'change');
      const intents = ofRun.filter((r): r is IntentEvidenceRecord => r.kind === 'intent');
      const answered = new Set(changes.map((c) => c.intent).filter((n): n is number => n !== undefined));
      return { start, changes, pending: intents.filter((i) => !answered.has(i.seq)), recordsIntents: intents.length > 0 };
    });
}

/** A refusal to record: everything but what the trail and the run id add. */
export type RefusalInput = Omit<RefusalEvidenceRecord, keyof EvidenceRecordBase | 'kind'>;

/** The `refusal` record of an apply or rollback that refused. */
export function refusalEvidence(runId: string, actor: EvidenceActor, refusal: RefusalInput): EvidenceInput {
  return { kind: 'refusal', runId, actor, ...refusal };
}

/**
 * The actor an access token stands for, read from its claims: the application (`appid`/`azp`) for an
 * app-only token, the user (`oid`) otherwise. The token itself is never kept.
 */
export function actorFromAccessToken(token: string): EvidenceActor {
  try {
    const payload = token.split('.')[1];
    if (!payload) return { kind: 'unknown', id: 'unknown' };
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<string, unknown>;
    const str = (k: string) => (typeof claims[k] === 'string' && claims[k] ? (claims[k] as string) : undefined);
    const appId = str('appid') ?? str('azp');
    const isApp = str('idtyp') === 'app' || (!str('scp') && !str('upn') && Array.isArray(claims['roles']));
    if (isApp && appId) {
      const name = str('app_displayname');
      return { kind: 'application', id: appId, ...(name ? { name } : {}) };
    }
    const oid = str('oid');
    if (oid) {
      const name = str('upn') ?? str('preferred_username') ?? str('unique_name') ?? str('name');
      return { kind: 'user', id: oid, ...(name ? { name } : {}) };
    }
    if (appId) return { kind: 'application', id: appId };
  } catch {
    // Not a readable JWT: the actor is unknown.
  }
  return { kind: 'unknown', id: 'unknown' };
}

// ---------------------------------------------------------------------------------------------
// Verification
// ---------------------------------------------------------------------------------------------

interface ChainFields {
  readonly seq: number;
  readonly prev: string;
  readonly hash: string;
  readonly [key: string]: unknown;
}

interface Entry {
  /** 1-based line number. */
  readonly line: number;
  /** The parsed record, when the line holds one. */
  readonly rec?: ChainFields;
  /** Its content matches its hash. */
  readonly selfOk: boolean;
  /** Sequence number used to place it: `seq`, or for a record whose content was edited, the one its links give. */
  seq: number;
}

interface ParsedTrail {
  readonly entries: Entry[];
  /** Lines that hold no record (malformed or truncated), with their problem. */
  readonly broken: VerifyProblem[];
  /** Problems of lines that do hold a record (a valid last record without its newline). */
  readonly notes: VerifyProblem[];
}

function parseTrail(text: string): ParsedTrail {
  const entries: Entry[] = [];
  const broken: VerifyProblem[] = [];
  const notes: VerifyProblem[] = [];
  if (text === '') return { entries, broken, notes };
  const endsWithNewline = text.endsWith('\n');
  const lines = text.split('\n');
  if (endsWithNewline) lines.pop();
  lines.forEach((raw, i) => {
    const line = i + 1;
    const incomplete = i === lines.length - 1 && !endsWithNewline;
    if (raw.trim() === '') {
      broken.push({ line, kind: 'malformed', message: `line ${line} is empty` });
      return;
    }
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch {
      if (incomplete) {
        const seq = /"seq":\s*(\d+)/.exec(raw)?.[1];
        broken.push({
          line,
          ...(seq ? { seq: Number(seq) } : {}),
          kind: 'truncated',
          message: `line ${line} is incomplete: the file ends in the middle of a record${seq ? ` (record ${seq})` : ''}, after an interrupted write or a cut`,
        });
      } else {
        broken.push({ line, kind: 'malformed', message: `line ${line} is not valid JSON` });
      }
      return;
    }
    const deep = tooDeep(value);
    if (deep) {
      broken.push({ line, kind: incomplete ? 'truncated' : 'malformed', message: `line ${line} is not an evidence record: it is nested deeper than ${MAX_JSON_DEPTH} levels (at ${deep})` });
      return;
    }
    const v = value as Partial<ChainFields> | null;
    if (!v || typeof v !== 'object' || Array.isArray(v) || !Number.isSafeInteger(v.seq) || (v.seq as number) < 1 || !isHash(v.prev) || !isHash(v.hash)) {
      broken.push({ line, kind: incomplete ? 'truncated' : 'malformed', message: `line ${line} is not an evidence record: it lacks a valid seq, prev or hash` });
      return;
    }
    const rec = v as ChainFields;
    entries.push({ line, rec, selfOk: recordHash(rec) === rec.hash, seq: rec.seq });
    if (incomplete) {
      notes.push({ line, seq: rec.seq, kind: 'truncated', message: `the file does not end with a newline after record ${rec.seq} (line ${line}): the last write may be incomplete` });
    }
  });
  return { entries, broken, notes };
}

/** Longest strictly increasing subsequence of `values`; returns the indexes in it. */
function longestIncreasing(values: readonly number[]): Set<number> {
  const tails: number[] = [];
  const parent: number[] = new Array<number>(values.length).fill(-1);
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    let lo = 0;
    let hi = tails.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (values[tails[mid]!]! < v) lo = mid + 1;
      else hi = mid;
    }
    if (lo > 0) parent[i] = tails[lo - 1]!;
    tails[lo] = i;
  }
  const keep = new Set<number>();
  for (let i = tails.length ? tails[tails.length - 1]! : -1; i >= 0; i = parent[i]!) keep.add(i);
  return keep;
}

/** For each position: the nearest earlier one with a greater value, and the nearest later one with a smaller value (-1: none). */
function nearestOutOfOrder(values: readonly number[]): { previousGreater: number[]; nextSmaller: number[] } {
  const previousGreater = new Array<number>(values.length).fill(-1);
  const nextSmaller = new Array<number>(values.length).fill(-1);
  const stack: number[] = [];
  for (let i = 0; i < values.length; i++) {
    while (stack.length && values[stack[stack.length - 1]!]! <= values[i]!) stack.pop();
    if (stack.length) previousGreater[i] = stack[stack.length - 1]!;
    stack.push(i);
  }
  stack.length = 0;
  for (let i = values.length - 1; i >= 0; i--) {
    while (stack.length && values[stack[stack.length - 1]!]! >= values[i]!) stack.pop();
    if (stack.length) nextSmaller[i] = stack[stack.length - 1]!;
    stack.push(i);
  }
  return { previousGreater, nextSmaller };
}

const range = (from: number, to: number) => (from === to ? `record ${from} is` : `records ${from}–${to} are`);
const short = (hash: string) => `${hash.slice(0, 12)}…`;

/**
 * Checks a trail's text and names every problem: which record, on which line, and how it was altered.
 * - `edited`: a record's hash does not match its content; or it matches, but the next record does not
 *   link to it (the hash was recomputed after the edit, so the first broken link points at it);
 * - `removed`: sequence numbers are missing (also from the end, when `expectHead` is given);
 * - `inserted`: a record the chain does not run through (a second record with a taken seq), or
 *   records after the expected head;
 * - `reordered`: a record out of sequence order whose links are otherwise intact;
 * - `malformed`: a line that is not a JSON evidence record;
 * - `truncated`: the last line is incomplete, or the file does not end with a newline.
 */
export function verifyTrail(text: string, options: VerifyOptions = {}): VerifyResult {
  const { entries, broken, notes } = parseTrail(text);
  const problems: VerifyProblem[] = [...broken, ...notes];
  const reported = new Set<number>();
  const report = (p: VerifyProblem) => {
    if (reported.has(p.line) && p.kind !== 'removed') return;
    if (p.kind !== 'removed') reported.add(p.line);
    problems.push(p);
  };

  // A record whose content no longer matches its hash may have had its seq edited too: place it by its links.
  const bySelfHash = new Map<string, Entry>();
  const byPrev = new Map<string, Entry>();
  for (const e of entries) {
    if (!e.selfOk) continue;
    if (!bySelfHash.has(e.rec!.hash)) bySelfHash.set(e.rec!.hash, e);
    if (!byPrev.has(e.rec!.prev)) byPrev.set(e.rec!.prev, e);
  }
  for (const e of entries) {
    if (e.selfOk) continue;
    const next = byPrev.get(e.rec!.hash);
    const before = bySelfHash.get(e.rec!.prev);
    if (next && next !== e) e.seq = next.seq - 1;
    else if (before && before !== e) e.seq = before.seq + 1;
    else if (e.rec!.prev === GENESIS_PREV) e.seq = 1;
  }

  // The genuine record of each seq: the one the chain runs through.
  const candidates = new Map<number, Entry[]>();
  for (const e of entries) candidates.set(e.seq, [...(candidates.get(e.seq) ?? []), e]);
  const linkedFromSeq = new Map<string, Set<number>>();
  for (const e of entries) {
    if (!e.selfOk) continue;
    const set = linkedFromSeq.get(e.rec!.prev) ?? new Set<number>();
    set.add(e.seq);
    linkedFromSeq.set(e.rec!.prev, set);
  }
  const genuine = new Map<number, Entry>();
  const seqs = [...candidates.keys()].sort((a, b) => a - b);
  for (const s of seqs) {
    const list = candidates.get(s)!;
    const before = genuine.get(s - 1);
    const expectedPrev = s === 1 ? GENESIS_PREV : before?.rec!.hash;
    const score = (e: Entry) =>
      (linkedFromSeq.get(e.rec!.hash)?.has(s + 1) ? 8 : 0) + (e.rec!.prev === expectedPrev ? 4 : 0) + (e.selfOk ? 2 : 0) + (before && e.line > before.line ? 1 : 0);
    const best = list.reduce((a, b) => (score(b) > score(a) ? b : a));
    genuine.set(s, best);
    for (const other of list) {
      if (other === best) continue;
      report({
        line: other.line,
        seq: other.rec!.seq,
        kind: 'inserted',
        message: `line ${other.line} holds an inserted record: it repeats seq ${s} of the record at line ${best.line}, and the chain does not run through it`,
      });
    }
  }

  // Edited: content that does not match its hash, or a recomputed hash the next record does not link to.
  for (const s of seqs) {
    const e = genuine.get(s)!;
    if (!e.selfOk) {
      report({ line: e.line, seq: s, kind: 'edited', message: `record ${s} (line ${e.line}) was edited: its hash does not match its content` });
      continue;
    }
    if (s === 1 && e.rec!.prev !== GENESIS_PREV) {
      report({ line: e.line, seq: s, kind: 'edited', message: `record 1 (line ${e.line}) was edited: its prev is not the genesis value (64 zeros)` });
      continue;
    }
    const next = genuine.get(s + 1);
    if (next && next.selfOk && next.rec!.prev !== e.rec!.hash) {
      report({
        line: e.line,
        seq: s,
        kind: 'edited',
        message: `record ${s} (line ${e.line}) was edited: record ${s + 1} (line ${next.line}) does not link to it, so its hash was recomputed after a change`,
      });
    }
  }

  // Removed: gaps in the sequence that no malformed line accounts for.
  const brokenLines = broken.map((p) => p.line);
  let last = 0;
  let lastLine = 0;
  for (const s of seqs) {
    const e = genuine.get(s)!;
    const missing = s - last - 1;
    if (missing > 0) {
      const lo = Math.min(lastLine, e.line);
      const hi = Math.max(lastLine, e.line);
      const explained = brokenLines.filter((l) => l > lo && l < hi).length;
      if (explained < missing) {
        report({
          line: e.line,
          seq: last + 1,
          kind: 'removed',
          message: last === 0 ? `${range(1, s - 1)} missing before record ${s} (line ${e.line})` : `${range(last + 1, s - 1)} missing between ${last} and ${s} (before line ${e.line})`,
        });
      }
    }
    last = s;
    lastLine = e.line;
  }

  // Reordered: genuine records out of sequence order.
  const inLineOrder = [...genuine.values()].sort((a, b) => a.line - b.line);
  const order = inLineOrder.map((e) => e.seq);
  if (order.some((s, i) => i > 0 && s <= order[i - 1]!)) {
    const keep = longestIncreasing(order);
    const { previousGreater, nextSmaller } = nearestOutOfOrder(order);
    inLineOrder.forEach((e, i) => {
      if (keep.has(i)) return;
      const after = inLineOrder[previousGreater[i]!];
      const before = inLineOrder[nextSmaller[i]!];
      const where = after ? `it comes after record ${after.seq} (line ${after.line})` : before ? `it comes before record ${before.seq} (line ${before.line})` : 'it is not in sequence order';
      report({ line: e.line, seq: e.seq, kind: 'reordered', message: `record ${e.seq} (line ${e.line}) is out of order: ${where}` });
    });
  }

  const headEntry = seqs.length ? genuine.get(seqs[seqs.length - 1]!)! : undefined;
  const head = headEntry?.rec!.hash ?? GENESIS_PREV;
  const headSeq = headEntry?.seq ?? 0;

  if (options.expectHead !== undefined) {
    const expected = options.expectHead.trim().toLowerCase();
    if (expected !== head) {
      const at = [...genuine.values()].find((e) => e.rec!.hash === expected) ?? entries.find((e) => e.rec!.hash === expected);
      const endLine = Math.max(entries[entries.length - 1]?.line ?? 0, broken[broken.length - 1]?.line ?? 0);
      if (at) {
        const n = headSeq - at.seq;
        problems.push({
          line: at.line + 1,
          seq: at.seq + 1,
          kind: 'inserted',
          message: `the expected head is record ${at.seq} (line ${at.line}), but ${n} record${n === 1 ? '' : 's'} follow${n === 1 ? 's' : ''} it, up to record ${headSeq}: added after the head was recorded`,
        });
      } else {
        problems.push({
          line: endLine + 1,
          seq: headSeq + 1,
          kind: 'removed',
          message:
            headSeq === 0
              ? `the expected head ${short(expected)} is not in the file, which holds no record: the trail was emptied or replaced`
              : `the expected head ${short(expected)} is not in the file, whose head is record ${headSeq} (line ${headEntry!.line}, ${short(head)}): records after ${headSeq} were removed, or the trail was rewritten`,
        });
      }
    }
  }

  problems.sort((a, b) => a.line - b.line);
  return { ok: problems.length === 0, records: entries.length, head, headSeq, problems };
}

/**
 * The `change` records of one run, in file order: what a rollback undoes.
 * Throws when the trail fails verification (an incomplete last line, as an interrupted apply
 * leaves, is tolerated: the records before it are intact).
 */
export function recordsOfRun(text: string, runId: string): EvidenceRecord[] {
  return runRecords(text, runId).filter((r) => r.kind === 'change');
}

/** Every record of one run, in file order, under the same verification as {@link recordsOfRun}. */
export function runRecords(text: string, runId: string): EvidenceRecord[] {
  return trailRecords(text).filter((r) => r.runId === runId);
}

/**
 * Every record of a trail, in file order, under the same verification as {@link recordsOfRun}.
 * With `tolerateProblems`, every line that holds a record, whatever verification says (for reports
 * about a trail whose problems are reported separately).
 */
export function trailRecords(text: string, options: { tolerateProblems?: boolean } = {}): EvidenceRecord[] {
  if (options.tolerateProblems) return parseTrail(text).entries.map((e) => e.rec as unknown as EvidenceRecord);
  const result = verifyTrail(text);
  const serious = result.problems.filter((p) => p.kind !== 'truncated');
  if (serious.length) {
    throw new Error(`the evidence trail fails verification (${serious.length} problem${serious.length === 1 ? '' : 's'}; first: ${serious[0]!.message}); it cannot be trusted for a rollback`);
  }
  return parseTrail(text).entries.map((e) => e.rec as unknown as EvidenceRecord);
}

// ---------------------------------------------------------------------------------------------
// Appending
// ---------------------------------------------------------------------------------------------

function check(condition: unknown, message: string): asserts condition {
  if (!condition) throw new Error(`evidence record: ${message}`);
}

const nonEmpty = (v: unknown): v is string => typeof v === 'string' && v.length > 0;
const count = (v: unknown) => Number.isSafeInteger(v) && (v as number) >= 0;

function validate(input: EvidenceInput): void {
  check(EVIDENCE_KINDS.includes(input.kind), `unknown kind ${JSON.stringify((input as { kind: unknown }).kind)}`);
  check(nonEmpty(input.runId), 'runId must be a non-empty string');
  check(input.actor && ['application', 'user', 'unknown'].includes(input.actor.kind) && nonEmpty(input.actor.id), 'actor must have a kind (application, user or unknown) and an id');
  if (input.kind !== 'refusal' || input.planHash !== undefined) check(isHash(input.planHash), 'planHash must be a lower-case SHA-256 hex string');
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
    case 'refusal':
      check(input.command === 'apply' || input.command === 'rollback', 'command must be apply or rollback');
      check(nonEmpty(input.reason) && nonEmpty(input.message), 'reason and message are required');
      check(nonEmpty(input.tenantId), 'tenantId is required');
      break;
  }
}

/** What a trail was when it was last read or written by this process. */
interface TrailState {
  readonly seq: number;
  readonly hash: string;
  /** Bytes in the file. */
  readonly size: number;
  /** SHA-256 of those bytes: the file must still start with exactly them. */
  readonly digest: string;
}

/** Options of {@link EvidenceTrail.open}. */
export interface OpenOptions {
  /** A head hash kept elsewhere (a CI log): the trail must end with it, or nothing is appended. */
  readonly expectHead?: string;
}

/**
 * An evidence file opened for appending. Each {@link append} writes one line with a single
 * append-mode write and fsyncs it before returning, so a record is either entirely in the file or
 * (after a crash mid-write) an incomplete last line that verification reports.
 * Before each append the file must still start with every byte this run saw: a trail deleted,
 * emptied, shortened or rewritten since it was opened is never continued (a new chain at seq 1
 * would verify, and hide what the old one held). Records another writer appended are picked up.
 */
export class EvidenceTrail {
  private state: TrailState;

  private constructor(
    /** The file's absolute path. */
    readonly path: string,
    state: TrailState,
  ) {
    this.state = state;
  }

  /**
   * Opens a trail, verifying the whole file first. A missing file is an empty trail (created on the
   * first append). Throws an Error naming the first problem when the file fails verification, or
   * when it does not end with `expectHead`: appending to an altered trail would make the alteration
   * look legitimate.
   */
  static open(path: string, options: OpenOptions = {}): EvidenceTrail {
    const abs = resolve(path);
    const state = EvidenceTrail.load(abs, readTrailBytes(abs), options.expectHead);
    return new EvidenceTrail(abs, state);
  }

  private static load(path: string, bytes: Buffer | undefined, expectHead?: string): TrailState {
    if (!bytes) {
      if (expectHead !== undefined && expectHead !== GENESIS_PREV) {
        throw new Error(`refusing to append to ${path}: there is no such file, but its head was expected to be ${short(expectHead)}: the trail was deleted or moved`);
      }
      return { seq: 0, hash: GENESIS_PREV, size: 0, digest: sha256Bytes(Buffer.alloc(0)) };
    }
    const result = verifyTrail(bytes.toString('utf8'), expectHead !== undefined ? { expectHead } : {});
    if (!result.ok) {
      const n = result.problems.length;
      throw new Error(
        `refusing to append to ${path}: the evidence trail fails verification (${n} problem${n === 1 ? '' : 's'}; first: ${result.problems[0]!.message}). ` +
          'Keep the file as it is, investigate with `posture evidence verify`, and start a new trail file.',
      );
    }
    return { seq: result.headSeq, hash: result.head, size: bytes.length, digest: sha256Bytes(bytes) };
  }

  /** Sequence number of the last record (0 when the trail is empty). */
  get seq(): number {
    return this.state.seq;
  }

  /** Hash of the last record ({@link GENESIS_PREV} when the trail is empty). */
  get head(): string {
    return this.state.hash;
  }

  /**
   * The file as it is now, checked against what this run saw: still starting with the same bytes
   * (records appended by another writer are verified and taken in), never deleted, emptied,
   * shortened or rewritten. Throws, naming what happened, otherwise.
   */
  private current(): Buffer | undefined {
    const bytes = readTrailBytes(this.path);
    const known = this.state;
    const held = `it held ${known.seq} record${known.seq === 1 ? '' : 's'}, head ${short(known.hash)}`;
    const refuse = (what: string) =>
      new Error(`refusing to append to ${this.path}: ${what} since this run opened it (${held}); a new chain would hide the records it held. Keep what is left as it is, restore the file from a copy, and investigate`);
    if (!bytes) {
      if (known.size > 0) throw refuse('the evidence trail was deleted or moved');
      return undefined;
    }
    if (bytes.length === known.size && sha256Bytes(bytes) === known.digest) return bytes;
    // Changed: what verification says comes first (it names edited and removed records).
    const state = EvidenceTrail.load(this.path, bytes);
    if (bytes.length < known.size) throw refuse(bytes.length === 0 ? 'the evidence trail was emptied' : `the evidence trail shrank from ${known.size} to ${bytes.length} bytes`);
    if (sha256Bytes(bytes.subarray(0, known.size)) !== known.digest) throw refuse('the evidence trail was rewritten');
    this.state = state;
    return bytes;
  }

  /**
   * Appends one record: redacts secrets, sets `v`, `seq`, `time` (unless given), `prev` and `hash`,
   * writes the line and fsyncs it. Returns the record as written. Throws on an invalid record, and
   * when the file was altered since it was opened. Writers of one trail (an apply and a nightly
   * drift check, say) take turns: each append holds the trail's append lock from reading the head
   * to the fsync, so two records never claim the same seq.
   */
  append(input: EvidenceInput): EvidenceRecord {
    validate(input);
    return withAppendLock(this.path, () => this.appendLocked(input));
  }

  private appendLocked(input: EvidenceInput): EvidenceRecord {
    const bytes = this.current();
    const { kind, runId, actor, time, v: _v, seq: _seq, prev: _prev, hash: _hash, ...rest } = input as EvidenceInput & Record<string, unknown>;
    const fields: Record<string, unknown> = {
      v: EVIDENCE_FORMAT_VERSION,
      seq: this.state.seq + 1,
      runId,
      time: time ?? new Date().toISOString(),
      kind,
      actor,
      ...rest,
      prev: this.state.hash,
    };
    if (kind === 'change') {
      fields['before'] = fields['before'] ?? null;
      fields['after'] = fields['after'] ?? null;
    }
    // Redact, then fix the value to exactly what JSON can hold, so the hash covers what is written.
    const body = JSON.parse(JSON.stringify(redactSecrets(fields))) as Record<string, unknown>;
    delete body['hash'];
    const record = { ...body, hash: recordHash(body) } as unknown as EvidenceRecord;
    const line = Buffer.from(`${JSON.stringify(record)}\n`, 'utf8');

    const created = !bytes;
    if (created) mkdirSync(dirname(this.path), { recursive: true });
    const fd = openSync(this.path, 'a');
    try {
      appendFileSync(fd, line);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    if (created) syncDirectory(dirname(this.path));
    const written = Buffer.concat([bytes ?? Buffer.alloc(0), line]);
    this.state = { seq: record.seq, hash: record.hash, size: written.length, digest: sha256Bytes(written) };
    return record;
  }
}

/**
 * The one name of an evidence file, however it is given (relative, through a symlink to it or to a
 * folder above it): its real path, or for a file not made yet its real folder and its name. Locks
 * on a trail are named after it, so two writers naming one file two ways still take turns.
 */
export function trailTarget(trail: string): string {
  const abs = resolve(trail);
  try {
    return realpathSync(abs);
  } catch {
    try {
      return join(realpathSync(dirname(abs)), basename(abs));
    } catch {
      return abs;
    }
  }
}

/** How long an append waits for another writer's append, and when a writer's append lock counts as left behind. */
const APPEND_WAIT_MS = 15_000;
const APPEND_STALE_MS = 10_000;

/**
 * Runs `fn` holding the trail's append lock (`<file>.append.lock`, made atomically by
 * proper-lockfile): held for one record only, so another writer waits milliseconds. A lock left by
 * a process killed mid-append is taken over once it is {@link APPEND_STALE_MS} old.
 */
function withAppendLock<T>(path: string, fn: () => T): T {
  mkdirSync(dirname(path), { recursive: true });
  const deadline = Date.now() + APPEND_WAIT_MS;
  for (;;) {
    let release: () => void;
    try {
      // Its own name (not the trail's): proper-lockfile keeps one lock per name, and the run lock has the trail's.
      release = lockfile.lockSync(`${trailTarget(path)}.append`, { realpath: false, stale: APPEND_STALE_MS, onCompromised: () => {} });
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'ELOCKED') throw new Error(`cannot lock ${path} for appending (${(err as Error).message})`, { cause: err });
      if (Date.now() > deadline) throw new Error(`cannot append to ${path}: another writer has held its append lock (${path}.append.lock) for more than ${APPEND_WAIT_MS / 1000} s`, { cause: err });
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10);
      continue;
    }
    try {
      return fn();
    } finally {
      release();
    }
  }
}

/** The file's bytes, or undefined when there is no such file. */
function readTrailBytes(path: string): Buffer | undefined {
  if (!existsSync(path)) return undefined;
  if (statSync(path).isDirectory()) throw new Error(`${path} is a directory, not an evidence file`);
  return readFileSync(path);
}

const sha256Bytes = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

/** Makes a new file's directory entry durable (not possible on every platform; best effort). */
function syncDirectory(dir: string): void {
  try {
    const fd = openSync(dir, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch {
    // Directories cannot be opened for fsync on some platforms.
  }
}
