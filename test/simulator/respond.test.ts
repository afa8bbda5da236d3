import { readFileSync } from 'node:fs';
import { Agent } from 'undici';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { RunningSimulator } from '../../simulator/index.js';
import { loadScenario, ROLE_IDS, startSimulator } from '../../simulator/index.js';
import { parseScenario, ScenarioError } from '../../simulator/scenario/scenario.js';
import { all, exo, graph, refPath, start } from './helpers.js';

/*
 * What incident response needs from the simulator: Defender alerts under the security API's limit
 * and licence, user updates under Entra's role rules, authentication methods, group membership by
 * reference, risky-user dismissal, and signals that arrive on a timeline; served from the incident
 * scenario.
 */

const ref = (file: string) => JSON.parse(readFileSync(refPath(`graph-respond/${file}`), 'utf8'));
const keysOf = (o: object) => Object.keys(o).filter((k) => !k.startsWith('@odata')).sort();

const JAMIE = 'jamie.brooks@tailspintoys.example';
const ALEX = 'bd26d213-0d63-5d86-bba0-1922069c5a69';
const DREW = 'f904621c-b731-5f14-a9b2-119378930d24';
const BG_ALPHA = 'ea13fdf1-8566-51fc-8a45-12114c04685f';
const PAYROLL = '3466f310-35c6-5832-b114-fac2a6b289f1';
const DENIED = { status: 403, body: { error: { code: 'Authorization_RequestDenied', message: 'Insufficient privileges to complete the operation.' } } };

const userId = async (sim: RunningSimulator, upn: string): Promise<string> => (await graph(sim, 'GET', `/v1.0/users/${upn}`)).body.id;
const groupId = async (sim: RunningSimulator, name: string): Promise<string> => {
  const r = await graph(sim, 'GET', `/v1.0/groups?$filter=displayName eq '${name}'`);
  expect(r.body.value).toHaveLength(1);
  return r.body.value[0].id;
};

describe('incident scenario', () => {
  let sim: RunningSimulator;
  beforeAll(async () => {
    sim = await start({ scenario: 'incident' });
  });
  afterAll(() => sim.stop());

  it('loads with what it claims, by tier', async () => {
    const alerts = (await all(sim, '/v1.0/security/alerts_v2')).items;
    const bySeverity = (xs: Array<{ severity: string }>) => xs.reduce<Record<string, number>>((m, a) => ({ ...m, [a.severity]: (m[a.severity] ?? 0) + 1 }), {});
    expect(bySeverity(alerts)).toEqual({ high: 2, medium: 1, low: 1 });

    const jamie = await userId(sim, JAMIE);
    const phished = alerts.find((a) => a.evidence.some((e: { userAccount?: { azureAdUserId?: string } }) => e.userAccount?.azureAdUserId === jamie));
    expect(phished).toMatchObject({ serviceSource: 'microsoftDefenderForOffice365', category: 'InitialAccess', severity: 'high' });
    const rules = (await graph(sim, 'GET', `/v1.0/users/${jamie}/mailFolders/inbox/messageRules`)).body.value;
    const config = phished.evidence.find((e: { '@odata.type': string }) => e['@odata.type'] === '#microsoft.graph.security.mailboxConfigurationEvidence');
    expect(config).toMatchObject({ configurationType: 'mailForwardingRule', externalDirectoryObjectId: jamie, upn: JAMIE });
    const forward = rules.find((r: { id: string }) => r.id === config.configurationId);
    expect(forward.actions.forwardTo[0].emailAddress.address).not.toMatch(/@tailspintoys\.example$/);

    const breakGlass = alerts.filter((a) => a.evidence.some((e: { userAccount?: { azureAdUserId?: string } }) => e.userAccount?.azureAdUserId === BG_ALPHA));
    expect(breakGlass.map((a) => a.severity)).toEqual(['high']);
    const sharedAlert = alerts.find((a) => a.evidence.some((e: { externalDirectoryObjectId?: string }) => e.externalDirectoryObjectId === PAYROLL));
    expect(sharedAlert).toBeDefined();
    expect(alerts.find((a) => a.severity === 'low').evidence.some((e: { userAccount?: { azureAdUserId?: string } }) => e.userAccount?.azureAdUserId === DREW)).toBe(true);

    const detections = (await graph(sim, 'GET', '/v1.0/identityProtection/riskDetections')).body.value;
    const svc = await userId(sim, 'svc-scanner@tailspintoys.example');
    expect(detections.filter((d: { userId: string }) => d.userId === jamie).map((d: { riskEventType: string }) => d.riskEventType)).toEqual(['suspiciousInboxForwarding']);
    expect(detections.find((d: { userId: string }) => d.userId === ALEX)).toMatchObject({ riskEventType: 'unfamiliarFeatures', riskLevel: 'medium' });
    expect(detections.find((d: { userId: string }) => d.userId === svc)).toMatchObject({ riskEventType: 'anomalousToken' });

    const globalAdmins = (await graph(sim, 'GET', `/v1.0/roleManagement/directory/roleAssignments?$filter=roleDefinitionId eq '${ROLE_IDS.globalAdministrator}'`)).body.value;
    expect(globalAdmins.map((a: { principalId: string }) => a.principalId)).toContain(ALEX);

    const finance = await groupId(sim, 'Finance');
    expect((await graph(sim, 'GET', `/v1.0/groups/${finance}/members`)).body.value.map((m: { id: string }) => m.id)).toContain(jamie);
    const watchlist = await groupId(sim, 'Watchlist - sign-in every time');
    expect((await graph(sim, 'GET', `/v1.0/groups/${watchlist}/members`)).body.value).toEqual([]);

    const grants = (await graph(sim, 'GET', `/v1.0/oauth2PermissionGrants?$filter=principalId eq '${jamie}'`)).body.value;
    expect(grants.map((g: { scope: string }) => g.scope.split(' '))).toContainEqual(expect.arrayContaining(['Mail.ReadWrite']));

    const payrollRules = (await graph(sim, 'GET', `/v1.0/users/${PAYROLL}/mailFolders/inbox/messageRules`)).body.value;
    expect(payrollRules.some((r: { actions: { delete?: boolean; moveToFolder?: string } }) => r.actions.delete === true && r.actions.moveToFolder)).toBe(true);
    expect(sim.tenant.mailboxOf(PAYROLL)?.['RecipientTypeDetails']).toBe('SharedMailbox');
    expect(sim.tenant.mailboxOf(jamie)?.['RecipientTypeDetails']).toBe('UserMailbox');

    for (const id of [jamie, ALEX, svc, DREW, BG_ALPHA]) {
      const methods = (await graph(sim, 'GET', `/v1.0/users/${id}/authentication/methods`)).body.value;
      expect(methods.map((m: { '@odata.type': string }) => m['@odata.type'])).toContain('#microsoft.graph.passwordAuthenticationMethod');
    }
  });
});

