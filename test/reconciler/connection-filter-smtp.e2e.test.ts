import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { PlanDocument } from '../../reconciler/model/plan.js';
import { loadScenario, startSimulator, type RunningSimulator } from '../../simulator/index.js';
import { TailspinStack } from '../../stacks/examples/tailspin.js';
import { synthesize, TODAY_CONTEXT_KEY } from '../../stacks/index.js';
import { cli, planAgainst, synthExamples, target, TODAY, tokens, writer } from './harness.js';

/**
 * MAIL.INBOUND.3 (the connection filter's IP allow list and safe list) and MAIL.SMTP.1 (SMTP AUTH
 * client submission), the two resource types added as one file each: plan, exceptions, apply,
 * a plan after apply, rollback and the reports, against the simulator.
 */
let synthDir: string;
let excepted: string;
let sim: RunningSimulator | undefined;

/** The example posture with an exception keeping one allow-list range of the connection filter (or another scope of MAIL.INBOUND.3). */
function synthWithException(value = 'Default/198.51.100.7'): string {
  const outdir = join(mkdtempSync(join(tmpdir(), 'posture-e2e-')), 'cdktf.out');
  const r = synthesize(
    (app) => {
      const stack = new TailspinStack(app, 'tailspin');
      stack.posture.addException({
        control: 'MAIL.INBOUND.3',
        scope: { type: 'policy', value },
        reason: 'The scanning appliance relays journal copies from this address until its connector moves.',
        approvedBy: 'ciso@tailspintoys.example',
        expires: '2026-09-30',
        ticket: 'RISK-3310',
      });
    },
    { outdir, context: { [TODAY_CONTEXT_KEY]: TODAY } },
  );
  if (!r.ok) throw new Error('synth failed');
  return outdir;
}

beforeAll(() => {
  synthDir = synthExamples();
  excepted = synthWithException();
});
afterEach(async () => {
  await sim?.stop();
  sim = undefined;
});

const plan = (stdout: string) => JSON.parse(stdout) as PlanDocument;
const ours = (p: PlanDocument) => p.findings.filter((f) => f.control.id === 'MAIL.INBOUND.3' || f.control.id === 'MAIL.SMTP.1');
const connectionFilter = (s: RunningSimulator) => [...s.tenant.exchange.HostedConnectionFilterPolicy.values()][0]!;

/** The compliant tenant with allow-list entries and the safe list on, and SMTP AUTH back on. */
function exposed() {
  const s = loadScenario('compliant');
  const policy = s.exchange.HostedConnectionFilterPolicy[0]!;
  policy['IPAllowList'] = ['203.0.113.0/24', '198.51.100.7'];
  policy['EnableSafeList'] = true;
  s.exchange.TransportConfig['SmtpClientAuthenticationDisabled'] = false;
  return s;
}

