import type { ThreatAttachments, ThreatLinks } from '../../reconciler/manifest/threat-links.js';
import type { DesiredState } from '../../reconciler/manifest/schema.js';
import type { Problems } from './problems.js';
import { DEFAULT_PRIVILEGED_ROLES } from './roles.js';
import { flag, oneOf, props, text, texts } from './prop-schemas.js';

/**
 * Microsoft's default list of the common attachments filter (a new anti-malware policy's FileTypes):
 * executables, scripts, installers, disk images, archives and macro-enabled documents.
 */
export const COMMON_ATTACHMENT_TYPES: readonly string[] = [
  'ace', 'ani', 'apk', 'app', 'appx', 'arj', 'bat', 'cab', 'cmd', 'com', 'deb', 'dex', 'dll', 'docm', 'elf', 'exe', 'hta', 'img', 'iso', 'jar', 'jnlp', 'kext',
  'lha', 'lib', 'library', 'lnk', 'lzh', 'macho', 'msc', 'msi', 'msix', 'msp', 'mst', 'pif', 'ppa', 'ppam', 'reg', 'rev', 'scf', 'scr', 'sct', 'sys', 'uif',
  'vb', 'vbe', 'vbs', 'vxd', 'wsc', 'wsf', 'wsh', 'xll', 'xz', 'z',
];

/**
 * MAIL.THREAT.3: Safe Links on the effective policy of each population. Links in mail are always
 * checked at the time of click (URL rewrite on), scanned before delivery, with no click-through;
 * these props relax only what the posture may leave out. Relaxing is not requiring off: a policy
 * that has a relaxed setting on is not drift.
 */
export interface ThreatLinksProps {
  /** Require Safe Links in Microsoft Teams (EnableSafeLinksForTeams). @default true */
  readonly teams?: boolean;
  /** Require Safe Links in Office apps (EnableSafeLinksForOffice). @default true */
  readonly office?: boolean;
  /** Require Safe Links on mail between internal senders and recipients (EnableForInternalSenders). @default true */
  readonly internalSenders?: boolean;
}

/**
 * MAIL.THREAT.4 (Safe Attachments) and MAIL.THREAT.5 (anti-malware) on the effective policy of each
 * population.
 */
export interface ThreatAttachmentsProps {
  /**
   * The least strict Safe Attachments action accepted. `DynamicDelivery` delivers the body at once and
   * the attachment after its scan; Block also meets it. @default 'Block'
   */
  readonly action?: 'Block' | 'DynamicDelivery';
  /** The quarantine policy of what Safe Attachments quarantines (QuarantineTag); AdminOnlyAccessPolicy always meets it. @default 'AdminOnlyAccessPolicy' */
  readonly quarantineTag?: string;
  /** File types (extensions without the dot) the common attachments filter must hold besides COMMON_ATTACHMENT_TYPES. @default none */
  readonly additionalFileTypes?: readonly string[];
  /** What the common attachments filter does with a listed file type (FileTypeAction). @default 'Reject' */
  readonly fileTypeAction?: 'Reject' | 'Quarantine';
}

export const threatLinksProps = props<ThreatLinksProps>({ teams: flag, office: flag, internalSenders: flag });

export const threatAttachmentsProps = props<ThreatAttachmentsProps>({
  action: oneOf<NonNullable<ThreatAttachmentsProps['action']>>({ Block: true, DynamicDelivery: true }).optional(),
  quarantineTag: text,
  additionalFileTypes: texts,
  fileTypeAction: oneOf<NonNullable<ThreatAttachmentsProps['fileTypeAction']>>({ Reject: true, Quarantine: true }).optional(),
});

const fileTypeOf = (t: string) => t.trim().toLowerCase().replace(/^\./, '');

