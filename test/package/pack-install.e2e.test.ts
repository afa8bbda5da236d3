/**
 * The package as a user gets it: `npm pack`, installed into an empty folder outside this repository,
 * then `posture init`, `posture synth`, type-checking the new stack against the package's types, and
 * a plan against the package's own simulator. Nothing comes from this source tree: the folder is
 * elsewhere, this repository's node_modules/.bin is off the PATH, and the install is offline, from the
 * npm cache installing this repository filled (the loopback guard stops anything that would leave
 * the machine).
 */
import { spawn, spawnSync, type ChildProcess, type SpawnSyncReturns } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { offlineLock } from '../../scripts/offline-lock.js';

const repo = resolve(import.meta.dirname, '../..');
const work = mkdtempSync(join(tmpdir(), 'posture-pack-'));
const app = join(work, 'contoso-posture');
const packDir = join(work, 'pack');

/** This environment without this repository: no npm run variables, no node_modules/.bin of ours on the PATH. */
function userEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (/^npm_/i.test(k) && k.toLowerCase() !== 'npm_config_cache') continue;
    env[k] = v;
  }
  env.PATH = (process.env.PATH ?? '')
    .split(delimiter)
    .filter((p) => !resolve(p).startsWith(repo))
    .join(delimiter);
  return { ...env, npm_config_update_notifier: 'false', npm_config_audit: 'false', npm_config_fund: 'false', NO_COLOR: '1', ...extra };
}

function run(command: string, args: readonly string[], cwd: string, env: NodeJS.ProcessEnv = userEnv()): SpawnSyncReturns<string> {
  return spawnSync(command, args, { cwd, env, encoding: 'utf8', timeout: 240_000 });
}

const posture = (args: readonly string[], env?: NodeJS.ProcessEnv) => run(join(app, 'node_modules', '.bin', 'posture'), args, app, env);
const explain = (r: SpawnSyncReturns<string>) => `exit ${r.status}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`;

let tarball = '';
let packedFiles: string[] = [];
let sim: ChildProcess | undefined;

/** Installs what package.json asks for with a lock made from this repository's: offline, exactly those versions. */
function installOffline(): void {
  const manifest = JSON.parse(readFileSync(join(app, 'package.json'), 'utf8')) as { dependencies: Record<string, string>; devDependencies?: Record<string, string> };
  const lock = offlineLock({
    repoLock: join(repo, 'package-lock.json'),
    repoManifest: join(repo, 'package.json'),
    tarball,
    tarballSpec: manifest.dependencies['email-posture']!,
    name: 'contoso-posture',
    dependencies: manifest.dependencies,
    devDependencies: manifest.devDependencies ?? {},
  });
  writeFileSync(join(app, 'package-lock.json'), JSON.stringify(lock, null, 2) + '\n');
  const r = run('npm', ['ci', '--offline', '--no-audit', '--no-fund'], app);
  expect(r.status, explain(r)).toBe(0);
}

beforeAll(() => {
  mkdirSync(packDir);
  // prepack compiles the TypeScript into dist/ first.
  const packed = run('npm', ['pack', '--json', '--pack-destination', packDir], repo, { ...userEnv(), PATH: process.env.PATH });
  expect(packed.status, explain(packed)).toBe(0);
  const json = packed.stdout.slice(packed.stdout.indexOf('\n[') + 1 || packed.stdout.indexOf('['));
  const [info] = JSON.parse(json) as { filename: string; files: { path: string }[] }[];
  tarball = join(packDir, info!.filename);
  packedFiles = info!.files.map((f) => f.path);
}, 240_000);

afterAll(() => {
  sim?.kill('SIGTERM');
  rmSync(work, { recursive: true, force: true });
});

