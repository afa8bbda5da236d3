import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { PlanDocument } from '../../reconciler/model/plan.js';
import type { FaultRule } from '../../simulator/http/faults.js';
import { loadScenario, startSimulator, type RunningSimulator } from '../../simulator/index.js';
import { TailspinStack } from '../../stacks/examples/tailspin.js';
import { synthesize, TODAY_CONTEXT_KEY } from '../../stacks/index.js';
import { cli, planAgainst, synthExamples, target, TODAY, tokens } from './harness.js';

/**
 * MAIL.APPS.1–3 against the simulator over HTTP: the compliant tenant has no finding, the drifted
 * one the four planted, each for the right owner and with nothing of a secret; a failed read
 * leaves its control not evaluated; a posture without the area reads nothing for it.
 */
let synthDir: string;
let sim: RunningSimulator | undefined;
const APP = 'e4a1c9b2-6d3f-4f8a-9b2c-7d1e5f3a8c64';
const fast = ['--max-retries', '1', '--timeout', '2', '--format', 'json'];

beforeAll(() => {
  synthDir = synthExamples();
});
afterEach(async () => {
  await sim?.stop();
  sim = undefined;
});

const plan = (stdout: string) => JSON.parse(stdout) as PlanDocument;
const ours = (p: PlanDocument) => p.findings.filter((f) => f.control.id.startsWith('MAIL.APPS.'));
const graphGets = (s: RunningSimulator, path: RegExp) => s.requests.entries.filter((e) => e.api === 'graph' && e.method === 'GET' && path.test(e.path)).length;

describe('MAIL.APPS.1-3', () => {
  it('the compliant tenant has no finding, with /applications read once and owners only of the app that holds mail permissions', async () => {
    sim = await startSimulator({ scenario: 'compliant' });
    const r = await planAgainst(sim, synthDir, ['--format', 'json']);
    expect(r.code, r.stderr).toBe(0);
    const p = plan(r.stdout);
    expect(p.findings).toEqual([]);
    expect(p.incomplete).toEqual([]);
    expect(graphGets(sim, /^\/v1\.0\/applications\?/)).toBe(1);
    expect(graphGets(sim, /\/owners\?/)).toBe(1);
    expect(sim.requests.count((e) => e.api === 'exchange' && e.cmdlet === 'Get-ApplicationAccessPolicy')).toBe(1);
  });

  it('the drifted tenant: the undeclared app with its Graph owners, the extra permission, the removed policy and the secret, for the app\'s owner, report only', async () => {
    sim = await startSimulator({ scenario: 'drifted' });
    const r = await planAgainst(sim, synthDir, ['--format', 'json']);
    expect(r.code, r.stderr).toBe(2);
    const p = plan(r.stdout);
    expect(ours(p).map((f) => [f.control.id, f.check, f.status, f.owner.contact, f.change])).toEqual([
      ['MAIL.APPS.1', 'undeclared-mail-app', 'violation', 'dana.whitfield@tailspintoys.example', { action: 'none', automatic: false }],
      ['MAIL.APPS.1', 'undeclared-mail-permission', 'violation', 'jordan.patel@tailspintoys.example', { action: 'none', automatic: false }],
      ['MAIL.APPS.2', 'mail-app-scope', 'missing', 'jordan.patel@tailspintoys.example', { action: 'none', automatic: false }],
      ['MAIL.APPS.3', 'credential-not-allowed', 'violation', 'jordan.patel@tailspintoys.example', { action: 'none', automatic: false }],
    ]);
    const [undeclared, , scope, secret] = ours(p);
    expect(undeclared!.summary).toContain('"OOF Sync Cloud"');
    expect(undeclared!.summary).toContain('MailboxSettings.Read (Microsoft Graph)');
    expect(undeclared!.summary).toContain('its owners in Entra ID are sam.ortiz@tailspintoys.example');
    expect(scope!.remediation).toContain(`New-ApplicationAccessPolicy -AppId ${APP} -PolicyScopeGroupId 'payroll-senders@tailspintoys.example' -AccessRight RestrictAccess`);
    expect(secret!.remediation).toContain(`az ad app credential delete --id ${APP} --key-id 9b2d4f6a-8c0e-4a2c-9e4f-6b8d0f2a4c6e`);
    // The hint Graph returns is in no output; neither is any secret text.
    expect(r.stdout).not.toContain('q8R');
    expect(r.stdout).not.toContain('secretText');
    // None of it is an automatic change, and no APP.CONSENT.5 finding for the declared app's declared permission.
    expect(p.changes.filter((c) => /MAIL\.APPS/.test(JSON.stringify(c)))).toEqual([]);
    expect(p.findings.filter((f) => f.control.id === 'APP.CONSENT.5')).toEqual([]);
    const human = await planAgainst(sim, synthDir, []);
    expect(human.stdout).not.toContain('q8R');
  });

  it.each<[string, FaultRule, string]>([
    ['application registrations', { route: '^/v1\\.0/applications$', kind: 'status', status: 503 }, 'MAIL.APPS.3'],
    ['app owners', { route: '/owners$', kind: 'status', status: 503 }, 'MAIL.APPS.1'],
    ['application access policies', { api: 'exchange', route: '^Get-ApplicationAccessPolicy$', kind: 'status', status: 503 }, 'MAIL.APPS.2'],
  ])('a failed read of %s leaves its control not evaluated and the run incomplete', async (_what, fault, control) => {
    sim = await startSimulator({ scenario: 'drifted', faults: [fault] });
    const r = await planAgainst(sim, synthDir, fast);
    expect(r.code).toBe(1);
    const p = plan(r.stdout);
    const mine = ours(p).filter((f) => f.control.id === control);
    expect(mine.map((f) => f.status)).toEqual(['not-evaluated']);
    expect(p.incomplete.length).toBeGreaterThan(0);
    // The other two controls are still evaluated.
    expect(ours(p).filter((f) => f.control.id !== control && f.status === 'not-evaluated')).toEqual([]);
  });

  it('an exception scoped to the app covers its findings; a posture without the area reads none of it', async () => {
    const outdir = join(mkdtempSync(join(tmpdir(), 'posture-e2e-')), 'cdktf.out');
    const synth = synthesize(
      (app) => {
        const stack = new TailspinStack(app, 'tailspin');
        stack.posture.addException({
          control: 'MAIL.APPS.3', scope: { type: 'app', value: APP },
          reason: 'The payroll provider\'s connector takes a secret until its certificate support ships.',
          approvedBy: 'ciso@tailspintoys.example', expires: '2026-08-31', ticket: 'RISK-4102',
        });
      },
      { outdir, context: { [TODAY_CONTEXT_KEY]: TODAY } },
    );
    expect(synth.ok).toBe(true);
    sim = await startSimulator({ scenario: 'drifted' });
    const p = plan((await planAgainst(sim, outdir, ['--format', 'json'])).stdout);
    expect(ours(p).filter((f) => f.control.id === 'MAIL.APPS.3').map((f) => f.status)).toEqual(['excepted']);
    await sim.stop();

    // The minimal example declares no MailApplications: nothing of the area is read.
    sim = await startSimulator({ scenario: loadScenario('compliant') });
    const r = await cli(['plan', ...target(sim, synthDir).map((a) => (a === 'tailspin' ? 'minimal' : a)), '--format', 'json', '--color', 'false'], tokens(sim));
    expect(r.code, r.stderr).not.toBe(1);
    expect(ours(plan(r.stdout))).toEqual([]);
    expect(graphGets(sim, /^\/v1\.0\/applications/)).toBe(0);
    expect(graphGets(sim, /\/owners/)).toBe(0);
  });
});
