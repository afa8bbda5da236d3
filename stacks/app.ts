import type { App } from 'cdktf';
import { MinimalStack } from './examples/minimal.js';
import { TailspinStack } from './examples/tailspin.js';

/** The app that cdktf.json runs: both example postures, one stack each. */
export function buildApp(app: App): void {
  new TailspinStack(app, 'tailspin');
  new MinimalStack(app, 'minimal');
}
