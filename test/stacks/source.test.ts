import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import ts from 'typescript';
import { afterAll, describe, expect, it } from 'vitest';
import { manifestSchema, type Manifest } from '../../reconciler/manifest/schema.js';
import { desiredHashOf } from '../../reconciler/plan/build.js';
import { ForwardingLockdown, SenderAuthentication } from '../../stacks/index.js';
import { declarationIn, isLibraryFile, projectRelative } from '../../stacks/lib/source.js';
import { build, owner } from './helpers.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const thisFile = fileURLToPath(import.meta.url);
const temp = mkdtempSync(join(tmpdir(), 'posture-source-'));
afterAll(() => rmSync(temp, { recursive: true, force: true }));

/** The 1-based line of this file that holds `marker` (each marker appears on one line only). */
function lineOf(file: string, marker: string): number {
  const lines = readFileSync(file, 'utf8').split('\n');
  const found = lines.flatMap((l, i) => (l.includes(marker) ? [i + 1] : []));
  expect(found, marker).toHaveLength(1);
  return found[0]!;
}

/** The marker comment on a line below, built so that this line does not hold it too. */
const declared = (name: string) => ['// declared', name].join(': ');

describe('the source of each construct, recorded at synth', () => {
  it('names the line of the `new` in the declaring file, relative to the folder of cdktf.json', () => {
    let sender: SenderAuthentication | undefined;
    const { posture } = build((p) => {
      sender = new SenderAuthentication(p, 'SenderAuthentication', { owner, domains: [{ name: 'contoso.example', rua: ['mailto:dmarc@contoso.example'] }] }); // declared: sender
      new ForwardingLockdown(p, 'ForwardingLockdown', { owner }); // declared: forwarding
    });
    expect(sender!.source).toEqual({ file: 'test/stacks/source.test.ts', line: lineOf(thisFile, declared('sender')), column: expect.any(Number) as number });
    // The posture itself is declared in the helper that builds the stack.
    const helpers = join(root, 'test/stacks/helpers.ts');
    expect(posture.source).toMatchObject({ file: 'test/stacks/helpers.ts', line: lineOf(helpers, "new EmailSecurityPosture(stack, 'Posture', props)") });

    const m = posture.toManifest();
    expect(m.sources).toEqual({
      'test/Posture': posture.source,
      'test/Posture/SenderAuthentication': sender!.source,
      'test/Posture/ForwardingLockdown': { file: 'test/stacks/source.test.ts', line: lineOf(thisFile, declared('forwarding')), column: expect.any(Number) as number },
    });
    // Every control carries the source of the construct that declares it.
    for (const c of m.controls) expect(c.source, c.id).toEqual(m.sources![c.declaredBy]);
    expect(m.controls.find((c) => c.id === 'GOV.OWNER.1v1')!.source).toEqual(posture.source);
    expect(m.controls.find((c) => c.id === 'MAIL.FWD.1v1')!.declaredBy).toBe('test/Posture/ForwardingLockdown');
  });

  it('gives the TypeScript lines under tsx, as the cdktf app runs, and writes them into posture.json', () => {
    const app = join(root, 'test/fixtures/source-stack/app.ts');
    const out = join(temp, 'out');
    const r = spawnSync(process.execPath, ['--import', 'tsx', app], { cwd: root, encoding: 'utf8', env: { ...process.env, CDKTF_OUTDIR: out } });
    expect(r.status, r.stderr).toBe(0);
    const m = JSON.parse(readFileSync(join(out, 'stacks/sourced/posture.json'), 'utf8')) as Manifest;
    expect(manifestSchema.safeParse(m).success).toBe(true);
    const at = (marker: string) => ({ file: 'test/fixtures/source-stack/app.ts', line: lineOf(app, marker) });
    expect(m.sources!['sourced/Posture']).toMatchObject(at('new EmailSecurityPosture('));
    expect(m.sources!['sourced/Posture/ForwardingLockdown']).toMatchObject(at('new ForwardingLockdown('));
    expect(m.sources!['sourced/Posture/IncidentResponse']).toMatchObject(at('new IncidentResponse('));
    // The column is that of `new`.
    const line = readFileSync(app, 'utf8').split('\n')[lineOf(app, 'new ForwardingLockdown(') - 1]!;
    expect(m.sources!['sourced/Posture/ForwardingLockdown']!.column).toBe(line.indexOf('new ForwardingLockdown(') + 1);
    expect(m.controls.find((c) => c.id === 'MAIL.FWD.1v1')!.source).toEqual(m.sources!['sourced/Posture/ForwardingLockdown']);
  }, 60_000);
});

