import { describe, expect, it } from 'vitest';
import { DEFAULT_PRIVILEGED_ROLES, ThreatProtection } from '../../stacks/index.js';
import { build, errorLines, owner } from './helpers.js';

describe('ThreatProtection', () => {
  it('declares MAIL.THREAT.1 and .2 with its populations, protected users and partner domains', () => {
    const { posture } = build((p) => new ThreatProtection(p, 'Threat', { owner, populations: { highValueGroups: [' Finance '] }, impersonation: { protectedUsers: ['CEO@contoso.example'], partnerDomains: ['Partner.example'] } }));
    const m = posture.toManifest();
    expect(m.controls.map((c) => c.id)).toEqual(expect.arrayContaining(['MAIL.THREAT.1v1', 'MAIL.THREAT.2v1']));
    expect(m.desired.threatProtection).toMatchObject({
      populations: { privilegedRoles: [...DEFAULT_PRIVILEGED_ROLES], highValueGroups: ['Finance'] },
      impersonation: { protectedUsers: ['ceo@contoso.example'], protectedDomains: ['partner.example'], action: 'Quarantine' },
      antiSpam: { highConfidencePhishAction: 'Quarantine', phishSpamAction: 'Quarantine', zeroHourAutoPurge: true },
    });
  });

  it('names the construct path and property of every bad value', () => {
    const lines = errorLines(
      build(
        (p) =>
          new ThreatProtection(p, 'Threat', {
            owner,
            populations: { privilegedRoles: ['not-a-guid'], highValueGroups: ['Finance', ' ', 'finance'] },
            impersonation: { protectedUsers: ['ceo', 'a@contoso.example', 'A@contoso.example'], partnerDomains: ['http://partner', 'p.example', 'P.example'] },
          }),
      ),
    );
    expect(lines).toEqual([
      expect.stringMatching(/^test\/Posture\/Threat: populations\.privilegedRoles\[0\]: "not-a-guid" must be a GUID/),
      'test/Posture/Threat: populations.highValueGroups[1]: is required',
      'test/Posture/Threat: populations.highValueGroups[2]: "finance" is listed twice (first at populations.highValueGroups[0])',
      expect.stringMatching(/^test\/Posture\/Threat: impersonation\.protectedUsers\[0\]: "ceo" must be a user principal name/),
      'test/Posture/Threat: impersonation.protectedUsers[2]: "A@contoso.example" is listed twice (first at impersonation.protectedUsers[1])',
      expect.stringMatching(/^test\/Posture\/Threat: impersonation\.partnerDomains\[0\]: "http:\/\/partner" /),
      'test/Posture/Threat: impersonation.partnerDomains[2]: "P.example" is listed twice (first at impersonation.partnerDomains[1])',
    ]);
  });

  it('refuses an unknown property and an action it does not know', () => {
    expect(errorLines(build((p) => new ThreatProtection(p, 'Threat', { owner, impersonation: { action: 'Junk' } } as never)))).toEqual([expect.stringMatching(/^test\/Posture\/Threat: impersonation\.action: /)]);
    expect(errorLines(build((p) => new ThreatProtection(p, 'Threat', { owner, mailboxes: {} } as never)))).toEqual([expect.stringMatching(/^test\/Posture\/Threat: mailboxes: unknown property of ThreatProtection/)]);
  });
});
