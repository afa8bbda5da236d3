import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { PlanDocument } from '../../reconciler/model/plan.js';
import { loadScenario, startSimulator, type RunningSimulator, type Scenario } from '../../simulator/index.js';
import { cli, planAgainst, synthExamples, target, writer } from './harness.js';

let synthDir: string;
let sim: RunningSimulator | undefined;
beforeAll(() => {
  synthDir = synthExamples();
});
afterEach(async () => {
  await sim?.stop();
  sim = undefined;
});

const compliant = (edit: (s: Scenario) => void): Scenario => {
  const s = loadScenario('compliant');
  edit(s);
  return s;
};

async function plan(s: RunningSimulator): Promise<{ code: number | null; plan: PlanDocument; stderr: string }> {
  const out = join(mkdtempSync(join(tmpdir(), 'posture-plan-')), 'plan.json');
  const r = await cli(['plan', ...target(s, synthDir), '--out', out], writer(s));
  return { code: r.code, plan: JSON.parse(readFileSync(out, 'utf8')) as PlanDocument, stderr: r.stderr };
}
const lines = (p: PlanDocument) => p.findings.map((f) => `${f.control.id} ${f.status} ${f.resource.name}: ${f.summary}`);

const mailbox = (s: Scenario, upn: string) => s.exchange.Mailbox.find((m) => m['UserPrincipalName'] === upn)!;
const rule = (name: string, actions: Record<string, unknown>) => ({
  Guid: `0d0e0f10-0000-5000-8000-${String(name.length).padStart(4, '0')}${name.replace(/[^a-z]/gi, '').slice(0, 8).padEnd(8, '0').replace(/[^0-9a-f]/gi, 'a').toLowerCase()}`,
  Identity: name, Name: name, State: 'Enabled', Mode: 'Enforce', Priority: 1, SentToScope: null, SetSCL: null,
  RedirectMessageTo: null, BlindCopyTo: null, CopyTo: null, AddToRecipients: null, ModerateMessageByUser: null, ModerateMessageByManager: false,
  AddManagerAsRecipientType: null, GenerateIncidentReport: null, IncidentReportContent: null, WhenChanged: '2026-11-30T10:00:00Z',
  ...actions,
});

describe('mailbox forwarding through a recipient identity', () => {
  it('a ForwardingAddress naming a mail contact or mail user whose address is outside is a violation, and apply clears it', async () => {
    sim = await startSimulator({
      scenario: compliant((s) => {
        mailbox(s, 'alex.kim@tailspintoys.example')['ForwardingAddress'] = 'Payroll Provider Desk';
        mailbox(s, 'jordan.patel@tailspintoys.example')['ForwardingAddress'] = 'Jamie Rivera';
        // Internal destinations: a mailbox by its identity, a group by its name.
        mailbox(s, 'casey.lee@tailspintoys.example')['ForwardingAddress'] = 'Sam Ortiz';
        mailbox(s, 'riley.chen@tailspintoys.example')['ForwardingAddress'] = 'Messaging Team';
      }),
    });
    const first = await plan(sim);
    expect(first.code).toBe(2);
    expect(lines(first.plan)).toEqual([
      'MAIL.FWD.3 violation alex.kim@tailspintoys.example: Mailbox alex.kim@tailspintoys.example forwards all mail to desk@payroll-partner.example (mail contact "Payroll Provider Desk"), outside the organisation.',
      'MAIL.FWD.3 violation jordan.patel@tailspintoys.example: Mailbox jordan.patel@tailspintoys.example forwards all mail to jamie@rivera-design.example (mail user "Jamie Rivera (contractor)"), outside the organisation.',
    ]);
    const applied = await cli(['apply', '--auto-approve', ...target(sim, synthDir)], writer(sim));
    expect(applied.code).toBe(0);
    expect(sim.tenant.exchange.Mailbox.findBy('UserPrincipalName', 'alex.kim@tailspintoys.example')[0]!['ForwardingAddress']).toBeNull();
    expect((await plan(sim)).plan.findings).toEqual([]);
  });

  it('an SMTP address held by a mail user delivers to its external address', async () => {
    sim = await startSimulator({ scenario: compliant((s) => void (mailbox(s, 'alex.kim@tailspintoys.example')['ForwardingSmtpAddress'] = 'smtp:jamie.rivera@tailspintoys.example')) });
    const { plan: p } = await plan(sim);
    expect(lines(p)).toEqual(['MAIL.FWD.3 violation alex.kim@tailspintoys.example: Mailbox alex.kim@tailspintoys.example forwards all mail to jamie@rivera-design.example (mail user "Jamie Rivera (contractor)"), outside the organisation.']);
  });

  it('a ForwardingAddress that names no recipient that was read is reported for its owner, and not cleared', async () => {
    sim = await startSimulator({ scenario: compliant((s) => void (mailbox(s, 'alex.kim@tailspintoys.example')['ForwardingAddress'] = 'Archive Public Folder')) });
    const { code, plan: p } = await plan(sim);
    expect(code).toBe(2);
    expect(p.findings.map((f) => [f.control.id, f.status, f.change.action])).toEqual([['MAIL.FWD.3', 'violation', 'none']]);
    expect(p.findings[0]!.summary).toContain('"Archive Public Folder", which is no mailbox, mail user, mail contact or group that was read');
    expect(p.changes).toEqual([]);
  });
});

