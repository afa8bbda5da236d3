import { describe, expect, it } from 'vitest';
import { inviteRemovals, linksIn, matchInvites, normaliseLink, stillOpen, type ChainMessage, type EventCopy } from '../../reconciler/respond/chain.js';

const ctx = { domains: ['contoso.example'], windowHours: 48, delegates: new Map([['ceo@contoso.example', ['jamie@contoso.example']]]) };
const PHISH = 'https://invoice-portal.test/view';
const message: ChainMessage = {
  networkMessageId: '2849d120-e36b-52ff-bcf8-4df3e7e36945',
  subject: 'Invoice INV-20931 overdue',
  sender: { address: 'billing@invoice-portal.test', displayName: 'Accounts Payable', ip: '198.51.100.23' },
  directionality: 'inbound',
  authentication: { spf: 'fail', dkim: 'none', dmarc: 'fail', composite: 'fail' },
  receivedAt: '2026-11-16T08:12:40Z',
  links: [PHISH],
  copies: ['jamie@contoso.example', 'drew@contoso.example', 'cfo@contoso.example'].map((recipient) => ({ recipient, originalLocation: 'inbox_folder', latestLocation: 'inbox_folder', deliveryAction: 'delivered' })),
  source: 'analyzedEmails',
};
let n = 0;
const copy = (upn: string, o: Partial<EventCopy> & { iCalUId: string; organizer: string }): EventCopy => ({
  mailbox: { id: `id-${upn}`, upn },
  eventId: `ev-${++n}`,
  subject: 'Invoice review',
  attendees: [],
  links: [],
  createdAt: '2026-11-16T09:00:00Z',
  isOrganizer: upn === o.organizer,
  isCancelled: false,
  type: 'singleInstance',
  source: 'events',
  ...o,
});

describe('links', () => {
  it('are compared by scheme, host and path: the query (a per-recipient token) and the fragment do not count; only http(s)', () => {
    expect(normaliseLink('HTTPS://Invoice-Portal.TEST/view?doc=INV-20931#x')).toBe(PHISH);
    expect(normaliseLink('https://invoice-portal.test:443/view/')).toBe(PHISH);
    expect(normaliseLink('javascript:alert(1)')).toBeUndefined();
    expect(normaliseLink('not a url')).toBeUndefined();
  });

  it('are found in hostile HTML without rendering it: entities decoded, trailing punctuation dropped, each once', () => {
    const html = `<p onclick="x">Open <a href="https://invoice-portal.test/view?doc=1&amp;t=2">the invoice</a>, or https://invoice-portal.test/view?doc=2.</p><script>location='https://evil.test/x'</script> mailto:a@b.test`;
    expect(linksIn(html)).toEqual([PHISH, 'https://evil.test/x']);
    expect(linksIn('')).toEqual([]);
  });
});

describe('which invites belong to the chain', () => {
  it('the sender’s meeting, and one with the message’s link organised by a recipient after delivery or for a mailbox a recipient is a delegate of; a look-alike subject without the link is left alone', () => {
    const events = [
      // The outside sender invites two recipients directly.
      copy('jamie@contoso.example', { iCalUId: 'uid-outside', organizer: 'billing@invoice-portal.test' }),
      copy('drew@contoso.example', { iCalUId: 'uid-outside', organizer: 'billing@invoice-portal.test' }),
      // Jamie's account, taken over, invites colleagues with the same link (a different token).
      copy('jamie@contoso.example', { iCalUId: 'uid-jamie', organizer: 'jamie@contoso.example', links: ['https://invoice-portal.test/view'] }),
      copy('alex@contoso.example', { iCalUId: 'uid-jamie', organizer: 'jamie@contoso.example', links: [PHISH] }),
      // Jamie is a delegate of the CEO's calendar: from Jamie's account the attacker sends one with the link as the CEO.
      copy('ceo@contoso.example', { iCalUId: 'uid-delegate', organizer: 'ceo@contoso.example', links: [PHISH] }),
      // The real invoice review: similar subject, organised by a colleague, no phish link.
      copy('sam@contoso.example', { iCalUId: 'uid-legit', organizer: 'sam@contoso.example', subject: 'Invoice INV-20931 review', links: ['https://contoso.sharepoint.test/sites/finance'] }),
      copy('jamie@contoso.example', { iCalUId: 'uid-legit', organizer: 'sam@contoso.example', subject: 'Invoice INV-20931 review' }),
      // Jamie's own meeting from before the phish arrived, which happens to hold the link: not the attacker's.
      copy('jamie@contoso.example', { iCalUId: 'uid-before', organizer: 'jamie@contoso.example', links: [PHISH], createdAt: '2026-11-15T09:00:00Z' }),
      // Someone outside the chain shares the link: not ours to remove.
      copy('kim@contoso.example', { iCalUId: 'uid-other', organizer: 'kim@contoso.example', links: [PHISH] }),
    ];
    const { invites, leftAlone } = matchInvites(message, events, ctx);
    expect(invites.map((i) => [i.iCalUId, i.organizerKind, i.matchedBy, i.copies.length])).toEqual([
      ['uid-delegate', 'delegate', ['links'], 1],
      ['uid-jamie', 'compromised-internal', ['links'], 2],
      ['uid-outside', 'outside', ['sender'], 2],
    ]);
    expect(leftAlone.map((i) => [i.iCalUId, i.reason])).toEqual([
      ['uid-before', 'before-delivery'],
      ['uid-legit', 'no-shared-link'],
      ['uid-other', 'organizer-not-in-chain'],
    ]);
  });

  it('the organizer’s copy of a compromised account’s meeting is cancelled (telling every attendee), every other copy deleted; an outside meeting is deleted everywhere', () => {
    const { invites } = matchInvites(
      message,
      [
        copy('jamie@contoso.example', { iCalUId: 'uid-jamie', organizer: 'jamie@contoso.example', links: [PHISH] }),
        copy('alex@contoso.example', { iCalUId: 'uid-jamie', organizer: 'jamie@contoso.example', links: [PHISH] }),
        copy('sam@contoso.example', { iCalUId: 'uid-jamie', organizer: 'jamie@contoso.example', links: [PHISH], isCancelled: true }),
        copy('drew@contoso.example', { iCalUId: 'uid-outside', organizer: 'billing@invoice-portal.test' }),
      ],
      ctx,
    );
    expect(invites.map((i) => inviteRemovals(i).map((r) => [r.copy.mailbox.upn, r.how]))).toEqual([
      [['jamie@contoso.example', 'cancel'], ['alex@contoso.example', 'delete'], ['sam@contoso.example', 'delete']],
      [['drew@contoso.example', 'delete']],
    ]);
  });
});