/** The manifest's desired.threatProtection.links and .attachments from the props (defaults filled in). */
export function linksAttachmentsDesiredState(links: ThreatLinksProps = {}, attachments: ThreatAttachmentsProps = {}): { links: ThreatLinks; attachments: ThreatAttachments } {
  const fileTypes = [...new Set([...COMMON_ATTACHMENT_TYPES, ...(attachments.additionalFileTypes ?? []).map(fileTypeOf)])];
  return {
    links: {
      email: true,
      teams: links.teams ?? true,
      office: links.office ?? true,
      allowClickThrough: false,
      urlRewrite: true,
      scanUrls: true,
      deliverAfterScan: true,
      internalSenders: links.internalSenders ?? true,
    },
    attachments: {
      enable: true,
      action: attachments.action ?? 'Block',
      quarantineTag: attachments.quarantineTag?.trim() || 'AdminOnlyAccessPolicy',
      malware: { fileFilter: true, fileTypes, fileTypeAction: attachments.fileTypeAction ?? 'Reject', zeroHourAutoPurge: true },
    },
  };
}

/** What `threatProtectionDesiredState` takes: ThreatProtection's props besides its owner and mode. */
export interface ThreatDesiredProps {
  readonly populations?: { readonly privilegedRoles?: readonly string[]; readonly highValueGroups?: readonly string[] };
  readonly impersonation?: { readonly protectedUsers?: readonly string[]; readonly partnerDomains?: readonly string[]; readonly action?: 'Quarantine' | 'Delete' };
  readonly links?: ThreatLinksProps;
  readonly attachments?: ThreatAttachmentsProps;
}

/**
 * `desired.threatProtection` of ThreatProtection's props, with their defaults: the one mapping, which
 * the construct and `posture import` (judging the gaps of the stack it writes) both use.
 */
export function threatProtectionDesiredState(p: ThreatDesiredProps): NonNullable<DesiredState['threatProtection']> {
  const lower = (s: string) => s.trim().toLowerCase();
  const i = p.impersonation ?? {};
  return {
    populations: {
      privilegedRoles: [...(p.populations?.privilegedRoles ?? DEFAULT_PRIVILEGED_ROLES)].map(lower),
      highValueGroups: [...(p.populations?.highValueGroups ?? [])].map((g) => g.trim()),
    },
    impersonation: {
      protectedUsers: [...(i.protectedUsers ?? [])].map(lower),
      protectedDomains: [...(i.partnerDomains ?? [])].map(lower),
      action: i.action ?? 'Quarantine',
    },
    // MAIL.THREAT.2 has nothing to choose: phishing quarantined, zero-hour auto purge on.
    antiSpam: { highConfidencePhishAction: 'Quarantine', phishSpamAction: 'Quarantine', zeroHourAutoPurge: true },
    ...linksAttachmentsDesiredState(p.links, p.attachments),
  };
}

/** Rules between values the schemas cannot state; `at` prefixes each property (`links`, `attachments`). */
export function checkLinksAttachmentsProps(p: Problems, attachments: ThreatAttachmentsProps | undefined, at = 'attachments'): void {
  if (!attachments) return;
  if (attachments.quarantineTag !== undefined && !attachments.quarantineTag.trim()) p.add(`${at}.quarantineTag`, 'must not be empty: name a quarantine policy, or leave quarantineTag out for AdminOnlyAccessPolicy');
  const seen = new Map<string, number>();
  (attachments.additionalFileTypes ?? []).forEach((t, i) => {
    const property = `${at}.additionalFileTypes[${i}]`;
    if (!p.required(property, t)) return;
    const type = fileTypeOf(t);
    if (!/^[a-z0-9]{1,16}$/.test(type)) return p.add(property, `${JSON.stringify(t)} must be a file name extension such as exe (letters and digits, at most 16)`);
    if (COMMON_ATTACHMENT_TYPES.includes(type)) return p.add(property, `"${type}" is already in COMMON_ATTACHMENT_TYPES, which the filter always holds`);
    const first = seen.get(type);
    if (first !== undefined) p.add(property, `"${t}" is listed twice (first at ${at}.additionalFileTypes[${first}])`);
    else seen.set(type, i);
  });
}
