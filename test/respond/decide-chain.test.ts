import { describe, expect, it } from 'vitest';
import { responseSchema, type ResponsePolicy } from '../../reconciler/manifest/response.js';
import type { ChainInvite, ChainMessage, EventCopy } from '../../reconciler/model/chain.js';
import { decideChain, holdWideChains, type Identity } from '../../reconciler/respond/decide.js';
import { fromDefenderAlert, fromSignalFile, signalFileSchema } from '../../reconciler/respond/signals.js';

/** A chain's containment decided per mailbox, from the matrix of each mailbox's tier: pure, no I/O. */

const ADMIN_ROLE = '62e90394-69f5-4237-9190-012177145e10';
const chainCells = (automatic: string[], approval: string[], never: string[] = []) => ({ automatic, approval, never });
const everyTier = (high: object, medium: object, low: object) => ({ high, medium, low });
const policy = (breaker = { maxIdentities: 2, maxShare: 0.5 }): ResponsePolicy =>
  responseSchema.parse({
    owner: { name: 'SecOps', team: 'SecOps', contact: 'secops@contoso.example' },
    actionOwners: {},
    lookbackHours: 24,
    windowHours: 4,
    signals: [{ source: 'defenderAlert', confidence: 'high' }],
    tiers: { privilegedRoles: [ADMIN_ROLE], highValueGroups: [], serviceAccounts: { users: [], groups: [] } },
    matrix: {
      privileged: everyTier(chainCells(['notify'], ['purgeMessage', 'removeInvites']), chainCells([], []), chainCells([], [])),
      serviceAccount: everyTier(chainCells([], [], ['purgeMessage']), chainCells([], []), chainCells([], [])),
      highValue: everyTier(chainCells(['purgeMessage', 'removeInvites'], []), chainCells([], []), chainCells([], [])),
      sharedMailbox: everyTier(chainCells(['purgeMessage', 'removeInvites'], []), chainCells([], []), chainCells([], [])),
      standard: everyTier(chainCells(['purgeMessage', 'removeInvites'], []), chainCells([], ['purgeMessage', 'removeInvites']), chainCells([], [])),
    },
    circuitBreaker: breaker,
  });

const id = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;
const identities: Identity[] = [
  { id: id(1), upn: 'std@contoso.example', mail: 'sam.std@contoso.example', roles: [], groups: [] },
  { id: id(2), upn: 'admin@contoso.example', roles: [ADMIN_ROLE], groups: [] },
  { id: id(3), upn: 'bg@contoso.example', roles: [ADMIN_ROLE], groups: [] },
  { id: id(4), upn: 'other@contoso.example', roles: [], groups: [] },
  ...Array.from({ length: 6 }, (_, i) => ({ id: id(10 + i), upn: `u${i}@contoso.example`, roles: [], groups: [] })),
];
const copy = (recipient: string, latestLocation = 'inbox_folder') => ({ recipient, originalLocation: 'inbox_folder', latestLocation, deliveryAction: 'delivered', analyzedEmailId: `ae-${recipient}` });
const message = (copies: ReturnType<typeof copy>[]): ChainMessage => ({
  networkMessageId: 'a1f3c9d2-5b7e-4c61-9f08-3d2e6b1c7a54', subject: 'Invoice', sender: { address: 'billing@evil.test' }, directionality: 'inbound',
  authentication: {}, receivedAt: '2026-11-23T08:00:00Z', links: ['https://evil.test/login'], copies, source: 'analyzedEmails',
});
const event = (who: Identity, isOrganizer: boolean): EventCopy => ({
  mailbox: { id: who.id, upn: who.upn }, eventId: `ev-${who.upn}`, iCalUId: 'uid-1', subject: 'Walkthrough', organizer: 'std@contoso.example', attendees: [],
  links: ['https://evil.test/login'], createdAt: '2026-11-23T08:30:00Z', isOrganizer, isCancelled: false, type: 'singleInstance', source: 'events',
});
const invite = (copies: EventCopy[]): ChainInvite => ({ iCalUId: 'uid-1', subject: 'Walkthrough', organizer: 'std@contoso.example', organizerKind: 'compromised-internal', matchedBy: ['links'], copies });
const base = { id: 'CHN-1', startedBy: ['defenderAlert:a1'] };
const ctx = (p = policy()) => ({ policy: p, breakGlass: { users: ['bg@contoso.example'], groups: [] }, identities, userCount: 100 });

