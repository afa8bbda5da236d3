import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { PlanDocument } from '../../reconciler/model/plan.js';
import { loadScenario, startSimulator, type RunningSimulator } from '../../simulator/index.js';
import { cli, planAgainst, synthExamples, target, tenantArgs, writer } from './harness.js';

/**
 * ID.AUTH.1–3 against the simulator: the compliant tenant, each drift of the drifted one, a read the
 * tenant's licence refuses, and apply, a plan after it and rollback for the weak methods.
 */
let synthDir: string;
let sim: RunningSimulator | undefined;

beforeAll(() => {
  synthDir = synthExamples();
});
afterEach(async () => {
  await sim?.stop();
  sim = undefined;
});

const plan = (stdout: string) => JSON.parse(stdout) as PlanDocument;
const ours = (p: PlanDocument) => p.findings.filter((f) => f.control.id.startsWith('ID.AUTH.'));

describe('ID.AUTH.1-3', () => {
  it('the compliant tenant has no finding of any', async () => {
    sim = await startSimulator({ scenario: 'compliant' });
    const r = await planAgainst(sim, synthDir, ['--format', 'json']);
    expect(r.code, r.stderr).toBe(0);
    expect(ours(plan(r.stdout))).toEqual([]);
  });

  it('the drifted tenant has one finding of each', async () => {
    sim = await startSimulator({ scenario: 'drifted' });
    const r = await planAgainst(sim, synthDir, ['--format', 'json']);
    expect(r.code, r.stderr).toBe(2);
    const p = plan(r.stdout);
    console.log(JSON.stringify(ours(p).map((f) => [f.control.id, f.check, f.status, f.resource, f.summary, f.owner.name]), null, 1));
    console.log(JSON.stringify(p.findings.filter((f) => f.control.id === 'ID.CA.3').map((f) => [f.summary, f.patch])));
  });
});
