import { describe, expect, it } from 'vitest';
import { HIGHLY_PRIVILEGED_ROLES, PHISHING_RESISTANT_STRENGTH_ID } from '../../policies/catalogue.js';
import { MAX_LISTED_USERS, phishingResistantProblems, type PhishingResistantContext } from '../../reconciler/checks/authentication.js';
import { evaluate } from '../../reconciler/evaluate/index.js';
import type { LiveState, Section } from '../../reconciler/model/live.js';
import { AuthenticationStrength, HIGHLY_PRIVILEGED_ROLE_IDS, type AuthenticationStrengthProps } from '../../stacks/index.js';
import { resolvePolicy } from '../../reconciler/resources/conditional-access-policy.js';
import { build, declareAll, errorLines, owner } from '../stacks/helpers.js';

type Obj = Record<string, unknown>;

const roles = Object.keys(HIGHLY_PRIVILEGED_ROLES);
const BG = 'b9000000-0000-4000-8000-000000000001';
const ctx = (over: Partial<PhishingResistantContext> = {}): PhishingResistantContext => ({
  roles,
  allowedExclusions: new Set([BG]),
  strengths: [
    { id: '00000000-0000-0000-0000-000000000002', displayName: 'Multifactor authentication', policyType: 'builtIn', allowedCombinations: ['fido2', 'password,sms', 'password,voice'] },
    { id: 'c0000000-0000-4000-8000-000000000001', displayName: 'Keys only', policyType: 'custom', allowedCombinations: ['fido2', 'windowsHelloForBusiness'] },
    { id: 'c0000000-0000-4000-8000-000000000002', displayName: 'Keys or TAP', policyType: 'custom', allowedCombinations: ['fido2', 'temporaryAccessPassOneTime'] },
  ],
  nameOf: (id) => (id === 'u1' ? 'someone@contoso.example' : id),
  ...over,
});

/** A policy as Graph returns it that meets ID.AUTH.1; `change` edits a copy. */
function policy(change: (p: Obj & { conditions: Obj & { users: Obj; applications: Obj }; grantControls: Obj }) => void = () => {}): Obj {
  const p = {
    id: 'p1', displayName: 'Admins: phishing-resistant', state: 'enabled',
    conditions: {
      users: { includeUsers: [], excludeUsers: [BG], includeGroups: [], excludeGroups: [], includeRoles: [...roles], excludeRoles: [] },
      applications: { includeApplications: ['All'], excludeApplications: [] },
      clientAppTypes: ['all'], userRiskLevels: [], signInRiskLevels: [], platforms: null, locations: null, devices: null,
    },
    grantControls: { operator: 'OR', builtInControls: [], authenticationStrength: { id: PHISHING_RESISTANT_STRENGTH_ID, displayName: 'Phishing-resistant MFA', allowedCombinations: ['fido2'] } },
  };
  change(p);
  return p;
}

describe('phishingResistantProblems (ID.AUTH.1)', () => {
  it('accepts the built-in strength, a custom one of phishing-resistant combinations only, and a policy for all users', () => {
    expect(phishingResistantProblems(policy(), ctx())).toEqual([]);
    expect(phishingResistantProblems(policy((p) => (p.grantControls['authenticationStrength'] = { id: 'c0000000-0000-4000-8000-000000000001' })), ctx())).toEqual([]);
    expect(phishingResistantProblems(policy((p) => Object.assign(p.conditions.users, { includeUsers: ['All'], includeRoles: [] })), ctx())).toEqual([]);
    // AND with another control still needs the strength.
    expect(phishingResistantProblems(policy((p) => Object.assign(p.grantControls, { operator: 'AND', builtInControls: ['compliantDevice'] })), ctx())).toEqual([]);
  });

  it('says why a policy does not count, one reason each', () => {
    const reasons = (change: Parameters<typeof policy>[0]) => phishingResistantProblems(policy(change), ctx());
    expect(reasons((p) => (p['state'] = 'enabledForReportingButNotEnforced'))).toEqual(['it is report-only']);
    expect(reasons((p) => (p['state'] = 'disabled'))).toEqual(['it is disabled']);
    expect(reasons((p) => (p.conditions.users['includeRoles'] = roles.filter((r) => HIGHLY_PRIVILEGED_ROLES[r] !== 'Billing Administrator')))).toEqual(['it leaves out Billing Administrator']);
    expect(reasons((p) => (p.conditions.users['includeRoles'] = []))).toEqual(['it leaves out the privileged roles']);
    expect(reasons((p) => (p.conditions.users['excludeRoles'] = [roles[0]]))).toEqual(['it excludes Global Administrator']);
    expect(reasons((p) => (p.conditions.users['excludeUsers'] = [BG, 'u1']))).toEqual(['it excludes someone@contoso.example, which is not a break-glass account']);
    expect(reasons((p) => (p.conditions.applications['includeApplications'] = ['00000002-0000-0ff1-ce00-000000000000']))).toEqual(['it covers selected apps, not all cloud apps']);
    expect(reasons((p) => (p.conditions['signInRiskLevels'] = ['high']))).toEqual(['it applies only to some risk levels']);
    expect(reasons((p) => (p.conditions['locations'] = { includeLocations: ['All'], excludeLocations: ['AllTrusted'] }))).toEqual(['it applies only to some locations']);
    expect(reasons((p) => (p.conditions['authenticationFlows'] = { transferMethods: 'deviceCodeFlow' }))).toEqual(['it applies only to some authentication flows']);
    expect(reasons((p) => (p.conditions['insiderRiskLevels'] = 'elevated'))).toEqual(['it applies only to some insider risk levels']);
    expect(reasons((p) => (p.conditions.applications['applicationFilter'] = { mode: 'exclude', rule: 'CustomSecurityAttribute.x -eq "y"' }))).toEqual(['it applies only to some apps matched by a filter']);
    expect(reasons((p) => (p['grantControls'] = { operator: 'OR', builtInControls: ['mfa'], authenticationStrength: null }))).toEqual(['it requires mfa, not a phishing-resistant authentication strength']);
    expect(reasons((p) => (p.grantControls['authenticationStrength'] = { id: '00000000-0000-0000-0000-000000000002' }))).toEqual([
      'its authentication strength "Multifactor authentication" also allows 2 combinations that are not phishing-resistant (password + sms, password + voice)',
    ]);
    expect(reasons((p) => (p.grantControls['authenticationStrength'] = { id: 'c0000000-0000-4000-8000-000000000002' }))).toEqual([
      'its authentication strength "Keys or TAP" also allows 1 combination that is not phishing-resistant (temporaryAccessPassOneTime)',
    ]);
    expect(reasons((p) => (p.grantControls['authenticationStrength'] = { id: 'c0000000-0000-4000-8000-00000000dead' }))).toEqual(['it requires an authentication strength the tenant does not have']);
    expect(reasons((p) => (p.grantControls['builtInControls'] = ['compliantDevice']))).toEqual(['compliantDevice satisfies it without the strength (operator OR)']);
  });
});

