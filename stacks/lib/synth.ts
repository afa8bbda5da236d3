import { existsSync, mkdtempSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { App, TerraformStack } from 'cdktf';
import type { IConstruct } from 'constructs';
import { SYNTH_FAILED_FILE } from '../../reconciler/manifest/schema.js';
import { SYNTH_RESULT_ENV, type SynthResultFile } from '../../reconciler/manifest/synth-result.js';
import { neutralise } from '../../reconciler/core/text.js';
import { PROPERTY_SEPARATOR } from './problems.js';

/** One validation error, located by construct path and property. */
export interface SynthError {
  readonly constructPath: string;
  readonly property: string;
  readonly message: string;
}

export type SynthResult =
  | { readonly ok: true; readonly outdir: string; readonly stacks: readonly string[] }
  | { readonly ok: false; readonly errors: readonly SynthError[] };

export interface SynthOptions {
  /** Where the synthesized stacks go. @default CDKTF_OUTDIR, or cdktf.out */
  readonly outdir?: string;
  /** Construct context (e.g. a fixed "today" for tests). */
  readonly context?: Record<string, unknown>;
}

/** Every validation error of every construct in the app, all at once. */
export function collectErrors(root: IConstruct): SynthError[] {
  return root.node.findAll().flatMap((c) =>
    c.node.validate().map((raw) => {
      const at = raw.indexOf(PROPERTY_SEPARATOR);
      return at > 0
        ? { constructPath: c.node.path, property: raw.slice(0, at), message: raw.slice(at + PROPERTY_SEPARATOR.length) }
        : { constructPath: c.node.path, property: '', message: raw };
    }),
  );
}

/** The folder a synth writes to. */
function outputDirectory(options: SynthOptions = {}): string {
  return resolve(options.outdir ?? process.env.CDKTF_OUTDIR ?? 'cdktf.out');
}

/**
 * Builds the app, validates every construct and only then synthesizes. The app is synthesized into a
 * temporary folder beside `outdir` that replaces `outdir` when everything succeeded, so a failed
 * synth writes no stack and never leaves half an output behind.
 *
 * A failed synth (invalid posture, or an error while building or writing) leaves an earlier output
 * in `outdir` where it is, for inspection, but marks it with SYNTH_FAILED_FILE, which the reconciler
 * refuses: a plan must never run against stacks that are not the posture as it is now. If the mark
 * cannot be written, the earlier stacks are removed instead.
 */
export function synthesize(build: (app: App) => void, options: SynthOptions = {}): SynthResult {
  const outdir = outputDirectory(options);
  const staging = mkdtempSync(join(dirname(outdir), '.posture-synth-'));
  try {
    const app = new App({ outdir: staging, context: options.context ?? {}, skipValidation: false });
    build(app);
    const errors = collectErrors(app);
    if (errors.length) {
      markFailed(outdir, { errors });
      return { ok: false, errors };
    }
    app.synth();
    if (outputState(outdir) === 'other') {
      throw new Error(`${outdir} exists and is not a synthesized output (no manifest.json or stacks/), so it is not replaced: choose another output folder`);
    }
    rmSync(outdir, { recursive: true, force: true });
    renameSync(staging, outdir);
    const stacks = app.node.children.filter((c) => TerraformStack.isStack(c)).map((c) => c.node.id);
    return { ok: true, outdir, stacks };
  } catch (err) {
    markFailed(outdir, { error: err instanceof Error ? err.message : String(err) });
    throw err;
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}

type OutputState = 'absent' | 'empty' | 'output' | 'other';

/** What `dir` holds: nothing, an output a synth wrote (cdktf's manifest.json, stacks/, a failure mark), or something else. */
function outputState(dir: string): OutputState {
  if (!existsSync(dir)) return 'absent';
  if (!statSync(dir).isDirectory()) return 'other';
  const names = readdirSync(dir);
  if (names.length === 0) return 'empty';
  return names.some((n) => n === 'manifest.json' || n === 'stacks' || n === SYNTH_FAILED_FILE) ? 'output' : 'other';
}

/** Marks an earlier output as not current (or, failing that, removes its stacks); leaves any other folder alone. */
function markFailed(outdir: string, failure: { errors: readonly SynthError[] } | { error: string }): void {
  if (outputState(outdir) !== 'output') return;
  const mark = join(outdir, SYNTH_FAILED_FILE);
  const partial = `${mark}.${process.pid}.tmp`;
  try {
    const body = { kind: 'EmailSecurityPostureSynthFailure', failedAt: new Date().toISOString(), ...failure };
    writeFileSync(partial, JSON.stringify(body, null, 2) + '\n');
    renameSync(partial, mark);
  } catch {
    rmSync(partial, { force: true });
    rmSync(join(outdir, 'stacks'), { recursive: true, force: true });
  }
}

/** What became of an earlier output after a failed synth, as a line for the person who ran it. */
function earlierOutputNote(outdir: string, had: OutputState): string | undefined {
  if (had !== 'output') return undefined;
  const shown = relative(process.cwd(), outdir) || '.';
  if (existsSync(join(outdir, SYNTH_FAILED_FILE))) {
    return `The earlier output in ${shown} is kept but marked as failed (${SYNTH_FAILED_FILE}): plan, drift, apply and rollback refuse it until a synth succeeds.`;
  }
  if (!existsSync(join(outdir, 'stacks'))) return `The earlier output in ${shown} could not be marked as failed, so its stacks were removed.`;
  return `The earlier output in ${shown} could not be marked as failed or removed: delete it before running plan or apply.`;
}

/** The errors as one message: a line per error, construct path then property. */
export function formatErrors(errors: readonly SynthError[]): string {
  const lines = errors.map((e) => `  ${e.constructPath}: ${e.property ? `${e.property}: ` : ''}${e.message}`);
  const n = errors.length;
  return `posture synth: ${n} validation error${n === 1 ? '' : 's'}; nothing was written.\n${lines.join('\n')}`;
}

/** Writes the result for `posture synth --format json` when the environment names a file for it; never fails the synth. */
function reportResult(result: Omit<SynthResultFile, 'kind'>): void {
  const file = process.env[SYNTH_RESULT_ENV];
  if (!file) return;
  try {
    // A new file only (`wx`: never through a link, never over a file that exists): `posture synth`
    // names one in a folder of its own that it made for this run.
    writeFileSync(file, `${JSON.stringify({ kind: 'EmailSecurityPostureSynthResult', ...result } satisfies SynthResultFile)}\n`, { flag: 'wx', mode: 0o600 });
  } catch (err) {
    console.error(neutralise(`posture synth: the result could not be written to ${file} (${err instanceof Error ? err.message : String(err)})`));
  }
}

/**
 * The synth command line: validates and synthesizes, prints one clear report on failure and returns
 * the exit code (0 written, 1 invalid or failed). On failure it also sets `process.exitCode` to 1, so
 * an app that calls `runSynth(...)` without using the result still exits 1. A stack trace is printed
 * only with `--debug`.
 */
export function runSynth(build: (app: App) => void, argv: readonly string[] = process.argv, options: SynthOptions = {}): number {
  const debug = argv.includes('--debug') || process.env.POSTURE_DEBUG === '1';
  const outdir = outputDirectory(options);
  const had = outputState(outdir);
  const fail = (): 1 => {
    const note = earlierOutputNote(outdir, had);
    if (note) console.error(note);
    process.exitCode = 1;
    return 1;
  };
  try {
    const result = synthesize(build, options);
    if (!result.ok) {
      console.error(formatErrors(result.errors));
      reportResult({ ok: false, outdir, stacks: [], errors: result.errors });
      return fail();
    }
    reportResult({ ok: true, outdir: result.outdir, stacks: result.stacks, errors: [] });
    console.log(`synthesized ${result.stacks.join(', ')} into ${relative(process.cwd(), result.outdir) || '.'}`);
    return 0;
  } catch (err) {
    console.error(`posture synth: ${err instanceof Error ? err.message : String(err)}; nothing was written.`);
    reportResult({ ok: false, outdir, stacks: [], errors: [], error: err instanceof Error ? err.message : String(err) });
    if (debug && err instanceof Error) console.error(err.stack);
    else console.error('(run with --debug for the stack trace)');
    return fail();
  }
}
