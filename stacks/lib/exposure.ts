import type { DesiredState } from '../../reconciler/manifest/schema.js';
import { areaProps, PostureArea, type PostureAreaProps } from './area.js';
import type { EmailSecurityPosture } from './posture.js';
import type { Problems } from './problems.js';
import { flag, named, text } from './prop-schemas.js';

/**
 * The mailbox actions every user and shared mailbox must audit, per logon type (MAIL.EXPOSURE.3):
 * what investigating a compromised mailbox needs. Owners and admins send with Send; delegates send
 * as or on behalf of the owner. All are in Microsoft's default audit sets for mailboxes licensed for
 * Audit (Premium); MailItemsAccessed and Send are not in them without it.
 */
export const REQUIRED_AUDIT_ACTIONS = {
  owner: ['MailItemsAccessed', 'UpdateInboxRules', 'MoveToDeletedItems', 'SoftDelete', 'HardDelete', 'Send'],
  delegate: ['MailItemsAccessed', 'UpdateInboxRules', 'MoveToDeletedItems', 'SoftDelete', 'HardDelete', 'SendAs', 'SendOnBehalf'],
  admin: ['MailItemsAccessed', 'UpdateInboxRules', 'MoveToDeletedItems', 'SoftDelete', 'HardDelete', 'Send'],
} as const;

export interface ExternalExposureProps extends PostureAreaProps {
  /**
   * The transport rule that marks mail from outside the organisation with a banner, by name. When
   * set, MAIL.EXPOSURE.1 checks that rule (enabled, enforced, FromScope NotInOrganization, a
   * prepended disclaimer or subject prefix) instead of Outlook's native External tag, and apply never
   * turns the tag on. @default none: the External tag (Set-ExternalInOutlook -Enabled $true) is required
   */
  readonly bannerRule?: string;
  /**
   * Whether sharing policies may let users share free/busy only (CalendarSharingFreeBusySimple,
   * times without subjects or places) with every outside domain ("*"). Calendar details, contacts and
   * anonymous publishing are never allowed with "*"; named partner domains are not restricted.
   *
   * The default is false, as a demanding security team expects and as CISA's baseline reads
   * (MS.EXO.6.2v1 flags any calendar sharing with all domains): even free/busy tells an outsider when
   * an executive travels or is in back-to-back meetings, which is what a well-timed phish or wire
   * fraud needs. Exchange Online's Default Sharing Policy ships with "*:CalendarSharingFreeBusySimple",
   * so a tenant left at its defaults fails until this is declared or the entry is removed.
   * @default false
   */
  readonly allowFreeBusyWithAllDomains?: boolean;
}

/**
 * What mail and calendars give away to the outside, and what is left to investigate with
 * (MAIL.EXPOSURE.1 to MAIL.EXPOSURE.3): mail from outside is marked (the External tag, or a declared
 * banner rule); no sharing policy shares calendar details or contacts with every domain or lets
 * calendars be published anonymously ("Anonymous:" entries, the only setting that governs
 * publishing: Get-OrganizationConfig has none); mailbox auditing is on for the organisation and
 * every user and shared mailbox audits {@link REQUIRED_AUDIT_ACTIONS}.
 */
export class ExternalExposure extends PostureArea {
  readonly props: ExternalExposureProps;

  constructor(scope: EmailSecurityPosture, id: string, props: ExternalExposureProps) {
    super(scope, id, 'exposure', props, externalExposureProps);
    this.props = props;
  }

  desiredState(): Partial<DesiredState> {
    return {
      exposure: {
        externalSenders: { bannerRule: this.props.bannerRule?.trim() ?? null },
        sharing: { allowFreeBusyWithAllDomains: this.props.allowFreeBusyWithAllDomains ?? false },
        mailboxAudit: {
          owner: [...REQUIRED_AUDIT_ACTIONS.owner],
          delegate: [...REQUIRED_AUDIT_ACTIONS.delegate],
          admin: [...REQUIRED_AUDIT_ACTIONS.admin],
        },
      },
    };
  }

  protected checkProps(p: Problems): void {
    const rule = this.props.bannerRule;
    if (rule === undefined) return;
    if (rule.trim() === '') p.add('bannerRule', 'must name the transport rule (or be left out to require the External tag)');
    // A transport rule name is at most 64 characters and holds no control characters.
    else if (rule.trim().length > 64) p.add('bannerRule', `"${rule.slice(0, 64)}…" is longer than a transport rule name may be (64 characters)`);
    else if (/\p{Cc}/u.test(rule)) p.add('bannerRule', 'must not contain control characters');
  }
}

export const externalExposureProps = named('ExternalExposure', areaProps<ExternalExposureProps>({ bannerRule: text, allowFreeBusyWithAllDomains: flag }));
