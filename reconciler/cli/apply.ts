import { sha256 } from '../core/hash.js';
import { existsSync, readFileSync } from 'node:fs';
import { relative, resolve } from 'node:path';
import { createInterface } from 'node:readline/promises';
import type { CommandModule } from 'yargs';
import { ApplyRefused, checkShape, DEFAULT_CONCURRENCY, preflight, type Preflight } from '../apply/apply.js';
import { describeChange, type PlannedChange } from '../model/change.js';
import type { PlanDocument } from '../model/plan.js';
import { renderRestores } from '../report/human.js';
import { readJsonFile } from '../input/json-file.js';
import { InputError, loadSynthOutput } from '../input/synth-output.js';
import { runPlan } from '../plan/run.js';
import { planEvidence } from '../evidence/recorder.js';
import { isHash, type ChangeEvidenceRecord, type EvidenceRecord } from '../evidence/records.js';
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
import { trailRecords } from '../evidence/verify.js';
import type { ChangeOutcome } from '../apply/apply.js';
import { evidenceSummary, outputChange, outputError, outputFormat, printJsonDocument, withOutputFormat, type ApplyDocument, type OutputFormat } from './json-output.js';

export interface ApplyArgs extends Omit<PlanArgs, 'format' | 'out' | 'color'> {
  plan?: string;
  'auto-approve': boolean;
  'max-changes': number;
  'expect-head'?: string;
  format: OutputFormat[];
}

/** The record of each change in the run's part of the trail: its `change` record and the `intent` it points at. */
function changeEvidence(records: readonly EvidenceRecord[], runId: string): Array<ApplyDocument['changes'][number]['evidence']> {
  const bySeq = new Map(records.map((r) => [r.seq, r]));
  // The recorder writes one change record per planned change, in the plan's order.
  return records
    .filter((r): r is ChangeEvidenceRecord => r.runId === runId && r.kind === 'change')
    .map((r) => {
      const intent = r.intent !== undefined ? bySeq.get(r.intent) : undefined;
      return { change: { seq: r.seq, hash: r.hash }, ...(intent ? { intent: { seq: intent.seq, hash: intent.hash } } : {}) };
    });
}

