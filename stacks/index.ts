/** The posture-as-code API: constructs that declare an organisation's email-security posture. */
export { EmailSecurityPosture, DEFAULT_EXCEPTION_MAX_DAYS, TODAY_CONTEXT_KEY, addDays } from './lib/posture.js';
export type { EmailSecurityPostureProps, ExceptionProps } from './lib/posture.js';
export type { AlertsProps, AlertDestinationProps } from './lib/alerts.js';
export { PostureArea } from './lib/area.js';
export type { PostureAreaProps, ControlSettings } from './lib/area.js';
export { SenderAuthentication } from './lib/sender-authentication.js';
export type { SenderAuthenticationProps, MailDomainProps, DmarcPolicy } from './lib/sender-authentication.js';
export { InboundEnforcement } from './lib/inbound.js';
export type { InboundEnforcementProps } from './lib/inbound.js';
export { InboundPaths, DEFAULT_PATH_REQUIREMENT, DEFAULT_EVIDENCE_DAYS, DEFAULT_PROBE_MARKER } from './lib/inbound-paths.js';
export type { InboundPathsProps, DeclaredPathProps, PathRequirement } from './lib/inbound-paths.js';
export { ThreatProtection } from './lib/threat-protection.js';
export type { ThreatProtectionProps, ThreatPopulationsProps, ImpersonationProps } from './lib/threat-protection.js';
export { ForwardingLockdown } from './lib/forwarding.js';
export type { ForwardingLockdownProps } from './lib/forwarding.js';
export { RiskBasedAccess } from './lib/risk-based-access.js';
export type { RiskBasedAccessProps } from './lib/risk-based-access.js';
export { ConditionalAccessPolicy } from './lib/conditional-access-policy.js';
export type { ConditionalAccessPolicyProps, RiskLevel, PolicyState, GrantControl, ClientAppType } from './lib/conditional-access-policy.js';
export { ExternalExposure, REQUIRED_AUDIT_ACTIONS } from './lib/exposure.js';
export type { ExternalExposureProps } from './lib/exposure.js';
export { AuthenticationStrength, HIGHLY_PRIVILEGED_ROLE_IDS, PHISHING_RESISTANT_STRENGTH_ID } from './lib/authentication.js';
export type { AuthenticationStrengthProps, WeakMethod } from './lib/authentication.js';
export { ConsentGovernance } from './lib/consent.js';
export type { ConsentGovernanceProps, Reviewer } from './lib/consent.js';
export { MailApplications } from './lib/mail-apps.js';
export type { MailApplicationsProps, MailAppProps, CredentialKind } from './lib/mail-apps.js';
export {
  IncidentResponse,
  defaultMatrix,
  DEFAULT_CIRCUIT_BREAKER,
  DEFAULT_LOOKBACK_HOURS,
  DEFAULT_WATCHLIST_DAYS,
  DEFAULT_WINDOW_HOURS,
  MAX_CIRCUIT_BREAKER_SHARE,
} from './lib/response.js';
export type {
  IncidentResponseProps,
  SignalRuleProps,
  DefenderAlertRule,
  RiskDetectionRule,
  RiskyUserRule,
  FindingRule,
  ExternalRule,
  AuthorityProps,
  AuthorityByConfidence,
  Confidence,
  ResponseAction,
  Tier,
} from './lib/response.js';
export { ROLE_TEMPLATE_IDS, DEFAULT_PRIVILEGED_ROLES } from './lib/roles.js';
export { synthesize, runSynth, collectErrors, formatErrors } from './lib/synth.js';
export type { SynthError, SynthResult, SynthOptions } from './lib/synth.js';

/**
 * The cdktf classes a posture stack is built from, re-exported so that a posture repository imports
 * everything from this package and uses the same cdktf and constructs as its constructs do.
 */
export { App, LocalBackend, TerraformStack } from 'cdktf';
export { Construct } from 'constructs';
