import { TOOL_VERSION } from '../version.js';
import yargs from 'yargs';
import { controlsCommand } from './controls.js';
import { planCommand, showCommand } from './plan.js';
import { simCommand } from './sim.js';
import { applyCommand } from './apply.js';
import { checkDomainCommand } from './check-domain.js';
import { demoCommand } from './demo.js';
import { evidenceCommand } from './evidence.js';
import { permissionsCommand } from './permissions.js';
import { rollbackCommand } from './rollback.js';
import { respondCommand } from './respond.js';
import { probeCommand } from './probe.js';
import { synthCommand } from './synth.js';
import { refuseMisreadWords, refuseRepeats, UsageError } from './options.js';
import { printable } from './log.js';

const COMMANDS = new Set(['synth', 'plan', 'drift', 'show', 'apply', 'rollback', 'evidence', 'controls', 'permissions', 'check-domain', 'sim', 'demo']);

/** `apply`, `evidence verify`: the command the arguments name, for messages ('' when they name none). */
function commandOf(argv: readonly string[]): string {
  const words = argv.filter((a) => !a.startsWith('-'));
  if (!COMMANDS.has(words[0] ?? '')) return '';
  return words[0] === 'evidence' && words[1] === 'verify' ? 'evidence verify' : words[0]!;
}

/** yargs' suggestion for a misspelled command says which word it means (`plna`, or `verfy` of `evidence verfy`). */
function usageMessage(msg: string, argv: readonly string[]): string {
  const unknown = argv.find((a) => !a.startsWith('-') && !COMMANDS.has(a) && a !== 'verify');
  return /^Did you mean /.test(msg) && unknown ? `unknown command "${unknown}". ${msg}` : msg;
}

/**
 * Runs the `posture` command line and returns its exit code (0 success, 1 error). A command line
 * that does not parse (an unknown or misspelled option or command, a bad value) is exit 1 with one
 * message, and the command does not run: nothing is read or written.
 */
export async function main(argv: readonly string[]): Promise<number> {
  let exitCode = 0;
  const setExit = (code: number) => {
    exitCode = code;
  };
  const debug = argv.includes('--debug');
  try {
    await run(argv, setExit);
  } catch (err) {
    const command = err instanceof UsageError ? commandOf(argv) : '';
    const message = err instanceof UsageError ? usageMessage(err.message, argv) : err instanceof Error ? err.message : String(err);
    process.stderr.write(`posture${command ? ` ${command}` : ''}: ${printable(message)}\n`);
    if (err instanceof UsageError) process.stderr.write(`(see posture ${command ? `${command} ` : ''}--help)\n`);
    else if (debug && err instanceof Error && err.stack) process.stderr.write(`${printable(err.stack)}\n`);
    return 1;
  }
  return exitCode;
}

async function run(argv: readonly string[], setExit: (code: number) => void): Promise<void> {
  await yargs([...argv])
    .scriptName('posture')
    // Options are read by their --names only; without camelCase copies an unknown one is named once.
    .parserConfiguration({ 'camel-case-expansion': false })
    .usage('$0 <command> [options]\n\nEmail-security posture for Microsoft 365 / Entra ID, as code.')
    .command(synthCommand(setExit))
    .command(planCommand('plan', setExit))
    .command(planCommand('drift', setExit))
    .command(showCommand(setExit))
    .command(applyCommand(setExit))
    .command(rollbackCommand(setExit))
    .command(respondCommand(setExit))
    .command(probeCommand(setExit))
    .command(evidenceCommand(setExit))
    .command(controlsCommand(setExit))
    .command(permissionsCommand(setExit))
    .command(checkDomainCommand(setExit))
    .command(simCommand(setExit))
    .command(demoCommand(setExit))
    .completion('completion', 'Print a shell completion script for bash or zsh (source it from your shell profile)')
    .option('debug', { type: 'boolean', default: false, describe: 'Print stack traces of unexpected errors' })
    .demandCommand(1, 'Name a command.')
    .strict()
    .strictOptions()
    .recommendCommands()
    .middleware(refuseRepeats as never)
    .middleware(refuseMisreadWords(argv) as never)
    .fail((msg, err) => {
      // Thrown, not printed: yargs would otherwise go on and run the command with what it parsed.
      if (err && err.name !== 'YError' && !(err instanceof UsageError)) throw err;
      throw new UsageError(msg || err?.message || 'the command line could not be read');
    })
    .help()
    .version('version', 'The version of email-posture', TOOL_VERSION)
    .parseAsync();
}
