import { z } from 'zod';
import { Construct } from 'constructs';
import { ConditionalAccessPolicy as AzureadConditionalAccessPolicy } from '@cdktf/provider-azuread/lib/conditional-access-policy/index.js';
import { resolveControl, versionedId } from '../../policies/catalogue.js';
import type { DesiredCaPolicy } from '../../reconciler/manifest/schema.js';
import { guid, upn } from '../../reconciler/manifest/formats.js';
import { EmailSecurityPosture } from './posture.js';
import { checkShape, validateWith, type Problems } from './problems.js';
import { flag, list, named, oneOf, props, text, texts, whole } from './prop-schemas.js';

export type RiskLevel = 'low' | 'medium' | 'high';
export type PolicyState = 'enabled' | 'disabled' | 'enabledForReportingButNotEnforced';
export type GrantControl = 'block' | 'mfa' | 'passwordChange' | 'compliantDevice' | 'domainJoinedDevice' | 'approvedApplication' | 'compliantApplication';
export type ClientAppType = 'all' | 'browser' | 'mobileAppsAndDesktopClients' | 'exchangeActiveSync' | 'other';

const SPECIAL_USERS = ['All', 'None', 'GuestsOrExternalUsers'];

export interface ConditionalAccessPolicyProps {
  /** Stable key within the posture (lower case, dashes). The reconciler matches live policies by display name, and the key names the policy in findings. */
  readonly key: string;
  /** The catalogue control this policy implements, e.g. `ID.CA.1`. */
  readonly control: string;
  readonly displayName: string;
  /** @default 'enabled' */
  readonly state?: PolicyState;
  /**
   * Staged rollout: the policy is held in report-only state (enabledForReportingButNotEnforced),
   * in Terraform and in the manifest alike, until the posture drops `staged` after review of its
   * sign-in log impact. @default false
   */
  readonly staged?: boolean;
  readonly users: {
    /** `All`, `None`, `GuestsOrExternalUsers`, or userPrincipalNames. */
    readonly include: readonly string[];
    /** userPrincipalNames. Must contain every break-glass account unless the policy is disabled. */
    readonly exclude?: readonly string[];
    /** Group display names. */
    readonly includeGroups?: readonly string[];
    /** Group display names. Must contain every break-glass group unless the policy is disabled. */
    readonly excludeGroups?: readonly string[];
    /** Directory role template ids. */
    readonly includeRoles?: readonly string[];
    readonly excludeRoles?: readonly string[];
  };
  /** Cloud apps. @default include ['All'] */
  readonly applications?: { readonly include?: readonly string[]; readonly exclude?: readonly string[] };
  /** @default ['all'] */
  readonly clientAppTypes?: readonly ClientAppType[];
  readonly userRiskLevels?: readonly RiskLevel[];
  readonly signInRiskLevels?: readonly RiskLevel[];
  readonly grant?: { readonly operator?: 'AND' | 'OR'; readonly controls: readonly GrantControl[] };
  /**
   * The authentication strength the policy requires, by id: a built-in one (the same id in every
   * tenant, e.g. PHISHING_RESISTANT_STRENGTH_ID) or a custom one. It cannot be combined with the
   * `mfa` or `block` grant controls.
   */
  readonly authenticationStrength?: string;
  /** `everyTime` ends the session at each sign-in; needs a risk condition. */
  readonly signInFrequency?: 'everyTime' | { readonly value: number; readonly type: 'hours' | 'days' };
}

/**
 * One Entra conditional access policy (L2). Emits an `azuread_conditional_access_policy` for
 * Terraform users, with break-glass and group references resolved through data sources, and the same
 * policy in Graph form for the manifest, where references stay as `user:<upn>` / `group:<name>` for
 * the reconciler to resolve against the tenant.
 *
 * Place it in a RiskBasedAccess area (the area of conditional access controls).
 */
export class ConditionalAccessPolicy extends Construct {
  readonly props: ConditionalAccessPolicyProps;
  readonly resource: AzureadConditionalAccessPolicy;
  private readonly posture: EmailSecurityPosture;

