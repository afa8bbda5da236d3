/**
 * Incremental drift benchmark.
 *
 * A generated tenant of `--mailboxes` mailboxes (default 60,000; 1 % with a forwarding inbox rule)
 * behind the simulator's default limits and `--latency` ms (default 50). Three `posture drift` runs,
 * each in its own process: a full one (no state), a first `--incremental` one (it reads in full and
 * keeps the state), then changes to `--changed` of the mailboxes (default 1 %: half a new forwarding
 * rule over Graph, half forwarding set with Set-Mailbox, each leaving its audit record), and a second
 * `--incremental` run. The audit log makes records searchable at once here (its ingestion delay is
 * set to 0), so the run is measured without waiting for the service. Reported: wall time, requests
 * by API, mailboxes read again, and the incremental run against the full one. Targets: at most 5 %
 * of the full run's requests and at most 5 s; its findings the full run's on the same tenant.
 *
 * The mailboxes read again are those changed plus the rotation's slice, 1/`--rotation-period` of
 * them (default 7 runs): the slice alone is 14 % of the mailboxes at 7, so the 5 % target needs a
 * period of about 30 runs at 1 % changed.
 *
 * Writes bench/results/incremental-period-N.json, N the rotation period.
 *
 * Run: npm run bench:incremental -- [--mailboxes 60000 --changed 0.01 --latency 50 --rotation-period 7]
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { PlanDocument } from '../reconciler/model/plan.js';
import { ROLE_IDS, startSimulator } from '../simulator/index.js';
import { arg, fixed2, machine, synthesizedPostures, tenantArgs, tenantEnv, timedPosture, writeResult, requestTally } from './lib.js';

const mailboxes = arg('mailboxes', 60_000);
const changedShare = arg('changed', 0.01);
const latencyMs = arg('latency', 50);
const period = arg('rotation-period', 7);
if (!Number.isInteger(mailboxes) || mailboxes < 10 || !Number.isInteger(period) || period < 1 || !(changedShare > 0 && changedShare <= 1) || !(latencyMs >= 0)) {
  console.error('--mailboxes is a whole number of at least 10, --changed a share above 0 up to 1, --latency milliseconds, --rotation-period a whole number of runs');
  process.exit(1);
}
const targets = { requestShare: 0.05, wallSeconds: 5 };
const { work, synthDir } = synthesizedPostures('posture-bench-incremental-');
const sim = await startSimulator({ scenario: 'compliant', generate: { mailboxes, forwardingShare: 0.01 }, limits: { latencyMs } });
sim.tenant.auditLogSearch.settings.ingestionDelayMs = 0;
const env = tenantEnv(sim, ROLE_IDS.globalReader);
const evidence = join(work, 'evidence.jsonl');

async function drift(name: string, extra: readonly string[]) {
  const before = sim.requests.entries.length;
  const planFile = join(work, `${name}.json`);
  const run = await timedPosture(['drift', ...tenantArgs(sim, synthDir), '--dns-server', `${sim.dns.host}:${sim.dns.port}`, '--format', 'json', '--out', planFile, '--evidence', evidence, ...extra], env);
  const log = sim.requests.entries.slice(before);
  let plan: PlanDocument | undefined;
  try {
    plan = JSON.parse(readFileSync(planFile, 'utf8')) as PlanDocument;
  } catch {
    /* no plan: the exit code and stderr say why */
  }
  const read = /read incrementally: (\d+) of (\d+) mailboxes/.exec(run.stderr);
  console.error(`${name}: ${fixed2(run.wallSeconds)} s, ${log.length} requests`);
  return {
    run,
    plan,
    result: {
      exitCode: run.code,
      failedReads: plan ? plan.incomplete.length : 'no plan written',
      findings: plan?.summary.findings,
      wallSeconds: fixed2(run.wallSeconds),
      requests: requestTally(log),
      ...(read ? { mailboxesReadAgain: Number(read[1]), mailboxesKept: Number(read[2]) } : {}),
      peakRssMb: run.peakRssMb,
    },
  };
}

const full = await drift('full', []);
const seed = await drift('incremental-first', ['--incremental', '--rotation-period', String(period)]);

// The changes: every 1/share-th mailbox, alternately a forwarding rule and mailbox forwarding.
const all = [...sim.tenant.exchange.Mailbox.values()];
const step = Math.max(1, Math.round(1 / changedShare));
const token = { graph: sim.token('graph'), exchange: sim.token('exchange') };
let changes = 0;
for (let i = 0; i < all.length; i += step) {
  const m = all[i]!;
  const res =
    changes % 2 === 0
      ? await fetch(`${sim.graphUrl}/v1.0/users/${String(m['ExternalDirectoryObjectId'])}/mailFolders/inbox/messageRules`, {
          method: 'POST', headers: { Authorization: `Bearer ${token.graph}`, 'Content-Type': 'application/json' },
          body: JSON.stringify({ displayName: `bench ${i}`, sequence: 1, actions: { forwardTo: [{ emailAddress: { address: `b${i}@exfil.example` } }] } }),
        })
      : await fetch(`${sim.exoUrl}/adminapi/beta/${sim.tenantId}/InvokeCommand`, {
          method: 'POST', headers: { Authorization: `Bearer ${sim.token('exchange', { wids: [ROLE_IDS.exchangeAdministrator] })}`, 'Content-Type': 'application/json' },
          body: JSON.stringify({ CmdletInput: { CmdletName: 'Set-Mailbox', Parameters: { Identity: String(m['UserPrincipalName']), ForwardingSmtpAddress: `smtp:b${i}@exfil.example` } } }),
        });
  if (!res.ok) throw new Error(`change ${i}: HTTP ${res.status} ${await res.text()}`);
  changes++;
}
const incremental = await drift('incremental', ['--incremental', '--rotation-period', String(period)]);
const fullAfter = await drift('full-after', []);
await sim.stop();

const share = incremental.result.requests.total / full.result.requests.total;
const sameFindings = incremental.plan !== undefined && fullAfter.plan !== undefined && JSON.stringify(incremental.plan.findings.map((f) => f.id).sort()) === JSON.stringify(fullAfter.plan.findings.map((f) => f.id).sort());
// One file per rotation period, so the runs at 7 and at 30 are kept side by side.
writeResult(
  `incremental-period-${period}`,
  {
    benchmark: 'incremental',
    date: new Date().toISOString(),
    machine: machine(),
    setup: { mailboxes, changed: changes, changedShare, rotationPeriod: period, latencyMs, scenario: 'compliant', forwardingShare: 0.01, auditIngestionDelayMs: 0, measured: 'posture drift in its own process, wall time from spawn to exit' },
    runs: { full: full.result, incrementalFirst: seed.result, incremental: incremental.result, fullAfterChanges: fullAfter.result },
    incrementalVsFull: { requestShare: fixed2(share), wallShare: fixed2(incremental.result.wallSeconds / full.result.wallSeconds), sameFindingsAsFullRead: sameFindings },
    targets,
    meetsTargets: sameFindings && share <= targets.requestShare && incremental.result.wallSeconds <= targets.wallSeconds,
  },
  incremental.run,
);
