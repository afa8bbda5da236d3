import { sha256 } from '../core/hash.js';
import { existsSync, readFileSync } from 'node:fs';
import { relative, resolve } from 'node:path';
import { createInterface } from 'node:readline/promises';
import type { CommandModule } from 'yargs';
import { ApplyRefused, checkShape, preflight } from '../apply/apply.js';
import { describeChange, type PlannedChange } from '../model/change.js';
import type { PlanDocument } from '../model/plan.js';
import { renderRestores } from '../report/human.js';
import { readJsonFile } from '../input/json-file.js';
import { InputError, loadSynthOutput } from '../input/synth-output.js';
import { runPlan } from '../plan/run.js';
import { planEvidence } from '../evidence/recorder.js';
import { isHash } from '../evidence/records.js';
import { exitCodeOf } from '../plan/build.js';
import { evidenceOption, expectedHead, expectHeadOption } from './evidence.js';
import { createLogger, printable } from './log.js';
import { terminalSafe } from '../core/text.js';
import { dayOption, wholeNumberOption } from './options.js';
import { fail } from './fail.js';
import { connectFrom, tenantOptions, type PlanArgs } from './plan.js';
import { applyRecorded, openRun, recordRefusal, type OpenRun } from './run.js';
import { applyResponsePlan } from './respond.js';
import type { ResponsePlan } from '../respond/run.js';
import { signIn } from '../input/connection.js';

export interface ApplyArgs extends Omit<PlanArgs, 'format' | 'out' | 'color'> {
  plan?: string;
  'auto-approve': boolean;
  'max-changes': number;
  'expect-head'?: string;
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
      expectHeadOption(evidenceOption(tenantOptions(y)))
        .positional('plan', { type: 'string', describe: 'A plan saved with `posture plan --out FILE`' })
        .option('auto-approve', { type: 'boolean', default: false, describe: "Apply without asking for 'yes'" })
        .option('max-changes', wholeNumberOption('max-changes', { min: 0, max: 10_000, unit: 'changes', default: 25, describe: 'Refuse to apply more changes than this in one run' }))
        .option('today', dayOption('today', 'Day used for exception expiry (YYYY-MM-DD)', true)) as never,
    handler: async (args) => {
      const log = createLogger(args['log-format']);
      const today = args.today ?? new Date().toISOString().slice(0, 10);
      let run: OpenRun | undefined;
      try {
        const maxChanges = args['max-changes'];
        if (!Number.isInteger(maxChanges) || maxChanges < 0) throw new InputError('--max-changes must be a whole number of changes, 0 or more');
        let plan: PlanDocument | undefined;
        let planFile: { path: string; sha256: string } | undefined;
        if (args.plan) {
          plan = readJsonFile(args.plan) as PlanDocument;
          if ((plan as { format?: unknown } | null)?.format === 'email-posture-response') {
            setExit(await applyResponsePlan(args.plan, plan as unknown as ResponsePlan, args, confirmInteractively));
            return;
          }
          if (plan?.format !== 'email-posture-plan') throw new InputError(`${args.plan} is not an email-posture plan`);
          planFile = { path: args.plan, sha256: sha256(readFileSync(args.plan)) };
        } else if (!args['auto-approve']) {
          throw new ApplyRefused('apply without a plan file plans and applies in one step, and only with --auto-approve');
        }
        const input = loadSynthOutput(resolve(args['synth-dir']), args.stack ?? (plan && typeof plan.stack === 'string' ? plan.stack : undefined));
        const expectHead = expectedHead(args['expect-head']);
        const conn = connectFrom(args);
        const attempt = () => ({
          command: 'apply' as const,
          tenantId: conn.tenant,
          stack: input.stack,
          ...(plan && isHash(plan.planHash) ? { planHash: plan.planHash } : {}),
          ...(planFile ? { planFile } : {}),
          ...(plan && typeof plan.rollbackOf === 'string' ? { rollbackOf: plan.rollbackOf } : {}),
          ...(plan && Array.isArray(plan.changes) ? { changes: plan.changes.length } : {}),
        });
        // One apply or rollback at a time per tenant and trail; an interrupted one is settled first.
        run = await openRun({ conn, evidence: args.evidence, expectHead, log, attempt });
        const { trail, runId, actor } = run;
        try {
          if (plan) checkShape(plan);
          log.info(`reading tenant ${conn.tenant} for stack ${input.stack} (${conn.tokens.description})`);
          await signIn(conn);
          if (!plan) {
            ({ plan } = await runPlan({ kind: 'plan', manifest: input.manifest, tenantId: conn.tenant, today, read: { graph: conn.graph, exchange: conn.exchange, resolver: conn.resolver } }));
            trail?.append(planEvidence(plan, runId, actor, exitCodeOf(plan)));
          }
          const p = plan;
          // A partial read is never "nothing to do": say what could not be read, before counting changes.
          if (p.incomplete.length) {
            throw new ApplyRefused(
              `${args.plan ? 'the plan was made from an incomplete read' : 'the tenant could not be read completely'}, so nothing was applied. Could not read:\n${p.incomplete.map((i) => `  - ${i.what} (${i.endpoint}): ${i.error}`).join('\n')}`,
              'incomplete-read',
            );
          }
          if (p.changes.length === 0) {
            process.stdout.write('No changes to apply.\n');
            setExit(0);
            return;
          }
          await preflight(p, input.manifest, conn, { maxChanges, today, ...(p.rollbackOf && trail ? { trail: existsSync(trail.path) ? readFileSync(trail.path, 'utf8') : '' } : {}) });
          process.stdout.write(printable(`${p.changes.length} change${p.changes.length === 1 ? '' : 's'} to apply:\n${p.changes.map((c) => `  ${terminalSafe(describeChange(c))}`).join('\n')}\n`));
          if (p.restores?.length) process.stdout.write(printable(renderRestores(p.restores)));
          const approved = args['auto-approve'] || (process.stdin.isTTY === true && (await confirmInteractively(p.changes)));
          if (!approved) {
            throw new ApplyRefused(process.stdin.isTTY ? 'not applied: the answer was not "yes"' : "not applied: confirm with 'yes' at a terminal, or pass --auto-approve", 'not-approved');
          }
        } catch (err) {
          if (err instanceof ApplyRefused) recordRefusal(run, err, attempt(), log);
          throw err;
        }
        const p = plan;
        const { code, ended, summary } = await applyRecorded(p, conn, run, 'apply');
        process.stdout.write(printable(summary));
        if (trail && ended) log.info(`recorded as run ${runId} in ${relative(process.cwd(), trail.path) || trail.path}`);
        setExit(code);
      } catch (err) {
        fail(err, args.debug, 'apply');
        setExit(1);
      } finally {
        await run?.lock.release();
      }
    },
  };
}
