import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PlanDocument } from '../../reconciler/model/plan.js';
import { startSimulator, type RunningSimulator } from '../../simulator/index.js';
import { permissionsFor } from '../../reconciler/cli/permissions.js';
import { ALL_GRAPH_PERMISSIONS, EXCHANGE_AUDIENCE, mintToken, ROLE_IDS } from '../../simulator/index.js';
import { planAgainst, synthExamples, tokens } from './harness.js';

let synthDir: string;
beforeAll(() => {
  synthDir = synthExamples();
});

const json = (stdout: string) => JSON.parse(stdout) as PlanDocument;

/** Every drift planted in the drifted tenant: control, status, owner and resource. */
const DRIFTED_FINDINGS = [
  'APP.CONSENT.1v1 drift dana.whitfield@tailspintoys.example authorizationPolicy:Authorization Policy',
  'APP.CONSENT.4v1 violation dana.whitfield@tailspintoys.example oauth2PermissionGrant:QuickMail Organizer ← taylor.nguyen@tailspintoys.example',
  'GOV.OWNER.1v1 violation secops@tailspintoys.example user:dana.whitfield@tailspintoys.example',
  'ID.AUTH.1v1 violation identity-team@tailspintoys.example conditionalAccessPolicy:EP - Privileged roles: phishing-resistant MFA',
  'ID.AUTH.2v1 violation identity-team@tailspintoys.example userRegistrationDetails:enabled member users',
  'ID.AUTH.3v1 drift identity-team@tailspintoys.example authenticationMethodsPolicy:Sms authentication method',
  'ID.CA.3v1 drift identity-team@tailspintoys.example conditionalAccessPolicy:EP - Privileged roles: phishing-resistant MFA',
  'ID.CA.5v1 drift identity-team@tailspintoys.example conditionalAccessPolicy:EP - Sign-in risk medium+high: MFA every time',
  'MAIL.DMARC.1v1 missing mail-platform@tailspintoys.example domain:tailspin-toys.example',
  'MAIL.DMARC.2v1 violation mail-platform@tailspintoys.example domain:tailspintoys.example',
  'MAIL.EXPOSURE.1v1 violation mail-platform@tailspintoys.example externalInOutlook:ExternalInOutlook',
  'MAIL.EXPOSURE.2v1 violation mail-platform@tailspintoys.example sharingPolicy:Default Sharing Policy',
  'MAIL.EXPOSURE.3v1 violation secops@tailspintoys.example mailbox:AuditOwner without MailItemsAccessed, UpdateInboxRules, Send',
  'MAIL.EXPOSURE.3v1 violation secops@tailspintoys.example organizationConfig:tailspintoys.onmicrosoft.example',
  'MAIL.FWD.1v1 drift mail-platform@tailspintoys.example hostedOutboundSpamFilterPolicy:Default',
  'MAIL.FWD.4v1 violation secops@tailspintoys.example inboxRule:morgan.reed@tailspintoys.example: "."',
  'MAIL.INBOUND.2v1 violation mail-platform@tailspintoys.example transportRule:Partner mail bypass',
  'MAIL.INBOUND.3v1 violation mail-platform@tailspintoys.example hostedConnectionFilterPolicy:Default',
  'MAIL.INBOUND.3v1 violation mail-platform@tailspintoys.example hostedConnectionFilterPolicy:Default',
  'MAIL.SMTP.1v1 violation identity-team@tailspintoys.example transportConfig:Transport Settings',
  'MAIL.APPS.1v1 violation dana.whitfield@tailspintoys.example servicePrincipal:OOF Sync Cloud',
  'MAIL.APPS.1v1 violation jordan.patel@tailspintoys.example servicePrincipal:Payroll Statement Mailer',
  'MAIL.APPS.2v1 missing jordan.patel@tailspintoys.example applicationAccessPolicy:Payroll Statement Mailer (e4a1c9b2-6d3f-4f8a-9b2c-7d1e5f3a8c64)',
  'MAIL.APPS.3v1 violation jordan.patel@tailspintoys.example appRegistration:Payroll Statement Mailer client secret "quick-fix" (keyId 9b2d4f6a-8c0e-4a2c-9e4f-6b8d0f2a4c6e)',
  'MAIL.THREAT.1v1 drift mail-platform@tailspintoys.example antiPhishPolicy:Office365 AntiPhish Default',
  'MAIL.THREAT.1v1 drift mail-platform@tailspintoys.example antiPhishPolicy:Office365 AntiPhish Default',
  'MAIL.THREAT.2v1 drift mail-platform@tailspintoys.example hostedContentFilterPolicy:Default',
  'MAIL.THREAT.2v1 drift mail-platform@tailspintoys.example hostedContentFilterPolicy:Default',
  'MAIL.THREAT.3v1 drift mail-platform@tailspintoys.example safeLinksPolicy:Tailspin Safe Links',
  'MAIL.THREAT.3v1 drift mail-platform@tailspintoys.example safeLinksPolicy:Tailspin Safe Links',
  'MAIL.THREAT.4v1 drift mail-platform@tailspintoys.example safeAttachmentPolicy:Tailspin Safe Attachments',
  'MAIL.THREAT.4v1 drift mail-platform@tailspintoys.example safeAttachmentPolicy:Tailspin Safe Attachments',
  'MAIL.THREAT.5v1 drift mail-platform@tailspintoys.example malwareFilterPolicy:Default',
  'MAIL.THREAT.5v1 drift mail-platform@tailspintoys.example malwareFilterPolicy:Default',
];

