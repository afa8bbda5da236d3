import { HIGHLY_PRIVILEGED_ROLES, PHISHING_RESISTANT_STRENGTH_ID, type WEAK_METHODS } from '../../policies/catalogue/authentication.js';
import type { DesiredState } from '../../reconciler/manifest/schema.js';
import { guid } from '../../reconciler/manifest/formats.js';
import { areaProps, PostureArea, type PostureAreaProps } from './area.js';
import type { EmailSecurityPosture } from './posture.js';
import type { Problems } from './problems.js';
import { list, named, oneOf, texts } from './prop-schemas.js';

/** An authentication method a posture may require disabled, as the authentication methods policy names it. */
export type WeakMethod = (typeof WEAK_METHODS)[number];

/** The built-in authentication strength a phishing-resistant policy requires (the same id in every tenant). */
export { PHISHING_RESISTANT_STRENGTH_ID };

/**
 * The highly privileged roles (ScubaGear MS.AAD.3.6v1): Global, Privileged Role, Security, Exchange,
 * SharePoint, User, Application, Cloud Application, Conditional Access, Authentication, Privileged
 * Authentication, Helpdesk and Billing Administrator, by directory role template id.
 */
export const HIGHLY_PRIVILEGED_ROLE_IDS: readonly string[] = Object.keys(HIGHLY_PRIVILEGED_ROLES);

export interface AuthenticationStrengthProps extends PostureAreaProps {
  /**
   * Directory role template ids that must sign in with phishing-resistant MFA (ID.AUTH.1). A posture
   * with a RiskBasedAccess area holds these roles to its `privileged.roles` instead.
   * @default HIGHLY_PRIVILEGED_ROLE_IDS
   */
  readonly privilegedRoles?: readonly string[];
  /**
   * Authentication methods that must be disabled in the authentication methods policy (ID.AUTH.3),
   * e.g. `['sms', 'voice']`. A method left out is never enabled for being left out. @default []
   */
  readonly disabledMethods?: readonly WeakMethod[];
}

/**
 * How accounts prove who they are (ID.AUTH.1 to ID.AUTH.3): privileged roles sign in with
 * phishing-resistant MFA, every enabled member user is MFA-capable, and the methods the posture names
 * as weak are disabled. The conditional access policy ID.AUTH.1 looks for is declared, like every
 * policy, with a ConditionalAccessPolicy in the RiskBasedAccess area (`authenticationStrength`).
 */
export class AuthenticationStrength extends PostureArea {
  readonly props: AuthenticationStrengthProps;

  constructor(scope: EmailSecurityPosture, id: string, props: AuthenticationStrengthProps) {
    super(scope, id, 'authentication', props, authenticationStrengthProps);
    this.props = props;
  }

  desiredState(): Partial<DesiredState> {
    return {
      authentication: {
        privilegedRoles: (this.props.privilegedRoles ?? HIGHLY_PRIVILEGED_ROLE_IDS).map((r) => r.toLowerCase()),
        disabledMethods: [...new Set(this.props.disabledMethods ?? [])].sort(),
      },
    };
  }

  protected checkProps(p: Problems): void {
    const roles = this.props.privilegedRoles;
    if (roles && roles.length === 0) p.add('privilegedRoles', 'name at least one role, or leave privilegedRoles out for the highly privileged roles');
    (roles ?? []).forEach((r, i) => p.format(`privilegedRoles[${i}]`, guid, r));
    const seen = new Set<string>();
    (this.props.disabledMethods ?? []).forEach((m, i) => {
      if (seen.has(m)) p.add(`disabledMethods[${i}]`, `"${m}" is listed twice`);
      seen.add(m);
    });
  }
}

export const authenticationStrengthProps = named('AuthenticationStrength', areaProps<AuthenticationStrengthProps>({
  privilegedRoles: texts,
  disabledMethods: list(oneOf<WeakMethod>({ sms: true, voice: true, email: true, softwareOath: true, hardwareOath: true })),
}));
