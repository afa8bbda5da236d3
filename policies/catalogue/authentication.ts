import type { Control } from '../types.js';

/** The built-in authentication strength "Phishing-resistant MFA" (the same id in every tenant). */
export const PHISHING_RESISTANT_STRENGTH_ID = '00000000-0000-0000-0000-000000000004';

/**
 * The allowed combinations of an authentication strength that resist phishing: the credential is
 * bound to the origin it signs in to (FIDO2 security keys and passkeys, Windows Hello for Business,
 * certificate-based authentication as a multifactor method). A strength allowing anything else can
 * be satisfied by an attacker relaying a sign-in page.
 */
export const PHISHING_RESISTANT_COMBINATIONS: readonly string[] = ['fido2', 'windowsHelloForBusiness', 'x509CertificateMultiFactor'];

/**
 * Authentication methods a posture may require turned off, as the authentication methods policy
 * names their configurations (case-insensitive): one-time codes sent over SMS, voice calls or mail,
 * and OATH codes, all of which a phishing page can relay.
 */
export const WEAK_METHODS = ['sms', 'voice', 'email', 'softwareOath', 'hardwareOath'] as const;

/**
 * The highly privileged directory roles (ScubaGear MS.AAD.3.6v1, Microsoft's list of highly privileged
 * roles), by role template id (the same in every tenant), with their names for messages.
 */
export const HIGHLY_PRIVILEGED_ROLES: Readonly<Record<string, string>> = {
  '62e90394-69f5-4237-9190-012177145e10': 'Global Administrator',
  'e8611ab8-c189-46e8-94e1-60213ab1f814': 'Privileged Role Administrator',
  '194ae4cb-b126-40b2-bd5b-6091b380977d': 'Security Administrator',
  '29232cdf-9323-42fd-ade2-1d097af3e4de': 'Exchange Administrator',
  'f28a1f50-f6e7-4571-818b-6a12f2af6b6c': 'SharePoint Administrator',
  'fe930be7-5e62-47db-91af-98c3a49a38b1': 'User Administrator',
  '9b895d92-2cd3-44c7-9d02-a6ac2d5ea5c3': 'Application Administrator',
  '158c047a-c907-4556-b7ef-446551a6b5f7': 'Cloud Application Administrator',
  'b1be1c3e-b65d-4f19-8427-f6fa0d97feb9': 'Conditional Access Administrator',
  'c4e39bd9-1100-46d3-8c65-fb160da0071f': 'Authentication Administrator',
  '7be44c8a-adaf-4e2a-84d6-ab2649e08a13': 'Privileged Authentication Administrator',
  '729827e3-9c14-49f7-bb1b-9608f156bbb8': 'Helpdesk Administrator',
  'b0f54661-2d74-4c50-afa3-1ec803f12efe': 'Billing Administrator',
};

/** Sign-in strength: what an account must prove, and which methods it may prove it with. */
export const authentication: readonly Control[] = [
  {
    id: 'ID.AUTH.1',
    version: 1,
    area: 'authentication',
    title: 'Privileged roles sign in with phishing-resistant MFA',
    rationale:
      'An administrator who reads mail is the most valuable phish. Codes and push approvals can be relayed by an adversary-in-the-middle ' +
      'page; FIDO2, Windows Hello for Business and certificate-based authentication cannot. An enforced conditional access policy ' +
      'requiring a phishing-resistant authentication strength for every highly privileged role closes that path.',
    severity: 'critical',
    frameworks: { nistCsf: ['PR.AA-03', 'PR.AA-05'], scuba: ['MS.AAD.3.6v1'] },
    checks: [
      {
        id: 'auth-privileged-phishing-resistant',
        description:
          'An enabled (not report-only) conditional access policy includes every declared privileged role (or all users), covers all cloud apps ' +
          'under no narrowing condition, and grants only with the built-in Phishing-resistant MFA strength or a custom strength whose ' +
          'combinations are all phishing-resistant. Break-glass exclusions are allowed.',
      },
    ],
    resources: { read: ['conditionalAccessPolicy', 'authenticationStrengthPolicy', 'user', 'group'] },
    remediation: {
      automatic: false,
      description:
        'Reported only: declare the policy with a ConditionalAccessPolicy (authenticationStrength set to the Phishing-resistant MFA strength) ' +
        'in the conditional access area, which creates and keeps it.',
    },
    exceptionScopes: ['policy'],
  },
  {
    id: 'ID.AUTH.2',
    version: 1,
    area: 'authentication',
    title: 'Every enabled member user is MFA-capable',
    rationale:
      'An account with no registered strong method is protected by its password alone, whatever conditional access asks: the first ' +
      'sign-in that prompts for MFA registration lets whoever holds the password register their own method.',
    severity: 'high',
    frameworks: { nistCsf: ['PR.AA-01', 'PR.AA-03'] },
    checks: [
      { id: 'auth-mfa-capable', description: 'The authentication methods registration report shows isMfaCapable for every enabled member user.' },
    ],
    resources: { read: ['userRegistrationDetails', 'user'] },
    remediation: {
      automatic: false,
      description: 'Reported only: the users listed register a strong method (a registration campaign or a Temporary Access Pass helps); an exception covers one user.',
    },
    exceptionScopes: ['user'],
  },
  {
    id: 'ID.AUTH.3',
    version: 1,
    area: 'authentication',
    title: 'The authentication methods the posture names as weak are disabled',
    rationale:
      'One-time codes sent by SMS, voice call or mail, and OATH codes, are typed into whatever page asks for them, and SMS and voice ' +
      'are open to SIM swapping. While such a method is enabled, any user registered for it can satisfy MFA with it.',
    severity: 'high',
    frameworks: { nistCsf: ['PR.AA-03'], scuba: ['MS.AAD.3.5v1'] },
    checks: [
      { id: 'auth-weak-method-disabled', description: 'Each method the posture lists in disabledMethods has state disabled in the authentication methods policy.' },
    ],
    resources: { read: ['authenticationMethodsPolicy'], write: ['authenticationMethodsPolicy'] },
    remediation: {
      automatic: true,
      description: 'PATCHes the method\'s configuration in the authentication methods policy to state disabled. A method the posture does not list is never enabled.',
    },
    exceptionScopes: ['policy'],
  },
];
