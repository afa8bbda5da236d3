import { lstatSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { Writable } from 'node:stream';
import type { Argv, CommandModule } from 'yargs';
import { redactText } from '../core/redact.js';
import { terminalSafe } from '../core/text.js';
import { tenantEnv } from '../fleet/auth.js';
import { parseFleet, type Fleet, type FleetTenant } from '../fleet/file.js';
import { mergeResults } from '../fleet/merge.js';
import { renderFleetHtml, renderFleetJunit, renderFleetMarkdown } from '../fleet/render.js';
import { engineRunId, parseResult } from '../fleet/result.js';
import { resolveShard, ShardError, tenantsOfShard, type Shard } from '../fleet/shard.js';
import { tenantManifest } from '../fleet/stack.js';
import { connect, DEFAULT_EXCHANGE_URL, DEFAULT_GRAPH_URL, signIn, type Connection } from '../input/connection.js';
import { InputError, loadSynthOutput } from '../input/synth-output.js';
import type { Manifest } from '../manifest/schema.js';
import { FLEET_RESULT_FORMAT, type FleetKind, type FleetOutcome, type FleetResponsePlan, type FleetResult } from '../model/fleet.js';
import { describeChange } from '../model/change.js';
import { exitCodeOf } from '../plan/build.js';
import { runPlan } from '../plan/run.js';
import { renderReport } from '../report/index.js';
import { RateLimiter } from '../transport/graph.js';
import { sleep } from '../transport/middleware.js';
import { fail } from './fail.js';
import { newRunId, planEvidence } from '../evidence/recorder.js';
import { actorOf, openEvidence } from './evidence.js';
import { withHelp } from './help.js';
import { createLogger, printable, type LogFormat, type Logger } from './log.js';
import { dayOption, wholeNumberOption } from './options.js';

/** Bad input to a fleet command (the fleet file, the shard, the options): exit 2, nothing run. */
class FleetInputError extends InputError {}

interface ShardArgs {
  fleet: string;
  'synth-dir': string;
  shard?: string;
  shards?: number;
  'out-dir': string;
  'evidence-dir'?: string;
  concurrency?: number;
  'graph-url': string;
  'exchange-url': string;
  'dns-server'?: string;
  timeout: number;
  'max-retries': number;
  today?: string;
  now?: string;
  'log-format': LogFormat;
  debug: boolean;
  'run-id'?: string;
  /** respond: run each tenant's automatic actions, as `posture respond --auto-approve` does. */
  'auto-approve'?: boolean;
  since?: string;
  'sweep-calendars'?: boolean;
}

/** Reads and checks a fleet file: one message naming the file and the property. */
export function loadFleet(file: string): Fleet {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new FleetInputError(`${file}: ${code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory, not a fleet file' : `cannot be read (${code ?? (err as Error).message})`}`);
  }
  const parsed = parseFleet(text, file);
  if (!parsed.ok) throw new FleetInputError(parsed.errors.length === 1 ? parsed.errors[0]! : `the fleet file is invalid:\n  ${parsed.errors.join('\n  ')}`);
  return parsed.fleet;
}

