import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { PlanDocument } from '../../reconciler/model/plan.js';
import { loadScenario, startSimulator, type RunningSimulator, type Scenario } from '../../simulator/index.js';
import { planAgainst, synthExamples } from './harness.js';

let synthDir: string;
let sim: RunningSimulator | undefined;
beforeAll(() => {
  synthDir = synthExamples();
});
afterEach(async () => {
  await sim?.stop();
  sim = undefined;
});

const fast = ['--max-retries', '1', '--timeout', '2', '--format', 'json'];
const plan = (stdout: string) => JSON.parse(stdout) as PlanDocument;
const compliant = (edit: (s: Scenario) => void = () => {}): Scenario => {
  const s = loadScenario('compliant');
  edit(s);
  return s;
};

describe('DKIM, domain by domain', () => {
  it('a DNS failure of one selector of one domain never hides another domain\'s DKIM drift', async () => {
    // news.tailspintoys.example lost its selector2 CNAME; DNS for tailspintoys.example fails.
    const scenario = compliant((s) => {
      s.dns = s.dns.filter((r) => r.name !== 'selector2._domainkey.news.tailspintoys.example');
    });
    expect(loadScenario('compliant').dns.some((r) => r.name === 'selector2._domainkey.news.tailspintoys.example')).toBe(true);
    sim = await startSimulator({ scenario, dnsFaults: { 'selector1._domainkey.tailspintoys.example': 'servfail' } });
    const r = await planAgainst(sim, synthDir, fast);
    expect(r.code).toBe(1);
    const p = plan(r.stdout);
    expect(p.incomplete.map((i) => i.endpoint)).toEqual(['CNAME selector1._domainkey.tailspintoys.example']);
    const dkim = p.findings.filter((f) => f.control.id === 'MAIL.DKIM.1').map((f) => `${f.status} ${f.resource.name}`);
    expect(dkim).toEqual(['not-evaluated CNAME selector1._domainkey.tailspintoys.example', 'violation news.tailspintoys.example']);
  });
});

describe('Microsoft-managed domains', () => {
  it('the Exchange coexistence domain is no unmanaged domain, and neither it nor the initial domain gets a DNS demand', async () => {
    const s = loadScenario('compliant');
    expect(s.exchange.AcceptedDomain.find((a) => a['IsCoexistenceDomain'] === true)?.['DomainName']).toBe('tailspintoys.mail.onmicrosoft.example');
    sim = await startSimulator({ scenario: s });
    const r = await planAgainst(sim, synthDir, fast);
    expect(r.code).toBe(0);
    expect(plan(r.stdout).findings).toEqual([]);
  });

  it('a custom domain of the tenant that the posture does not declare is unmanaged, from Graph or from Exchange', async () => {
    sim = await startSimulator({
      scenario: compliant((s) => {
        s.graph.domains.push({ ...s.graph.domains[0]!, id: 'tailspin-legacy.example', isDefault: false });
        s.exchange.AcceptedDomain.push({ ...s.exchange.AcceptedDomain[0]!, Guid: '7a1c2b3d-0000-5000-8000-000000000001', Identity: 'tailspin-shop.example', Name: 'tailspin-shop.example', DomainName: 'tailspin-shop.example', Default: false });
      }),
    });
    const r = await planAgainst(sim, synthDir, fast);
    expect(r.code).toBe(2);
    expect(plan(r.stdout).findings.map((f) => `${f.control.id} ${f.status} ${f.resource.name} ${f.evidence.endpoint}`)).toEqual([
      'MAIL.DMARC.1 unmanaged tailspin-legacy.example /domains',
      'MAIL.DMARC.1 unmanaged tailspin-shop.example Exchange Get-AcceptedDomain',
    ]);
  });

  it('DKIM signing is still checked for the initial domain, which every mailbox can send from', async () => {
    sim = await startSimulator({
      scenario: compliant((s) => {
        const initial = s.exchange.DkimSigningConfig.find((c) => c['Domain'] === s.tenant.initialDomain)!;
        initial['Enabled'] = false;
        initial['Status'] = 'Disabled';
      }),
    });
    const r = await planAgainst(sim, synthDir, fast);
    expect(r.code).toBe(2);
    const p = plan(r.stdout);
    expect(p.findings.map((f) => `${f.control.id} ${f.check} ${f.status} ${f.resource.name}`)).toEqual(['MAIL.DKIM.1 dkim-signing-enabled drift tailspintoys.onmicrosoft.example']);
    expect(p.changes.map((c) => c.write)).toEqual([{ api: 'exchange', cmdlet: 'Set-DkimSigningConfig', parameters: { Identity: 'tailspintoys.onmicrosoft.example', Enabled: true } }]);
  });
});
