/**
 * Respond benchmark. Writes bench/results/respond.json.
 *
 * The `incident` scenario grown to 60,000 users and mailboxes, with 1,000 Defender alerts
 * (microsoftDefenderForOffice365, low severity) about 1,000 different users, behind the simulator's
 * default limits and 50 ms latency; `posture respond --auto-approve` runs in its own process. The
 * circuit breaker holds the wave back (1,000 identities), so every decision is planned, its writes
 * read from the tenant, and saved for approval. Reported: wall time, requests by class, 429s, peak
 * RSS, and the ratio to the floor the limits set: the larger of the security API's 150 requests a
 * minute (every request beyond the first window's 150 waits its turn), Identity Protection's one
 * request a second, and Graph requests ÷ 2,000/s. Targets: zero failed reads, at most 1.5× the
 * floor, peak RSS under 500 MB.
 *
 * Run: npm run bench:respond [-- --users 60000 --signals 1000 --latency 50]
 */
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import type { ResponsePlan } from '../reconciler/respond/run.js';
import { ROLE_IDS, startSimulator } from '../simulator/index.js';
import { arg, fixed2, machine, synthesizedPostures, tenantArgs, tenantEnv, timedPosture, writeResult } from './lib.js';

const users = arg('users', 60_000);
const signals = arg('signals', 1_000);
const latencyMs = arg('latency', 50);
const { work, synthDir } = synthesizedPostures('posture-bench-respond-');

const sim = await startSimulator({ scenario: 'incident', generate: { mailboxes: users, forwardingShare: 0 }, limits: { latencyMs } });
// The wave: one phish-click alert per user, for `signals` generated users, an hour before the scenario's clock.
const at = new Date(Date.parse(sim.clock.now()) - 3_600_000).toISOString();
const targets = [...sim.tenant.graph.users.values()].filter((u) => String(u['userPrincipalName']).startsWith('user')).slice(0, signals);
if (targets.length < signals) throw new Error(`the generated tenant has ${targets.length} users to alert on, not ${signals}`);
for (const [i, u] of targets.entries()) {
  sim.tenant.graph.alerts.insert({
    '@odata.type': '#microsoft.graph.security.alert',
    id: `bench-${i}`, providerAlertId: `bench-${i}`, incidentId: `9${i}`, status: 'new', severity: 'low', classification: null, determination: null,
    serviceSource: 'microsoftDefenderForOffice365', detectionSource: 'microsoftDefenderForOffice365', category: 'InitialAccess',
    title: 'A potentially malicious URL click was detected', createdDateTime: at, lastUpdateDateTime: at,
    evidence: [{ '@odata.type': '#microsoft.graph.security.userEvidence', createdDateTime: at, verdict: 'suspicious', remediationStatus: 'none', roles: [], tags: [], userAccount: { accountName: String(u['userPrincipalName']).split('@')[0], azureAdUserId: u.id, userPrincipalName: u['userPrincipalName'], domainName: null, userSid: null } }],
  });
}
const planFile = join(work, 'response.json');
const since = new Date(Date.parse(at) - 3_600_000).toISOString();
const before = sim.requests.entries.length;
const run = await timedPosture(
  ['respond', ...tenantArgs(sim, synthDir), '--since', since, '--auto-approve', '--out', planFile, '--log-format', 'json', '--evidence', join(work, 'evidence.jsonl')],
  tenantEnv(sim, ROLE_IDS.exchangeAdministrator),
);
const { wallSeconds } = run;

const log = sim.requests.entries.slice(before);
const graph = log.filter((e) => e.api === 'graph');
const security = graph.filter((e) => /\/security\//i.test(e.path)).length;
const paced = graph.filter((e) => /\/identityProtection\//i.test(e.path)).length;
const floorSeconds = Math.max(graph.length / 2000, Math.max(0, paced - 1), Math.max(0, Math.ceil((security - 150) / 150)) * 60, latencyMs / 1000);
const plan = JSON.parse(readFileSync(planFile, 'utf8')) as ResponsePlan;
await sim.stop();

const result = {
  benchmark: 'respond',
  date: new Date().toISOString(),
  machine: machine(),
  setup: { users, signals, latencyMs, limits: 'simulator defaults (Microsoft published values)' },
  exitCode: run.code,
  failedReads: plan.incomplete.length,
  incidents: plan.incidents.length,
  circuitBreaker: plan.circuitBreaker !== undefined,
  writesPlanned: { automatic: plan.changes.length, approval: plan.approvals.length },
  wallSeconds: fixed2(wallSeconds),
  requests: { total: log.length, graph: graph.length, security, identityProtection: paced, exchange: log.filter((e) => e.api === 'exchange').length, throttled429: log.filter((e) => e.status === 429).length },
  floorSeconds: fixed2(floorSeconds),
  ratioToFloor: fixed2(wallSeconds / floorSeconds),
  peakRssMb: run.peakRssMb,
  targets: { failedReads: 0, ratioToFloor: 1.5, peakRssMb: 500 },
};
writeResult('respond', result, run);