describe('plan against the compliant tenant', () => {
  let sim: RunningSimulator;
  beforeAll(async () => {
    sim = await startSimulator({ scenario: 'compliant' });
  });
  afterAll(() => sim.stop());

  it('exits 0 with zero findings, reading through the published limits', async () => {
    const r = await planAgainst(sim, synthDir, ['--format', 'json']);
    expect(r.stderr).not.toMatch(/warning/);
    expect(r.code).toBe(0);
    const plan = json(r.stdout);
    expect(plan.findings).toEqual([]);
    expect(plan.incomplete).toEqual([]);
    expect(plan.summary.changes).toEqual({ create: 0, update: 0, delete: 0 });
  });

  it('needs no more than the read-only permissions `posture permissions plan` lists', async () => {
    const graphRoles = permissionsFor('plan').filter((p) => p.api === 'graph').map((p) => p.name);
    const r = await planAgainst(sim, synthDir, ['--format', 'json'], tokens(sim, graphRoles));
    expect(r.code).toBe(0);
    expect(json(r.stdout).findings).toEqual([]);
  });

  // Every permission the command lists is one a read needs, and a read refused for lack of it makes
  // the run incomplete, naming the permission: none is listed for nothing, none fails silently.
  const planGraph = permissionsFor('plan').filter((p) => p.api === 'graph').map((p) => p.name);
  it.each(planGraph)('without %s, the plan exits 1 and names it as not read', async (missing) => {
    const granted = planGraph.filter((p) => p !== missing);
    const r = await planAgainst(sim, synthDir, ['--format', 'json', '--max-retries', '1'], tokens(sim, granted));
    expect(r.code).toBe(1);
    const plan = json(r.stdout);
    expect(plan.incomplete.map((i) => i.error)).toContain(`permission missing: ${missing}`);
    expect(r.stderr).toMatch(/the run is incomplete; this is not a clean result/);
    expect(r.stderr).toContain(missing);
  });

  it.each([
    ['the Exchange.ManageAsApp application permission', [] as string[], [ROLE_IDS.globalReader]],
    ['the Global Reader directory role', ['Exchange.ManageAsApp'], [] as string[]],
  ])('without %s, the plan exits 1 and names Exchange as not read', async (_what, roles, wids) => {
    expect(permissionsFor('plan').map((p) => p.name)).toEqual(expect.arrayContaining(['Exchange.ManageAsApp', 'Global Reader']));
    const env = {
      POSTURE_GRAPH_TOKEN: mintToken({ tenantId: sim.tenantId, roles: ALL_GRAPH_PERMISSIONS }),
      POSTURE_EXCHANGE_TOKEN: mintToken({ tenantId: sim.tenantId, audience: EXCHANGE_AUDIENCE, roles, wids }),
    };
    const r = await planAgainst(sim, synthDir, ['--format', 'json', '--max-retries', '1'], env);
    expect(r.code).toBe(1);
    const plan = json(r.stdout);
    expect(plan.incomplete.map((i) => i.endpoint)).toEqual(expect.arrayContaining(['Exchange Get-AcceptedDomain', 'Exchange Get-Mailbox', 'Exchange Get-DkimSigningConfig']));
    expect(plan.incomplete.every((i) => !i.endpoint.startsWith('Exchange') || i.error === 'permission missing: Exchange.ManageAsApp with the Global Reader role')).toBe(true);
  });

  it('prints a human plan that says so', async () => {
    const r = await planAgainst(sim, synthDir);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('No changes. The tenant matches the posture.');
  });
});

