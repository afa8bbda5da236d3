import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { TerraformStack, type App } from 'cdktf';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { InputError, loadSynthOutput } from '../../reconciler/input/synth-output.js';
import { SYNTH_FAILED_FILE } from '../../reconciler/manifest/schema.js';
import { EmailSecurityPosture, ForwardingLockdown, TODAY_CONTEXT_KEY, runSynth, synthesize } from '../../stacks/index.js';
import { cli } from '../reconciler/harness.js';
import { TODAY, declareAll, owner, postureProps } from './helpers.js';

const run = promisify(execFile);
const root = resolve(import.meta.dirname, '../..');
const context = { [TODAY_CONTEXT_KEY]: TODAY };
const REFUSED = /the last synth failed: run `posture synth` again \(the stacks in .* are from an earlier synth and may not match the posture\)/;

const valid = (app: App) => declareAll(new EmailSecurityPosture(new TerraformStack(app, 'contoso'), 'Posture', postureProps()));
/** The same posture with one misspelled prop: it must fail, not lose the partner's forwarding domain. */
const invalid = (app: App) => {
  const p = new EmailSecurityPosture(new TerraformStack(app, 'contoso'), 'Posture', postureProps());
  new ForwardingLockdown(p, 'Fwd', { owner, allowedRemoteDomain: ['partner.example'] } as never);
};
const throwing = (app: App) => {
  valid(app);
  throw new Error('the stack code failed');
};
const freshOutdir = () => join(mkdtempSync(join(tmpdir(), 'posture-synth-')), 'cdktf.out');

describe('a failed synth never leaves an output a plan could take for current', () => {
  afterEach(() => {
    process.exitCode = undefined;
    vi.restoreAllMocks();
  });

  it('runSynth sets the exit code itself: 1 for an invalid posture and for stack code that throws', () => {
    vi.spyOn(console, 'error').mockImplementation(() => {});
    vi.spyOn(console, 'log').mockImplementation(() => {});
    expect(runSynth(invalid, [], { outdir: freshOutdir(), context })).toBe(1);
    expect(process.exitCode).toBe(1);
    process.exitCode = undefined;
    expect(runSynth(throwing, [], { outdir: freshOutdir(), context })).toBe(1);
    expect(process.exitCode).toBe(1);
    process.exitCode = undefined;
    expect(runSynth(valid, [], { outdir: freshOutdir(), context })).toBe(0);
    expect(process.exitCode).toBeUndefined();
  });

  it('keeps an earlier good output but marks it, the reconciler refuses it, and the next good synth clears the mark', () => {
    const outdir = freshOutdir();
    expect(synthesize(valid, { outdir, context }).ok).toBe(true);
    expect(loadSynthOutput(outdir).stack).toBe('contoso');

    expect(synthesize(invalid, { outdir, context }).ok).toBe(false);
    expect(existsSync(join(outdir, 'stacks', 'contoso', 'posture.json'))).toBe(true);
    const mark = JSON.parse(readFileSync(join(outdir, SYNTH_FAILED_FILE), 'utf8')) as Record<string, unknown>;
    expect(mark).toMatchObject({
      kind: 'EmailSecurityPostureSynthFailure',
      errors: [{ constructPath: 'contoso/Posture/Fwd', property: 'allowedRemoteDomain' }],
    });
    expect(() => loadSynthOutput(outdir)).toThrow(InputError);
    expect(() => loadSynthOutput(outdir, 'contoso')).toThrow(REFUSED);

    expect(synthesize(valid, { outdir, context }).ok).toBe(true);
    expect(existsSync(join(outdir, SYNTH_FAILED_FILE))).toBe(false);
    expect(loadSynthOutput(outdir).stack).toBe('contoso');
  });

  it('stack code that throws marks the earlier output too', () => {
    const outdir = freshOutdir();
    expect(synthesize(valid, { outdir, context }).ok).toBe(true);
    expect(() => synthesize(throwing, { outdir, context })).toThrow('the stack code failed');
    expect(JSON.parse(readFileSync(join(outdir, SYNTH_FAILED_FILE), 'utf8'))).toMatchObject({ error: 'the stack code failed' });
    expect(() => loadSynthOutput(outdir)).toThrow(REFUSED);
  });

  it('a folder that is not a synthesized output is neither replaced nor marked', () => {
    const outdir = freshOutdir();
    mkdirSync(outdir);
    writeFileSync(join(outdir, 'notes.txt'), 'not synth output');
    expect(() => synthesize(valid, { outdir, context })).toThrow(/exists and is not a synthesized output .*so it is not replaced/);
    expect(synthesize(invalid, { outdir, context }).ok).toBe(false);
    expect(readFileSync(join(outdir, 'notes.txt'), 'utf8')).toBe('not synth output');
    expect(existsSync(join(outdir, SYNTH_FAILED_FILE))).toBe(false);
  });
});

