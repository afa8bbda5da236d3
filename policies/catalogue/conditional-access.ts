import type { Control } from '../types.js';

/** Policies are written with user and group references resolved to ids. */
const resources = { read: ['conditionalAccessPolicy', 'user', 'group'], write: ['conditionalAccessPolicy'] } as const;
const remediation = {
  automatic: true,
  description:
    'Creates the declared policy (report-only first where the posture says staged) or patches only the fields that drifted. ' +
    'Never writes a policy that would apply to a break-glass account.',
} as const;

/** A compromised mailbox is an identity incident: risk signals force re-authentication or block, and sessions end. */
export const conditionalAccess: readonly Control[] = [
  {
    id: 'ID.CA.1',
    version: 1,
    area: 'conditional-access',
    title: 'High user risk is blocked, or forces MFA and a password change at every sign-in',
    rationale:
      'A user flagged high risk (leaked credentials, a confirmed-compromised mailbox) must not keep a session: block, or require MFA ' +
      'plus a password change with sign-in frequency every time so existing sessions end.',
    severity: 'critical',
    frameworks: { nistCsf: ['PR.AA-03', 'RS.MI-01'], scuba: ['MS.AAD.2.1v1'] },
    checks: [
      { id: 'ca-user-risk-high', description: 'An enabled policy covers all users and all apps for userRiskLevels high with the declared grant and session controls.' },
    ],
    resources,
    remediation,
    exceptionScopes: ['policy', 'user'],
  },
  {
    id: 'ID.CA.2',
    version: 1,
    area: 'conditional-access',
    title: 'Medium and high sign-in risk require MFA at every sign-in, or are blocked',
    rationale:
      'A risky sign-in after a phish is often the attacker replaying the stolen password or token; MFA with sign-in frequency every time ' +
      'makes each risky sign-in prove itself.',
    severity: 'high',
    frameworks: { nistCsf: ['PR.AA-03', 'RS.MI-01'], scuba: ['MS.AAD.2.3v1'] },
    checks: [
      { id: 'ca-signin-risk', description: 'An enabled policy covers all users and all apps for the declared sign-in risk levels with MFA and everyTime, or block.' },
    ],
    resources,
    remediation,
    exceptionScopes: ['policy', 'user'],
  },
  {
    id: 'ID.CA.3',
    version: 1,
    area: 'conditional-access',
    title: 'Privileged roles get a stricter tier: medium user risk is blocked',
    rationale:
      'A privileged account that reads mail is one phish away from tenant takeover; for these roles medium risk is already too much.',
    severity: 'critical',
    frameworks: { nistCsf: ['PR.AA-05', 'RS.MI-01'], scuba: ['MS.AAD.2.1v1'] },
    checks: [
      { id: 'ca-privileged-tier', description: 'An enabled policy includes the declared privileged roles and blocks at the declared user risk levels.' },
    ],
    resources,
    remediation,
    exceptionScopes: ['policy'],
  },
  {
    id: 'ID.CA.4',
    version: 1,
    area: 'conditional-access',
    title: 'Legacy authentication is blocked',
    rationale:
      'IMAP, POP, SMTP AUTH and other legacy protocols cannot do MFA; password spray against them reaches mailboxes directly.',
    severity: 'high',
    frameworks: { nistCsf: ['PR.AA-03'], scuba: ['MS.AAD.1.1v1'] },
    checks: [
      { id: 'ca-legacy-auth', description: 'An enabled policy blocks clientAppTypes exchangeActiveSync and other for all users and apps.' },
    ],
    resources,
    remediation,
    exceptionScopes: ['policy'],
  },
  {
    id: 'ID.CA.5',
    version: 1,
    area: 'conditional-access',
    title: 'Break-glass accounts are excluded from every enforcing policy, and nothing else is excluded unless declared',
    rationale:
      'These invariants hold whoever wrote the policy: an undeclared exclusion is a hole an attacker can hide in, and a break-glass account ' +
      'caught by a blocking policy locks the organisation out of its own tenant.',
    severity: 'critical',
    frameworks: { nistCsf: ['PR.AA-05', 'GV.RR-02'], scuba: ['MS.AAD.2.1v1', 'MS.AAD.2.3v1'] },
    checks: [
      { id: 'ca-break-glass-excluded', description: 'Every enabled or report-only policy excludes every declared break-glass account.' },
      { id: 'ca-no-undeclared-exclusions', description: 'No policy excludes a user, group or role that the posture does not declare.' },
      { id: 'ca-staged-rollout', description: 'A policy declared as staged exists in report-only mode before it is enforced.' },
    ],
    resources,
    remediation,
    exceptionScopes: ['policy', 'user'],
  },
  {
    id: 'MAIL.SMTP.1',
    version: 1,
    area: 'conditional-access',
    title: 'SMTP AUTH client submission is disabled for the organisation',
    rationale:
      'SMTP AUTH client submission takes a password alone: a phished or sprayed password sends mail as its mailbox with no MFA, and ' +
      'the mail carries the organisation\'s own DKIM signature and SPF pass. Turn it off organisation-wide; a device that must submit ' +
      'this way gets it back per mailbox.',
    severity: 'high',
    frameworks: { nistCsf: ['PR.AA-03', 'PR.PS-01'], scuba: ['MS.EXO.5.1v1'] },
    checks: [
      { id: 'smtp-client-auth-disabled', description: 'Get-TransportConfig shows SmtpClientAuthenticationDisabled true.' },
    ],
    resources: { read: ['transportConfig'], write: ['transportConfig'] },
    remediation: { automatic: true, description: 'Set-TransportConfig -SmtpClientAuthenticationDisabled $true.' },
    exceptionScopes: ['policy'],
  },
];
