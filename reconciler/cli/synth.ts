import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { CommandModule } from 'yargs';
import { loadSynthOutput } from '../input/synth-output.js';
import { SYNTH_RESULT_ENV, type SynthResultFile } from '../manifest/synth-result.js';
import { fail } from './fail.js';
import { outputError, outputFormat, printJsonDocument, withOutputFormat, type OutputFormat, type SynthDocument } from './json-output.js';
import { printableLine } from './log.js';

interface CdktfJson {
  app?: string;
  output?: string;
}

/** The result the synth runner left, or undefined when the app wrote none (it does not use the runner). */
function readResult(file: string): SynthResultFile | undefined {
  if (!existsSync(file)) return undefined;
  try {
    const result = JSON.parse(readFileSync(file, 'utf8')) as SynthResultFile;
    return result?.kind === 'EmailSecurityPostureSynthResult' ? result : undefined;
  } catch {
    return undefined;
  }
}

/** The document of a synth: each stack written with its manifest and control counts, or what failed. */
function synthDocument(outdir: string, code: number, result: SynthResultFile | undefined): SynthDocument {
  const errors: SynthDocument['errors'][number][] = (result?.errors ?? []).map((e) => ({ constructPath: e.constructPath, property: e.property, message: e.message }));
  const stacks: SynthDocument['stacks'][number][] = [];
  if (code === 0) {
    const stacksDir = join(outdir, 'stacks');
    const names = result?.stacks ?? (existsSync(stacksDir) ? readdirSync(stacksDir).filter((s) => statSync(join(stacksDir, s)).isDirectory()).sort() : []);
    for (const name of names) {
      try {
        // The reader's own checks: what plan and apply would refuse is an error of the synth too.
        const out = loadSynthOutput(outdir, name);
        const byMode: Record<string, number> = {};
        for (const c of out.manifest.controls) byMode[c.mode] = (byMode[c.mode] ?? 0) + 1;
        stacks.push({ stack: name, manifestPath: out.manifestPath, terraformPath: out.terraformPath, controls: { total: out.manifest.controls.length, byMode } });
      } catch (err) {
        errors.push({ file: join(stacksDir, name), message: (err as Error).message });
      }
    }
  }
  const exitCode = code === 0 && errors.length === 0 ? 0 : 1;
  const failure =
    result?.error !== undefined
      ? { message: result.error }
      : exitCode !== 0 && errors.length === 0
        ? { message: `the app exited with code ${code} and reported no validation errors (see stderr)` }
        : undefined;
  return { schemaVersion: 1, kind: 'email-posture-synth', ok: exitCode === 0, exitCode, outdir, stacks, errors, ...(failure ? { error: failure } : {}) };
}

/** The document of a synth that could not start. */
const notRun = (outdir: string, err: unknown): SynthDocument => ({ schemaVersion: 1, kind: 'email-posture-synth', ok: false, exitCode: 1, outdir, stacks: [], errors: [], error: outputError(err) });

/** The environment without {@link SYNTH_RESULT_ENV}. */
function withoutResultFile(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const { [SYNTH_RESULT_ENV]: _ignored, ...rest } = env;
  return rest;
}

/**
 * `posture synth`: runs the app that cdktf.json names, as the cdktf CLI would, with the output folder
 * in CDKTF_OUTDIR. The app validates the posture and writes cdk.tf.json and posture.json per stack.
 */
export function synthCommand(setExit: (code: number) => void): CommandModule<object, { config: string; output?: string; debug: boolean; format: OutputFormat[] }> {
  return {
    command: 'synth',
    describe: 'Validate the posture and write cdk.tf.json and posture.json for each stack',
    builder: (y) =>
      withOutputFormat(y, 'the stacks written, their manifest paths and control counts, or every validation error')
        .option('config', { type: 'string', default: 'cdktf.json', describe: 'The cdktf.json that names the app' })
        .option('output', { type: 'string', describe: 'Output folder (default: cdktf.json "output", or cdktf.out)' }) as never,
    handler: async (args) => {
      let json: boolean;
      try {
        json = outputFormat(args.format) === 'json';
      } catch (err) {
        fail(err, args.debug, 'synth');
        return setExit(1);
      }
      const refuse = (message: string, outdir: string) => {
        console.error(printableLine(`posture synth: ${message}`));
        if (json) printJsonDocument(notRun(outdir, new Error(message)));
        return setExit(1);
      };
      let config: CdktfJson;
      try {
        config = JSON.parse(readFileSync(args.config, 'utf8')) as CdktfJson;
      } catch (err) {
        return refuse(`cannot read ${args.config}: ${(err as Error).message}`, resolve(args.output ?? 'cdktf.out'));
      }
      const outdir = resolve(args.output ?? config.output ?? 'cdktf.out');
      if (!config.app) return refuse(`${args.config} names no "app" to run`, outdir);
      // With --format json the app's lines go to stderr, and its result comes back through a file.
      const resultDir = json ? mkdtempSync(join(tmpdir(), 'posture-synth-result-')) : undefined;
      const resultFile = resultDir ? join(resultDir, 'result.json') : undefined;
      const code = await new Promise<number>((done) => {
        const child = spawn(config.app!, args.debug ? ['--debug'] : [], {
          shell: true,
          stdio: json ? ['inherit', 2, 'inherit'] : 'inherit',
          // The result file is always this run's own: one the environment names otherwise is not passed on.
          env: { ...withoutResultFile(process.env), CDKTF_OUTDIR: outdir, ...(resultFile ? { [SYNTH_RESULT_ENV]: resultFile } : {}) },
        });
        child.on('error', (err) => {
          console.error(printableLine(`posture synth: cannot run "${config.app}": ${err.message}`));
          done(1);
        });
        child.on('exit', (c) => done(c ?? 1));
      });
      if (json) {
        const document = synthDocument(outdir, code, readResult(resultFile!));
        rmSync(resultDir!, { recursive: true, force: true });
        printJsonDocument(document);
        return setExit(document.exitCode);
      }
      setExit(code === 0 ? 0 : 1);
    },
  };
}
