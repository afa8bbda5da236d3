import { relative } from 'node:path';
import { buildApp } from './app.js';
import { formatErrors, synthesize } from './lib/synth.js';

/** Entry point of the cdktf app (cdktf.json "app"): validate everything, then synthesize. */
const debug = process.argv.includes('--debug') || process.env.POSTURE_DEBUG === '1';
try {
  const result = synthesize(buildApp);
  if (result.ok) {
    console.log(`synthesized ${result.stacks.join(', ')} into ${relative(process.cwd(), result.outdir) || '.'}`);
  } else {
    console.error(formatErrors(result.errors));
    process.exitCode = 1;
  }
} catch (err) {
  console.error(`posture synth: ${err instanceof Error ? err.message : String(err)}`);
  if (debug && err instanceof Error) console.error(err.stack);
  else console.error('(run with --debug for the stack trace)');
  process.exitCode = 1;
}