describe('not closed until contained', () => {
  it('a copy of the message in a folder a user reads, or any invite copy still on a calendar (cancelled ones too), keeps the chain open', () => {
    const contained = { ...message, copies: message.copies.map((c, i) => ({ ...c, latestLocation: i === 0 ? 'inbox_folder' : 'deletedFolder' })) };
    const { invites } = matchInvites(message, [copy('alex@contoso.example', { iCalUId: 'uid-jamie', organizer: 'jamie@contoso.example', links: [PHISH] }), copy('sam@contoso.example', { iCalUId: 'uid-jamie', organizer: 'jamie@contoso.example', links: [PHISH], isCancelled: true })], ctx);
    expect(stillOpen(contained, invites)).toEqual({ messages: ['jamie@contoso.example'], invites: [{ upn: 'alex@contoso.example', iCalUId: 'uid-jamie' }, { upn: 'sam@contoso.example', iCalUId: 'uid-jamie' }] });
    expect(stillOpen({ ...message, copies: message.copies.map((c) => ({ ...c, latestLocation: 'quarantine' })) }, [])).toEqual({ messages: [], invites: [] });
  });
});

describe('what tenant data cannot make the chain remove', () => {
  const later = '2026-11-16T10:00:00Z';
  it('a message claiming an internal sender does not make that person\u2019s meetings the phisher\u2019s; nor does an empty sender or organizer', () => {
    const spoofed = { ...message, sender: { address: 'ceo@contoso.example' } };
    const events = [copy('jamie@contoso.example', { iCalUId: 'uid-ceo', organizer: 'ceo@contoso.example', createdAt: later }), copy('drew@contoso.example', { iCalUId: 'uid-none', organizer: '', createdAt: later })];
    expect(matchInvites(spoofed, events, ctx).invites).toEqual([]);
    expect(matchInvites({ ...message, sender: { address: '' } }, events, ctx).invites).toEqual([]);
  });

  it('links every meeting carries (join links, a host\u2019s front page, the organisation\u2019s own) are shared with nothing; a Safe Links wrapper is looked through', () => {
    const teams = 'https://teams.microsoft.com/meetingOptions';
    const m = { ...message, links: [PHISH, teams, 'https://contoso.example/about', 'https://invoice-portal.test/'] };
    const legit = copy('jamie@contoso.example', { iCalUId: 'uid-teams', organizer: 'jamie@contoso.example', createdAt: later, links: [teams, 'https://contoso.example/about', 'https://invoice-portal.test/'] });
    expect(matchInvites(m, [legit], ctx).leftAlone.map((l) => [l.iCalUId, l.reason])).toEqual([['uid-teams', 'no-shared-link']]);
    const wrapped = linksIn(`<a href="https://eur01.safelinks.protection.outlook.com/?url=${encodeURIComponent('https://invoice-portal.test/view?u=1')}&amp;data=x">open</a>`);
    expect(wrapped).toEqual([PHISH]);
    expect(linksIn('https://www.google.com/url?q=https%3A%2F%2Finvoice-portal.test%2Fview%3Fr%3D9&sa=D')).toEqual([PHISH]);
  });

  it('a UID copied from a real meeting does not pull that meeting in; copies of one meeting that disagree are left for a person', () => {
    const events = [
      copy('drew@contoso.example', { iCalUId: 'uid-x', organizer: 'billing@invoice-portal.test', createdAt: later, links: [PHISH] }),
      copy('alice@contoso.example', { iCalUId: 'uid-x', organizer: 'partner@fabrikam.test', createdAt: '2026-10-01T09:00:00Z', links: ['https://fabrikam.test/agenda'] }),
      copy('jamie@contoso.example', { iCalUId: 'uid-mixed', organizer: 'jamie@contoso.example', createdAt: later, links: [PHISH] }),
      copy('alex@contoso.example', { iCalUId: 'uid-mixed', organizer: 'jamie@contoso.example', createdAt: later, links: [] }),
    ];
    const { invites, leftAlone } = matchInvites(message, events, ctx);
    expect(invites.map((i) => [i.iCalUId, i.organizer, i.copies.map((c) => c.mailbox.upn)])).toEqual([['uid-x', 'billing@invoice-portal.test', ['drew@contoso.example']]]);
    expect(leftAlone.map((l) => [l.iCalUId, l.organizer, l.reason])).toEqual([
      ['uid-mixed', 'jamie@contoso.example', 'mixed-copies'],
      ['uid-x', 'partner@fabrikam.test', 'no-shared-link'],
    ]);
  });
});
