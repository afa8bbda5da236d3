import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { PlanDocument } from '../../reconciler/model/plan.js';
import { loadScenario, startSimulator, type RunningSimulator } from '../../simulator/index.js';
import { MAX_LISTED_USERS } from '../../reconciler/checks/authentication.js';
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

const POLICY = 'EP - Privileged roles: phishing-resistant MFA';
const SMS_WRITE = {
  api: 'graph', method: 'PATCH', path: '/policies/authenticationMethodsPolicy/authenticationMethodConfigurations/Sms',
  body: { '@odata.type': '#microsoft.graph.smsAuthenticationMethodConfiguration', state: 'disabled' },
};
type Obj = Record<string, unknown>;
const configs = (s: ReturnType<typeof loadScenario>) => s.graph.authenticationMethodsPolicy['authenticationMethodConfigurations'] as Obj[];
const method = (t: RunningSimulator['tenant'], id: string) => (t.authenticationMethodsPolicy['authenticationMethodConfigurations'] as Obj[]).find((c) => c['id'] === id)!;
const privileged = (policies: Obj[]) => policies.find((p) => p['displayName'] === POLICY)!;

/** The compliant tenant with `change` made to a copy. */
function compliantWith(change: (s: ReturnType<typeof loadScenario>) => void) {
  const s = loadScenario('compliant');
  change(s);
  return s;
}

