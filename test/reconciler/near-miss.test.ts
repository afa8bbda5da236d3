import { describe, expect, it } from 'vitest';
import { directoryOf } from '../../reconciler/evaluate/context.js';
import { evaluate } from '../../reconciler/evaluate/index.js';
import { closestPolicy, nearMissReasons, nearMissSentence } from '../../reconciler/checks/near-miss.js';
import type { DesiredCaPolicy } from '../../reconciler/manifest/schema.js';
import { diffPolicy, resolvePolicy } from '../../reconciler/resources/conditional-access-policy.js';
import { build, declareAll } from '../stacks/helpers.js';

type Obj = Record<string, unknown>;

const manifest = build(declareAll).posture.toManifest();
const declared = (key: string) => manifest.desired.conditionalAccess!.policies.find((p) => p.key === key)!;
const USER_RISK = declared('user-risk');
const SIGN_IN_RISK = declared('sign-in-risk');
const PRIVILEGED = declared('privileged-user-risk');
const LEGACY = declared('legacy-authentication');

const users = [
  { id: 'bg1-id', userPrincipalName: 'bg1@contoso.example' },
  { id: 'bg2-id', userPrincipalName: 'bg2@contoso.example' },
  { id: 'sam-id', userPrincipalName: 'sam@contoso.example' },
];
const groups = [
  { id: 'sales-id', displayName: 'Sales' },
  { id: 'pilot-id', displayName: 'Pilot "ring" 1' },
];
const dir = directoryOf({ users: { ok: true, value: users, endpoint: '', readAt: '' }, groups: { ok: true, value: groups, endpoint: '', readAt: '' } });
const ctx = { dir, breakGlass: manifest.breakGlass };

/** A policy as Graph stores it, loosely typed for editing. */
interface LivePolicy {
  id: string;
  displayName: string;
  state: string;
  templateId: null;
  createdDateTime: string;
  conditions: {
    users: Record<string, unknown> & { includeUsers: string[]; excludeUsers: string[]; includeGroups: string[]; excludeGroups: string[]; includeRoles: string[]; excludeRoles: string[] };
    applications: Record<string, unknown> & { includeApplications: string[]; excludeApplications: string[] };
    clientAppTypes: string[];
    userRiskLevels: string[];
    signInRiskLevels: string[];
    [k: string]: unknown;
  };
  grantControls: (Record<string, unknown> & { operator: string; builtInControls: string[] }) | null;
  sessionControls: (Record<string, unknown> & { signInFrequency: Record<string, unknown> }) | null;
}

/** The declared policy as Graph would store it under another name, with the server's defaults, then changed by `edit`. */
function liveOf(desired: DesiredCaPolicy, edit: (p: LivePolicy) => void = () => {}, o: { id?: string; displayName?: string } = {}): Obj {
  const p = structuredClone(resolvePolicy(desired, dir).body) as unknown as LivePolicy;
  p.id = o.id ?? 'policy-id';
  p.displayName = o.displayName ?? `Copy of ${desired.displayName}`;
  p.templateId = null;
  p.createdDateTime = '2026-01-01T00:00:00Z';
  p.conditions.platforms = null;
  p.conditions.locations = null;
  p.conditions.applications.includeUserActions = [];
  p.conditions.users.includeGuestsOrExternalUsers = null;
  p.grantControls = p.grantControls ? { ...p.grantControls, customAuthenticationFactors: [], termsOfUse: [], 'authenticationStrength@odata.context': 'x', authenticationStrength: null } : null;
  if (p.sessionControls) p.sessionControls = { ...p.sessionControls, disableResilienceDefaults: false, persistentBrowser: null };
  edit(p);
  return p as unknown as Obj;
}

const codes = (desired: DesiredCaPolicy, live: Obj) => nearMissReasons(desired, live, ctx).map((r) => r.code);
const texts = (desired: DesiredCaPolicy, live: Obj) => nearMissReasons(desired, live, ctx).map((r) => r.text);

