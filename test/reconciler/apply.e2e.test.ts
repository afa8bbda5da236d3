import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { PlanDocument } from '../../reconciler/findings/model.js';
import { startSimulator, type RunningSimulator, type SimulatorOptions } from '../../simulator/index.js';
import { cli, synthExamples, target, writer } from './harness.js';

let synthDir: string;
let sim: RunningSimulator | undefined;
beforeAll(() => {
  synthDir = synthExamples();
});
afterEach(async () => {
  await sim?.stop();
  sim = undefined;
});

const drifted = async (o: SimulatorOptions = {}) => (sim = await startSimulator({ scenario: 'drifted', ...o }));
const tmp = () => mkdtempSync(join(tmpdir(), 'posture-apply-'));

async function plan(s: RunningSimulator, file?: string): Promise<{ code: number | null; plan: PlanDocument }> {
  const out = file ?? join(tmp(), 'plan.json');
  const r = await cli(['plan', ...target(s, synthDir), '--out', out], writer(s));
  return { code: r.code, plan: JSON.parse(readFileSync(out, 'utf8')) as PlanDocument };
}

const apply = (s: RunningSimulator, args: string[]) => cli(['apply', ...args, ...target(s, synthDir)], writer(s));

describe('apply', () => {
  it('turns a drifted tenant compliant for every remediate-mode control; a second plan shows zero changes', async () => {
    const s = await drifted();
    const file = join(tmp(), 'plan.json');
    const first = await plan(s, file);
    expect(first.code).toBe(2);
    expect(first.plan.changes.map((c) => `${c.action} ${c.resource.type}`).sort()).toEqual([
      'delete inboxRule', 'delete oauth2PermissionGrant', 'update authorizationPolicy', 'update conditionalAccessPolicy', 'update hostedOutboundSpamFilterPolicy', 'update transportRule',
    ]);
    for (const c of first.plan.changes) expect(c.fingerprint).toMatch(/^[0-9a-f]{64}$/);
    expect(first.plan.planHash).toMatch(/^[0-9a-f]{64}$/);

    const r = await apply(s, [file, '--auto-approve']);
    expect(r.stderr).not.toMatch(/posture apply:|warning/);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Apply complete: 6 changes applied and verified.');

    const second = await plan(s);
    expect(second.plan.changes).toEqual([]);
    // What is left is for owners to do by hand: DNS is never written, owners are named in code.
    expect(second.plan.findings.map((f) => f.control.versionedId).sort()).toEqual(['GOV.OWNER.1v1', 'MAIL.DMARC.1v1', 'MAIL.DMARC.2v1']);
    // The break-glass account is excluded again, and CA writes were paced.
    const policy = (s.tenant.graph.conditionalAccessPolicies.findBy('displayName', 'EP - Sign-in risk medium+high: MFA every time')[0]!['conditions'] as { users: { excludeUsers: string[] } }).users;
    expect(policy.excludeUsers).toHaveLength(2);
    expect(s.requests.count((e) => e.status === 429)).toBe(0);
  });

  it('refuses a stale plan, naming the resource, and writes nothing', async () => {
    const s = await drifted();
    const file = join(tmp(), 'plan.json');
    await plan(s, file);
    s.tenant.exchange.HostedOutboundSpamFilterPolicy.replace(
      [...s.tenant.exchange.HostedOutboundSpamFilterPolicy.values()][0]!.id,
      { ...[...s.tenant.exchange.HostedOutboundSpamFilterPolicy.values()][0]!, AutoForwardingMode: 'Automatic' },
    );
    const before = s.requests.entries.length;
    const r = await apply(s, [file, '--auto-approve']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^posture apply: stale plan: hostedOutboundSpamFilterPolicy "Default" changed since \d{4}-\d\d-\d\dT/m);
    const graphWrites = s.requests.entries.slice(before).filter((e) => e.api === 'graph' && e.method !== 'GET' && !e.path.includes('$batch'));
    expect(graphWrites).toEqual([]);
    expect([...s.tenant.exchange.TransportRule.values()].find((t) => t['Name'] === 'Partner mail bypass')!['State']).toBe('Enabled');
  });

  it('refuses a tampered plan', async () => {
    const s = await drifted();
    const file = join(tmp(), 'plan.json');
    const { plan: p } = await plan(s, file);
    const tampered = structuredClone(p) as unknown as { changes: Array<{ write: { parameters?: Record<string, unknown> } }> };
    tampered.changes.find((c) => c.write.parameters?.['AutoForwardingMode'])!.write.parameters!['AutoForwardingMode'] = 'On';
    writeFileSync(file, JSON.stringify(tampered));
    const r = await apply(s, [file, '--auto-approve']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/the plan file was altered after it was made/);
  });

  it('refuses more changes than --max-changes, and asks for approval', async () => {
    const s = await drifted();
    const file = join(tmp(), 'plan.json');
    await plan(s, file);
    let r = await apply(s, [file, '--auto-approve', '--max-changes', '3']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/the plan has 6 changes, more than --max-changes 3/);
    r = await apply(s, [file]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/confirm with 'yes' at a terminal, or pass --auto-approve/);
    r = await apply(s, []);
    expect(r.stderr).toMatch(/only with --auto-approve/);
    expect([...s.tenant.exchange.TransportRule.values()].find((t) => t['Name'] === 'Partner mail bypass')!['State']).toBe('Enabled');
  });

  it('never writes a policy that would catch a break-glass account', async () => {
    const s = await drifted();
    const file = join(tmp(), 'plan.json');
    const { plan: p } = await plan(s, file);
    // Someone rewrites the reviewed change so that it drops the break-glass exclusions, and re-hashes the file.
    const change = p.changes.find((c) => c.resource.type === 'conditionalAccessPolicy')! as unknown as { write: { body: { conditions: { users: { excludeUsers: string[] } } } } };
    change.write.body.conditions.users.excludeUsers = [];
    const { planHashOf } = await import('../../reconciler/plan/build.js');
    writeFileSync(file, JSON.stringify({ ...p, planHash: planHashOf(p) }));
    const r = await apply(s, [file, '--auto-approve']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/refusing to write conditional access policy "EP - Sign-in risk medium\+high: MFA every time": it would apply to break-glass account bg-alpha@tailspintoys\.example/);
  });

  it('a fault in the middle stops apply; plan and apply again converge, nothing applied twice', async () => {
    const s = await drifted({ faults: [{ route: '/policies/authorizationPolicy', method: 'PATCH', kind: 'status', status: 503 }] });
    const r = await apply(s, ['--auto-approve', '--max-retries', '0']);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/FAILED +~ authorizationPolicy/);
    expect(r.stdout).toMatch(/Apply stopped at the first failure: 4 applied, 1 failed, 1 not attempted/);
    s.faults.clear();
    const again = await apply(s, ['--auto-approve']);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('Apply complete: 2 changes applied and verified.');
    const deletes = s.requests.entries.filter((e) => e.method === 'DELETE' && e.status === 204).map((e) => e.path);
    expect(deletes).toHaveLength(2);
    expect((await plan(s)).plan.changes).toEqual([]);
  });
});
