import { existsSync, readFileSync } from 'node:fs';
import { relative, resolve } from 'node:path';
import { createInterface } from 'node:readline/promises';
import type { CommandModule } from 'yargs';
import { ApplyRefused, applyChanges, checkShape, preflight } from '../apply/apply.js';
import { describeChange, plannedChanges, type PlannedChange } from '../apply/writes.js';
import { directoryOf } from '../evaluate/context.js';
import { evaluate } from '../evaluate/index.js';
import type { PlanDocument } from '../findings/model.js';
import { InputError, loadSynthOutput } from '../input/synth-output.js';
import { buildPlan } from '../plan/build.js';
import { readTenant } from '../read/live.js';
import { applyRecorder, newRunId, planEvidence } from '../evidence/trail.js';
import { exitCodeOf } from '../plan/build.js';
import { actorOf, evidenceOption, openEvidence } from './evidence.js';
import { createLogger, printable } from './log.js';
import { terminalSafe } from '../safe-text.js';
import { dayOption, wholeNumberOption } from './options.js';
import { connectFrom, fail, tenantOptions, type PlanArgs } from './plan.js';
import { signIn } from '../input/connection.js';

export interface ApplyArgs extends Omit<PlanArgs, 'format' | 'out' | 'color'> {
  plan?: string;
  'auto-approve': boolean;
  'max-changes': number;
}

async function confirmInteractively(changes: readonly PlannedChange[]): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = await rl.question(`\nApply ${changes.length} change${changes.length === 1 ? '' : 's'} to the tenant? Only 'yes' will be accepted: `);
    return answer.trim() === 'yes';
  } finally {
    rl.close();
  }
}

/** `posture apply [PLAN]`: applies a reviewed plan, or plans and applies in one step with --auto-approve. */
export function applyCommand(setExit: (code: number) => void): CommandModule<object, ApplyArgs> {
  return {
    command: 'apply [plan]',
    describe: 'Apply the remediate-mode changes of a saved plan (refused when stale or altered), or plan and apply with --auto-approve',
    builder: (y) =>
      evidenceOption(tenantOptions(y))
        .positional('plan', { type: 'string', describe: 'A plan saved with `posture plan --out FILE`' })
        .option('auto-approve', { type: 'boolean', default: false, describe: "Apply without asking for 'yes'" })
        .option('max-changes', wholeNumberOption('max-changes', { min: 0, max: 10_000, unit: 'changes', default: 25, describe: 'Refuse to apply more changes than this in one run' }))
        .option('today', dayOption('today', 'Day used for exception expiry (YYYY-MM-DD)', true)) as never,
    handler: async (args) => {
      const log = createLogger(args['log-format']);
      const today = args.today ?? new Date().toISOString().slice(0, 10);
      try {
        const maxChanges = args['max-changes'];
        if (!Number.isInteger(maxChanges) || maxChanges < 0) throw new InputError('--max-changes must be a whole number of changes, 0 or more');
        let plan: PlanDocument;
        if (args.plan) {
          plan = readJsonFile(args.plan) as PlanDocument;
          if (plan?.format !== 'email-posture-plan') throw new InputError(`${args.plan} is not an email-posture plan`);
          checkShape(plan);
        } else if (!args['auto-approve']) {
          throw new ApplyRefused('apply without a plan file plans and applies in one step, and only with --auto-approve');
        }
        const input = loadSynthOutput(resolve(args['synth-dir']), args.stack ?? (args.plan ? plan!.stack : undefined));
        const trail = openEvidence(args.evidence);
        const runId = newRunId();
        const conn = connectFrom(args);
        log.info(`reading tenant ${conn.tenant} for stack ${input.stack} (${conn.tokens.description})`);
        await signIn(conn);
        if (!args.plan) {
          const live = await readTenant(input.manifest, { graph: conn.graph, exchange: conn.exchange, resolver: conn.resolver });
          const { findings, incomplete } = evaluate(input.manifest, live, today);
          plan = buildPlan({ kind: 'plan', manifest: input.manifest, tenantId: conn.tenant, findings, incomplete, changes: plannedChanges(findings, input.manifest, live, directoryOf(live)) });
          trail?.append(planEvidence(plan, runId, await actorOf(conn), exitCodeOf(plan)));
        }
        if (plan!.changes.length === 0) {
          process.stdout.write('No changes to apply.\n');
          setExit(0);
          return;
        }
        const { dir } = await preflight(plan!, input.manifest, conn, { maxChanges, today, ...(plan!.rollbackOf && trail ? { trail: existsSync(trail.path) ? readFileSync(trail.path, 'utf8') : '' } : {}) });
        process.stdout.write(printable(`${plan!.changes.length} change${plan!.changes.length === 1 ? '' : 's'} to apply:\n${plan!.changes.map((c) => `  ${terminalSafe(describeChange(c))}`).join('\n')}\n`));
        const approved = args['auto-approve'] || (process.stdin.isTTY === true && (await confirmInteractively(plan!.changes)));
        if (!approved) {
          throw new ApplyRefused(process.stdin.isTTY ? 'not applied: the answer was not "yes"' : "not applied: confirm with 'yes' at a terminal, or pass --auto-approve");
        }
        const recorder = trail ? applyRecorder(trail, runId, await actorOf(conn)) : undefined;
        recorder?.start(plan!);
        let unrecorded: string | undefined;
        const outcomes = await applyChanges(plan!, input.manifest, conn, dir, {
          onChange: (o) => {
            process.stdout.write(printable(`  ${o.result === 'applied' ? 'applied' : 'FAILED '} ${terminalSafe(describeChange(o.change))}${o.error ? `\n    ${terminalSafe(o.error)}` : ''}\n`));
            try {
              recorder?.change(o);
              return true;
            } catch (err) {
              // No write goes unrecorded: stop here, and say plainly which change the trail is missing.
              unrecorded = `${o.result === 'applied' ? 'was applied' : 'failed'} but could not be recorded in the evidence trail (${(err as Error).message})`;
              process.stderr.write(printable(`posture apply: ${terminalSafe(describeChange(o.change))} ${terminalSafe(unrecorded)}; apply stopped\n`));
              return false;
            }
          },
        });
        const failed = outcomes.filter((o) => o.result === 'failed');
        const code = failed.length || unrecorded ? 1 : 0;
        if (!unrecorded) recorder?.end(outcomes, code);
        process.stdout.write(printable(
          unrecorded
            ? `Apply stopped: the last change ${terminalSafe(unrecorded)}. ${plan!.changes.length - outcomes.length} not attempted. Keep the evidence file as it is, and record what happened by hand.\n`
            : failed.length
              ? `Apply stopped at the first failure: ${outcomes.length - failed.length} applied, 1 failed, ${plan!.changes.length - outcomes.length} not attempted. Run plan and apply again once the cause is fixed.\n`
              : `Apply complete: ${outcomes.length} change${outcomes.length === 1 ? '' : 's'} applied and verified.\n`,
        ));
        if (trail && !unrecorded) log.info(`recorded as run ${runId} in ${relative(process.cwd(), trail.path) || trail.path}`);
        setExit(code);
      } catch (err) {
        fail(err, args.debug, 'apply');
        setExit(1);
      }
    },
  };
}

/** A JSON file given on the command line, or one clear message. */
export function readJsonFile(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new InputError(`${file}: ${code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory, not a plan file' : `cannot be read (${code ?? (err as Error).message})`}`);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new InputError(`${file}: not valid JSON (${(err as Error).message})`);
  }
}
