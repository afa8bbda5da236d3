import type { Control } from '../types.js';

/**
 * Delegated permissions that give an app a user's mail or the power to send as them. A user-granted
 * consent to any of these is the "consent phishing" foothold: the attacker's app keeps reading mail
 * after the password is changed. The posture may add scopes; it cannot remove these.
 */
export const HIGH_RISK_MAIL_SCOPES: readonly string[] = [
  'EAS.AccessAsUser.All',
  'EWS.AccessAsUser.All',
  'full_access_as_user',
  'IMAP.AccessAsUser.All',
  'Mail.Read',
  'Mail.Read.Shared',
  'Mail.ReadWrite',
  'Mail.ReadWrite.Shared',
  'Mail.Send',
  'Mail.Send.Shared',
  'MailboxSettings.ReadWrite',
  'POP.AccessAsUser.All',
  'SMTP.Send',
];

/** The mail APIs whose application permissions APP.CONSENT.5 reads: Microsoft Graph and Office 365 Exchange Online. */
export const MAIL_API_APP_IDS: readonly string[] = ['00000003-0000-0000-c000-000000000000', '00000002-0000-0ff1-ce00-000000000000'];

/**
 * Application permissions (app roles of the mail APIs) that read or send every mailbox's mail with
 * no user involved. MailboxSettings.ReadWrite is left out: the posture's own application needs it to
 * delete forwarding rules, and the rules it could create are what MAIL.FWD.4 finds.
 */
export const HIGH_RISK_MAIL_APP_ROLES: readonly string[] = [
  'EWS.AccessAsApp',
  'full_access_as_app',
  'IMAP.AccessAsApp',
  'Mail.Read',
  'Mail.ReadWrite',
  'Mail.Send',
  'POP.AccessAsApp',
  'SMTP.SendAsApp',
];

/** Tenants that own Microsoft's first-party applications (appOwnerOrganizationId). */
export const MICROSOFT_TENANT_IDS: readonly string[] = ['f8cdef31-a31e-4b4a-93e4-5f571e91255a', '72f988bf-86f1-41af-91ab-2d7cd011db47'];

