import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningSimulator } from '../../simulator/index.js';
import { mintToken, GRAPH_AUDIENCE } from '../../simulator/index.js';
import { all, graph, refPath, start } from './helpers.js';

const ref = (file: string) => JSON.parse(readFileSync(refPath(file), 'utf8'));
const keysOf = (o: object) => Object.keys(o).filter((k) => !k.startsWith('@odata')).sort();

describe('Graph simulator', () => {
  let sim: RunningSimulator;
  beforeAll(async () => {
    sim = await start({ scenario: 'compliant', generate: { mailboxes: 250 } });
  });
  afterAll(() => sim.stop());

  describe('authentication and authorisation', () => {
    it('requires a bearer token and answers in Graph error shape', async () => {
      const r = await graph(sim, 'GET', '/v1.0/users', { token: null });
      expect(r.status).toBe(401);
      expect(r.body.error.code).toBe('InvalidAuthenticationToken');
      expect(typeof r.body.error.message).toBe('string');
      expect(r.body.error.innerError['request-id']).toMatch(/^[0-9a-f-]{36}$/);
      expect(r.body.error.innerError.date).toMatch(/^\d{4}-\d\d-\d\dT/);
      expect(keysOf(r.body.error).sort()).toEqual(keysOf(ref('graph/error-response.example.json').error).sort());
    });

    it('refuses an expired token, a token for another API and one for another tenant', async () => {
      const expired = mintToken({ tenantId: sim.tenantId, roles: ['User.Read.All'], now: Date.now() - 7200_000 });
      expect((await graph(sim, 'GET', '/v1.0/users', { token: expired })).body.error.message).toMatch(/expired/);
      expect((await graph(sim, 'GET', '/v1.0/users', { token: sim.token('exchange') })).status).toBe(401);
      const other = mintToken({ audience: GRAPH_AUDIENCE, tenantId: '00000000-0000-0000-0000-000000000001', roles: ['User.Read.All'] });
      expect((await graph(sim, 'GET', '/v1.0/users', { token: other })).status).toBe(401);
    });

    it('answers 403 Authorization_RequestDenied when the token lacks the permission', async () => {
      const token = sim.token('graph', { roles: ['User.Read.All'] });
      const r = await graph(sim, 'GET', '/v1.0/identity/conditionalAccess/policies', { token });
      expect(r.status).toBe(403);
      expect(r.body.error.code).toBe('Authorization_RequestDenied');
      expect((await graph(sim, 'GET', '/v1.0/users?$top=1', { token })).status).toBe(200);
    });

    it('unknown segments and methods are refused like Graph', async () => {
      expect(await graph(sim, 'GET', '/v1.0/nothingHere')).toMatchObject({ status: 400, body: { error: { code: 'BadRequest' } } });
      expect((await graph(sim, 'PUT', '/v1.0/users')).status).toBe(405);
      expect((await graph(sim, 'GET', '/v2.0/users')).status).toBe(400);
    });
  });

  describe('paging, $select, $filter', () => {
    it('pages users with an absolute @odata.nextLink at the default size of 100', async () => {
      const first = await graph(sim, 'GET', '/v1.0/users');
      expect(first.body.value).toHaveLength(100);
      const next = new URL(first.body['@odata.nextLink']);
      expect(next.origin).toBe(sim.graphUrl);
      expect(next.searchParams.get('$skiptoken')).toBeTruthy();
      const { items, pages } = await all(sim, '/v1.0/users');
      expect(items).toHaveLength(263);
      expect(pages).toBe(3);
      expect(new Set(items.map((u) => u.id)).size).toBe(263);
    });

    it('honours $top up to 999 and keeps $select and $top in the next link', async () => {
      const { items, pages } = await all(sim, '/v1.0/users?$top=999&$select=id,userPrincipalName');
      expect(pages).toBe(1);
      expect(Object.keys(items[0]).sort()).toEqual(['id', 'userPrincipalName']);
      const page = await graph(sim, 'GET', '/v1.0/users?$top=50&$select=id');
      const next = new URL(page.body['@odata.nextLink']);
      expect(next.searchParams.get('$top')).toBe('50');
      expect(next.searchParams.get('$select')).toBe('id');
      expect((await graph(sim, 'GET', '/v1.0/users?$top=1000')).status).toBe(400);
      expect((await graph(sim, 'GET', '/v1.0/users?$select=nope')).body.error.message).toMatch(/Could not find a property named 'nope'/);
    });

    it('filters users by userPrincipalName and accountEnabled', async () => {
      const r = await graph(sim, 'GET', `/v1.0/users?$filter=userPrincipalName eq 'user42@tailspintoys.example'&$select=id,accountEnabled`);
      expect(r.body.value).toEqual([{ id: expect.any(String), accountEnabled: true }]);
      const byUpn = await graph(sim, 'GET', `/v1.0/users?$filter=${encodeURIComponent("userPrincipalName eq 'Casey.Lee@tailspintoys.example'")}`);
      expect(byUpn.body.value.map((u: { displayName: string }) => u.displayName)).toEqual(['Casey Lee']);
      const disabled = await all(sim, '/v1.0/users?$filter=accountEnabled eq false');
      expect(disabled.items).toEqual([]);
      expect((await graph(sim, 'GET', `/v1.0/users?$filter=jobTitle eq 'x'`)).body.error.code).toBe('Request_UnsupportedQuery');
      expect((await graph(sim, 'GET', `/v1.0/users?$filter=displayName has 'x'`)).status).toBe(400);
    });

    it('refuses a page token it did not issue', async () => {
      expect((await graph(sim, 'GET', '/v1.0/users?$skiptoken=garbage')).body.error.code).toBe('Directory_ExpiredPageToken');
    });
  });

  describe('documented shapes', () => {
    it('conditional access policies carry every property of the documented policy', async () => {
      const r = await graph(sim, 'GET', '/v1.0/identity/conditionalAccess/policies');
      const documented = ref('graph/conditionalAccessPolicy-get.response.json');
      for (const p of r.body.value) {
        for (const k of ['id', 'displayName', 'createdDateTime', 'modifiedDateTime', 'state', 'conditions', 'grantControls', 'sessionControls']) expect(p).toHaveProperty(k);
        for (const k of Object.keys(documented.conditions)) expect(p.conditions).toHaveProperty(k);
        for (const k of Object.keys(documented.conditions.users)) expect(p.conditions.users).toHaveProperty(k);
      }
    });

    it('answers conditional access policies with the annotations and server defaults real Graph sends', async () => {
      const r = await graph(sim, 'GET', '/v1.0/identity/conditionalAccess/policies');
      for (const p of r.body.value) {
        expect(p.grantControls).toMatchObject({ customAuthenticationFactors: [], termsOfUse: [] });
        // A policy stores its strength by id; Graph answers with the whole strength expanded.
        expect(p.grantControls.authenticationStrength).toEqual(
          p.displayName === 'EP - Privileged roles: phishing-resistant MFA'
            ? expect.objectContaining({ id: '00000000-0000-0000-0000-000000000004', displayName: 'Phishing-resistant MFA', policyType: 'builtIn', allowedCombinations: ['windowsHelloForBusiness', 'fido2', 'x509CertificateMultiFactor'], combinationConfigurations: [] })
            : null,
        );
        expect(p.grantControls['authenticationStrength@odata.context']).toBe(`${sim.graphUrl}/v1.0/$metadata#identity/conditionalAccess/policies('${p.id}')/grantControls/authenticationStrength/$entity`);
        expect(p.conditions.applications).toMatchObject({ includeUserActions: [], includeAuthenticationContextClassReferences: [], applicationFilter: null });
        expect(p.conditions.users).toMatchObject({ includeGuestsOrExternalUsers: null, excludeGuestsOrExternalUsers: null });
      }
      expect(r.body.value.some((p: { sessionControls: { disableResilienceDefaults?: boolean } | null }) => p.sessionControls?.disableResilienceDefaults === false)).toBe(true);
      const one = await graph(sim, 'GET', `/v1.0/identity/conditionalAccess/policies/${r.body.value[0].id}`);
      expect(one.body.grantControls).toHaveProperty(['authenticationStrength@odata.context']);
      const stored = sim.tenant.graph.conditionalAccessPolicies.get(r.body.value[0].id)!;
      expect(stored['grantControls']).not.toHaveProperty(['authenticationStrength@odata.context']);
      const acrp = await graph(sim, 'GET', '/v1.0/policies/adminConsentRequestPolicy');
      expect(acrp.body.reviewers.map((x: { query: string }) => x.query)).toContainEqual(expect.stringMatching(/^\/v1\.0\/users\//));
    });

    it('authorizationPolicy has the documented fields, the newer permissionGrantPolicyIdsAssignedToDefaultUserRole, and the v1.0 mirror', async () => {
      const v1 = await graph(sim, 'GET', '/v1.0/policies/authorizationPolicy');
      for (const k of keysOf(ref('graph/authorizationPolicy-get.response.json'))) expect(v1.body).toHaveProperty(k);
      expect(v1.body.permissionGrantPolicyIdsAssignedToDefaultUserRole).toEqual(v1.body.defaultUserRolePermissions.permissionGrantPoliciesAssigned);
      const beta = await graph(sim, 'GET', '/beta/policies/authorizationPolicy');
      expect(beta.body.defaultUserRolePermissions).not.toHaveProperty('permissionGrantPoliciesAssigned');
      expect(beta.body['@odata.context']).toContain('/beta/$metadata#policies/authorizationPolicy/$entity');
    });

    it('adminConsentRequestPolicy, domains and messageRules have the documented fields', async () => {
      const acrp = await graph(sim, 'GET', '/v1.0/policies/adminConsentRequestPolicy');
      expect(keysOf(acrp.body)).toEqual(keysOf(ref('graph/adminConsentRequestPolicy-get.response.json')));
      const domains = await graph(sim, 'GET', '/v1.0/domains');
      for (const k of keysOf(ref('graph/domains-list.response.json').value[0])) expect(domains.body.value[0]).toHaveProperty(k);
      const taylor = (await graph(sim, 'GET', `/v1.0/users/taylor.nguyen@tailspintoys.example`)).body.id;
      const rules = await graph(sim, 'GET', `/v1.0/users/${taylor}/mailFolders/inbox/messageRules`);
      for (const k of keysOf(ref('graph/messageRules-list.response.json').value[1])) expect(rules.body.value[0]).toHaveProperty(k);
      expect(rules.body['@odata.context']).toContain("mailFolders('inbox')/messageRules");
    });
  });

  describe('conditional access writes', () => {
    const body = (o: Record<string, unknown> = {}) => ({
      displayName: 'Test policy',
      state: 'enabledForReportingButNotEnforced',
      conditions: { users: { includeUsers: ['All'] }, applications: { includeApplications: ['All'] }, clientAppTypes: ['all'], signInRiskLevels: ['high'] },
      grantControls: { operator: 'OR', builtInControls: ['mfa'] },
      ...o,
    });

    it('POST creates with 201, server-side defaults and read-only fields; PATCH is partial; DELETE is 204', async () => {
      const created = await graph(sim, 'POST', '/v1.0/identity/conditionalAccess/policies', { body: body() });
      expect(created.status).toBe(201);
      expect(created.headers.get('location')).toContain(`/policies/${created.body.id}`);
      expect(created.body).toMatchObject({ templateId: null, modifiedDateTime: null, sessionControls: null, conditions: { platforms: null, locations: null, userRiskLevels: [], users: { excludeUsers: [], includeGuestsOrExternalUsers: null } } });
      expect(created.body.createdDateTime).toMatch(/Z$/);

      const patched = await graph(sim, 'PATCH', `/v1.0/identity/conditionalAccess/policies/${created.body.id}`, { body: { state: 'enabled' } });
      expect(patched.status).toBe(204);
      const read = await graph(sim, 'GET', `/v1.0/identity/conditionalAccess/policies/${created.body.id}`);
      expect(read.body).toMatchObject({ state: 'enabled', displayName: 'Test policy', grantControls: { builtInControls: ['mfa'] } });
      expect(read.body.modifiedDateTime).toMatch(/Z$/);

      expect((await graph(sim, 'DELETE', `/v1.0/identity/conditionalAccess/policies/${created.body.id}`)).status).toBe(204);
      expect((await graph(sim, 'GET', `/v1.0/identity/conditionalAccess/policies/${created.body.id}`)).status).toBe(404);
    });

    it.each([
      ['an unknown state', { state: 'on' }, /Requested value 'on' was not found for 'state'/],
      ['an unknown risk level', { conditions: { users: { includeUsers: ['All'] }, applications: { includeApplications: ['All'] }, signInRiskLevels: ['severe'] } }, /'severe'/],
      ['an unknown grant control', { grantControls: { operator: 'OR', builtInControls: ['smile'] } }, /'smile'/],
      ['no users condition', { conditions: { users: {}, applications: { includeApplications: ['All'] }, signInRiskLevels: ['high'] } }, /Users condition/],
      ['no conditions', { conditions: undefined }, /'conditions' is missing/],
      ['everyTime without a risk condition', {
        conditions: { users: { includeUsers: ['All'] }, applications: { includeApplications: ['All'] } },
        sessionControls: { signInFrequency: { isEnabled: true, frequencyInterval: 'everyTime', authenticationType: 'primaryAndSecondaryAuthentication' } },
      }, /every time requires a user risk or sign-in risk condition/],
      ['passwordChange without AND and MFA', { conditions: { users: { includeUsers: ['All'] }, applications: { includeApplications: ['All'] }, userRiskLevels: ['high'] }, grantControls: { operator: 'OR', builtInControls: ['passwordChange'] } }, /combined with MFA/],
      ['block with another control', { grantControls: { operator: 'OR', builtInControls: ['block', 'mfa'] } }, /Block cannot be combined/],
      ['a read-only field', { createdDateTime: '2020-01-01T00:00:00Z' }, /read-only/],
    ])('refuses %s with 400', async (_name, over, message) => {
      const r = await graph(sim, 'POST', '/v1.0/identity/conditionalAccess/policies', { body: body(over) });
      expect(r.status).toBe(400);
      expect(r.body.error.message).toMatch(message);
    });

    it('refuses a PATCH that would make the policy invalid, and leaves it unchanged', async () => {
      const list = await graph(sim, 'GET', '/v1.0/identity/conditionalAccess/policies');
      const legacy = list.body.value.find((p: { displayName: string }) => p.displayName === 'EP - Block legacy authentication');
      const r = await graph(sim, 'PATCH', `/v1.0/identity/conditionalAccess/policies/${legacy.id}`, {
        body: { sessionControls: { signInFrequency: { isEnabled: true, frequencyInterval: 'everyTime' } } },
      });
      expect(r.status).toBe(400);
      const { '@odata.context': _context, ...after } = (await graph(sim, 'GET', `/v1.0/identity/conditionalAccess/policies/${legacy.id}`)).body;
      expect(after).toEqual(legacy);
    });
  });

  describe('consent and identity writes', () => {
    it('PATCH authorizationPolicy is partial and validates grant policy ids', async () => {
      const r = await graph(sim, 'PATCH', '/v1.0/policies/authorizationPolicy', {
        body: { permissionGrantPolicyIdsAssignedToDefaultUserRole: ['ManagePermissionGrantsForSelf.microsoft-user-default-low'] },
      });
      expect(r.status).toBe(204);
      const after = (await graph(sim, 'GET', '/v1.0/policies/authorizationPolicy')).body;
      expect(after.permissionGrantPolicyIdsAssignedToDefaultUserRole).toEqual(['ManagePermissionGrantsForSelf.microsoft-user-default-low']);
      expect(after.defaultUserRolePermissions.allowedToCreateApps).toBe(false);
      expect((await graph(sim, 'PATCH', '/v1.0/policies/authorizationPolicy', { body: { permissionGrantPolicyIdsAssignedToDefaultUserRole: ['ManagePermissionGrantsForSelf.nope'] } })).status).toBe(400);
      expect((await graph(sim, 'PATCH', '/v1.0/policies/authorizationPolicy', { body: { notAField: true } })).status).toBe(400);
    });

    it('PUT adminConsentRequestPolicy replaces it; enabling without reviewers is refused', async () => {
      const casey = (await graph(sim, 'GET', '/v1.0/users/casey.lee@tailspintoys.example')).body.id;
      const put = { isEnabled: true, notifyReviewers: false, remindersEnabled: true, requestDurationInDays: 7, reviewers: [{ query: `/users/${casey}`, queryType: 'MicrosoftGraph' }] };
      expect((await graph(sim, 'PUT', '/v1.0/policies/adminConsentRequestPolicy', { body: put })).status).toBe(204);
      expect((await graph(sim, 'GET', '/v1.0/policies/adminConsentRequestPolicy')).body).toMatchObject({ ...put, reviewers: [{ ...put.reviewers[0], queryRoot: null }], version: 4 });
      expect((await graph(sim, 'PUT', '/v1.0/policies/adminConsentRequestPolicy', { body: { ...put, reviewers: [] } })).status).toBe(400);
    });

    it('lists and deletes delegated permission grants', async () => {
      const grants = (await graph(sim, 'GET', `/v1.0/oauth2PermissionGrants?$filter=consentType eq 'Principal'`)).body.value;
      expect(grants).toHaveLength(1);
      expect((await graph(sim, 'DELETE', `/v1.0/oauth2PermissionGrants/${grants[0].id}`)).status).toBe(204);
      expect((await graph(sim, 'DELETE', `/v1.0/oauth2PermissionGrants/${grants[0].id}`)).status).toBe(404);
    });

    it('reads and deletes inbox rules; a user without a mailbox is refused as Exchange does', async () => {
      const rules = await graph(sim, 'GET', '/v1.0/users/user3@tailspintoys.example/mailFolders/inbox/messageRules');
      expect(rules.body.value.map((r: { displayName: string }) => r.displayName)).toContain('Newsletters');
      const id = rules.body.value[0].id;
      expect((await graph(sim, 'DELETE', `/v1.0/users/user3@tailspintoys.example/mailFolders/inbox/messageRules/${id}`)).status).toBe(204);
      expect((await graph(sim, 'GET', '/v1.0/users/user3@tailspintoys.example/mailFolders/inbox/messageRules')).body.value.map((r: { id: string }) => r.id)).not.toContain(id);
      const bg = await graph(sim, 'GET', '/v1.0/users/bg-alpha@tailspintoys.example/mailFolders/inbox/messageRules');
      expect(bg).toMatchObject({ status: 404, body: { error: { code: 'MailboxNotEnabledForRESTAPI' } } });
      expect((await graph(sim, 'GET', '/v1.0/users/nobody@tailspintoys.example/mailFolders/inbox/messageRules')).body.error.code).toBe('ErrorInvalidUser');
    });

    it('revokes sign-in sessions and confirms a user compromised', async () => {
      const r = await graph(sim, 'POST', '/v1.0/users/morgan.reed@tailspintoys.example/revokeSignInSessions');
      expect(r.body).toEqual({ ...ref('graph/user-revokeSignInSessions.response.json'), '@odata.context': `${sim.graphUrl}/v1.0/$metadata#Edm.Boolean` });
      const morgan = (await graph(sim, 'GET', '/v1.0/users/morgan.reed@tailspintoys.example')).body;
      expect(Date.parse(morgan.signInSessionsValidFromDateTime)).toBeGreaterThan(Date.parse('2026-01-01'));
      expect((await graph(sim, 'POST', '/v1.0/identityProtection/riskyUsers/confirmCompromised', { body: { userIds: [morgan.id] } })).status).toBe(204);
      const risky = await graph(sim, 'GET', `/v1.0/identityProtection/riskyUsers/${morgan.id}`);
      expect(risky.body).toMatchObject({ riskLevel: 'high', riskState: 'confirmedCompromised', riskDetail: 'adminConfirmedUserCompromised' });
      const detections = await graph(sim, 'GET', '/v1.0/identityProtection/riskDetections');
      expect(detections.body.value[0]).toHaveProperty('riskEventType');
    });

    it('finds privileged users through role assignments', async () => {
      const r = await graph(sim, 'GET', `/v1.0/roleManagement/directory/roleAssignments?$filter=roleDefinitionId eq '62e90394-69f5-4237-9190-012177145e10'`);
      expect(r.body.value).toHaveLength(3);
      expect(r.body.value[0]).toMatchObject({ directoryScopeId: '/' });
    });
  });
});

describe('Graph simulator: the creates a rollback uses', () => {
  let sim: RunningSimulator;
  beforeAll(async () => {
    sim = await start({ scenario: 'drifted' });
  });
  afterAll(() => sim.stop());

  it('creates a delegated permission grant, validating it as Graph does', async () => {
    const [grant] = (await graph(sim, 'GET', '/v1.0/oauth2PermissionGrants')).body.value;
    const { id, ...fields } = grant;
    expect((await graph(sim, 'POST', '/v1.0/oauth2PermissionGrants', { body: fields })).status).toBe(409);
    expect((await graph(sim, 'DELETE', `/v1.0/oauth2PermissionGrants/${id}`)).status).toBe(204);
    const created = await graph(sim, 'POST', '/v1.0/oauth2PermissionGrants', { body: fields });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject(fields);
    expect(created.body.id).not.toBe(id);
    expect((await graph(sim, 'GET', `/v1.0/oauth2PermissionGrants/${created.body.id}`)).body).toMatchObject(fields);
    expect((await graph(sim, 'POST', '/v1.0/oauth2PermissionGrants', { body: { ...fields, consentType: 'Everyone' } })).status).toBe(400);
    expect((await graph(sim, 'POST', '/v1.0/oauth2PermissionGrants', { body: { ...fields, clientId: '00000000-0000-0000-0000-0000000000ff' } })).status).toBe(404);
  });

  it('creates an inbox rule and reads one rule by id', async () => {
    const user = 'morgan.reed@tailspintoys.example';
    const base = `/v1.0/users/${user}/mailFolders/inbox/messageRules`;
    const rule = { displayName: 'Move newsletters', sequence: 9, isEnabled: true, conditions: { subjectContains: ['newsletter'] }, actions: { stopProcessingRules: true } };
    expect((await graph(sim, 'POST', base, { body: { ...rule, sequence: 0 } })).status).toBe(400);
    const created = await graph(sim, 'POST', base, { body: rule });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ ...rule, hasError: false, isReadOnly: false });
    expect((await graph(sim, 'GET', `${base}/${encodeURIComponent(created.body.id)}`)).body).toMatchObject(rule);
    expect((await graph(sim, 'GET', base)).body.value.map((r: { displayName: string }) => r.displayName)).toContain('Move newsletters');
    expect((await graph(sim, 'GET', `${base}/AQAAAnone=`)).status).toBe(404);
  });

  it('addresses a rule whose base64 id holds "/" and "+" by its percent-encoded id', async () => {
    const user = sim.tenant.graph.users.findBy('userPrincipalName', 'morgan.reed@tailspintoys.example')[0]!;
    const id = 'AQAAA/x+y0=';
    sim.tenant.inboxRules.add(user.id, { id, displayName: 'Slash', sequence: 12, isEnabled: true, conditions: {}, actions: { stopProcessingRules: true } });
    const path = `/v1.0/users/${user.id}/mailFolders/inbox/messageRules/${encodeURIComponent(id)}`;
    expect((await graph(sim, 'GET', path)).body).toMatchObject({ id, displayName: 'Slash' });
    expect((await graph(sim, 'DELETE', path)).status).toBe(204);
    expect((await graph(sim, 'GET', path)).status).toBe(404);
  });
});
