import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { PlanDocument } from '../../reconciler/model/plan.js';
import type { Manifest } from '../../reconciler/manifest/schema.js';
import { loadScenario, startSimulator, type RunningSimulator } from '../../simulator/index.js';
import { cli, synthExamples, target, writer } from './harness.js';

let synthDir: string;
let sim: RunningSimulator | undefined;
afterEach(async () => {
  await sim?.stop();
  sim = undefined;
});

const SAM = '64f0773c-88c4-51e1-8c1a-ac444705d123';
const RILEY = 'ad9b4d93-8f98-5bc3-acf6-827cc2a9e886';
const BREAK_GLASS = ['ea13fdf1-8566-51fc-8a45-12114c04685f', '4e9cce68-78c0-5d3a-a31d-db6c8a97d853'];

/** The example posture, declaring one more exclusion (sam.ortiz) on every conditional access policy. */
beforeAll(() => {
  synthDir = join(mkdtempSync(join(tmpdir(), 'posture-exclusions-')), 'out');
  cpSync(synthExamples(), synthDir, { recursive: true });
  const file = join(synthDir, 'stacks', 'tailspin', 'posture.json');
  const m = JSON.parse(readFileSync(file, 'utf8')) as Manifest;
  const ca = m.desired.conditionalAccess!;
  ca.exclusions.users.push('sam.ortiz@tailspintoys.example');
  for (const p of ca.policies) p.conditions.users.excludeUsers.push('user:sam.ortiz@tailspintoys.example');
  writeFileSync(file, JSON.stringify(m, null, 2));
});

async function plan(s: RunningSimulator): Promise<{ code: number | null; plan: PlanDocument }> {
  const out = join(mkdtempSync(join(tmpdir(), 'posture-plan-')), 'plan.json');
  const r = await cli(['plan', ...target(s, synthDir), '--out', out], writer(s));
  return { code: r.code, plan: JSON.parse(readFileSync(out, 'utf8')) as PlanDocument };
}

const excluded = (s: RunningSimulator, name: string) =>
  (s.tenant.graph.conditionalAccessPolicies.findBy('displayName', name)[0]!['conditions'] as { users: { excludeUsers: string[] } }).users.excludeUsers;

describe('declared exclusions are the most a policy may exclude', () => {
  it('a live policy that excludes fewer principals than declared is stricter, not drift', async () => {
    sim = await startSimulator({ scenario: 'compliant' });
    expect(excluded(sim, 'EP - User risk high: MFA and password change')).toEqual(BREAK_GLASS);
    const { code, plan: p } = await plan(sim);
    expect(p.findings).toEqual([]);
    expect(p.changes).toEqual([]);
    expect(code).toBe(0);
  });

  it('apply removes an undeclared exclusion without adding the declared one the policy left out', async () => {
    const scenario = loadScenario('compliant');
    const policy = scenario.graph.conditionalAccessPolicies.find((p) => p['displayName'] === 'EP - Sign-in risk medium+high: MFA every time')!;
    (policy['conditions'] as { users: { excludeUsers: string[] } }).users.excludeUsers.push(RILEY);
    sim = await startSimulator({ scenario });
    const first = await plan(sim);
    expect(first.code).toBe(2);
    expect(first.plan.findings.map((f) => `${f.control.id} ${f.check} ${f.resource.name}`)).toEqual(['ID.CA.5 ca-no-undeclared-exclusions EP - Sign-in risk medium+high: MFA every time']);
    const [change] = first.plan.changes;
    const users = (change!.write as unknown as { body: { conditions: { users: { excludeUsers: string[] } } } }).body.conditions.users;
    expect([...users.excludeUsers].sort()).toEqual([...BREAK_GLASS].sort());
    expect(users.excludeUsers).not.toContain(SAM);

    const out = join(mkdtempSync(join(tmpdir(), 'posture-plan-')), 'plan.json');
    await cli(['plan', ...target(sim, synthDir), '--out', out], writer(sim));
    const applied = await cli(['apply', out, '--auto-approve', ...target(sim, synthDir)], writer(sim));
    expect(applied.code).toBe(0);
    expect([...excluded(sim, 'EP - Sign-in risk medium+high: MFA every time')].sort()).toEqual([...BREAK_GLASS].sort());
    const second = await plan(sim);
    expect(second.plan.changes).toEqual([]);
    expect(second.plan.findings).toEqual([]);
  });

  it('a break-glass exclusion is still required', async () => {
    const scenario = loadScenario('compliant');
    const policy = scenario.graph.conditionalAccessPolicies.find((p) => p['displayName'] === 'EP - Block legacy authentication')!;
    (policy['conditions'] as { users: { excludeUsers: string[] } }).users.excludeUsers = [BREAK_GLASS[0]!];
    sim = await startSimulator({ scenario });
    const { code, plan: p } = await plan(sim);
    expect(code).toBe(2);
    expect(p.findings.map((f) => `${f.control.id} ${f.check}`)).toEqual(['ID.CA.5 ca-break-glass-excluded']);
    const users = (p.changes[0]!.write as unknown as { body: { conditions: { users: { excludeUsers: string[] } } } }).body.conditions.users;
    expect([...users.excludeUsers].sort()).toEqual([...BREAK_GLASS].sort());
  });
});