describe('MAIL.INBOUND.3 and MAIL.SMTP.1', () => {
  it('the compliant tenant has no finding of either control', async () => {
    sim = await startSimulator({ scenario: 'compliant' });
    const r = await planAgainst(sim, synthDir, ['--format', 'json']);
    expect(r.code, r.stderr).toBe(0);
    expect(ours(plan(r.stdout))).toEqual([]);
  });

  it('plans emptying the allow list, turning off the safe list and disabling SMTP AUTH, each as the exact cmdlet', async () => {
    sim = await startSimulator({ scenario: exposed() });
    const r = await planAgainst(sim, synthDir, ['--format', 'json']);
    expect(r.code, r.stderr).toBe(2);
    const p = plan(r.stdout);
    expect(ours(p).map((f) => [f.control.id, f.check, f.status, f.change.action])).toEqual([
      ['MAIL.INBOUND.3', 'connection-filter-safe-list', 'violation', 'update'],
      ['MAIL.INBOUND.3', 'connection-filter-allow-list', 'violation', 'update'],
      ['MAIL.SMTP.1', 'smtp-client-auth-disabled', 'violation', 'update'],
    ]);
    expect(ours(p)[1]!.summary).toContain('203.0.113.0/24, 198.51.100.7');
    expect(p.changes.filter((c) => c.resource.type === 'hostedConnectionFilterPolicy' || c.resource.type === 'transportConfig').map((c) => c.write)).toEqual([
      { api: 'exchange', cmdlet: 'Set-HostedConnectionFilterPolicy', parameters: { Identity: 'Default', EnableSafeList: false } },
      { api: 'exchange', cmdlet: 'Set-HostedConnectionFilterPolicy', parameters: { Identity: 'Default', IPAllowList: [] } },
      { api: 'exchange', cmdlet: 'Set-TransportConfig', parameters: { Identity: 'Transport Settings', SmtpClientAuthenticationDisabled: true } },
    ]);
  });

  it('an exception naming one range keeps it: that entry is excepted and the write removes only the others', async () => {
    sim = await startSimulator({ scenario: exposed() });
    const r = await planAgainst(sim, excepted, ['--format', 'json']);
    expect(r.code, r.stderr).toBe(2);
    const p = plan(r.stdout);
    const allow = ours(p).filter((f) => f.check === 'connection-filter-allow-list');
    expect(allow.map((f) => [f.resource.name, f.status, f.change.action])).toEqual([
      ['Default', 'violation', 'update'],
      ['Default: IPAllowList 198.51.100.7', 'excepted', 'none'],
    ]);
    expect(allow[1]!.exception).toMatchObject({ id: 'MAIL.INBOUND.3:policy:default/198.51.100.7', ticket: 'RISK-3310' });
    expect(allow[0]!.summary).toContain('203.0.113.0/24');
    expect(allow[0]!.summary).not.toContain('198.51.100.7');
    expect(p.changes.find((c) => c.resource.type === 'hostedConnectionFilterPolicy' && 'IPAllowList' in (c.write as { parameters: object }).parameters)!.write).toEqual({
      api: 'exchange', cmdlet: 'Set-HostedConnectionFilterPolicy', parameters: { Identity: 'Default', IPAllowList: ['198.51.100.7'] },
    });
  });

  it('an exception to the safe list alone keeps it on and no allow-list entry', async () => {
    sim = await startSimulator({ scenario: exposed() });
    const r = await planAgainst(sim, synthWithException('Default/EnableSafeList'), ['--format', 'json']);
    expect(r.code, r.stderr).toBe(2);
    const found = ours(plan(r.stdout)).filter((f) => f.control.id === 'MAIL.INBOUND.3').map((f) => [f.check, f.resource.name, f.status]).sort();
    expect(found).toEqual([
      ['connection-filter-allow-list', 'Default', 'violation'],
      ['connection-filter-safe-list', 'Default', 'excepted'],
    ]);
  });

  it('an expired exception keeps nothing', async () => {
    sim = await startSimulator({ scenario: exposed() });
    const args = target(sim, excepted).map((a, i, all) => (all[i - 1] === '--today' ? '2026-10-01' : a));
    const r = await cli(['plan', ...args, '--format', 'json', '--color', 'false'], tokens(sim));
    expect(r.stderr).not.toContain('rror');
    const p = plan(r.stdout);
    expect(ours(p).filter((f) => f.check === 'connection-filter-allow-list').map((f) => [f.resource.name, f.status])).toEqual([['Default', 'violation']]);
  });

  it('apply makes all three changes and verifies them; a plan after it shows none; rollback restores the before-state', async () => {
    const s = (sim = await startSimulator({ scenario: exposed() }));
    const dir = mkdtempSync(join(tmpdir(), 'posture-new-types-'));
    const planFile = join(dir, 'plan.json');
    const evidence = join(dir, 'evidence.jsonl');
    expect((await cli(['plan', ...target(s, synthDir), '--out', planFile, '--evidence', evidence], writer(s))).code).toBe(2);
    const applied = await cli(['apply', planFile, '--auto-approve', '--evidence', evidence, ...target(s, synthDir)], writer(s));
    expect(applied.code, applied.stderr).toBe(0);
    expect(connectionFilter(s)).toMatchObject({ IPAllowList: [], EnableSafeList: false });
    expect(s.tenant.transportConfig['SmtpClientAuthenticationDisabled']).toBe(true);

    const again = await planAgainst(s, synthDir, ['--format', 'json'], writer(s));
    expect(ours(plan(again.stdout))).toEqual([]);

    const runId = /recorded as run ([0-9a-f-]{36})/.exec(applied.stderr)![1]!;
    const rollbackFile = join(dir, 'rollback.json');
    const tenantArgs = target(s, synthDir).filter((a, i, all) => a !== '--today' && all[i - 1] !== '--today');
    // Rolling back a security fix brings the findings back: refused without the explicit intent.
    const refused = await cli(['rollback', runId, '--evidence', evidence, '--out', join(dir, 'refused.json'), ...tenantArgs], writer(s));
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain('--restore-insecure');
    const rb = await cli(['rollback', runId, '--evidence', evidence, '--out', rollbackFile, ...tenantArgs, '--restore-insecure'], writer(s));
    expect(rb.code, rb.stderr).toBe(2);
    const rbPlan = JSON.parse(readFileSync(rollbackFile, 'utf8')) as PlanDocument;
    expect(rbPlan.changes.filter((c) => c.resource.type === 'hostedConnectionFilterPolicy' || c.resource.type === 'transportConfig').map((c) => c.write)).toEqual([
      { api: 'exchange', cmdlet: 'Set-TransportConfig', parameters: { Identity: 'Transport Settings', SmtpClientAuthenticationDisabled: false } },
      { api: 'exchange', cmdlet: 'Set-HostedConnectionFilterPolicy', parameters: { Identity: 'Default', IPAllowList: ['203.0.113.0/24', '198.51.100.7'] } },
      { api: 'exchange', cmdlet: 'Set-HostedConnectionFilterPolicy', parameters: { Identity: 'Default', EnableSafeList: true } },
    ]);
    const undone = await cli(['apply', rollbackFile, '--auto-approve', '--evidence', evidence, ...target(s, synthDir)], writer(s));
    expect(undone.code, undone.stderr).toBe(0);
    expect(connectionFilter(s)).toMatchObject({ IPAllowList: ['203.0.113.0/24', '198.51.100.7'], EnableSafeList: true });
    expect(s.tenant.transportConfig['SmtpClientAuthenticationDisabled']).toBe(false);
    expect((await cli(['evidence', 'verify', evidence])).code).toBe(0);
  });

  it('the reports carry both controls: SARIF rules, JUnit cases and the Markdown plan', async () => {
    sim = await startSimulator({ scenario: exposed() });
    const dir = mkdtempSync(join(tmpdir(), 'posture-new-types-'));
    const planFile = join(dir, 'plan.json');
    expect((await planAgainst(sim, synthDir, ['--out', planFile])).code).toBe(2);
    const sarif = await cli(['show', planFile, '--format', 'sarif']);
    expect(sarif.stderr).toBe('');
    const rules = (JSON.parse(sarif.stdout) as { runs: Array<{ tool: { driver: { rules: Array<{ id: string }> } } }> }).runs[0]!.tool.driver.rules.map((r) => r.id);
    expect(rules.filter((id) => id.startsWith('MAIL.INBOUND.3') || id.startsWith('MAIL.SMTP.1')).length).toBeGreaterThanOrEqual(2);
    const junit = await cli(['show', planFile, '--format', 'junit']);
    expect(junit.stdout).toContain('MAIL.SMTP.1v1');
    expect(junit.stdout).toContain('MAIL.INBOUND.3v1');
    const md = await cli(['show', planFile, '--format', 'markdown']);
    expect(md.stdout).toContain('Set-TransportConfig');
    expect(md.stdout).toContain('hostedConnectionFilterPolicy');
  });
});
