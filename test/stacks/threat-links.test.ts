import { describe, expect, it } from 'vitest';
import { manifestSchema } from '../../reconciler/manifest/schema.js';
import { ThreatProtection, type ThreatProtectionProps } from '../../stacks/lib/threat-protection.js';
import { COMMON_ATTACHMENT_TYPES, linksAttachmentsDesiredState } from '../../stacks/lib/threat-links.js';
import { build, errorLines, owner } from './helpers.js';

const declare = (props: Partial<ThreatProtectionProps>) => build((p) => new ThreatProtection(p, 'Threat', { owner, ...props }));

describe('Safe Links, Safe Attachments and anti-malware props', () => {
  it('default to every setting required, Block, the admin-only quarantine policy, Microsoft\'s file types and Reject', () => {
    const d = linksAttachmentsDesiredState();
    expect(d.links).toEqual({ email: true, teams: true, office: true, allowClickThrough: false, urlRewrite: true, scanUrls: true, deliverAfterScan: true, internalSenders: true });
    expect(d.attachments).toMatchObject({ enable: true, action: 'Block', quarantineTag: 'AdminOnlyAccessPolicy', malware: { fileFilter: true, fileTypeAction: 'Reject', zeroHourAutoPurge: true } });
    expect(d.attachments.malware.fileTypes).toEqual(COMMON_ATTACHMENT_TYPES);
  });

  it('relax Teams, Office and internal senders, accept dynamic delivery and add file types (lower case, without the dot) to the common list', () => {
    const built = declare({ links: { teams: false, office: false, internalSenders: false }, attachments: { action: 'DynamicDelivery', additionalFileTypes: ['.ONE', 'vhd'], fileTypeAction: 'Quarantine' } });
    expect(errorLines(built)).toEqual([]);
    const m = built.posture.toManifest();
    expect(manifestSchema.parse(m)).toBeTruthy();
    const t = m.desired.threatProtection!;
    expect(t.links).toMatchObject({ teams: false, office: false, internalSenders: false, allowClickThrough: false });
    expect(t.attachments).toMatchObject({ action: 'DynamicDelivery', malware: { fileTypeAction: 'Quarantine' } });
    expect(t.attachments!.malware.fileTypes.slice(-2)).toEqual(['one', 'vhd']);
    expect(m.controls.map((c) => c.id)).toEqual(expect.arrayContaining(['MAIL.THREAT.3v1', 'MAIL.THREAT.4v1', 'MAIL.THREAT.5v1']));
  });

  it('name the construct path and property of each bad value', () => {
    const lines = errorLines(declare({ attachments: { quarantineTag: ' ', additionalFileTypes: ['one', 'exe', 'my file', '', 'ONE'] } }));
    expect(lines).toEqual([
      'test/Posture/Threat: attachments.quarantineTag: must not be empty: name a quarantine policy, or leave quarantineTag out for AdminOnlyAccessPolicy',
      'test/Posture/Threat: attachments.additionalFileTypes[1]: "exe" is already in COMMON_ATTACHMENT_TYPES, which the filter always holds',
      'test/Posture/Threat: attachments.additionalFileTypes[2]: "my file" must be a file name extension such as exe (letters and digits, at most 16)',
      'test/Posture/Threat: attachments.additionalFileTypes[3]: is required',
      'test/Posture/Threat: attachments.additionalFileTypes[4]: "ONE" is listed twice (first at attachments.additionalFileTypes[0])',
    ]);
  });

  it('refuse an unknown property and an action that is not one of the allowed values', () => {
    const lines = errorLines(declare({ links: { teams: true, clickThrough: true } as never, attachments: { action: 'Allow' as never } }));
    expect(lines.join('\n')).toMatch(/links\.clickThrough/);
    expect(lines.join('\n')).toContain(`attachments.action: "Allow" is not allowed: use Block or DynamicDelivery`);
  });
});
