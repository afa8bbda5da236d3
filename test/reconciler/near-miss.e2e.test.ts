import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Finding } from '../../reconciler/model/finding.js';
import type { PlanDocument } from '../../reconciler/model/plan.js';
import { loadScenario, startSimulator, type RunningSimulator, type Scenario } from '../../simulator/index.js';
import { cli, planAgainst, synthExamples, target, writer } from './harness.js';

let synthDir: string;
let sim: RunningSimulator | undefined;
beforeAll(() => {
  synthDir = synthExamples();
});
afterEach(async () => {
  await sim?.stop();
  sim = undefined;
});

const USER_RISK = 'EP - User risk high: MFA and password change';
const SIGN_IN_RISK = 'EP - Sign-in risk medium+high: MFA every time';
const MESSAGING_TEAM = '98de14fa-6444-5771-8dd1-cab7ca95bfa6';
const IDENTITY_TEAM = 'bd4fd340-acc0-5dc6-a4c8-25e1730a9c98'; // alex.kim, the first user of the population by UPN

type Policy = { displayName: string; state: string; conditions: { signInRiskLevels: string[]; users: { excludeGroups: string[] } }; sessionControls: unknown };

/** The compliant tenant, with the declared policy `name` renamed to `renamed` and changed by `edit`: the declaration is then missing. */
function scenarioWith(name: string, renamed: string, edit: (p: Policy) => void): Scenario {
  const scenario = loadScenario('compliant');
  const policy = scenario.graph.conditionalAccessPolicies.find((p) => p['displayName'] === name) as unknown as Policy;
  policy.displayName = renamed;
  edit(policy);
  return scenario;
}

/** `posture plan --out`: the plan document in the file, and its human text as `posture show` prints it (stdout of the plan has only a summary). */
async function plan(s: RunningSimulator, extra: readonly string[] = []): Promise<{ code: number | null; text: string; plan: PlanDocument; file: string }> {
  const file = join(mkdtempSync(join(tmpdir(), 'posture-near-miss-')), 'plan.json');
  const r = await planAgainst(s, synthDir, ['--out', file, ...extra], writer(s));
  const shown = await cli(['show', file], {});
  return { code: r.code, text: shown.stdout, plan: JSON.parse(readFileSync(file, 'utf8')) as PlanDocument, file };
}

const missing = (p: PlanDocument, name: string): Finding => p.findings.find((f) => f.status === 'missing' && f.resource.name === name)!;