function shardOptions<T>(y: Argv<T>) {
  return y
    .option('fleet', { type: 'string', demandOption: true, requiresArg: true, describe: 'The fleet file (YAML or JSON): tenants, their overrides of the baseline stack, how to sign in' })
    .option('synth-dir', { type: 'string', default: 'cdktf.out', describe: 'Synthesized output holding the baseline stack the fleet file names' })
    .option('shard', { type: 'string', requiresArg: true, describe: 'The shard to run, I/N from 1/N (a GitHub Actions matrix); default: JOB_COMPLETION_INDEX with --shards (Kubernetes Indexed Job), or SYSTEM_JOBPOSITIONINPHASE of SYSTEM_TOTALJOBSINPHASE (Azure DevOps), or the whole fleet' })
    .option('shards', wholeNumberOption('shards', { min: 1, max: 256, describe: 'The number of shards, where the engine gives only an index (a Kubernetes Indexed Job: its completions)' }))
    .option('out-dir', { type: 'string', demandOption: true, requiresArg: true, describe: 'Folder for the result files, one per tenant (KEY.json)' })
    .option('run-id', { type: 'string', requiresArg: true, describe: "The engine's run, recorded in each result so a merge takes no result of another run (default: GITHUB_RUN_ID, or BUILD_BUILDID)" })
    .option('evidence-dir', { type: 'string', requiresArg: true, describe: "Folder of the tenants' evidence trails, one per tenant (KEY.jsonl), each run recorded in its tenant's trail; default: none" })
    .option('concurrency', wholeNumberOption('concurrency', { min: 1, max: 64, describe: "Tenants read at the same time (default: the fleet file's concurrency, else 4)" }))
    .option('graph-url', { type: 'string', default: DEFAULT_GRAPH_URL, describe: 'Microsoft Graph endpoint (sovereign clouds, the simulator)' })
    .option('exchange-url', { type: 'string', default: DEFAULT_EXCHANGE_URL, describe: 'Exchange Online endpoint' })
    .option('dns-server', { type: 'string', describe: 'DNS server HOST:PORT (default: the system resolvers)' })
    .option('timeout', wholeNumberOption('timeout', { min: 1, max: 3600, unit: 'seconds', default: 30, describe: 'Seconds to wait for one answer' }))
    .option('max-retries', wholeNumberOption('max-retries', { min: 0, max: 20, unit: 'retries', default: 6, describe: 'Retries of a throttled or failed request (Retry-After honoured)' }))
    .option('today', dayOption('today', 'Day used for exception expiry (YYYY-MM-DD)', true))
    .option('now', { type: 'string', hidden: true, describe: "The time taken as now, for the services' retention windows (ISO 8601; default: the clock)" })
    .option('log-format', { choices: ['text', 'json'] as const, default: 'text' as LogFormat, describe: 'Logs on stderr: lines, or JSON lines for pipelines' });
}

/** `posture fleet respond`'s own options: those of `posture respond` that mean the same for every tenant. */
function respondOptions<T>(y: Argv<T>) {
  return y
    .option('auto-approve', { type: 'boolean', default: false, describe: "Run each tenant's automatic actions, as `posture respond --auto-approve` does; without it nothing is written, every tenant's plan is in its result" })
    .option('since', { type: 'string', requiresArg: true, describe: "Read signals observed from this time (ISO 8601) instead of from each tenant's last run" })
    .option('sweep-calendars', { type: 'boolean', default: false, describe: "Search every user's calendar for a chain's invites, not only its recipients'" });
}

/** Where the lines of a tenant's applied writes go: its result counts them, the shard's log says how it went. */
const discard = new Writable({ write: (_chunk, _encoding, done) => done() });

/** Runs `work` over `items`, at most `limit` at a time; never rejects (each item's work catches its own failure). */
async function pool<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const item = items[next++]!;
      await work(item);
    }
  });
  await Promise.all(workers);
}

/** Writes a file whole or not at all: a reader (the merge) never sees half a result. */
function writeWhole(file: string, text: string): void {
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, text);
  renameSync(tmp, file);
}

/** One line of a run's error: secrets redacted, control characters shown as escapes. */
const errorLine = (err: unknown): string => terminalSafe(redactText(err instanceof Error ? err.message : String(err))).replace(/\s*\n\s*/g, '; ').slice(0, 2000);

/**
 * One tenant of the shard: its stack (the baseline with its overrides), its sign-in, and the one
 * composition of a run (`runPlan`, as `posture plan` and `posture drift` use). Whatever happens, a
 * result comes back; nothing thrown here stops the other tenants.
 */
