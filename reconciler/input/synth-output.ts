import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { parseManifest } from '../manifest/parse.js';
import { MANIFEST_FILE, SYNTH_FAILED_FILE, type Manifest } from '../manifest/schema.js';

/** Bad input: one clear message, exit 1, no stack trace. */
export class InputError extends Error {}

export interface SynthOutput {
  readonly stack: string;
  readonly manifest: Manifest;
  readonly manifestPath: string;
  readonly terraformPath: string;
}

/**
 * Reads one stack of the synthesized output: its posture manifest (validated, version checked) and
 * the presence and syntax of its cdk.tf.json. The reconciler reads nothing else of the posture.
 * An output marked by a failed synth is refused: its stacks are not the posture as it is now.
 */
export function loadSynthOutput(dir: string, stack?: string): SynthOutput {
  const shown = relative(process.cwd(), dir) || dir;
  const stacksDir = join(dir, 'stacks');
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new InputError(`no synthesized output at ${shown}: run \`posture synth\` first, or pass --synth-dir`);
  if (existsSync(join(dir, SYNTH_FAILED_FILE))) {
    throw new InputError(`the last synth failed: run \`posture synth\` again (the stacks in ${shown} are from an earlier synth and may not match the posture)`);
  }
  if (!existsSync(stacksDir)) throw new InputError(`${shown} holds no stacks/ folder: it is not cdktf output; run \`posture synth\``);
  const stacks = readdirSync(stacksDir).filter((s) => statSync(join(stacksDir, s)).isDirectory()).sort();
  if (stacks.length === 0) throw new InputError(`${shown}/stacks is empty: run \`posture synth\``);
  let chosen = stack;
  if (!chosen) {
    if (stacks.length > 1) throw new InputError(`${shown} holds several stacks (${stacks.join(', ')}): choose one with --stack`);
    chosen = stacks[0]!;
  }
  if (!stacks.includes(chosen)) throw new InputError(`unknown stack "${chosen}": ${shown} holds ${stacks.join(', ')}`);
  const manifestPath = join(stacksDir, chosen, MANIFEST_FILE);
  const terraformPath = join(stacksDir, chosen, 'cdk.tf.json');
  const rel = (p: string) => relative(process.cwd(), p) || p;
  if (!existsSync(manifestPath)) throw new InputError(`${rel(manifestPath)} is missing: the stack was not synthesized by email-posture, or the output is incomplete; run \`posture synth\``);
  if (!existsSync(terraformPath)) throw new InputError(`${rel(terraformPath)} is missing: the output is incomplete; run \`posture synth\``);
  let terraform: unknown;
  try {
    terraform = JSON.parse(readFileSync(terraformPath, 'utf8'));
  } catch (err) {
    throw new InputError(`${rel(terraformPath)} is not valid JSON (${(err as Error).message})`);
  }
  if (typeof terraform !== 'object' || terraform === null || Array.isArray(terraform)) {
    throw new InputError(`${rel(terraformPath)} holds ${terraform === null ? 'null' : Array.isArray(terraform) ? 'an array' : `a ${typeof terraform}`}, not a Terraform JSON configuration (an object); run \`posture synth\``);
  }
  const parsed = parseManifest(readFileSync(manifestPath, 'utf8'), rel(manifestPath));
  if (!parsed.ok) throw new InputError(parsed.errors.length === 1 ? parsed.errors[0]! : `the posture manifest is invalid:\n  ${parsed.errors.join('\n  ')}`);
  if (parsed.manifest.stack !== chosen) throw new InputError(`${rel(manifestPath)} belongs to stack "${parsed.manifest.stack}", not "${chosen}"`);
  return { stack: chosen, manifest: parsed.manifest, manifestPath, terraformPath };
}
