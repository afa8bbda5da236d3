import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';
import type { CommandModule } from 'yargs';
import { ApplyRefused } from '../apply/apply.js';
import { findingsRestored, planRollback } from '../apply/rollback.js';
import { rollbackState } from '../apply/rollback-state.js';
import { describeChange, type PlannedChange } from '../model/change.js';
import { newRunId, planEvidence } from '../evidence/recorder.js';
import { trailRecords } from '../evidence/verify.js';
import { sameTenant } from '../input/connection.js';
import { InputError, loadSynthOutput } from '../input/synth-output.js';
import { buildPlan } from '../plan/build.js';
import { renderRestores } from '../report/human.js';
import { DEFAULT_EVIDENCE_FILE, expectedHead, expectHeadOption, openEvidence } from './evidence.js';
import { createLogger, printable } from './log.js';
import { jsonSafe, terminalSafe } from '../core/text.js';
import { fail } from './fail.js';
import { connectFrom, tenantOptions, type PlanArgs } from './plan.js';
import { openRun, recordRefusal, type OpenRun } from './run.js';
import { signIn } from '../input/connection.js';
import type { EvidenceRecord } from '../evidence/records.js';
import type { RestoredFinding } from '../model/plan.js';
import { evidenceSummary, outputChange, outputError, outputFormat, printJsonDocument, withOutputFormat, type OutputFormat, type RollbackDocument } from './json-output.js';

interface RollbackArgs extends Omit<PlanArgs, 'format' | 'out' | 'color' | 'today'> {
  run: string;
  out: string;
  'expect-head'?: string;
  'restore-insecure': boolean;
  format: OutputFormat[];
}

/**
 * `posture rollback RUN_ID`: plans the reverse of an apply run's changes from the before-values in
 * the evidence trail. The plan is applied with `posture apply`, under all of apply's rails.
 */
