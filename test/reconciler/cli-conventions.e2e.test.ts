import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { colourByDefault } from '../../reconciler/cli/options.js';
import { startSimulator } from '../../simulator/index.js';
import { cli, planAgainst, synthExamples } from './harness.js';

/** Conventions a command line is expected to keep: --version, NO_COLOR, FORCE_COLOR, TERM=dumb. */
describe('command-line conventions', () => {
  it('--version prints the package version and exits 0', async () => {
    const version = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
    const r = await cli(['--version']);
    expect([r.code, r.stdout.trim(), r.stderr]).toEqual([0, version, '']);
  });

  it('prints a shell completion script, and completes commands', async () => {
    const script = await cli(['completion']);
    expect(script.code).toBe(0);
    expect(script.stdout).toContain('###-begin-posture-completions-###');
    const words = await cli(['--get-yargs-completions', 'pro']);
    expect(words.stdout.split('\n')).toEqual(expect.arrayContaining(['plan', 'probe', 'respond']));
  });

  it('colours only at a terminal, never with NO_COLOR or TERM=dumb, always with FORCE_COLOR', () => {
    expect(colourByDefault({}, true)).toBe(true);
    expect(colourByDefault({}, false)).toBe(false);
    expect(colourByDefault({ NO_COLOR: '1' }, true)).toBe(false);
    expect(colourByDefault({ NO_COLOR: '' }, true)).toBe(true);
    expect(colourByDefault({ TERM: 'dumb' }, true)).toBe(false);
    expect(colourByDefault({ FORCE_COLOR: '1' }, false)).toBe(true);
    expect(colourByDefault({ FORCE_COLOR: '0' }, true)).toBe(true);
    expect(colourByDefault({ FORCE_COLOR: '0' }, false)).toBe(false);
    expect(colourByDefault({ FORCE_COLOR: '1', NO_COLOR: '1' }, true)).toBe(false);
  });

  it('two formats to stdout are refused before anything is read, not written one after the other', async () => {
    const sim = await startSimulator({ scenario: 'compliant' });
    try {
      sim.requests.clear();
      const r = await planAgainst(sim, synthExamples(), ['--format', 'markdown', '--format', 'json']);
      expect([r.code, r.stdout]).toEqual([1, '']);
      expect(r.stderr).toMatch(/posture plan: --format markdown, --format json would all go to stdout, one after the other: give each but one an --out/);
      expect(sim.requests.entries).toEqual([]);
      const ok = await planAgainst(sim, synthExamples(), ['--format', 'markdown', '--format', 'json', '--out', '/dev/null']);
      expect(ok.code).toBe(0);
      expect(ok.stdout.startsWith('{')).toBe(true);
    } finally {
      await sim.stop();
    }
  });
});

describe('every positional and option is described in --help, with examples and exit codes', () => {
  it('of every command', async () => {
    const listed = (await cli(['--help'])).stdout.split('\n').flatMap((l) => /^ {2}posture ([a-z-]+)/.exec(l)?.[1] ?? []).filter((c) => c !== 'completion');
    expect(listed.length).toBeGreaterThan(10);
    const checked = new Set<string>();
    for (const command of ['init', 'import', 'synth', 'plan', 'drift', 'show', 'apply', 'rollback', 'respond', 'probe', 'evidence verify', 'fleet plan', 'fleet drift', 'fleet respond', 'fleet merge', 'controls', 'permissions', 'check-domain', 'sim', 'demo']) {
      const r = await cli([...command.split(' '), '--help']);
      expect(r.code, command).toBe(0);
      // yargs prints an undescribed option or positional as its name, then straight its [type] or [choices].
      const undescribed = r.stdout.split('\n').filter((l) => /^ {2}(--?[\w-]+(?:, --?[\w-]+)*|[a-z][\w-]*) +\[/.test(l));
      expect(undescribed, `${command}:\n${r.stdout}`).toEqual([]);
      expect(r.stdout, `${command} has examples`).toMatch(/\nExamples:\n {2}posture /);
      const codes = /\nExit codes:\n((?: {2}\d+ {2}.+\n?)+)/.exec(r.stdout);
      expect(codes, `${command} lists its exit codes`).not.toBeNull();
      expect(codes![1], `${command}: 0 or 2 for success, 1 for failure`).toMatch(/^ {2}1 {2}/m);
      checked.add(command.split(' ')[0]!);
    }
    expect([...checked].sort(), 'every command of posture --help is checked').toEqual([...new Set(listed)].sort());
  });
});

describe('in a pipeline', () => {
  it('GitHub Actions: findings become error annotations on stderr and the plan goes into the job summary; stdout keeps the report', async () => {
    const { mkdtempSync: tmp, readFileSync: read } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { tokens } = await import('./harness.js');
    const summary = join(tmp(join(tmpdir(), 'summary-')), 'summary.md');
    const sim = await startSimulator({ scenario: 'drifted' });
    try {
      const r = await planAgainst(sim, synthExamples(), ['--format', 'json'], { ...tokens(sim), GITHUB_ACTIONS: 'true', GITHUB_STEP_SUMMARY: summary });
      expect(r.code).toBe(2);
      expect(JSON.parse(r.stdout)).toMatchObject({ format: 'email-posture-plan' });
      const annotations = r.stderr.split('\n').filter((l) => l.startsWith('::error'));
      expect(annotations.length).toBeGreaterThan(0);
      expect(annotations.length).toBeLessThanOrEqual(11);
      expect(read(summary, 'utf8')).toContain('## email-posture plan: Tailspin Toys');
    } finally {
      await sim.stop();
    }
  });
});

describe('posture sim --print-env', () => {
  it('prints the tokens and connection options a shell needs to plan against it, without reading any source', async () => {
    const { spawn } = await import('node:child_process');
    const { fileURLToPath } = await import('node:url');
    const bin = fileURLToPath(new URL('../../bin/posture.js', import.meta.url));
    const child = spawn(process.execPath, [bin, 'sim', '--scenario', 'compliant', '--print-env'], { stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      const lines = await new Promise<string[]>((resolve, reject) => {
        let out = '';
        child.stdout.on('data', (d: Buffer) => {
          out += d.toString();
          if (out.includes('# then:')) resolve(out.split('\n'));
        });
        child.on('exit', (code) => reject(new Error(`exited ${code}`)));
      });
      expect(JSON.parse(lines[0]!)).toMatchObject({ scenario: 'compliant' });
      const env = Object.fromEntries(lines.filter((l) => l.startsWith('export ')).map((l) => /^export (\w+)='(.*)'$/.exec(l)!.slice(1, 3) as [string, string]));
      expect(Object.keys(env).sort()).toEqual(['POSTURE_EXCHANGE_TOKEN', 'POSTURE_GRAPH_TOKEN', 'POSTURE_SIM_ARGS']);
      const r = await cli(['plan', '--synth-dir', synthExamples(), '--stack', 'tailspin', '--auth', 'token', ...env['POSTURE_SIM_ARGS']!.split(' '), '--today', '2026-06-01'], { POSTURE_GRAPH_TOKEN: env['POSTURE_GRAPH_TOKEN']!, POSTURE_EXCHANGE_TOKEN: env['POSTURE_EXCHANGE_TOKEN']! });
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toContain('No changes. The tenant matches the posture.');
    } finally {
      child.kill('SIGTERM');
    }
  });
});