describe('near-miss reasons', () => {
  it('none for a policy that is the declaration under another name, with server defaults', () => {
    for (const d of [USER_RISK, SIGN_IN_RISK, PRIVILEGED, LEGACY]) expect(nearMissReasons(d, liveOf(d), ctx)).toEqual([]);
  });

  it('report-only and disabled', () => {
    expect(nearMissReasons(USER_RISK, liveOf(USER_RISK, (p) => (p.state = 'enabledForReportingButNotEnforced')), ctx)).toEqual([
      { code: 'report-only', field: '/state', text: 'it is report-only (enabledForReportingButNotEnforced), not enforced' },
    ]);
    expect(codes(USER_RISK, liveOf(USER_RISK, (p) => (p.state = 'disabled')))).toEqual(['disabled']);
  });

  it('an enabled policy where the posture stages one (report-only) is a state reason', () => {
    const staged = { ...USER_RISK, state: 'enabledForReportingButNotEnforced' as const };
    expect(texts(staged, liveOf(USER_RISK))).toEqual(['it is enabled, not report-only (enabledForReportingButNotEnforced)']);
  });

  it('an excluded group, user and role are named, one reason each', () => {
    const live = liveOf(USER_RISK, (p) => {
      p.conditions.users.excludeGroups = ['sales-id', 'pilot-id'];
      p.conditions.users.excludeUsers.push('sam-id');
      p.conditions.users.excludeRoles = ['62e90394-69f5-4237-9190-012177145e10'];
    });
    const reasons = nearMissReasons(USER_RISK, live, ctx);
    expect(reasons.map((r) => r.code)).toEqual(['excludes-user', 'excludes-group', 'excludes-group', 'excludes-role']);
    expect(reasons.map((r) => r.principal)).toEqual([
      { type: 'user', id: 'sam-id', name: 'sam@contoso.example' },
      { type: 'group', id: 'pilot-id', name: 'Pilot "ring" 1' },
      { type: 'group', id: 'sales-id', name: 'Sales' },
      { type: 'role', id: '62e90394-69f5-4237-9190-012177145e10', name: '62e90394-69f5-4237-9190-012177145e10' },
    ]);
    expect(reasons[2]!.text).toBe('it excludes group "Sales"');
    expect(reasons[0]!.field).toBe('/conditions/users/excludeUsers');
  });

  it('an excluded id the directory does not know is named by its id', () => {
    expect(texts(USER_RISK, liveOf(USER_RISK, (p) => (p.conditions.users.excludeGroups = ['gone-id'])))).toEqual(['it excludes group "gone-id"']);
  });

  it('guests excluded', () => {
    expect(codes(USER_RISK, liveOf(USER_RISK, (p) => p.conditions.users.excludeUsers.push('GuestsOrExternalUsers')))).toEqual(['excludes-guests']);
    expect(codes(USER_RISK, liveOf(USER_RISK, (p) => (p.conditions.users.excludeGuestsOrExternalUsers = { guestOrExternalUserTypes: 'b2bCollaborationGuest', externalTenants: { membershipKind: 'all' } })))).toEqual(['excludes-guests']);
  });

  it('a declared exclusion the policy leaves out is stricter, no reason; a break-glass one it leaves out is', () => {
    const stricter = { ...USER_RISK, conditions: { ...USER_RISK.conditions, users: { ...USER_RISK.conditions.users, excludeGroups: ['group:Sales'] } } };
    expect(nearMissReasons(stricter, liveOf(USER_RISK), ctx)).toEqual([]);
    const reasons = nearMissReasons(USER_RISK, liveOf(USER_RISK, (p) => (p.conditions.users.excludeUsers = ['bg1-id'])), ctx);
    expect(reasons).toEqual([{ code: 'break-glass-not-excluded', field: '/conditions/users/excludeUsers', text: 'it does not exclude break-glass account "bg2@contoso.example"', principal: { type: 'user', id: 'bg2-id', name: 'bg2@contoso.example' } }]);
  });

  it('includes only some users instead of all', () => {
    const live = liveOf(USER_RISK, (p) => {
      p.conditions.users.includeUsers = [];
      p.conditions.users.includeGroups = ['pilot-id'];
    });
    expect(nearMissReasons(USER_RISK, live, ctx)).toEqual([{ code: 'includes-some-users', field: '/conditions/users', text: 'it includes only group "Pilot "ring" 1", not all users' }]);
  });

  it('includes fewer roles than declared', () => {
    const live = liveOf(PRIVILEGED, (p) => (p.conditions.users.includeRoles = p.conditions.users.includeRoles.slice(1)));
    expect(nearMissReasons(PRIVILEGED, live, ctx)).toEqual([{ code: 'users-differ', field: '/conditions/users', text: 'it does not include role 62e90394-69f5-4237-9190-012177145e10' }]);
  });

  it('applies to one app only, or excludes one', () => {
    expect(nearMissReasons(USER_RISK, liveOf(USER_RISK, (p) => (p.conditions.applications.includeApplications = ['00000002-0000-0ff1-ce00-000000000000'])), ctx)).toEqual([
      { code: 'some-apps', field: '/conditions/applications/includeApplications', text: 'it applies to one app only (00000002-0000-0ff1-ce00-000000000000), not All' },
    ]);
    expect(codes(USER_RISK, liveOf(USER_RISK, (p) => (p.conditions.applications.excludeApplications = ['app-1'])))).toEqual(['excludes-application']);
  });

  it('client app types restricted', () => {
    expect(texts(USER_RISK, liveOf(USER_RISK, (p) => (p.conditions.clientAppTypes = ['browser', 'mobileAppsAndDesktopClients'])))).toEqual([
      'it applies only to client app types browser, mobileAppsAndDesktopClients, not all',
    ]);
    expect(codes(LEGACY, liveOf(LEGACY, (p) => (p.conditions.clientAppTypes = ['other'])))).toEqual(['client-app-types']);
  });

  it('lacks the user risk or sign-in risk condition, with the levels', () => {
    const none = nearMissReasons(USER_RISK, liveOf(USER_RISK, (p) => (p.conditions.userRiskLevels = [])), ctx);
    expect(none).toEqual([{ code: 'lacks-user-risk', field: '/conditions/userRiskLevels', text: 'it has no user risk condition (the posture needs high)', levels: { declared: ['high'], live: [] } }]);
    expect(texts(SIGN_IN_RISK, liveOf(SIGN_IN_RISK, (p) => (p.conditions.signInRiskLevels = ['high'])))).toEqual(['it lacks the sign-in risk level medium (it has high)']);
    expect(codes(SIGN_IN_RISK, liveOf(SIGN_IN_RISK, (p) => (p.conditions.signInRiskLevels = ['low', 'medium', 'high'])))).toEqual(['sign-in-risk-differs']);
    expect(codes(LEGACY, liveOf(LEGACY, (p) => (p.conditions.userRiskLevels = ['high'])))).toEqual(['user-risk-differs']);
  });

  it('lacks the session control: sign-in frequency every time', () => {
    expect(nearMissReasons(USER_RISK, liveOf(USER_RISK, (p) => (p.sessionControls = null)), ctx)).toEqual([
      { code: 'lacks-session-control', field: '/sessionControls/signInFrequency', text: 'it lacks the session control sign-in frequency every time' },
    ]);
    const hourly = liveOf(USER_RISK, (p) => (p.sessionControls!.signInFrequency = { isEnabled: true, frequencyInterval: 'timeBased', authenticationType: 'primaryAndSecondaryAuthentication', value: 4, type: 'hours' }));
    expect(texts(USER_RISK, hourly)).toEqual(['its sign-in frequency every 4 hours is not sign-in frequency every time']);
  });

  it('a session control the posture does not declare (persistent browser)', () => {
    expect(nearMissReasons(USER_RISK, liveOf(USER_RISK, (p) => (p.sessionControls!.persistentBrowser = { isEnabled: true, mode: 'always' })), ctx)).toEqual([
      { code: 'session-control-differs', field: '/sessionControls/persistentBrowser', text: 'it also sets the session control persistentBrowser' },
    ]);
  });

  it('grant control differs, named as written', () => {
    expect(texts(USER_RISK, liveOf(USER_RISK, (p) => (p.grantControls!.builtInControls = ['mfa'])))).toEqual(['its grant is mfa, not mfa AND passwordChange']);
    expect(texts(PRIVILEGED, liveOf(PRIVILEGED, (p) => (p.grantControls = { operator: 'OR', builtInControls: ['mfa', 'compliantDevice'] })))).toEqual(['its grant is mfa OR compliantDevice, not block']);
  });

  it('platform and location conditions narrow it', () => {
    const live = liveOf(USER_RISK, (p) => {
      p.conditions.platforms = { includePlatforms: ['android'], excludePlatforms: [] };
      p.conditions.locations = { includeLocations: ['All'], excludeLocations: ['AllTrusted'] };
    });
    expect(nearMissReasons(USER_RISK, live, ctx).map((r) => [r.code, r.text])).toEqual([
      ['platform-condition', 'a platform condition narrows it'],
      ['location-condition', 'a location condition narrows it'],
    ]);
  });

  it('anything else the check compares is still a reason', () => {
    const live = liveOf(USER_RISK, (p) => (p.conditions.authenticationFlows = { transferMethods: 'deviceCodeFlow' }));
    expect(nearMissReasons(USER_RISK, live, ctx)).toEqual([{ code: 'other-condition', field: '/conditions/authenticationFlows', text: 'its conditions.authenticationFlows differs' }]);
  });

  it('no reasons exactly when the check finds no difference but the name', () => {
    const edits: ((p: LivePolicy) => void)[] = [
      () => {},
      (p) => (p.state = 'disabled'),
      (p) => (p.conditions.users.excludeGroups = ['sales-id']),
      (p) => (p.conditions.userRiskLevels = ['HIGH']),
      (p) => (p.conditions.devices = { deviceFilter: { mode: 'exclude', rule: 'device.isCompliant -eq True' } }),
      (p) => (p.conditions.insiderRiskLevels = 'elevated'),
      (p) => (p.sessionControls!.signInFrequency.authenticationType = 'secondaryAuthentication'),
      (p) => (p.grantControls!.operator = 'OR'),
    ];
    for (const edit of edits) {
      const live = liveOf(USER_RISK, edit, { displayName: USER_RISK.displayName });
      const diff = diffPolicy(resolvePolicy(USER_RISK, dir, { live, breakGlass: manifest.breakGlass }), live);
      expect(nearMissReasons(USER_RISK, live, ctx).length === 0).toBe(diff.length === 0);
    }
  });
});

