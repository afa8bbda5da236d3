/**
 * What a synth tells `posture synth` besides its exit code: when the environment variable
 * {@link SYNTH_RESULT_ENV} names a file, the synth runner (stacks/lib/synth.ts) writes its result
 * there as JSON: the stacks written, or every validation error. `posture synth --format json` reads it.
 * An app that does not use the runner writes nothing, and the command falls back to the output folder.
 */

/** The environment variable naming the file the result is written to. */
export const SYNTH_RESULT_ENV = 'POSTURE_SYNTH_RESULT';

/** One validation error of a construct: its path, the property (empty when the error is about the construct), and what is wrong. */
export interface SynthResultError {
  readonly constructPath: string;
  readonly property: string;
  readonly message: string;
}

/** The file's content. */
export interface SynthResultFile {
  readonly kind: 'EmailSecurityPostureSynthResult';
  readonly ok: boolean;
  /** The output folder (absolute). */
  readonly outdir: string;
  /** The stacks written, by id (none when the synth failed). */
  readonly stacks: readonly string[];
  /** Every validation error (none when the synth succeeded or failed otherwise). */
  readonly errors: readonly SynthResultError[];
  /** A failure other than validation: the stack code threw, or the output could not be written. */
  readonly error?: string;
}
