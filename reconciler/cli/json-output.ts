/**
 * `--format json` of `posture synth`, `posture apply` and `posture rollback`: one JSON document on
 * stdout per run, success or failure, while the human lines go to stderr. The documents are
 * versioned (`schemaVersion`) and named (`kind`), like the plan document `posture plan --format
 * json` writes; a reader refuses a version it does not know.
 *
 * Every document is redacted (reconciler/core/redact.ts) and written as the tool's canonical JSON
 * (reconciler/core/json.ts), with the characters JSON leaves raw that a terminal would act on
 * escaped, so a name read from the tenant can neither carry a secret out nor forge output.
 */
import type { Argv, Options } from 'yargs';
import { canonicalJson, wellFormed } from '../core/json.js';
import { redactSecrets } from '../core/redact.js';
import { jsonSafe } from '../core/text.js';
import { InputError } from '../input/synth-output.js';
import type { EvidenceRecord } from '../evidence/records.js';
import { describeChange, type PlannedChange } from '../model/change.js';
import type { RestoredFinding } from '../model/plan.js';

/** The formats of synth, apply and rollback: `text` (the default) or one `json` document on stdout. */
export type OutputFormat = 'text' | 'json';

export const OUTPUT_FORMATS: readonly OutputFormat[] = ['text', 'json'];

/** The version of every document this module writes. */
export const OUTPUT_SCHEMA_VERSION = 1;

/** The `--format` option of synth, apply and rollback. */
export function outputFormatOption(what: string): Options {
  return {
    type: 'array',
    choices: OUTPUT_FORMATS,
    default: [] as OutputFormat[],
    describe: `Output on stdout: text (default), or json: one JSON document with ${what} (human lines go to stderr)`,
  };
}

/** Adds the `--format` option of synth, apply and rollback. */
export function withOutputFormat<T>(y: Argv<T>, what: string) {
  return y.option('format', outputFormatOption(what));
}

/**
 * The one format a run writes to stdout. Two formats would be two documents one after the other on
 * stdout, which is neither: refused as `posture plan` refuses them, before anything is read.
 */
export function outputFormat(formats: readonly OutputFormat[] | OutputFormat | undefined): OutputFormat {
  const list = formats === undefined ? [] : Array.isArray(formats) ? formats : [formats as OutputFormat];
  if (list.length > 1) throw new InputError(`--format ${list.join(', --format ')} would all go to stdout, one after the other: give one --format`);
  return list[0] ?? 'text';
}

/** Whether the command line asks for JSON, read from the words as given (for a run that fails before its options are parsed). */
export function asksForJson(argv: readonly string[]): boolean {
  const formats: string[] = [];
  argv.forEach((a, i) => {
    if (a === '--format' && argv[i + 1] !== undefined) formats.push(argv[i + 1]!);
    else if (a.startsWith('--format=')) formats.push(a.slice('--format='.length));
  });
  return formats.length === 1 && formats[0] === 'json';
}

/** A document as it goes to stdout: redacted, well-formed, canonical JSON, unsafe characters escaped; one line. */
export function renderJsonDocument(document: object): string {
  return `${jsonSafe(canonicalJson(redactSecrets(wellFormed(document))))}\n`;
}

/** Writes one document to stdout. */
export function printJsonDocument(document: object): void {
  process.stdout.write(renderJsonDocument(document));
}

/** What failed, in every document of a failed run (never a stack trace). */
export interface OutputError {
  /** The message the text output prints on stderr. */
  readonly message: string;
  /** Which of apply's rails refused, when one did (`stale`, `max-changes`, `break-glass`, …), as the evidence trail records it. */
  readonly reason?: string;
}

/** An evidence record, as a document points at it: its place in the trail and its hash. */
export interface EvidenceRef {
  readonly seq: number;
  readonly hash: string;
}

/** The evidence trail a run wrote to. */
export interface EvidenceSummary {
  /** The trail file. */
  readonly file: string;
  /** The head after the run (pass its hash back with `--expect-head`). */
  readonly head?: EvidenceRef;
  /** The records the run appended, in order. */
  readonly records: ReadonlyArray<EvidenceRef & { readonly kind: string }>;
}

/** A write as a document names it: the Graph method and path, or the Exchange cmdlet (no body or parameters). */
export type OutputWrite = { readonly api: 'graph'; readonly method: string; readonly path: string } | { readonly api: 'exchange'; readonly cmdlet: string };

/** One change, as apply and rollback documents list it. */
export interface OutputChange {
  readonly findingId: string;
  readonly control: string;
  readonly resource: { readonly type: string; readonly id: string | null; readonly name: string };
  readonly action: 'create' | 'update' | 'delete';
  readonly write: OutputWrite;
  /** The line the text output shows for it. */
  readonly description: string;
  /** For a change of a rollback plan: the apply run and evidence record it undoes. */
  readonly rollbackOf?: { readonly runId: string; readonly seq: number };
}

/** `posture synth --format json`. */
export interface SynthDocument {
  readonly schemaVersion: 1;
  readonly kind: 'email-posture-synth';
  /** Whether every stack was validated and written. */
  readonly ok: boolean;
  readonly exitCode: number;
  /** The output folder. */
  readonly outdir: string;
  /** The stacks written (none when the synth failed). */
  readonly stacks: ReadonlyArray<{
    readonly stack: string;
    /** posture.json, the manifest plan and apply read. */
    readonly manifestPath: string;
    /** cdk.tf.json. */
    readonly terraformPath: string;
    /** The controls the stack declares: how many, and how many in each mode. */
    readonly controls: { readonly total: number; readonly byMode: Readonly<Record<string, number>> };
  }>;
  /** Validation errors: each construct path and property, as the text output lists them. `file` when the error is in a file rather than a construct. */
  readonly errors: ReadonlyArray<{ readonly file?: string; readonly constructPath?: string; readonly property?: string; readonly message: string }>;
  /** A failure other than validation errors (the app could not be run, or threw). */
  readonly error?: OutputError;
}