async function runTenant(o: { kind: FleetKind; run?: string; fleet: Fleet; fleetFile: string; baseline: Manifest; tenant: FleetTenant; index: number; shard: Shard; args: ShardArgs; today: string; graphRate: RateLimiter; unrecorded: (message: string) => void; log: Logger }): Promise<FleetResult> {
  const startedAt = new Date().toISOString();
  const t = o.tenant;
  const head = {
    format: FLEET_RESULT_FORMAT,
    formatVersion: 1 as const,
    fleet: { name: o.fleet.name, hash: o.fleet.hash },
    tenant: { key: t.key, tenantId: t.id, ...(t.name ? { name: t.name } : {}), owners: t.owners },
    shard: { index: o.shard.index, count: o.shard.count },
    kind: o.kind,
    ...(o.run !== undefined ? { run: o.run } : {}),
    startedAt,
  };
  try {
    const built = tenantManifest(o.baseline, t, `${o.fleetFile}: $.tenants[${o.index}]`);
    if (!built.ok) throw new InputError(built.errors.join('; '));
    const { env, auth, missing } = tenantEnv(o.fleet.auth, t, process.env);
    if (missing.length) throw new InputError(`the tenant's credentials name environment variable${missing.length > 1 ? 's' : ''} ${missing.join(', ')}, which ${missing.length > 1 ? 'are' : 'is'} not set`);
    const conn = connect({
      tenant: t.id,
      auth: auth.method,
      graphUrl: o.args['graph-url'],
      exchangeUrl: o.args['exchange-url'],
      ...(o.args['dns-server'] ? { dnsServer: o.args['dns-server'] } : {}),
      timeoutMs: o.args.timeout * 1000,
      maxRetries: o.args['max-retries'],
      env,
      graphRateLimiter: o.graphRate,
    });
    await signIn(conn);
    if (o.kind === 'respond') return { ...head, ...(await respondOne(o, built.manifest, conn)) };
    const { plan } = await runPlan({
      kind: o.kind,
      manifest: built.manifest,
      tenantId: conn.tenant,
      today: o.today,
      read: { graph: conn.graph, exchange: conn.exchange, resolver: conn.resolver, ...(o.args.now ? { now: new Date(o.args.now) } : {}) },
    });
    const exitCode = exitCodeOf(plan);
    const outcome: FleetOutcome = plan.incomplete.length ? 'incomplete' : exitCode === 2 ? 'findings' : 'clean';
    // The tenant's own trail, as `posture plan` records a run: a run that cannot be recorded fails the shard, its result still written.
    if (o.args['evidence-dir'] !== undefined) {
      try {
        openEvidence(join(o.args['evidence-dir'], `${t.key}.jsonl`))!.append(planEvidence(plan, newRunId(), await actorOf(conn), exitCode));
      } catch (err) {
        o.unrecorded(`${t.key}: the run could not be recorded in its evidence trail (${errorLine(err)})`);
      }
    }
    return { ...head, finishedAt: new Date().toISOString(), outcome, exitCode, plan };
  } catch (err) {
    return { ...head, finishedAt: new Date().toISOString(), outcome: 'error', exitCode: 1, error: errorLine(err) };
  }
}

/**
 * One tenant's respond run: the one composition `posture respond` runs (`respondTenant`), under the
 * tenant's run lock and in its own evidence trail, where respond keeps its state (cursor, open
 * incidents, the circuit breaker's window). Its automatic writes run only with --auto-approve,
 * never on a prompt; writes that need a person wait in the response plan, as they do for respond.
 */
