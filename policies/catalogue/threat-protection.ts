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
];
