import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Resolver } from 'node:dns/promises';
import { describe, expect, it } from 'vitest';
import { loadScenario, scenarioDrifts, startSimulator } from '../../simulator/index.js';
import { generateTenant } from '../../simulator/scenario/generate.js';
import { all, exo, graph, start } from './helpers.js';

describe('scenarios', () => {
  it('compliant holds the example posture\'s tenant; drifted applies each named drift to it', () => {
    const compliant = loadScenario('compliant');
    const drifted = loadScenario('drifted');
    expect(compliant.graph.conditionalAccessPolicies.map((p) => p['displayName'])).toEqual([
      'EP - User risk high: MFA and password change',
      'EP - Sign-in risk medium+high: MFA every time',
      'EP - Privileged roles, user risk medium+high: block',
      'EP - Block legacy authentication',
      'EP - Privileged roles: phishing-resistant MFA',
    ]);
    const ids = scenarioDrifts('drifted').map((d) => d.id);
    expect(ids).toEqual([
      'dmarc-none', 'dmarc-missing', 'inbox-rule-external-forward', 'auto-forwarding-on', 'break-glass-not-excluded',
      'user-consent-open', 'user-granted-mail-readwrite', 'owner-disabled', 'transport-rule-scl-bypass',
      'connection-filter-allow-list', 'smtp-auth-enabled',
      'mail-app-undeclared', 'mail-app-extra-permission', 'mail-app-access-policy-removed', 'mail-app-client-secret',
      'antiphish-impersonation-weakened', 'antispam-zap-off',
      'safe-links-click-through', 'safe-attachments-monitor', 'malware-file-filter-off',
      'external-tag-off', 'sharing-open', 'mailbox-audit-off',
      'privileged-mfa-not-phishing-resistant', 'user-not-mfa-capable', 'sms-enabled',
    ]);
    expect(drifted.exchange.HostedOutboundSpamFilterPolicy[0]!['AutoForwardingMode']).toBe('On');
    expect(compliant.exchange.HostedOutboundSpamFilterPolicy[0]!['AutoForwardingMode']).toBe('Off');
    expect(drifted.dns.find((r) => r.name === '_dmarc.tailspin-toys.example')).toBeUndefined();
    expect(drifted.graph.users.find((u) => u['userPrincipalName'] === 'dana.whitfield@tailspintoys.example')!['accountEnabled']).toBe(false);
    expect(compliant.exchange.ApplicationAccessPolicy.map((p) => p['AccessRight'])).toEqual(['RestrictAccess']);
    expect(drifted.exchange.ApplicationAccessPolicy).toEqual([]);
  });

  it('refuses a drift whose test fails, and a malformed scenario, with the file named', () => {
    const dir = mkdtempSync(join(tmpdir(), 'scenario-'));
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify({ name: 'x', description: '', extends: 'compliant', drifts: [{ id: 'wrong', description: 'd', patch: [{ op: 'test', path: '/tenant/displayName', value: 'Contoso' }] }] }));
    expect(() => loadScenario(bad)).toThrow(`${bad}: drift "wrong" does not apply`);
    const malformed = join(dir, 'malformed.json');
    writeFileSync(malformed, JSON.stringify({ name: 'x', description: '', tenant: { id: 'not-a-guid' } }));
    expect(() => loadScenario(malformed)).toThrow(/malformed\.json: tenant\.id/);
    expect(() => loadScenario('nope')).toThrow(/scenario "nope" not found/);
  });

  it('lets a scenario leave collections out: each is empty, or holds the service\'s default objects', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'scenario-'));
    const minimal = join(dir, 'minimal.json');
    writeFileSync(minimal, JSON.stringify({
      name: 'minimal',
      description: 'A tenant with nothing in it but its two singleton policies.',
      tenant: { id: '0b5c7a5e-3f1d-4c2b-9a8e-7d6c5b4a3f21', displayName: 'Minimal', initialDomain: 'minimal.onmicrosoft.example' },
      graph: { authorizationPolicy: { id: 'authorizationPolicy' }, adminConsentRequestPolicy: { isEnabled: false } },
    }));
    const s = loadScenario(minimal);
    expect(s.graph.users).toEqual([]);
    expect(s.graph.groupMembers).toEqual({});
    expect(s.graph.messageRules).toEqual({});
    expect(s.exchange.Mailbox).toEqual([]);
    expect(s.exchange.HostedConnectionFilterPolicy.map((p) => p['Identity'])).toEqual(['Default']);
    expect(s.exchange.ApplicationAccessPolicy).toEqual([]);
    expect(s.graph.applications).toEqual([]);
    expect(s.graph.servicePrincipalOwners).toEqual({});
    expect(s.dns).toEqual([]);
    const sim = await start({ scenario: minimal });
    try {
      expect((await graph(sim, 'GET', '/v1.0/users')).body.value).toEqual([]);
      expect((await exo(sim, 'Get-Mailbox')).body.value).toEqual([]);
      expect((await exo(sim, 'Get-TransportRule')).body.value).toEqual([]);
    } finally {
      await sim.stop();
    }
    // A key the simulator does not know is still refused, with its path.
    const typo = join(dir, 'typo.json');
    writeFileSync(typo, JSON.stringify({ ...JSON.parse(JSON.stringify(s)), exchange: { Mailboxes: [] } }));
    expect(() => loadScenario(typo)).toThrow(/typo\.json: exchange: Unrecognized key: "Mailboxes"/);
  });

  it('serves the scenario\'s DNS records over the simulator\'s DNS server', async () => {
    const sim = await start({ scenario: 'drifted' });
    try {
      const resolver = new Resolver({ timeout: 500, tries: 1 });
      resolver.setServers([`${sim.dns.host}:${sim.dns.port}`]);
      expect((await resolver.resolveTxt('_dmarc.tailspintoys.example')).map((r) => r.join(''))).toEqual([
        'v=DMARC1; p=none; adkim=s; aspf=r; rua=mailto:dmarc-reports@tailspintoys.example',
      ]);
      await expect(resolver.resolveTxt('_dmarc.tailspin-toys.example')).rejects.toMatchObject({ code: 'ENOTFOUND' });
      expect(await resolver.resolveCname('selector1._domainkey.tailspintoys.example')).toEqual(['selector1-tailspintoys-example._domainkey.tailspintoys.onmicrosoft.example']);
      sim.setDnsFault('_dmarc.tailspintoys.example', 'servfail');
      await expect(resolver.resolveTxt('_dmarc.tailspintoys.example')).rejects.toMatchObject({ code: 'ESERVFAIL' });
      expect(sim.dnsQueries.length).toBeGreaterThanOrEqual(4);
    } finally {
      await sim.stop();
    }
  });

  it('applies DNS faults given at start', async () => {
    const sim = await startSimulator({ dnsFaults: { '_dmarc.news.tailspintoys.example': 'timeout' } });
    try {
      const resolver = new Resolver({ timeout: 300, tries: 1 });
      resolver.setServers([`${sim.dns.host}:${sim.dns.port}`]);
      await expect(resolver.resolveTxt('_dmarc.news.tailspintoys.example')).rejects.toMatchObject({ code: 'ETIMEOUT' });
    } finally {
      await sim.stop();
    }
  });
});