async function respondOne(o: { tenant: FleetTenant; args: ShardArgs; log: Logger }, manifest: Manifest, conn: Connection): Promise<Pick<FleetResult, 'finishedAt' | 'outcome' | 'exitCode' | 'error' | 'response' | 'respond'>> {
  const [{ respondTenant }, { openRun }] = await Promise.all([import('./respond.js'), import('./run.js')]);
  const evidence = o.args['evidence-dir'] !== undefined ? join(o.args['evidence-dir'], `${o.tenant.key}.jsonl`) : false;
  const run = await openRun({ conn, evidence, log: o.log });
  try {
    const autoApprove = o.args['auto-approve'] === true;
    const r = await respondTenant({
      manifest, stack: manifest.stack, conn, run, files: [], messages: [], sweepCalendars: o.args['sweep-calendars'] === true,
      now: o.args.now ? new Date(o.args.now) : new Date(),
      ...(o.args.since !== undefined ? { since: o.args.since } : {}),
      approve: () => Promise.resolve(autoApprove),
      out: discard,
    });
    const p = r.plan;
    const failed = (r.applied?.outcomes ?? []).filter((x) => x.result !== 'applied');
    const respond = { approved: r.approved, applied: (r.applied?.outcomes.length ?? 0) - failed.length, failed: failed.length };
    const response = p as unknown as FleetResponsePlan;
    const finishedAt = new Date().toISOString();
    if (r.applied && r.applied.code) {
      const first = failed[0];
      const error = first
        ? `${failed.length} of ${p.changes.length} automatic write${p.changes.length === 1 ? '' : 's'} failed: ${errorLine(`${describeChange(first.change)}: ${first.error ?? 'not verified'}`)}`
        : 'the automatic writes ran but could not all be recorded in the evidence trail';
      return { finishedAt, outcome: 'error', exitCode: 1, error, response, respond };
    }
    const outcome: FleetOutcome = p.incomplete.length ? 'incomplete' : p.incidents.length + p.protected.length + p.changes.length + p.approvals.length > 0 ? 'findings' : 'clean';
    return { finishedAt, outcome, exitCode: r.code, response, respond };
  } finally {
    await run.lock.release();
  }
}

function outcomeLine(r: FleetResult): string {
  const who = `${r.tenant.key} (${r.tenant.tenantId})`;
  const p = r.response;
  if (p && r.outcome !== 'error') {
    if (r.outcome === 'incomplete') return `${who}: INCOMPLETE, could not read ${p.incomplete.map((i) => i.what).join(', ')}; nothing was acted on`;
    const n = p.incidents.length + p.protected.length;
    return `${who}: ${n} incident${n === 1 ? '' : 's'}, ${r.respond?.applied ?? 0} automatic writes taken${r.respond?.approved || !p.changes.length ? '' : `, ${p.changes.length} not run (not approved)`}, ${p.approvals.length} awaiting approval`;
  }
  switch (r.outcome) {
    case 'clean':
      return `${who}: clean`;
    case 'findings':
      return `${who}: ${r.plan!.summary.findings} finding${r.plan!.summary.findings === 1 ? '' : 's'}`;
    case 'incomplete':
      return `${who}: INCOMPLETE, could not read ${r.plan!.incomplete.map((i) => i.what).join(', ')}`;
    case 'error':
      return `${who}: FAILED: ${r.error ?? ''}`;
  }
}

