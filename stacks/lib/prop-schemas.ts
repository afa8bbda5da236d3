import { z } from 'zod';
import type { ControlMode, Owner } from '../../reconciler/manifest/schema.js';
import type { ControlSettings, PostureAreaProps } from './area.js';
import type { ConditionalAccessPolicyProps, ClientAppType, GrantControl, PolicyState, RiskLevel } from './conditional-access-policy.js';
import type { ConsentGovernanceProps } from './consent.js';
import type { ForwardingLockdownProps } from './forwarding.js';
import type { InboundEnforcementProps } from './inbound.js';
import type { EmailSecurityPostureProps, ExceptionProps } from './posture.js';
import type { RiskBasedAccessPolicyKey, RiskBasedAccessProps } from './risk-based-access.js';
import type { DmarcPolicy, MailDomainProps, SenderAuthenticationProps } from './sender-authentication.js';

/**
 * The shape of every construct's props, checked at synth (`Problems.props`): which properties exist
 * at every depth (an unknown one is an error, never ignored), the allowed values of every enum, and
 * the JavaScript type of every value. Whether a value is required, its format (domain, UPN, GUID,
 * date) and the rules between values stay with each construct's own checks.
 *
 * Each schema is typed against the props interface it checks: a property added to an interface and
 * not here, or listed here and not there, is a compile error, and so is an enum whose values differ
 * from its TypeScript union.
 */

/** A construct's props schema and the construct's name, for messages. */
export interface PropsSchema {
  readonly construct: string;
  readonly schema: z.ZodType;
}

/** One schema per property of T, optional or not: no more, no fewer. */
type Shape<T> = { [K in keyof T]-?: z.ZodType };

/** A props object whose properties are exactly those of T; every property may be absent here. */
export function props<T>(shape: Shape<T>) {
  return z.strictObject(shape);
}

function named(construct: string, schema: z.ZodType): PropsSchema {
  return { construct, schema };
}

/** The values of a string union, each listed once: missing or extra values do not compile. */
function oneOf<T extends string>(values: Record<T, true>) {
  return z.enum(Object.keys(values) as [T, ...T[]]);
}

const text = z.string().optional();
const whole = z.number().optional();
const flag = z.boolean().optional();
const list = (item: z.ZodType) => z.array(item).optional();
const texts = list(z.string());

const controlMode = oneOf<ControlMode>({ report: true, alert: true, remediate: true });
const riskLevel = oneOf<RiskLevel>({ low: true, medium: true, high: true });

export const ownerProps = props<Owner>({ name: text, team: text, contact: text });

const controlSettings = props<ControlSettings>({ owner: ownerProps.optional(), mode: controlMode.optional() });

/** What every area construct takes, with the area's own properties. */
function areaProps<T extends PostureAreaProps>(own: Shape<Omit<T, keyof PostureAreaProps>>) {
  const area: Shape<PostureAreaProps> = {
    owner: ownerProps.optional(),
    mode: controlMode.optional(),
    controls: z.record(z.string(), controlSettings).optional(),
  };
  return z.strictObject({ ...area, ...own });
}

const exceptionProps = props<ExceptionProps>({
  control: text,
  // The scope types a control accepts are checked per control, with that control's list.
  scope: props<ExceptionProps['scope']>({ type: text, value: text, destinations: texts }).optional(),
  reason: text,
  approvedBy: text,
  expires: text,
  compensatingControl: text,
  ticket: text,
});

export const emailSecurityPostureProps = named('EmailSecurityPosture', props<EmailSecurityPostureProps>({
  organization: props<EmailSecurityPostureProps['organization']>({ name: text, primaryDomain: text, tenantId: text }).optional(),
  breakGlass: props<EmailSecurityPostureProps['breakGlass']>({ users: texts, groups: texts }).optional(),
  ownership: props<EmailSecurityPostureProps['ownership']>({
    owner: ownerProps.optional(),
    mode: oneOf<NonNullable<EmailSecurityPostureProps['ownership']['mode']>>({ report: true, alert: true }).optional(),
  }).optional(),
  exceptions: list(exceptionProps),
  exceptionPolicy: props<NonNullable<EmailSecurityPostureProps['exceptionPolicy']>>({ maxDays: whole }).optional(),
  defaultMode: controlMode.optional(),
}));

const dmarcPolicy = oneOf<DmarcPolicy>({ none: true, quarantine: true, reject: true });
const alignmentMode = oneOf<'relaxed' | 'strict'>({ relaxed: true, strict: true });

const mailDomainProps = props<MailDomainProps>({
  name: text,
  sending: flag,
  policy: dmarcPolicy.optional(),
  subdomainPolicy: dmarcPolicy.optional(),
  pct: whole,
  rua: texts,
  ruf: texts,
  alignment: props<NonNullable<MailDomainProps['alignment']>>({ dkim: alignmentMode.optional(), spf: alignmentMode.optional() }).optional(),
  spfAll: oneOf<NonNullable<MailDomainProps['spfAll']>>({ '-all': true, '~all': true }).optional(),
  spfRecord: text,
  dkim: flag,
});

