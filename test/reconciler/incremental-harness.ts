import { canonicalJson } from '../../reconciler/core/json.js';
import { connect, type Connection } from '../../reconciler/input/connection.js';
import { loadSynthOutput } from '../../reconciler/input/synth-output.js';
import type { Manifest } from '../../reconciler/manifest/schema.js';
import { desiredHashOf } from '../../reconciler/plan/build.js';
import { runPlan } from '../../reconciler/plan/run.js';
import { readIncremental, type IncrementalRun } from '../../reconciler/read/incremental/read.js';
import type { IncrementalState } from '../../reconciler/read/incremental/state.js';
import type { RunningSimulator } from '../../simulator/index.js';
import { TODAY, writer } from './harness.js';

/** The tailspin posture of a synthesized output. */
export const tailspin = (synthDir: string): Manifest => loadSynthOutput(synthDir, 'tailspin').manifest;

/** A fresh connection to the simulator (its own request counters). */
export function connection(sim: RunningSimulator): Connection {
  return connect({ tenant: sim.tenantId, auth: 'auto', graphUrl: sim.graphUrl, exchangeUrl: sim.exoUrl, dnsServer: `${sim.dns.host}:${sim.dns.port}`, timeoutMs: 10_000, maxRetries: 1, env: writer(sim) });
}

const readCtx = (sim: RunningSimulator, conn: Connection) => ({ graph: conn.graph, exchange: conn.exchange, resolver: conn.resolver, now: new Date(sim.clock.now()) });

/**
 * The findings of a run as a comparable text: every finding's control, status, resource and
 * evidence (but when it was read), sorted, so two reads of the same tenant give the same text
 * whatever order they read in.
 */
export function findingsText(findings: ReadonlyArray<{ control: { id: string }; status: string; resource: unknown; summary: string; evidence: unknown }>): string {
  return findings.map((f) => canonicalJson({ control: f.control.id, status: f.status, resource: f.resource, summary: f.summary, evidence: { ...(f.evidence as object), readAt: undefined } })).sort().join('\n');
}

/** A full drift run: its findings, incomplete reads and requests. */
export async function fullRun(sim: RunningSimulator, m: Manifest) {
  const conn = connection(sim);
  const run = await runPlan({ kind: 'drift', manifest: m, tenantId: sim.tenantId, today: TODAY, read: readCtx(sim, conn) });
  return { findings: findingsText(run.findings), incomplete: run.incomplete, requests: conn.graph.stats.requests + conn.exchange.stats.requests };
}

/** An incremental drift run from `state`: its findings, the next state and the requests it made. */
export async function incrementalRun(sim: RunningSimulator, m: Manifest, state: IncrementalState | undefined, o: { period: number; full?: boolean; overlapMs?: number }) {
  const conn = connection(sim);
  let result: IncrementalRun | undefined;
  const run = await runPlan({
    kind: 'drift', manifest: m, tenantId: sim.tenantId, today: TODAY, read: readCtx(sim, conn),
    readLive: async (manifest, ctx) => {
      result = await readIncremental(manifest, ctx, {
        tenantId: sim.tenantId, desiredHash: desiredHashOf(manifest), state, period: o.period,
        ...(o.full ? { full: true } : {}), ...(o.overlapMs !== undefined ? { overlapMs: o.overlapMs } : {}),
        auditPolling: { intervalMs: 1, maxWaitMs: 60_000 },
      });
      return result.live;
    },
  });
  return { findings: findingsText(run.findings), incomplete: run.incomplete, requests: conn.graph.stats.requests + conn.exchange.stats.requests, result: result! };
}