/** `posture fleet plan|drift|respond`: the tenants of one shard, a bounded number at a time, one result file each. */
function shardCommand(kind: FleetKind, setExit: (code: number) => void): CommandModule<object, ShardArgs> {
  return {
    command: kind,
    describe:
      kind === 'plan'
        ? "Plan every tenant of one shard of the fleet: one result file per tenant (the shard's index from the flag or the engine)"
        : kind === 'drift'
          ? 'Read-only drift check of every tenant of one shard of the fleet: one result file per tenant'
          : "Respond in every tenant of one shard of the fleet, each under its own stack's response policy: one result file per tenant",
    builder: (y) => (kind === 'respond' ? respondOptions(shardOptions(y)) : shardOptions(y)) as never,
    handler: async (args) => {
      const log: Logger = createLogger(args['log-format']);
      const command = `fleet ${kind}`;
      let fleet: Fleet;
      let shard: Shard & { source: string };
      let baseline: Manifest;
      try {
        if (args.now !== undefined && Number.isNaN(Date.parse(args.now))) throw new FleetInputError(`--now ${JSON.stringify(args.now)} is not an ISO 8601 time such as 2026-11-30T09:00:00Z`);
        if (args.since !== undefined && Number.isNaN(Date.parse(args.since))) throw new FleetInputError(`--since ${JSON.stringify(args.since)} is not an ISO 8601 time such as 2026-11-16T09:00:00Z`);
        if (args.since !== undefined && Date.parse(args.since) > Date.parse(args.now ?? new Date().toISOString())) throw new FleetInputError(`--since ${JSON.stringify(args.since)} is in the future: nothing observed yet could be read`);
        fleet = loadFleet(args.fleet);
        try {
          shard = resolveShard({ flag: args.shard, shards: args.shards, env: process.env });
        } catch (err) {
          if (err instanceof ShardError) throw new FleetInputError(err.message);
          throw err;
        }
        try {
          baseline = loadSynthOutput(resolve(args['synth-dir']), fleet.baseline.stack).manifest;
        } catch (err) {
          // The stack the fleet file names is not in the output: say where it is named.
          if (err instanceof InputError && err.message.startsWith('unknown stack')) throw new FleetInputError(`${args.fleet}: $.baseline.stack: ${err.message}`);
          throw err;
        }
        // The endpoint and DNS options are the same for every tenant: a wrong one is bad input, said once, not a failure of each tenant.
        connect({
          tenant: fleet.tenants[0]!.id, auth: 'token', graphUrl: args['graph-url'], exchangeUrl: args['exchange-url'],
          ...(args['dns-server'] ? { dnsServer: args['dns-server'] } : {}), timeoutMs: args.timeout * 1000, env: { ...process.env, POSTURE_GRAPH_TOKEN: 'unused', POSTURE_EXCHANGE_TOKEN: 'unused' },
        });
        mkdirSync(args['out-dir'], { recursive: true });
        if (args['evidence-dir'] !== undefined) mkdirSync(args['evidence-dir'], { recursive: true });
      } catch (err) {
        fail(err, args.debug, command);
        setExit(err instanceof InputError ? 2 : 1);
        return;
      }
      const mine = tenantsOfShard(fleet.tenants.map((t, index) => ({ key: t.key, tenant: t, index })), shard);
      // A result left from an earlier run is never taken for this one's: gone before the run starts, so a tenant this run does not finish is missing.
      for (const { tenant } of mine) rmSync(join(args['out-dir'], `${tenant.key}.json`), { force: true });
      const limit = args.concurrency ?? fleet.concurrency ?? 4;
      const run = engineRunId(args['run-id'], process.env);
      log.info(`fleet ${terminalSafe(fleet.name)}: shard ${shard.index + 1} of ${shard.count} (${shard.source}): ${mine.length} of ${fleet.tenants.length} tenants, ${limit} at a time`);
      const today = args.today ?? new Date().toISOString().slice(0, 10);
      const results: FleetResult[] = [];
      let unwritten = 0;
      // Graph's per-app rate is across tenants: the tenants this shard reads at once keep under it together (each tenant's own limits are its transports').
      const graphRate = new RateLimiter(1800, sleep);
      await pool(mine, limit, async ({ tenant, index }) => {
        const result = await runTenant({
          kind, ...(run !== undefined ? { run } : {}), fleet, fleetFile: args.fleet, baseline, tenant, index, shard, args, today, graphRate, log,
          unrecorded: (m) => {
            unwritten++;
            process.stderr.write(printable(`posture ${command}: ${m}\n`));
          },
        });
        results.push(result);
        try {
          writeWhole(join(args['out-dir'], `${tenant.key}.json`), `${JSON.stringify(result, null, 2)}\n`);
        } catch (err) {
          unwritten++;
          process.stderr.write(printable(`posture ${command}: the result of ${tenant.key} could not be written (${errorLine(err)})\n`));
        }
        (result.outcome === 'error' || result.outcome === 'incomplete' ? log.warn : log.info)(outcomeLine(result));
      });
      const bad = results.filter((r) => r.outcome === 'error' || r.outcome === 'incomplete');
      const count = (o: FleetOutcome) => results.filter((r) => r.outcome === o).length;
      process.stdout.write(
        printable(`Shard ${shard.index + 1}/${shard.count}: ${results.length} tenants: ${count('clean')} clean, ${count('findings')} with findings, ${count('incomplete')} incomplete, ${count('error')} failed. Results in ${relative(process.cwd(), resolve(args['out-dir'])) || '.'}.\n`),
      );
      if (bad.length) process.stderr.write(printable(`posture ${command}: not read in full: ${bad.map((r) => r.tenant.key).join(', ')}\n`));
      setExit(bad.length || unwritten ? 1 : 0);
    },
  };
}

