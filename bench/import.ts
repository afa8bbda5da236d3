/**
 * Import benchmark. Writes bench/results/import.json.
 *
 * The tenant of bench/reconcile.ts: 60,000 generated mailboxes (1 % with a forwarding inbox rule)
 * behind the simulator's default limits and 50 ms latency. `posture import` runs in its own process
 * against it, then `posture drift` of the example posture against the same tenant, for comparison:
 * import reads the areas it writes code for, so it should cost no more than one drift run.
 * Reported for each: wall time, peak RSS, requests by API (Graph, $batch items, Exchange), 429s,
 * and the ratio to the floor, computed as bench/reconcile.ts computes it from the run's own
 * requests (simulator/http/floor.ts: every limit's share at its rate and the longest chain of pages,
 * the largest binding). Import reads no inbox rules, so its floor is not Graph's per-app rate as
 * drift's is; the binding limit is named. Targets: import within 1.5× its floor and no slower than drift.
 *
 * Run: npm run bench:import [-- --mailboxes 60000 --latency 50]
 */
import { existsSync, readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { IMPORTED_AREAS } from '../reconciler/import/read.js';
import type { PlanDocument } from '../reconciler/model/plan.js';
import type { RequestLogEntry } from '../simulator/http/log.js';
import { floorOf } from '../simulator/http/floor.js';
import { limitsOfSettings } from '../simulator/http/settings.js';
import { DEFAULT_LIMITS, loadScenario, ROLE_IDS, startSimulator, type Limits, type RunningSimulator } from '../simulator/index.js';
import { arg, fixed2, machine, synthesizedPostures, tenantArgs, tenantEnv, timedPosture, writeResult, requestTally } from './lib.js';

const mailboxes = arg('mailboxes', 60_000);
const latencyMs = arg('latency', 50);
const { work, synthDir } = synthesizedPostures('posture-bench-import-');
// Other work on the machine slows both runs alike; the result records how busy it was.
const loadBefore = loadavg()[0]!;

const SCENARIO = 'compliant';
const sim = await startSimulator({ scenario: SCENARIO, generate: { mailboxes, forwardingShare: 0.01 }, limits: { latencyMs } });
// The limits the simulator enforces: Microsoft's published values, the scenario's own settings, the latency asked.
const limits: Limits = { ...DEFAULT_LIMITS, ...limitsOfSettings(loadScenario(SCENARIO).simulator), latencyMs };
const env = tenantEnv(sim, ROLE_IDS.globalReader);
const connection = (s: RunningSimulator) => ['--tenant', s.tenantId, '--graph-url', s.graphUrl, '--exchange-url', s.exoUrl, '--dns-server', `${s.dns.host}:${s.dns.port}`];

/** What one run sent: requests by API, 429s, and its floor (`feeds`: the paged read other reads are made from, if any). */
function measured(log: readonly RequestLogEntry[], wallSeconds: number, feeds?: string) {
  const floor = floorOf(log, { limits, size: sim.tenant.size, ...(feeds ? { feeds } : {}) });
  return {
    requests: requestTally(log),
    floorSeconds: fixed2(floor.seconds),
    bindingLimit: floor.binding,
    floors: floor.limits.map((l) => ({ ...l, seconds: fixed2(l.seconds) })),
    ratioToFloor: floor.seconds > 0 ? fixed2(wallSeconds / floor.seconds) : null,
  };
}

// Import: the stack file goes into the work folder.
const stackFile = join(work, 'stacks', 'tailspin.ts');
const importStart = sim.requests.entries.length;
const imported = await timedPosture(
  ['import', ...connection(sim), '--stack', 'tailspin', '--out', stackFile, '--log-format', 'json',
    '--owner', 'Mail Platform Lead <mail-platform@tailspintoys.example>', '--team', 'Messaging',
    '--break-glass', 'bg-alpha@tailspintoys.example', 'bg-bravo@tailspintoys.example'],
  env,
);
const importLog = sim.requests.entries.slice(importStart);

// Drift of the example posture, on the same tenant, after the import's rate windows have passed.
await new Promise((r) => setTimeout(r, 5000));
const planFile = join(work, 'plan.json');
const driftStart = sim.requests.entries.length;
const drift = await timedPosture(
  ['drift', ...tenantArgs(sim, synthDir), '--dns-server', `${sim.dns.host}:${sim.dns.port}`, '--format', 'json', '--out', planFile, '--log-format', 'json', '--evidence', join(work, 'evidence.jsonl')],
  env,
);
const driftLog = sim.requests.entries.slice(driftStart);
await sim.stop();
const plan = existsSync(planFile) ? (JSON.parse(readFileSync(planFile, 'utf8')) as PlanDocument) : undefined;

const result = {
  benchmark: 'import',
  date: new Date().toISOString(),
  machine: { ...machine(), loadAverage1m: { before: fixed2(loadBefore), after: fixed2(loadavg()[0]!) } },
  setup: { mailboxes, latencyMs, scenario: SCENARIO, limits: 'simulator defaults (Microsoft published values)' },
  import: {
    areas: IMPORTED_AREAS,
    exitCode: imported.code,
    stackFileBytes: existsSync(stackFile) ? readFileSync(stackFile).length : 0,
    wallSeconds: fixed2(imported.wallSeconds),
    peakRssMb: imported.peakRssMb,
    ...measured(importLog, imported.wallSeconds),
  },
  drift: {
    exitCode: drift.code,
    failedReads: plan?.incomplete.length ?? null,
    wallSeconds: fixed2(drift.wallSeconds),
    peakRssMb: drift.peakRssMb,
    // Drift reads each page of mailboxes' inbox rules: the mailbox list feeds them.
    ...measured(driftLog, drift.wallSeconds, 'Get-Mailbox'),
  },
  importToDrift: fixed2(imported.wallSeconds / drift.wallSeconds),
  targets: { importExitCode: 0, ratioToFloor: 1.5, importToDrift: 1 },
};
writeResult('import', result, imported.code === 0 ? drift : imported);
