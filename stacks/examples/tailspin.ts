import { LocalBackend, TerraformStack } from 'cdktf';
import type { Construct } from 'constructs';
import {
  AuthenticationStrength,
  ConsentGovernance,
  EmailSecurityPosture,
  ExternalExposure,
  ForwardingLockdown,
  InboundEnforcement,
  InboundPaths,
  IncidentResponse,
  MailApplications,
  RiskBasedAccess,
  SenderAuthentication,
  ThreatProtection,
  HIGHLY_PRIVILEGED_ROLE_IDS,
  PHISHING_RESISTANT_STRENGTH_ID,
  addDays,
} from '../index.js';

/**
 * The posture of Tailspin Toys, a fictional 4,000-person toy maker with three mail domains, a
 * marketing platform that is still being aligned, and a payroll provider that receives one mailbox's
 * mail. The demo and the `compliant` and `drifted` simulator scenarios are built around it.
 */
export class TailspinStack extends TerraformStack {
  readonly posture: EmailSecurityPosture;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    new LocalBackend(this, { path: `terraform.${id}.tfstate` });

    const mailPlatform = { name: 'Mail Platform Lead', team: 'Messaging', contact: 'mail-platform@tailspintoys.example' };
    const identity = { name: 'Identity Engineering Lead', team: 'Identity', contact: 'identity-team@tailspintoys.example' };
    const appGovernance = { name: 'Dana Whitfield, Application Governance Lead', team: 'Security Architecture', contact: 'dana.whitfield@tailspintoys.example' };
    const secOps = { name: 'Security Operations Manager', team: 'SecOps', contact: 'secops@tailspintoys.example' };

    // Exceptions are dated from the day of synth so this example never goes stale; a real posture
    // writes the approved expiry date itself (e.g. expires: '2027-03-31').
    const today = (this.node.tryGetContext('email-posture:today') as string | undefined) ?? new Date().toISOString().slice(0, 10);

    this.posture = new EmailSecurityPosture(this, 'Posture', {
      organization: { name: 'Tailspin Toys', primaryDomain: 'tailspintoys.example' },
      breakGlass: { users: ['bg-alpha@tailspintoys.example', 'bg-bravo@tailspintoys.example'] },
      ownership: { owner: secOps, mode: 'alert' },
      exceptions: [
        {
          control: 'MAIL.FWD.3',
          // Pinned to the provider's domain: forwarding anywhere else is still a finding.
          scope: { type: 'user', value: 'payroll@tailspintoys.example', destinations: ['payroll-partner.example'] },
          reason: 'Payroll statements are forwarded to the outsourced payroll provider until its API integration goes live.',
          approvedBy: 'ciso@tailspintoys.example',
          expires: addDays(today, 90),
          compensatingControl: 'Partner domain allowed on its remote domain only; TLS enforced by connector.',
          ticket: 'RISK-2291',
        },
        {
          control: 'MAIL.INBOUND.2',
          // Campaign mail from the marketing platform skips spam filtering until its sending is aligned.
          scope: { type: 'rule', value: 'Marketing platform bypass' },
          reason: 'Campaign previews from the marketing platform were filtered as spam; the platform signs with its own domain until DKIM for news.tailspintoys.example is live.',
          approvedBy: 'ciso@tailspintoys.example',
          expires: addDays(today, 90),
          compensatingControl: 'The rule matches the platform\'s sending domain only; Safe Links still rewrites and checks every link.',
          ticket: 'CHG-4502',
        },
        {
          control: 'MAIL.INBOUND.2',
          scope: { type: 'rule', value: 'Phishing simulation vendor' },
          reason: 'Quarterly phishing simulations must reach inboxes unfiltered.',
          approvedBy: 'ciso@tailspintoys.example',
          expires: addDays(today, 120),
          ticket: 'CHG-4410',
        },
      ],
    });

