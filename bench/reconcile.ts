/**
 * Reconciler benchmark. Writes bench/results/reconcile.json.
 *
 * For each size, a generated tenant of that many mailboxes (1 % with a forwarding inbox rule) behind
 * the simulator's default limits and 50 ms latency; `posture drift` runs in its own process against
 * it. Reported per size: wall time, requests (Graph, $batch items, Exchange), 429s, peak RSS of the
 * reconciler, and the ratio to the floor. The floor is computed from the simulator's request log and
 * the limits in force (simulator/http/floor.ts): for every limit, what it charged (each `$batch`
 * item, not its envelope; each Exchange cmdlet; the paced conditional access and identity
 * protection requests; identity resource units; each mailbox's requests) and the time that needs at
 * its rate, and the chain of pages of the longest paged read (with the reads made from its last
 * page) at one round trip each. The largest is the floor; the limit it comes from is named.
 * Targets: zero failed reads, at most 1.15× the floor, peak RSS at most 400 MB.
 *
 * Run: npm run bench:reconcile [-- --sizes 10000,60000,120000 --latency 50]   (--mailboxes N: one size)
 */
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import type { PlanDocument } from '../reconciler/model/plan.js';
import { DEFAULT_LIMITS, loadScenario, ROLE_IDS, startSimulator, type Limits } from '../simulator/index.js';
import { floorOf } from '../simulator/http/floor.js';
import { limitsOfSettings } from '../simulator/http/settings.js';
import { arg, fixed2, machine, synthesizedPostures, tenantArgs, tenantEnv, timedPosture, writeResult, requestTally } from './lib.js';

/** `--sizes 10000,60000` (or `--mailboxes N`): whole numbers of mailboxes, at least one. */
function sizesArg(): number[] {
  const i = process.argv.indexOf('--sizes');
  const raw = i > 0 ? process.argv[i + 1] ?? '' : String(arg('mailboxes', 60_000));
  const sizes = raw.split(',').map((s) => s.trim());
  if (!sizes.length || sizes.some((s) => !/^[1-9][0-9]*$/.test(s) || Number(s) > 1_000_000)) {
    console.error(`--sizes ${JSON.stringify(raw)}: give mailbox counts from 1 to 1,000,000 separated by commas, such as 10000,60000,120000`);
    process.exit(1);
  }
  return sizes.map(Number);
}

const sizes = sizesArg();
const latencyMs = arg('latency', 50);
const SCENARIO = 'compliant';
const { work, synthDir } = synthesizedPostures('posture-bench-');
const targets = { failedReads: 0, ratioToFloor: 1.15, peakRssMb: 400 };

const runs: Array<Record<string, unknown>> = [];
let last: { code: number | null; stderr: string } = { code: 0, stderr: '' };
for (const mailboxes of sizes) {
  const sim = await startSimulator({ scenario: SCENARIO, generate: { mailboxes, forwardingShare: 0.01 }, limits: { latencyMs } });
  // The limits the simulator enforces: Microsoft's published values, the scenario's own settings, the latency asked.
  const limits: Limits = { ...DEFAULT_LIMITS, ...limitsOfSettings(loadScenario(SCENARIO).simulator), latencyMs };
  const planFile = join(work, `plan-${mailboxes}.json`);
  const run = await timedPosture(
    ['drift', ...tenantArgs(sim, synthDir), '--dns-server', `${sim.dns.host}:${sim.dns.port}`, '--format', 'json', '--out', planFile, '--log-format', 'json', '--evidence', join(work, `evidence-${mailboxes}.jsonl`)],
    tenantEnv(sim, ROLE_IDS.globalReader),
  );
  last = run;
  const spawnedAt = run.spawnedAt;
  const log = sim.requests.entries;
  const exitedAt = spawnedAt + run.wallSeconds * 1000;
  const firstAnswer = log.length ? log[0]!.time : exitedAt;
  const lastAnswer = log.length ? log[log.length - 1]!.time : exitedAt;
  const firstRules = log.find((e) => e.batch !== undefined)?.time;
  const lastMailboxPage = log.filter((e) => e.cmdlet === 'Get-Mailbox').at(-1)?.time;
  // The mailbox list is the one paged read other reads are made from (each page's inbox rules).
  const floor = floorOf(log, { limits, size: sim.tenant.size, feeds: 'Get-Mailbox' });
  let plan: PlanDocument | undefined;
  try {
    plan = JSON.parse(readFileSync(planFile, 'utf8')) as PlanDocument;
  } catch {
    /* no plan: the run failed, its exit code and stderr say why */
  }
  await sim.stop();
  runs.push({
    mailboxes,
    exitCode: run.code,
    failedReads: plan ? plan.incomplete.length : 'no plan written',
    findings: plan?.summary.findings,
    wallSeconds: fixed2(run.wallSeconds),
    requests: requestTally(log),
    floorSeconds: fixed2(floor.seconds),
    bindingLimit: floor.binding,
    floors: floor.limits.map((l) => ({ ...l, seconds: fixed2(l.seconds) })),
    ratioToFloor: floor.seconds > 0 ? fixed2(run.wallSeconds / floor.seconds) : null,
    // Where the wall time went, in seconds from the start of the process.
    timeline: {
      firstAnswer: fixed2((firstAnswer - spawnedAt) / 1000),
      firstInboxRules: firstRules === undefined ? null : fixed2((firstRules - spawnedAt) / 1000),
      lastMailboxPage: lastMailboxPage === undefined ? null : fixed2((lastMailboxPage - spawnedAt) / 1000),
      lastAnswer: fixed2((lastAnswer - spawnedAt) / 1000),
      exit: fixed2(run.wallSeconds),
    },
    peakRssMb: run.peakRssMb,
    meetsTargets: plan !== undefined && plan.incomplete.length === 0 && floor.seconds > 0 && run.wallSeconds / floor.seconds <= targets.ratioToFloor && run.peakRssMb <= targets.peakRssMb,
  });
  console.error(`${mailboxes} mailboxes: ${fixed2(run.wallSeconds)} s, floor ${fixed2(floor.seconds)} s (${floor.binding}), peak RSS ${run.peakRssMb} MB`);
}

const result = {
  benchmark: 'reconcile',
  date: new Date().toISOString(),
  machine: machine(),
  setup: { sizes, latencyMs, scenario: SCENARIO, forwardingShare: 0.01, limits: 'simulator defaults (Microsoft published values)', measured: 'posture drift in its own process, wall time from spawn to exit' },
  runs,
  targets,
};
writeResult('reconcile', result, last);
