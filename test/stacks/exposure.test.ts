import { describe, expect, it } from 'vitest';
import { ExternalExposure, REQUIRED_AUDIT_ACTIONS } from '../../stacks/index.js';
import { build, errors, owner } from './helpers.js';

describe('ExternalExposure', () => {
  it('declares MAIL.EXPOSURE.1-3 with the External tag, no free/busy with every domain, and the required audit actions by default', () => {
    const { posture } = build((p) => new ExternalExposure(p, 'ExternalExposure', { owner }));
    const m = posture.toManifest();
    expect(m.controls.filter((c) => c.id.startsWith('MAIL.EXPOSURE.')).map((c) => [c.id, c.mode])).toEqual([
      ['MAIL.EXPOSURE.1v1', 'report'],
      ['MAIL.EXPOSURE.2v1', 'report'],
      ['MAIL.EXPOSURE.3v1', 'report'],
    ]);
    expect(m.desired.exposure).toEqual({
      externalSenders: { bannerRule: null },
      sharing: { allowFreeBusyWithAllDomains: false },
      mailboxAudit: { owner: [...REQUIRED_AUDIT_ACTIONS.owner], delegate: [...REQUIRED_AUDIT_ACTIONS.delegate], admin: [...REQUIRED_AUDIT_ACTIONS.admin] },
    });
    expect(m.desired.exposure!.mailboxAudit.owner).toEqual(expect.arrayContaining(['MailItemsAccessed', 'UpdateInboxRules', 'MoveToDeletedItems', 'SoftDelete', 'HardDelete', 'Send']));
  });

  it('writes a declared banner rule and the free/busy allowance', () => {
    const { posture } = build((p) => new ExternalExposure(p, 'ExternalExposure', { owner, bannerRule: ' External sender warning ', allowFreeBusyWithAllDomains: true }));
    expect(posture.toManifest().desired.exposure).toMatchObject({ externalSenders: { bannerRule: 'External sender warning' }, sharing: { allowFreeBusyWithAllDomains: true } });
  });

  it('refuses an empty, overlong or control-character banner rule name, and props of the wrong type, naming construct and property', () => {
    const cases: Array<[unknown, RegExp]> = [
      [{ owner, bannerRule: '  ' }, /bannerRule: must name the transport rule/],
      [{ owner, bannerRule: 'x'.repeat(65) }, /bannerRule: .* longer than a transport rule name may be/],
      [{ owner, bannerRule: 'Banner\u001b[31m' }, /bannerRule: must not contain control characters/],
      [{ owner, allowFreeBusyWithAllDomains: 'yes' }, /allowFreeBusyWithAllDomains/],
      [{ owner, allowFreeBusy: true }, /allowFreeBusy/],
    ];
    for (const [props, message] of cases) {
      const built = build((p) => new ExternalExposure(p, 'ExternalExposure', props as never));
      const found = errors(built);
      expect(found.map((e) => `${e.constructPath}: ${e.property}: ${e.message}`).join('\n'), JSON.stringify(props)).toMatch(message);
      expect(found.every((e) => e.constructPath.endsWith('ExternalExposure'))).toBe(true);
    }
  });

  it('is declared once per posture', () => {
    const built = build((p) => {
      new ExternalExposure(p, 'ExternalExposure', { owner });
      new ExternalExposure(p, 'Again', { owner });
    });
    expect(errors(built).map((e) => e.message).join('\n')).toContain('area "exposure" is already declared');
  });
});
