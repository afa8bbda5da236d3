import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { colourByDefault } from '../../reconciler/cli/options.js';
import { cli } from './harness.js';

/** Conventions a command line is expected to keep: --version, NO_COLOR, FORCE_COLOR, TERM=dumb. */
describe('command-line conventions', () => {
  it('--version prints the package version and exits 0', async () => {
    const version = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
    const r = await cli(['--version']);
    expect([r.code, r.stdout.trim(), r.stderr]).toEqual([0, version, '']);
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
});
