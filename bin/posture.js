#!/usr/bin/env node
// The `posture` command. The project is TypeScript run through tsx's loader, so there is no build step.
import { register } from 'tsx/esm/api';

// A reader that stops early (`posture controls | head`) is not an error.
process.stdout.on('error', (err) => {
  if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw err;
});

register();
const { main } = await import('../reconciler/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
