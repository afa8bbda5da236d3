import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Finding } from '../../reconciler/model/finding.js';
import type { PlanDocument } from '../../reconciler/model/plan.js';
import { loadScenario, startSimulator, type RunningSimulator } from '../../simulator/index.js';
import { cli, planAgainst, synthExamples, target, tenantArgs, writer } from './harness.js';

/**
 * MAIL.THREAT.3 (Safe Links), MAIL.THREAT.4 (Safe Attachments) and MAIL.THREAT.5 (anti-malware) on
 * the effective policy of each population, against the simulator: the compliant tenant, its drifts,
 * a policy that applies to nobody or that a preset overrides, the Built-In Protection Policy as the
 * effective one, apply then plan again, and a failed read.
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

type Obj = Record<string, unknown>;
const plan = (stdout: string) => JSON.parse(stdout) as PlanDocument;
const CONTROLS = ['MAIL.THREAT.3', 'MAIL.THREAT.4', 'MAIL.THREAT.5'];
const ours = (p: PlanDocument) => p.findings.filter((f) => CONTROLS.includes(f.control.id));
const row = (f: Finding) => [f.control.id, f.resource.name, f.status, f.change.action];
const byName = (s: RunningSimulator, noun: 'SafeLinksPolicy' | 'SafeAttachmentPolicy' | 'MalwareFilterPolicy', name: string) => [...s.tenant.exchange[noun].values()].find((p) => p['Name'] === name)!;

/** The compliant tenant with the three drifts of drifted.json that these controls judge. */
function drifted() {
  const s = loadScenario('compliant');
  Object.assign(s.exchange.SafeLinksPolicy.find((p) => p['Name'] === 'Tailspin Safe Links')!, { AllowClickThrough: true, DisableUrlRewrite: true });
  Object.assign(s.exchange.SafeAttachmentPolicy.find((p) => p['Name'] === 'Tailspin Safe Attachments')!, { Action: 'Allow' });
  Object.assign(s.exchange.MalwareFilterPolicy.find((p) => p['Name'] === 'Default')!, { EnableFileFilter: false, ZapEnabled: false });
  return s;
}

