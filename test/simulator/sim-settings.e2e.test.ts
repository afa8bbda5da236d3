import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { ALL_GRAPH_PERMISSIONS, mintToken } from '../../simulator/index.js';

const posture = fileURLToPath(new URL('../../bin/posture.js', import.meta.url));

let child: ChildProcess | undefined;
afterEach(async () => {
  if (child && child.exitCode === null) {
    const exit = new Promise((r) => child!.once('exit', r));
    child.kill('SIGTERM');
    await exit;
  }
  child = undefined;
});

/** Starts `posture sim` with `args` and waits for its JSON line. */
async function sim(args: readonly string[]): Promise<{ graphUrl: string; tenantId: string }> {
  const c = (child = spawn(process.execPath, [posture, 'sim', ...args], { stdio: ['ignore', 'pipe', 'pipe'] }));
  let err = '';
  c.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const line = await new Promise<string>((resolve, reject) => {
    let out = '';
    c.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('\n')) resolve(out.split('\n')[0]!);
    });
    c.on('exit', (code) => reject(new Error(`posture sim exited ${code}: ${err}`)));
  });
  return JSON.parse(line) as { graphUrl: string; tenantId: string };
}

/** A Graph GET with a token of the simulated tenant: its status and how long it took. */
async function get(endpoints: { graphUrl: string; tenantId: string }, path: string): Promise<{ status: number; ms: number }> {
  const token = mintToken({ tenantId: endpoints.tenantId, roles: ALL_GRAPH_PERMISSIONS });
  const started = performance.now();
  const r = await fetch(`${endpoints.graphUrl}${path}`, { headers: { authorization: `Bearer ${token}` } });
  await r.arrayBuffer();
  return { status: r.status, ms: performance.now() - started };
}

describe('posture sim: faults, latency and limits from outside the code', () => {
  it('a --fault from the command line is applied to real HTTP requests, as many times as it says', async () => {
    const endpoints = await sim(['--scenario', 'compliant', '--fault', 'status=503,path=^/v1.0/users$,times=2', '--no-limits']);
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push((await get(endpoints, '/v1.0/users')).status);
    expect(statuses).toEqual([503, 503, 200]);
    expect((await get(endpoints, '/v1.0/domains')).status).toBe(200);
  });

  it("a scenario file's simulator block sets latency and faults; the command line overrides the latency", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'posture-sim-settings-'));
    const file = join(dir, 'slow.json');
    writeFileSync(
      file,
      JSON.stringify({
        name: 'slow', description: 'compliant, slow, with a flaky domains endpoint', extends: 'compliant', drifts: [],
        simulator: { latencyMs: 300, limits: false, faults: [{ route: '^/v1.0/domains$', kind: 'throttle', retryAfter: 7, times: 1 }] },
      }),
    );
    const endpoints = await sim(['--scenario', file]);
    const throttled = await get(endpoints, '/v1.0/domains');
    expect(throttled.status).toBe(429);
    const slow = await get(endpoints, '/v1.0/domains');
    expect(slow.status).toBe(200);
    expect(slow.ms).toBeGreaterThanOrEqual(290);
    // Limits off as the file says: many conditional access reads in a second are all answered.
    const ca = await Promise.all([1, 2, 3].map(() => get(endpoints, '/v1.0/identity/conditionalAccess/policies')));
    expect(ca.map((r) => r.status)).toEqual([200, 200, 200]);
    await new Promise<void>((resolve) => {
      child!.once('exit', () => resolve());
      child!.kill('SIGTERM');
    });
    const fast = await sim(['--scenario', file, '--latency', '0']);
    expect((await get(fast, '/v1.0/users')).ms).toBeLessThan(250);
  });

  it('refuses a bad --fault with one message naming the option and the bad part, and a bad block with the file and path', async () => {
    const run = (args: readonly string[]) =>
      new Promise<{ code: number | null; stderr: string; stdout: string }>((resolve) => {
        const c = spawn(process.execPath, [posture, 'sim', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
        let stderr = '';
        let stdout = '';
        c.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
        c.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
        c.on('close', (code) => resolve({ code, stderr, stdout }));
      });
    const bad = await run(['--fault', 'status=503,path=/v1.0/users,times=lots']);
    expect(bad).toEqual({ code: 1, stdout: '', stderr: 'posture sim: --fault "status=503,path=/v1.0/users,times=lots": times=lots: times must be a whole number 1 or more\n(see posture sim --help)\n' });
    const limit = await run(['--limit', 'graph.perApp=5']);
    expect(limit.code).toBe(1);
    expect(limit.stderr).toMatch(/^posture sim: --limit "graph.perApp=5": "graph.perApp" is not a limit/);
    const dir = mkdtempSync(join(tmpdir(), 'posture-sim-settings-'));
    const file = join(dir, 'bad.json');
    writeFileSync(file, JSON.stringify({ name: 'bad', description: '', extends: 'compliant', drifts: [], simulator: { faults: [{ route: '/x', kind: 'hold' }] } }));
    const block = await run(['--scenario', file]);
    expect(block.code).toBe(1);
    expect(block.stderr).toContain(`posture sim: ${file}: simulator.faults.0.kind: must be one of`);
  });

  it('--help shows examples', async () => {
    const help = await new Promise<string>((resolve) => {
      const c = spawn(process.execPath, [posture, 'sim', '--help'], { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      c.stdout.on('data', (d: Buffer) => (out += d.toString()));
      c.on('close', () => resolve(out));
    });
    expect(help).toContain('Examples:');
    expect(help).toContain("'status=503,path=/v1.0/users,times=3'");
  });
});