const ok = <T>(value: T): Section<T> => ({ ok: true, value, endpoint: 'x', readAt: '2026-06-01T00:00:00Z' });
const users = [
  { id: 'u-bg1', userPrincipalName: 'bg1@contoso.example', accountEnabled: true },
  { id: 'u-bg2', userPrincipalName: 'bg2@contoso.example', accountEnabled: true },
  ...Array.from({ length: 30 }, (_, i) => ({ id: `u${i}`, userPrincipalName: `user${i}@contoso.example`, accountEnabled: i !== 29 })),
];
const row = (u: Obj, capable: boolean, userType = 'member') => ({ id: u['id'], userPrincipalName: u['userPrincipalName'], userType, isMfaCapable: capable, isMfaRegistered: capable, methodsRegistered: capable ? ['microsoftAuthenticatorPush'] : [] });
const methods = (states: Record<string, string>) => ({
  id: 'authenticationMethodsPolicy',
  authenticationMethodConfigurations: Object.entries(states).map(([id, state]) => ({ '@odata.type': `#microsoft.graph.${id.toLowerCase()}AuthenticationMethodConfiguration`, id, state })),
});

function manifestWith(props: Partial<AuthenticationStrengthProps> = {}, exceptions: Parameters<ReturnType<typeof build>['posture']['addException']>[0][] = []) {
  const b = build((posture) => {
    new AuthenticationStrength(posture, 'AuthenticationStrength', { owner, controls: { 'ID.AUTH.3': { mode: 'remediate' } }, ...props });
    for (const e of exceptions) posture.addException(e);
  });
  return b.posture.toManifest();
}

