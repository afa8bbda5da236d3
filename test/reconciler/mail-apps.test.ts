import { describe, expect, it } from 'vitest';
import { evaluate } from '../../reconciler/evaluate/index.js';
import type { LiveState } from '../../reconciler/model/live.js';
import { ConsentGovernance, MailApplications, type MailAppProps } from '../../stacks/index.js';
import { build, errorLines, owner } from '../stacks/helpers.js';

/** MAIL.APPS.1–3 as pure checks over hand-made sections, and the construct's validation. */
const TODAY = '2026-06-01';
const GRAPH = '00000003-0000-0000-c000-000000000000';
const EXO = '00000002-0000-0ff1-ce00-000000000000';
const APP = 'e4a1c9b2-6d3f-4f8a-9b2c-7d1e5f3a8c64';
const appOwner = { name: 'Jordan Patel', team: 'Messaging', contact: 'jordan@contoso.example' };
const declared: MailAppProps = { appId: APP, displayName: 'Statement Mailer', owner: appOwner, permissions: { graph: ['Mail.Send'] }, scope: { group: 'senders@contoso.example' } };

const ok = <T>(value: T) => ({ ok: true as const, value, endpoint: 'x', readAt: '2026-06-01T00:00:00Z' });
const failed = { ok: false as const, endpoint: '/applications', readAt: '2026-06-01T00:00:00Z', reason: 'read-failed' as const, error: 'HTTP 503' };

const resources = [
  { id: 'graph-sp', appId: GRAPH, displayName: 'Microsoft Graph', appRoles: [{ id: 'r-send', value: 'Mail.Send' }, { id: 'r-rw', value: 'Mail.ReadWrite' }, { id: 'r-mbs', value: 'MailboxSettings.Read' }, { id: 'r-user', value: 'User.Read.All' }] },
  { id: 'exo-sp', appId: EXO, displayName: 'Office 365 Exchange Online', appRoles: [{ id: 'r-full', value: 'full_access_as_app' }, { id: 'r-manage', value: 'Exchange.ManageAsApp' }] },
];
const assignment = (id: string, principalId: string, appRoleId: string, resourceId = 'graph-sp') => ({ id, principalId, appRoleId, resourceId, principalType: 'ServicePrincipal' });
const sp = (id: string, appId: string, displayName: string, org = 'other-tenant') => ({ id, appId, displayName, appOwnerOrganizationId: org });

function live(over: Partial<LiveState> = {}): LiveState {
  return {
    users: ok([{ id: 'u1', userPrincipalName: 'jordan@contoso.example', displayName: 'Jordan Patel', accountEnabled: true }, { id: 'u2', userPrincipalName: 'payroll@contoso.example', displayName: 'Payroll' }, ...['mail-lead', 'bg1', 'bg2', 'reviewer'].map((n) => ({ id: n, userPrincipalName: `${n}@contoso.example`, accountEnabled: true }))]),
    groups: ok([{ id: 'g1', displayName: 'Statement Senders', mail: 'senders@contoso.example', mailNickname: 'senders', mailEnabled: true, securityEnabled: true }]),
    servicePrincipals: ok([sp('sp-app', APP, 'Statement Mailer'), sp('sp-x', 'b0000000-0000-4000-8000-000000000001', 'Unknown Sync'), sp('sp-ms', 'b0000000-0000-4000-8000-000000000002', 'Microsoft thing', 'f8cdef31-a31e-4b4a-93e4-5f571e91255a')]),
    grants: ok([]),
    appPermissions: ok({ resources, assignments: [assignment('a1', 'sp-app', 'r-send')] }),
    mailAppOwners: ok({ 'sp-app': [{ id: 'u1', userPrincipalName: 'jordan@contoso.example' }] }),
    applicationAccessPolicies: ok([{ Identity: `t\\${APP}:S-1;g`, AppId: APP, ScopeName: 'Statement Senders', ScopeIdentity: 'StatementSenders2025', AccessRight: 'RestrictAccess' }]),
    applications: ok([{ id: 'obj-app', appId: APP, displayName: 'Statement Mailer', passwordCredentials: [], keyCredentials: [{ keyId: 'k1', type: 'AsymmetricX509Cert', usage: 'Verify', startDateTime: '2025-06-01T00:00:00Z', endDateTime: '2027-06-01T00:00:00Z' }] }]),
    ...over,
  };
}