    new SenderAuthentication(this.posture, 'SenderAuthentication', {
      owner: mailPlatform,
      controls: { 'MAIL.DKIM.1': { mode: 'remediate' } },
      reportAddresses: ['mailto:dmarc-reports@tailspintoys.example'],
      domains: [
        {
          name: 'tailspintoys.example',
          alignment: { dkim: 'strict' },
          spfRecord: 'v=spf1 include:spf.protection.outlook.com -all',
        },
        {
          // The marketing platform still signs with its own domain; quarantine is declared until it aligns.
          name: 'news.tailspintoys.example',
          policy: 'quarantine',
          spfAll: '~all',
        },
        { name: 'tailspin-toys.example', sending: false, spfRecord: 'v=spf1 -all' },
      ],
    });

    new InboundEnforcement(this.posture, 'InboundEnforcement', { owner: mailPlatform, mode: 'remediate' });

    // Judged on the policy each population actually gets: the Security Operations mailboxes are under
    // the Strict preset, the executives under a custom policy, everyone else under the default one.
    new ThreatProtection(this.posture, 'ThreatProtection', {
      owner: mailPlatform,
      mode: 'remediate',
      populations: { highValueGroups: ['Security Operations'] },
      impersonation: { protectedUsers: ['ciso@tailspintoys.example', 'casey.lee@tailspintoys.example'], partnerDomains: ['payroll-partner.example'] },
      // Safe Links everywhere (Teams, Office, internal senders too); attachments blocked, admin-only
      // quarantine, Microsoft's common attachment types rejected. (Extra file types would be unmeetable
      // for Security Operations: the Strict preset's anti-malware policy holds Microsoft's list only.)
      links: { teams: true, office: true, internalSenders: true },
      attachments: { action: 'Block', quarantineTag: 'AdminOnlyAccessPolicy', fileTypeAction: 'Reject' },
    });

    new ForwardingLockdown(this.posture, 'ForwardingLockdown', {
      owner: mailPlatform,
      mode: 'remediate',
      controls: { 'MAIL.FWD.4': { owner: secOps, mode: 'remediate' } },
      allowedRemoteDomains: ['payroll-partner.example'],
    });

    const access = new RiskBasedAccess(this.posture, 'RiskBasedAccess', {
      owner: identity,
      mode: 'remediate',
      userRisk: { levels: ['high'], response: 'mfaAndPasswordChange' },
      signInRisk: { levels: ['medium', 'high'], response: 'mfa' },
      // The privileged tier is new: it runs report-only until its sign-in impact has been reviewed.
      staged: ['privileged-user-risk'],
    });
    // Administrators sign in with FIDO2 keys or Windows Hello: the policy ID.AUTH.1 looks for.
    access.addPolicy('PrivilegedPhishingResistant', {
      key: 'privileged-phishing-resistant',
      control: 'ID.CA.3',
      displayName: 'EP - Privileged roles: phishing-resistant MFA',
      users: { include: [], includeRoles: [...HIGHLY_PRIVILEGED_ROLE_IDS], exclude: ['bg-alpha@tailspintoys.example', 'bg-bravo@tailspintoys.example'] },
      authenticationStrength: PHISHING_RESISTANT_STRENGTH_ID,
    });

    new AuthenticationStrength(this.posture, 'AuthenticationStrength', {
      owner: identity,
      controls: { 'ID.AUTH.3': { mode: 'remediate' } },
      // Email one-time passcodes stay on: guests from partners without Entra ID sign in with them.
      disabledMethods: ['sms', 'voice'],
    });

    new ConsentGovernance(this.posture, 'ConsentGovernance', {
      owner: appGovernance,
      mode: 'remediate',
      userConsent: 'disabled',
      adminConsentWorkflow: {
        reviewers: [{ user: 'casey.lee@tailspintoys.example' }, { group: 'App Consent Reviewers' }],
        requestDurationInDays: 14,
      },
    });

    // The one app allowed to hold a mail application permission: it sends payroll statements as the
    // payroll mailbox, restricted to it by an application access policy, and signs in with a certificate.
    new MailApplications(this.posture, 'MailApplications', {
      owner: appGovernance,
      apps: [
        {
          appId: 'e4a1c9b2-6d3f-4f8a-9b2c-7d1e5f3a8c64',
          displayName: 'Payroll Statement Mailer',
          owner: { name: 'Jordan Patel, Messaging Engineer', team: 'Messaging', contact: 'jordan.patel@tailspintoys.example' },
          permissions: { graph: ['Mail.Send'] },
          scope: { group: 'payroll-senders@tailspintoys.example' },
          credentials: ['certificate'],
        },
      ],
    });

