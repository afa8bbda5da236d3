import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Finding } from '../../reconciler/model/finding.js';
import type { PlanDocument } from '../../reconciler/model/plan.js';
import { loadScenario, startSimulator, type RunningSimulator } from '../../simulator/index.js';
import { cli, planAgainst, synthExamples, target, writer } from './harness.js';

/**
 * MAIL.THREAT.1 (impersonation protection) and MAIL.THREAT.2 (anti-spam) judged on the effective
 * policy of each population, against the simulator over HTTP: the compliant Tailspin tenant, its
 * drifted copy, a policy that applies to nobody or that a preset overrides, apply then plan again,
 * and a failed read of a rule kind.
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
const ours = (p: PlanDocument) => p.findings.filter((f) => f.control.id.startsWith('MAIL.THREAT.'));
const brief = (f: Finding) => [f.control.id, f.status, f.resource.name, f.change.action];
const live = (f: Finding) => f.evidence.live as Record<string, unknown>;

describe('threat protection on the effective policy of each population', () => {
  it('the compliant tenant has no finding: the Strict preset, the executives\' policy and the default policy each protect whom they apply to', async () => {
    sim = await startSimulator({ scenario: 'compliant' });
    const r = await planAgainst(sim, synthDir, ['--format', 'json']);
    expect(r.code, r.stderr).toBe(0);
    expect(ours(plan(r.stdout))).toEqual([]);
  });

  it('the drifted tenant: one finding per population and deficient effective policy, saying why it applies and what did not count', async () => {
    sim = await startSimulator({ scenario: 'drifted' });
    const r = await planAgainst(sim, synthDir, ['--format', 'json']);
    expect(r.code, r.stderr).toBe(2);
    // MAIL.THREAT.3–5 have drifts of their own (links-attachments.e2e.test.ts).
    const found = ours(plan(r.stdout)).filter((f) => f.control.id === 'MAIL.THREAT.1' || f.control.id === 'MAIL.THREAT.2');
    expect(found.map((f) => [...brief(f), f.summary.split(' (')[0]]).sort()).toEqual([
      ['MAIL.THREAT.1', 'drift', 'Office365 AntiPhish Default', 'none', 'privileged'],
      ['MAIL.THREAT.1', 'drift', 'Office365 AntiPhish Default', 'update', 'everyone'],
      ['MAIL.THREAT.2', 'drift', 'Default', 'none', 'privileged'],
      ['MAIL.THREAT.2', 'drift', 'Default', 'update', 'everyone'],
    ]);
    const of = (control: string, population: string) => found.find((f) => f.control.id === control && f.summary.startsWith(`${population} (`))!;
    const [everyone, privileged, spamEveryone] = [of('MAIL.THREAT.1', 'everyone'), of('MAIL.THREAT.1', 'privileged'), of('MAIL.THREAT.2', 'everyone')];
    expect(everyone!.summary).toMatch(/^everyone \(\d+ users\): anti-phishing policy "Office365 AntiPhish Default" as the default policy lacks /);
    expect(everyone!.summary).toContain('protected user casey.lee@tailspintoys.example in TargetedUsersToProtect');
    expect(everyone!.summary).toContain('EnableFirstContactSafetyTips true');
    // The SecOps policy would match both Security Operations members, who are under the Strict preset.
    expect(everyone!.summary).toContain('"SecOps phishing" is overridden by the Strict preset for all 2 members it matches');
    // Alex Kim is under the executives' policy, Casey Lee under the Strict preset: the default policy has Jordan Patel.
    expect(privileged!.summary).toMatch(/^privileged \(3 users\): anti-phishing policy "Office365 AntiPhish Default" as the default policy lacks .*; it applies to 1 of them\./);
    expect(live(privileged!)['notCovered']).toEqual({ members: ['jordan.patel@tailspintoys.example'], memberCount: 1 });
    expect(privileged!.remediation).toContain('planned with its first finding');
    expect(spamEveryone!.summary).toContain('PhishZapEnabled true');
    expect(spamEveryone!.summary).toContain('"Finance spam" applies to nobody: its rule "Finance spam" is disabled');
    expect(live(spamEveryone!)['notCounted']).toEqual([expect.objectContaining({ policy: 'Finance spam', reason: 'rule-disabled' })]);
    // A finding's resource is the effective policy, which the plan writes once.
    const writes = plan(r.stdout).changes.filter((c) => /^MAIL\.THREAT\.[12]v/.test(c.control)).map((c) => c.write);
    expect(writes).toEqual([
      {
        api: 'exchange', cmdlet: 'Set-AntiPhishPolicy',
        parameters: { Identity: 'Office365 AntiPhish Default', TargetedUsersToProtect: ['Avery Morgan;ciso@tailspintoys.example', 'Casey Lee;casey.lee@tailspintoys.example'], EnableFirstContactSafetyTips: true },
      },
      { api: 'exchange', cmdlet: 'Set-HostedContentFilterPolicy', parameters: { Identity: 'Default', PhishZapEnabled: true } },
    ]);
  });

  it('a strong policy that applies to nobody covers no one, and a weak one is no finding', async () => {
    const s = loadScenario('compliant');
    const ap = s.exchange.AntiPhishPolicy;
    // The default policy loses its protection; a strong copy whose rule is disabled protects nobody.
    const def = ap.find((p) => p['IsDefault'] === true)!;
    ap.push({ ...def, Guid: '0f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0', Identity: 'Everyone strong', Name: 'Everyone strong', IsDefault: false });
    def['EnableMailboxIntelligenceProtection'] = false;
    s.exchange.AntiPhishRule.push({ Guid: '1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d', Identity: 'Everyone strong', Name: 'Everyone strong', AntiPhishPolicy: 'Everyone strong', State: 'Disabled', Priority: 1, RecipientDomainIs: ['tailspintoys.example'] });
    // A weak policy whose rule names no mailbox: no finding.
    ap.push({ Guid: '2b3c4d5e-6f7a-4b8c-9d0e-1f2a3b4c5d6e', Identity: 'Weak nobody', Name: 'Weak nobody', IsDefault: false, EnableSpoofIntelligence: false });
    s.exchange.AntiPhishRule.push({ Guid: '3c4d5e6f-7a8b-4c9d-0e1f-2a3b4c5d6e7f', Identity: 'Weak nobody', Name: 'Weak nobody', AntiPhishPolicy: 'Weak nobody', State: 'Enabled', Priority: 2, SentTo: ['nobody@elsewhere.example'] });
    sim = await startSimulator({ scenario: s });
    const r = await planAgainst(sim, synthDir, ['--format', 'json']);
    const found = ours(plan(r.stdout));
    expect(found.map(brief).sort()).toEqual([
      ['MAIL.THREAT.1', 'drift', 'Office365 AntiPhish Default', 'none'],
      ['MAIL.THREAT.1', 'drift', 'Office365 AntiPhish Default', 'update'],
    ]);
    expect(found[0]!.summary).toContain('"Everyone strong" applies to nobody: its rule "Everyone strong" is disabled');
    expect(found[0]!.summary).toContain('"Weak nobody" applies to nobody: its rule "Weak nobody" matches no member of the populations');
    expect(found.some((f) => f.resource.name === 'Weak nobody')).toBe(false);
  });

  it('a weak policy a preset overrides for everyone it matches is no finding; a weak preset is reported, never written', async () => {
    const s = loadScenario('compliant');
    const strict = s.exchange.HostedContentFilterPolicy.find((p) => p['RecommendedPolicyType'] === 'Strict')!;
    strict['SpamZapEnabled'] = false;
    sim = await startSimulator({ scenario: s });
    const r = await planAgainst(sim, synthDir, ['--format', 'json']);
    const found = ours(plan(r.stdout));
    expect(found.map(brief)).toEqual([
      ['MAIL.THREAT.2', 'drift', 'Strict Preset Security Policy1717000000002', 'none'],
      ['MAIL.THREAT.2', 'drift', 'Strict Preset Security Policy1717000000002', 'none'],
      ['MAIL.THREAT.2', 'drift', 'Strict Preset Security Policy1717000000002', 'none'],
    ]);
    expect(found[0]!.summary).toContain('via the Strict preset security policy');
    expect(found[0]!.remediation).toContain('preset security policy');
    expect(plan(r.stdout).changes.filter((c) => c.control.startsWith('MAIL.THREAT.'))).toEqual([]);
  });

  it('an admin eligible for a privileged role through Privileged Identity Management is one of the privileged', async () => {
    const privileged = async (eligible: boolean) => {
      const s = loadScenario('compliant');
      s.exchange.HostedContentFilterPolicy.find((p) => p['IsDefault'] === true)!['PhishZapEnabled'] = false;
      const dana = s.graph.users.find((u) => u['userPrincipalName'] === 'dana.whitfield@tailspintoys.example')!;
      if (eligible) {
        (s.graph as Record<string, unknown[]>)['roleEligibilitySchedules'] = [
          { id: 'e1a2b3c4-0000-4000-8000-000000000001', principalId: dana['id'], roleDefinitionId: '62e90394-69f5-4237-9190-012177145e10', directoryScopeId: '/', memberType: 'Direct', status: 'Provisioned', scheduleInfo: { startDateTime: '2026-01-01T00:00:00Z', expiration: { type: 'noExpiration' } } },
        ];
      }
      sim = await startSimulator({ scenario: s });
      const r = await planAgainst(sim, synthDir, ['--format', 'json']);
      await sim.stop();
      sim = undefined;
      return ours(plan(r.stdout)).filter((f) => f.control.id === 'MAIL.THREAT.2' && f.summary.startsWith('privileged'));
    };
    // The privileged population counts one more member once Dana is eligible for Global Administrator.
    const size = (found: Finding[]) => Number(/^privileged \((\d+) users?\)/.exec(found[0]?.summary ?? '')?.[1] ?? 0);
    const before = size(await privileged(false));
    const found = await privileged(true);
    expect(found.map((f) => f.resource.name)).toEqual(['Default']);
    expect(size(found)).toBe(before + 1);
  });

  it('apply writes the effective policies and a plan after it shows none', async () => {
    const s = (sim = await startSimulator({ scenario: 'drifted' }));
    const dir = mkdtempSync(join(tmpdir(), 'posture-threat-'));
    const planFile = join(dir, 'plan.json');
    const evidence = join(dir, 'evidence.jsonl');
    expect((await cli(['plan', ...target(s, synthDir), '--out', planFile, '--evidence', evidence], writer(s))).code).toBe(2);
    const applied = await cli(['apply', planFile, '--auto-approve', '--evidence', evidence, ...target(s, synthDir)], writer(s));
    expect(applied.code, applied.stderr).toBe(0);
    const def = [...s.tenant.exchange.AntiPhishPolicy.values()].find((p) => p['IsDefault'] === true)!;
    expect(def).toMatchObject({ EnableFirstContactSafetyTips: true });
    const again = await planAgainst(s, synthDir, ['--format', 'json'], writer(s));
    expect(ours(plan(again.stdout))).toEqual([]);
  });

  it('a failed read of a rule kind makes both controls not evaluated and the run fails loudly', async () => {
    sim = await startSimulator({ scenario: 'compliant', faults: [{ api: 'exchange', route: '^Get-HostedContentFilterRule$', kind: 'status', status: 503 }] });
    const r = await planAgainst(sim, synthDir, ['--format', 'json', '--max-retries', '1']);
    expect(r.code).toBe(1);
    const found = ours(plan(r.stdout));
    expect(found.map((f) => [f.control.id, f.status])).toEqual([['MAIL.THREAT.2', 'not-evaluated']]);
    expect(plan(r.stdout).incomplete.map((i) => i.endpoint)).toContain('Exchange Get-HostedContentFilterRule');
  });

  it('a rule naming a group that is no group of the directory leaves its members not evaluated, never covered', async () => {
    const s = loadScenario('compliant');
    s.exchange.HostedContentFilterRule.push({ Guid: '4d5e6f7a-8b9c-4d0e-1f2a-3b4c5d6e7f8a', Identity: 'Sales', Name: 'Sales', HostedContentFilterPolicy: 'Default', State: 'Enabled', Priority: 0, SentToMemberOf: ['All Sales (dynamic)'] });
    sim = await startSimulator({ scenario: s });
    const r = await planAgainst(sim, synthDir, ['--format', 'json']);
    expect(r.code).toBe(1);
    const found = ours(plan(r.stdout));
    expect(found.map((f) => [f.control.id, f.status])).toEqual([['MAIL.THREAT.2', 'not-evaluated']]);
    expect(found[0]!.summary).toContain('"All Sales (dynamic)"');
  });

  it('MAIL.INBOUND.2 still reports an allow-list entry of a policy that applies to nobody, and says so', async () => {
    const s = loadScenario('compliant');
    s.exchange.HostedContentFilterPolicy.push({ Guid: '5e6f7a8b-9c0d-4e1f-2a3b-4c5d6e7f8a9b', Identity: 'Old partner', Name: 'Old partner', IsDefault: false, AllowedSenders: [], AllowedSenderDomains: ['old-partner.example'] });
    s.exchange.HostedContentFilterRule.push({ Guid: '6f7a8b9c-0d1e-4f2a-3b4c-5d6e7f8a9b0c', Identity: 'Old partner', Name: 'Old partner', HostedContentFilterPolicy: 'Old partner', State: 'Disabled', Priority: 0, SentTo: ['jordan.patel@tailspintoys.example'] });
    sim = await startSimulator({ scenario: s });
    const r = await planAgainst(sim, synthDir, ['--format', 'json']);
    const entry = plan(r.stdout).findings.find((f) => f.control.id === 'MAIL.INBOUND.2' && f.resource.name.startsWith('Old partner'))!;
    expect(entry.status).toBe('violation');
    expect(entry.summary).toContain('The policy applies to nobody now (its rule "Old partner" is disabled), but enabling a rule makes the entry live.');
    // A strong or weak policy that applies to nobody changes nothing for the threat controls.
    expect(ours(plan(r.stdout))).toEqual([]);
  });
});
