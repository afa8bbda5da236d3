/**
 * Start-up benchmark. Writes bench/results/startup.json.
 *
 * The cost of starting `posture`, from TypeScript source through tsx (a checkout of this repository)
 * and compiled (the package as `npm pack` makes it, installed into a folder of its own):
 * `posture --version` (start-up alone) and `posture plan` of the minimal example posture against the
 * simulator's compliant tenant without latency (start-up plus a small plan). Each is run `--runs`
 * times in its own process; the medians of wall time and of peak resident memory (the process's own
 * maxRSS at exit) are reported. The floor is Node itself: `node -e 0`, the least any Node CLI can
 * start in on this machine; each result gives its ratio to it.
 *
 * `--baseline REF` measures a commit of this repository the same way (a detached worktree sharing this
 * checkout's node_modules, run from its TypeScript source), for a before-and-after.
 *
 * Run: npm run bench:startup [-- --runs 9] [-- --baseline 361ff1f]
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ROLE_IDS, startSimulator } from '../simulator/index.js';
import { offlineLock } from '../scripts/offline-lock.js';
import { arg, fixed2, machine, synthesizedPostures, tenantEnv, writeResult } from './lib.js';

const runs = arg('runs', 9);
const repo = fileURLToPath(new URL('..', import.meta.url));
const { work, synthDir } = synthesizedPostures('posture-bench-startup-');

// The package as users install it.
const packDir = join(work, 'pack');
const app = join(work, 'app');
mkdirSync(packDir);
mkdirSync(app);
const packed = spawnSync('npm', ['pack', '--json', '--pack-destination', packDir], { cwd: repo, encoding: 'utf8' });
if (packed.status !== 0) throw new Error(`npm pack failed: ${packed.stderr}`);
const [info] = JSON.parse(packed.stdout.slice(packed.stdout.indexOf('['))) as { filename: string }[];
const tarball = join(packDir, info!.filename);
const dependencies = { 'email-posture': `file:${tarball}` };
writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'bench-app', private: true, dependencies }));
writeFileSync(
  join(app, 'package-lock.json'),
  JSON.stringify(offlineLock({ repoLock: join(repo, 'package-lock.json'), repoManifest: join(repo, 'package.json'), tarball, tarballSpec: dependencies['email-posture'], name: 'bench-app', dependencies, devDependencies: {} })),
);
const installed = spawnSync('npm', ['ci', '--offline', '--no-audit', '--no-fund'], { cwd: app, encoding: 'utf8' });
if (installed.status !== 0) throw new Error(`npm ci failed: ${installed.stderr}`);

const entries: Record<string, string> = {
  source: join(repo, 'bin', 'posture.js'),
  compiled: join(app, 'node_modules', 'email-posture', 'bin', 'posture.js'),
};

// The commit to compare with, checked out beside this one.
const at = process.argv.indexOf('--baseline');
const baselineRef = at > 0 ? process.argv[at + 1] : undefined;
const baselineDir = join(work, 'baseline');
if (baselineRef) {
  const added = spawnSync('git', ['worktree', 'add', '--detach', baselineDir, baselineRef], { cwd: repo, encoding: 'utf8' });
  if (added.status !== 0) throw new Error(`git worktree add ${baselineRef} failed: ${added.stderr}`);
  // Removed however the benchmark ends.
  process.on('exit', () => {
    spawnSync('git', ['worktree', 'remove', '--force', baselineDir], { cwd: repo });
    spawnSync('git', ['worktree', 'prune'], { cwd: repo });
  });
  symlinkSync(join(repo, 'node_modules'), join(baselineDir, 'node_modules'));
  entries['baseline'] = join(baselineDir, 'bin', 'posture.js');
  // Its own synth: a manifest is read by the version that wrote it.
  const synthesized = spawnSync(process.execPath, ['--import', 'tsx', join(baselineDir, 'stacks', 'main.ts')], { cwd: baselineDir, env: { ...process.env, CDKTF_OUTDIR: join(work, 'baseline-out') }, encoding: 'utf8' });
  if (synthesized.status !== 0) throw new Error(`synth of ${baselineRef} failed: ${synthesized.stderr}`);
}
const synthDirOf = (name: string) => (name === 'baseline' ? join(work, 'baseline-out') : synthDir);

// Each measured process reports its own peak resident memory as it exits.
const reportRss = `data:text/javascript,process.on('exit',()=>process.stderr.write('\\nMAXRSS '+process.resourceUsage().maxRSS+'\\n'))`;

async function measure(args: readonly string[], env: Record<string, string>): Promise<{ code: number | null; wallSeconds: number; rssMb: number }> {
  const t0 = performance.now();
  const child = spawn(process.execPath, ['--import', reportRss, ...args], { env, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const code = await new Promise<number | null>((r) => child.on('close', (c) => r(c)));
  const wallSeconds = (performance.now() - t0) / 1000;
  const kb = Number(/MAXRSS (\d+)/.exec(stderr)?.[1] ?? Number.NaN);
  if (code !== 0 && code !== 2) throw new Error(`${args.join(' ')} exited ${code}: ${stderr.slice(-1500)}`);
  return { code, wallSeconds, rssMb: Math.round(kb / 1024) };
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
};

async function series(args: readonly string[], env: Record<string, string>) {
  const results = [];
  for (let i = 0; i < runs; i++) results.push(await measure(args, env));
  return { wallSeconds: fixed2(median(results.map((r) => r.wallSeconds))), peakRssMb: median(results.map((r) => r.rssMb)) };
}

const sim = await startSimulator({ scenario: 'compliant' });
const env = tenantEnv(sim, ROLE_IDS.globalReader);
const planArgs = (entry: string, dir: string) => [entry, 'plan', '--synth-dir', dir, '--stack', 'minimal', '--tenant', sim.tenantId, '--graph-url', sim.graphUrl, '--exchange-url', sim.exoUrl, '--dns-server', `${sim.dns.host}:${sim.dns.port}`, '--auth', 'token', '--evidence', join(work, 'evidence.jsonl'), '--out', join(work, 'plan.txt')];

const floor = await series(['-e', '0'], env);
const measured: Record<string, { version: Awaited<ReturnType<typeof series>>; plan: Awaited<ReturnType<typeof series>> }> = {};
for (const [name, entry] of Object.entries(entries)) {
  measured[name] = { version: await series([entry, '--version'], env), plan: await series(planArgs(entry, synthDirOf(name)), env) };
}
await sim.stop();

const ratio = (s: { wallSeconds: number }) => fixed2(s.wallSeconds / Math.max(floor.wallSeconds, 0.001));
const result = {
  benchmark: 'startup',
  date: new Date().toISOString(),
  machine: machine(),
  runs,
  floor: { what: 'node -e 0', ...floor },
  source: { how: 'TypeScript through tsx (a checkout)', version: { ...measured.source!.version, ratioToFloor: ratio(measured.source!.version) }, plan: { ...measured.source!.plan, ratioToFloor: ratio(measured.source!.plan) } },
  compiled: { how: 'the packed package, installed', version: { ...measured.compiled!.version, ratioToFloor: ratio(measured.compiled!.version) }, plan: { ...measured.compiled!.plan, ratioToFloor: ratio(measured.compiled!.plan) } },
  ...(measured['baseline']
    ? {
        baseline: {
          how: `commit ${baselineRef}, from its TypeScript source`,
          version: { ...measured['baseline'].version, ratioToFloor: ratio(measured['baseline'].version) },
          plan: { ...measured['baseline'].plan, ratioToFloor: ratio(measured['baseline'].plan) },
        },
        compiledVsBaseline: {
          versionWall: fixed2(measured.compiled!.version.wallSeconds / measured['baseline'].version.wallSeconds),
          planWall: fixed2(measured.compiled!.plan.wallSeconds / measured['baseline'].plan.wallSeconds),
          planRss: fixed2(measured.compiled!.plan.peakRssMb / measured['baseline'].plan.peakRssMb),
        },
      }
    : {}),
  compiledVsSource: {
    versionWall: fixed2(measured.compiled!.version.wallSeconds / measured.source!.version.wallSeconds),
    planWall: fixed2(measured.compiled!.plan.wallSeconds / measured.source!.plan.wallSeconds),
    planRss: fixed2(measured.compiled!.plan.peakRssMb / measured.source!.plan.peakRssMb),
  },
};
rmSync(work, { recursive: true, force: true });
writeResult('startup', result, { code: 0, stderr: '' });
