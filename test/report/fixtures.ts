import { createHash } from 'node:crypto';
import { resolveControl } from '../../policies/catalogue.js';
import type { Finding, FindingStatus, IncompleteRead } from '../../reconciler/model/finding.js';
import type { PlanDocument, PlanSummary } from '../../reconciler/model/plan.js';
import type { Owner } from '../../reconciler/manifest/schema.js';

export const mailPlatform: Owner = { name: 'Mail Platform Lead', team: 'Messaging', contact: 'mail-platform@tailspintoys.example' };
export const identity: Owner = { name: 'Identity Engineering Lead', team: 'Identity', contact: 'identity-team@tailspintoys.example' };
export const secOps: Owner = { name: 'Security Operations Manager', team: 'SecOps', contact: 'secops@tailspintoys.example' };

/** A display name an attacker chose for an inbox rule: markup, a table pipe and a backtick. */
export const HOSTILE_NAME = '<img src=x onerror=alert(1)> | pipe `tick`';
/** A transport rule name with every character XML must escape. */
export const XML_HOSTILE_NAME = `Copy "legal" <archive> & 'audit'`;

const READ_AT = '2025-06-02T02:00:14.512Z';

type FindingInput = Omit<Finding, 'id' | 'control' | 'severity' | 'frameworks' | 'evidence'> & {
  readonly control: string;
  readonly evidence: Omit<Finding['evidence'], 'readAt'> & { readonly readAt?: string };
};

/** A finding whose control, severity and frameworks come from the catalogue, and whose id is stable. */
export function finding(input: FindingInput): Finding {
  const resolved = resolveControl(input.control);
  if ('error' in resolved) throw new Error(resolved.error);
  const c = resolved.control;
  const versionedId = `${c.id}v${c.version}`;
  const key = `${versionedId}|${input.check}|${input.resource.type}|${input.resource.id ?? input.resource.name}`;
  return {
    ...input,
    id: createHash('sha256').update(key).digest('hex').slice(0, 24),
    control: { id: c.id, version: c.version, versionedId, title: c.title },
    severity: c.severity,
    frameworks: c.frameworks,
    evidence: { readAt: READ_AT, ...input.evidence },
  };
}

/** The summary the plan computes: counts by status, severity and owner, and what apply would change. */
export function summarize(findings: readonly Finding[]): PlanSummary {
  const byStatus: Partial<Record<FindingStatus, number>> = {};
  const bySeverity: Partial<Record<Finding['severity'], number>> = {};
  const byOwner: Record<string, { owner: Owner; findings: number }> = {};
  const changes = { create: 0, update: 0, delete: 0 };
  for (const f of findings) {
    byStatus[f.status] = (byStatus[f.status] ?? 0) + 1;
    bySeverity[f.severity] = (bySeverity[f.severity] ?? 0) + 1;
    const o = (byOwner[f.owner.contact] ??= { owner: f.owner, findings: 0 });
    o.findings++;
    if (f.change.automatic && f.change.action !== 'none') changes[f.change.action]++;
  }
  return { findings: findings.length, byStatus, bySeverity, byOwner, changes };
}

/** A plan document around the given findings and incomplete reads. */
export function makePlan(findings: readonly Finding[], incomplete: readonly IncompleteRead[] = [], kind: 'plan' | 'drift' = 'plan'): PlanDocument {
  const plan: Omit<PlanDocument, 'planHash'> = {
    format: 'email-posture-plan',
    formatVersion: 1,
    createdAt: '2025-06-02T02:00:31.207Z',
    tool: { name: 'email-posture', version: '0.1.0' },
    kind,
    stack: 'tailspin',
    organization: 'Tailspin Toys',
    tenantId: '6f1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d',
    desiredHash: 'sha256:9c1f5e0b7a3d2c4e6f8091a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6',
    summary: summarize(findings),
    findings,
    incomplete,
    changes: [],
  };
  return { ...plan, planHash: createHash('sha256').update(JSON.stringify(plan)).digest('hex') };
}

const caPolicy = '/identity/conditionalAccess/policies';

