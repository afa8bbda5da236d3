import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Manifest } from '../../reconciler/manifest/schema.js';
import type { PlanDocument } from '../../reconciler/model/plan.js';
import type { Scenario } from '../../simulator/scenario/scenario.js';
import { loadScenario, startSimulator, type RunningSimulator } from '../../simulator/index.js';
import { cli, planAgainst, synthExamples, target, writer } from './harness.js';

/**
 * MAIL.EXPOSURE.1 (external senders marked), MAIL.EXPOSURE.2 (calendar and contact sharing) and
 * MAIL.EXPOSURE.3 (mailbox auditing) against the simulator over HTTP: the compliant tenant, the
 * drifted one, apply and a plan after it, a declared banner rule, and reads that fail.
 */
let synthDir: string;
let bannerDir: string;
let strictDir: string;
let sim: RunningSimulator | undefined;

/**
 * The example posture's synthesized output with its exposure declaration changed, as the
 * ExternalExposure construct writes it (test/stacks/exposure.test.ts checks the construct's side).
 */
function variant(change: (exposure: NonNullable<Manifest['desired']['exposure']>) => void): string {
  const outdir = join(mkdtempSync(join(tmpdir(), 'posture-e2e-')), 'cdktf.out');
  cpSync(synthDir, outdir, { recursive: true });
  const file = join(outdir, 'stacks', 'tailspin', 'posture.json');
  const m = JSON.parse(readFileSync(file, 'utf8')) as Manifest;
  change(m.desired.exposure!);
  writeFileSync(file, JSON.stringify(m, null, 2));
  return outdir;
}

beforeAll(() => {
  synthDir = synthExamples();
  bannerDir = variant((e) => (e.externalSenders.bannerRule = 'External sender warning'));
  strictDir = variant((e) => (e.sharing.allowFreeBusyWithAllDomains = false));
});
afterEach(async () => {
  await sim?.stop();
  sim = undefined;
});

const plan = (stdout: string) => JSON.parse(stdout) as PlanDocument;
const ours = (p: PlanDocument) => p.findings.filter((f) => f.control.id.startsWith('MAIL.EXPOSURE.'));
const EXPOSURE_TYPES = ['externalInOutlook', 'sharingPolicy', 'organizationConfig', 'transportRule'];
const writes = (p: PlanDocument) => p.changes.filter((c) => c.control.startsWith('MAIL.EXPOSURE.')).map((c) => c.write);

/** The compliant tenant with a warning banner rule for outside mail, the External tag off. */
function withBanner(change: (rule: Record<string, unknown>) => void = () => {}): Scenario {
  const s = loadScenario('compliant');
  s.exchange.ExternalInOutlook['Enabled'] = false;
  const rule: Record<string, unknown> = {
    Guid: '5c2e9a7d-1b3f-4e8a-9d60-7f4b2c1e8a35',
    Identity: 'External sender warning',
    Name: 'External sender warning',
    State: 'Enabled',
    Mode: 'Enforce',
    Priority: 1,
    FromScope: 'NotInOrganization',
    SentToScope: null,
    ApplyHtmlDisclaimerLocation: 'Prepend',
    ApplyHtmlDisclaimerText: '<p style="color:#9c2a00">This message came from outside Tailspin Toys.</p>',
    ApplyHtmlDisclaimerFallbackAction: 'Wrap',
    PrependSubject: null,
    SetSCL: null,
    RedirectMessageTo: null,
    BlindCopyTo: null,
    SenderDomainIs: null,
    WhenChanged: '2025-02-11T09:00:00Z',
  };
  change(rule);
  s.exchange.TransportRule.push(rule as Scenario['exchange']['TransportRule'][number]);
  return s;
}