describe('a chain\u2019s containment, mailbox by mailbox', () => {
  it('each mailbox by its own tier\u2019s cell; a recipient known by mail address found; break-glass untouched; an unknown address named', () => {
    const m = message([copy('sam.std@contoso.example'), copy('admin@contoso.example'), copy('bg@contoso.example'), copy('dl-finance@contoso.example'), copy('other@contoso.example', 'deletedFolder')]);
    const r = decideChain({ ...base, confidence: 'high', message: m, invites: [invite([event(identities[0]!, true), event(identities[1]!, false)])] }, ctx());
    expect(r.decisions.map((d) => [d.identity.upn, d.action, d.disposition, d.rule])).toEqual([
      ['admin@contoso.example', 'purgeMessage', 'approval', 'matrix.privileged.high.approval'],
      ['admin@contoso.example', 'removeInvites', 'approval', 'matrix.privileged.high.approval'],
      ['other@contoso.example', 'purgeMessage', 'automatic', 'matrix.standard.high.automatic'],
      ['std@contoso.example', 'purgeMessage', 'automatic', 'matrix.standard.high.automatic'],
      ['std@contoso.example', 'removeInvites', 'automatic', 'matrix.standard.high.automatic'],
    ]);
    expect(r.untouched).toEqual([{ address: 'bg@contoso.example', reason: 'break-glass' }, { address: 'dl-finance@contoso.example', reason: 'not-in-directory' }]);
    // What the types act on: copies not yet contained, with their mailbox; the organizer's copy cancelled, the other deleted.
    expect(r.target.purge.map((c) => [c.recipient, c.mailboxId])).toEqual([['sam.std@contoso.example', id(1)], ['admin@contoso.example', id(2)]]);
    expect(r.target.removals.map((x) => [x.copy.mailbox.upn, x.how])).toEqual([['std@contoso.example', 'cancel'], ['admin@contoso.example', 'delete']]);
    // Nothing of the chain's actions on an identity incident's list: they are decided here only.
    expect(decideChain({ ...base, confidence: 'low', message: m, invites: [] }, ctx()).decisions).toEqual([]);
  });

  it('an address two identities answer to is neither\u2019s: never acted on, named break-glass when one of them is', () => {
    const clash: Identity[] = [...identities, { id: id(30), upn: 'twin@contoso.example', roles: [], groups: [] }, { id: id(31), upn: 'bg2@contoso.example', mail: 'twin@contoso.example', roles: [], groups: [] }];
    const r = decideChain({ ...base, confidence: 'high', message: message([copy('twin@contoso.example')]), invites: [] }, { ...ctx(), identities: clash, breakGlass: { users: ['bg2@contoso.example'], groups: [] } });
    expect(r.decisions).toEqual([]);
    expect(r.target.purge).toEqual([]);
    expect(r.untouched).toEqual([{ address: 'twin@contoso.example', reason: 'break-glass' }]);
    const plain = decideChain({ ...base, confidence: 'high', message: message([copy('twin@contoso.example')]), invites: [] }, { ...ctx(), identities: clash });
    expect(plain.untouched).toEqual([{ address: 'twin@contoso.example', reason: 'ambiguous-address' }]);
  });

  it('a chain that would act at once on more mailboxes than the breaker\u2019s number and share waits for approval; within either, it runs', () => {
    const many = message(identities.slice(4).map((i) => copy(i.upn)));
    const wide = decideChain({ ...base, confidence: 'high', message: many, invites: [] }, { ...ctx(), userCount: 10 });
    expect(wide.heldBack).toMatch(/^the chain would act automatically on 6 mailboxes, 60\.0% of 10 users/);
    expect(wide.decisions.every((d) => d.disposition === 'approval' && d.heldBack === wide.heldBack)).toBe(true);
    const narrow = decideChain({ ...base, confidence: 'high', message: many, invites: [] }, ctx());
    expect(narrow.heldBack).toBeUndefined();
    expect(narrow.decisions.every((d) => d.disposition === 'automatic')).toBe(true);
  });
});

describe('many chains together', () => {
  it('each within the breaker, together beyond its number and share: none runs automatically', () => {
    const chainOf = (n: number, who: Identity[]) => ({ ...decideChain({ ...base, id: `CHN-${n}`, confidence: 'high', message: { ...message(who.map((i) => copy(i.upn))), networkMessageId: `a1f3c9d2-5b7e-4c61-9f08-3d2e6b1c7a5${n}` }, invites: [] }, { ...ctx(), userCount: 10 }) });
    const users = identities.slice(4);
    const two = [chainOf(1, users.slice(0, 2)), chainOf(2, users.slice(2, 4)), chainOf(3, users.slice(4, 6))];
    expect(two.every((c) => c.heldBack === undefined)).toBe(true);
    const held = holdWideChains(two, { policy: policy(), userCount: 10 });
    expect(held.every((c) => c.decisions.every((d) => d.disposition === 'approval' && d.heldBack?.startsWith('3 chains would act automatically on 6 mailboxes')))).toBe(true);
    expect(holdWideChains(two.slice(0, 1), { policy: policy(), userCount: 10 })).toEqual(two.slice(0, 1));
  });
});

describe('what starts a chain', () => {
  it('an alert\u2019s analyzed-message evidence, each network message id once; an id that is not a GUID is not looked up', () => {
    const ev = (networkMessageId: string) => ({ '@odata.type': '#microsoft.graph.security.analyzedMessageEvidence', networkMessageId, roles: [], verdict: 'malicious' });
    const s = fromDefenderAlert({
      id: 'a1', severity: 'high', createdDateTime: '2026-11-23T08:20:00Z',
      evidence: [{ '@odata.type': '#microsoft.graph.security.userEvidence', userAccount: { userPrincipalName: 'std@contoso.example' } }, ev('A1F3C9D2-5B7E-4C61-9F08-3D2E6B1C7A54'), ev('a1f3c9d2-5b7e-4c61-9f08-3d2e6b1c7a54'), ev("x' or 1 eq 1")],
    })!;
    expect(s.messages).toEqual(['a1f3c9d2-5b7e-4c61-9f08-3d2e6b1c7a54']);
  });

  it('a signal file entry\u2019s networkMessageId, which must be a GUID', () => {
    const file = (networkMessageId: string) => ({ schema: 'email-posture/signals@1', signals: [{ id: 'r1', source: 'mail-gateway', type: 'reported', observedAt: '2026-11-23T08:45:00Z', user: { upn: 'std@contoso.example' }, title: 'Reported', networkMessageId }] });
    expect(fromSignalFile(signalFileSchema.parse(file('A1F3C9D2-5B7E-4C61-9F08-3D2E6B1C7A54')))[0]!.messages).toEqual(['a1f3c9d2-5b7e-4c61-9f08-3d2e6b1c7a54']);
    expect(signalFileSchema.safeParse(file("'; drop")).success).toBe(false);
  });
});