/** The findings of a drifted Tailspin Toys tenant: every status, sign and owner the reports show. */
export function driftedFindings(): Finding[] {
  return [
    finding({
      control: 'MAIL.DMARC.2',
      check: 'dmarc-policy',
      resource: { type: 'domain', id: 'tailspintoys.example', name: 'tailspintoys.example' },
      owner: mailPlatform,
      status: 'violation',
      mode: 'report',
      summary: 'The DMARC policy of tailspintoys.example is p=none, so receivers deliver forged mail that fails DMARC.',
      patch: [{ op: 'replace', path: '/policy', value: 'reject' }],
      change: { action: 'none', automatic: false },
      evidence: {
        endpoint: 'DNS TXT _dmarc.tailspintoys.example',
        live: { record: 'v=DMARC1; p=none; rua=mailto:dmarc-reports@tailspintoys.example', policy: 'none', pct: 100 },
      },
      remediation:
        'Replace the TXT record at _dmarc.tailspintoys.example with:\n' +
        'v=DMARC1; p=reject; sp=reject; pct=100; rua=mailto:dmarc-reports@tailspintoys.example; adkim=s; aspf=r',
    }),
    finding({
      control: 'MAIL.DMARC.4',
      check: 'dmarc-alignment',
      resource: { type: 'domain', id: 'news.tailspintoys.example', name: 'news.tailspintoys.example' },
      owner: mailPlatform,
      status: 'violation',
      mode: 'report',
      summary: 'DKIM alignment of news.tailspintoys.example is strict (adkim=s) where the posture declares relaxed.',
      patch: [{ op: 'replace', path: '/adkim', value: 'r' }],
      change: { action: 'none', automatic: false },
      evidence: { endpoint: 'DNS TXT _dmarc.news.tailspintoys.example', live: { adkim: 's', aspf: 'r' } },
      remediation: 'Set adkim=r in the TXT record at _dmarc.news.tailspintoys.example.',
    }),
    finding({
      control: 'MAIL.DKIM.1',
      check: 'dkim-signing-enabled',
      resource: { type: 'dkimSigningConfig', id: 'news.tailspintoys.example', name: 'news.tailspintoys.example' },
      owner: mailPlatform,
      status: 'drift',
      mode: 'remediate',
      summary: 'DKIM signing is disabled for news.tailspintoys.example in Exchange Online.',
      patch: [{ op: 'replace', path: '/Enabled', value: true }],
      change: { action: 'update', automatic: true },
      evidence: { endpoint: 'Exchange Get-DkimSigningConfig -Identity news.tailspintoys.example', live: { Enabled: false, Status: 'Disabled' } },
    }),
    finding({
      control: 'MAIL.FWD.1',
      check: 'outbound-autoforward-off',
      resource: { type: 'hostedOutboundSpamFilterPolicy', id: 'Default', name: 'Default' },
      owner: mailPlatform,
      status: 'drift',
      mode: 'remediate',
      summary: 'The default outbound spam filter policy lets mailboxes forward mail automatically to outside addresses.',
      patch: [{ op: 'replace', path: '/AutoForwardingMode', value: 'Off' }],
      change: { action: 'update', automatic: true },
      evidence: { endpoint: 'Exchange Get-HostedOutboundSpamFilterPolicy', live: { Identity: 'Default', AutoForwardingMode: 'Automatic' } },
    }),
    finding({
      control: 'MAIL.FWD.5',
      check: 'transport-rule-external-copy',
      resource: { type: 'transportRule', id: '2b7c9e4a-1f3d-4c5b-9a8e-7d6c5b4a3f21', name: XML_HOSTILE_NAME },
      owner: mailPlatform,
      status: 'unmanaged',
      mode: 'remediate',
      summary: `Transport rule ${XML_HOSTILE_NAME} blind-copies mail for legal@ to archive@offsite-vault.example.`,
      patch: [{ op: 'replace', path: '/State', value: 'Disabled' }],
      change: { action: 'update', automatic: true },
      evidence: {
        endpoint: 'Exchange Get-TransportRule',
        live: { Name: XML_HOSTILE_NAME, State: 'Enabled', BlindCopyTo: ['archive@offsite-vault.example'] },
      },
    }),
    finding({
      control: 'MAIL.FWD.3',
      check: 'mailbox-forwarding-external',
      resource: { type: 'mailbox', id: 'a7d1e0c2-3b4f-4e6a-9c8d-1f2e3d4c5b6a', name: 'payroll@tailspintoys.example' },
      owner: mailPlatform,
      status: 'excepted',
      mode: 'remediate',
      summary: 'payroll@tailspintoys.example forwards to statements@payroll-partner.example.',
      patch: [{ op: 'replace', path: '/ForwardingSmtpAddress', value: null }],
      change: { action: 'none', automatic: false },
      evidence: {
        endpoint: 'Exchange Get-Mailbox -Identity payroll@tailspintoys.example',
        live: { ForwardingSmtpAddress: 'smtp:statements@payroll-partner.example', DeliverToMailboxAndForward: true },
      },
      exception: {
        id: 'MAIL.FWD.3v1/user/payroll@tailspintoys.example',
        approvedBy: 'ciso@tailspintoys.example',
        expires: '2025-08-31',
        reason: 'Payroll statements are forwarded to the outsourced payroll provider until its API integration goes live.',
        ticket: 'RISK-2291',
      },
    }),
    finding({
      control: 'ID.CA.2',
      check: 'ca-signin-risk',
      resource: { type: 'conditionalAccessPolicy', id: '0d8e7f6a-5b4c-4d3e-8f2a-1b0c9d8e7f6a', name: 'EP: Sign-in risk requires MFA' },
      owner: identity,
      status: 'drift',
      mode: 'remediate',
      summary: 'The sign-in risk policy is report-only and covers high risk only; the posture enforces it for medium and high.',
      patch: [
        { op: 'replace', path: '/state', value: 'enabled' },
        { op: 'replace', path: '/conditions/signInRiskLevels', value: ['medium', 'high'] },
      ],
      change: { action: 'update', automatic: true },
      evidence: {
        endpoint: `GET ${caPolicy}/0d8e7f6a-5b4c-4d3e-8f2a-1b0c9d8e7f6a`,
        live: { state: 'enabledForReportingButNotEnforced', conditions: { signInRiskLevels: ['high'] } },
      },
    }),
    finding({
      control: 'ID.CA.3',
      check: 'ca-privileged-tier',
      resource: { type: 'conditionalAccessPolicy', id: null, name: 'EP: Privileged roles block medium user risk' },
      owner: identity,
      status: 'missing',
      mode: 'remediate',
      summary: 'The privileged-tier policy does not exist: a risky administrator is not blocked.',
      patch: [
        {
          op: 'add',
          path: '',
          value: {
            displayName: 'EP: Privileged roles block medium user risk',
            state: 'enabledForReportingButNotEnforced',
            conditions: { userRiskLevels: ['medium', 'high'] },
            grantControls: { operator: 'OR', builtInControls: ['block'] },
          },
        },
      ],
      change: { action: 'create', automatic: true },
      evidence: { endpoint: `GET ${caPolicy}`, live: null },
    }),
    finding({
      control: 'ID.CA.5',
      check: 'ca-no-undeclared-exclusions',
      resource: { type: 'conditionalAccessPolicy', id: '3c2b1a09-8f7e-4d6c-b5a4-392817f6e5d4', name: 'EP: High user risk requires password change' },
      owner: identity,
      status: 'drift',
      mode: 'remediate',
      summary: 'The user-risk policy excludes contractor.ops@tailspintoys.example, which the posture does not declare.',
      patch: [{ op: 'remove', path: '/conditions/users/excludeUsers/2' }],
      change: { action: 'update', automatic: true },
      evidence: {
        endpoint: `GET ${caPolicy}/3c2b1a09-8f7e-4d6c-b5a4-392817f6e5d4`,
        live: { conditions: { users: { excludeUsers: ['bg-alpha@tailspintoys.example', 'bg-bravo@tailspintoys.example', 'contractor.ops@tailspintoys.example'] } } },
      },
    }),
    finding({
      control: 'MAIL.FWD.4',
      check: 'inbox-rule-forward-external',
      resource: { type: 'inboxRule', id: 'AQAAAJ5dZqA=', name: HOSTILE_NAME },
      owner: secOps,
      status: 'violation',
      mode: 'remediate',
      summary: `Inbox rule ${HOSTILE_NAME} in j.doe@tailspintoys.example forwards every message to j.doe.archive@freemail.example.`,
      patch: [{ op: 'remove', path: '' }],
      change: { action: 'delete', automatic: true },
      evidence: {
        endpoint: 'GET /users/j.doe@tailspintoys.example/mailFolders/inbox/messageRules/AQAAAJ5dZqA=',
        live: { displayName: HOSTILE_NAME, isEnabled: true, actions: { forwardTo: [{ emailAddress: { address: 'j.doe.archive@freemail.example' } }] } },
      },
    }),
    finding({
      control: 'MAIL.INBOUND.2',
      check: 'transport-rule-scl-bypass',
      resource: { type: 'transportRule', id: '5e4d3c2b-1a09-4f8e-b7d6-c5b4a3928170', name: 'Phishing simulation vendor' },
      owner: secOps,
      status: 'exception-expired',
      mode: 'remediate',
      summary: 'Transport rule Phishing simulation vendor sets SCL -1, and the exception that allowed it expired on 2025-05-31.',
      patch: [{ op: 'replace', path: '/State', value: 'Disabled' }],
      change: { action: 'update', automatic: true },
      evidence: { endpoint: 'Exchange Get-TransportRule', live: { Name: 'Phishing simulation vendor', State: 'Enabled', SetSCL: -1 } },
      exception: {
        id: 'MAIL.INBOUND.2v1/rule/Phishing simulation vendor',
        approvedBy: 'ciso@tailspintoys.example',
        expires: '2025-05-31',
        reason: 'Quarterly phishing simulations must reach inboxes unfiltered.',
        ticket: 'CHG-4410',
      },
    }),
    finding({
      control: 'GOV.OWNER.1',
      check: 'break-glass-resolves',
      resource: { type: 'user', id: 'c4b3a291-8f7e-4d6c-a5b4-3c2d1e0f9a8b', name: 'bg-bravo@tailspintoys.example' },
      owner: secOps,
      status: 'violation',
      mode: 'alert',
      summary: 'Break-glass account bg-bravo@tailspintoys.example is disabled, so it cannot sign in when conditional access locks everyone else out.',
      patch: [],
      change: { action: 'none', automatic: false },
      evidence: { endpoint: 'GET /users/bg-bravo@tailspintoys.example?$select=id,accountEnabled', live: { accountEnabled: false } },
      remediation: 'Enable the account in Entra ID and test a break-glass sign-in.',
    }),
    finding({
      control: 'MAIL.FWD.4',
      check: 'inbox-rule-forward-external',
      resource: { type: 'mailbox', id: '9b8a7f6e-5d4c-4b3a-8291-0f1e2d3c4b5a', name: 'exec-office@tailspintoys.example' },
      owner: secOps,
      status: 'not-evaluated',
      mode: 'remediate',
      summary: 'The inbox rules of exec-office@tailspintoys.example could not be read.',
      patch: [],
      change: { action: 'none', automatic: false },
      evidence: { endpoint: 'GET /users/exec-office@tailspintoys.example/mailFolders/inbox/messageRules', live: null },
      notEvaluated: {
        reason: 'permission-missing',
        detail: 'Graph answered 403 Forbidden: the application is not granted MailboxSettings.Read.',
        permission: 'MailboxSettings.Read',
      },
    }),
  ];
}

