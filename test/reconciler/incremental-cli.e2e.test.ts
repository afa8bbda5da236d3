import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type RunningSimulator } from '../../simulator/index.js';
import { graph } from '../simulator/helpers.js';
import { planAgainst, synthExamples } from './harness.js';

let synthDir: string;
let sim: RunningSimulator | undefined;
beforeAll(() => {
  synthDir = synthExamples();
});
afterEach(async () => {
  await sim?.stop();
  sim = undefined;
});

const fast = ['--max-retries', '1', '--timeout', '5', '--format', 'json'];

describe('posture drift --incremental', () => {
  it('keeps its state beside the evidence trail: the first run reads in full, the next incrementally, with the same findings', async () => {
    sim = await startSimulator({ scenario: 'drifted', generate: { mailboxes: 30 } });
    const dir = mkdtempSync(join(tmpdir(), 'posture-incremental-'));
    const evidence = join(dir, 'evidence.jsonl');
    const args = ['--incremental', '--evidence', evidence, ...fast];
    const first = await planAgainst(sim, synthDir, args, undefined, 'drift');
    expect(first.code, first.stderr).toBe(2);
    expect(first.stderr).toMatch(/read in full: no state from an earlier run/);
    const statePath = `${evidence}.drift-state.json`;
    expect(existsSync(statePath)).toBe(true);
    expect(first.stderr).toContain(`incremental state kept in ${statePath}`);
    // The state holds no token, no secret: what was read, and links to the tenant's own endpoint.
    const state = readFileSync(statePath, 'utf8');
    expect(state).not.toMatch(/eyJ[A-Za-z0-9_-]{10,}\./);

    const user = [...sim.tenant.graph.users.values()][3]!;
    expect((await graph(sim, 'PATCH', `/v1.0/users/${user.id}`, { body: { displayName: 'Renamed between runs' } })).status).toBe(204);
    const second = await planAgainst(sim, synthDir, args, undefined, 'drift');
    expect(second.code, second.stderr).toBe(2);
    expect(second.stderr).toMatch(/read incrementally: \d+ of \d+ mailboxes read again/);
    const findings = (out: string) => (JSON.parse(out) as { findings: Array<{ id: string; status: string }> }).findings.map((f) => `${f.id} ${f.status}`).sort();
    expect(findings(second.stdout)).toEqual(findings(first.stdout));

    const full = await planAgainst(sim, synthDir, [...args, '--full'], undefined, 'drift');
    expect(full.stderr).toMatch(/read in full: --full was given/);
  }, 120_000);

  it('refuses --full without --incremental, --incremental without an evidence trail, and a rotation period out of range; a state file that does not check is read past, in full', async () => {
    sim = await startSimulator({ scenario: 'compliant' });
    const noFull = await planAgainst(sim, synthDir, ['--full', ...fast], undefined, 'drift');
    expect(noFull.code).toBe(1);
    expect(noFull.stderr).toMatch(/--full reads in full an incremental run: it is given with --incremental/);
    expect(noFull.stderr).not.toMatch(/\n\s+at /);
    const noTrail = await planAgainst(sim, synthDir, ['--incremental', '--no-evidence', ...fast], undefined, 'drift');
    expect(noTrail.code).toBe(1);
    expect(noTrail.stderr).toMatch(/cannot be used with --no-evidence/);
    const dir = mkdtempSync(join(tmpdir(), 'posture-incremental-'));
    const evidence = join(dir, 'evidence.jsonl');
    const badPeriod = await planAgainst(sim, synthDir, ['--incremental', '--evidence', evidence, '--rotation-period', '0', ...fast], undefined, 'drift');
    expect(badPeriod.code).toBe(1);
    expect(badPeriod.stderr).toMatch(/--rotation-period 0 is not a whole number of runs from 1 to 90/);
    writeFileSync(`${evidence}.drift-state.json`, '{"version": 99}');
    const corrupt = await planAgainst(sim, synthDir, ['--incremental', '--evidence', evidence, ...fast], undefined, 'drift');
    expect(corrupt.code, corrupt.stderr).toBe(0);
    expect(corrupt.stderr).toMatch(/the incremental state could not be used: .*its version is 99, this version reads 1/);
    expect(JSON.parse(readFileSync(`${evidence}.drift-state.json`, 'utf8')).version).toBe(1);
  }, 120_000);
});
