/**
 * Simulator benchmark. Writes bench/results/simulator.json:
 * - throughput: simple Graph requests per second against a simulator in its own process, limits off,
 *   zero latency, measured from a client with keep-alive connections (target: at least 5,000/s);
 * - startup: time and resident memory for a generated 100,000-mailbox tenant (targets: under 10 s
 *   and under 1 GB), memory read again after paging through the first 10,000 users.
 *
 * Run: npm run bench:simulator [-- --seconds 5 --concurrency 64 --mailboxes 100000]
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Agent, request } from 'undici';
import { mintToken, ALL_GRAPH_PERMISSIONS } from '../simulator/index.js';

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const seconds = arg('seconds', 5);
const concurrency = arg('concurrency', 64);
const mailboxes = arg('mailboxes', 100_000);
const posture = fileURLToPath(new URL('../bin/posture.js', import.meta.url));

interface Started {
  child: ChildProcess;
  endpoints: { graphUrl: string; tenantId: string };
  startMs: number;
}

function startSim(args: string[]): Promise<Started> {
  const t0 = performance.now();
  const child = spawn(process.execPath, [posture, 'sim', ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const line = out.split('\n')[0];
      if (out.includes('\n') && line) resolve({ child, endpoints: JSON.parse(line), startMs: performance.now() - t0 });
    });
    child.on('exit', (code) => reject(new Error(`simulator exited with ${code}`)));
  });
}

const rssMb = (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;
const stop = (s: Started) => new Promise<void>((r) => {
  s.child.removeAllListeners('exit');
  s.child.once('exit', () => r());
  s.child.kill('SIGTERM');
});

async function throughput(): Promise<Record<string, number>> {
  const sim = await startSim(['--no-limits']);
  const token = mintToken({ tenantId: sim.endpoints.tenantId, roles: ALL_GRAPH_PERMISSIONS });
  const agent = new Agent({ connections: concurrency, pipelining: 1, keepAliveTimeout: 10_000 });
  const url = `${sim.endpoints.graphUrl}/v1.0/domains`;
  let ok = 0;
  let failed = 0;
  const deadline = performance.now() + seconds * 1000;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < deadline) {
        const res = await request(url, { dispatcher: agent, headers: { authorization: `Bearer ${token}` } });
        await res.body.dump();
        if (res.statusCode === 200) ok++;
        else failed++;
      }
    }),
  );
  const elapsed = (performance.now() - t0) / 1000;
  const rss = rssMb(sim.child.pid!);
  await agent.close();
  await stop(sim);
  return { requests: ok + failed, failed, seconds: Number(elapsed.toFixed(2)), requestsPerSecond: Math.round((ok + failed) / elapsed), concurrency, simulatorRssMb: Math.round(rss) };
}

async function largeTenant(): Promise<Record<string, number>> {
  const sim = await startSim(['--mailboxes', String(mailboxes), '--no-limits', '--ca-policies', '200']);
  const rssAtStart = rssMb(sim.child.pid!);
  const token = mintToken({ tenantId: sim.endpoints.tenantId, roles: ALL_GRAPH_PERMISSIONS });
  let next: string | undefined = `${sim.endpoints.graphUrl}/v1.0/users?$top=999&$select=id,userPrincipalName,accountEnabled`;
  let users = 0;
  while (next && users < 10_000) {
    const res = await request(next, { headers: { authorization: `Bearer ${token}` } });
    const body = (await res.body.json()) as { value: unknown[]; '@odata.nextLink'?: string };
    users += body.value.length;
    next = body['@odata.nextLink'];
  }
  const rssAfter = rssMb(sim.child.pid!);
  await stop(sim);
  return { mailboxes, startMs: Math.round(sim.startMs), rssAtStartMb: Math.round(rssAtStart), usersPaged: users, rssAfterPagingMb: Math.round(rssAfter) };
}

const result = {
  benchmark: 'simulator',
  date: new Date().toISOString(),
  machine: { cpus: cpus().length, node: process.version },
  throughput: await throughput(),
  largeTenant: await largeTenant(),
  targets: { requestsPerSecond: 5000, startMs: 10_000, rssMb: 1024 },
};
const out = fileURLToPath(new URL('./results/simulator.json', import.meta.url));
mkdirSync(fileURLToPath(new URL('./results/', import.meta.url)), { recursive: true });
writeFileSync(out, JSON.stringify(result, null, 2) + '\n');
console.log(JSON.stringify(result, null, 2));