export const INCOMPLETE_READ: IncompleteRead = {
  what: 'inbox rules of 3 mailboxes',
  endpoint: 'GET /users/{id}/mailFolders/inbox/messageRules',
  error: '429 Too Many Requests: still throttled after 5 retries (Retry-After 30 s)',
};

/** The drifted tenant's plan: 13 findings of 3 teams and one incomplete read. */
export function driftedPlan(): PlanDocument {
  return makePlan(driftedFindings(), [INCOMPLETE_READ]);
}

/** A tenant that matches its posture. */
export function cleanPlan(): PlanDocument {
  return makePlan([]);
}

/** `count` inbox-rule violations spread over the three owners: a tenant after a mass compromise. */
export function hugePlan(count: number): PlanDocument {
  const owners = [mailPlatform, identity, secOps];
  const findings: Finding[] = [];
  for (let i = 0; i < count; i++) {
    const user = `user${String(i).padStart(5, '0')}@tailspintoys.example`;
    findings.push(
      finding({
        control: 'MAIL.FWD.4',
        check: 'inbox-rule-forward-external',
        resource: { type: 'inboxRule', id: `rule-${i}`, name: `Forward all (${user})` },
        owner: owners[i % owners.length]!,
        status: 'violation',
        mode: 'remediate',
        summary: `Inbox rule "Forward all" in ${user} forwards every message to drop${i}@freemail.example.`,
        patch: [{ op: 'remove', path: '' }],
        change: { action: 'delete', automatic: true },
        evidence: { endpoint: `GET /users/${user}/mailFolders/inbox/messageRules/rule-${i}`, live: { displayName: 'Forward all', isEnabled: true } },
      }),
    );
  }
  return makePlan(findings);
}