/** The document of an apply run: every change of the plan with its outcome, and the run's records. */
function applyDocument(o: {
  code: number;
  changes: readonly PlannedChange[];
  outcomes: readonly ChangeOutcome[];
  runId?: string | undefined;
  tenantId?: string | undefined;
  stack?: string | undefined;
  plan?: PlanDocument | undefined;
  planFile?: string | undefined;
  trailPath?: string | undefined;
  error?: unknown;
}): ApplyDocument {
  let records: EvidenceRecord[] = [];
  if (o.trailPath && existsSync(o.trailPath)) {
    try {
      records = trailRecords(readFileSync(o.trailPath, 'utf8'), { tolerateProblems: true });
    } catch {
      records = [];
    }
  }
  const evidence = o.runId ? changeEvidence(records, o.runId) : [];
  const changes = o.changes.map((c, i) => {
    const outcome = o.outcomes.find((x) => x.change === c);
    const result: 'applied' | 'failed' | 'skipped' = outcome?.result ?? 'skipped';
    const recorded = evidence[i];
    return {
      ...outputChange(c),
      result,
      verified: result === 'applied',
      ...(outcome?.error !== undefined ? { error: outcome.error } : {}),
      ...(outcome?.settled !== undefined ? { settled: outcome.settled } : {}),
      ...(recorded ? { evidence: recorded } : {}),
    };
  });
  const count = (r: string) => changes.filter((c) => c.result === r).length;
  return {
    schemaVersion: 1,
    kind: 'email-posture-apply',
    ok: o.code === 0,
    exitCode: o.code,
    ...(o.runId ? { runId: o.runId } : {}),
    ...(o.tenantId ? { tenantId: o.tenantId } : {}),
    ...(o.stack ? { stack: o.stack } : {}),
    ...(o.planFile ? { planFile: o.planFile } : {}),
    ...(o.plan && typeof o.plan.planHash === 'string' ? { planHash: o.plan.planHash } : {}),
    ...(o.plan && typeof o.plan.rollbackOf === 'string' ? { rollbackOf: o.plan.rollbackOf } : {}),
    changes,
    counts: { applied: count('applied'), failed: count('failed'), skipped: count('skipped') },
    ...(o.trailPath && o.runId ? { evidence: evidenceSummary(o.trailPath, records, o.runId) } : {}),
    ...(o.error !== undefined ? { error: outputError(o.error) } : {}),
  };
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
      withOutputFormat(expectHeadOption(evidenceOption(tenantOptions(y))), 'each change and its outcome (applied and verified, failed, skipped), its evidence records and the exit status')
        .positional('plan', { type: 'string', describe: 'A plan saved with `posture plan --out FILE`' })
        .option('auto-approve', { type: 'boolean', default: false, describe: "Apply without asking for 'yes'" })
        .option('max-changes', wholeNumberOption('max-changes', { min: 0, max: 10_000, unit: 'changes', default: 25, describe: 'Refuse to apply more changes than this in one run' }))
        .option('today', dayOption('today', 'Day used for exception expiry (YYYY-MM-DD)', true)) as never,
    handler: async (args) => {
      const log = createLogger(args['log-format']);
      const today = args.today ?? new Date().toISOString().slice(0, 10);
      let run: OpenRun | undefined;
      // What the run's document says, filled in as the run learns it.
      let json = false;
      let out: NodeJS.WritableStream = process.stdout;
      const seen: { plan?: PlanDocument; planFile?: string; tenantId?: string; stack?: string; outcomes: readonly ChangeOutcome[] } = { outcomes: [] };
      const document = (code: number, error?: unknown) =>
        applyDocument({
          code,
          changes: seen.plan && Array.isArray(seen.plan.changes) ? seen.plan.changes : [],
          outcomes: seen.outcomes,
          runId: run?.runId,
          tenantId: seen.tenantId,
          stack: seen.stack,
          plan: seen.plan,
          planFile: seen.planFile,
          trailPath: run?.trail?.path,
          error,
        });
      try {
        json = outputFormat(args.format) === 'json';
        if (json) out = process.stderr;
        const maxChanges = args['max-changes'];
        if (!Number.isInteger(maxChanges) || maxChanges < 0) throw new InputError('--max-changes must be a whole number of changes, 0 or more');
        let plan: PlanDocument | undefined;
        let planFile: { path: string; sha256: string } | undefined;
        if (args.plan) {
          plan = readJsonFile(args.plan) as PlanDocument;
          if ((plan as { format?: unknown } | null)?.format === 'email-posture-response') {
            if (json) throw new InputError(`${args.plan} is a response plan: --format json is for posture and rollback plans; apply it without --format`);
            setExit(await applyResponsePlan(args.plan, plan as unknown as ResponsePlan, args, confirmInteractively));
            return;
          }
          if (plan?.format !== 'email-posture-plan') throw new InputError(`${args.plan} is not an email-posture plan`);
          planFile = { path: args.plan, sha256: sha256(readFileSync(args.plan)) };
          seen.plan = plan;
          seen.planFile = args.plan;
        } else if (!args['auto-approve']) {
          throw new ApplyRefused('apply without a plan file plans and applies in one step, and only with --auto-approve');
        }
        const input = loadSynthOutput(resolve(args['synth-dir']), args.stack ?? (plan && typeof plan.stack === 'string' ? plan.stack : undefined));
        const expectHead = expectedHead(args['expect-head']);
        const conn = connectFrom(args);
        seen.tenantId = conn.tenant;
        seen.stack = input.stack;
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
        let checked: Preflight | undefined;
        try {
          if (plan) checkShape(plan);
          log.info(`reading tenant ${conn.tenant} for stack ${input.stack} (${conn.tokens.description})`);
          await signIn(conn);
          if (!plan) {
            ({ plan } = await runPlan({ kind: 'plan', manifest: input.manifest, tenantId: conn.tenant, today, read: { graph: conn.graph, exchange: conn.exchange, resolver: conn.resolver } }));
            trail?.append(planEvidence(plan, runId, actor, exitCodeOf(plan)));
            seen.plan = plan;
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
            out.write('No changes to apply.\n');
            if (json) printJsonDocument(document(0));
            setExit(0);
            return;
          }
          checked = await preflight(p, input.manifest, conn, { maxChanges, today, ...(p.rollbackOf && trail ? { trail: existsSync(trail.path) ? readFileSync(trail.path, 'utf8') : '' } : {}) });
          out.write(printable(`${p.changes.length} change${p.changes.length === 1 ? '' : 's'} to apply:\n${p.changes.map((c) => `  ${terminalSafe(describeChange(c))}`).join('\n')}\n`));
          if (p.restores?.length) out.write(printable(renderRestores(p.restores)));
          const approved = args['auto-approve'] || (process.stdin.isTTY === true && (await confirmInteractively(p.changes)));
          if (!approved) {
            throw new ApplyRefused(process.stdin.isTTY ? 'not applied: the answer was not "yes"' : "not applied: confirm with 'yes' at a terminal, or pass --auto-approve", 'not-approved');
          }
        } catch (err) {
          if (err instanceof ApplyRefused) recordRefusal(run, err, attempt(), log);
          throw err;
        }
        const p = plan;
        // The targets preflight read stand as the writes' before-values only when the writes follow it
        // at once; after a person was asked, each target is read again just before its write.
        const targets = args['auto-approve'] && checked ? checked.targets : undefined;
        const { code, ended, summary, outcomes } = await applyRecorded(p, conn, run, 'apply', out, { concurrency: DEFAULT_CONCURRENCY, ...(targets ? { targets } : {}) });
        seen.outcomes = outcomes;
        out.write(printable(summary));
        if (trail && ended) log.info(`recorded as run ${runId} in ${relative(process.cwd(), trail.path) || trail.path}`);
        if (json) printJsonDocument(document(code));
        setExit(code);
      } catch (err) {
        fail(err, args.debug, 'apply');
        // Two formats to stdout leave stdout empty, as plan does; any other failure is still a document.
        if (json) printJsonDocument(document(1, err));
        setExit(1);
      } finally {
        await run?.lock.release();
      }
    },
  };
}