const manifestWith = (apps: MailAppProps[] = [declared]) =>
  build((p) => {
    new MailApplications(p, 'MailApplications', { owner, apps });
    new ConsentGovernance(p, 'ConsentGovernance', { owner, adminConsentWorkflow: { reviewers: [{ user: 'reviewer@contoso.example' }] } });
  }).posture.toManifest();

const run = (l: LiveState, apps?: MailAppProps[]) => evaluate(manifestWith(apps), l, TODAY);
const mailApps = (l: LiveState, apps?: MailAppProps[]) => run(l, apps).findings.filter((f) => f.control.id.startsWith('MAIL.APPS.'));

describe('MAIL.APPS checks', () => {
  it('a declared app holding its declared permission, scoped and with a certificate, is no finding of MAIL.APPS or APP.CONSENT.5', () => {
    const r = run(live());
    expect(r.findings).toEqual([]);
    expect(r.incomplete).toEqual([]);
  });

  it('an undeclared app with a mail permission is named with its permissions and its Graph owners; Microsoft\'s own apps and other permissions are not', () => {
    const l = live({
      appPermissions: ok({ resources, assignments: [assignment('a1', 'sp-app', 'r-send'), assignment('a2', 'sp-x', 'r-mbs'), assignment('a3', 'sp-x', 'r-full', 'exo-sp'), assignment('a4', 'sp-ms', 'r-rw'), assignment('a5', 'sp-x', 'r-user'), assignment('a6', 'sp-x', 'r-manage', 'exo-sp')] }),
      mailAppOwners: ok({ 'sp-app': [], 'sp-x': [{ id: 'u2', userPrincipalName: 'payroll@contoso.example' }] }),
    });
    const [f, ...rest] = mailApps(l);
    expect(rest).toEqual([]);
    expect(f).toMatchObject({ check: 'undeclared-mail-app', status: 'violation', owner, resource: { type: 'servicePrincipal', id: 'sp-x', name: 'Unknown Sync' }, change: { action: 'none', automatic: false } });
    expect(f!.summary).toBe('"Unknown Sync" (appId b0000000-0000-4000-8000-000000000001) holds the mail application permissions MailboxSettings.Read (Microsoft Graph) and full_access_as_app (Office 365 Exchange Online) and is not declared; its owners in Entra ID are payroll@contoso.example.');
    expect(f!.remediation).toContain('DELETE /servicePrincipals/graph-sp/appRoleAssignedTo/a2; DELETE /servicePrincipals/exo-sp/appRoleAssignedTo/a3');
  });

  it('a declared app holding more than declared is a finding for the app\'s owner; the extra high-risk one is APP.CONSENT.5\'s too', () => {
    const l = live({ appPermissions: ok({ resources, assignments: [assignment('a1', 'sp-app', 'r-send'), assignment('a2', 'sp-app', 'r-rw')] }) });
    const findings = run(l).findings;
    expect(findings.map((f) => [f.control.id, f.check, f.owner.contact])).toEqual([
      ['MAIL.APPS.1', 'undeclared-mail-permission', appOwner.contact],
      ['APP.CONSENT.5', 'app-permission-high-risk', owner.contact],
    ]);
    expect(findings[0]!.summary).toContain('holds Mail.ReadWrite (Microsoft Graph) beyond the mail permissions declared for it');
  });

  it('an app restricted by no policy, or by DenyAccess only, is missing its scope; one restricted elsewhere is a violation naming the command to run', () => {
    for (const policies of [[], [{ Identity: 'p', AppId: APP, ScopeName: 'Statement Senders', AccessRight: 'DenyAccess' }]]) {
      const [f] = mailApps(live({ applicationAccessPolicies: ok(policies) }));
      expect(f).toMatchObject({ control: { id: 'MAIL.APPS.2' }, check: 'mail-app-scope', status: 'missing', owner: appOwner });
      expect(f!.remediation).toContain(`New-ApplicationAccessPolicy -AppId ${APP} -PolicyScopeGroupId 'senders@contoso.example' -AccessRight RestrictAccess`);
    }
    const [f] = mailApps(live({ applicationAccessPolicies: ok([{ Identity: "t\\it's", AppId: APP, ScopeName: 'All Staff', ScopeIdentity: 'AllStaff', AccessRight: 'RestrictAccess' }]) }));
    expect(f).toMatchObject({ status: 'violation' });
    expect(f!.summary).toContain('is restricted to All Staff, not the members of senders@contoso.example as declared');
    expect(f!.remediation).toContain("Remove-ApplicationAccessPolicy -Identity 't\\it''s'");
  });

  it('mailbox scopes need a policy for each mailbox, matched by display name or address', () => {
    const apps = [{ ...declared, scope: { mailboxes: ['payroll@contoso.example', 'jordan@contoso.example'] } }];
    const policies = [{ Identity: 'p', AppId: APP.toUpperCase(), ScopeName: 'Payroll', ScopeIdentity: 'payroll', AccessRight: 'RestrictAccess' }];
    const [f, ...rest] = mailApps(live({ applicationAccessPolicies: ok(policies) }), apps);
    expect(rest).toEqual([]);
    expect(f!.remediation).toContain("-PolicyScopeGroupId 'jordan@contoso.example'");
    expect(f!.remediation).not.toContain("'payroll@contoso.example'");
  });

  it('secrets: not allowed, never expiring, living or aged beyond the maximum; expired ones and allowed ones are fine; no hint or secret in the finding', () => {
    const secret = (keyId: string, startDateTime: string, endDateTime: string | null) => ({ keyId, displayName: `s-${keyId}`, hint: 'Zq7', secretText: null, startDateTime, endDateTime, customKeyIdentifier: null });
    const creds = [
      secret('a0000000-0000-4000-8000-000000000001', '2026-05-01T00:00:00Z', null),
      secret('a0000000-0000-4000-8000-000000000002', '2026-05-01T00:00:00Z', '2036-05-01T00:00:00Z'),
      secret('a0000000-0000-4000-8000-000000000003', '2025-01-01T00:00:00Z', '2026-07-01T00:00:00Z'),
      secret('a0000000-0000-4000-8000-000000000004', '2026-05-01T00:00:00Z', '2026-10-01T00:00:00Z'),
      secret('a0000000-0000-4000-8000-000000000005', '2024-01-01T00:00:00Z', '2026-01-01T00:00:00Z'),
    ];
    const l = live({ applications: ok([{ id: 'obj-app', appId: APP, displayName: 'Statement Mailer', passwordCredentials: creds, keyCredentials: [] }]) });
    const notAllowed = mailApps(l);
    expect(notAllowed.map((f) => f.check)).toEqual(['credential-not-allowed', 'credential-not-allowed', 'credential-not-allowed', 'credential-not-allowed']);
    const allowed = mailApps(l, [{ ...declared, credentials: ['certificate', 'secret'], maxSecretAgeDays: 180 }]);
    expect(allowed.map((f) => [f.check, f.summary.replace(/.*: a secret that /, '')])).toEqual([
      ['long-lived-secret', 'never expires, more than the 180 days declared.'],
      ['long-lived-secret', 'lives 3653 days, more than the 180 days declared.'],
      ['long-lived-secret', 'lives 546 days and was created 516 days ago, more than the 180 days declared.'],
    ]);
    for (const f of [...notAllowed, ...allowed]) {
      expect(f.owner).toEqual(appOwner);
      expect(JSON.stringify(f)).not.toContain('Zq7');
      expect(JSON.stringify(f)).not.toContain('secretText');
      expect(f.remediation).toMatch(/az ad app credential delete --id e4a1c9b2-6d3f-4f8a-9b2c-7d1e5f3a8c64 --key-id a0000000-/);
    }
  });

  it('a certificate is a finding only where the declaration allows federation alone; an app with no registration here cannot show its credentials', () => {
    expect(mailApps(live(), [{ ...declared, credentials: ['federated'] }]).map((f) => f.check)).toEqual(['credential-not-allowed']);
    const [f] = mailApps(live({ applications: ok([]) }));
    expect(f).toMatchObject({ check: 'application-not-in-tenant', status: 'violation', owner: appOwner });
  });

  it('a failed read makes the controls that need it not evaluated, never clean', () => {
    const r = run(live({ applications: failed, appPermissions: { ...failed, endpoint: '/servicePrincipals/{id}/appRoleAssignedTo' }, mailAppOwners: undefined }));
    expect(r.findings.filter((f) => f.control.id.startsWith('MAIL.APPS.')).map((f) => [f.control.id, f.status])).toEqual([
      ['MAIL.APPS.1', 'not-evaluated'],
      ['MAIL.APPS.3', 'not-evaluated'],
    ]);
    expect(r.incomplete.map((i) => i.endpoint).sort()).toEqual(['/applications', '/servicePrincipals/{id}/appRoleAssignedTo']);
  });
});