describe('the closest policy', () => {
  it('fewest reasons first', () => {
    const far = liveOf(USER_RISK, (p) => {
      p.state = 'disabled';
      p.conditions.userRiskLevels = [];
    }, { id: 'a', displayName: 'A' });
    const near = liveOf(USER_RISK, (p) => (p.state = 'enabledForReportingButNotEnforced'), { id: 'z', displayName: 'Z' });
    const n = closestPolicy(USER_RISK, [far, near], ctx)!;
    expect(n.policy).toEqual({ id: 'z', displayName: 'Z', state: 'enabledForReportingButNotEnforced' });
    expect(n.basis).toBe('closest');
    expect(n.score).toBe(1);
    expect(n.compared).toBe(2);
  });

  it('ties by display name, then id, whatever the order read', () => {
    const mk = (id: string, displayName: string) => liveOf(USER_RISK, (p) => (p.state = 'disabled'), { id, displayName });
    const policies = [mk('2', 'B'), mk('9', 'A'), mk('1', 'A')];
    for (const order of [policies, [...policies].reverse(), [policies[1]!, policies[2]!, policies[0]!]]) {
      expect(closestPolicy(USER_RISK, order, ctx)!.policy.id).toBe('1');
    }
  });

  it('a policy that differs only by name is said to, not to fall short', () => {
    const n = closestPolicy(USER_RISK, [liveOf(USER_RISK, () => {}, { displayName: 'UR copy' })], ctx)!;
    expect(n.reasons).toEqual([]);
    expect(nearMissSentence(n)).toBe('The live policy "UR copy" matches the declaration in every governed field but its name, which is what ties a policy to the posture.');
  });

  it('none when there is no live policy', () => {
    expect(closestPolicy(USER_RISK, [], ctx)).toBeUndefined();
  });

  it('a sentence naming the policy and every reason', () => {
    const live = liveOf(USER_RISK, (p) => {
      p.state = 'enabledForReportingButNotEnforced';
      p.conditions.users.excludeGroups = ['sales-id'];
    }, { displayName: 'Risky users (pilot)' });
    expect(nearMissSentence(closestPolicy(USER_RISK, [live], ctx)!)).toBe(
      'The closest live policy, "Risky users (pilot)", does not count because it is report-only (enabledForReportingButNotEnforced), not enforced; it excludes group "Sales".',
    );
  });
});