describe('ID.AUTH.1-3', () => {
  it('the compliant tenant has no finding of any, and the declared policy with a strength plans no change', async () => {
    sim = await startSimulator({ scenario: 'compliant' });
    const r = await planAgainst(sim, synthDir, ['--format', 'json']);
    expect(r.code, r.stderr).toBe(0);
    const p = plan(r.stdout);
    expect(p.findings).toEqual([]);
    // Graph answers with the strength expanded; the posture names it by id.
    const live = (await (await fetch(`${sim.graphUrl}/v1.0/identity/conditionalAccess/policies`, { headers: { Authorization: `Bearer ${sim.token('graph')}` } })).json()) as { value: Obj[] };
    expect((privileged(live.value)['grantControls'] as Obj)['authenticationStrength']).toMatchObject({ id: '00000000-0000-0000-0000-000000000004', displayName: 'Phishing-resistant MFA', policyType: 'builtIn' });
  });

  it('the drifted tenant has one finding of each, owned by the area, and one write for the weak method', async () => {
    sim = await startSimulator({ scenario: 'drifted' });
    const r = await planAgainst(sim, synthDir, ['--format', 'json']);
    expect(r.code, r.stderr).toBe(2);
    const p = plan(r.stdout);
    expect(ours(p).map((f) => [f.control.id, f.check, f.status, f.resource.name, f.owner.name, f.change])).toEqual([
      ['ID.AUTH.1', 'auth-privileged-phishing-resistant', 'violation', POLICY, 'Identity Engineering Lead', { action: 'none', automatic: false }],
      ['ID.AUTH.2', 'auth-mfa-capable', 'violation', 'enabled member users', 'Identity Engineering Lead', { action: 'none', automatic: false }],
      ['ID.AUTH.3', 'auth-weak-method-disabled', 'drift', 'Sms authentication method', 'Identity Engineering Lead', { action: 'update', automatic: true }],
    ]);
    expect(ours(p)[0]!.summary).toBe(
      `No enforced conditional access policy requires phishing-resistant MFA of every privileged role; the closest, "${POLICY}", does not count: ` +
        'its authentication strength "Multifactor authentication" also allows 14 combinations that are not phishing-resistant (deviceBasedPush, temporaryAccessPassOneTime, temporaryAccessPassMultiUse, …).',
    );
    expect(ours(p)[1]!.summary).toBe('1 enabled member user is not MFA-capable (no strong method registered that the authentication methods policy allows): riley.chen@tailspintoys.example.');
    expect(ours(p)[1]!.subject).toMatchObject({ upn: 'riley.chen@tailspintoys.example' });
    // The policy itself drifted from its declaration: the conditional access area puts the strength back.
    expect(p.findings.filter((f) => f.resource.name === POLICY && f.control.id === 'ID.CA.3').map((f) => f.patch)).toEqual([
      [{ op: 'replace', path: '/grantControls/authenticationStrength', value: '00000000-0000-0000-0000-000000000004' }],
    ]);
    expect(p.changes.filter((c) => c.resource.type === 'authenticationMethodsPolicy').map((c) => c.write)).toEqual([SMS_WRITE]);
    expect(p.changes.find((c) => c.resource.name === POLICY)!.write).toMatchObject({ method: 'PATCH', body: { grantControls: { operator: 'OR', builtInControls: [], authenticationStrength: { id: '00000000-0000-0000-0000-000000000004' } } } });
  });

  it('a tenant without Entra ID P1: the strengths, the policies and the registration report are not read, the controls are not evaluated, the run is incomplete', async () => {
    sim = await startSimulator({ scenario: compliantWith((s) => (s.tenant.licences = ['ATP_ENTERPRISE'])) });
    const r = await planAgainst(sim, synthDir, ['--format', 'json', '--max-retries', '1']);
    expect(r.code).toBe(1);
    const p = plan(r.stdout);
    expect(ours(p).map((f) => [f.control.id, f.status, f.notEvaluated?.reason])).toEqual([
      ['ID.AUTH.1', 'not-evaluated', 'licence-missing'],
      ['ID.AUTH.1', 'not-evaluated', 'licence-missing'],
      ['ID.AUTH.2', 'not-evaluated', 'licence-missing'],
    ]);
    expect(p.incomplete).toEqual(expect.arrayContaining([
      { what: 'the authentication methods registration report', endpoint: expect.stringContaining('/reports/authenticationMethods/userRegistrationDetails') as string, error: 'licence missing: Microsoft Entra ID P1 or P2' },
      { what: 'authentication strengths', endpoint: '/identity/conditionalAccess/authenticationStrength/policies', error: 'licence missing: Microsoft Entra ID P1' },
    ]));
    expect(r.stderr).toMatch(/the run is incomplete; this is not a clean result/);
  });

  it('stricter is not drift: a method the posture does not list is left alone, and a custom strength of keys only counts', async () => {
    sim = await startSimulator({
      scenario: compliantWith((s) => {
        for (const c of configs(s)) if (c['id'] === 'Email') c['state'] = 'disabled';
        for (const c of configs(s)) if (c['id'] === 'Fido2') c['state'] = 'enabled';
        s.graph.authenticationStrengthPolicies = [{
          id: 'c0ffee00-0000-4000-8000-000000000001', createdDateTime: '2026-09-01T00:00:00Z', modifiedDateTime: '2026-09-01T00:00:00Z', displayName: 'Security keys only',
          description: '', policyType: 'custom', requirementsSatisfied: 'mfa', allowedCombinations: ['fido2'], combinationConfigurations: [],
        }];
        ((privileged(s.graph.conditionalAccessPolicies)['grantControls'] as Obj)['authenticationStrength'] as Obj)['id'] = 'c0ffee00-0000-4000-8000-000000000001';
      }),
    });
    const r = await planAgainst(sim, synthDir, ['--format', 'json']);
    const p = plan(r.stdout);
    expect(ours(p)).toEqual([]);
    expect(p.changes.filter((c) => c.resource.type === 'authenticationMethodsPolicy')).toEqual([]);
  });

  it('a report-only policy does not count, and the finding says so', async () => {
    sim = await startSimulator({ scenario: compliantWith((s) => (privileged(s.graph.conditionalAccessPolicies)['state'] = 'enabledForReportingButNotEnforced')) });
    const p = plan((await planAgainst(sim, synthDir, ['--format', 'json'])).stdout);
    expect(ours(p).map((f) => f.summary)).toEqual([
      `No enforced conditional access policy requires phishing-resistant MFA of every privileged role; the closest, "${POLICY}", does not count: it is report-only.`,
    ]);
  });

  it('apply disables the weak methods and restores the strength; a plan after it shows nothing; rollback enables them again', async () => {
    const s = (sim = await startSimulator({
      scenario: compliantWith((sc) => {
        for (const c of configs(sc)) if (c['id'] === 'Sms' || c['id'] === 'Voice') c['state'] = 'enabled';
        ((privileged(sc.graph.conditionalAccessPolicies)['grantControls'] as Obj)['authenticationStrength'] as Obj)['id'] = '00000000-0000-0000-0000-000000000002';
      }),
    }));
    const dir = mkdtempSync(join(tmpdir(), 'posture-auth-'));
    const planFile = join(dir, 'plan.json');
    const evidence = join(dir, 'evidence.jsonl');
    expect((await cli(['plan', ...target(s, synthDir), '--out', planFile, '--evidence', evidence], writer(s))).code).toBe(2);
    const applied = await cli(['apply', planFile, '--auto-approve', '--evidence', evidence, ...target(s, synthDir)], writer(s));
    expect(applied.code, applied.stderr).toBe(0);
    expect([method(s.tenant, 'Sms')['state'], method(s.tenant, 'Voice')['state'], method(s.tenant, 'Email')['state']]).toEqual(['disabled', 'disabled', 'enabled']);
    expect((privileged([...s.tenant.graph.conditionalAccessPolicies.values()])['grantControls'] as Obj)['authenticationStrength']).toEqual({ id: '00000000-0000-0000-0000-000000000004' });

    const again = await planAgainst(s, synthDir, ['--format', 'json'], writer(s));
    expect(again.code, again.stderr).toBe(0);
    expect(plan(again.stdout).findings).toEqual([]);

    const runId = /recorded as run ([0-9a-f-]{36})/.exec(applied.stderr)![1]!;
    const rollbackFile = join(dir, 'rollback.json');
    const rb = await cli(['rollback', runId, '--evidence', evidence, '--out', rollbackFile, ...tenantArgs(s, synthDir), '--restore-insecure'], writer(s));
    expect(rb.code, rb.stderr).toBe(2);
    const rbPlan = JSON.parse(readFileSync(rollbackFile, 'utf8')) as PlanDocument;
    expect(rbPlan.changes.filter((c) => c.resource.type === 'authenticationMethodsPolicy').map((c) => c.write)).toEqual([
      { ...SMS_WRITE, path: SMS_WRITE.path.replace('Sms', 'Voice'), body: { '@odata.type': '#microsoft.graph.voiceAuthenticationMethodConfiguration', state: 'enabled' } },
      { ...SMS_WRITE, body: { ...SMS_WRITE.body, state: 'enabled' } },
    ]);
    const undone = await cli(['apply', rollbackFile, '--auto-approve', '--evidence', evidence, ...target(s, synthDir)], writer(s));
    expect(undone.code, undone.stderr).toBe(0);
    expect([method(s.tenant, 'Sms')['state'], method(s.tenant, 'Voice')['state']]).toEqual(['enabled', 'enabled']);
    expect((await cli(['evidence', 'verify', evidence])).code).toBe(0);
  });

  it('a large generated tenant answers the registration report one row per user, read in pages of 999', async () => {
    const s = (sim = await startSimulator({ scenario: 'compliant', generate: { mailboxes: 2500, notMfaCapableShare: 0.03 } }));
    const r = await planAgainst(s, synthDir, ['--format', 'json']);
    const p = plan(r.stdout);
    expect(p.incomplete).toEqual([]);
    const list = ours(p).filter((f) => f.control.id === 'ID.AUTH.2');
    expect(list).toHaveLength(1);
    const count = (list[0]!.evidence.live as { count: number }).count;
    expect(count).toBeGreaterThan(MAX_LISTED_USERS);
    expect(count).toBeLessThan(150);
    expect(list[0]!.summary).toMatch(/^\d+ enabled member users are not MFA-capable .*user\d+@tailspintoys\.example.* and \d+ more\.$/);
    // 2,513 rows at 999 a page.
    expect(s.requests.count((e) => e.api === 'graph' && e.path.includes('/reports/authenticationMethods/userRegistrationDetails'))).toBe(3);
  });
});
