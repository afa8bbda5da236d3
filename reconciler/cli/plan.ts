import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';
import type { Argv, CommandModule } from 'yargs';
import { AUTH_METHODS, type AuthMethod } from '../auth/tokens.js';
import type { PlanDocument } from '../model/plan.js';
import { connect, DEFAULT_EXCHANGE_URL, DEFAULT_GRAPH_URL, signIn, type Connection } from '../input/connection.js';
import { MAX_JSON_DEPTH, tooDeep } from '../input/json-depth.js';
import { InputError, loadSynthOutput } from '../input/synth-output.js';
import { sarifPlaces } from '../input/repository.js';
import { exitCodeOf } from '../plan/build.js';
import { runPlan } from '../plan/run.js';
import { renderHuman } from '../report/human.js';
import { changesText, tally, tallyText } from '../report/shared.js';
import { REPORT_FORMATS, renderReport, type ReportFormat, type ReportOptions } from '../report/index.js';
import { newRunId, planEvidence } from '../evidence/recorder.js';
import { actorOf, evidenceOption, openEvidence } from './evidence.js';
import { incrementalOptions, incrementalSetup } from './incremental.js';
import { fail } from './fail.js';
import { createLogger, printable, type LogFormat } from './log.js';
import { pipelineLines, pipelineOf, writeJobSummary } from './pipeline.js';
import { mapStrings, terminalSafe } from '../core/text.js';
import { redactSecrets } from '../core/redact.js';
import { colourByDefault, dayOption, wholeNumberOption } from './options.js';
import { deliverAlerts, resolveDestinations } from './alerts.js';
import { DEFAULT_WEBHOOK_POLICY } from '../transport/webhook.js';

export interface PlanArgs {
  'synth-dir': string;
  stack?: string;
  tenant?: string;
  auth: AuthMethod;
  'graph-url': string;
  'exchange-url': string;
  'dns-server'?: string;
  format: ReportFormat[];
  out: string[];
  'log-format': LogFormat;
  timeout: number;
  'max-retries': number;
  today?: string;
  'evidence-until'?: string;
  now?: string;
  color: boolean;
  debug: boolean;
  evidence: string | false;
  'confirm-near-miss': boolean;
  'deliver-alerts': boolean;
  /** `posture drift` only (see cli/incremental.ts). */
  incremental?: boolean;
  full?: boolean;
  'rotation-period'?: number;
}

/** Options shared by every command that reads the tenant. */
export function tenantOptions<T>(y: Argv<T>) {
  return y
    .option('synth-dir', { type: 'string', default: 'cdktf.out', describe: 'Synthesized output to read (cdk.tf.json and posture.json per stack)' })
    .option('stack', { type: 'string', describe: 'Stack to use when the output holds several' })
    .option('tenant', { type: 'string', describe: 'Tenant id or initial domain (default: AZURE_TENANT_ID)' })
    .option('auth', { choices: AUTH_METHODS, default: 'auto' as AuthMethod, describe: 'How to get tokens (auto: a pre-issued token, else AZURE_* client secret/certificate, workload identity, GitHub OIDC, Azure Pipelines, a managed identity endpoint, the Azure CLI)' })
    .option('graph-url', { type: 'string', default: DEFAULT_GRAPH_URL, describe: 'Microsoft Graph endpoint (sovereign clouds, the simulator)' })
    .option('exchange-url', { type: 'string', default: DEFAULT_EXCHANGE_URL, describe: 'Exchange Online endpoint' })
    .option('dns-server', { type: 'string', describe: 'DNS server HOST:PORT (default: the system resolvers)' })
    .option('timeout', wholeNumberOption('timeout', { min: 1, max: 3600, unit: 'seconds', default: 30, describe: 'Seconds to wait for one answer' }))
    .option('max-retries', wholeNumberOption('max-retries', { min: 0, max: 20, unit: 'retries', default: 6, describe: 'Retries of a throttled or failed request (Retry-After honoured; otherwise exponential backoff with jitter)' }))
    .option('log-format', { choices: ['text', 'json'] as const, default: 'text' as LogFormat, describe: 'Logs on stderr: lines, or JSON lines for pipelines' });
}

