import { TOOL_VERSION } from '../version.js';
import yargs, { type CommandModule } from 'yargs';
import { withHelp } from './help.js';
import { refuseMisreadWords, refuseRepeats, UsageError } from './options.js';
import { printable } from './log.js';
import { asksForJson, printJsonDocument, usageFailureDocument } from './json-output.js';

type SetExit = (code: number) => void;

/**
 * Each command's module, loaded only when the command line names it: `posture plan` does not load the
 * simulator, the SMTP prober or the response engine. Top-level help, completion and a misspelled
 * command load them all.
 */
const LOADERS: Readonly<Record<string, (setExit: SetExit) => Promise<CommandModule<object, never>>>> = {
  init: async (e) => (await import('./init.js')).initCommand(e) as never,
  import: async (e) => (await import('./import.js')).importCommand(e) as never,
  synth: async (e) => (await import('./synth.js')).synthCommand(e) as never,
  plan: async (e) => (await import('./plan.js')).planCommand('plan', e) as never,
  drift: async (e) => (await import('./plan.js')).planCommand('drift', e) as never,
  show: async (e) => (await import('./plan.js')).showCommand(e) as never,
  apply: async (e) => (await import('./apply.js')).applyCommand(e) as never,
  rollback: async (e) => (await import('./rollback.js')).rollbackCommand(e) as never,
  respond: async (e) => (await import('./respond.js')).respondCommand(e) as never,
  probe: async (e) => (await import('./probe.js')).probeCommand(e) as never,
  fleet: async (e) => (await import('./fleet.js')).fleetCommand(e) as never,
  evidence: async (e) => (await import('./evidence.js')).evidenceCommand(e) as never,
  controls: async (e) => (await import('./controls.js')).controlsCommand(e) as never,
  permissions: async (e) => (await import('./permissions.js')).permissionsCommand(e) as never,
  'check-domain': async (e) => (await import('./check-domain.js')).checkDomainCommand(e) as never,
  sim: async (e) => (await import('./sim.js')).simCommand(e) as never,
  demo: async (e) => (await import('./demo.js')).demoCommand(e) as never,
};

const COMMANDS = new Set(Object.keys(LOADERS));

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
    // synth, apply and rollback with --format json: stdout still holds one document saying what failed.
    const document = err instanceof UsageError && asksForJson(argv) ? usageFailureDocument(command, message) : undefined;
    if (document) printJsonDocument(document);
    else if (debug && err instanceof Error && err.stack) process.stderr.write(`${printable(err.stack)}\n`);
    return 1;
  }
  return exitCode;
}

async function run(argv: readonly string[], setExit: SetExit): Promise<void> {
  const named = argv.find((a) => !a.startsWith('-')) ?? '';
  // `posture --version` needs no command at all.
  const wanted = COMMANDS.has(named) ? [named] : !named && argv.includes('--version') ? [] : [...COMMANDS];
  const commands = await Promise.all(wanted.map(async (name) => withHelp(await LOADERS[name]!(setExit))));
  const cli = yargs([...argv]);
  for (const command of commands) cli.command(command);
  await cli
    .scriptName('posture')
    // Options are read by their --names only; without camelCase copies an unknown one is named once.
    .parserConfiguration({ 'camel-case-expansion': false })
    .usage('$0 <command> [options]\n\nEmail-security posture for Microsoft 365 / Entra ID, as code.')
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
