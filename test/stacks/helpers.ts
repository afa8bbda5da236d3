import { Testing, TerraformStack, type App } from 'cdktf';
import {
  AuthenticationStrength,
  ExternalExposure,
  ConsentGovernance,
  EmailSecurityPosture,
  ForwardingLockdown,
  InboundEnforcement,
  InboundPaths,
  MailApplications,
  RiskBasedAccess,
  SenderAuthentication,
  ThreatProtection,
  TODAY_CONTEXT_KEY,
  collectErrors,
  type EmailSecurityPostureProps,
  type SynthError,
} from '../../stacks/index.js';

/** Validation is dated; tests fix the day. */
export const TODAY = '2026-06-01';

export const owner = { name: 'Mail Lead', team: 'Messaging', contact: 'mail-lead@contoso.example' };

export function postureProps(overrides: Partial<EmailSecurityPostureProps> = {}): EmailSecurityPostureProps {
  return {
    organization: { name: 'Contoso', primaryDomain: 'contoso.example' },
    breakGlass: { users: ['bg1@contoso.example', 'bg2@contoso.example'] },
    ownership: { owner },
    ...overrides,
  };
}

export interface Built {
  readonly app: App;
  readonly stack: TerraformStack;
  readonly posture: EmailSecurityPosture;
}

/** A stack with a posture; `declare` adds areas to it. */
export function build(declare: (posture: EmailSecurityPosture) => void = () => {}, props = postureProps()): Built {
  const app = Testing.app({ context: { [TODAY_CONTEXT_KEY]: TODAY } });
  const stack = new TerraformStack(app, 'test');
  const posture = new EmailSecurityPosture(stack, 'Posture', props);
  declare(posture);
  return { app, stack, posture };
}

/** Every area, declared validly. */
export function declareAll(posture: EmailSecurityPosture): void {
  new SenderAuthentication(posture, 'SenderAuthentication', {
    owner,
    domains: [{ name: 'contoso.example', rua: ['mailto:dmarc@contoso.example'] }],
  });
  new InboundEnforcement(posture, 'InboundEnforcement', { owner });
  new InboundPaths(posture, 'InboundPaths', { owner });
  new ForwardingLockdown(posture, 'ForwardingLockdown', { owner });
  new RiskBasedAccess(posture, 'RiskBasedAccess', { owner });
  new ConsentGovernance(posture, 'ConsentGovernance', { owner, adminConsentWorkflow: { reviewers: [{ user: 'reviewer@contoso.example' }] } });
  new MailApplications(posture, 'MailApplications', {
    owner,
    apps: [{ appId: '5d0c8a4e-2b6f-4e1a-9c3d-7f8e9a0b1c2d', displayName: 'Contoso Mailer', owner, permissions: { graph: ['Mail.Send'] }, scope: { group: 'mailers@contoso.example' } }],
  });
  new ThreatProtection(posture, 'ThreatProtection', { owner });
  new AuthenticationStrength(posture, 'AuthenticationStrength', { owner, disabledMethods: ['sms', 'voice'] });
  new ExternalExposure(posture, 'ExternalExposure', { owner });
}

export function errors(built: Built): SynthError[] {
  return collectErrors(built.app);
}

/** `path: property: message` lines, for readable assertions. */
export function errorLines(built: Built): string[] {
  return errors(built).map((e) => `${e.constructPath}: ${e.property}: ${e.message}`);
}
