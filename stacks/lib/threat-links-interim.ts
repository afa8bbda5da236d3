import { guid } from '../../reconciler/manifest/formats.js';
import type { DesiredState } from '../../reconciler/manifest/schema.js';
import { areaProps, PostureArea, type PostureAreaProps } from './area.js';
import type { EmailSecurityPosture } from './posture.js';
import type { Problems } from './problems.js';
import { named, props, texts } from './prop-schemas.js';
import { DEFAULT_PRIVILEGED_ROLES } from './roles.js';
import { checkLinksAttachmentsProps, linksAttachmentsDesiredState, threatAttachmentsProps, threatLinksProps, type ThreatAttachmentsProps, type ThreatLinksProps } from './threat-links.js';

/** Who the threat protection controls judge besides everyone (as ThreatProtection's `populations`). */
export interface InterimThreatPopulationsProps {
  /** Role template ids of the privileged population when conditional access declares none. @default DEFAULT_PRIVILEGED_ROLES */
  readonly privilegedRoles?: readonly string[];
  /** Groups (display names) whose members are high-value. @default none */
  readonly highValueGroups?: readonly string[];
}

export interface InterimThreatProtectionProps extends PostureAreaProps {
  /** @default the privileged roles only */
  readonly populations?: InterimThreatPopulationsProps;
  /** Safe Links (MAIL.THREAT.3). @default every setting required */
  readonly links?: ThreatLinksProps;
  /** Safe Attachments and anti-malware (MAIL.THREAT.4, .5). @default Block, AdminOnlyAccessPolicy, COMMON_ATTACHMENT_TYPES, Reject */
  readonly attachments?: ThreatAttachmentsProps;
}

/**
 * The threat area with only its Safe Links, Safe Attachments and anti-malware sections, for
 * declaring MAIL.THREAT.3–5 until the ThreatProtection construct takes `links` and `attachments`
 * (stacks/lib/threat-links.ts holds both sections' props, schemas and desired state). Not exported
 * from the public API.
 */
export class InterimThreatProtection extends PostureArea {
  readonly props: InterimThreatProtectionProps;

  constructor(scope: EmailSecurityPosture, id: string, props: InterimThreatProtectionProps) {
    super(scope, id, 'threat', props, interimThreatProtectionProps);
    this.props = props;
  }

  desiredState(): Partial<DesiredState> {
    const p = this.props;
    return {
      threatProtection: {
        populations: {
          privilegedRoles: [...(p.populations?.privilegedRoles ?? DEFAULT_PRIVILEGED_ROLES)].map((r) => r.trim().toLowerCase()),
          highValueGroups: [...(p.populations?.highValueGroups ?? [])].map((g) => g.trim()),
        },
        ...linksAttachmentsDesiredState(p.links, p.attachments),
      },
    };
  }

  protected checkProps(p: Problems): void {
    (this.props.populations?.privilegedRoles ?? []).forEach((r, i) => p.format(`populations.privilegedRoles[${i}]`, guid, r));
    (this.props.populations?.highValueGroups ?? []).forEach((g, i) => p.required(`populations.highValueGroups[${i}]`, g));
    checkLinksAttachmentsProps(p, this.props.attachments);
  }
}

export const interimThreatProtectionProps = named('InterimThreatProtection', areaProps<InterimThreatProtectionProps>({
  populations: props<InterimThreatPopulationsProps>({ privilegedRoles: texts, highValueGroups: texts }).optional(),
  links: threatLinksProps.optional(),
  attachments: threatAttachmentsProps.optional(),
}));
