import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { PlanDocument } from '../../reconciler/model/plan.js';
import { startSimulator, type RunningSimulator, type SimulatorOptions } from '../../simulator/index.js';
import { cli, driftedCore, planAgainst, synthExamples } from './harness.js';

const tmp = () => mkdtempSync(join(tmpdir(), 'posture-summary-'));

let synthDir: string;
let sim: RunningSimulator | undefined;
beforeAll(() => {
  synthDir = synthExamples();
});
afterEach(async () => {
  await sim?.stop();
  sim = undefined;
});
const drifted = async (o: SimulatorOptions = {}) => (sim = await startSimulator({ scenario: driftedCore(), ...o }));

describe('plan and drift with every report in a file', () => {
  it('print a short summary on stdout: the counts and where each report went, not the human plan', async () => {
    const s = await drifted();
    const dir = tmp();
    const json = join(dir, 'plan.json');
    const sarif = join(dir, 'out', 'posture.sarif');
    const r = await planAgainst(s, synthDir, ['--format', 'json', '--out', json, '--format', 'sarif', '--out', sarif, '--no-evidence'], undefined, 'drift');
    expect(r.code, r.stderr).toBe(2);
    const plan = JSON.parse(readFileSync(json, 'utf8')) as PlanDocument;
    expect(plan.findings.length).toBeGreaterThan(5);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines).toEqual([
      expect.stringMatching(/^email-posture drift · .+ · stack tailspin · tenant /),
      expect.stringMatching(/^Plan: \d+ to create, \d+ to update, \d+ to delete; \d+ findings to act on \(/),
      `Reports: json in ${json}, sarif in ${sarif}.`,
    ]);
    // The counts are the plan's.
    const c = plan.summary.changes;
    expect(lines[1]).toContain(`Plan: ${c.create} to create, ${c.update} to update, ${c.delete} to delete;`);
    // No finding is listed: the human plan lists each under its owner.
    for (const f of plan.findings.slice(0, 5)) expect(r.stdout).not.toContain(f.summary);
    const human = await cli(['show', json, '--color', 'false']);
    expect(human.stdout).toContain(plan.findings[0]!.summary);
  });

  it('name the reads that failed, and still exit 1', async () => {
    const s = await drifted({ faults: [{ api: 'exchange', route: '^Get-TransportRule$', kind: 'status', status: 403 }] });
    const dir = tmp();
    const json = join(dir, 'plan.json');
    const r = await planAgainst(s, synthDir, ['--out', json, '--max-retries', '0', '--no-evidence']);
    expect(r.code).toBe(1);
    const plan = JSON.parse(readFileSync(json, 'utf8')) as PlanDocument;
    expect(plan.incomplete.length).toBeGreaterThan(0);
    expect(r.stdout).toContain(`Reports: json in ${json}.`);
    expect(r.stdout).toContain(`INCOMPLETE: ${plan.incomplete.length} ${plan.incomplete.length === 1 ? 'read' : 'reads'} failed; this run cannot report "no drift". Not read:`);
    for (const i of plan.incomplete) expect(r.stdout).toContain(`  - ${i.what}\n      endpoint: ${i.endpoint}\n`);
    expect(r.stdout).toContain('Exchange Get-TransportRule');
  });

  it('with a report on stdout, that report is all stdout holds', async () => {
    const s = await drifted();
    const dir = tmp();
    const r = await planAgainst(s, synthDir, ['--format', 'sarif', '--out', join(dir, 'posture.sarif'), '--format', 'json', '--no-evidence']);
    expect(r.code).toBe(2);
    expect((JSON.parse(r.stdout) as PlanDocument).format).toBe('email-posture-plan');
  });

  it('with no report asked for, stdout is the human plan', async () => {
    const s = await drifted();
    const r = await planAgainst(s, synthDir, ['--no-evidence']);
    expect(r.code).toBe(2);
    expect(r.stdout).toContain('Signs: + create, ~ update, - delete (by apply)');
    expect(r.stdout).not.toContain('Reports:');
  });
});
