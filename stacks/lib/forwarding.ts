import type { DesiredState } from '../../reconciler/manifest/schema.js';
import { domainName } from '../../reconciler/manifest/formats.js';
import { areaProps, PostureArea, type PostureAreaProps } from './area.js';
import type { EmailSecurityPosture } from './posture.js';
import type { Problems } from './problems.js';
import { named, texts } from './prop-schemas.js';

export interface ForwardingLockdownProps extends PostureAreaProps {
  /**
   * Partner domains whose remote-domain entry may allow automatic forwarding (MAIL.FWD.2). Never
   * `*`. Mailbox and inbox-rule forwarding to them still needs an exception. @default none
   */
  readonly allowedRemoteDomains?: readonly string[];
}

/**
 * No automatic forwarding to outside addresses at any layer: outbound spam filter, remote domains,
 * mailbox forwarding, inbox rules and transport rules (MAIL.FWD.1 to MAIL.FWD.5).
 */
export class ForwardingLockdown extends PostureArea {
  readonly props: ForwardingLockdownProps;

  constructor(scope: EmailSecurityPosture, id: string, props: ForwardingLockdownProps) {
    super(scope, id, 'forwarding', props, forwardingLockdownProps);
    this.props = props;
  }

  desiredState(): Partial<DesiredState> {
    return {
      forwarding: {
        autoForwardingMode: 'Off',
        allowedRemoteDomains: (this.props.allowedRemoteDomains ?? []).map((d) => d.toLowerCase()).sort(),
      },
    };
  }

  protected checkProps(p: Problems): void {
    (this.props.allowedRemoteDomains ?? []).forEach((d, i) => {
      const at = `allowedRemoteDomains[${i}]`;
      if (d.trim() === '*' || d.includes('*')) p.add(at, `"${d}" would allow forwarding to every domain; name partner domains one by one`);
      else p.format(at, domainName, d);
    });
  }
}

export const forwardingLockdownProps = named('ForwardingLockdown', areaProps<ForwardingLockdownProps>({ allowedRemoteDomains: texts }));
