import { existsSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { PlanDocument } from '../../reconciler/model/plan.js';
import { loadScenario, startSimulator, type RunningSimulator, type Scenario } from '../../simulator/index.js';
import { cli, tokens, writer, type CliResult } from './harness.js';

/**
 * A new user's first run: the posture written only from the README ("Declaring a posture"),
 * synthesized with `posture synth`, against a compliant tenant whose answers carry what real Graph
 * and Exchange send (annotations, server defaults, the Microsoft-managed domains).
 */
const root = fileURLToPath(new URL('../../', import.meta.url));
/** The example's exception expires 2027-03-31; synth runs on a day it is in force and within 180 days. */
const TODAY = '2026-12-01';

function readmeExample(): string {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## Declaring a posture'));
  const m = /```ts\n([\s\S]*?)```/.exec(section);
  if (!m) throw new Error('README.md: no TypeScript example under "Declaring a posture"');
  return m[1]!;
}

let project: string;
let synthDir: string;
let sim: RunningSimulator | undefined;
let synth: CliResult;

beforeAll(async () => {
  // The user's project: the README's code as their app, cdktf.json naming it, this package installed.
  project = mkdtempSync(join(tmpdir(), 'posture-readme-'));
  const code = readmeExample();
  expect(code).toContain("from './stacks/index.js'");
  writeFileSync(join(project, 'posture.mts'), code.replace("from './stacks/index.js'", `from ${JSON.stringify(join(root, 'stacks', 'index.js'))}`));
  writeFileSync(join(project, 'cdktf.json'), JSON.stringify({ language: 'typescript', app: 'node --import tsx posture.mts', output: 'cdktf.out' }));
  symlinkSync(join(root, 'node_modules'), join(project, 'node_modules'), 'dir');
  synth = await cli(['synth'], { CDKTF_CONTEXT_JSON: JSON.stringify({ 'email-posture:today': TODAY }) }, project);
  synthDir = join(project, 'cdktf.out');
}, 120_000);

afterEach(async () => {
  await sim?.stop();
  sim = undefined;
});

const tenant = (edit: (s: Scenario) => void = () => {}): Scenario => {
  const s = loadScenario(join(root, 'test', 'fixtures', 'readme-tenant.json'));
  edit(s);
  return s;
};
const args = (s: RunningSimulator) => [
  '--synth-dir', synthDir, '--stack', 'contoso', '--tenant', s.tenantId,
  '--graph-url', s.graphUrl, '--exchange-url', s.exoUrl, '--dns-server', `${s.dns.host}:${s.dns.port}`, '--today', TODAY,
];
async function plan(s: RunningSimulator): Promise<{ r: CliResult; plan: PlanDocument }> {
  const out = join(mkdtempSync(join(tmpdir(), 'posture-readme-plan-')), 'plan.json');
  const r = await cli(['plan', ...args(s), '--color', 'false', '--out', out], tokens(s));
  return { r, plan: JSON.parse(readFileSync(out, 'utf8')) as PlanDocument };
}

describe('the README example posture', () => {
  it('synthesizes with `posture synth`', () => {
    expect(synth.stderr).toBe('');
    expect(synth.code).toBe(0);
    expect(existsSync(join(synthDir, 'stacks', 'contoso', 'posture.json'))).toBe(true);
  });

  it('against a compliant tenant in the shape real answers take: 0 findings, exit 0; apply has nothing to do; a second plan has 0 changes', async () => {
    sim = await startSimulator({ scenario: tenant() });
    const first = await plan(sim);
    expect(first.plan.incomplete).toEqual([]);
    expect(first.plan.findings).toEqual([]);
    expect(first.r.code).toBe(0);
    // The plan went to a file: stdout has the run's summary.
    expect(first.r.stdout).toContain('Plan: 0 to create, 0 to update, 0 to delete; no findings in what could be read.');
    // Real answers were served: the annotation on every policy, Microsoft's domains, server defaults.
    expect(sim.requests.entries.some((e) => e.path.startsWith('/v1.0/identity/conditionalAccess/policies'))).toBe(true);

    const applied = await cli(['apply', '--auto-approve', ...args(sim)], writer(sim));
    expect(applied.code).toBe(0);
    const second = await plan(sim);
    expect(second.r.code).toBe(0);
    expect(second.plan.changes).toEqual([]);
    expect(second.plan.findings).toEqual([]);
  });

  it('against the same tenant with forwarding opened: apply fixes what the posture remediates, and a second plan has 0 changes and 0 findings', async () => {
    sim = await startSimulator({
      scenario: tenant((s) => {
        s.exchange.HostedOutboundSpamFilterPolicy[0]!['AutoForwardingMode'] = 'Automatic';
        s.exchange.RemoteDomain[0]!['AutoForwardEnabled'] = true;
        s.exchange.Mailbox.find((m) => m['UserPrincipalName'] === 'alex@contoso.example')!['ForwardingSmtpAddress'] = 'smtp:alex.w@exfil-mail.test';
      }),
    });
    const first = await plan(sim);
    expect(first.r.code).toBe(2);
    expect(first.plan.changes.map((c) => `${c.action} ${c.resource.type} ${c.resource.name}`).sort()).toEqual([
      'update hostedOutboundSpamFilterPolicy Default',
      'update mailbox alex@contoso.example',
      'update remoteDomain Default (*)',
    ]);
    const applied = await cli(['apply', '--auto-approve', ...args(sim)], writer(sim));
    expect(applied.code, applied.stderr).toBe(0);
    expect(applied.stdout).toContain('Apply complete: 3 changes applied and verified.');
    const second = await plan(sim);
    expect(second.r.code).toBe(0);
    expect(second.plan.changes).toEqual([]);
    expect(second.plan.findings).toEqual([]);
  });
});
