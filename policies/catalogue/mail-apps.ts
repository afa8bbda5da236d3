import type { Control } from '../types.js';

/**
 * Application permissions that give an app mail: reading, changing or sending the mail of mailboxes,
 * or their settings, with no user signing in. Of Microsoft Graph and of Office 365 Exchange Online
 * (whose app roles include Mail.Read, Mail.ReadWrite and Mail.Send too). Delegated permissions such
 * as EWS.AccessAsUser.All are the consent controls' (APP.CONSENT.4, 5), not these.
 */
export const MAIL_APP_PERMISSIONS: { readonly graph: readonly string[]; readonly exchange: readonly string[] } = {
  graph: ['Mail.Read', 'Mail.ReadBasic', 'Mail.ReadBasic.All', 'Mail.ReadWrite', 'Mail.Send', 'MailboxSettings.Read', 'MailboxSettings.ReadWrite'],
  exchange: [
    'EWS.AccessAsApp',
    'full_access_as_app',
    'IMAP.AccessAsApp',
    'Mail.Read',
    'Mail.ReadWrite',
    'Mail.Send',
    'MailboxSettings.Read',
    'MailboxSettings.ReadWrite',
    'POP.AccessAsApp',
    'SMTP.SendAsApp',
  ],
};

/** The app id of each mail API, by the key a declaration lists its permissions under. */
export const MAIL_APP_APIS: { readonly graph: string; readonly exchange: string } = {
  graph: '00000003-0000-0000-c000-000000000000',
  exchange: '00000002-0000-0ff1-ce00-000000000000',
};

/** The longest a client secret may live, when the posture does not say. */
export const DEFAULT_MAX_SECRET_AGE_DAYS = 180;

/**
 * Non-human identities with mail: every app holding a mail application permission is declared with
 * an owner, restricted to the mailboxes it needs, and signs in with a certificate or federation.
 */
export const mailApps: readonly Control[] = [
  {
    id: 'MAIL.APPS.1',
    version: 1,
    area: 'mail-apps',
    title: 'Every app holding a mail application permission is declared, with no more mail permissions than declared',
    rationale:
      'An application permission to mail reads or sends any mailbox with no user signing in. An app nobody declared has nobody ' +
      'to offboard it, and a permission added to a declared app after its review widens what a stolen credential of it reaches.',
    severity: 'critical',
    frameworks: { nistCsf: ['ID.AM-02', 'PR.AA-05'], owaspNhi: ['NHI1:2025', 'NHI5:2025'] },
    checks: [
      { id: 'undeclared-mail-app', description: 'Every non-Microsoft service principal holding a mail application permission of Microsoft Graph or Exchange Online is declared (by appId); the finding names its permissions and its owners as Graph lists them.' },
      { id: 'undeclared-mail-permission', description: 'A declared app holds no mail application permission beyond those declared for it.' },
    ],
    resources: { read: ['appRoleAssignment', 'servicePrincipal', 'servicePrincipalOwner'] },
    remediation: {
      automatic: false,
      description:
        'Report only: removing a permission breaks the integration. Declare the app with its owner, or remove the permission ' +
        '(DELETE /servicePrincipals/{resourceId}/appRoleAssignedTo/{id}) once its owner agrees.',
    },
    exceptionScopes: ['app'],
  },
  {
    id: 'MAIL.APPS.2',
    version: 1,
    area: 'mail-apps',
    title: 'Each declared mail app is restricted to the mailboxes it is declared for',
    rationale:
      'Without an application access policy an application permission to mail covers every mailbox of the organisation, the ' +
      'executives\' included; restricting it to its group or mailboxes bounds what the app, or whoever holds its credential, reads or sends.',
    severity: 'high',
    frameworks: { nistCsf: ['PR.AA-05'], owaspNhi: ['NHI5:2025'] },
    checks: [
      { id: 'mail-app-scope', description: 'An Exchange application access policy (Get-ApplicationAccessPolicy) with AccessRight RestrictAccess restricts the app to its declared mail-enabled security group, or to each declared mailbox.' },
    ],
    resources: { read: ['applicationAccessPolicy', 'user', 'group'] },
    remediation: {
      automatic: false,
      description: 'Report only: the finding gives the New-ApplicationAccessPolicy command that restricts the app to its declared group or mailboxes.',
    },
    exceptionScopes: ['app'],
  },
  {
    id: 'MAIL.APPS.3',
    version: 1,
    area: 'mail-apps',
    title: 'Each declared mail app signs in with a certificate or federation, not a long-lived secret',
    rationale:
      'A client secret is a password that is copied into configuration, scripts and tickets; one that never expires, or has lived ' +
      'longer than its rotation period, gives whoever finds it every mailbox the app reaches. Certificates and federated credentials ' +
      'leave nothing to copy.',
    severity: 'high',
    frameworks: { nistCsf: ['PR.AA-01', 'PR.AA-02'], owaspNhi: ['NHI2:2025', 'NHI7:2025'] },
    checks: [
      { id: 'credential-not-allowed', description: 'The app\'s application object holds no active password or certificate credential of a kind its declaration does not allow.' },
      { id: 'long-lived-secret', description: 'No active password credential lacks an expiry, lives longer than the declared maximum age (180 days unless declared), or was created longer ago than that.' },
      { id: 'application-not-in-tenant', description: 'The declared app has an application object in the tenant, so its credentials can be seen (a multi-tenant app\'s are held by its publisher).' },
    ],
    resources: { read: ['appRegistration'] },
    remediation: {
      automatic: false,
      description: 'Report only: removing a credential breaks the integration. The finding names the credential (keyId) to remove (POST /applications/{id}/removePassword) once a certificate or federated credential is in place.',
    },
    exceptionScopes: ['app'],
  },
];
