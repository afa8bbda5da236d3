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
import { synthCommand } from './synth.js';

/** Runs the `posture` command line and returns its exit code (0 success, 1 error). */
export async function main(argv: readonly string[]): Promise<number> {
  let exitCode = 0;
  const setExit = (code: number) => {
    exitCode = code;
  };
  const debug = argv.includes('--debug');
  try {
    await run(argv, setExit);
  } catch (err) {
    console.error(`posture: ${err instanceof Error ? err.message : String(err)}`);
    if (debug && err instanceof Error) console.error(err.stack);
    return 1;
  }
  return exitCode;
}

async function run(argv: readonly string[], setExit: (code: number) => void): Promise<void> {
  await yargs([...argv])
    .scriptName('posture')
    .usage('$0 <command> [options]\n\nEmail-security posture for Microsoft 365 / Entra ID, as code.')
    .command(synthCommand(setExit))
    .command(planCommand('plan', setExit))
    .command(planCommand('drift', setExit))
    .command(showCommand(setExit))
    .command(applyCommand(setExit))
    .command(rollbackCommand(setExit))
    .command(evidenceCommand(setExit))
    .command(controlsCommand(setExit))
    .command(permissionsCommand(setExit))
    .command(checkDomainCommand(setExit))
    .command(simCommand(setExit))
    .command(demoCommand(setExit))
    .option('debug', { type: 'boolean', default: false, describe: 'Print stack traces of unexpected errors' })
    .demandCommand(1, 'Name a command; see posture --help.')
    .strict()
    .recommendCommands()
    .fail((msg, err) => {
      if (err) throw err;
      console.error(`posture: ${msg}\n(see posture --help)`);
      setExit(1);
    })
    .help()
    .version(false)
    .parseAsync();
}