describe('the packed package', () => {
  it('holds the CLI, the compiled constructs with their types, the schema and the docs, and no tests or TypeScript sources', () => {
    for (const f of ['bin/posture.js', 'dist/reconciler/cli/main.js', 'dist/stacks/index.js', 'dist/stacks/index.d.ts', 'dist/simulator/index.js', 'dist/simulator/scenarios/compliant.json', 'docs/posture-manifest.schema.json', 'docs/controls.md', 'README.md', 'LICENSE', 'package.json']) {
      expect(packedFiles, f).toContain(f);
    }
    expect(packedFiles.filter((f) => /^(test|bench|scripts|\.ci)\//.test(f))).toEqual([]);
    expect(packedFiles.filter((f) => /\.ts$/.test(f) && !/\.d\.ts$/.test(f))).toEqual([]);
  });

  it('installs into an empty folder, scaffolds a repository, synthesizes it and plans it against the simulator', async () => {
    // An empty folder with the tarball installed.
    mkdirSync(app);
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'contoso-posture', private: true, dependencies: { 'email-posture': `file:${tarball}` } }, null, 2) + '\n');
    installOffline();
    expect(existsSync(join(app, 'node_modules', 'email-posture', 'reconciler')), 'no TypeScript source is installed').toBe(false);

    const version = posture(['--version']);
    expect(version.status, explain(version)).toBe(0);
    expect(version.stdout.trim()).toBe((JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')) as { version: string }).version);

    const init = posture([
      'init', '.', '--yes', '--organization', 'Contoso', '--domain', 'contoso.com', '--domain', 'contoso.net',
      '--break-glass', 'bg1@contoso.com', 'bg2@contoso.com', '--owner', 'Mail Platform Lead <mail-platform@contoso.com>', '--team', 'Messaging',
      '--identity-owner', 'Identity Lead <identity@contoso.com>', '--dmarc-reports', 'mailto:dmarc@contoso.com', '--ci', 'github', 'azure-devops',
    ]);
    expect(init.status, explain(init)).toBe(0);
    for (const f of ['cdktf.json', 'tsconfig.json', 'stacks/main.ts', 'stacks/posture.ts', '.gitignore', '.github/workflows/posture.yml', '.github/actions/posture/action.yml', 'azure-pipelines.yml', 'templates/posture-setup.yml', 'README.md']) {
      expect(existsSync(join(app, f)), f).toBe(true);
    }
    // The workflow's jobs use the action, and the pipeline's jobs the template, at the paths written.
    expect(readFileSync(join(app, '.github/workflows/posture.yml'), 'utf8')).toMatch(/^\s+uses: \.\/\.github\/actions\/posture$/m);
    expect(readFileSync(join(app, 'azure-pipelines.yml'), 'utf8')).toMatch(/^\s+- template: templates\/posture-setup\.yml$/m);
    expect(readFileSync(join(app, 'azure-pipelines.yml'), 'utf8')).toMatch(/- name: POSTURE_STACK\s*\n\s*value: contoso\n/);
    const manifest = JSON.parse(readFileSync(join(app, 'package.json'), 'utf8')) as { dependencies: Record<string, string>; devDependencies: Record<string, string> };
    expect(manifest.dependencies['email-posture'], 'the installed tarball is kept').toBe(`file:${tarball}`);
    expect(Object.keys(manifest.dependencies)).toContain('tsx');
    expect(readFileSync(join(app, '.github/workflows/posture.yml'), 'utf8')).toMatch(/POSTURE_STACK: contoso\b/);
    installOffline();

    const again = posture(['init', '.', '--yes', '--organization', 'Contoso', '--domain', 'contoso.com', '--break-glass', 'bg1@contoso.com', '--owner', 'A <a@contoso.com>', '--team', 'T', '--dmarc-reports', 'mailto:d@contoso.com']);
    expect(again.status, 'a second init overwrites nothing').toBe(1);
    expect(again.stderr).toMatch(/exist already.*nothing was written/);

    const synth = posture(['synth']);
    expect(synth.status, explain(synth)).toBe(0);
    const synthesized = JSON.parse(readFileSync(join(app, 'cdktf.out', 'stacks', 'contoso', 'posture.json'), 'utf8')) as { organization?: { primaryDomain?: string } };
    expect(JSON.stringify(synthesized)).toContain('contoso.net');

    // The stack type-checks against the package's declarations.
    const tsc = run(process.execPath, [join(app, 'node_modules', 'typescript', 'bin', 'tsc'), '--noEmit', '-p', '.'], app);
    expect(tsc.status, explain(tsc)).toBe(0);

    // The constructs import from the package by its name.
    const imported = run(process.execPath, ['--input-type=module', '-e', "const m = await import('email-posture'); console.log(typeof m.EmailSecurityPosture, typeof m.runSynth, typeof m.TerraformStack)"], app);
    expect(imported.stdout.trim(), explain(imported)).toBe('function function function');

    // The package's simulator, and a plan against it with the tokens it prints.
    sim = spawn(join(app, 'node_modules', '.bin', 'posture'), ['sim', '--print-env'], { cwd: app, env: userEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    await new Promise<void>((done, failed) => {
      sim!.stdout!.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        if (out.includes('POSTURE_SIM_ARGS=')) done();
      });
      sim!.on('exit', (code) => failed(new Error(`posture sim exited ${code}: ${out}`)));
    });
    const exported = Object.fromEntries([...out.matchAll(/^export (\w+)='([^']*)'$/gm)].map((m) => [m[1]!, m[2]!]));
    expect(Object.keys(exported).sort()).toEqual(['POSTURE_EXCHANGE_TOKEN', 'POSTURE_GRAPH_TOKEN', 'POSTURE_SIM_ARGS']);
    const plan = posture(['plan', '--stack', 'contoso', '--auth', 'token', ...exported.POSTURE_SIM_ARGS!.split(' '), '--format', 'json', '--out', 'plan.json'], userEnv(exported));
    // 2: the simulated tenant is not Contoso's, so there are findings to act on; never 1 (an error or an incomplete read).
    expect(plan.status, explain(plan)).toBe(2);
    const doc = JSON.parse(readFileSync(join(app, 'plan.json'), 'utf8')) as { findings: unknown[]; tool: { version: string } };
    expect(doc.findings.length).toBeGreaterThan(0);
    expect(doc.tool.version).toBe(version.stdout.trim());
    expect(readdirSync(app)).toContain('posture-evidence.jsonl');
  }, 300_000);
});