describe('MAIL.EXPOSURE.1 to MAIL.EXPOSURE.3', () => {
  it('the compliant tenant has no finding of any of them', async () => {
    sim = await startSimulator({ scenario: 'compliant' });
    const r = await planAgainst(sim, synthDir, ['--format', 'json']);
    expect(r.code, r.stderr).toBe(0);
    expect(ours(plan(r.stdout))).toEqual([]);
  });

  it('the drifted tenant: the tag off, sharing open, auditing off and one mailbox customised, each found once with its write', async () => {
    sim = await startSimulator({ scenario: 'drifted' });
    const r = await planAgainst(sim, synthDir, ['--format', 'json']);
    expect(r.code, r.stderr).toBe(2);
    const p = plan(r.stdout);
    expect(ours(p).map((f) => [f.control.id, f.check, f.resource.type, f.status, f.change.action])).toEqual([
      ['MAIL.EXPOSURE.1', 'external-tag-enabled', 'externalInOutlook', 'violation', 'update'],
      ['MAIL.EXPOSURE.2', 'sharing-contacts-all-domains', 'sharingPolicy', 'violation', 'update'],
      ['MAIL.EXPOSURE.3', 'mailbox-audit-actions', 'mailbox', 'violation', 'none'],
      ['MAIL.EXPOSURE.3', 'mailbox-audit-org-disabled', 'organizationConfig', 'violation', 'update'],
    ]);
    const sharing = ours(p).find((f) => f.control.id === 'MAIL.EXPOSURE.2')!;
    expect(sharing.summary).toContain('contacts with every outside domain');
    expect(sharing.summary).toContain('calendars published to anonymous viewers');
    const audit = ours(p).find((f) => f.check === 'mailbox-audit-actions')!;
    expect(audit.resource.name).toBe('AuditOwner without MailItemsAccessed, UpdateInboxRules, Send');
    expect(audit.evidence.live).toMatchObject({ property: 'AuditOwner', count: 1, mailboxes: ['morgan.reed@tailspintoys.example'], notListed: 0 });
    expect(writes(p)).toEqual([
      { api: 'exchange', cmdlet: 'Set-ExternalInOutlook', parameters: { Identity: 'ExternalInOutlook', Enabled: true } },
      // Free/busy with every domain is declared allowed: it stays, contacts and anonymous publishing go.
      { api: 'exchange', cmdlet: 'Set-SharingPolicy', parameters: { Identity: 'Default Sharing Policy', Domains: ['*:CalendarSharingFreeBusySimple'] } },
      { api: 'exchange', cmdlet: 'Set-OrganizationConfig', parameters: { AuditDisabled: false } },
    ]);
  });

  it('apply makes the three writes and verifies them; a plan after it shows only the mailbox report, which apply never writes', async () => {
    const s = (sim = await startSimulator({ scenario: 'drifted' }));
    const dir = mkdtempSync(join(tmpdir(), 'posture-exposure-'));
    const planFile = join(dir, 'plan.json');
    const evidence = join(dir, 'evidence.jsonl');
    expect((await cli(['plan', ...target(s, synthDir), '--out', planFile, '--evidence', evidence], writer(s))).code).toBe(2);
    const applied = await cli(['apply', planFile, '--auto-approve', '--evidence', evidence, ...target(s, synthDir)], writer(s));
    expect(applied.code, applied.stderr).toBe(0);
    expect(s.tenant.externalInOutlook['Enabled']).toBe(true);
    expect(s.tenant.organizationConfig['AuditDisabled']).toBe(false);
    expect([...s.tenant.exchange.SharingPolicy.values()][0]!['Domains']).toEqual(['*:CalendarSharingFreeBusySimple']);
    const again = plan((await planAgainst(s, synthDir, ['--format', 'json'], writer(s))).stdout);
    expect(ours(again).map((f) => f.check)).toEqual(['mailbox-audit-actions']);
    expect(again.changes.filter((c) => EXPOSURE_TYPES.includes(c.resource.type))).toEqual([]);
    expect((await cli(['evidence', 'verify', evidence])).code).toBe(0);
  });

  it('once the mailbox gets its Microsoft-managed owner actions back, nothing is left', async () => {
    const s = (sim = await startSimulator({ scenario: 'drifted' }));
    s.tenant.organizationConfig['AuditDisabled'] = false;
    const m = [...s.tenant.exchange.Mailbox.values()].find((x) => x['UserPrincipalName'] === 'morgan.reed@tailspintoys.example')!;
    s.tenant.exchange.Mailbox.replace(m.id, { ...m, AuditOwner: ['ApplyRecord', 'HardDelete', 'MailItemsAccessed', 'MoveToDeletedItems', 'Send', 'SoftDelete', 'Update', 'UpdateCalendarDelegation', 'UpdateFolderPermissions', 'UpdateInboxRules'] });
    const p = plan((await planAgainst(s, synthDir, ['--format', 'json'])).stdout);
    expect(ours(p).filter((f) => f.control.id === 'MAIL.EXPOSURE.3')).toEqual([]);
  });

  it('the Default Sharing Policy as Exchange Online ships it fails without the free/busy declaration, and is disabled when nothing may stay', async () => {
    const s = loadScenario('compliant');
    s.exchange.SharingPolicy[0]!['Domains'] = ['Anonymous:CalendarSharingFreeBusyReviewer', '*:CalendarSharingFreeBusySimple'];
    sim = await startSimulator({ scenario: s });
    const declared = plan((await planAgainst(sim, synthDir, ['--format', 'json'])).stdout);
    expect(ours(declared).map((f) => [f.check, f.summary])).toEqual([
      ['sharing-anonymous-publishing', 'Sharing policy "Default Sharing Policy" lets users share calendars published to anonymous viewers (Anonymous:CalendarSharingFreeBusyReviewer).'],
    ]);
    const strict = plan((await planAgainst(sim, strictDir, ['--format', 'json'])).stdout);
    const f = ours(strict).find((x) => x.control.id === 'MAIL.EXPOSURE.2')!;
    expect(f.check).toBe('sharing-calendar-all-domains');
    expect(strict.changes.find((c) => c.resource.type === 'sharingPolicy')!.write).toEqual({ api: 'exchange', cmdlet: 'Set-SharingPolicy', parameters: { Identity: 'Default Sharing Policy', Enabled: false } });
  });

  it('a disabled sharing policy does not count, and named partner domains may share details', async () => {
    const s = loadScenario('compliant');
    s.exchange.SharingPolicy.push({
      Guid: '9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d', Identity: 'Retired policy', Name: 'Retired policy',
      Domains: ['*:CalendarSharingFreeBusyReviewer, ContactsSharing'], Enabled: false, Default: false,
    });
    s.exchange.SharingPolicy[0]!['Domains'] = ['*:CalendarSharingFreeBusySimple', 'wingtip-retail.example:CalendarSharingFreeBusyDetail, ContactsSharing'];
    sim = await startSimulator({ scenario: s });
    const r = await planAgainst(sim, synthDir, ['--format', 'json']);
    expect(r.code, r.stderr).toBe(0);
    expect(ours(plan(r.stdout))).toEqual([]);
  });

  describe('a declared banner rule', () => {
    it('that marks outside mail passes without the External tag, and the tag is never turned on', async () => {
      sim = await startSimulator({ scenario: withBanner() });
      const r = await planAgainst(sim, bannerDir, ['--format', 'json']);
      expect(r.code, r.stderr).toBe(0);
      expect(ours(plan(r.stdout))).toEqual([]);
    });

    it('that is right but disabled is enabled by apply, and a plan after it shows nothing', async () => {
      const s = (sim = await startSimulator({ scenario: withBanner((r) => (r['State'] = 'Disabled')) }));
      const r = await planAgainst(s, bannerDir, ['--format', 'json']);
      expect(r.code, r.stderr).toBe(2);
      const p = plan(r.stdout);
      expect(ours(p).map((f) => [f.check, f.status, f.change.action])).toEqual([['external-banner-rule', 'drift', 'update']]);
      expect(writes(p)).toEqual([{ api: 'exchange', cmdlet: 'Enable-TransportRule', parameters: { Identity: 'External sender warning', Confirm: false } }]);
      const dir = mkdtempSync(join(tmpdir(), 'posture-exposure-'));
      const planFile = join(dir, 'plan.json');
      const evidence = join(dir, 'evidence.jsonl');
      expect((await cli(['plan', ...target(s, bannerDir), '--out', planFile, '--evidence', evidence], writer(s))).code).toBe(2);
      const applied = await cli(['apply', planFile, '--auto-approve', '--evidence', evidence, ...target(s, bannerDir)], writer(s));
      expect(applied.code, applied.stderr).toBe(0);
      expect(s.tenant.externalInOutlook['Enabled']).toBe(false);
      const again = await planAgainst(s, bannerDir, ['--format', 'json'], writer(s));
      expect(again.code, again.stderr).toBe(0);
      expect(ours(plan(again.stdout))).toEqual([]);
    });

    it('that applies to every sender, or is missing, is reported for the owner and never written', async () => {
      sim = await startSimulator({ scenario: withBanner((r) => (r['FromScope'] = null)) });
      const p = plan((await planAgainst(sim, bannerDir, ['--format', 'json'])).stdout);
      expect(ours(p).map((f) => [f.check, f.status, f.change.action])).toEqual([['external-banner-rule', 'drift', 'none']]);
      expect(ours(p)[0]!.summary).toContain('mail from any sender');
      await sim.stop();
      sim = await startSimulator({ scenario: 'compliant' });
      const missing = plan((await planAgainst(sim, bannerDir, ['--format', 'json'])).stdout);
      expect(ours(missing).map((f) => [f.check, f.status, f.change.action, f.resource.name])).toEqual([['external-banner-rule', 'missing', 'none', 'External sender warning']]);
    });
  });

  it.each([
    ['Get-ExternalInOutlook', 'MAIL.EXPOSURE.1', /external sender tag/],
    ['Get-SharingPolicy', 'MAIL.EXPOSURE.2', /sharing policies/],
    ['Get-OrganizationConfig', 'MAIL.EXPOSURE.3', /organisation configuration/],
  ])('%s failing makes %s not evaluated and the run incomplete, never clean', async (cmdlet, control, what) => {
    sim = await startSimulator({ scenario: 'compliant', faults: [{ api: 'exchange', route: `^${cmdlet}$`, kind: 'status', status: 503 }] });
    const r = await planAgainst(sim, synthDir, ['--format', 'json', '--max-retries', '1', '--timeout', '2']);
    expect(r.code).toBe(1);
    const p = plan(r.stdout);
    expect(ours(p).filter((f) => f.control.id === control).map((f) => f.status)).toEqual(['not-evaluated']);
    expect(JSON.stringify(p)).toMatch(what);
  });
});