describe('declarationIn', () => {
  // A posture repository of its own, with the package installed from npm and compiled.
  const repo = join(temp, 'repo');
  mkdirSync(join(repo, 'stacks'), { recursive: true });
  writeFileSync(join(repo, 'cdktf.json'), '{}');
  const userFile = join(repo, 'stacks', 'contoso.ts');
  const lib = join(root, 'stacks/lib');

  it('skips the frames of this package, wherever it is, and of its dependencies', () => {
    const stack = [
      'Error',
      `    at captureDeclaration (${pathToFileURL(join(lib, 'source.ts')).href}:101:20)`,
      `    at new PostureArea (${join(lib, 'area.ts')}:43:19)`,
      `    at new ForwardingLockdown (${join(lib, 'forwarding.ts')}:24:5)`,
      `    at Array.forEach (<anonymous>)`,
      `    at node:internal/modules/run_main:123:5`,
      `    at Object.visit (${join(repo, 'node_modules/constructs/lib/construct.js')}:1:1)`,
      `    at new ContosoStack (${pathToFileURL(userFile).href}:12:5)`,
      `    at build (${join(lib, 'synth.ts')}:57:5)`,
    ].join('\n');
    expect(declarationIn(stack)).toEqual({ file: 'stacks/contoso.ts', line: 12, column: 5 });
  });

  it('tells this package from a posture repository by the package root, not by a folder name', () => {
    expect(isLibraryFile(join(lib, 'area.ts'))).toBe(true);
    expect(isLibraryFile(join(root, 'policies/catalogue.ts'))).toBe(true);
    expect(isLibraryFile(join(root, 'reconciler/manifest/schema.ts'))).toBe(true);
    expect(isLibraryFile(join(repo, 'node_modules/email-posture/dist/stacks/lib/area.js'))).toBe(true);
    // A posture repository's own stacks/lib is the user's code, and so are this repository's examples.
    expect(isLibraryFile(join(repo, 'stacks/lib/shared.ts'))).toBe(false);
    expect(isLibraryFile(join(root, 'stacks/examples/tailspin.ts'))).toBe(false);
    expect(isLibraryFile(thisFile)).toBe(false);
  });

  it('records no file outside the project: never an absolute path or ..', () => {
    const outside = join(temp, 'elsewhere', 'stack.ts');
    expect(projectRelative(outside, repo)).toBeUndefined();
    expect(declarationIn(`Error\n    at main (${outside}:3:1)`, repo)).toBeUndefined();
    // Without a cdktf.json above the file, the working folder is the root.
    expect(projectRelative(join(temp, 'elsewhere', 'stack.ts'), temp)).toBe('elsewhere/stack.ts');
    expect(declarationIn('Error\n    at <anonymous>')).toBeUndefined();
  });
});

