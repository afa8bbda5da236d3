import type { Control } from '../types.js';

/** Recipients are resolved as Exchange does: accepted domains, mailboxes, mail users and mail contacts (Exchange), groups (Graph). */
const recipients = ['acceptedDomain', 'mailContact', 'mailUser', 'group'] as const;
const frameworks = { nistCsf: ['PR.DS-02', 'PR.PS-01', 'DE.CM-09'], scuba: ['MS.EXO.1.1v2'] } as const;

/** Automatic forwarding to outside addresses is forbidden at every layer an attacker could use. */
export const forwarding: readonly Control[] = [
  {
    id: 'MAIL.FWD.1',
    version: 1,
    area: 'forwarding',
    title: 'Outbound spam filter blocks automatic external forwarding',
    rationale:
      'AutoForwardingMode Off stops every automatic forward to outside recipients at the transport layer, whatever a mailbox or rule says; ' +
      'Automatic lets Microsoft change the behaviour, On allows it.',
    severity: 'high',
    frameworks,
    checks: [{ id: 'outbound-autoforward-off', description: 'Every outbound spam filter policy has AutoForwardingMode Off.' }],
    resources: { read: ['hostedOutboundSpamFilterPolicy'], write: ['hostedOutboundSpamFilterPolicy'] },
    remediation: { automatic: true, description: 'Set-HostedOutboundSpamFilterPolicy -AutoForwardingMode Off.' },
    exceptionScopes: ['policy'],
  },
  {
    id: 'MAIL.FWD.2',
    version: 1,
    area: 'forwarding',
    title: 'Remote domains do not allow automatic forwarding, except declared partner domains',
    rationale:
      'AutoForwardEnabled on a remote domain (including the default `*`) lets forwarded mail leave for that domain. ' +
      'Only named partner domains may be allowed, never `*`.',
    severity: 'high',
    frameworks,
    checks: [
      { id: 'remote-domain-autoforward', description: 'AutoForwardEnabled is false on every remote domain not declared as allowed.' },
      { id: 'remote-domain-default', description: 'The default remote domain (`*`) never allows automatic forwarding.' },
    ],
    resources: { read: ['remoteDomain'], write: ['remoteDomain'] },
    remediation: { automatic: true, description: 'Set-RemoteDomain -AutoForwardEnabled $false.' },
    exceptionScopes: ['domain'],
  },
  {
    id: 'MAIL.FWD.3',
    version: 1,
    area: 'forwarding',
    title: 'No mailbox forwards to an external recipient',
    rationale:
      'ForwardingSmtpAddress and ForwardingAddress are the first thing an attacker sets on a compromised mailbox: every message, ' +
      'including password resets, is copied out silently.',
    severity: 'critical',
    frameworks,
    checks: [
      {
        id: 'mailbox-forwarding-external',
        description:
          'No mailbox forwards outside the accepted domains: ForwardingSmtpAddress, or a ForwardingAddress (a recipient identity) that resolves ' +
          'to a mail contact or mail user whose external address is outside; a ForwardingAddress that resolves to no recipient is reported too.',
      },
    ],
    resources: { read: ['mailbox', ...recipients], write: ['mailbox'] },
    remediation: { automatic: true, description: 'Set-Mailbox -ForwardingSmtpAddress $null -ForwardingAddress $null -DeliverToMailboxAndForward $false.' },
    exceptionScopes: ['user'],
    exceptionDestinations: true,
  },
  {
    id: 'MAIL.FWD.4',
    version: 1,
    area: 'forwarding',
    title: 'No inbox rule forwards or redirects to an external address',
    rationale:
      'Inbox rules that forward, redirect or forward-as-attachment are how business email compromise keeps reading a mailbox after the ' +
      'password is reset; they belong to the user, so tenant settings do not show them.',
    severity: 'critical',
    frameworks,
    checks: [
      { id: 'inbox-rule-forward-external', description: 'No enabled inbox rule in any mailbox has forwardTo, forwardAsAttachmentTo or redirectTo outside the accepted domains (an address of a mail contact or mail user counts where it delivers).' },
    ],
    resources: { read: ['inboxRule', 'mailbox', ...recipients], write: ['inboxRule'] },
    remediation: { automatic: true, description: 'Deletes the inbox rule through Microsoft Graph, after recording it in the evidence trail.' },
    exceptionScopes: ['user', 'rule'],
    exceptionDestinations: true,
  },
  {
    id: 'MAIL.FWD.5',
    version: 1,
    area: 'forwarding',
    title: 'No transport rule sends copies of mail to an external address',
    rationale:
      'A transport rule that redirects, copies, blind-copies, adds a recipient, sends for moderation, sends an incident report or adds the ' +
      'sender\'s manager with an outside address exfiltrates mail for a whole organisation and is invisible to users.',
    severity: 'critical',
    frameworks,
    checks: [
      {
        id: 'transport-rule-external-copy',
        description:
          'No enabled transport rule sends mail outside the accepted domains by RedirectMessageTo, BlindCopyTo, CopyTo, AddToRecipients, ' +
          'ModerateMessageByUser or GenerateIncidentReport, or to a sender\'s manager (AddManagerAsRecipientType, ModerateMessageByManager) ' +
          'who is outside; recipients are resolved as Exchange does.',
      },
    ],
    resources: { read: ['transportRule', 'mailbox', ...recipients, 'exchangeUser'], write: ['transportRule'] },
    remediation: { automatic: true, description: 'Disable-TransportRule.' },
    exceptionScopes: ['rule'],
    exceptionDestinations: true,
  },
];