  constructor(scope: Construct, id: string, props: ConditionalAccessPolicyProps) {
    super(scope, id);
    this.props = props;
    this.posture = EmailSecurityPosture.of(scope);
    // Props with a value of the wrong type give the Terraform resource nothing to build from; their
    // errors are reported at synth, which then writes nothing.
    const source: Partial<ConditionalAccessPolicyProps> = checkShape(conditionalAccessPolicyProps, props).wellFormed ? props : {};
    const users = source.users ?? { include: [] };
    const userIds = (list: readonly string[] = []) =>
      list.map((u) => (SPECIAL_USERS.includes(u) ? u : this.posture.userObjectId(u)));
    const groupIds = (list: readonly string[] = []) => list.map((g) => this.posture.groupObjectId(g));
    const sif = source.signInFrequency;

    this.resource = new AzureadConditionalAccessPolicy(this, 'policy', {
      displayName: source.displayName ?? '',
      state: this.effectiveState,
      conditions: {
        clientAppTypes: [...(source.clientAppTypes ?? ['all'])],
        userRiskLevels: source.userRiskLevels ? [...source.userRiskLevels] : undefined,
        signInRiskLevels: source.signInRiskLevels ? [...source.signInRiskLevels] : undefined,
        applications: {
          includedApplications: [...(source.applications?.include ?? ['All'])],
          excludedApplications: source.applications?.exclude ? [...source.applications.exclude] : undefined,
        },
        users: {
          includedUsers: userIds(users.include),
          excludedUsers: userIds(users.exclude),
          includedGroups: groupIds(users.includeGroups),
          excludedGroups: groupIds(users.excludeGroups),
          includedRoles: [...(users.includeRoles ?? [])],
          excludedRoles: [...(users.excludeRoles ?? [])],
        },
      },
      grantControls:
        source.grant || source.authenticationStrength
          ? {
              operator: source.grant?.operator ?? 'OR',
              ...(source.grant?.controls?.length ? { builtInControls: [...source.grant.controls] } : {}),
              ...(source.authenticationStrength ? { authenticationStrengthPolicyId: `/policies/authenticationStrengthPolicies/${source.authenticationStrength}` } : {}),
            }
          : undefined,
      sessionControls:
        sif === 'everyTime'
          ? { signInFrequencyInterval: 'everyTime', signInFrequencyAuthenticationType: 'primaryAndSecondaryAuthentication' }
          : sif
            ? { signInFrequency: sif.value, signInFrequencyPeriod: sif.type, signInFrequencyInterval: 'timeBased' }
            : undefined,
    });
    validateWith(this, (p) => p.props(conditionalAccessPolicyProps, this.props) && this.check(p));
  }

  /** The state the policy must be in: report-only while staged. */
  get effectiveState(): PolicyState {
    return this.props.staged ? 'enabledForReportingButNotEnforced' : (this.props.state ?? 'enabled');
  }

  /** Whether the policy blocks or requires anything of the users it covers. */
  get enforcing(): boolean {
    return (this.props.grant?.controls.length ?? 0) > 0 || this.props.authenticationStrength !== undefined || this.props.signInFrequency !== undefined;
  }

  /** The policy as the manifest declares it. */
  toDesired(): DesiredCaPolicy {
    const p = this.props;
    const resolved = resolveControl(p.control);
    const sif = p.signInFrequency;
    const users = (list: readonly string[] = []) => list.map((u) => (SPECIAL_USERS.includes(u) ? u : `user:${u.toLowerCase()}`));
    const groups = (list: readonly string[] = []) => list.map((g) => `group:${g}`);
    return {
      key: p.key,
      control: 'control' in resolved ? versionedId(resolved.control) : p.control,
      displayName: p.displayName,
      state: this.effectiveState,
      staged: p.staged ?? false,
      enforcing: this.enforcing,
      conditions: {
        users: {
          includeUsers: users(p.users.include),
          excludeUsers: users(p.users.exclude),
          includeGroups: groups(p.users.includeGroups),
          excludeGroups: groups(p.users.excludeGroups),
          includeRoles: [...(p.users.includeRoles ?? [])],
          excludeRoles: [...(p.users.excludeRoles ?? [])],
        },
        applications: { includeApplications: [...(p.applications?.include ?? ['All'])], excludeApplications: [...(p.applications?.exclude ?? [])] },
        clientAppTypes: [...(p.clientAppTypes ?? ['all'])],
        userRiskLevels: [...(p.userRiskLevels ?? [])],
        signInRiskLevels: [...(p.signInRiskLevels ?? [])],
      },
      grantControls:
        p.grant || p.authenticationStrength
          ? {
              operator: p.grant?.operator ?? 'OR',
              builtInControls: [...(p.grant?.controls ?? [])],
              ...(p.authenticationStrength ? { authenticationStrength: { id: p.authenticationStrength.toLowerCase() } } : {}),
            }
          : null,
      sessionControls: sif
        ? {
            signInFrequency:
              sif === 'everyTime'
                ? { isEnabled: true, frequencyInterval: 'everyTime', authenticationType: 'primaryAndSecondaryAuthentication', value: null, type: null }
                : { isEnabled: true, frequencyInterval: 'timeBased', authenticationType: 'primaryAndSecondaryAuthentication', value: sif.value, type: sif.type },
          }
        : null,
      terraformAddress: `${this.resource.terraformResourceType}.${this.resource.friendlyUniqueId}`,
    };
  }

