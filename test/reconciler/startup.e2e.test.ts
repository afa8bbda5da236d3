/**
 * A command loads what it uses: `posture plan` with pre-issued tokens loads neither the simulator,
 * the SMTP prober, the response engine nor @azure/identity; `posture --version` loads no command.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type RunningSimulator } from '../../simulator/index.js';
import { cli, planAgainst, synthExamples, tokens } from './harness.js';

const moduleLog = pathToFileURL(join(import.meta.dirname, '..', 'setup', 'module-log.mjs')).href;
let sim: RunningSimulator;
let synthDir: string;

beforeAll(async () => {
  sim = await startSimulator({ scenario: 'compliant' });
  synthDir = synthExamples();
});
afterAll(() => sim?.stop());

/** The modules a run loaded, as repository-relative paths or package names. */
function loaded(log: string): string[] {
  const root = pathToFileURL(join(import.meta.dirname, '..', '..')).href + '/';
  return [
    ...new Set(
      readFileSync(log, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((u) => (u.includes('/node_modules/') ? u.replace(/^.*\/node_modules\/((?:@[^/]+\/)?[^/]+).*$/, '$1') : u.replace(root, ''))),
    ),
  ];
}

describe('start-up', () => {
  it('posture plan with pre-issued tokens loads no simulator, prober, response engine or sign-in library', async () => {
    const log = join(mkdtempSync(join(tmpdir(), 'posture-modules-')), 'modules.log');
    const r = await planAgainst(sim, synthDir, ['--no-evidence'], { ...tokens(sim), MODULE_LOG: log, NODE_OPTIONS: `--import ${moduleLog}` });
    expect(r.code, r.stderr).toBe(0);
    const modules = loaded(log);
    expect(modules).toContain('reconciler/cli/plan.ts');
    expect(modules.filter((m) => /^(simulator\/|reconciler\/respond\/|reconciler\/probe\/|reconciler\/cli\/(sim|demo|respond|probe|apply|rollback|init|import)\.ts)/.test(m))).toEqual([]);
    expect(modules.filter((m) => ['@azure/identity', '@azure/msal-node', 'nodemailer', 'smtp-server', 'mailparser', 'undici'].includes(m))).toEqual([]);
  });

  it('posture --version loads no command', async () => {
    const log = join(mkdtempSync(join(tmpdir(), 'posture-modules-')), 'modules.log');
    const r = await cli(['--version'], { MODULE_LOG: log, NODE_OPTIONS: `--import ${moduleLog}` });
    expect(r.code).toBe(0);
    expect(loaded(log).filter((m) => /^reconciler\/cli\/(?!main\.ts|help\.ts|options\.ts|log\.ts|json-output\.ts|pipeline\.ts)/.test(m))).toEqual([]);
  });
});