describe('MailApplications construct', () => {
  it('names the construct path and property of each bad value', () => {
    const bad = build((p) => {
      new MailApplications(p, 'MailApps', {
        owner,
        apps: [
          { appId: 'nope', displayName: '', owner: { ...appOwner, contact: 'x' }, permissions: { graph: ['Mail.Send', 'Files.Read.All'], exchange: ['EWS.AccessAsUser.All'] }, scope: { group: 'senders@contoso.example', mailboxes: ['a@contoso.example'] } as never, maxSecretAgeDays: 0 },
          { ...declared, permissions: {}, scope: { mailboxes: ['not an address'] }, credentials: [] },
          { ...declared },
        ],
      });
    });
    const lines = errorLines(bad);
    for (const want of [
      'apps[0].appId: "nope" must be a GUID',
      'apps[0].displayName: is required',
      'apps[0].owner.contact: "x" must be a user principal name',
      'apps[0].permissions.graph[1]: "Files.Read.All" is not a mail application permission of Microsoft Graph',
      'apps[0].permissions.exchange[0]: "EWS.AccessAsUser.All" is not a mail application permission of Office 365 Exchange Online',
      'apps[0].scope: must be { group: "<address of a mail-enabled security group>" } or { mailboxes: ["<address>", …] }, one of the two',
      'apps[0].maxSecretAgeDays: must be a whole number of days from 1 to 730, not 0',
      'apps[1].permissions: name at least one mail permission',
      'apps[1].scope.mailboxes[0]: "not an address" must be',
      'apps[1].credentials: allow at least one kind of credential',
      `apps[2].appId: ${APP} is already declared by apps[1]; declare each app once`,
    ]) {
      expect(lines.some((l) => l.startsWith('test/Posture/MailApps: ') && l.includes(want)), `${want}\n${lines.join('\n')}`).toBe(true);
    }
  });

  it('writes each app with its defaults and permissions spelled as the API does', () => {
    const m = manifestWith([{ ...declared, appId: APP.toUpperCase(), permissions: { graph: ['mail.send', 'Mail.Send'], exchange: ['FULL_ACCESS_AS_APP'] } }]);
    expect(m.desired.mailApps).toEqual({
      apps: [{ appId: APP, displayName: 'Statement Mailer', owner: appOwner, permissions: { graph: ['Mail.Send'], exchange: ['full_access_as_app'] }, scope: { group: 'senders@contoso.example' }, credentials: ['certificate', 'federated'], maxSecretAgeDays: 180 }],
    });
  });
});