describe('incident scenario, by identity tier', () => {
  let sim: RunningSimulator;
  beforeAll(async () => {
    sim = await start({ scenario: 'incident' });
  });
  afterAll(() => sim.stop());

  it('has one signalled identity in each tier, and the break-glass account outside them', async () => {
    // Tiers as the response policy orders them: the first that holds wins; break-glass accounts are in none.
    const breakGlass = new Set([BG_ALPHA, '4e9cce68-78c0-5d3a-a31d-db6c8a97d853']);
    const privileged = new Set((await all(sim, `/v1.0/roleManagement/directory/roleAssignments?$filter=roleDefinitionId eq '${ROLE_IDS.globalAdministrator}'`)).items.map((a) => a.principalId));
    const finance = await groupId(sim, 'Finance');
    const highValue = new Set((await graph(sim, 'GET', `/v1.0/groups/${finance}/members`)).body.value.map((m: { id: string }) => m.id));
    const tierOf = async (id: string): Promise<string> => {
      if (breakGlass.has(id)) return 'breakGlass';
      if (privileged.has(id)) return 'privileged';
      const user = (await graph(sim, 'GET', `/v1.0/users/${id}`)).body;
      if (/^svc-/.test(user.userPrincipalName)) return 'serviceAccount';
      if (highValue.has(id)) return 'highValue';
      const mailbox = (await exo(sim, 'Get-Mailbox', { Identity: id })).body.value?.[0];
      if (mailbox?.RecipientTypeDetails === 'SharedMailbox') return 'sharedMailbox';
      return 'standard';
    };

    const signalled = new Set<string>();
    for (const a of (await all(sim, '/v1.0/security/alerts_v2')).items) {
      for (const e of a.evidence) {
        const id = e.userAccount?.azureAdUserId ?? e.externalDirectoryObjectId;
        if (id) signalled.add(id);
      }
    }
    for (const d of (await graph(sim, 'GET', '/v1.0/identityProtection/riskDetections')).body.value) if (d.riskState === 'atRisk') signalled.add(d.userId);
    for (const u of (await graph(sim, 'GET', '/v1.0/identityProtection/riskyUsers')).body.value) if (u.riskState === 'atRisk') signalled.add(u.id);

    const byTier: Record<string, number> = {};
    for (const id of signalled) {
      const tier = await tierOf(id);
      byTier[tier] = (byTier[tier] ?? 0) + 1;
    }
    expect(byTier).toEqual({ privileged: 1, serviceAccount: 1, highValue: 1, sharedMailbox: 1, standard: 1, breakGlass: 1 });
  });
});

