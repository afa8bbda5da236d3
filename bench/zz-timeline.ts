import { join } from 'node:path';
import { ROLE_IDS, startSimulator } from '../simulator/index.js';
import { synthesizedPostures, tenantArgs, tenantEnv, timedPosture } from './lib.js';
const { work, synthDir } = synthesizedPostures('posture-bench-');
const sim = await startSimulator({ scenario: 'compliant', generate: { mailboxes: 60000, forwardingShare: 0.01 }, limits: { latencyMs: 50 } });
const t0 = Date.now();
const run = await timedPosture(['drift', ...tenantArgs(sim, synthDir), '--dns-server', `${sim.dns.host}:${sim.dns.port}`, '--format', 'json', '--out', join(work, 'p.json'), '--log-format', 'json', '--no-evidence'], tenantEnv(sim, ROLE_IDS.globalReader));
console.log('wall', run.wallSeconds, 'rss', run.peakRssMb);
const groups = new Map<string, { n: number; first: number; last: number }>();
for (const e of sim.requests.entries) {
  const k = e.api === 'exchange' ? `exo ${e.cmdlet}` : e.batch !== undefined ? `batch ${e.path.replace(/[0-9a-f-]{36}/g, '{id}')}` : `${e.method} ${e.path.split('?')[0]!.replace(/[0-9a-f-]{36}/g, '{id}')}`;
  const g = groups.get(k) ?? { n: 0, first: e.time, last: e.time };
  g.n++; g.first = Math.min(g.first, e.time); g.last = Math.max(g.last, e.time);
  groups.set(k, g);
}
const rows = [...groups.entries()].sort((a, b) => a[1].first - b[1].first);
for (const [k, g] of rows) console.log(((g.first - t0) / 1000).toFixed(1).padStart(6), ((g.last - t0) / 1000).toFixed(1).padStart(6), String(g.n).padStart(6), k);
console.log(run.stderr.split('\n').filter((l) => /phase|took|ms/.test(l)).slice(-20).join('\n'));
await sim.stop();
