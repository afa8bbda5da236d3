/**
 * Reconciler benchmark. Writes bench/results/reconcile.json.
 *
 * A generated tenant of 60,000 mailboxes (1 % with a forwarding inbox rule) behind the simulator's
 * default limits and 50 ms latency; `posture drift` runs in its own process against it. Reported:
 * wall time, requests (Graph, $batch items, Exchange), 429s, peak RSS of the reconciler, and the
 * ratio to the floor: the larger of (Graph requests ÷ 2,000/s) and the pacing minimum of the
 * 1 request/s endpoints. Targets: zero failed reads, at most 1.5× the floor, peak RSS under 500 MB.
 *
 * Run: npm run bench:reconcile [-- --mailboxes 60000 --latency 50]
 */
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import type { PlanDocument } from '../reconciler/model/plan.js';
import { ROLE_IDS, startSimulator } from '../simulator/index.js';
import { arg, fixed2, machine, synthesizedPostures, tenantArgs, tenantEnv, timedPosture, writeResult } from './lib.js';

const mailboxes = arg('mailboxes', 60_000);
const latencyMs = arg('latency', 50);
const { work, synthDir } = synthesizedPostures('posture-bench-');

const sim = await startSimulator({ scenario: 'compliant', generate: { mailboxes, forwardingShare: 0.01 }, limits: { latencyMs } });
const planFile = join(work, 'plan.json');
const run = await timedPosture(
  ['drift', ...tenantArgs(sim, synthDir), '--dns-server', `${sim.dns.host}:${sim.dns.port}`, '--format', 'json', '--out', planFile, '--log-format', 'json', '--evidence', join(work, 'evidence.jsonl')],
  tenantEnv(sim, ROLE_IDS.globalReader),
);
const { wallSeconds } = run;

const log = sim.requests.entries;
const graphRequests = log.filter((e) => e.api === 'graph').length;
const pacedRequests = log.filter((e) => e.api === 'graph' && /\/(identity\/conditionalAccess|identityProtection)\//i.test(e.path)).length;
const floorSeconds = Math.max(graphRequests / 2000, Math.max(0, pacedRequests - 1));
const plan = JSON.parse(readFileSync(planFile, 'utf8')) as PlanDocument;
await sim.stop();

const result = {
  benchmark: 'reconcile',
  date: new Date().toISOString(),
  machine: machine(),
  setup: { mailboxes, latencyMs, limits: 'simulator defaults (Microsoft published values)' },
  exitCode: run.code,
  failedReads: plan.incomplete.length,
  findings: plan.summary.findings,
  wallSeconds: fixed2(wallSeconds),
  requests: {
    total: log.length,
    graph: graphRequests,
    graphBatchItems: log.filter((e) => e.batch !== undefined).length,
    exchange: log.filter((e) => e.api === 'exchange').length,
    throttled429: log.filter((e) => e.status === 429).length,
  },
  floorSeconds: fixed2(floorSeconds),
  ratioToFloor: fixed2(wallSeconds / floorSeconds),
  peakRssMb: run.peakRssMb,
  targets: { failedReads: 0, ratioToFloor: 1.5, peakRssMb: 500 },
};
writeResult('reconcile', result, run);