describe('Defender alerts', () => {
  let sim: RunningSimulator;
  beforeAll(async () => {
    sim = await start({ scenario: 'incident' });
  });
  afterAll(() => sim.stop());

  it('lists alerts in the documented shape, every evidence item typed', async () => {
    const r = await graph(sim, 'GET', '/v1.0/security/alerts_v2');
    expect(r.status).toBe(200);
    expect(r.body['@odata.context']).toBe(`${sim.graphUrl}/v1.0/$metadata#security/alerts_v2`);
    const documented = keysOf(ref('security-alert.resource.json'));
    for (const alert of r.body.value) {
      expect(alert['@odata.type']).toBe('#microsoft.graph.security.alert');
      expect(keysOf(alert)).toEqual(documented);
      expect(alert.evidence.length).toBeGreaterThan(0);
      for (const e of alert.evidence) {
        expect(e['@odata.type']).toMatch(/^#microsoft\.graph\.security\.[a-zA-Z]+Evidence$/);
        const name = e['@odata.type'].replace('#microsoft.graph.security.', '');
        const file = `security-${name}.resource.json`;
        if (['mailboxEvidence', 'analyzedMessageEvidence', 'userEvidence', 'mailboxConfigurationEvidence', 'oauthApplicationEvidence', 'urlEvidence'].includes(name)) {
          expect(keysOf(e).filter((k) => k !== 'detailedRoles')).toEqual(keysOf(ref(file)).filter((k) => k !== 'detailedRoles'));
        }
      }
    }
    const types = new Set(r.body.value.flatMap((a: { evidence: Array<{ '@odata.type': string }> }) => a.evidence.map((e) => e['@odata.type'])));
    for (const t of ['mailboxEvidence', 'analyzedMessageEvidence', 'userEvidence', 'mailboxConfigurationEvidence', 'oauthApplicationEvidence']) expect(types).toContain(`#microsoft.graph.security.${t}`);
  });

  it('filters on createdDateTime and lastUpdateDateTime with ge', async () => {
    const every = (await graph(sim, 'GET', '/v1.0/security/alerts_v2')).body.value as Array<{ createdDateTime: string; lastUpdateDateTime: string }>;
    const since = '2026-11-16T08:45:00Z';
    const r = await graph(sim, 'GET', `/v1.0/security/alerts_v2?$filter=createdDateTime ge ${since}`);
    expect(r.status).toBe(200);
    const expected = every.filter((a) => Date.parse(a.createdDateTime) >= Date.parse(since));
    expect(expected.length).toBeGreaterThan(0);
    expect(expected.length).toBeLessThan(every.length);
    expect(r.body.value.map((a: { id: string }) => a.id)).toEqual(expected.map((a) => (a as unknown as { id: string }).id));
    const u = await graph(sim, 'GET', `/v1.0/security/alerts_v2?$filter=lastUpdateDateTime ge ${since}`);
    expect(u.body.value.length).toBe(every.filter((a) => Date.parse(a.lastUpdateDateTime) >= Date.parse(since)).length);
    expect((await graph(sim, 'GET', `/v1.0/security/alerts_v2?$filter=title ge ${since}`)).status).toBe(400);
    expect((await graph(sim, 'GET', '/v1.0/security/alerts_v2?$filter=createdDateTime ge yesterday')).status).toBe(400);
  });

  it('pages with $top and @odata.nextLink, and gets one alert by id', async () => {
    const first = await graph(sim, 'GET', '/v1.0/security/alerts_v2?$top=3');
    expect(first.body.value).toHaveLength(3);
    expect(first.body['@odata.nextLink']).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/v1\.0\/security\/alerts_v2\?/);
    const { items, pages } = await all(sim, '/v1.0/security/alerts_v2?$top=3');
    expect(pages).toBe(2);
    expect(new Set(items.map((a) => a.id)).size).toBe(4);
    const one = await graph(sim, 'GET', `/v1.0/security/alerts_v2/${items[1].id}`);
    expect(one.body).toMatchObject({ '@odata.context': `${sim.graphUrl}/v1.0/$metadata#security/alerts_v2/$entity`, '@odata.type': '#microsoft.graph.security.alert', id: items[1].id });
    expect((await graph(sim, 'GET', '/v1.0/security/alerts_v2/da000000000000000000_0')).status).toBe(404);
  });

  it('needs SecurityAlert.Read.All or SecurityAlert.ReadWrite.All', async () => {
    expect(await graph(sim, 'GET', '/v1.0/security/alerts_v2', { token: sim.token('graph', { roles: ['IdentityRiskEvent.Read.All'] }) })).toMatchObject(DENIED);
    for (const role of ['SecurityAlert.Read.All', 'SecurityAlert.ReadWrite.All']) {
      expect((await graph(sim, 'GET', '/v1.0/security/alerts_v2', { token: sim.token('graph', { roles: [role] }) })).status).toBe(200);
    }
  });

  it('is refused to a tenant without a Defender licence', async () => {
    const scenario = loadScenario('incident');
    const unlicensed = await start({ scenario: { ...scenario, tenant: { ...scenario.tenant, licences: ['AAD_PREMIUM', 'AAD_PREMIUM_P2'] } } });
    try {
      const r = await graph(unlicensed, 'GET', '/v1.0/security/alerts_v2');
      expect(r.status).toBe(403);
      expect(r.body.error.code).not.toBe('Authorization_RequestDenied');
      expect((await graph(unlicensed, 'GET', '/v1.0/identityProtection/riskDetections')).status).toBe(200);
    } finally {
      await unlicensed.stop();
    }
  });

  it('the security API has its own per-app limit: a burst past it is answered 429 with Retry-After', async () => {
    const limited = await start({ scenario: 'incident', limits: { enabled: true, securityPerMinute: 3 } });
    try {
      const statuses: number[] = [];
      let last;
      for (let i = 0; i < 4; i++) {
        last = await graph(limited, 'GET', '/v1.0/security/alerts_v2?$top=1');
        statuses.push(last.status);
      }
      expect(statuses).toEqual([200, 200, 200, 429]);
      expect(last!.body.error.code).toBe('TooManyRequests');
      expect(Number(last!.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      // Other Graph routes are not counted against the security limit.
      expect((await graph(limited, 'GET', '/v1.0/users?$top=1')).status).toBe(200);
    } finally {
      await limited.stop();
    }
  });
});

describe('the timeline', () => {
  let sim: RunningSimulator;
  beforeEach(async () => {
    sim = await start({ scenario: 'incident' });
  });
  afterEach(() => sim.stop());

  it('shows a signal only once the clock passes its time', async () => {
    expect(sim.clock.now()).toBe('2026-11-16T09:00:00Z');
    const jamie = await userId(sim, JAMIE);
    const alertsFor = async () => (await graph(sim, 'GET', '/v1.0/security/alerts_v2?$filter=createdDateTime ge 2026-11-16T10:00:00Z')).body.value;
    const detectionsFor = async () => (await graph(sim, 'GET', `/v1.0/identityProtection/riskDetections?$filter=userId eq '${jamie}'`)).body.value;
    expect(await alertsFor()).toEqual([]);
    expect(await detectionsFor()).toHaveLength(1);
    expect((await graph(sim, 'GET', `/v1.0/identityProtection/riskyUsers/${jamie}`)).body.riskLevel).toBe('medium');

    sim.clock.advance(60 * 60_000); // 10:00, still before the second wave
    expect(await alertsFor()).toEqual([]);

    sim.clock.advance(5 * 60_000); // 10:05
    const later = await alertsFor();
    expect(later).toHaveLength(1);
    expect(later[0]).toMatchObject({ category: 'Exfiltration', createdDateTime: '2026-11-16T10:05:00Z' });
    expect((await detectionsFor()).map((d: { riskEventType: string }) => d.riskEventType).sort()).toEqual(['anomalousToken', 'suspiciousInboxForwarding']);
    expect((await graph(sim, 'GET', `/v1.0/identityProtection/riskyUsers/${jamie}`)).body.riskLevel).toBe('high');
    expect((await graph(sim, 'GET', '/v1.0/identityProtection/riskyUsers')).body.value.filter((u: { id: string }) => u.id === jamie)).toHaveLength(1);
  });

  it('a scenario\'s timeline and clock are checked when it loads', () => {
    const base = loadScenario('compliant');
    const bad = (patch: object) => () => parseScenario({ ...base, ...patch }, 'test.json');
    expect(bad({ timeline: [{ at: 'soon', alerts: [] }] })).toThrow(ScenarioError);
    expect(bad({ timeline: [{ at: 'soon', alerts: [] }] })).toThrow(/^test\.json: timeline\.0\.at: /);
    expect(bad({ timeline: [{ at: '2026-11-16T10:00:00Z', gremlins: [] }] })).toThrow(/timeline\.0/);
    expect(bad({ timeline: [{ at: '2026-11-16T10:00:00Z', alerts: [{ title: 'no id' }] }] })).toThrow(/timeline\.0\.alerts\.0\.id/);
    expect(bad({ clock: 'yesterday' })).toThrow(/clock/);
    expect(parseScenario({ ...base, clock: '2026-11-16T09:00:00Z', timeline: [{ at: '2026-11-16T10:00:00Z', riskyUsers: [] }] }, 'test.json').timeline).toHaveLength(1);
  });

  it('can be set straight to a time', async () => {
    sim.clock.set('2026-11-16T12:00:00Z');
    expect(sim.clock.now()).toBe('2026-11-16T12:00:00Z');
    expect((await all(sim, '/v1.0/security/alerts_v2')).items).toHaveLength(5);
  });
});

describe('incident response actions', () => {
  let sim: RunningSimulator;
  beforeEach(async () => {
    sim = await start({ scenario: 'incident' });
  });
  afterEach(() => sim.stop());

  const app = (roles: string[], wids: string[] = []) => sim.token('graph', { roles, wids });

  describe('PATCH /users/{id}', () => {
    it('disables an account with User.ReadWrite.All, and not without it', async () => {
      expect(await graph(sim, 'PATCH', `/v1.0/users/${DREW}`, { body: { accountEnabled: false }, token: app(['User.Read.All']) })).toMatchObject(DENIED);
      const r = await graph(sim, 'PATCH', `/v1.0/users/${DREW}`, { body: { accountEnabled: false }, token: app(['User.ReadWrite.All']) });
      expect(r.status).toBe(204);
      expect(r.body).toBeUndefined();
      expect((await graph(sim, 'GET', `/v1.0/users/${DREW}`)).body.accountEnabled).toBe(false);
    });

    it('an administrator target needs the app to hold a higher role', async () => {
      const body = { accountEnabled: false };
      expect(await graph(sim, 'PATCH', `/v1.0/users/${ALEX}`, { body, token: app(['User.ReadWrite.All']) })).toMatchObject(DENIED);
      expect(await graph(sim, 'PATCH', `/v1.0/users/${ALEX}`, { body, token: app(['User.ReadWrite.All'], [ROLE_IDS.userAdministrator]) })).toMatchObject(DENIED);
      expect((await graph(sim, 'GET', `/v1.0/users/${ALEX}`)).body.accountEnabled).toBe(true);
      expect((await graph(sim, 'PATCH', `/v1.0/users/${ALEX}`, { body, token: app(['User.ReadWrite.All'], [ROLE_IDS.privilegedAuthenticationAdministrator]) })).status).toBe(204);
      expect((await graph(sim, 'GET', `/v1.0/users/${ALEX}`)).body.accountEnabled).toBe(false);
    });

    it('forcing a password change needs a directory role: User Administrator for a user, Privileged Authentication Administrator for an admin', async () => {
      const documented = ref('user-update.example3-passwordProfile.request.json');
      const body = { passwordProfile: { ...documented.passwordProfile, forceChangePasswordNextSignIn: true, forceChangePasswordNextSignInWithMfa: true } };
      expect(await graph(sim, 'PATCH', `/v1.0/users/${DREW}`, { body, token: app(['User.ReadWrite.All']) })).toMatchObject(DENIED);
      expect((await graph(sim, 'PATCH', `/v1.0/users/${DREW}`, { body, token: app(['User.ReadWrite.All'], [ROLE_IDS.userAdministrator]) })).status).toBe(204);
      const drew = (await graph(sim, 'GET', `/v1.0/users/${DREW}?$select=id,passwordProfile,lastPasswordChangeDateTime`)).body;
      expect(drew.passwordProfile).toEqual({ forceChangePasswordNextSignIn: true, forceChangePasswordNextSignInWithMfa: true, password: null });
      expect(drew.lastPasswordChangeDateTime).toBe(sim.clock.now());
      // passwordProfile is returned only on $select.
      expect((await graph(sim, 'GET', `/v1.0/users/${DREW}`)).body).not.toHaveProperty('passwordProfile');
      expect((await graph(sim, 'GET', `/v1.0/users?$filter=id eq '${DREW}'`)).body.value[0]).not.toHaveProperty('passwordProfile');

      const flags = { passwordProfile: { forceChangePasswordNextSignIn: true } };
      expect(await graph(sim, 'PATCH', `/v1.0/users/${ALEX}`, { body: flags, token: app(['User.ReadWrite.All'], [ROLE_IDS.userAdministrator]) })).toMatchObject(DENIED);
      expect((await graph(sim, 'PATCH', `/v1.0/users/${ALEX}`, { body: flags, token: app(['User.ReadWrite.All'], [ROLE_IDS.privilegedAuthenticationAdministrator]) })).status).toBe(204);
      expect((await graph(sim, 'GET', `/v1.0/users/${ALEX}?$select=passwordProfile`)).body.passwordProfile.forceChangePasswordNextSignIn).toBe(true);
    });

    it('refuses what cannot be set, and a user that is not there', async () => {
      expect(await graph(sim, 'PATCH', `/v1.0/users/${DREW}`, { body: { accountEnabled: 'no' } })).toMatchObject({ status: 400 });
      expect(await graph(sim, 'PATCH', `/v1.0/users/${DREW}`, { body: { createdDateTime: '2020-01-01T00:00:00Z' } })).toMatchObject({ status: 400, body: { error: { message: "Property 'createdDateTime' is read-only and cannot be set." } } });
      expect(await graph(sim, 'PATCH', `/v1.0/users/${DREW}`, { body: { passwordProfile: { mustChange: true } } })).toMatchObject({ status: 400 });
      expect((await graph(sim, 'PATCH', '/v1.0/users/00000000-0000-0000-0000-000000000000', { body: { accountEnabled: false } })).status).toBe(404);
    });

    it('revokeSignInSessions answers as documented and moves signInSessionsValidFromDateTime to the clock', async () => {
      const r = await graph(sim, 'POST', `/v1.0/users/${DREW}/revokeSignInSessions`, { token: app(['User.ReadWrite.All']) });
      expect(r.status).toBe(200);
      expect(r.body).toEqual({ ...ref('user-revokeSignInSessions.response.json'), '@odata.context': `${sim.graphUrl}/v1.0/$metadata#Edm.Boolean` });
      expect((await graph(sim, 'GET', `/v1.0/users/${DREW}`)).body.signInSessionsValidFromDateTime).toBe(sim.clock.now());
      expect((await graph(sim, 'POST', '/v1.0/users/nobody@tailspintoys.example/revokeSignInSessions')).status).toBe(404);
    });
  });

  describe('authentication methods', () => {
    it('lists a user\'s methods, each typed', async () => {
      const jamie = await userId(sim, JAMIE);
      const r = await graph(sim, 'GET', `/v1.0/users/${jamie}/authentication/methods`, { token: app(['UserAuthenticationMethod.Read.All']) });
      expect(r.status).toBe(200);
      expect(r.body['@odata.context']).toBe(`${sim.graphUrl}/v1.0/$metadata#users('${jamie}')/authentication/methods`);
      const types = r.body.value.map((m: { '@odata.type': string }) => m['@odata.type']);
      expect(types).toEqual(expect.arrayContaining(['#microsoft.graph.passwordAuthenticationMethod', '#microsoft.graph.microsoftAuthenticatorAuthenticationMethod', '#microsoft.graph.phoneAuthenticationMethod']));
      const alex = (await graph(sim, 'GET', `/v1.0/users/${ALEX}/authentication/methods`)).body.value;
      const documented = ref('authentication-methods-list.response.json').value;
      for (const doc of documented) {
        const ours = alex.find((m: { '@odata.type': string }) => m['@odata.type'] === doc['@odata.type']);
        // The documented fido2 entry says creationDateTime where the resource says createdDateTime.
        expect(keysOf(ours)).toEqual(keysOf(doc).map((k) => (k === 'creationDateTime' ? 'createdDateTime' : k)).sort());
      }
      expect(await graph(sim, 'GET', `/v1.0/users/${jamie}/authentication/methods`, { token: app(['User.Read.All']) })).toMatchObject(DENIED);
    });

    it('deletes a method by its type\'s path, and never the password', async () => {
      const jamie = await userId(sim, JAMIE);
      const methods = (await graph(sim, 'GET', `/v1.0/users/${jamie}/authentication/methods`)).body.value;
      const attacker = methods.find((m: { displayName?: string }) => m.displayName === 'SM-A156B');
      const password = methods.find((m: { '@odata.type': string }) => m['@odata.type'] === '#microsoft.graph.passwordAuthenticationMethod');

      expect(await graph(sim, 'DELETE', `/v1.0/users/${jamie}/authentication/microsoftAuthenticatorMethods/${attacker.id}`, { token: app(['UserAuthenticationMethod.Read.All']) })).toMatchObject(DENIED);
      expect((await graph(sim, 'DELETE', `/v1.0/users/${jamie}/authentication/phoneMethods/${attacker.id}`)).status).toBe(404);
      const r = await graph(sim, 'DELETE', `/v1.0/users/${jamie}/authentication/microsoftAuthenticatorMethods/${attacker.id}`, { token: app(['UserAuthenticationMethod.ReadWrite.All']) });
      expect(r.status).toBe(204);
      const after = (await graph(sim, 'GET', `/v1.0/users/${jamie}/authentication/methods`)).body.value;
      expect(after.map((m: { id: string }) => m.id)).not.toContain(attacker.id);
      expect(after).toHaveLength(methods.length - 1);
      expect((await graph(sim, 'DELETE', `/v1.0/users/${jamie}/authentication/microsoftAuthenticatorMethods/${attacker.id}`)).status).toBe(404);

      const phone = after.find((m: { '@odata.type': string }) => m['@odata.type'] === '#microsoft.graph.phoneAuthenticationMethod');
      expect((await graph(sim, 'DELETE', `/v1.0/users/${jamie}/authentication/phoneMethods/${phone.id}`)).status).toBe(204);

      const refused = await graph(sim, 'DELETE', `/v1.0/users/${jamie}/authentication/passwordMethods/${password.id}`);
      expect(refused.status).toBe(400);
      expect(refused.body.error.code).toBe('badRequest');
      expect((await graph(sim, 'GET', `/v1.0/users/${jamie}/authentication/methods`)).body.value.map((m: { id: string }) => m.id)).toContain(password.id);
      expect((await graph(sim, 'DELETE', `/v1.0/users/${jamie}/authentication/passwordlessMethods/${password.id}`)).status).toBe(400);
    });

    it('a FIDO2 key may also be deleted with the passkey permission', async () => {
      const key = (await graph(sim, 'GET', `/v1.0/users/${BG_ALPHA}/authentication/methods`)).body.value.find((m: { '@odata.type': string }) => m['@odata.type'] === '#microsoft.graph.fido2AuthenticationMethod');
      expect(await graph(sim, 'DELETE', `/v1.0/users/${BG_ALPHA}/authentication/fido2Methods/${key.id}`, { token: app(['UserAuthenticationMethod.Read.All']) })).toMatchObject(DENIED);
      expect((await graph(sim, 'DELETE', `/v1.0/users/${BG_ALPHA}/authentication/fido2Methods/${key.id}`, { token: app(['UserAuthMethod-Passkey.ReadWrite.All']) })).status).toBe(204);
      expect(await graph(sim, 'DELETE', `/v1.0/users/${BG_ALPHA}/authentication/emailMethods/${key.id}`, { token: app(['UserAuthMethod-Passkey.ReadWrite.All']) })).toMatchObject(DENIED);
    });
  });

  describe('group membership', () => {
    it('adds a member by reference, refuses a duplicate, removes it, and 404s one that is not there', async () => {
      const watchlist = await groupId(sim, 'Watchlist - sign-in every time');
      const body = { '@odata.id': `https://graph.microsoft.com/v1.0/directoryObjects/${DREW}` };
      expect(ref('group-members-add.request.json')).toHaveProperty('@odata.id');
      expect(await graph(sim, 'POST', `/v1.0/groups/${watchlist}/members/$ref`, { body, token: app(['GroupMember.Read.All']) })).toMatchObject(DENIED);

      const token = app(['GroupMember.ReadWrite.All']);
      const added = await graph(sim, 'POST', `/v1.0/groups/${watchlist}/members/$ref`, { body, token });
      expect(added.status).toBe(204);
      expect(added.body).toBeUndefined();
      expect((await graph(sim, 'GET', `/v1.0/groups/${watchlist}/members`)).body.value.map((m: { id: string }) => m.id)).toEqual([DREW]);

      const again = await graph(sim, 'POST', `/v1.0/groups/${watchlist}/members/$ref`, { body, token });
      expect(again.status).toBe(400);
      expect(again.body.error.message).toMatch(/^One or more added object references already exist/);

      expect((await graph(sim, 'POST', `/v1.0/groups/${watchlist}/members/$ref`, { body: { '@odata.id': 'https://graph.microsoft.com/v1.0/directoryObjects/00000000-0000-0000-0000-000000000000' }, token })).status).toBe(404);
      expect((await graph(sim, 'POST', `/v1.0/groups/${watchlist}/members/$ref`, { body: { id: DREW }, token })).status).toBe(400);

      expect((await graph(sim, 'DELETE', `/v1.0/groups/${watchlist}/members/${DREW}/$ref`, { token })).status).toBe(204);
      expect((await graph(sim, 'GET', `/v1.0/groups/${watchlist}/members`)).body.value).toEqual([]);
      expect((await graph(sim, 'DELETE', `/v1.0/groups/${watchlist}/members/${DREW}/$ref`, { token })).status).toBe(404);
    });
  });

  describe('role assignments', () => {
    it('lists a role\'s active holders by roleDefinitionId, with the principal expanded', async () => {
      const path = `/v1.0/roleManagement/directory/roleAssignments?$filter=roleDefinitionId eq '${ROLE_IDS.globalAdministrator}'&$expand=principal`;
      const r = await graph(sim, 'GET', path, { token: app(['RoleManagement.Read.Directory']) });
      expect(r.status).toBe(200);
      expect(r.body['@odata.context']).toBe(`${sim.graphUrl}/v1.0/$metadata#roleManagement/directory/roleAssignments(principal())`);
      const holders = r.body.value;
      expect(holders.length).toBeGreaterThan(0);
      for (const a of holders) {
        expect(a.roleDefinitionId).toBe(ROLE_IDS.globalAdministrator);
        expect(a.principal).toMatchObject({ '@odata.type': '#microsoft.graph.user', id: a.principalId });
      }
      expect(holders.map((a: { principal: { userPrincipalName: string } }) => a.principal.userPrincipalName)).toEqual(expect.arrayContaining(['alex.kim@tailspintoys.example', 'bg-alpha@tailspintoys.example']));
      const plain = await graph(sim, 'GET', `/v1.0/roleManagement/directory/roleAssignments?$filter=roleDefinitionId eq '${ROLE_IDS.globalAdministrator}'`);
      expect(plain.body.value.map((a: { id: string }) => a.id)).toEqual(holders.map((a: { id: string }) => a.id));
      expect(plain.body.value[0]).not.toHaveProperty('principal');
      expect((await graph(sim, 'GET', '/v1.0/roleManagement/directory/roleAssignments?$expand=roleDefinitionX')).status).toBe(400);
      expect(await graph(sim, 'GET', path, { token: app(['User.Read.All']) })).toMatchObject(DENIED);
    });
  });

  describe('identity protection', () => {
    it('dismisses a risky user as documented', async () => {
      const body = { userIds: [ALEX] };
      expect(keysOf(ref('riskyUsers-dismiss.request.json'))).toEqual(keysOf(body));
      expect(await graph(sim, 'POST', '/v1.0/identityProtection/riskyUsers/dismiss', { body, token: app(['IdentityRiskyUser.Read.All']) })).toMatchObject(DENIED);
      const r = await graph(sim, 'POST', '/v1.0/identityProtection/riskyUsers/dismiss', { body, token: app(['IdentityRiskyUser.ReadWrite.All']) });
      expect(r.status).toBe(204);
      expect((await graph(sim, 'GET', `/v1.0/identityProtection/riskyUsers/${ALEX}`)).body).toMatchObject({ riskState: 'dismissed', riskLevel: 'none', riskDetail: 'adminDismissedAllRiskForUser', riskLastUpdatedDateTime: sim.clock.now() });
    });

    it('confirms a user compromised as documented', async () => {
      const r = await graph(sim, 'POST', '/v1.0/identityProtection/riskyUsers/confirmCompromised', { body: { userIds: [DREW] } });
      expect(r.status).toBe(204);
      expect((await graph(sim, 'GET', `/v1.0/identityProtection/riskyUsers/${DREW}`)).body).toMatchObject({ riskState: 'confirmedCompromised', riskLevel: 'high', riskDetail: 'adminConfirmedUserCompromised' });
      expect((await graph(sim, 'POST', '/v1.0/identityProtection/riskyUsers/dismiss', { body: { userIds: [DREW, '00000000-0000-0000-0000-000000000000'] } })).status).toBe(404);
      expect((await graph(sim, 'GET', `/v1.0/identityProtection/riskyUsers/${DREW}`)).body.riskState).toBe('confirmedCompromised');
    });

    it('filters risky users on riskLastUpdatedDateTime with ge', async () => {
      const r = await graph(sim, 'GET', '/v1.0/identityProtection/riskyUsers?$filter=riskLastUpdatedDateTime ge 2026-11-16T00:00:00Z');
      expect(r.status).toBe(200);
      expect(r.body.value.map((u: { userPrincipalName: string }) => u.userPrincipalName).sort()).toEqual(['alex.kim@tailspintoys.example', JAMIE, 'svc-scanner@tailspintoys.example']);
    });

    it('filters risk detections on detectedDateTime and activityDateTime with ge', async () => {
      const every = (await graph(sim, 'GET', '/v1.0/identityProtection/riskDetections')).body.value as Array<{ id: string; detectedDateTime: string; activityDateTime: string }>;
      const since = '2026-11-16T08:10:00Z';
      for (const field of ['detectedDateTime', 'activityDateTime'] as const) {
        const r = await graph(sim, 'GET', `/v1.0/identityProtection/riskDetections?$filter=${field} ge ${since}`);
        expect(r.status).toBe(200);
        const expected = every.filter((d) => Date.parse(d[field]) >= Date.parse(since)).map((d) => d.id);
        expect(expected.length).toBeGreaterThan(0);
        expect(expected.length).toBeLessThan(every.length);
        expect(r.body.value.map((d: { id: string }) => d.id)).toEqual(expected);
      }
      const one = await graph(sim, 'GET', `/v1.0/identityProtection/riskDetections/${every[0]!.id}`);
      expect(one.body).toMatchObject({ '@odata.context': `${sim.graphUrl}/v1.0/$metadata#identityProtection/riskDetections/$entity`, id: every[0]!.id });
      // The compliant scenario's detection predates additionalInfo; the rest of the documented properties are there.
      expect(keysOf(one.body)).toEqual(expect.arrayContaining(keysOf(ref('riskDetection.resource.json')).filter((k) => k !== 'additionalInfo')));
      expect((await graph(sim, 'GET', '/v1.0/identityProtection/riskDetections/00000000-0000-0000-0000-000000000000')).status).toBe(404);
    });
  });
});

describe('Exchange mailbox and recipient permissions', () => {
  let sim: RunningSimulator;
  beforeEach(async () => {
    sim = await start({ scenario: 'incident' });
  });
  afterEach(() => sim.stop());

  it('the shared mailbox is a SharedMailbox, and shows its FullAccess holders as Exchange does', async () => {
    const shared = await exo(sim, 'Get-Mailbox', { RecipientTypeDetails: ['SharedMailbox'] });
    expect(shared.body.value.map((m: { UserPrincipalName: string }) => m.UserPrincipalName)).toEqual(['payroll@tailspintoys.example']);
    const r = await exo(sim, 'Get-MailboxPermission', { Identity: 'payroll@tailspintoys.example' });
    expect(r.status).toBe(200);
    const [self, ...granted] = r.body.value;
    expect(self).toMatchObject({ Identity: 'Payroll', User: 'NT AUTHORITY\\SELF', AccessRights: ['FullAccess', 'ReadPermission'], IsInherited: false, Deny: false });
    expect(granted.map((e: { User: string }) => e.User).sort()).toEqual(['dana.whitfield@tailspintoys.example', JAMIE]);
    for (const e of granted) {
      expect(e).toMatchObject({ Identity: 'Payroll', AccessRights: ['FullAccess'], IsInherited: false, Deny: false, InheritanceType: 'All' });
      expect(e).not.toHaveProperty('id');
    }
    const sendAs = await exo(sim, 'Get-RecipientPermission', { Identity: 'Payroll' });
    expect(sendAs.body.value).toEqual([expect.objectContaining({ Identity: 'Payroll', Trustee: JAMIE, AccessControlType: 'Allow', AccessRights: ['SendAs'], IsInherited: false, InheritanceType: 'None' })]);
  });

  it('removes and adds FullAccess and removes SendAs, round trip', async () => {
    const removed = await exo(sim, 'Remove-MailboxPermission', { Identity: 'Payroll', User: JAMIE, AccessRights: ['FullAccess'], InheritanceType: 'All', Confirm: false });
    expect(removed.status).toBe(200);
    expect((await exo(sim, 'Get-MailboxPermission', { Identity: 'Payroll', User: JAMIE })).body.value).toEqual([]);

    const added = await exo(sim, 'Add-MailboxPermission', { Identity: 'Payroll', User: 'drew.evans@tailspintoys.example', AccessRights: ['FullAccess'], AutoMapping: false });
    expect(added.body.value).toEqual([expect.objectContaining({ Identity: 'Payroll', User: 'drew.evans@tailspintoys.example', AccessRights: ['FullAccess'], IsInherited: false, Deny: false })]);
    expect((await exo(sim, 'Get-MailboxPermission', { Identity: 'Payroll', User: 'drew.evans@tailspintoys.example' })).body.value).toHaveLength(1);

    expect((await exo(sim, 'Remove-RecipientPermission', { Identity: 'Payroll', Trustee: JAMIE, AccessRights: ['SendAs'], Confirm: false })).status).toBe(200);
    expect((await exo(sim, 'Get-RecipientPermission', { Identity: 'Payroll' })).body.value).toEqual([]);
    expect((await exo(sim, 'Add-RecipientPermission', { Identity: 'Payroll', Trustee: JAMIE, AccessRights: ['SendAs'], Confirm: false })).status).toBe(200);
    expect((await exo(sim, 'Get-RecipientPermission', { Identity: 'Payroll', Trustee: JAMIE })).body.value).toHaveLength(1);
  });

  it('refuses bad rights, unknown users and a reader', async () => {
    expect((await exo(sim, 'Add-MailboxPermission', { Identity: 'Payroll', User: JAMIE, AccessRights: ['Everything'] })).body.error.message).toMatch(/enumeration values are "FullAccess, /);
    expect((await exo(sim, 'Remove-RecipientPermission', { Identity: 'Payroll', Trustee: JAMIE, AccessRights: ['FullAccess'] })).body.error.message).toMatch(/enumeration values are "SendAs"/);
    const nobody = await exo(sim, 'Add-MailboxPermission', { Identity: 'Payroll', User: 'nobody@tailspintoys.example', AccessRights: ['FullAccess'] });
    expect(nobody.status).toBe(404);
    expect(nobody.body.error.message).toMatch(/ManagementObjectNotFoundException/);
    const reader = sim.token('exchange', { wids: [ROLE_IDS.globalReader] });
    expect((await exo(sim, 'Get-MailboxPermission', { Identity: 'Payroll' }, { token: reader })).status).toBe(200);
    const denied = await exo(sim, 'Remove-MailboxPermission', { Identity: 'Payroll', User: JAMIE, AccessRights: ['FullAccess'], Confirm: false }, { token: reader });
    expect(denied.status).toBe(403);
    expect((await exo(sim, 'Get-MailboxPermission', { Identity: 'Payroll', User: JAMIE })).body.value).toHaveLength(1);
  });
});

describe('directory roles from the identity endpoint', () => {
  it('an app signed in with the User Administrator role may force a user\'s password change, not an administrator\'s', async () => {
    const clientId = '5d0c2b7e-1f3a-4c6d-9e8f-0a1b2c3d4e5f';
    const sim = await startSimulator({
      scenario: 'incident',
      limits: { enabled: false },
      identity: { apps: [{ clientId, secrets: [{ value: 'responder-secret' }], roles: { graph: ['User.ReadWrite.All'] }, directoryRoles: [ROLE_IDS.userAdministrator] }] },
    });
    const dispatcher = new Agent({ connect: { ca: sim.identity!.caPem } });
    try {
      const res = await fetch(`${sim.identity!.authorityHost}/${sim.tenantId}/oauth2/v2.0/token`, {
        method: 'POST',
        body: new URLSearchParams({ grant_type: 'client_credentials', client_id: clientId, client_secret: 'responder-secret', scope: 'https://graph.microsoft.com/.default' }),
        dispatcher,
      } as unknown as RequestInit);
      const token = ((await res.json()) as { access_token: string }).access_token;
      const body = { passwordProfile: { forceChangePasswordNextSignIn: true } };
      expect((await graph(sim, 'PATCH', `/v1.0/users/${DREW}`, { body, token })).status).toBe(204);
      expect(await graph(sim, 'PATCH', `/v1.0/users/${ALEX}`, { body, token })).toMatchObject(DENIED);
    } finally {
      await dispatcher.close();
      await sim.stop();
    }
  });
});
