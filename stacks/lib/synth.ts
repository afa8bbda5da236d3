import { mkdtempSync, renameSync, rmSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { App, TerraformStack } from 'cdktf';
import type { IConstruct } from 'constructs';
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

/**
 * Builds the app, validates every construct and only then synthesizes. The app is synthesized into a
 * temporary folder beside `outdir` that replaces `outdir` when everything succeeded, so a failed
 * synth writes nothing and never leaves half an output behind.
 */
export function synthesize(build: (app: App) => void, options: SynthOptions = {}): SynthResult {
  const outdir = resolve(options.outdir ?? process.env.CDKTF_OUTDIR ?? 'cdktf.out');
  const staging = mkdtempSync(join(dirname(outdir), '.posture-synth-'));
  try {
    const app = new App({ outdir: staging, context: options.context ?? {}, skipValidation: false });
    build(app);
    const errors = collectErrors(app);
    if (errors.length) return { ok: false, errors };
    app.synth();
    rmSync(outdir, { recursive: true, force: true });
    renameSync(staging, outdir);
    const stacks = app.node.children.filter((c) => TerraformStack.isStack(c)).map((c) => c.node.id);
    return { ok: true, outdir, stacks };
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}

/** The errors as one message: a line per error, construct path then property. */
export function formatErrors(errors: readonly SynthError[]): string {
  const lines = errors.map((e) => `  ${e.constructPath}: ${e.property ? `${e.property}: ` : ''}${e.message}`);
  const n = errors.length;
  return `posture synth: ${n} validation error${n === 1 ? '' : 's'}; nothing was written.\n${lines.join('\n')}`;
}

/**
 * The synth command line: validates and synthesizes, prints one clear report on failure and returns
 * the exit code (0 written, 1 invalid or failed). A stack trace is printed only with `--debug`.
 */
export function runSynth(build: (app: App) => void, argv: readonly string[] = process.argv, options: SynthOptions = {}): number {
  const debug = argv.includes('--debug') || process.env.POSTURE_DEBUG === '1';
  try {
    const result = synthesize(build, options);
    if (!result.ok) {
      console.error(formatErrors(result.errors));
      return 1;
    }
    console.log(`synthesized ${result.stacks.join(', ')} into ${relative(process.cwd(), result.outdir) || '.'}`);
    return 0;
  } catch (err) {
    console.error(`posture synth: ${err instanceof Error ? err.message : String(err)}; nothing was written.`);
    if (debug && err instanceof Error) console.error(err.stack);
    else console.error('(run with --debug for the stack trace)');
    return 1;
  }
}