describe('transport rules that copy mail outside', () => {
  it('CopyTo, AddToRecipients, moderation, incident reports with the message attached and the sender\'s manager are all found', async () => {
    sim = await startSimulator({
      scenario: compliant((s) => {
        s.exchange.TransportRule.push(
          rule('Copy finance', { CopyTo: ['auditor@outside-audit.test'] }),
          rule('Add archive', { AddToRecipients: ['Payroll Provider Desk'] }),
          rule('Moderate press', { ModerateMessageByUser: ['press-desk@agency.test'] }),
          rule('DLP report', { GenerateIncidentReport: 'dlp@reports.test', IncidentReportContent: ['Sender', 'Subject', 'AttachOriginalMessage'] }),
          rule('Manager copy', { AddManagerAsRecipientType: 'Bcc' }),
          rule('Internal copy', { CopyTo: ['sam.ortiz@tailspintoys.example'], BlindCopyTo: ['Messaging Team'] }),
        );
        s.exchange.User.push({ Guid: '5e3b7c1d-0000-5000-8000-00000000a001', Identity: 'Drew Evans', Name: 'Drew Evans', UserPrincipalName: 'drew.evans@tailspintoys.example', Manager: 'Jamie Rivera' });
      }),
    });
    const { code, plan: p } = await plan(sim);
    expect(code).toBe(2);
    expect(lines(p)).toEqual([
      'MAIL.FWD.5 violation Add archive: Transport rule "Add archive" adds as a recipient desk@payroll-partner.example (mail contact "Payroll Provider Desk"): mail leaves the organisation.',
      'MAIL.FWD.5 violation Copy finance: Transport rule "Copy finance" copies mail to auditor@outside-audit.test: mail leaves the organisation.',
      'MAIL.FWD.5 violation DLP report: Transport rule "DLP report" sends incident reports to dlp@reports.test (with the original message attached): mail leaves the organisation.',
      'MAIL.FWD.5 violation Manager copy: Transport rule "Manager copy" sends mail to the sender\'s manager, and jamie@rivera-design.example (mail user "Jamie Rivera (contractor)") is a manager outside the organisation: mail leaves the organisation.',
      'MAIL.FWD.5 violation Moderate press: Transport rule "Moderate press" sends mail for approval to press-desk@agency.test: mail leaves the organisation.',
    ]);
    expect(p.changes.map((c) => c.write)).toContainEqual({ api: 'exchange', cmdlet: 'Disable-TransportRule', parameters: { Identity: 'Copy finance', Confirm: false } });
  });
});

