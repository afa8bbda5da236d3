import type { DesiredState } from '../../reconciler/manifest/schema.js';
import { areaProps, PostureArea, type PostureAreaProps } from './area.js';
import type { EmailSecurityPosture } from './posture.js';
import { named, oneOf } from './prop-schemas.js';

export interface InboundEnforcementProps extends PostureAreaProps {
  /** What Exchange does with mail whose sender publishes p=reject and fails DMARC. @default 'Reject' */
  readonly dmarcRejectAction?: 'Reject' | 'Quarantine';
  /** What Exchange does with mail whose sender publishes p=quarantine and fails DMARC. @default 'Quarantine' */
  readonly dmarcQuarantineAction?: 'Quarantine' | 'MoveToJmf';
}

/**
 * Inbound mail that fails DMARC is rejected or quarantined, and nothing bypasses filtering
 * (MAIL.INBOUND.1, MAIL.INBOUND.2). A bypass that must stay (a transport rule for a scanning
 * appliance, say) is declared as an exception to MAIL.INBOUND.2 scoped to the rule.
 */
export class InboundEnforcement extends PostureArea {
  readonly props: InboundEnforcementProps;

  constructor(scope: EmailSecurityPosture, id: string, props: InboundEnforcementProps) {
    super(scope, id, 'inbound', props, inboundEnforcementProps);
    this.props = props;
  }

  desiredState(): Partial<DesiredState> {
    return {
      inbound: {
        antiPhish: {
          honorDmarcPolicy: true,
          dmarcRejectAction: this.props.dmarcRejectAction ?? 'Reject',
          dmarcQuarantineAction: this.props.dmarcQuarantineAction ?? 'Quarantine',
        },
      },
    };
  }

  /** Both actions are enums, checked with the props' schema. */
  protected checkProps(): void {}
}

export const inboundEnforcementProps = named('InboundEnforcement', areaProps<InboundEnforcementProps>({
  dmarcRejectAction: oneOf<NonNullable<InboundEnforcementProps['dmarcRejectAction']>>({ Reject: true, Quarantine: true }).optional(),
  dmarcQuarantineAction: oneOf<NonNullable<InboundEnforcementProps['dmarcQuarantineAction']>>({ Quarantine: true, MoveToJmf: true }).optional(),
}));