describe("the README's example, exactly as written there", () => {
  /** The first TypeScript block under "Declaring a posture", importing the library from this checkout. */
  const readmeExample = (): string => {
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    const code = /## Declaring a posture[\s\S]*?```ts\n([\s\S]*?)```/.exec(readme)?.[1];
    if (!code?.includes("from './stacks/index.js'")) throw new Error('the README example has moved');
    return code.replace("from './stacks/index.js'", `from '${pathToFileURL(join(root, 'stacks/index.ts')).href}'`);
  };
  const project = () => {
    const dir = mkdtempSync(join(tmpdir(), 'posture-readme-'));
    symlinkSync(join(root, 'node_modules'), join(dir, 'node_modules'), 'dir');
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ type: 'module' }));
    return dir;
  };
  const synth = (cwd: string, code: string) => {
    writeFileSync(join(cwd, 'posture.ts'), code);
    return run(join(root, 'node_modules/.bin/tsx'), ['posture.ts'], {
      cwd,
      env: { ...process.env, CDKTF_CONTEXT_JSON: JSON.stringify({ [TODAY_CONTEXT_KEY]: '2026-12-01' }) },
    }).then(
      (r) => ({ code: 0, stdout: r.stdout, stderr: r.stderr }),
      (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, stdout: e.stdout, stderr: e.stderr }),
    );
  };

  it('exits 1 on a validation error although it ignores the result of runSynth, and the next plan refuses the earlier output', async () => {
    const cwd = project();
    const example = readmeExample();
    expect(example).toMatch(/^runSynth\(/m);

    const good = await synth(cwd, example);
    expect(good).toMatchObject({ code: 0, stdout: expect.stringContaining('synthesized contoso into cdktf.out') });

    // An exception that has expired: a validation error synth has always caught.
    const expired = example.replace("expires: '2027-03-31'", "expires: '2026-11-30'");
    expect(expired).not.toBe(example);
    const failed = await synth(cwd, expired);
    expect(failed.code).toBe(1);
    expect(failed.stderr).toContain('posture synth: 1 validation error; nothing was written.');
    expect(failed.stderr).toContain('contoso/Posture: exceptions[0].expires: expired on 2026-11-30');
    expect(failed.stderr).toContain(`The earlier output in cdktf.out is kept but marked as failed (${SYNTH_FAILED_FILE})`);

    const plan = await cli(['plan', '--synth-dir', join(cwd, 'cdktf.out'), '--stack', 'contoso', '--tenant', '00000000-0000-0000-0000-000000000001'], { POSTURE_ACCESS_TOKEN: 'x.y.z' });
    expect(plan.code).toBe(1);
    expect(plan.stderr).toMatch(REFUSED);
    expect(plan.stdout).not.toMatch(/No changes/);

    // A misspelled prop fails the same way.
    const misspelled = example.replace("{ owner, mode: 'remediate' }", "{ owner, mode: 'remediate', allowedRemoteDomain: ['partner.example'] }");
    expect(misspelled).not.toBe(example);
    const typo = await synth(cwd, misspelled);
    expect(typo.code).toBe(1);
    expect(typo.stderr).toContain('contoso/Posture/ForwardingLockdown: allowedRemoteDomain: unknown property of ForwardingLockdown; did you mean allowedRemoteDomains?');
    expect(existsSync(join(cwd, 'cdktf.out', SYNTH_FAILED_FILE))).toBe(true);

    const again = await synth(cwd, example);
    expect(again.code).toBe(0);
    expect(existsSync(join(cwd, 'cdktf.out', SYNTH_FAILED_FILE))).toBe(false);
  }, 120_000);
});