describe('what a third-party app holds for the whole organisation', () => {
  const GRAPH_SP = '798639da-84a7-531a-9207-9e26cb724cc9';
  const EXO_SP = '1c0a0b29-74b0-59e5-9de9-eed4cc7def86';
  const SHIFT = '976e15ab-35e9-5eb6-bf1a-5d0cc13c964f';
  const assignment = (id: string, appRoleId: string, principalId: string, resourceId: string, principalDisplayName: string) => ({
    id, deletedDateTime: null, appRoleId, createdDateTime: '2026-11-20T09:00:00Z', principalDisplayName, principalId, principalType: 'ServicePrincipal', resourceDisplayName: resourceId === GRAPH_SP ? 'Microsoft Graph' : 'Office 365 Exchange Online', resourceId,
  });

  it('tenant-wide consents and application permissions to mail are found, Microsoft\'s own apps are not, and apply removes them', async () => {
    sim = await startSimulator({
      scenario: compliant((s) => {
        s.graph.oauth2PermissionGrants.push({ id: 'gAllPrincipalsShiftMail0000000000000000000', clientId: SHIFT, consentType: 'AllPrincipals', principalId: null, resourceId: GRAPH_SP, scope: 'User.Read Mail.Read' });
        s.graph.appRoleAssignments.push(
          assignment('aShiftMailReadWrite0000000000000000000000000', 'e2a3a72e-5f79-4c64-b1b1-878b674786c9', SHIFT, GRAPH_SP, 'Shift Scheduler'),
          assignment('aShiftFullAccess00000000000000000000000000000', 'dc890d15-9560-4a4c-9b7f-a736ec74ec40', SHIFT, EXO_SP, 'Shift Scheduler'),
          // Exchange Online's own service principal reading mail through Graph is Microsoft's.
          assignment('aExchangeMailRead0000000000000000000000000000', '810c84a8-4a9e-49e6-bf7d-12d183f40d01', EXO_SP, GRAPH_SP, 'Office 365 Exchange Online'),
        );
      }),
    });
    const first = await plan(sim);
    expect(first.code).toBe(2);
    expect(first.plan.findings.map((f) => `${f.control.id} ${f.check} ${f.resource.type}:${f.resource.name}`)).toEqual([
      'APP.CONSENT.5 tenant-wide-grant-high-risk-scope oauth2PermissionGrant:Shift Scheduler ← all users',
      'APP.CONSENT.5 app-permission-high-risk appRoleAssignment:Shift Scheduler → Microsoft Graph Mail.ReadWrite',
      'APP.CONSENT.5 app-permission-high-risk appRoleAssignment:Shift Scheduler → Office 365 Exchange Online full_access_as_app',
      // Nobody declared the app either; that is for its owner to answer (report only).
      'MAIL.APPS.1 undeclared-mail-app servicePrincipal:Shift Scheduler',
    ]);
    expect(first.plan.changes.map((c) => c.write)).toEqual(expect.arrayContaining([
      { api: 'graph', method: 'DELETE', path: `/servicePrincipals/${GRAPH_SP}/appRoleAssignedTo/aShiftMailReadWrite0000000000000000000000000` },
    ]));
    const applied = await cli(['apply', '--auto-approve', ...target(sim, synthDir)], writer(sim));
    expect(applied.code).toBe(0);
    expect(applied.stdout).toContain('Apply complete: 3 changes applied and verified.');
    expect(sim.tenant.graph.appRoleAssignments.findBy('principalId', SHIFT)).toEqual([]);
    const second = await plan(sim);
    expect(second.plan.findings).toEqual([]);
    expect(second.plan.changes).toEqual([]);
  });

  it('a failed read of the application permissions makes the run incomplete, never clean', async () => {
    sim = await startSimulator({ scenario: 'compliant', faults: [{ route: '/appRoleAssignedTo$', kind: 'status', status: 503 }] });
    const r = await planAgainst(sim, synthDir, ['--max-retries', '1', '--timeout', '2', '--format', 'json']);
    expect(r.code).toBe(1);
    const p = JSON.parse(r.stdout) as PlanDocument;
    expect(p.incomplete.map((i) => i.what)).toEqual(['application permissions to the mail APIs']);
    expect(p.findings.map((f) => `${f.control.id} ${f.status}`)).toEqual(['APP.CONSENT.5 not-evaluated', 'MAIL.APPS.1 not-evaluated']);
  });
});