/** `posture apply --format json`. */
export interface ApplyDocument {
  readonly schemaVersion: 1;
  readonly kind: 'email-posture-apply';
  /** Whether every change was applied and verified (also true when there was nothing to apply). */
  readonly ok: boolean;
  readonly exitCode: number;
  /** The run id the evidence trail records the run under. */
  readonly runId?: string;
  readonly tenantId?: string;
  readonly stack?: string;
  /** The plan file applied (absent with --auto-approve and no file: the plan was made in the run). */
  readonly planFile?: string;
  readonly planHash?: string;
  /** Set when the plan is a rollback plan: the run it undoes. */
  readonly rollbackOf?: string;
  /**
   * Every change of the plan with its outcome: `applied` (written and read back: `verified` is
   * then true), `failed` (with the error), or `skipped` (not attempted, after a failure or a refusal).
   */
  readonly changes: ReadonlyArray<OutputChange & {
    readonly result: 'applied' | 'failed' | 'skipped';
    readonly verified: boolean;
    readonly error?: string;
    /** How the outcome was learnt when the write's answer was lost. */
    readonly settled?: string;
    /** The change's records in the evidence trail: the intent before the write, the outcome after it. */
    readonly evidence?: { readonly intent?: EvidenceRef; readonly change?: EvidenceRef };
  }>;
  readonly counts: { readonly applied: number; readonly failed: number; readonly skipped: number };
  readonly evidence?: EvidenceSummary;
  /** What refused or failed, when the run did not complete. */
  readonly error?: OutputError;
}

/** `posture rollback --format json`. */
export interface RollbackDocument {
  readonly schemaVersion: 1;
  readonly kind: 'email-posture-rollback';
  /** Whether a rollback plan was saved and every change of the run is reversible. */
  readonly ok: boolean;
  /** 0 nothing to reverse, 2 a plan was saved, 1 a change is irreversible or the rollback was refused. */
  readonly exitCode: number;
  /** The apply run rolled back (absent only when the command line could not be read). */
  readonly rollbackOf?: string;
  readonly tenantId?: string;
  readonly stack?: string;
  /** The rollback plan saved for `posture apply`, and its hash. */
  readonly planFile?: string;
  readonly planHash?: string;
  /** The changes of the rollback plan, last change of the run first. */
  readonly changes: readonly OutputChange[];
  /** Changes of the run that cannot be reversed, with why. */
  readonly irreversible: ReadonlyArray<{ readonly type: string; readonly name: string; readonly control: string; readonly reason: string }>;
  /** How many changes an earlier rollback undid already (left out). */
  readonly undone: number;
  /** The findings the rollback brings back (it needs --restore-insecure). */
  readonly restores: readonly RestoredFinding[];
  readonly evidence?: EvidenceSummary;
  readonly error?: OutputError;
}

/** A planned change as a document lists it. */
export function outputChange(c: PlannedChange): OutputChange {
  return {
    findingId: c.findingId,
    control: c.control,
    resource: { type: c.resource.type, id: c.resource.id ?? null, name: c.resource.name },
    action: c.action,
    write: c.write.api === 'graph' ? { api: 'graph', method: c.write.method, path: c.write.path } : { api: 'exchange', cmdlet: c.write.cmdlet },
    description: describeChange(c),
    ...(c.rollbackOf ? { rollbackOf: { runId: c.rollbackOf.runId, seq: c.rollbackOf.seq } } : {}),
  };
}

/** The records a run appended to the trail, and its head. */
export function evidenceSummary(file: string, records: readonly EvidenceRecord[], runId: string): EvidenceSummary {
  const head = records[records.length - 1];
  return {
    file,
    ...(head ? { head: { seq: head.seq, hash: head.hash } } : {}),
    records: records.filter((r) => r.runId === runId).map((r) => ({ seq: r.seq, kind: r.kind, hash: r.hash })),
  };
}

/** The failure of a run, for its document. */
export function outputError(err: unknown): OutputError {
  const reason = (err as { reason?: unknown } | null)?.reason;
  return { message: err instanceof Error ? err.message : String(err), ...(typeof reason === 'string' ? { reason } : {}) };
}

/**
 * The document of a run refused before its command started (a command line that does not parse):
 * with `--format json`, stdout still holds one document saying what failed.
 */
export function usageFailureDocument(command: string, message: string): SynthDocument | ApplyDocument | RollbackDocument | undefined {
  const error = { message, reason: 'usage' };
  const base = { schemaVersion: 1, ok: false, exitCode: 1, error } as const;
  switch (command) {
    case 'synth':
      return { ...base, kind: 'email-posture-synth', outdir: '', stacks: [], errors: [] };
    case 'apply':
      return { ...base, kind: 'email-posture-apply', changes: [], counts: { applied: 0, failed: 0, skipped: 0 } };
    case 'rollback':
      return { ...base, kind: 'email-posture-rollback', changes: [], irreversible: [], undone: 0, restores: [] };
    default:
      return undefined;
  }
}