describe('a declared conditional access policy the tenant does not satisfy names its near miss', () => {
  it('a compliant tenant has no findings, so no near miss', async () => {
    sim = await startSimulator({ scenario: 'compliant' });
    const r = await plan(sim);
    expect(r.plan.findings).toEqual([]);
    expect(r.code).toBe(0);
  });

  it('report-only under another name: the finding names it and the reason; apply creates the declared policy and a new plan is clean', async () => {
    sim = await startSimulator({ scenario: scenarioWith(USER_RISK, 'User risk (pilot)', (p) => (p.state = 'enabledForReportingButNotEnforced')) });
    const r = await plan(sim);
    expect(r.code).toBe(2);
    expect(r.plan.findings.map((f) => `${f.control.id} ${f.status} ${f.resource.name}`)).toEqual([`ID.CA.1 missing ${USER_RISK}`]);
    const f = missing(r.plan, USER_RISK);
    expect(f.evidence.live).toBeNull();
    expect(f.evidence.nearMiss).toMatchObject({
      basis: 'closest',
      policy: { id: '933bbfca-3b2f-5a66-a58e-b285545d0fb7', displayName: 'User risk (pilot)', state: 'enabledForReportingButNotEnforced' },
      reasons: [{ code: 'report-only', field: '/state', text: 'it is report-only (enabledForReportingButNotEnforced), not enforced' }],
      score: 1,
      compared: 5,
    });
    expect(f.summary).toBe(`Conditional access policy "${USER_RISK}" does not exist. The closest live policy, "User risk (pilot)", does not count because it is report-only (enabledForReportingButNotEnforced), not enforced.`);
    expect(r.text).toContain('The closest live policy, "User risk (pilot)", does not count because it is report-only');
    expect(r.text).toContain('near miss: closest live policy "User risk (pilot)" (933bbfca-3b2f-5a66-a58e-b285545d0fb7), 1 reason, of 5 compared');
    expect(r.text).toContain('- report-only: it is report-only (enabledForReportingButNotEnforced), not enforced');

    const applied = await cli(['apply', r.file, '--auto-approve', ...target(sim, synthDir)], writer(sim));
    expect(applied.code).toBe(0);
    const again = await plan(sim);
    expect(again.plan.findings).toEqual([]);
    expect(again.plan.changes).toEqual([]);
  });

  it('excludes a group: the reason names the group', async () => {
    sim = await startSimulator({ scenario: scenarioWith(SIGN_IN_RISK, 'Sign-in risk (all but messaging)', (p) => (p.conditions.users.excludeGroups = [MESSAGING_TEAM])) });
    const r = await plan(sim);
    expect(r.code).toBe(2);
    const f = missing(r.plan, SIGN_IN_RISK);
    expect(f.control.id).toBe('ID.CA.2');
    expect(f.evidence.nearMiss?.policy.displayName).toBe('Sign-in risk (all but messaging)');
    expect(f.evidence.nearMiss?.reasons).toEqual([
      { code: 'excludes-group', field: '/conditions/users/excludeGroups', text: 'it excludes group "Messaging Team"', principal: { type: 'group', id: MESSAGING_TEAM, name: 'Messaging Team' } },
    ]);
    expect(r.text).toContain('does not count because it excludes group "Messaging Team".');
    expect(r.text).toContain('- excludes-group: it excludes group "Messaging Team"');
    // The renamed policy is not managed: its exclusion is still an ID.CA.5 violation of its own.
    expect(r.plan.findings.map((f) => `${f.control.id} ${f.check}`).sort()).toEqual(['ID.CA.2 ca-signin-risk', 'ID.CA.5 ca-no-undeclared-exclusions']);
  });

  it('lacks the risk condition and the session control: MFA for everyone is not the sign-in risk policy', async () => {
    sim = await startSimulator({
      scenario: scenarioWith(SIGN_IN_RISK, 'Require MFA for all users', (p) => {
        p.conditions.signInRiskLevels = [];
        p.sessionControls = null;
      }),
    });
    const r = await plan(sim);
    const f = missing(r.plan, SIGN_IN_RISK);
    expect(f.evidence.nearMiss?.policy.displayName).toBe('Require MFA for all users');
    expect(f.evidence.nearMiss?.reasons.map((x) => [x.code, x.text])).toEqual([
      ['lacks-sign-in-risk', 'it has no sign-in risk condition (the posture needs high, medium)'],
      ['lacks-session-control', 'it lacks the session control sign-in frequency every time'],
    ]);
    expect(f.evidence.nearMiss?.reasons[0]?.levels).toEqual({ declared: ['high', 'medium'], live: [] });
    expect(r.text).toContain('it has no sign-in risk condition (the posture needs high, medium); it lacks the session control sign-in frequency every time.');
  });

  it('--confirm-near-miss: the What If evaluation for one user of the population confirms the excluded group', async () => {
    sim = await startSimulator({ scenario: scenarioWith(SIGN_IN_RISK, 'Sign-in risk (not identity)', (p) => (p.conditions.users.excludeGroups = [IDENTITY_TEAM])) });
    const r = await plan(sim, ['--confirm-near-miss']);
    expect(r.code).toBe(2);
    const f = missing(r.plan, SIGN_IN_RISK);
    expect(f.evidence.nearMiss?.reasons.map((x) => x.code)).toEqual(['excludes-group']);
    expect(f.evidence.nearMiss?.confirmation).toEqual({
      confirmed: true,
      user: 'alex.kim@tailspintoys.example',
      signIn: { userRiskLevel: 'none', signInRiskLevel: 'high', clientAppType: 'browser', application: '00000002-0000-0ff1-ce00-000000000000' },
      policyApplies: false,
      analysisReasons: ['users'],
    });
    expect(r.text).toContain('What If for alex.kim@tailspintoys.example: the policy does not apply (users)');
    const calls = sim.requests.entries.filter((q) => q.api === 'graph' && q.path.endsWith('/identity/conditionalAccess/evaluate'));
    expect(calls).toHaveLength(1);
  });

  it('a What If evaluation that fails leaves the finding standing, says so, and does not fail the run', async () => {
    sim = await startSimulator({
      scenario: scenarioWith(USER_RISK, 'User risk (pilot)', (p) => (p.state = 'enabledForReportingButNotEnforced')),
      faults: [{ api: 'graph', route: '/identity/conditionalAccess/evaluate', kind: 'status', status: 403 }],
    });
    const r = await plan(sim, ['--confirm-near-miss']);
    expect(r.code).toBe(2);
    expect(r.plan.incomplete).toEqual([]);
    const f = missing(r.plan, USER_RISK);
    expect(f.evidence.nearMiss?.reasons.map((x) => x.code)).toEqual(['report-only']);
    expect(f.evidence.nearMiss?.confirmation).toMatchObject({ confirmed: false, user: 'alex.kim@tailspintoys.example' });
    expect((f.evidence.nearMiss?.confirmation as { error: string }).error).toMatch(/^the What If evaluation answered 403/);
    expect(r.text).toContain('not confirmed: the What If evaluation answered 403');
    // Without the option, nothing is asked.
    const quiet = await plan(sim);
    expect(missing(quiet.plan, USER_RISK).evidence.nearMiss?.confirmation).toBeUndefined();
  });
});
