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
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { PlanDocument } from '../reconciler/model/plan.js';
import { ALL_GRAPH_PERMISSIONS, EXCHANGE_AUDIENCE, mintToken, ROLE_IDS, startSimulator } from '../simulator/index.js';
import { buildApp } from '../stacks/app.js';
import { synthesize } from '../stacks/index.js';

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const mailboxes = arg('mailboxes', 60_000);
const latencyMs = arg('latency', 50);
const posture = fileURLToPath(new URL('../bin/posture.js', import.meta.url));

const work = mkdtempSync(join(tmpdir(), 'posture-bench-'));
const synthDir = join(work, 'cdktf.out');
if (!synthesize(buildApp, { outdir: synthDir }).ok) throw new Error('synth failed');

const sim = await startSimulator({ scenario: 'compliant', generate: { mailboxes, forwardingShare: 0.01 }, limits: { latencyMs } });
const env = {
  PATH: process.env['PATH'] ?? '',
  POSTURE_GRAPH_TOKEN: mintToken({ tenantId: sim.tenantId, roles: ALL_GRAPH_PERMISSIONS, lifetimeSeconds: 7200 }),
  POSTURE_EXCHANGE_TOKEN: mintToken({ tenantId: sim.tenantId, audience: EXCHANGE_AUDIENCE, roles: ['Exchange.ManageAsApp'], wids: [ROLE_IDS.globalReader], lifetimeSeconds: 7200 }),
};
const planFile = join(work, 'plan.json');
const t0 = performance.now();
const child = spawn(
  process.execPath,
  [posture, 'drift', '--synth-dir', synthDir, '--stack', 'tailspin', '--tenant', sim.tenantId, '--graph-url', sim.graphUrl, '--exchange-url', sim.exoUrl,
    '--dns-server', `${sim.dns.host}:${sim.dns.port}`, '--format', 'json', '--out', planFile, '--log-format', 'json', '--evidence', join(work, 'evidence.jsonl')],
  { env, stdio: ['ignore', 'ignore', 'pipe'] },
);
let peakKb = 0;
const poll = setInterval(() => {
  try {
    peakKb = Math.max(peakKb, Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))?.[1] ?? 0));
  } catch {
    /* the process has exited */
  }
}, 100);
let stderr = '';
child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
const code = await new Promise<number | null>((r) => child.on('close', (c) => r(c)));
clearInterval(poll);
const wallSeconds = (performance.now() - t0) / 1000;

const log = sim.requests.entries;
const graphRequests = log.filter((e) => e.api === 'graph').length;
const pacedRequests = log.filter((e) => e.api === 'graph' && /\/(identity\/conditionalAccess|identityProtection)\//i.test(e.path)).length;
const floorSeconds = Math.max(graphRequests / 2000, Math.max(0, pacedRequests - 1));
const plan = JSON.parse(readFileSync(planFile, 'utf8')) as PlanDocument;
await sim.stop();

const result = {
  benchmark: 'reconcile',
  date: new Date().toISOString(),
  machine: { cpus: cpus().length, node: process.version },
  setup: { mailboxes, latencyMs, limits: 'simulator defaults (Microsoft published values)' },
  exitCode: code,
  failedReads: plan.incomplete.length,
  findings: plan.summary.findings,
  wallSeconds: Number(wallSeconds.toFixed(2)),
  requests: {
    total: log.length,
    graph: graphRequests,
    graphBatchItems: log.filter((e) => e.batch !== undefined).length,
    exchange: log.filter((e) => e.api === 'exchange').length,
    throttled429: log.filter((e) => e.status === 429).length,
  },
  floorSeconds: Number(floorSeconds.toFixed(2)),
  ratioToFloor: Number((wallSeconds / floorSeconds).toFixed(2)),
  peakRssMb: Math.round(peakKb / 1024),
  targets: { failedReads: 0, ratioToFloor: 1.5, peakRssMb: 500 },
};
mkdirSync(fileURLToPath(new URL('./results/', import.meta.url)), { recursive: true });
writeFileSync(fileURLToPath(new URL('./results/reconcile.json', import.meta.url)), JSON.stringify(result, null, 2) + '\n');
console.log(JSON.stringify(result, null, 2));
if (code !== 2 && code !== 0) console.error(stderr.slice(-2000));
