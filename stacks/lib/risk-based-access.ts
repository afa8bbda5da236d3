import type { DesiredState } from '../../reconciler/manifest/schema.js';
import { guid, upn } from '../../reconciler/manifest/formats.js';
import { areaProps, PostureArea, type PostureAreaProps } from './area.js';
import { ConditionalAccessPolicy, riskLevel, type ConditionalAccessPolicyProps, type PolicyState, type RiskLevel } from './conditional-access-policy.js';
import type { EmailSecurityPosture } from './posture.js';
import type { Problems } from './problems.js';
import { DEFAULT_PRIVILEGED_ROLES } from './roles.js';
import { list, named, oneOf, props, text, texts } from './prop-schemas.js';

export type RiskBasedAccessPolicyKey = 'user-risk' | 'sign-in-risk' | 'privileged-user-risk' | 'legacy-authentication';

export interface RiskBasedAccessProps extends PostureAreaProps {
  /** Prefix of every policy display name, so the posture's policies are easy to find. @default 'EP' */
  readonly namePrefix?: string;
  /** State the policies should reach. @default 'enabled' */
  readonly state?: Exclude<PolicyState, 'disabled'>;
  /**
   * Keys of policies held in report-only state while their impact is reviewed (staged rollout):
   * `user-risk`, `sign-in-risk`, `privileged-user-risk`, `legacy-authentication`. @default none
   */
  readonly staged?: readonly RiskBasedAccessPolicyKey[];
  /** ID.CA.1. @default { levels: ['high'], response: 'mfaAndPasswordChange' } */
  readonly userRisk?: {
    readonly levels?: readonly RiskLevel[];
    /** Block, or require MFA and a password change with sign-in frequency every time. */
    readonly response?: 'block' | 'mfaAndPasswordChange';
  };
  /** ID.CA.2. @default { levels: ['medium', 'high'], response: 'mfa' } */
  readonly signInRisk?: {
    readonly levels?: readonly RiskLevel[];
    /** MFA with sign-in frequency every time, or block. */
    readonly response?: 'mfa' | 'block';
  };
  /** ID.CA.3: a stricter tier for privileged roles, which are blocked at these user risk levels. */
  readonly privileged?: {
    /** Directory role template ids. @default the roles in DEFAULT_PRIVILEGED_ROLES */
    readonly roles?: readonly string[];
    /** @default ['medium', 'high'] */
    readonly userRiskLevels?: readonly RiskLevel[];
  };
  /**
   * Exclusions beyond the break-glass accounts, applied to every policy. Any other exclusion found
   * in the tenant is reported as undeclared (ID.CA.5). Prefer an exception with an expiry.
   */
  readonly exclusions?: { readonly users?: readonly string[]; readonly groups?: readonly string[] };
}

/**
 * Conditional access that ties mail risk to session revocation (ID.CA.1 to ID.CA.5): high user risk,
 * risky sign-ins, a stricter privileged tier and legacy authentication, each an Entra policy that
 * covers all users and all apps and excludes the break-glass accounts. More policies can be added
 * with `addPolicy`; they are held to the same invariants.
 */
export class RiskBasedAccess extends PostureArea {
  readonly props: RiskBasedAccessProps;
  private readonly policies: ConditionalAccessPolicy[] = [];

