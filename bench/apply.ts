/**
 * Apply benchmark. Writes bench/results/apply.json.
 *
 * A generated tenant of 60,000 mailboxes (1 % with a forwarding inbox rule, which MAIL.FWD.4 in
 * remediate mode deletes) behind the simulator's default limits and 50 ms latency. `posture plan`
 * saves the plan, then `posture apply PLAN --auto-approve` runs in its own process, preflight
 * included. Reported: the wall time of apply, its requests (Graph, $batch items, Exchange, by
 * method), 429s, peak RSS, and the floor: the largest of what each limit allows (Graph requests,
 * $batch items counted one by one, ÷ 2,000/s per app; the 1 request/s pacing of conditional
 * access; the busiest mailbox's requests, which go one after another: a change reads, writes and
 * reads back; and the latency of the longest list, read page after page), naming the one that binds.
 * Target: apply under 15 s at 60,000 mailboxes.
 *
 * Run: npm run bench:apply [-- --mailboxes 60000 --latency 50]
 */
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import type { PlanDocument } from '../reconciler/model/plan.js';
import { ROLE_IDS, startSimulator } from '../simulator/index.js';
import { arg, fixed2, machine, measuredPosture, synthesizedPostures, tenantArgs, tenantEnv, timedPosture, writeResult } from './lib.js';

const mailboxes = arg('mailboxes', 60_000);
const latencyMs = arg('latency', 50);
const { work, synthDir } = synthesizedPostures('posture-bench-apply-');

const sim = await startSimulator({ scenario: 'compliant', generate: { mailboxes, forwardingShare: 0.01 }, limits: { latencyMs } });
const planFile = join(work, 'plan.json');
const dns = ['--dns-server', `${sim.dns.host}:${sim.dns.port}`];
const planned = await timedPosture(['plan', ...tenantArgs(sim, synthDir), ...dns, '--out', planFile, '--log-format', 'json'], tenantEnv(sim, ROLE_IDS.globalReader));
const plan = JSON.parse(readFileSync(planFile, 'utf8')) as PlanDocument;
if (planned.code !== 2 || !plan.changes.length) {
  await sim.stop();
  throw new Error(`the plan did not propose the changes to apply (exit ${String(planned.code)}): ${planned.stderr.slice(-2000)}`);
}

const from = sim.requests.entries.length;
const run = await timedPosture(
  ['apply', planFile, '--auto-approve', '--max-changes', String(plan.changes.length), ...tenantArgs(sim, synthDir), ...dns, '--log-format', 'json', '--evidence', join(work, 'evidence.jsonl')],
  tenantEnv(sim, ROLE_IDS.exchangeAdministrator),
);
const { wallSeconds } = run;
const log = sim.requests.entries.slice(from);
await sim.stop();

const graph = log.filter((e) => e.api === 'graph' && e.batch === undefined);
const envelopes = graph.filter((e) => e.path.includes('$batch')).length;
// Graph's per-app rate counts each $batch item as a request.
const graphRequests = graph.length - envelopes + log.filter((e) => e.batch !== undefined).length;
const paced = graph.filter((e) => /\/(identity\/conditionalAccess|identityProtection)\//i.test(e.path)).length;
const perMailbox = new Map<string, number>();
for (const e of log) {
  const m = /\/users\/([^/]+)\/mailFolders\//i.exec(e.path);
  if (m && e.api === 'graph') perMailbox.set(m[1]!.toLowerCase(), (perMailbox.get(m[1]!.toLowerCase()) ?? 0) + 1);
}
const busiestMailbox = Math.max(0, ...perMailbox.values());
// A list is read page after page: its pages' latencies add up, whatever else runs beside it.
const pages = new Map<string, number>();
for (const e of log) {
  if (e.batch !== undefined) continue;
  const key = e.api === 'exchange' ? `Exchange ${e.cmdlet ?? ''}` : e.method === 'GET' && !/\/users\/[^/]+\//.test(e.path) ? `Graph ${e.path.split('?')[0]}` : undefined;
  if (key) pages.set(key, (pages.get(key) ?? 0) + 1);
}
const [longestList, longestPages] = [...pages.entries()].reduce((a, b) => (b[1] > a[1] ? b : a), ['none', 0] as [string, number]);
const byMethod = Object.fromEntries(['GET', 'POST', 'PATCH', 'PUT', 'DELETE'].map((m) => [m, graph.filter((e) => e.method === m && !e.path.includes('$batch')).length]));
const floors: Record<string, number> = {
  'Graph 2,000 requests/s per app': graphRequests / 2000,
  'conditional access 1 request/s': Math.max(0, paced - 1),
  // 4 at once per mailbox, and a change's own requests (read, write, read back) one after another.
  "the busiest mailbox's requests, one after another": busiestMailbox * (latencyMs / 1000),
  [`the longest list read page by page (${longestList}, ${longestPages} pages)`]: longestPages * (latencyMs / 1000),
};
const [binding, floorSeconds] = Object.entries(floors).reduce((a, b) => (b[1] > a[1] ? b : a));
// Where the time went, from the answers' times: before the first request (start-up, sign-in), the
// preflight's reads up to the first write, and the writes with their reads back.
const first = log[0]?.time ?? 0;
const last = log.at(-1)?.time ?? 0;
const firstWrite = log.find((e) => e.api === 'graph' && e.method === 'DELETE')?.time ?? last;
const phases = { beforeFirstRequest: fixed2((first - run.spawnedAt) / 1000), preflight: fixed2((firstWrite - first) / 1000), writes: fixed2((last - firstWrite) / 1000) };

const result = {
  benchmark: 'apply',
  date: new Date().toISOString(),
  machine: machine(),
  setup: { mailboxes, latencyMs, changes: plan.changes.length, limits: 'simulator defaults (Microsoft published values)', measured: measuredPosture.how },
  exitCode: run.code,
  wallSeconds: fixed2(wallSeconds),
  phasesSeconds: phases,
  requests: {
    total: log.length,
    graph: graph.length,
    graphCountedByRate: graphRequests,
    graphByMethod: byMethod,
    graphBatchItems: log.filter((e) => e.batch !== undefined).length,
    exchange: log.filter((e) => e.api === 'exchange').length,
    throttled429: log.filter((e) => e.status === 429).length,
    mailboxRequestsPerChange: fixed2([...perMailbox.values()].reduce((a, b) => a + b, 0) / plan.changes.length),
  },
  floors: Object.fromEntries(Object.entries(floors).map(([k, v]) => [k, fixed2(v)])),
  binding,
  floorSeconds: fixed2(floorSeconds),
  ratioToFloor: fixed2(wallSeconds / floorSeconds),
  peakRssMb: run.peakRssMb,
  targets: { wallSeconds: 15 },
};
writeResult('apply', result, run);