describe('plan against the drifted tenant', () => {
  let sim: RunningSimulator;
  beforeAll(async () => {
    sim = await startSimulator({ scenario: 'drifted' });
  });
  afterAll(() => sim.stop());

  it('finds every planted drift with the right control and owner, and nothing else', async () => {
    const r = await planAgainst(sim, synthDir, ['--format', 'json']);
    expect(r.code).toBe(2);
    const got = json(r.stdout).findings.map((f) => `${f.control.versionedId} ${f.status} ${f.owner.contact} ${f.resource.type}:${f.resource.name}`).sort();
    expect(got).toEqual([...DRIFTED_FINDINGS].sort());
  });

  it('gives each finding what an owner needs: severity, evidence, a patch or a remediation, frameworks', async () => {
    const plan = json((await planAgainst(sim, synthDir, ['--format', 'json'])).stdout);
    for (const f of plan.findings) {
      expect(f.id).toMatch(/^EP-[0-9a-f]{16}$/);
      expect(f.evidence.endpoint).toBeTruthy();
      expect(Date.parse(f.evidence.readAt)).toBeGreaterThan(0);
      expect(f.frameworks.nistCsf.length).toBeGreaterThan(0);
      expect(f.patch.length > 0 || Boolean(f.remediation)).toBe(true);
    }
    const dmarc = plan.findings.find((f) => f.control.id === 'MAIL.DMARC.2')!;
    expect(dmarc.remediation).toBe('Publish TXT at _dmarc.tailspintoys.example: "v=DMARC1; p=reject; adkim=s; rua=mailto:dmarc-reports@tailspintoys.example"');
    const ca = plan.findings.find((f) => f.control.id === 'ID.CA.5')!;
    expect(ca.change).toEqual({ action: 'update', automatic: true });
    expect(plan.findings.find((f) => f.control.id === 'MAIL.DMARC.1')!.change).toEqual({ action: 'none', automatic: false });
  });

  it('a second plan with nothing changed gives identical finding ids', async () => {
    const a = json((await planAgainst(sim, synthDir, ['--format', 'json'])).stdout).findings.map((f) => f.id);
    const b = json((await planAgainst(sim, synthDir, ['--format', 'json'])).stdout).findings.map((f) => f.id);
    expect(b).toEqual(a);
    expect(new Set(a).size).toBe(a.length);
  });

  it('drift is the same read-only check for scheduled jobs', async () => {
    const r = await planAgainst(sim, synthDir, ['--format', 'json'], undefined, 'drift');
    expect(r.code).toBe(2);
    expect(json(r.stdout)).toMatchObject({ kind: 'drift', summary: { findings: DRIFTED_FINDINGS.length } });
  });
});