describe('the package compiled and installed from npm', () => {
  /** Compiles stacks/lib/source.ts as the package's build does, into `dir`, beside a construct that calls it. */
  function installCompiled(dir: string): void {
    const lib = join(dir, 'dist/stacks/lib');
    mkdirSync(lib, { recursive: true });
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'email-posture', type: 'module' }));
    const source = readFileSync(join(root, 'stacks/lib/source.ts'), 'utf8');
    const js = ts.transpileModule(source, { compilerOptions: { module: ts.ModuleKind.ES2022, target: ts.ScriptTarget.ES2022 } }).outputText;
    writeFileSync(join(lib, 'source.js'), js);
    writeFileSync(join(lib, 'area.js'), "import { captureDeclaration } from './source.js';\nexport class Area {\n  constructor() {\n    this.source = captureDeclaration();\n  }\n}\n");
  }

  it('finds the declaration in the posture repository, past the frames of node_modules/email-posture/dist', () => {
    const repo = join(temp, 'user-repo');
    installCompiled(join(repo, 'node_modules/email-posture'));
    writeFileSync(join(repo, 'cdktf.json'), '{}');
    writeFileSync(join(repo, 'package.json'), JSON.stringify({ name: 'contoso-posture', type: 'module' }));
    mkdirSync(join(repo, 'stacks/lib'), { recursive: true });
    // The repository's own stacks/lib is its code, not the package's.
    writeFileSync(join(repo, 'stacks/lib/areas.js'), "import { Area } from 'email-posture/dist/stacks/lib/area.js';\n\nexport const declare = () =>\n  new Area();\n");
    writeFileSync(join(repo, 'stacks/main.js'), "import { declare } from './lib/areas.js';\nprocess.stdout.write(JSON.stringify(declare().source));\n");
    const r = spawnSync(process.execPath, ['stacks/main.js'], { cwd: repo, encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ file: 'stacks/lib/areas.js', line: 4, column: 3 });
  });

  it('tells its own dist/ from the stacks beside it in a checkout of the package', () => {
    const checkout = join(temp, 'checkout');
    installCompiled(checkout);
    writeFileSync(join(checkout, 'cdktf.json'), '{}');
    mkdirSync(join(checkout, 'stacks/examples'), { recursive: true });
    writeFileSync(join(checkout, 'stacks/examples/minimal.js'), "import { Area } from '../../dist/stacks/lib/area.js';\nprocess.stdout.write(JSON.stringify(new Area().source));\n");
    const r = spawnSync(process.execPath, ['stacks/examples/minimal.js'], { cwd: checkout, encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ file: 'stacks/examples/minimal.js', line: 2, column: 37 });
  });
});

describe('the manifest schema of sources', () => {
  const { posture } = build((p) => new ForwardingLockdown(p, 'ForwardingLockdown', { owner }));
  const manifest = posture.toManifest();
  const withSource = (source: unknown) => ({ ...manifest, controls: manifest.controls.map((c) => ({ ...c, source })) });

  it('keeps a manifest written before sources were recorded valid', () => {
    const older = structuredClone(manifest) as Partial<Manifest>;
    delete older.sources;
    for (const c of older.controls!) delete (c as { source?: unknown }).source;
    expect(manifestSchema.safeParse(older).success).toBe(true);
  });

  it('refuses a source that is not a repository-relative posix path with a line', () => {
    expect(manifestSchema.safeParse(withSource({ file: 'stacks/contoso.ts', line: 3 })).success).toBe(true);
    for (const bad of [
      { file: '/builds/stacks/contoso.ts', line: 3 },
      { file: '../stacks/contoso.ts', line: 3 },
      { file: 'stacks/../contoso.ts', line: 3 },
      { file: 'stacks\\contoso.ts', line: 3 },
      { file: 'C:/repo/contoso.ts', line: 3 },
      { file: 'file:///repo/contoso.ts', line: 3 },
      { file: 'stacks/contoso.ts', line: 0 },
      { file: 'stacks/contoso.ts', line: 3, column: 0 },
    ]) {
      expect(manifestSchema.safeParse(withSource(bad)).success, JSON.stringify(bad)).toBe(false);
    }
  });

  it('leaves the desired hash alone: moving a declaration does not make a reviewed plan stale', () => {
    const older = structuredClone(manifest) as Manifest;
    delete older.sources;
    for (const c of older.controls) delete c.source;
    const moved = withSource({ file: 'stacks/contoso.ts', line: 99 }) as Manifest;
    expect(desiredHashOf(manifest)).toBe(desiredHashOf(older));
    expect(desiredHashOf(moved)).toBe(desiredHashOf(older));
    expect(desiredHashOf({ ...older, stack: 'other' })).not.toBe(desiredHashOf(older));
  });
});