/** Connects to the tenant the tenant options name. */
export function connectFrom(args: Pick<PlanArgs, 'tenant' | 'auth' | 'graph-url' | 'exchange-url' | 'dns-server' | 'timeout' | 'max-retries'>): Connection {
  return connect({
    ...(args.tenant ? { tenant: args.tenant } : {}),
    auth: args.auth,
    graphUrl: args['graph-url'],
    exchangeUrl: args['exchange-url'],
    ...(args['dns-server'] ? { dnsServer: args['dns-server'] } : {}),
    timeoutMs: args.timeout * 1000,
    maxRetries: args['max-retries'],
    env: process.env,
  });
}

/** Output options: report formats and files. */
export function reportOptions<T>(y: Argv<T>) {
  return y
    .option('format', { type: 'array', choices: REPORT_FORMATS, default: [] as ReportFormat[], describe: 'Report format(s), each paired with an --out in order' })
    .option('out', { type: 'array', string: true, default: [] as string[], describe: 'File for each --format (stdout when a format has none); a lone --out saves the plan as JSON for apply' })
    .option('color', { type: 'boolean', default: colourByDefault(), describe: 'Colour the human plan (default: at a terminal, unless NO_COLOR or TERM=dumb; FORCE_COLOR forces it)' });
}

/** The formats asked for, each paired with its --out; refused when they do not pair (checked before anything is read). */
export function reportFormats(args: Pick<PlanArgs, 'format' | 'out'>): ReportFormat[] {
  const formats: ReportFormat[] = args.format.length === 0 && args.out.length === 1 ? ['json'] : args.format;
  if (args.out.length > formats.length) throw new InputError(`${args.out.length} --out for ${formats.length} --format: give a --format for each --out`);
  // Two documents one after the other on stdout are neither.
  const toStdout = formats.slice(args.out.length);
  if (toStdout.length > 1) throw new InputError(`--format ${toStdout.join(', --format ')} would all go to stdout, one after the other: give each but one an --out`);
  return formats;
}

/**
 * What stdout gets when every report went to a file: the counts, the reads that failed, and where
 * each report went, not the whole plan again (a 60,000-mailbox tenant's plan is thousands of lines).
 */
export function reportSummary(input: PlanDocument, files: ReadonlyArray<{ format: ReportFormat; file: string }>): string {
  // Tenant text loses its secrets and its control characters, as in the human plan.
  const plan = mapStrings(redactSecrets(input), (s) => terminalSafe(s, true));
  const safe = (s: string) => terminalSafe(s, true);
  const t = tally(plan.findings);
  const lines = [
    `email-posture ${plan.kind} · ${plan.organization} · stack ${plan.stack} · tenant ${plan.tenantId} · ${plan.createdAt}`,
    `${changesText(plan)}; ${plan.findings.length === 0 ? 'no findings in what could be read' : tallyText(t)}.`,
    `Reports: ${files.map((r) => `${r.format} in ${safe(redactSecrets(r.file))}`).join(', ')}.`,
  ];
  if (plan.incomplete.length > 0) {
    lines.push(`INCOMPLETE: ${plan.incomplete.length} ${plan.incomplete.length === 1 ? 'read' : 'reads'} failed; this run cannot report "no drift". Not read:`);
    for (const read of plan.incomplete) lines.push(`  - ${read.what}`, `      endpoint: ${read.endpoint}`, `      error:    ${read.error}`);
  }
  return `${lines.join('\n')}\n`;
}

/**
 * Writes the reports asked for; with none asked, the human plan goes to stdout. When every report
 * goes to a file, stdout gets the human plan (`human`, as `posture show` does) or a short summary of
 * the run (`summary`, as plan and drift do).
 */