describe('in the check', () => {
  const ok = <T>(value: T) => ({ ok: true as const, value, endpoint: '', readAt: '2026-06-01T00:00:00Z' });
  const run = (policies: Obj[]) =>
    evaluate(manifest, { caPolicies: ok(policies), users: ok(users), groups: ok(groups) }, '2026-06-01').findings.filter((f) => f.control.id.startsWith('ID.CA'));

  it('a missing policy names its closest live policy, as data and in the summary; pass and fail are unchanged', () => {
    const others = [SIGN_IN_RISK, PRIVILEGED, LEGACY].map((d, i) => liveOf(d, () => {}, { id: `p${i}`, displayName: d.displayName }));
    expect(run([...others, liveOf(USER_RISK, () => {}, { id: 'ur', displayName: USER_RISK.displayName })])).toEqual([]);
    const renamed = liveOf(USER_RISK, (p) => (p.state = 'enabledForReportingButNotEnforced'), { id: 'ur', displayName: 'User risk (pilot)' });
    const findings = run([...others, renamed]);
    const missing = findings.filter((f) => f.status === 'missing');
    expect(missing.map((f) => f.resource.name)).toEqual([USER_RISK.displayName]);
    const f = missing[0]!;
    expect(f.evidence.live).toBeNull();
    expect(f.evidence.nearMiss).toMatchObject({ policy: { id: 'ur', displayName: 'User risk (pilot)' }, reasons: [{ code: 'report-only' }], score: 1, compared: 4 });
    expect(f.summary).toContain('The closest live policy, "User risk (pilot)", does not count because it is report-only');
  });

  it('a drifted policy says why it does not count, beside the patch', () => {
    const policies = [USER_RISK, SIGN_IN_RISK, PRIVILEGED, LEGACY].map((d, i) => liveOf(d, (p) => d === SIGN_IN_RISK && (p.conditions.signInRiskLevels = ['high']), { id: `p${i}`, displayName: d.displayName }));
    const [f] = run(policies);
    expect(f!.status).toBe('drift');
    expect(f!.evidence.nearMiss).toMatchObject({ basis: 'same-name', policy: { id: 'p1' }, reasons: [{ code: 'lacks-sign-in-risk' }] });
    expect(f!.summary).toBe(`Policy "${SIGN_IN_RISK.displayName}" differs from the posture in conditions.signInRiskLevels. It does not count because it lacks the sign-in risk level medium (it has high).`);
  });

  it('an exclusion finding (ID.CA.5) keeps its own words', () => {
    const policies = [USER_RISK, SIGN_IN_RISK, PRIVILEGED, LEGACY].map((d, i) => liveOf(d, (p) => d === LEGACY && (p.conditions.users.excludeGroups = ['sales-id']), { id: `p${i}`, displayName: d.displayName }));
    const [f] = run(policies);
    expect(f!.control.id).toBe('ID.CA.5');
    expect(f!.evidence.nearMiss).toBeUndefined();
  });
});