export const senderAuthenticationProps = named('SenderAuthentication', areaProps<SenderAuthenticationProps>({ domains: list(mailDomainProps), reportAddresses: texts }));

export const inboundEnforcementProps = named('InboundEnforcement', areaProps<InboundEnforcementProps>({
  dmarcRejectAction: oneOf<NonNullable<InboundEnforcementProps['dmarcRejectAction']>>({ Reject: true, Quarantine: true }).optional(),
  dmarcQuarantineAction: oneOf<NonNullable<InboundEnforcementProps['dmarcQuarantineAction']>>({ Quarantine: true, MoveToJmf: true }).optional(),
}));

export const forwardingLockdownProps = named('ForwardingLockdown', areaProps<ForwardingLockdownProps>({ allowedRemoteDomains: texts }));

type UserRisk = NonNullable<RiskBasedAccessProps['userRisk']>;
type SignInRisk = NonNullable<RiskBasedAccessProps['signInRisk']>;

export const riskBasedAccessProps = named('RiskBasedAccess', areaProps<RiskBasedAccessProps>({
  namePrefix: text,
  state: oneOf<NonNullable<RiskBasedAccessProps['state']>>({ enabled: true, enabledForReportingButNotEnforced: true }).optional(),
  staged: list(oneOf<RiskBasedAccessPolicyKey>({ 'user-risk': true, 'sign-in-risk': true, 'privileged-user-risk': true, 'legacy-authentication': true })),
  userRisk: props<UserRisk>({
    levels: list(riskLevel),
    response: oneOf<NonNullable<UserRisk['response']>>({ block: true, mfaAndPasswordChange: true }).optional(),
  }).optional(),
  signInRisk: props<SignInRisk>({
    levels: list(riskLevel),
    response: oneOf<NonNullable<SignInRisk['response']>>({ mfa: true, block: true }).optional(),
  }).optional(),
  privileged: props<NonNullable<RiskBasedAccessProps['privileged']>>({ roles: texts, userRiskLevels: list(riskLevel) }).optional(),
  exclusions: props<NonNullable<RiskBasedAccessProps['exclusions']>>({ users: texts, groups: texts }).optional(),
}));

type Grant = NonNullable<ConditionalAccessPolicyProps['grant']>;
type Frequency = Exclude<NonNullable<ConditionalAccessPolicyProps['signInFrequency']>, string>;

export const conditionalAccessPolicyProps = named('ConditionalAccessPolicy', props<ConditionalAccessPolicyProps>({
  key: text,
  control: text,
  displayName: text,
  state: oneOf<PolicyState>({ enabled: true, disabled: true, enabledForReportingButNotEnforced: true }).optional(),
  staged: flag,
  users: props<ConditionalAccessPolicyProps['users']>({
    include: texts,
    exclude: texts,
    includeGroups: texts,
    excludeGroups: texts,
    includeRoles: texts,
    excludeRoles: texts,
  }).optional(),
  applications: props<NonNullable<ConditionalAccessPolicyProps['applications']>>({ include: texts, exclude: texts }).optional(),
  clientAppTypes: list(oneOf<ClientAppType>({ all: true, browser: true, mobileAppsAndDesktopClients: true, exchangeActiveSync: true, other: true })),
  userRiskLevels: list(riskLevel),
  signInRiskLevels: list(riskLevel),
  grant: props<Grant>({
    operator: oneOf<NonNullable<Grant['operator']>>({ AND: true, OR: true }).optional(),
    controls: list(
      oneOf<GrantControl>({
        block: true,
        mfa: true,
        passwordChange: true,
        compliantDevice: true,
        domainJoinedDevice: true,
        approvedApplication: true,
        compliantApplication: true,
      }),
    ),
  }).optional(),
  signInFrequency: z
    .union([z.literal('everyTime'), props<Frequency>({ value: whole, type: oneOf<Frequency['type']>({ hours: true, days: true }).optional() })])
    .optional(),
}));

export const consentGovernanceProps = named('ConsentGovernance', areaProps<ConsentGovernanceProps>({
  userConsent: oneOf<NonNullable<ConsentGovernanceProps['userConsent']>>({ disabled: true, lowRiskVerifiedPublishers: true }).optional(),
  adminConsentWorkflow: props<ConsentGovernanceProps['adminConsentWorkflow']>({
    // A reviewer is { user } or { group }; which of the two is checked by the construct.
    reviewers: list(z.strictObject({ user: text, group: text })),
    notifyReviewers: flag,
    remindersEnabled: flag,
    requestDurationInDays: whole,
  }).optional(),
  additionalHighRiskScopes: texts,
}));