export function writeReports(plan: PlanDocument, args: Pick<PlanArgs, 'format' | 'out' | 'color'>, options: ReportOptions = {}, whenFiled: 'human' | 'summary' = 'human'): void {
  const formats = reportFormats(args);
  let stdoutUsed = false;
  formats.forEach((format, i) => {
    const text = renderReport(plan, format, options);
    const file = args.out[i];
    if (file) {
      mkdirSync(dirname(resolve(file)), { recursive: true });
      writeFileSync(file, text);
    } else {
      process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
      stdoutUsed = true;
    }
  });
  if (stdoutUsed) return;
  if (whenFiled === 'summary' && formats.length > 0) process.stdout.write(reportSummary(plan, formats.map((format, i) => ({ format, file: args.out[i]! }))));
  else process.stdout.write(renderHuman(plan, { color: args.color }));
}

/** The last instant of a day, or now when the day has not ended: an evidence period never reaches into the future. */
const endOfDay = (day: string): Date => new Date(Math.min(Date.parse(`${day}T23:59:59.999Z`), Date.now()));

/** `posture plan` and `posture drift`. */
export function planCommand(kind: 'plan' | 'drift', setExit: (code: number) => void): CommandModule<object, PlanArgs> {
  return {
    command: kind,
    describe:
      kind === 'plan'
        ? 'Compare the tenant with the posture and show what apply would change, grouped by owner'
        : 'Read-only drift check for scheduled jobs: the same findings, no changes proposed',
    builder: (y) =>
      (kind === 'drift' ? incrementalOptions(evidenceOption(reportOptions(tenantOptions(y)))) : evidenceOption(reportOptions(tenantOptions(y))))
        .option('today', dayOption('today', 'Day used for exception expiry (YYYY-MM-DD)', true))
        .option('evidence-until', dayOption('evidence-until', 'Last day of the evidence period of inbound paths (MAIL.PATH.2), YYYY-MM-DD (default: today)'))
        .option('now', { type: 'string', hidden: true, describe: "The time taken as now, for the services' retention windows (ISO 8601; default: the clock)" })
        .option('confirm-near-miss', {
          type: 'boolean',
          default: false,
          describe: "Confirm each conditional access near miss with Graph's What If evaluation for one user of the policy's population (a failure is noted in the finding, never fails the run)",
        })
        .option('deliver-alerts', {
          type: 'boolean',
          default: false,
          describe: "Send new, reopened and exception-expired findings of alert-mode controls to the posture's alert destinations, once per finding (recorded in the evidence trail)",
        }) as never,
    handler: async (args) => {
      const log = createLogger(args['log-format']);
      try {
        if (args.now !== undefined && Number.isNaN(Date.parse(args.now))) throw new InputError(`--now ${JSON.stringify(args.now)} is not an ISO 8601 time such as 2026-11-30T09:00:00Z`);
        reportFormats(args);
        const input = loadSynthOutput(resolve(args['synth-dir']), args.stack);
        const trail = openEvidence(args.evidence);
        if (args['deliver-alerts'] && !trail) throw new InputError('--deliver-alerts records each delivery in the evidence trail, so that a finding is alerted once: it cannot be used with --no-evidence');
        const destinations = args['deliver-alerts'] ? resolveDestinations(input.manifest, process.env) : undefined;
        const conn = connectFrom(args);
        const incremental = kind === 'drift' ? incrementalSetup({ incremental: args.incremental ?? false, full: args.full ?? false, 'rotation-period': args['rotation-period'] ?? 7, evidence: args.evidence }, conn.tenant) : undefined;
        log.info(`reading tenant ${conn.tenant} for stack ${input.stack} (${conn.tokens.description})`);
        await signIn(conn);
        const today = args.today ?? new Date().toISOString().slice(0, 10);
        const { plan } = await runPlan({
          kind,
          manifest: input.manifest,
          tenantId: conn.tenant,
          today,
          read: {
            graph: conn.graph, exchange: conn.exchange, resolver: conn.resolver, progress: (done, total) => log.progress('inbox rules', done, total),
            ...(args['evidence-until'] ? { asOf: endOfDay(args['evidence-until']) } : {}),
            ...(args.now ? { now: new Date(args.now) } : {}),
          },
          confirm: args['confirm-near-miss'],
          ...(incremental ? { readLive: incremental.readLive } : {}),
        });
        // SARIF points at the declaring code, by repository paths.
        writeReports(plan, args, sarifPlaces(args['synth-dir'], input), 'summary');
        // In a pipeline: annotations for what to act on, and the plan in the job summary (GitHub).
        const pipeline = pipelineOf();
        for (const line of pipelineLines(pipeline, plan)) process.stderr.write(`${line}\n`);
        if (pipeline === 'github') writeJobSummary(renderReport(plan, 'markdown', { manifestPath: input.manifestPath }));
        const stats = { graphRequests: conn.graph.stats.requests, exchangeRequests: conn.exchange.stats.requests, throttled: conn.graph.stats.throttled + conn.exchange.stats.throttled };
        log.info(`${plan.findings.length} findings; ${stats.graphRequests} Graph and ${stats.exchangeRequests} Exchange requests, ${stats.throttled} throttled`, stats);
        if (plan.incomplete.some((i) => / 401 /.test(i.error))) {
          log.warn('the service refused the credentials (HTTP 401): check the token, or the app registration and its secret, certificate or federation');
        }
        if (plan.incomplete.length) {
          log.warn(`the run is incomplete; this is not a clean result. Could not read:\n${plan.incomplete.map((i) => `  - ${terminalSafe(i.what)} (${terminalSafe(i.endpoint)}): ${terminalSafe(i.error)}`).join('\n')}`);
        }
        for (const line of incremental?.finish(plan.incomplete.length === 0) ?? []) log.info(line);
        let code = exitCodeOf(plan);
        const runId = newRunId();
        if (trail && destinations) {
          const alerts = await deliverAlerts({
            plan, manifest: input.manifest, destinations, trail, runId, actor: await actorOf(conn),
            policy: { ...DEFAULT_WEBHOOK_POLICY, timeoutMs: args.timeout * 1000, maxRetries: Math.min(args['max-retries'], DEFAULT_WEBHOOK_POLICY.maxRetries) },
            info: (m) => log.info(m),
          });
          for (const failure of alerts.failures) process.stderr.write(`posture ${kind}: ${printable(failure)}\n`);
          if (alerts.failures.length) code = 1;
        }
        if (trail) {
          const record = trail.append(planEvidence(plan, runId, await actorOf(conn), code));
          log.info(`recorded as run ${record.runId} in ${relative(process.cwd(), trail.path) || trail.path}`);
        }
        setExit(code);
      } catch (err) {
        fail(err, args.debug, kind);
        setExit(1);
      }
    },
  };
}