describe('MAIL.THREAT.3-5 on the effective policy of each population', () => {
  it('the compliant tenant has no finding', async () => {
    sim = await startSimulator({ scenario: 'compliant' });
    const r = await planAgainst(sim, synthDir, ['--format', 'json']);
    expect(r.code, r.stderr).toBe(0);
    const p = plan(r.stdout);
    expect(ours(p)).toEqual([]);
    expect(p.findings).toEqual([]);
  });

  it('the drifted scenario: one finding per population and deficient policy, the write with the first, each as the exact cmdlet', async () => {
    sim = await startSimulator({ scenario: 'drifted' });
    const r = await planAgainst(sim, synthDir, ['--format', 'json']);
    expect(r.code, r.stderr).toBe(2);
    const p = plan(r.stdout);
    const found = ours(p);
    expect(found.filter((f) => f.change.action === 'update').map(row)).toEqual([
      ['MAIL.THREAT.3', 'Tailspin Safe Links', 'drift', 'update'],
      ['MAIL.THREAT.4', 'Tailspin Safe Attachments', 'drift', 'update'],
      ['MAIL.THREAT.5', 'Default', 'drift', 'update'],
    ]);
    // everyone and the privileged each get their own finding on the policy; Security Operations, the
    // high-value group, is under the Strict preset, whose policies meet the posture.
    for (const c of CONTROLS) expect(found.filter((f) => f.control.id === c).map((f) => f.summary.split(' (')[0]).sort()).toEqual(['everyone', 'privileged']);
    const links = found.find((f) => f.control.id === 'MAIL.THREAT.3' && f.change.action === 'update')!;
    expect(links.summary).toMatch(/^everyone \(\d+ users\): Safe Links policy "Tailspin Safe Links" via rule "Tailspin Safe Links" priority 0 lacks AllowClickThrough false .*DisableUrlRewrite false/);
    const privileged = found.find((f) => f.control.id === 'MAIL.THREAT.3' && f.summary.startsWith('privileged'))!;
    expect(privileged.change.action).toBe('none');
    expect(privileged.remediation).toContain('planned with its first finding');
    expect(p.changes.filter((c) => ['safeLinksPolicy', 'safeAttachmentPolicy', 'malwareFilterPolicy'].includes(c.resource.type)).map((c) => c.write)).toEqual([
      { api: 'exchange', cmdlet: 'Set-SafeLinksPolicy', parameters: { Identity: 'Tailspin Safe Links', AllowClickThrough: false, DisableUrlRewrite: false } },
      { api: 'exchange', cmdlet: 'Set-SafeAttachmentPolicy', parameters: { Identity: 'Tailspin Safe Attachments', Action: 'Block' } },
      { api: 'exchange', cmdlet: 'Set-MalwareFilterPolicy', parameters: { Identity: 'Default', EnableFileFilter: true, ZapEnabled: true } },
    ]);
  });

  it('a strong policy whose rule is disabled covers no one: the Built-In Protection Policy applies, is reported without a write, and the finding names the dormant policy', async () => {
    const s = loadScenario('compliant');
    s.exchange.SafeLinksRule[0]!['State'] = 'Disabled';
    sim = await startSimulator({ scenario: s });
    const r = await planAgainst(sim, synthDir, ['--format', 'json']);
    expect(r.code, r.stderr).toBe(2);
    const p = plan(r.stdout);
    const found = ours(p);
    // everyone and the privileged fall to the Built-In Protection Policy; Security Operations stays under the Strict preset.
    expect(found.map(row)).toEqual([
      ['MAIL.THREAT.3', 'Built-In Protection Policy', 'drift', 'none'],
      ['MAIL.THREAT.3', 'Built-In Protection Policy', 'drift', 'none'],
    ]);
    const everyone = found.find((f) => f.summary.startsWith('everyone'))!;
    expect(everyone.summary).toContain('Safe Links policy "Built-In Protection Policy" as the Built-In Protection Policy lacks DisableUrlRewrite false');
    expect(everyone.summary).toContain('EnableForInternalSenders true');
    expect(everyone.summary).toContain('"Tailspin Safe Links" applies to nobody: its rule "Tailspin Safe Links" is disabled');
    expect(everyone.remediation).toMatch(/Built-In Protection Policy cannot be changed: create a custom Safe Links policy .* or turn on the Standard or Strict preset/);
    expect((everyone.evidence.live as Obj)['notCounted']).toEqual([
      { policy: 'Tailspin Safe Links', reason: 'rule-disabled', rule: 'Tailspin Safe Links', says: '"Tailspin Safe Links" applies to nobody: its rule "Tailspin Safe Links" is disabled' },
    ]);
    expect(p.changes.filter((c) => c.resource.type === 'safeLinksPolicy')).toEqual([]);
  });

  it('a weak policy a preset overrides for everyone it matches counts for no one: no finding because of it, and the finding of the others names it', async () => {
    const s = loadScenario('compliant');
    // A weak custom policy for the security operations team, overridden by the Strict preset for both of its members.
    s.exchange.SafeAttachmentPolicy.push({ Guid: '5e3b9c4a-7d8f-4a1b-9c3d-4e5f6a7b8c91', Identity: 'SecOps attachments', Name: 'SecOps attachments', Action: 'Allow', Enable: false });
    s.exchange.SafeAttachmentRule.push({ Guid: '5e3b9c4a-7d8f-4a1b-9c3d-4e5f6a7b8c92', Identity: 'SecOps attachments', Name: 'SecOps attachments', SafeAttachmentPolicy: 'SecOps attachments', Priority: 0, State: 'Enabled', SentToMemberOf: ['Security Operations'] });
    s.exchange.SafeAttachmentPolicy.push({ Guid: '5e3b9c4a-7d8f-4a1b-9c3d-4e5f6a7b8c93', Identity: 'Strict Preset Security Policy1700000000001', Name: 'Strict Preset Security Policy1700000000001', RecommendedPolicyType: 'Strict' });
    s.exchange.SafeLinksPolicy.push({ Guid: '5e3b9c4a-7d8f-4a1b-9c3d-4e5f6a7b8c94', Identity: 'Strict Preset Security Policy1700000000002', Name: 'Strict Preset Security Policy1700000000002', RecommendedPolicyType: 'Strict' });
    s.exchange.ATPProtectionPolicyRule = [{
      Guid: '5e3b9c4a-7d8f-4a1b-9c3d-4e5f6a7b8c95', Identity: 'Strict Preset Security Policy', Name: 'Strict Preset Security Policy', Priority: 0, State: 'Enabled',
      SentToMemberOf: ['Security Operations'], SafeAttachmentPolicy: 'Strict Preset Security Policy1700000000001', SafeLinksPolicy: 'Strict Preset Security Policy1700000000002',
    }];
    // The policy everyone else gets lets users release what Safe Attachments quarantines.
    s.exchange.SafeAttachmentPolicy.find((p) => p['Name'] === 'Tailspin Safe Attachments')!['QuarantineTag'] = 'DefaultFullAccessPolicy';
    sim = await startSimulator({ scenario: s });
    const r = await planAgainst(sim, synthDir, ['--format', 'json']);
    expect(r.code, r.stderr).toBe(2);
    const found = ours(plan(r.stdout));
    // Only the policy that applies is judged: not "SecOps attachments", and the group (under the preset) has no finding.
    expect(found.map(row)).toEqual([
      ['MAIL.THREAT.4', 'Tailspin Safe Attachments', 'drift', 'update'],
      ['MAIL.THREAT.4', 'Tailspin Safe Attachments', 'drift', 'none'],
    ]);
    const everyone = found.find((f) => f.summary.startsWith('everyone'))!;
    expect(everyone.summary).toContain('lacks QuarantineTag "AdminOnlyAccessPolicy" (is "DefaultFullAccessPolicy")');
    expect(everyone.summary).toContain('"SecOps attachments" is overridden by the Strict preset for all 2 members it matches');
    expect((everyone.evidence.live as Obj)['notCounted']).toEqual([
      expect.objectContaining({ policy: 'SecOps attachments', reason: 'overridden', overriddenBy: ['the Strict preset'], matched: 2 }),
    ]);
    expect(((everyone.evidence.live as Obj)['notCovered'] as Obj)['members']).not.toContain('ciso@tailspintoys.example');
  });

  it('apply makes the three writes and verifies them; a plan after it shows no change; rollback restores the before-state', async () => {
    const s = (sim = await startSimulator({ scenario: drifted() }));
    const dir = mkdtempSync(join(tmpdir(), 'posture-links-'));
    const planFile = join(dir, 'plan.json');
    const evidence = join(dir, 'evidence.jsonl');
    expect((await cli(['plan', ...target(s, synthDir), '--out', planFile, '--evidence', evidence], writer(s))).code).toBe(2);
    const applied = await cli(['apply', planFile, '--auto-approve', '--evidence', evidence, ...target(s, synthDir)], writer(s));
    expect(applied.code, applied.stderr).toBe(0);
    expect(byName(s, 'SafeLinksPolicy', 'Tailspin Safe Links')).toMatchObject({ AllowClickThrough: false, DisableUrlRewrite: false });
    expect(byName(s, 'SafeAttachmentPolicy', 'Tailspin Safe Attachments')).toMatchObject({ Action: 'Block' });
    expect(byName(s, 'MalwareFilterPolicy', 'Default')).toMatchObject({ EnableFileFilter: true, ZapEnabled: true });
    const again = await planAgainst(s, synthDir, ['--format', 'json'], writer(s));
    expect(again.code, again.stderr).toBe(0);
    const p = plan(again.stdout);
    expect(ours(p)).toEqual([]);
    expect(p.changes).toEqual([]);

    // Rolling back brings the three drifts back, with the explicit intent only.
    const runId = /recorded as run ([0-9a-f-]{36})/.exec(applied.stderr)![1]!;
    const rollbackFile = join(dir, 'rollback.json');
    const rb = await cli(['rollback', runId, '--evidence', evidence, '--out', rollbackFile, ...tenantArgs(s, synthDir), '--restore-insecure'], writer(s));
    expect(rb.code, rb.stderr).toBe(2);
    const rbPlan = JSON.parse(readFileSync(rollbackFile, 'utf8')) as PlanDocument;
    expect(rbPlan.changes.map((c) => (c.write as { cmdlet: string }).cmdlet).sort()).toEqual(['Set-MalwareFilterPolicy', 'Set-SafeAttachmentPolicy', 'Set-SafeLinksPolicy']);
    const undone = await cli(['apply', rollbackFile, '--auto-approve', '--evidence', evidence, ...target(s, synthDir)], writer(s));
    expect(undone.code, undone.stderr).toBe(0);
    expect(byName(s, 'SafeLinksPolicy', 'Tailspin Safe Links')).toMatchObject({ AllowClickThrough: true, DisableUrlRewrite: true });
    expect(byName(s, 'SafeAttachmentPolicy', 'Tailspin Safe Attachments')).toMatchObject({ Action: 'Allow' });
    expect(byName(s, 'MalwareFilterPolicy', 'Default')).toMatchObject({ EnableFileFilter: false, ZapEnabled: false });
    expect((await cli(['evidence', 'verify', evidence])).code).toBe(0);
  });

  it('a failed read of the Safe Links rules: MAIL.THREAT.3 is not evaluated and the run fails loudly; the others are still judged', async () => {
    sim = await startSimulator({ scenario: drifted(), faults: [{ api: 'exchange', route: '^Get-SafeLinksRule$', kind: 'status', status: 503 }] });
    const r = await planAgainst(sim, synthDir, ['--format', 'json', '--max-retries', '1']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/Safe Links policy rules/);
    const found = ours(plan(r.stdout));
    expect(found.filter((f) => f.control.id === 'MAIL.THREAT.3').map((f) => [f.status, f.check])).toEqual([['not-evaluated', 'not-evaluated']]);
    expect(found.filter((f) => f.control.id !== 'MAIL.THREAT.3' && f.change.action === 'update').map((f) => f.resource.name)).toEqual(['Tailspin Safe Attachments', 'Default']);
  });

  it('a rule naming a group whose members are not known: not evaluated, never a pass', async () => {
    const s = loadScenario('compliant');
    s.exchange.SafeLinksRule[0]!['ExceptIfSentToMemberOf'] = ['Contractors'];
    sim = await startSimulator({ scenario: s });
    const r = await planAgainst(sim, synthDir, ['--format', 'json']);
    expect(r.code).toBe(1);
    const found = ours(plan(r.stdout)).filter((f) => f.control.id === 'MAIL.THREAT.3');
    expect(found.map((f) => f.status)).toEqual(['not-evaluated']);
    expect(found[0]!.summary).toContain('"Contractors"');
  });
});
