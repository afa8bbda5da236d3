import { CredentialError } from '../auth/tokens.js';
import { InputError } from '../input/synth-output.js';
import { printable } from './log.js';

/** One clear line for an expected failure; the stack only with --debug. */
export function fail(err: unknown, debug: boolean, command: string): void {
  const known = err instanceof InputError || err instanceof CredentialError;
  process.stderr.write(`posture ${command}: ${printable(err instanceof Error ? err.message : String(err))}\n`);
  if (debug && err instanceof Error && err.stack) process.stderr.write(`${printable(err.stack)}\n`);
  else if (!known) process.stderr.write('(run with --debug for details)\n');
}
