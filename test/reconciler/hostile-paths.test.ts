/**
 * Paths and names from outside: a stack file's name in a SARIF URI, a source location in a manifest,
 * a simulator limit named after an Object property, and a synth result file the environment names.
 */
import { mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { sourceLocationSchema } from '../../reconciler/manifest/schema.js';
import { isRelativeUri, uriOf } from '../../reconciler/report/sarif.js';
import { parseLimit, SettingsError } from '../../simulator/http/settings.js';
import { MinimalStack } from '../../stacks/examples/minimal.js';
import { runSynth } from '../../stacks/lib/synth.js';

describe('a stack file in a SARIF URI', () => {
  it('is percent-encoded segment by segment: # and ? stay part of the name, an encoded .. stays a name', () => {
    expect(uriOf('stacks/posture #2.ts')).toBe('stacks/posture%20%232.ts');
    expect(uriOf('stacks/a?b.ts')).toBe('stacks/a%3Fb.ts');
    expect(uriOf('%2e%2e/%2e%2e/outside.ts')).toBe('%252e%252e/%252e%252e/outside.ts');
    expect(decodeURIComponent(uriOf('%2e%2e/x.ts').split('/')[0]!)).toBe('%2e%2e');
  });

  it('with a control character is not a relative URI, nor a source location in a manifest', () => {
    expect(isRelativeUri('stacks/a\u001b[31m.ts')).toBe(false);
    expect(sourceLocationSchema.safeParse({ file: 'stacks/a\u0007.ts', line: 1 }).success).toBe(false);
    expect(sourceLocationSchema.safeParse({ file: 'stacks/posture.ts', line: 1 }).success).toBe(true);
  });
});

describe('posture sim --limit', () => {
  it('refuses names that are properties of every object, as any unknown name', () => {
    for (const name of ['constructor', '__proto__', 'toString', 'hasOwnProperty']) {
      expect(() => parseLimit(`${name}=5`), name).toThrow(SettingsError);
    }
  });
});

describe('the synth result file', () => {
  const dirs: string[] = [];
  const saved = process.env['POSTURE_SYNTH_RESULT'];
  afterEach(() => {
    if (saved === undefined) delete process.env['POSTURE_SYNTH_RESULT'];
    else process.env['POSTURE_SYNTH_RESULT'] = saved;
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  it('is written only as a new file: never through a link, never over a file that exists', () => {
    const dir = mkdtempSync(join(tmpdir(), 'posture-synth-result-'));
    dirs.push(dir);
    const victim = join(dir, 'victim.txt');
    writeFileSync(victim, 'keep me\n');
    symlinkSync(victim, join(dir, 'link'));
    for (const target of [join(dir, 'link'), victim]) {
      process.env['POSTURE_SYNTH_RESULT'] = target;
      const code = runSynth((app) => void new MinimalStack(app, 'minimal'), ['node', 'main.ts'], { outdir: join(dir, 'out') });
      expect(code).toBe(0);
      expect(readFileSync(victim, 'utf8')).toBe('keep me\n');
    }
    process.exitCode = 0;
  });
});