    // Outlook's External tag marks mail from outside; free/busy only may be shared with any domain, for
    // meeting scheduling with the toy retailers Tailspin works with.
    new ExternalExposure(this.posture, 'ExternalExposure', {
      owner: mailPlatform,
      mode: 'remediate',
      controls: { 'MAIL.EXPOSURE.3': { owner: secOps, mode: 'remediate' } },
      allowFreeBusyWithAllDomains: true,
    });

    // Every way mail enters is mapped and owned: the messaging engineer owns the routing (MX, the
    // gateway, connectors), Mail Platform the policy that judges failing mail, Security Operations the
    // objective. `posture probe` sends its test messages to a shared mailbox kept for them.
    new InboundPaths(this.posture, 'InboundPaths', {
      owner: secOps,
      routingOwner: { name: 'Jordan Patel, Messaging Engineer', team: 'Messaging', contact: 'jordan.patel@tailspintoys.example' },
      policyOwner: mailPlatform,
      probe: { recipient: 'mail-probe@tailspintoys.example', outsideDomain: 'payroll-partner.example' },
    });

    // The response policy `posture respond` runs. The matrix keeps its conservative defaults
    // (sessions revoked and compromise confirmed without approval, never for the scanner's service
    // account) except where a finance or shared mailbox is sure to be in an attacker's hands: then
    // the rules and consents that keep the attacker in are removed at once too.
    new IncidentResponse(this.posture, 'IncidentResponse', {
      owner: secOps,
      actionOwners: { removeMailRules: mailPlatform, removeDelegates: mailPlatform, revokeConsents: appGovernance, purgeMessage: mailPlatform, removeInvites: mailPlatform },
      signals: [
        // Rules apply in order: the first that matches gives the confidence.
        { source: 'defenderAlert', evidenceTypes: ['mailboxConfigurationEvidence'], confidence: 'high' },
        { source: 'defenderAlert', serviceSources: ['microsoftDefenderForOffice365'], severities: ['high'], confidence: 'high' },
        { source: 'defenderAlert', serviceSources: ['microsoftDefenderForOffice365'], severities: ['medium'], confidence: 'medium' },
        { source: 'defenderAlert', serviceSources: ['microsoftDefenderForOffice365'], severities: ['low'], confidence: 'low' },
        { source: 'riskDetection', riskEventTypes: ['suspiciousInboxForwarding', 'mcasSuspiciousInboxManipulationRules'], confidence: 'high' },
        { source: 'riskDetection', riskEventTypes: ['anomalousToken', 'maliciousIPAddress'], confidence: 'medium' },
        { source: 'riskDetection', confidence: 'low' },
        { source: 'riskyUser', riskLevels: ['high'], confidence: 'high' },
        // An external inbox-rule forward; a user-granted high-risk mail permission.
        { source: 'finding', controls: ['MAIL.FWD.4'], confidence: 'high' },
        { source: 'finding', controls: ['APP.CONSENT.4'], confidence: 'medium' },
        { source: 'external', sourceNames: ['mail-gateway'], confidence: 'medium' },
      ],
      tiers: { highValueGroups: ['Finance'], serviceAccounts: { users: ['svc-scanner@tailspintoys.example'] } },
      watchlist: { group: 'Watchlist - sign-in every time', days: 14 },
      matrix: {
        highValue: {
          high: {
            automatic: ['revokeSessions', 'confirmCompromised', 'removeMailRules', 'revokeConsents', 'notify', 'purgeMessage', 'removeInvites'],
            approval: ['requirePasswordChange', 'requireMfaReregistration', 'removeDelegates', 'disableAccount'],
            never: [],
          },
        },
        sharedMailbox: {
          high: { automatic: ['removeMailRules', 'notify', 'purgeMessage', 'removeInvites'], approval: ['revokeSessions', 'removeDelegates', 'revokeConsents', 'disableAccount'], never: ['watchlist', 'requireMfaReregistration'] },
        },
      },
      // The simulated tenant has a few dozen users; a real 4,000-person tenant would keep the default share.
      circuitBreaker: { maxIdentities: 10, maxShare: 0.5 },
    });
  }
}
