import type { Control } from '../types.js';

/**
 * What mail and calendars give away to the outside, and what is left to investigate with: outside
 * senders are marked, calendars and contacts are not shared with every domain or published, and
 * mailbox actions that incident response needs are audited.
 */
export const exposure: readonly Control[] = [
  {
    id: 'MAIL.EXPOSURE.1',
    version: 1,
    area: 'exposure',
    title: 'Mail from outside the organisation is marked as external',
    rationale:
      'A phishing message that impersonates a colleague or an executive is far less convincing when Outlook marks it as coming from ' +
      'outside. Outlook\'s native External tag (Set-ExternalInOutlook) does this for every client that supports it; a transport rule that ' +
      'prepends a warning banner to mail from outside the organisation does it in the message itself. Senders on the tag\'s AllowList ' +
      'are never marked, so an entry there is a hole an attacker who spoofs that sender goes through.',
    severity: 'medium',
    frameworks: { nistCsf: ['PR.AT-01', 'DE.CM-09'], scuba: ['MS.EXO.7.1v1'] },
    checks: [
      { id: 'external-tag-enabled', description: 'Without a declared banner rule, Get-ExternalInOutlook has Enabled true.' },
      { id: 'external-tag-allow-list', description: 'No sender or domain on the external tag\'s AllowList outside a declared exception.' },
      {
        id: 'external-banner-rule',
        description:
          'With a declared banner rule, the transport rule of that name exists, is enabled in Enforce mode, applies to mail from outside the ' +
          'organisation (FromScope NotInOrganization) and prepends a disclaimer (ApplyHtmlDisclaimerLocation Prepend with a text) or a subject prefix (PrependSubject).',
      },
    ],
    resources: { read: ['externalInOutlook', 'transportRule'], write: ['externalInOutlook', 'transportRule'] },
    remediation: {
      automatic: true,
      description:
        'Set-ExternalInOutlook -Enabled $true when no banner rule is declared; Enable-TransportRule when the declared banner rule is right but disabled. ' +
        'A banner rule that is missing or wrong, and AllowList entries, are reported for the owner to fix.',
    },
    exceptionScopes: ['domain', 'rule'],
  },
  {
    id: 'MAIL.EXPOSURE.2',
    version: 1,
    area: 'exposure',
    title: 'Calendars and contacts are not shared with every outside domain, nor published anonymously',
    rationale:
      'A sharing policy entry for "*" lets every user share calendar details or contacts with anyone in any other organisation, and an ' +
      '"Anonymous" entry lets them publish their calendar at a link anyone can open: meeting subjects, locations and attendees are what ' +
      'an attacker needs to time and word a convincing phish. Exchange Online\'s Default Sharing Policy ships with ' +
      '"Anonymous:CalendarSharingFreeBusyReviewer", which publishes titles and locations. Sharing with named partner domains stays allowed; ' +
      'free/busy only with "*" is allowed only where the posture declares it.',
    severity: 'medium',
    frameworks: { nistCsf: ['PR.DS-01', 'PR.AA-05'], scuba: ['MS.EXO.6.1v1', 'MS.EXO.6.2v1'] },
    checks: [
      { id: 'sharing-contacts-all-domains', description: 'No enabled sharing policy shares contacts (ContactsSharing) with all domains ("*").' },
      {
        id: 'sharing-calendar-all-domains',
        description:
          'No enabled sharing policy shares calendar details (CalendarSharingFreeBusyDetail, CalendarSharingFreeBusyReviewer) with all domains; ' +
          'free/busy only (CalendarSharingFreeBusySimple) with all domains only where the posture allows it.',
      },
      { id: 'sharing-anonymous-publishing', description: 'No enabled sharing policy has an "Anonymous" entry: calendars cannot be published to anonymous viewers.' },
    ],
    resources: { read: ['sharingPolicy'], write: ['sharingPolicy'] },
    remediation: {
      automatic: true,
      description: 'Set-SharingPolicy -Domains with the offending entries removed and the allowed ones kept; a policy left with no entry is disabled (-Enabled $false).',
    },
    exceptionScopes: ['policy'],
  },
  {
    id: 'MAIL.EXPOSURE.3',
    version: 1,
    area: 'exposure',
    title: 'Mailbox auditing is on and records the actions incident response needs',
    rationale:
      'Investigating a compromised mailbox needs its audit records: which items were read (MailItemsAccessed), which inbox rules were ' +
      'changed (UpdateInboxRules), what was deleted (MoveToDeletedItems, SoftDelete, HardDelete) and what was sent (Send, SendAs, ' +
      'SendOnBehalf). AuditDisabled true on the organisation turns mailbox auditing off for every mailbox at once; a mailbox whose ' +
      'audited actions were customised, or whose licence has no Audit (Premium), misses some of them. MailItemsAccessed and Send are ' +
      'in the default sets only for mailboxes licensed for Audit (Premium) (E5/A5/G5).',
    severity: 'high',
    frameworks: { nistCsf: ['DE.CM-09', 'RS.AN-03'], scuba: ['MS.EXO.13.1v1'] },
    checks: [
      { id: 'mailbox-audit-org-disabled', description: 'Get-OrganizationConfig has AuditDisabled false.' },
      {
        id: 'mailbox-audit-actions',
        description:
          'Every user and shared mailbox audits the required actions for its owner (AuditOwner), delegates (AuditDelegate) and admins (AuditAdmin); ' +
          'one finding per logon type and set of missing actions, naming the mailboxes.',
      },
    ],
    resources: { read: ['organizationConfig', 'mailbox'], write: ['organizationConfig'] },
    remediation: {
      automatic: true,
      description:
        'Set-OrganizationConfig -AuditDisabled $false. Mailboxes missing audited actions are reported: restore the Microsoft-managed set ' +
        '(Set-Mailbox -DefaultAuditSet Admin,Delegate,Owner), add the actions (Set-Mailbox -AuditOwner @{Add=...}), or license Audit (Premium). ' +
        'An exception scoped to a user leaves that mailbox out.',
    },
    exceptionScopes: ['user'],
  },
];