describe('ID.AUTH.2 and ID.AUTH.3 over the live state', () => {
  it('lists enabled member users who are not MFA-capable once, capped, with the count; guests, disabled users and excepted users are left out of it', () => {
    const m = manifestWith({}, [{ control: 'ID.AUTH.2', scope: { type: 'user', value: 'user3@contoso.example' }, reason: 'Leaves at month end.', approvedBy: 'ciso@contoso.example', expires: '2026-06-30' }]);
    const rows = users.map((u, i) => row(u, i < 2, i === 4 ? 'guest' : 'member'));
    const live: LiveState = { users: ok(users), groups: ok([]), registrationDetails: ok(rows), authMethodsPolicy: ok(methods({})), caPolicies: ok([]), authStrengths: ok([]) };
    const found = evaluate(m, live, '2026-06-01').findings.filter((f) => f.control.id === 'ID.AUTH.2');
    const list = found.find((f) => f.resource.name === 'enabled member users')!;
    // 30 generated users: u29 disabled, u4 a guest, u3 excepted.
    expect(list.summary).toMatch(/^27 enabled member users are not MFA-capable/);
    expect(list.summary).toContain('and 7 more.');
    expect((list.evidence.live as { count: number; users: unknown[] }).count).toBe(27);
    expect((list.evidence.live as { users: unknown[] }).users).toHaveLength(MAX_LISTED_USERS);
    expect(list.summary).not.toContain('user3@');
    expect(list.change).toEqual({ action: 'none', automatic: false });
    expect(found.find((f) => f.resource.name === 'user3@contoso.example')).toMatchObject({ status: 'excepted' });
  });

  it('finds each listed weak method enabled, never one the posture does not list, and nothing for one already disabled', () => {
    const m = manifestWith({ disabledMethods: ['sms', 'voice'] });
    const live: LiveState = { users: ok(users), groups: ok([]), registrationDetails: ok([]), caPolicies: ok([]), authStrengths: ok([]), authMethodsPolicy: ok(methods({ Sms: 'enabled', Voice: 'disabled', Email: 'enabled', Fido2: 'enabled' })) };
    const found = evaluate(m, live, '2026-06-01').findings.filter((f) => f.control.id === 'ID.AUTH.3');
    expect(found.map((f) => [f.resource.id, f.status, f.change])).toEqual([['Sms', 'drift', { action: 'update', automatic: true }]]);
  });

  it('a section that failed to read makes its control not evaluated, never clean', () => {
    const m = manifestWith({ disabledMethods: ['sms'] });
    const failed = { ok: false as const, endpoint: '/reports/authenticationMethods/userRegistrationDetails', readAt: 'x', error: 'no', reason: 'licence-missing' as const, licence: 'Microsoft Entra ID P1 or P2' };
    const live: LiveState = { users: ok(users), groups: ok([]), registrationDetails: failed, caPolicies: ok([]), authStrengths: ok([]), authMethodsPolicy: ok(methods({ Sms: 'disabled' })) };
    const r = evaluate(m, live, '2026-06-01');
    expect(r.findings.filter((f) => f.control.id === 'ID.AUTH.2').map((f) => f.status)).toEqual(['not-evaluated']);
    expect(r.incomplete.map((i) => i.error)).toEqual(['licence missing: Microsoft Entra ID P1 or P2']);
  });
});

describe('the AuthenticationStrength construct', () => {
  it('defaults to the highly privileged roles and no disabled method', () => {
    const d = build((p) => new AuthenticationStrength(p, 'A', { owner })).posture.toManifest().desired.authentication!;
    expect(d.privilegedRoles).toEqual(HIGHLY_PRIVILEGED_ROLE_IDS);
    expect(d.privilegedRoles).toHaveLength(13);
    expect(d.disabledMethods).toEqual([]);
  });

  it('names the construct path and property of bad input', () => {
    const lines = errorLines(build((p) => new AuthenticationStrength(p, 'A', { owner, privilegedRoles: ['not-a-guid'], disabledMethods: ['sms', 'sms', 'fax' as never], mode: 'remediate' })));
    expect(lines).toEqual(expect.arrayContaining([
      expect.stringMatching(/^test\/Posture\/A: disabledMethods\[2\]: /),
    ]));
    const lines2 = errorLines(build((p) => new AuthenticationStrength(p, 'A', { owner, privilegedRoles: ['not-a-guid'], disabledMethods: ['sms', 'sms'], mode: 'remediate' })));
    expect(lines2).toEqual(expect.arrayContaining([
      expect.stringMatching(/^test\/Posture\/A: privilegedRoles\[0\]: /),
      'test/Posture/A: disabledMethods[1]: "sms" is listed twice',
      expect.stringMatching(/^test\/Posture\/A: mode: ID\.AUTH\.1v1 cannot be remediated automatically/),
    ]));
  });
});

describe('a conditional access write over a policy that requires a strength the posture does not name', () => {
  it('keeps the live strength: the desired state carries it, so there is no drift and no write to any MFA', () => {
    const m = build((p) => declareAll(p)).posture.toManifest();
    const declared = m.desired.conditionalAccess!.policies.find((p) => p.grantControls && !p.grantControls.authenticationStrength && (p.grantControls.builtInControls ?? []).includes('mfa'))!;
    expect(declared).toBeDefined();
    const none = () => undefined;
    const dir = { userByUpn: none, userById: none, groupByName: none, groupByMail: none, groupById: none };
    const live = { id: 'p1', displayName: declared.displayName, grantControls: { operator: 'OR', builtInControls: [], authenticationStrength: { id: PHISHING_RESISTANT_STRENGTH_ID, displayName: 'Phishing-resistant MFA' } } };
    const grant = resolvePolicy(declared, dir, { live }).body['grantControls'] as Obj;
    expect(grant['authenticationStrength']).toEqual({ id: PHISHING_RESISTANT_STRENGTH_ID });
    // Without a live strength the declaration stays as written.
    expect((resolvePolicy(declared, dir, { live: { ...live, grantControls: { operator: 'OR', builtInControls: ['mfa'], authenticationStrength: null } } }).body['grantControls'] as Obj)['authenticationStrength']).toBeUndefined();
  });
});