/** Users cannot consent apps into their mailboxes; an admin consent workflow with named reviewers exists. */
export const consent: readonly Control[] = [
  {
    id: 'APP.CONSENT.1',
    version: 1,
    area: 'consent',
    title: 'User consent is disabled, or limited to low-risk permissions from verified publishers',
    rationale:
      'When any user can consent any app, one click on a consent-phishing link hands an attacker a token to the mailbox that MFA and ' +
      'password resets do not revoke.',
    severity: 'critical',
    frameworks: { nistCsf: ['PR.AA-05', 'GV.SC-07'], scuba: ['MS.AAD.5.2v1'], owaspNhi: ['NHI3:2025', 'NHI5:2025'] },
    checks: [
      { id: 'user-consent-policy', description: 'permissionGrantPolicyIdsAssignedToDefaultUserRole holds exactly the declared policy (none, or microsoft-user-default-low).' },
    ],
    resources: { read: ['authorizationPolicy'], write: ['authorizationPolicy'] },
    remediation: { automatic: true, description: 'PATCH /policies/authorizationPolicy with the declared permission grant policies.' },
    exceptionScopes: [],
  },
  {
    id: 'APP.CONSENT.2',
    version: 1,
    area: 'consent',
    title: 'Admin consent workflow is enabled with named reviewers',
    rationale:
      'With user consent off, users need a way to ask for an app; without the workflow they work around the control. ' +
      'Named reviewers make every approval someone\'s decision.',
    severity: 'medium',
    frameworks: { nistCsf: ['PR.AA-05', 'GV.RR-02'], scuba: ['MS.AAD.5.3v1'], owaspNhi: ['NHI3:2025'] },
    checks: [
      { id: 'admin-consent-workflow', description: 'adminConsentRequestPolicy isEnabled with the declared reviewers, notifications and request duration.' },
    ],
    resources: { read: ['adminConsentRequestPolicy', 'user', 'group'], write: ['adminConsentRequestPolicy'] },
    remediation: { automatic: true, description: 'PUT /policies/adminConsentRequestPolicy with the declared settings.' },
    exceptionScopes: [],
  },
  {
    id: 'APP.CONSENT.3',
    version: 1,
    area: 'consent',
    title: 'Only administrators may register applications',
    rationale:
      'Every app registration is a new non-human identity that can hold secrets and request mail permissions; unmanaged ones are ' +
      'never offboarded.',
    severity: 'medium',
    frameworks: { nistCsf: ['PR.AA-01', 'PR.AA-05'], scuba: ['MS.AAD.5.1v1'], owaspNhi: ['NHI1:2025'] },
    checks: [
      { id: 'app-registration-admin-only', description: 'defaultUserRolePermissions.allowedToCreateApps is false.' },
    ],
    resources: { read: ['authorizationPolicy'], write: ['authorizationPolicy'] },
    remediation: { automatic: true, description: 'PATCH /policies/authorizationPolicy defaultUserRolePermissions.allowedToCreateApps false.' },
    exceptionScopes: [],
  },
  {
    id: 'APP.CONSENT.4',
    version: 1,
    area: 'consent',
    title: 'No user-granted consent to a high-risk mail permission outside a declared exception',
    rationale:
      'Consents granted before the policy was tightened stay valid; a user-granted Mail.ReadWrite or full_access_as_user to an unknown app ' +
      'is the persistence the attacker needs.',
    severity: 'critical',
    frameworks: { nistCsf: ['PR.AA-05', 'DE.CM-09'], scuba: ['MS.AAD.5.2v1'], owaspNhi: ['NHI3:2025', 'NHI5:2025'] },
    checks: [
      { id: 'user-grant-high-risk-scope', description: 'No oauth2PermissionGrant with consentType Principal includes a high-risk mail scope outside a declared exception.' },
    ],
    resources: { read: ['oauth2PermissionGrant', 'servicePrincipal', 'user'], write: ['oauth2PermissionGrant'] },
    remediation: { automatic: true, description: 'DELETE /oauth2PermissionGrants/{id}, after recording the grant in the evidence trail.' },
    exceptionScopes: ['app', 'user'],
  },
  {
    id: 'APP.CONSENT.5',
    version: 1,
    area: 'consent',
    title: 'No third-party app holds a high-risk mail permission for the whole organisation outside a declared exception',
    rationale:
      'An admin consent on behalf of all users, or an application permission such as Mail.ReadWrite, Mail.Send or full_access_as_app, ' +
      'gives an app every mailbox at once, with no user signing in; a consent-phished administrator or a stolen app secret turns it into ' +
      'silent exfiltration that no user-level control sees.',
    severity: 'critical',
    frameworks: { nistCsf: ['PR.AA-05', 'DE.CM-09'], scuba: ['MS.AAD.5.2v1'], owaspNhi: ['NHI3:2025', 'NHI5:2025'] },
    checks: [
      { id: 'tenant-wide-grant-high-risk-scope', description: 'No oauth2PermissionGrant with consentType AllPrincipals gives a non-Microsoft app a high-risk mail scope.' },
      { id: 'app-permission-high-risk', description: 'No non-Microsoft service principal holds a high-risk application permission of Microsoft Graph or Exchange Online (Mail.Read, Mail.ReadWrite, Mail.Send, full_access_as_app, EWS/IMAP/POP/SMTP as app), unless the posture declares the app with that permission (MailApplications), which MAIL.APPS.1 to 3 then govern.' },
    ],
    resources: { read: ['oauth2PermissionGrant', 'servicePrincipal', 'appRoleAssignment'], write: ['oauth2PermissionGrant', 'appRoleAssignment'] },
    remediation: {
      automatic: true,
      description: 'DELETE /oauth2PermissionGrants/{id}, or DELETE /servicePrincipals/{resourceId}/appRoleAssignedTo/{id}, after recording it in the evidence trail.',
    },
    exceptionScopes: ['app'],
  },
];