  constructor(scope: EmailSecurityPosture, id: string, props: RiskBasedAccessProps) {
    super(scope, id, 'conditional-access', props, riskBasedAccessProps);
    this.props = props;
    // Policies built from props that break their schema would only repeat its errors (or fail on a
    // value of the wrong type); the props' own errors are reported instead.
    if (!this.propsMatchSchema) return;
    const prefix = props.namePrefix ?? 'EP';
    const staged = new Set<string>(props.staged ?? []);
    const base = {
      state: props.state ?? 'enabled',
      users: {
        include: ['All'],
        exclude: [...this.posture.breakGlassUsers(), ...(props.exclusions?.users ?? [])],
        excludeGroups: [...this.posture.breakGlassGroups(), ...(props.exclusions?.groups ?? [])],
      },
    } as const;

    const userRisk = props.userRisk ?? {};
    const userRiskBlocks = userRisk.response === 'block';
    this.addPolicy('UserRisk', {
      ...base,
      key: 'user-risk',
      staged: staged.has('user-risk'),
      control: 'ID.CA.1',
      displayName: `${prefix} - User risk ${(userRisk.levels ?? ['high']).join('+')}: ${userRiskBlocks ? 'block' : 'MFA and password change'}`,
      userRiskLevels: userRisk.levels ?? ['high'],
      grant: userRiskBlocks ? { controls: ['block'] } : { operator: 'AND', controls: ['mfa', 'passwordChange'] },
      ...(userRiskBlocks ? {} : { signInFrequency: 'everyTime' as const }),
    });

    const signInRisk = props.signInRisk ?? {};
    const signInBlocks = signInRisk.response === 'block';
    this.addPolicy('SignInRisk', {
      ...base,
      key: 'sign-in-risk',
      staged: staged.has('sign-in-risk'),
      control: 'ID.CA.2',
      displayName: `${prefix} - Sign-in risk ${(signInRisk.levels ?? ['medium', 'high']).join('+')}: ${signInBlocks ? 'block' : 'MFA every time'}`,
      signInRiskLevels: signInRisk.levels ?? ['medium', 'high'],
      grant: { controls: [signInBlocks ? 'block' : 'mfa'] },
      ...(signInBlocks ? {} : { signInFrequency: 'everyTime' as const }),
    });

    this.addPolicy('PrivilegedUserRisk', {
      ...base,
      key: 'privileged-user-risk',
      staged: staged.has('privileged-user-risk'),
      control: 'ID.CA.3',
      displayName: `${prefix} - Privileged roles, user risk ${(props.privileged?.userRiskLevels ?? ['medium', 'high']).join('+')}: block`,
      users: { ...base.users, include: [], includeRoles: [...(props.privileged?.roles ?? DEFAULT_PRIVILEGED_ROLES)] },
      userRiskLevels: props.privileged?.userRiskLevels ?? ['medium', 'high'],
      grant: { controls: ['block'] },
    });

    this.addPolicy('LegacyAuthentication', {
      ...base,
      key: 'legacy-authentication',
      staged: staged.has('legacy-authentication'),
      control: 'ID.CA.4',
      displayName: `${prefix} - Block legacy authentication`,
      clientAppTypes: ['exchangeActiveSync', 'other'],
      grant: { controls: ['block'] },
    });
  }

  /** Adds a policy to this area; it is validated like the built-in ones. */
  addPolicy(id: string, props: ConditionalAccessPolicyProps): ConditionalAccessPolicy {
    const policy = new ConditionalAccessPolicy(this, id, props);
    this.policies.push(policy);
    return policy;
  }

  desiredState(): Partial<DesiredState> {
    return {
      conditionalAccess: {
        privilegedRoles: [...(this.props.privileged?.roles ?? DEFAULT_PRIVILEGED_ROLES)],
        exclusions: {
          users: (this.props.exclusions?.users ?? []).map((u) => u.toLowerCase()),
          groups: [...(this.props.exclusions?.groups ?? [])],
        },
        policies: this.policies.map((p) => p.toDesired()),
      },
    };
  }

  protected checkProps(p: Problems): void {
    (this.props.exclusions?.users ?? []).forEach((u, i) => p.format(`exclusions.users[${i}]`, upn, u));
    (this.props.privileged?.roles ?? []).forEach((r, i) => p.format(`privileged.roles[${i}]`, guid, r));
    if (this.props.privileged?.roles && this.props.privileged.roles.length === 0) {
      p.add('privileged.roles', 'name at least one role, or leave roles out for the default privileged roles');
    }
    const keys = new Map<string, string>();
    for (const policy of this.policies) {
      const other = keys.get(policy.props.key);
      if (other) p.add(`policies`, `key "${policy.props.key}" is used by both ${other} and ${policy.node.path}`);
      keys.set(policy.props.key, policy.node.path);
    }
  }
}

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
