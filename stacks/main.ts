import { buildApp } from './app.js';
import { runSynth } from './lib/synth.js';

/** Entry point of the cdktf app (cdktf.json "app"): validate everything, then synthesize. */
process.exitCode = runSynth(buildApp);
