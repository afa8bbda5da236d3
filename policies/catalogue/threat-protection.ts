import type { Control } from '../types.js';

/**
 * Threat protection, judged on the effective policy of each population (everyone, the privileged,
 * each high-value group): of each kind, the one policy Exchange Online applies to its members after
 * the preset security policies, custom rules by priority and the default policy
 * (reconciler/checks/effective-policy.ts). A policy that applies to nobody, or that a preset
 * overrides for everyone it matches, counts neither for nor against a control; the finding says so.
 */
export const threatProtection: readonly Control[] = [
  {
    id: 'MAIL.THREAT.1',
    version: 1,
    area: 'threat',
    title: 'Impersonation and spoof protection on the anti-phishing policy each population gets',
    rationale:
      'Business email compromise impersonates the people whose requests get paid (executives, finance) and the domains mail is trusted from ' +
      "(the organisation's own, its partners'). Only the anti-phishing policy that actually applies to a user protects them: a strong policy " +
      'whose rule is disabled, or that a preset overrides, protects no one. The effective policy of every population must protect the declared ' +
      'users and domains, use mailbox intelligence and spoof intelligence, quarantine what they detect, and show the first-contact safety tip.',
    severity: 'high',
    frameworks: { nistCsf: ['PR.PS-01', 'DE.CM-09'], scuba: ['MS.DEFENDER.2.1v1', 'MS.DEFENDER.2.2v1', 'MS.DEFENDER.2.3v1'] },
    checks: [
      { id: 'impersonation-protection', description: 'The effective anti-phishing policy of each population protects the declared users (TargetedUsersToProtect, EnableTargetedUserProtection) and domains (EnableOrganizationDomainsProtection, EnableTargetedDomainsProtection with the partner domains), with mailbox intelligence and its protection, spoof intelligence, the declared action for each detection, a quarantined spoof and the first-contact safety tip.' },
    ],
    resources: {
      read: ['antiPhishPolicy', 'antiPhishRule', 'eopProtectionPolicyRule', 'atpProtectionPolicyRule', 'mailbox', 'acceptedDomain', 'groupMembership', 'directoryRoleAssignment'],
      write: ['antiPhishPolicy'],
    },
    remediation: {
      automatic: true,
      description: "Set-AntiPhishPolicy on the population's effective custom or default policy, adding what it lacks (protected users and domains are added to, never replaced). A preset's policy is Microsoft's and is reported, never written.",
    },
    exceptionScopes: ['policy'],
  },
  {
    id: 'MAIL.THREAT.2',
    version: 1,
    area: 'threat',
    title: 'The anti-spam policy each population gets quarantines phishing and purges it after delivery',
    rationale:
      'Phishing delivered to Junk is one click from the inbox. High confidence phishing and phishing must be quarantined, and zero-hour auto ' +
      'purge must pull spam and phishing out of mailboxes when the verdict comes after delivery. Only the anti-spam policy that applies to a ' +
      'user counts: the effective policy of every population must do this.',
    severity: 'high',
    frameworks: { nistCsf: ['PR.PS-01', 'DE.CM-09', 'RS.MI-01'] },
    checks: [
      { id: 'antispam-phish-actions', description: 'The effective anti-spam policy of each population has HighConfidencePhishAction and PhishSpamAction Quarantine, and SpamZapEnabled and PhishZapEnabled true.' },
    ],
    resources: {
      read: ['hostedContentFilterPolicy', 'hostedContentFilterRule', 'eopProtectionPolicyRule', 'mailbox', 'groupMembership', 'directoryRoleAssignment'],
      write: ['hostedContentFilterPolicy'],
    },
    remediation: { automatic: true, description: "Set-HostedContentFilterPolicy on the population's effective custom or default policy; a preset's policy is reported, never written." },
    exceptionScopes: ['policy'],
  },
  {
    id: 'MAIL.THREAT.3',
    version: 1,
    area: 'threat',
    title: 'Safe Links on the policy each population gets: links checked at click, no click-through',
    rationale:
      'A link that was clean when the message arrived can be armed an hour later. Safe Links rewrites links so each click is checked, scans ' +
      'them before delivery and blocks known-bad sites without letting the user click through. Only the Safe Links policy that applies to a ' +
      'user protects them, and the Built-In Protection Policy that catches everyone else does not rewrite links: the effective policy of ' +
      'every population must check links in mail (and in Teams and Office apps unless the posture relaxes it), including mail from inside.',
    severity: 'high',
    frameworks: { nistCsf: ['PR.PS-01', 'DE.CM-09'], scuba: ['MS.EXO.15.1v1', 'MS.EXO.15.2v1'] },
    checks: [
      { id: 'safe-links', description: 'The effective Safe Links policy of each population has EnableSafeLinksForEmail, ScanUrls and DeliverMessageAfterScan true, AllowClickThrough and DisableUrlRewrite false, and EnableSafeLinksForTeams, EnableSafeLinksForOffice and EnableForInternalSenders true unless the posture relaxes them.' },
    ],
    resources: {
      read: ['safeLinksPolicy', 'safeLinksRule', 'atpProtectionPolicyRule', 'mailbox', 'groupMembership', 'directoryRoleAssignment'],
      write: ['safeLinksPolicy'],
    },
    remediation: {
      automatic: true,
      description: "Set-SafeLinksPolicy on the population's effective custom policy. A preset's policy and the Built-In Protection Policy cannot be changed: they are reported with how to fix it (a custom Safe Links policy, or a preset, scoped to the population).",
    },
    exceptionScopes: ['policy'],
  },
  {
    id: 'MAIL.THREAT.4',
    version: 1,
    area: 'threat',
    title: 'Safe Attachments on the policy each population gets: attachments detonated, malware blocked',
    rationale:
      'Signature scanning misses new malware; Safe Attachments opens attachments in a sandbox before delivery. It protects only the users ' +
      'whose effective Safe Attachments policy is on and blocks what it finds (or delivers the body at once and the attachment after the ' +
      'scan, when the posture accepts dynamic delivery), with the quarantine policy that keeps users from releasing malware themselves.',
    severity: 'high',
    frameworks: { nistCsf: ['PR.PS-01', 'DE.CM-09'], scuba: ['MS.EXO.10.2v1'] },
    checks: [
      { id: 'safe-attachments', description: 'The effective Safe Attachments policy of each population has Enable true, Action Block (or DynamicDelivery when the posture accepts it) and the declared QuarantineTag (AdminOnlyAccessPolicy by default).' },
    ],
    resources: {
      read: ['safeAttachmentPolicy', 'safeAttachmentRule', 'atpProtectionPolicyRule', 'mailbox', 'groupMembership', 'directoryRoleAssignment'],
      write: ['safeAttachmentPolicy'],
    },
    remediation: {
      automatic: true,
      description: "Set-SafeAttachmentPolicy on the population's effective custom policy. A preset's policy and the Built-In Protection Policy cannot be changed: they are reported with how to fix it.",
    },
    exceptionScopes: ['policy'],
  },
  {
    id: 'MAIL.THREAT.5',
    version: 1,
    area: 'threat',
    title: 'The anti-malware policy each population gets filters dangerous file types and purges malware after delivery',
    rationale:
      'Executables, scripts, disk images and macro documents are how malware arrives; the common attachments filter stops them by type ' +
      'whatever their content, and zero-hour auto purge removes malware found after delivery. Only the anti-malware policy that applies to a ' +
      "user counts: the effective policy of every population must filter at least the declared file types (Microsoft's default list unless " +
      'the posture adds to it) with the declared action, and purge.',
    severity: 'high',
    frameworks: { nistCsf: ['PR.PS-01', 'DE.CM-09', 'RS.MI-01'], scuba: ['MS.EXO.9.1v1', 'MS.EXO.10.1v1', 'MS.EXO.10.3v1'] },
    checks: [
      { id: 'malware-filter', description: 'The effective anti-malware policy of each population has EnableFileFilter true, every declared file type in FileTypes, the declared FileTypeAction (Reject or Quarantine) and ZapEnabled true.' },
    ],
    resources: {
      read: ['malwareFilterPolicy', 'malwareFilterRule', 'eopProtectionPolicyRule', 'mailbox', 'groupMembership', 'directoryRoleAssignment'],
      write: ['malwareFilterPolicy'],
    },
    remediation: {
      automatic: true,
      description: "Set-MalwareFilterPolicy on the population's effective custom or default policy, adding the missing file types to those it has (never removing one). A preset's policy is reported, never written.",
    },
    exceptionScopes: ['policy'],
  },
];
