import { afterEach, describe, expect, it } from 'vitest';
import { loadScenario, startSimulator, type RunningSimulator } from '../../simulator/index.js';

let sim: RunningSimulator | undefined;
afterEach(async () => {
  await sim?.stop();
  sim = undefined;
});

const ALEX = 'bd26d213-0d63-5d86-bba0-1922069c5a69'; // Global Administrator, Identity Team
const BG_ALPHA = 'ea13fdf1-8566-51fc-8a45-12114c04685f';
const EXO = '00000002-0000-0ff1-ce00-000000000000';

type Result = { id: string; displayName: string; state: string; policyApplies: boolean; analysisReasons: string };

async function evaluate(s: RunningSimulator, body: unknown, o: { version?: string; roles?: string[] } = {}): Promise<{ status: number; body: { '@odata.context'?: string; value?: Result[]; error?: { code: string; message: string } } }> {
  const res = await fetch(`${s.graphUrl}/${o.version ?? 'beta'}/identity/conditionalAccess/evaluate`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${s.token('graph', o.roles ? { roles: o.roles } : undefined)}`, 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as never };
}

const signIn = (userId: string, conditions: Record<string, unknown> = {}, apps = [EXO]) => ({
  signInIdentity: { '@odata.type': '#microsoft.graph.userSignIn', userId },
  signInContext: { '@odata.type': '#microsoft.graph.applicationContext', includeApplications: apps },
  signInConditions: conditions,
});

const byName = (r: Result[]) => Object.fromEntries(r.map((p) => [p.displayName, [p.policyApplies, p.analysisReasons]]));

describe('POST /identity/conditionalAccess/evaluate (What If)', () => {
  it('answers each policy with policyApplies and analysisReasons, as whatIfAnalysisResult', async () => {
    sim = await startSimulator({ scenario: 'compliant', limits: { enabled: false } });
    const r = await evaluate(sim, signIn(ALEX, { userRiskLevel: 'high', signInRiskLevel: 'none', clientAppType: 'browser' }));
    expect(r.status).toBe(200);
    expect(r.body['@odata.context']).toMatch(/\/beta\/\$metadata#Collection\(microsoft\.graph\.whatIfAnalysisResult\)$/);
    expect(byName(r.body.value!)).toEqual({
      'EP - User risk high: MFA and password change': [true, 'notSet'],
      'EP - Sign-in risk medium+high: MFA every time': [false, 'signInRisk'],
      // Report-only policies are evaluated as if enforced.
      'EP - Privileged roles, user risk medium+high: block': [true, 'notSet'],
      'EP - Privileged roles: phishing-resistant MFA': [true, 'notSet'],
      'EP - Block legacy authentication': [false, 'clientApps'],
    });
    const first = r.body.value![0]!;
    expect(first).toHaveProperty('conditions.users.includeUsers', ['All']);
    expect(first).toHaveProperty('grantControls.builtInControls', ['mfa', 'passwordChange']);
  });

  it('several reasons are one comma-separated flags value; excluded users, disabled policies', async () => {
    const scenario = loadScenario('compliant');
    const p = scenario.graph.conditionalAccessPolicies.find((x) => x['displayName'] === 'EP - Sign-in risk medium+high: MFA every time')!;
    p['state'] = 'disabled';
    sim = await startSimulator({ scenario, limits: { enabled: false } });
    const r = await evaluate(sim, { ...signIn(BG_ALPHA, { clientAppType: 'exchangeActiveSync' }), appliedPoliciesOnly: false });
    expect(byName(r.body.value!)).toEqual({
      'EP - User risk high: MFA and password change': [false, 'users,userRisk'],
      'EP - Sign-in risk medium+high: MFA every time': [false, 'users,signInRisk,policyNotEnabled'],
      'EP - Privileged roles, user risk medium+high: block': [false, 'users,userRisk'],
      'EP - Privileged roles: phishing-resistant MFA': [false, 'users'],
      'EP - Block legacy authentication': [false, 'users'],
    });
  });

  it('appliedPoliciesOnly leaves out the policies that do not apply; group exclusions and v1.0', async () => {
    const scenario = loadScenario('compliant');
    const p = scenario.graph.conditionalAccessPolicies.find((x) => x['displayName'] === 'EP - User risk high: MFA and password change')!;
    ((p['conditions'] as { users: { excludeGroups: string[] } }).users.excludeGroups = ['bd4fd340-acc0-5dc6-a4c8-25e1730a9c98']);
    sim = await startSimulator({ scenario, limits: { enabled: false } });
    const r = await evaluate(sim, { ...signIn(ALEX, { userRiskLevel: 'high' }), appliedPoliciesOnly: true }, { version: 'v1.0' });
    expect(r.body.value!.map((x) => x.displayName)).toEqual(['EP - Privileged roles, user risk medium+high: block', 'EP - Privileged roles: phishing-resistant MFA']);
  });

  it('refuses what Graph refuses: a missing part, an unknown level, an unknown user, no permission', async () => {
    sim = await startSimulator({ scenario: 'compliant', limits: { enabled: false } });
    expect((await evaluate(sim, { signInIdentity: signIn(ALEX).signInIdentity })).status).toBe(400);
    expect((await evaluate(sim, signIn(ALEX, { userRiskLevel: 'severe' }))).status).toBe(400);
    expect((await evaluate(sim, signIn('00000000-0000-0000-0000-000000000000'))).status).toBe(404);
    expect((await evaluate(sim, signIn(ALEX), { roles: ['User.Read.All'] })).status).toBe(403);
    expect((await evaluate(sim, signIn(ALEX), { roles: ['Policy.Read.ConditionalAccess'] })).status).toBe(200);
  });
});