/** `posture show PLAN.json`: renders a saved plan again, in any format. */
export function showCommand(setExit: (code: number) => void): CommandModule<object, { plan: string; format: ReportFormat[]; out: string[]; color: boolean; debug: boolean }> {
  return {
    command: 'show <plan>',
    describe: 'Show a saved plan (from --format json) as a human plan or another report',
    builder: (y) => reportOptions(y.positional('plan', { type: 'string', demandOption: true, describe: 'A plan saved with --format json' })) as never,
    handler: (args) => {
      try {
        let plan: PlanDocument;
        try {
          plan = JSON.parse(readFileSync(args.plan, 'utf8')) as PlanDocument;
        } catch (err) {
          throw new InputError(`${args.plan}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : `not valid JSON (${(err as Error).message})`}`);
        }
        const deep = tooDeep(plan);
        if (deep) throw new InputError(`${args.plan}: nested deeper than ${MAX_JSON_DEPTH} levels (at ${deep}): not a plan file`);
        if (plan?.format !== 'email-posture-plan') throw new InputError(`${args.plan} is not an email-posture plan`);
        if (plan.formatVersion !== 1) throw new InputError(`${args.plan}: plan format version ${plan.formatVersion} is not supported (this version reads 1)`);
        if (plan.rollbackOf && args.format.some((f) => f !== 'json')) {
          throw new InputError(`${args.plan} is a rollback plan: it is shown as text (no --format) or as json; the other reports are for findings`);
        }
        writeReports(plan, args);
        setExit(exitCodeOf(plan));
      } catch (err) {
        fail(err, args.debug, 'show');
        setExit(1);
      }
    },
  };
}
