import type { ThreatAttachmentsProps, ThreatLinksProps } from '../lib/threat-links.js';
import { InterimThreatProtection } from '../lib/threat-links-interim.js';
import type { TailspinStack } from './tailspin.js';

/** Tailspin's Safe Links: every setting required (Teams and Office included). */
export const TAILSPIN_LINKS: ThreatLinksProps = { teams: true, office: true, internalSenders: true };

/** Tailspin's Safe Attachments and anti-malware: block, admin-only quarantine, Microsoft's file types plus OneNote and VHD files, rejected. */
export const TAILSPIN_ATTACHMENTS: ThreatAttachmentsProps = { action: 'Block', quarantineTag: 'AdminOnlyAccessPolicy', additionalFileTypes: ['one', 'vhd'], fileTypeAction: 'Reject' };

/** Tailspin's high-value group: the security operations team, whose mailboxes receive alerts and incident mail. */
export const TAILSPIN_HIGH_VALUE_GROUPS = ['Security Operations'];

/**
 * Declares Tailspin's Safe Links, Safe Attachments and anti-malware posture (MAIL.THREAT.3–5) on a
 * Tailspin stack, as its ThreatProtection will with `links: TAILSPIN_LINKS, attachments:
 * TAILSPIN_ATTACHMENTS`.
 */
export function declareTailspinThreatLinks(stack: TailspinStack): InterimThreatProtection {
  return new InterimThreatProtection(stack.posture, 'ThreatProtection', {
    owner: { name: 'Mail Platform Lead', team: 'Messaging', contact: 'mail-platform@tailspintoys.example' },
    mode: 'remediate',
    populations: { highValueGroups: TAILSPIN_HIGH_VALUE_GROUPS },
    links: TAILSPIN_LINKS,
    attachments: TAILSPIN_ATTACHMENTS,
  });
}