describe('large tenant generator', () => {
  it('builds 100,000 mailboxes without materialising them, deterministically', () => {
    const base = loadScenario('compliant');
    const tenant = generateTenant(base, { mailboxes: 100_000, caPolicies: 50, forwardingShare: 0.02 });
    expect(tenant.graph.users.size).toBe(100_013);
    expect(tenant.size).toBe('large');
    expect(tenant.graph.users.findBy('userPrincipalName', 'user99999@tailspintoys.example')[0]).toMatchObject({ displayName: 'User 99999' });
    expect(tenant.graph.users.findBy('userPrincipalName', 'user100000@tailspintoys.example')).toEqual([]);
    expect(tenant.graph.users.findBy('userPrincipalName', 'casey.lee@tailspintoys.example')).toHaveLength(1);
    expect(tenant.graph.conditionalAccessPolicies.size).toBe(55);
    // The registration report: one row per user, computed at the same position.
    expect(tenant.graph.userRegistrationDetails.size).toBe(100_013);
    expect(tenant.graph.userRegistrationDetails.findBy('userPrincipalName', 'user99999@tailspintoys.example')[0]).toMatchObject({ id: tenant.graph.users.at(99_999)!.id, isMfaCapable: true, userType: 'member' });
    let forwarding = 0;
    for (let i = 0; i < 5000; i++) {
      const rules = tenant.inboxRules.list(tenant.graph.users.at(i)!.id);
      if (rules.some((r) => (r['actions'] as { forwardTo?: unknown }).forwardTo)) forwarding++;
    }
    expect(forwarding).toBeGreaterThan(60);
    expect(forwarding).toBeLessThan(140);
    const again = generateTenant(base, { mailboxes: 100_000, forwardingShare: 0.02 });
    expect(again.inboxRules.list(again.graph.users.at(77)!.id)).toEqual(tenant.inboxRules.list(tenant.graph.users.at(77)!.id));
  });

  it('serves generated users through paging and keeps changes made through the API', async () => {
    const sim = await start({ generate: { mailboxes: 1500 } });
    try {
      const { items, pages } = await all(sim, '/v1.0/users?$top=999&$select=id,userPrincipalName');
      expect(items).toHaveLength(1513);
      expect(pages).toBe(2);
      const id = items.find((u) => u.userPrincipalName === 'user1200@tailspintoys.example').id;
      const res = await fetch(`${sim.graphUrl}/v1.0/users/${id}/revokeSignInSessions`, { method: 'POST', headers: { Authorization: `Bearer ${sim.token('graph')}` } });
      expect(res.status).toBe(200);
      expect(sim.tenant.graph.users.get(id)!['signInSessionsValidFromDateTime']).toBeTruthy();
    } finally {
      await sim.stop();
    }
  });
});
