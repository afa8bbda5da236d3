import { domainName, guid, upn } from '../../reconciler/manifest/formats.js';
import type { DesiredState } from '../../reconciler/manifest/schema.js';
import { areaProps, PostureArea, type PostureAreaProps } from './area.js';
import type { EmailSecurityPosture } from './posture.js';
import type { Problems } from './problems.js';
import { named, oneOf, props, texts } from './prop-schemas.js';
import { checkLinksAttachmentsProps, threatProtectionDesiredState, threatAttachmentsProps, threatLinksProps, type ThreatAttachmentsProps, type ThreatLinksProps } from './threat-links.js';

/** Who the threat protection controls judge, besides everyone. */
export interface ThreatPopulationsProps {
  /**
   * Directory role template ids whose holders are the privileged population, used when the posture's
   * conditional access (RiskBasedAccess) declares no privileged roles of its own.
   * @default DEFAULT_PRIVILEGED_ROLES
   */
  readonly privilegedRoles?: readonly string[];
  /** Groups (display names) whose members are high-value (executives, finance): each is judged as a population of its own. @default none */
  readonly highValueGroups?: readonly string[];
}

/** MAIL.THREAT.1: impersonation protection. */
export interface ImpersonationProps {
  /** Users attackers impersonate (executives, finance), by UPN: in TargetedUsersToProtect of each population's policy. @default none */
  readonly protectedUsers?: readonly string[];
  /** Partner domains protected from impersonation; the organisation's own accepted domains are always protected. @default none */
  readonly partnerDomains?: readonly string[];
  /** What an impersonation detection does. Delete is stricter and also meets Quarantine. @default 'Quarantine' */
  readonly action?: 'Quarantine' | 'Delete';
}

export interface ThreatProtectionProps extends PostureAreaProps {
  /** The populations judged besides everyone. @default the privileged roles only */
  readonly populations?: ThreatPopulationsProps;
  /** Impersonation and spoof protection (MAIL.THREAT.1). @default no protected users or partner domains, action Quarantine */
  readonly impersonation?: ImpersonationProps;
  /** Safe Links (MAIL.THREAT.3). @default every setting required */
  readonly links?: ThreatLinksProps;
  /** Safe Attachments and anti-malware (MAIL.THREAT.4, .5). @default Block, AdminOnlyAccessPolicy, COMMON_ATTACHMENT_TYPES, Reject */
  readonly attachments?: ThreatAttachmentsProps;
}

const lower = (s: string) => s.trim().toLowerCase();

/**
 * Threat protection judged on the effective policy of each population: the one anti-phishing and
 * anti-spam policy Exchange Online applies to everyone, to the holders of the privileged roles and
 * to each high-value group, after the preset security policies, custom rules by priority and the
 * default policy (MAIL.THREAT.1, MAIL.THREAT.2). A policy that applies to nobody counts for no one.
 * Safe Links, Safe Attachments and anti-malware sections join these props as they are added.
 */
export class ThreatProtection extends PostureArea {
  readonly props: ThreatProtectionProps;

  constructor(scope: EmailSecurityPosture, id: string, props: ThreatProtectionProps) {
    super(scope, id, 'threat', props, threatProtectionProps);
    this.props = props;
  }

  desiredState(): Partial<DesiredState> {
    return { threatProtection: threatProtectionDesiredState(this.props) };
  }

  protected checkProps(p: Problems): void {
    const roles = this.props.populations?.privilegedRoles;
    if (roles !== undefined) {
      if (roles.length === 0) p.add('populations.privilegedRoles', 'name at least one role, or leave privilegedRoles out for DEFAULT_PRIVILEGED_ROLES');
      roles.forEach((r, i) => p.format(`populations.privilegedRoles[${i}]`, guid, r));
      duplicates(p, 'populations.privilegedRoles', roles);
    }
    const groups = this.props.populations?.highValueGroups ?? [];
    groups.forEach((g, i) => p.required(`populations.highValueGroups[${i}]`, g));
    duplicates(p, 'populations.highValueGroups', groups);
    const users = this.props.impersonation?.protectedUsers ?? [];
    users.forEach((u, i) => {
      const at = `impersonation.protectedUsers[${i}]`;
      if (p.required(at, u)) p.format(at, upn, lower(u));
    });
    duplicates(p, 'impersonation.protectedUsers', users);
    const domains = this.props.impersonation?.partnerDomains ?? [];
    domains.forEach((d, i) => {
      const at = `impersonation.partnerDomains[${i}]`;
      if (p.required(at, d)) p.format(at, domainName, lower(d));
    });
    duplicates(p, 'impersonation.partnerDomains', domains);
    checkLinksAttachmentsProps(p, this.props.attachments);
  }
}

/** Each value once (case-insensitive): a second one is named with the index of the first. */
function duplicates(p: Problems, property: string, values: readonly string[]): void {
  const seen = new Map<string, number>();
  values.forEach((v, i) => {
    if (typeof v !== 'string' || !v.trim()) return;
    const k = lower(v);
    const first = seen.get(k);
    if (first !== undefined) p.add(`${property}[${i}]`, `"${v}" is listed twice (first at ${property}[${first}])`);
    else seen.set(k, i);
  });
}

export const threatProtectionProps = named('ThreatProtection', areaProps<ThreatProtectionProps>({
  populations: props<ThreatPopulationsProps>({ privilegedRoles: texts, highValueGroups: texts }).optional(),
  impersonation: props<ImpersonationProps>({ protectedUsers: texts, partnerDomains: texts, action: oneOf<NonNullable<ImpersonationProps['action']>>({ Quarantine: true, Delete: true }).optional() }).optional(),
  links: threatLinksProps.optional(),
  attachments: threatAttachmentsProps.optional(),
}));