interface MergeArgs {
  results: string[];
  fleet?: string;
  'run-id'?: string;
  'max-age': number;
  'out-dir': string;
  debug: boolean;
}

/** The result files a path names: the file itself, or every .json file under a folder (an engine's downloaded artifacts). */
function resultFiles(path: string): string[] {
  let st;
  try {
    st = statSync(path);
  } catch {
    throw new InputError(`${path}: no such file or folder`);
  }
  if (!st.isDirectory()) return [path];
  const out: string[] = [];
  const walk = (dir: string, depth: number) => {
    if (depth > 8) return;
    for (const name of readdirSync(dir).sort()) {
      const p = join(dir, name);
      // Only folders and regular files: a link, a FIFO or a device among the artifacts is not followed or read.
      const s = lstatSync(p);
      if (s.isDirectory()) walk(p, depth + 1);
      else if (s.isFile() && name.endsWith('.json')) out.push(p);
    }
  };
  walk(path, 0);
  if (out.length === 0) throw new InputError(`${path}: a folder with no result files (*.json)`);
  return out;
}

const MAX_RESULT_BYTES = 256 * 1024 * 1024;

/** `posture fleet merge RESULTS…`: the fleet view, and SARIF and JUnit per tenant. */
function mergeCommand(setExit: (code: number) => void): CommandModule<object, MergeArgs> {
  return {
    command: 'merge <results..>',
    describe: "Merge the shards' result files into one fleet report (JSON, Markdown, HTML: tenants × controls, worst first) and SARIF and JUnit per tenant",
    builder: (y) =>
      y
        .positional('results', { type: 'string', array: true, demandOption: true, describe: 'Result files, or folders holding them (the shards\' artifacts)' })
        .option('fleet', { type: 'string', requiresArg: true, describe: 'The fleet file: its tenants without a result are named as missing, and results of another revision are refused' })
        .option('run-id', { type: 'string', requiresArg: true, describe: "Take only results of this engine run; a tenant whose result is of another is missing (default: GITHUB_RUN_ID, or BUILD_BUILDID; none: any run)" })
        .option('max-age', wholeNumberOption('max-age', { min: 0, max: 24 * 366, unit: 'hours', default: 24, describe: 'A result that finished longer ago is stale: its tenant is missing (0: no limit)' }))
        .option('out-dir', { type: 'string', demandOption: true, requiresArg: true, describe: 'Folder for fleet.json, fleet.md, fleet.html, fleet.junit.xml (a test case per tenant) and tenants/KEY.sarif, tenants/KEY.junit.xml' }) as never,
    handler: (args) => {
      try {
        const fleet = args.fleet ? loadFleet(args.fleet) : undefined;
        const files = [...new Set(args.results.flatMap(resultFiles))];
        const results = files.map((file) => {
          let text: string;
          try {
            if (statSync(file).size > MAX_RESULT_BYTES) throw new InputError(`${file}: larger than ${MAX_RESULT_BYTES / 1024 / 1024} MiB: not a result file`);
            text = readFileSync(file, 'utf8');
          } catch (err) {
            if (err instanceof InputError) throw err;
            throw new InputError(`${file}: cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
          }
          let value: unknown;
          try {
            value = JSON.parse(text);
          } catch {
            throw new InputError(`${file}: not valid JSON`);
          }
          const parsed = parseResult(value, file);
          if (!parsed.ok) throw new InputError(parsed.error);
          return { result: parsed.result, source: file };
        });
        const runId = engineRunId(args['run-id'], process.env);
        if (!fleet) process.stderr.write('posture fleet merge: note: without --fleet, a tenant whose shard wrote no result cannot be named as missing\n');
        const merged = mergeResults({ results, ...(fleet ? { fleet } : {}), now: new Date(), ...(args['max-age'] > 0 ? { maxAgeHours: args['max-age'] } : {}), ...(runId !== undefined ? { runId } : {}) });
        if (!merged.ok) throw new InputError(merged.errors.length === 1 ? merged.errors[0]! : `the results do not merge:\n  ${merged.errors.join('\n  ')}`);
        const { report } = merged;
        const out = args['out-dir'];
        mkdirSync(join(out, 'tenants'), { recursive: true });
        writeWhole(join(out, 'fleet.json'), `${JSON.stringify(report, null, 2)}\n`);
        writeWhole(join(out, 'fleet.md'), renderFleetMarkdown(report));
        writeWhole(join(out, 'fleet.html'), renderFleetHtml(report));
        writeWhole(join(out, 'fleet.junit.xml'), renderFleetJunit(report));
        // A tenant's reports of an earlier merge go first: a tenant that failed this time has none, never last night's.
        for (const t of report.tenants) for (const ext of ['sarif', 'junit.xml']) rmSync(join(out, 'tenants', `${t.key}.${ext}`), { force: true });
        for (const result of merged.taken) {
          if (!result.plan) continue;
          writeWhole(join(out, 'tenants', `${result.tenant.key}.sarif`), renderReport(result.plan, 'sarif'));
          writeWhole(join(out, 'tenants', `${result.tenant.key}.junit.xml`), renderReport(result.plan, 'junit'));
        }
        for (const note of merged.notes) process.stderr.write(printable(`posture fleet merge: note: ${terminalSafe(note)}\n`));
        const s = report.summary;
        process.stdout.write(printable(`Fleet ${terminalSafe(report.fleet.name)}: ${s.tenants} tenants: ${s.clean} clean, ${s.findings} with findings, ${s.incomplete} incomplete, ${s.error} failed, ${s.missing} missing. Report in ${join(out, 'fleet.html')}.\n`));
        const notRead = report.tenants.filter((t) => t.outcome === 'error' || t.outcome === 'incomplete' || t.outcome === 'missing');
        if (notRead.length) {
          process.stderr.write(printable(`posture fleet merge: not read in full, so the fleet is not clean:\n${notRead.map((t) => `  - ${t.key} (${t.tenantId}): ${t.outcome}${t.error ? `: ${terminalSafe(t.error)}` : ''}`).join('\n')}\n`));
        }
        setExit(report.exitCode);
      } catch (err) {
        fail(err, args.debug, 'fleet merge');
        setExit(1);
      }
    },
  };
}

/** `posture fleet <plan|drift|respond|merge>`: many tenants, sharded over an engine's parallel jobs, merged into one view. */
export function fleetCommand(setExit: (code: number) => void): CommandModule<object, object> {
  return {
    command: 'fleet',
    describe: 'Run a fleet of tenants in shards (GitHub Actions matrix, Kubernetes Indexed Job, Azure DevOps parallel jobs) and merge their results',
    builder: (y) =>
      y
        .command(withHelp(shardCommand('plan', setExit), 'fleet plan'))
        .command(withHelp(shardCommand('drift', setExit), 'fleet drift'))
        .command(withHelp(shardCommand('respond', setExit), 'fleet respond'))
        .command(withHelp(mergeCommand(setExit), 'fleet merge'))
        .demandCommand(1, 'Name a fleet command: plan, drift, respond or merge.') as never,
    handler: () => {},
  };
}
