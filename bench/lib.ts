/**
 * What the benchmarks share: their arguments, a synthesized posture, the tokens of a simulated
 * tenant, one `posture` command run in its own process with its peak memory, and the result file.
 */
import { execFileSync, spawn } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ALL_GRAPH_PERMISSIONS, EXCHANGE_AUDIENCE, mintToken, type RunningSimulator } from '../simulator/index.js';
import type { RequestLogEntry } from '../simulator/http/log.js';
import { buildApp } from '../stacks/app.js';
import { synthesize } from '../stacks/index.js';

/** A numeric `--name N` argument of the benchmark, or its default. */
export const arg = (name: string, fallback: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};

/** A work folder holding the example postures, synthesized. */
export function synthesizedPostures(prefix: string): { work: string; synthDir: string } {
  const work = mkdtempSync(join(tmpdir(), prefix));
  const synthDir = join(work, 'cdktf.out');
  if (!synthesize(buildApp, { outdir: synthDir }).ok) throw new Error('synth failed');
  return { work, synthDir };
}

/** The environment of a `posture` process: tokens of the simulated tenant (every Graph permission; Exchange with this role), valid two hours. */
export const tenantEnv = (sim: RunningSimulator, exchangeRole: string): Record<string, string> => ({
  PATH: process.env['PATH'] ?? '',
  POSTURE_GRAPH_TOKEN: mintToken({ tenantId: sim.tenantId, roles: ALL_GRAPH_PERMISSIONS, lifetimeSeconds: 7200 }),
  POSTURE_EXCHANGE_TOKEN: mintToken({ tenantId: sim.tenantId, audience: EXCHANGE_AUDIENCE, roles: ['Exchange.ManageAsApp'], wids: [exchangeRole], lifetimeSeconds: 7200 }),
});

/** The connection options of `posture` against a simulated tenant. */
export const tenantArgs = (sim: RunningSimulator, synthDir: string): string[] => ['--synth-dir', synthDir, '--stack', 'tailspin', '--tenant', sim.tenantId, '--graph-url', sim.graphUrl, '--exchange-url', sim.exoUrl];

/**
 * Which `posture` the benchmarks measure. By default what users run: the package compiled to dist/
 * (by scripts/build.mjs, once per benchmark process), started by bin/posture.js from a folder that
 * holds no TypeScript sources, so it takes dist/ as the installed package does. BENCH_FROM_SOURCE=1
 * measures the checkout's TypeScript through tsx instead (1.5 to 2.5 s more start-up).
 */
export const measuredPosture: { how: string; script: string | undefined } = {
  how: process.env['BENCH_FROM_SOURCE'] === '1' ? 'the TypeScript sources through tsx (bin/posture.js in the checkout)' : 'the compiled package: dist/ built by scripts/build.mjs, run by bin/posture.js as installed',
  script: undefined,
};

/** The `posture` script measured (see {@link measuredPosture}), built on first use. */
export function postureScript(): string {
  if (measuredPosture.script) return measuredPosture.script;
  const repo = fileURLToPath(new URL('..', import.meta.url));
  if (process.env['BENCH_FROM_SOURCE'] === '1') return (measuredPosture.script = join(repo, 'bin', 'posture.js'));
  execFileSync(process.execPath, [join(repo, 'scripts', 'build.mjs')], { stdio: ['ignore', 'ignore', 'inherit'] });
  // bin/posture.js runs the sources when reconciler/cli/main.ts is beside it; here only dist/ is.
  const installed = mkdtempSync(join(tmpdir(), 'posture-compiled-'));
  mkdirSync(join(installed, 'bin'));
  copyFileSync(join(repo, 'bin', 'posture.js'), join(installed, 'bin', 'posture.js'));
  copyFileSync(join(repo, 'package.json'), join(installed, 'package.json'));
  // The compiled modules resolve their dependencies from where they really are: the checkout's node_modules.
  symlinkSync(join(repo, 'dist'), join(installed, 'dist'), 'dir');
  return (measuredPosture.script = join(installed, 'bin', 'posture.js'));
}

/** Runs `posture ARGS` (the one {@link measuredPosture} names, or the `posture` script given) in its own process: its exit code, when it was spawned (epoch ms, after any build), wall time, peak resident memory (VmHWM) and stderr. */
export async function timedPosture(
  args: readonly string[],
  env: Record<string, string>,
  posture: string = postureScript(),
): Promise<{ code: number | null; spawnedAt: number; wallSeconds: number; peakRssMb: number; stderr: string }> {
  const spawnedAt = Date.now();
  const t0 = performance.now();
  // BENCH_NODE_ARGS passes options to the measured process's node, e.g. `--cpu-prof --cpu-prof-dir=prof` to profile it.
  const nodeArgs = (process.env['BENCH_NODE_ARGS'] ?? '').split(/\s+/).filter(Boolean);
  const child = spawn(process.execPath, [...nodeArgs, posture, ...args], { env, stdio: ['ignore', 'ignore', 'pipe'] });
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
  return { code, spawnedAt, wallSeconds: (performance.now() - t0) / 1000, peakRssMb: Math.round(peakKb / 1024), stderr };
}

/** The machine a result was measured on. */
export const machine = () => ({ cpus: cpus().length, node: process.version });

/** Writes bench/results/NAME.json and prints it; prints the command's stderr tail when it failed. */
export function writeResult(name: string, result: Record<string, unknown>, run: { code: number | null; stderr: string }): void {
  mkdirSync(fileURLToPath(new URL('./results/', import.meta.url)), { recursive: true });
  if (measuredPosture.script && result['posture'] === undefined) result = { ...result, posture: measuredPosture.how };
  writeFileSync(fileURLToPath(new URL(`./results/${name}.json`, import.meta.url)), JSON.stringify(result, null, 2) + '\n');
  console.log(JSON.stringify(result, null, 2));
  if (run.code !== 2 && run.code !== 0) console.error(run.stderr.slice(-2000));
}

/** Rounds seconds and ratios as the results show them. */
export const fixed2 = (n: number) => Number(n.toFixed(2));

/** What a run sent, as every benchmark reports it: requests by API, `$batch` items, and 429s. */
export function requestTally(log: readonly RequestLogEntry[]) {
  return {
    total: log.length,
    graph: log.filter((e) => e.api === 'graph').length,
    graphBatchItems: log.filter((e) => e.batch !== undefined).length,
    exchange: log.filter((e) => e.api === 'exchange').length,
    throttled429: log.filter((e) => e.status === 429).length,
  };
}
