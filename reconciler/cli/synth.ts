import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { CommandModule } from 'yargs';
import { printableLine } from './log.js';

interface CdktfJson {
  app?: string;
  output?: string;
}

/**
 * `posture synth`: runs the app that cdktf.json names, as the cdktf CLI would, with the output folder
 * in CDKTF_OUTDIR. The app validates the posture and writes cdk.tf.json and posture.json per stack.
 */
export function synthCommand(setExit: (code: number) => void): CommandModule<object, { config: string; output?: string; debug: boolean }> {
  return {
    command: 'synth',
    describe: 'Validate the posture and write cdk.tf.json and posture.json for each stack',
    builder: (y) =>
      y
        .option('config', { type: 'string', default: 'cdktf.json', describe: 'The cdktf.json that names the app' })
        .option('output', { type: 'string', describe: 'Output folder (default: cdktf.json "output", or cdktf.out)' }) as never,
    handler: async (args) => {
      let config: CdktfJson;
      try {
        config = JSON.parse(readFileSync(args.config, 'utf8')) as CdktfJson;
      } catch (err) {
        console.error(printableLine(`posture synth: cannot read ${args.config}: ${(err as Error).message}`));
        return setExit(1);
      }
      if (!config.app) {
        console.error(printableLine(`posture synth: ${args.config} names no "app" to run`));
        return setExit(1);
      }
      const outdir = resolve(args.output ?? config.output ?? 'cdktf.out');
      const code = await new Promise<number>((done) => {
        const child = spawn(config.app!, args.debug ? ['--debug'] : [], {
          shell: true,
          stdio: 'inherit',
          env: { ...process.env, CDKTF_OUTDIR: outdir },
        });
        child.on('error', (err) => {
          console.error(printableLine(`posture synth: cannot run "${config.app}": ${err.message}`));
          done(1);
        });
        child.on('exit', (c) => done(c ?? 1));
      });
      setExit(code === 0 ? 0 : 1);
    },
  };
}