export function rollbackCommand(setExit: (code: number) => void): CommandModule<object, RollbackArgs> {
  return {
    command: 'rollback <run>',
    describe: 'Plan the reverse of an apply run from its recorded before-values; apply it with `posture apply FILE`',
    builder: (y) =>
      withOutputFormat(expectHeadOption(tenantOptions(y)), 'the rollback plan saved, each of its changes, what cannot be reversed, its evidence record and the exit status')
        .positional('run', { type: 'string', demandOption: true, describe: 'The run id of an apply, as its log and the evidence trail show it' })
        .option('evidence', { type: 'string', default: DEFAULT_EVIDENCE_FILE, describe: 'The evidence file the run is recorded in; the rollback plan is recorded there too' })
        .option('out', { type: 'string', default: 'rollback-plan.json', describe: 'Where to save the rollback plan' })
        .option('restore-insecure', {
          type: 'boolean',
          default: false,
          describe: 'Undo security fixes: the rollback brings back the findings the run fixed (an exfiltrating inbox rule, a risky consent grant, …); without it, such a rollback is refused',
        }) as never,
    handler: async (args) => {
      const log = createLogger(args['log-format']);
      let run: OpenRun | undefined;
      let json = false;
      let out: NodeJS.WritableStream = process.stdout;
      // What the run's document says, filled in as the run learns it.
      const seen: {
        tenantId?: string; stack?: string; planFile?: string; planHash?: string; changes: PlannedChange[]; irreversible: RollbackDocument['irreversible'];
        undone: number; restores: readonly RestoredFinding[]; trailPath?: string; record?: EvidenceRecord;
      } = { changes: [], irreversible: [], undone: 0, restores: [] };
      const document = (code: number, error?: unknown): RollbackDocument => ({
        schemaVersion: 1,
        kind: 'email-posture-rollback',
        ok: code !== 1,
        exitCode: code,
        rollbackOf: args.run,
        ...(seen.tenantId ? { tenantId: seen.tenantId } : {}),
        ...(seen.stack ? { stack: seen.stack } : {}),
        ...(seen.planFile ? { planFile: seen.planFile } : {}),
        ...(seen.planHash ? { planHash: seen.planHash } : {}),
        changes: seen.changes.map(outputChange),
        irreversible: seen.irreversible,
        undone: seen.undone,
        restores: seen.restores,
        ...(seen.trailPath && seen.record ? { evidence: evidenceSummary(seen.trailPath, [seen.record], seen.record.runId) } : {}),
        ...(error !== undefined ? { error: outputError(error) } : {}),
      });
      try {
        json = outputFormat(args.format) === 'json';
        if (json) out = process.stderr;
        const file = args.evidence as unknown;
        if (file === false || file === '' || file === 'false') throw new InputError('rollback reads the run from the evidence trail: name it with --evidence FILE');
        if (Array.isArray(file)) throw new InputError('--evidence names one file; it was given more than once');
        const expectHead = expectedHead(args['expect-head']);
        if (expectHead !== undefined) openEvidence(file as string, expectHead);
        const read = () => {
          try {
            return trailRecords(readFileSync(file as string, 'utf8'));
          } catch (err) {
            const code = (err as NodeJS.ErrnoException).code;
            throw new InputError(`${args.evidence}: ${code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory, not an evidence file' : (err as Error).message}`);
          }
        };
        const first = planRollback(read(), args.run).start;
        if (!first) {
          throw new InputError(read().some((r) => r.runId === args.run) ? `run ${args.run} in ${args.evidence} is not an apply; it changed nothing` : `no run ${args.run} in ${args.evidence}`);
        }
        const input = loadSynthOutput(resolve(args['synth-dir']), args.stack ?? first.stack);
        const conn = connectFrom({ ...args, tenant: args.tenant ?? first.tenantId });
        seen.tenantId = conn.tenant;
        seen.stack = input.stack;
        await signIn(conn);
        // The same lock as apply; and an interrupted apply (this one, perhaps) is settled before its changes are reversed.
        run = await openRun({ conn, evidence: file as string, expectHead, log, attempt: () => ({ command: 'rollback', rollbackOf: args.run, tenantId: conn.tenant, stack: input.stack }) });
        const { trail } = run;
        const records = read();
        const { start, steps, irreversible, undone } = planRollback(records, args.run);
        seen.undone = undone;
        seen.irreversible = irreversible.map((i) => ({ type: String(i.record.resource.type), name: String(i.record.resource.name), control: String(i.record.control), reason: i.reason }));
        const attempt = () => ({ command: 'rollback' as const, rollbackOf: args.run, tenantId: conn.tenant, stack: input.stack, changes: steps.length });
        try {
          if (!sameTenant(conn.tenant, start!.tenantId)) throw new ApplyRefused(`run ${args.run} changed tenant ${start!.tenantId}, not ${conn.tenant}`, 'tenant');
          if (undone) log.info(`${undone} change${undone === 1 ? ' was' : 's were'} rolled back already and ${undone === 1 ? 'is' : 'are'} left out`);

          log.info(`reading the ${steps.length} resource${steps.length === 1 ? '' : 's'} run ${args.run} changed, in tenant ${conn.tenant} (${conn.tokens.description})`);
          // What the run left must still be there: otherwise someone changed it since, and undoing the run would undo them too.
          const { states, stale } = await rollbackState(conn, args.run, steps);
          if (stale.length) {
            throw new ApplyRefused(`cannot roll back run ${args.run}: ${stale.join('; ')}. Plan and apply the posture instead, or change these by hand`, 'stale');
          }
          // Undoing a security fix brings its finding back: only on purpose, and said in the plan.
          const restores = findingsRestored(steps, records);
          seen.restores = restores;
          if (restores.length && !args['restore-insecure']) {
            throw new ApplyRefused(
              `refusing to roll back run ${args.run} without --restore-insecure. ${renderRestores(restores)}No plan was saved. To restore that insecure state on purpose, run rollback again with --restore-insecure`,
              'restore-insecure',
            );
          }
          const changes: PlannedChange[] = steps.map((s) => ({
            findingId: s.record.findingId,
            control: s.record.control,
            resource: s.resource,
            action: s.action,
            fingerprint: states.get(s)!.fingerprint,
            readAt: states.get(s)!.readAt,
            write: s.write,
            before: states.get(s)!.value,
            rollbackOf: { runId: args.run, seq: s.record.seq },
          }));
          const plan = buildPlan({ kind: 'plan', manifest: input.manifest, tenantId: conn.tenant, findings: [], incomplete: [], changes, rollbackOf: args.run, restores });
          mkdirSync(dirname(resolve(args.out)), { recursive: true });
          writeFileSync(args.out, `${jsonSafe(JSON.stringify(plan, null, 2))}\n`);
          Object.assign(seen, { changes, planFile: args.out, planHash: plan.planHash });
          const shown = relative(process.cwd(), resolve(args.out)) || args.out;
          out.write(printable(
            changes.length
              ? `Rollback of run ${terminalSafe(args.run)}: ${changes.length} change${changes.length === 1 ? '' : 's'}, last change first:\n${changes.map((c) => `  ${terminalSafe(describeChange(c))}`).join('\n')}\n`
              : `Rollback of run ${terminalSafe(args.run)}: nothing to reverse${undone ? ' (it was rolled back already)' : ''}.\n`,
          ));
          if (restores.length) out.write(printable(renderRestores(restores)));
          for (const i of irreversible) out.write(printable(`  not reversible: ${terminalSafe(`${i.record.resource.type} "${i.record.resource.name}" (${i.record.control}): ${i.reason}`)}\n`));
          if (changes.length) out.write(printable(`Saved to ${terminalSafe(shown)}. Review it, then: posture apply ${terminalSafe(shown)}\n`));
          const code = irreversible.length ? 1 : changes.length ? 2 : 0;
          if (trail) {
            seen.record = trail.append(planEvidence(plan, newRunId(), run.actor, code));
            seen.trailPath = trail.path;
            log.info(`recorded in ${relative(process.cwd(), trail.path) || trail.path}`);
          }
          if (json) printJsonDocument(document(code));
          setExit(code);
        } catch (err) {
          if (err instanceof ApplyRefused) recordRefusal(run, err, attempt(), log);
          throw err;
        }
      } catch (err) {
        fail(err, args.debug, 'rollback');
        if (json) printJsonDocument(document(1, err));
        setExit(1);
      } finally {
        await run?.lock.release();
      }
    },
  };
}
