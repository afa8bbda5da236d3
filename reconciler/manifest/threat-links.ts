import { z } from 'zod';

/**
 * The manifest's Safe Links, Safe Attachments and anti-malware sections of
 * desired.threatProtection (MAIL.THREAT.3, .4, .5): what the effective policy of each population
 * must do. Settings the posture cannot relax are literals; a relaxation is a declaration.
 */

/** File type extensions: lower case letters and digits, no dot. */
const fileType = z
  .string()
  .regex(/^[a-z0-9]{1,16}$/, 'must be a file name extension without the dot, such as exe')
  .describe('A file name extension, lower case, without the dot.');

/** MAIL.THREAT.3: the effective Safe Links policy of each population. */
export const threatLinksSchema = z
  .object({
    /** EnableSafeLinksForEmail: links in mail are checked. */
    email: z.literal(true),
    /** EnableSafeLinksForTeams required (false: the posture does not require it; a policy that has it on is not drift). */
    teams: z.boolean(),
    /** EnableSafeLinksForOffice required (false: not required). */
    office: z.boolean(),
    /** AllowClickThrough must be false: a user cannot click through a block. */
    allowClickThrough: z.literal(false),
    /** URL rewrite on (DisableUrlRewrite false), so a link is checked at the time of click. */
    urlRewrite: z.literal(true),
    /** ScanUrls: real-time scanning of links. */
    scanUrls: z.literal(true),
    /** DeliverMessageAfterScan: mail is delivered only after its links were scanned. */
    deliverAfterScan: z.literal(true),
    /** EnableForInternalSenders required (false: not required). */
    internalSenders: z.boolean(),
  })
  .strict();

/** MAIL.THREAT.4 and MAIL.THREAT.5: the effective Safe Attachments and anti-malware policy of each population. */
export const threatAttachmentsSchema = z
  .object({
    /** MAIL.THREAT.4: Safe Attachments is on (Enable). */
    enable: z.literal(true),
    /** The least strict Action accepted: Block, or DynamicDelivery (which also accepts Block). */
    action: z.enum(['Block', 'DynamicDelivery']),
    /** The quarantine policy of what Safe Attachments quarantines (AdminOnlyAccessPolicy always meets it: no one but an admin releases). */
    quarantineTag: z.string().trim().min(1, 'must not be empty'),
    /** MAIL.THREAT.5: the anti-malware policy's common attachments filter and zero-hour auto purge. */
    malware: z
      .object({
        /** EnableFileFilter: the common attachments filter is on. */
        fileFilter: z.literal(true),
        /** File types the filter must hold (FileTypes); more in the policy is not drift. */
        fileTypes: z.array(fileType).min(1),
        /** What the filter does with a listed file type (FileTypeAction). */
        fileTypeAction: z.enum(['Reject', 'Quarantine']),
        /** ZapEnabled: zero-hour auto purge of malware delivered before the verdict. */
        zeroHourAutoPurge: z.literal(true),
      })
      .strict(),
  })
  .strict();

export type ThreatLinks = z.infer<typeof threatLinksSchema>;
export type ThreatAttachments = z.infer<typeof threatAttachmentsSchema>;
