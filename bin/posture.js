#!/usr/bin/env node
// The `posture` command. The installed package runs the compiled JavaScript in dist/; a checkout of
// the source (where reconciler/ holds TypeScript) runs that source through tsx's loader.
import { existsSync } from 'node:fs';

// A reader that stops early (`posture controls | head`) is not an error.
process.stdout.on('error', (err) => {
  if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw err;
});

const source = new URL('../reconciler/cli/main.ts', import.meta.url);
let entry = new URL('../dist/reconciler/cli/main.js', import.meta.url);
if (existsSync(source)) {
  const { register } = await import('tsx/esm/api');
  register();
  entry = source;
}
const { main } = await import(entry.href);
process.exitCode = await main(process.argv.slice(2));