  private check(p: Problems): void {
    const props = this.props;
    if (p.required('key', props.key) && !/^[a-z0-9][a-z0-9-]*$/.test(props.key)) {
      p.add('key', `"${props.key}" must be lower-case letters, digits and dashes`);
    }
    p.required('displayName', props.displayName);
    if (p.required('control', props.control)) {
      const r = resolveControl(props.control);
      if ('error' in r) p.add('control', r.error);
      else if (r.control.area !== 'conditional-access') p.add('control', `${r.control.id} is not a conditional access control`);
    }
    const state = props.state ?? 'enabled';
    if (props.staged && props.state === 'disabled') p.add('staged', 'a disabled policy cannot be staged; drop staged or set state');

    const users = props.users;
    if (!p.required('users', users)) return;
    if (!users.include?.length && !users.includeGroups?.length && !users.includeRoles?.length) {
      p.add('users.include', 'the policy covers nobody: include All, users, groups or roles');
    }
    (users.include ?? []).forEach((u, i) => SPECIAL_USERS.includes(u) || p.format(`users.include[${i}]`, upn, u));
    (users.exclude ?? []).forEach((u, i) => SPECIAL_USERS.includes(u) || p.format(`users.exclude[${i}]`, upn, u));
    (users.includeRoles ?? []).forEach((r, i) => p.format(`users.includeRoles[${i}]`, guid, r));
    (users.excludeRoles ?? []).forEach((r, i) => p.format(`users.excludeRoles[${i}]`, guid, r));

    if (state !== 'disabled') {
      const excluded = new Set((users.exclude ?? []).map((u) => u.toLowerCase()));
      const missing = this.posture.breakGlassUsers().filter((u) => !excluded.has(u));
      if (missing.length) {
        p.add('users.exclude', `does not exclude break-glass account(s) ${missing.join(', ')}: a policy that applies to them can lock the organisation out of its tenant`);
      }
      const excludedGroups = new Set(users.excludeGroups ?? []);
      const missingGroups = this.posture.breakGlassGroups().filter((g) => !excludedGroups.has(g));
      if (missingGroups.length) p.add('users.excludeGroups', `does not exclude break-glass group(s) ${missingGroups.join(', ')}`);
    }

    // State, risk levels, client app types, grant controls and operator are enums, checked with the props' schema.
    const grants = props.grant?.controls ?? [];
    if (props.grant && grants.length === 0) p.add('grant.controls', 'name at least one control, or leave grant out');
    if (grants.includes('block') && grants.length > 1) p.add('grant.controls', 'block cannot be combined with other controls');
    if (props.authenticationStrength !== undefined && p.format('authenticationStrength', guid, props.authenticationStrength)) {
      if (grants.includes('mfa')) p.add('authenticationStrength', 'cannot be combined with the mfa grant control: the strength already requires MFA (drop mfa)');
      if (grants.includes('block')) p.add('authenticationStrength', 'cannot be combined with block');
    }
    const hasRisk = (props.userRiskLevels?.length ?? 0) > 0 || (props.signInRiskLevels?.length ?? 0) > 0;
    if (grants.includes('passwordChange')) {
      if (!props.userRiskLevels?.length) p.add('grant.controls', 'passwordChange needs a user risk condition (userRiskLevels)');
      if ((props.grant?.operator ?? 'OR') !== 'AND' || !grants.includes('mfa')) {
        p.add('grant.operator', 'passwordChange must be combined with mfa under operator AND');
      }
    }
    if (props.signInFrequency === 'everyTime' && !hasRisk) {
      p.add('signInFrequency', 'everyTime needs a user or sign-in risk condition');
    }
    if (!this.enforcing && state !== 'disabled') p.add('grant', 'the policy neither grants with a control nor sets a session control');
  }
}

export const riskLevel = oneOf<RiskLevel>({ low: true, medium: true, high: true });

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
  authenticationStrength: text,
  signInFrequency: z
    .union([z.literal('everyTime'), props<Frequency>({ value: whole, type: oneOf<Frequency['type']>({ hours: true, days: true }).optional() })])
    .optional(),
}));
