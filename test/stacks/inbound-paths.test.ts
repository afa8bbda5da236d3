import { describe, expect, it } from 'vitest';
import { DEFAULT_PATH_REQUIREMENT, InboundPaths } from '../../stacks/index.js';
import { build, errors, owner, postureProps, TODAY } from './helpers.js';

const routing = { name: 'Messaging Engineer', team: 'Messaging', contact: 'messaging@contoso.example' };
const policy = { name: 'Email Security', team: 'Security', contact: 'email-security@contoso.example' };
const messages = (b: ReturnType<typeof build>) => errors(b).map((e) => `${e.constructPath}: ${e.property}: ${e.message}`).join('\n');

describe('InboundPaths', () => {
  it('declares MAIL.PATH.1-2 with the default requirement, a week of evidence and no probe by default', () => {
    const { posture } = build((p) => new InboundPaths(p, 'InboundPaths', { owner }));
    const m = posture.toManifest();
    expect(m.controls.filter((c) => c.id.startsWith('MAIL.PATH.')).map((c) => [c.id, c.owner.contact])).toEqual([
      ['MAIL.PATH.1v1', owner.contact],
      ['MAIL.PATH.2v1', owner.contact],
    ]);
    expect(m.desired.inboundPaths).toEqual({ routingOwner: null, policyOwner: null, require: DEFAULT_PATH_REQUIREMENT, paths: [], evidenceDays: 7, probe: null });
    expect(Object.values(DEFAULT_PATH_REQUIREMENT)).not.toContain('inbox');
  });

  it('writes owners, declared paths (lower-cased) with their own requirement, the evidence period and the probe', () => {
    const { posture } = build((p) =>
      new InboundPaths(p, 'InboundPaths', {
        owner, routingOwner: routing, policyOwner: policy, evidenceDays: 14,
        require: { 'dmarc-reject': 'reject' },
        paths: [{ path: 'Contoso.example/gateway:MX1.Gateway.example', routingOwner: { ...routing, name: 'Gateway team' }, require: { 'compauth-fail': 'quarantine' } }, { path: '*/partner:Woodgrove' }],
        probe: { recipient: 'Probe@contoso.example', outsideDomain: 'Woodgrove.example' },
      }),
    );
    const d = posture.toManifest().desired.inboundPaths!;
    expect(d.require['dmarc-reject']).toBe('reject');
    expect(d.paths.map((x) => [x.match, x.routingOwner?.name ?? null, x.policyOwner, x.require])).toEqual([
      ['contoso.example/gateway:mx1.gateway.example', 'Gateway team', null, { 'compauth-fail': 'quarantine' }],
      ['*/partner:woodgrove', null, null, {}],
    ]);
    expect([d.evidenceDays, d.probe]).toEqual([14, { recipient: 'probe@contoso.example', outsideDomain: 'woodgrove.example', marker: '[email-posture probe]' }]);
  });

  it('refuses a path that is not one, a path declared twice, a bad period, owner or probe, naming construct and property', () => {
    const cases: Array<[unknown, RegExp]> = [
      [{ owner, paths: [{ path: 'mail to the gateway' }] }, /paths\[0\]\.path: "mail to the gateway" is not a path/],
      [{ owner, paths: [{ path: 'contoso.example' }, { path: 'Contoso.example' }] }, /paths\[1\]\.path: "Contoso.example" is declared twice/],
      [{ owner, paths: [{}] }, /paths\[0\]\.path/],
      [{ owner, evidenceDays: 31 }, /evidenceDays: must be a whole number of days from 0 to 30/],
      [{ owner, evidenceDays: 2.5 }, /evidenceDays/],
      [{ owner, routingOwner: { name: 'X', team: 'Y', contact: 'not an address' } }, /routingOwner\.contact/],
      [{ owner, probe: { recipient: 'nobody', outsideDomain: 'woodgrove.example' } }, /probe\.recipient/],
      [{ owner, probe: { recipient: 'probe@contoso.example', outsideDomain: 'not a domain' } }, /probe\.outsideDomain/],
      [{ owner, probe: { recipient: 'probe@contoso.example', outsideDomain: 'woodgrove.example', marker: 'x\u001b[2J' } }, /probe\.marker/],
      [{ owner, require: { 'dmarc-reject': 'bounce' } }, /require/],
      [{ owner, paths: [{ path: 'contoso.example', owner }] }, /owner/],
    ];
    for (const [props, message] of cases) {
      const built = build((p) => new InboundPaths(p, 'InboundPaths', props as never));
      expect(messages(built), JSON.stringify(props)).toMatch(message);
    }
  });

  it('an exception to MAIL.PATH.1 needs its compensating control', () => {
    const exception = { control: 'MAIL.PATH.1', scope: { type: 'path' as const, value: 'contoso.example/gateway:mx1.gateway.example' }, reason: 'Gateway migration', approvedBy: 'ciso@contoso.example', expires: TODAY };
    const without = build((p) => new InboundPaths(p, 'InboundPaths', { owner }), postureProps({ exceptions: [exception] }));
    expect(messages(without)).toMatch(/exceptions\[0\]\.compensatingControl: is required: an exception to MAIL\.PATH\.1/);
    const withIt = build((p) => new InboundPaths(p, 'InboundPaths', { owner }), postureProps({ exceptions: [{ ...exception, compensatingControl: 'The gateway quarantines DMARC failures itself.' }] }));
    expect(errors(withIt)).toEqual([]);
    expect(withIt.posture.toManifest().exceptions[0]).toMatchObject({ id: 'MAIL.PATH.1:path:contoso.example/gateway:mx1.gateway.example', scope: { type: 'path' } });
  });
});
