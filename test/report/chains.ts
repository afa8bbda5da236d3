import type { PlannedChain } from '../../reconciler/respond/run.js';

/**
 * Phishing chains as response plans hold them, for the tests of the response report: a small chain
 * over three mailboxes, one already contained, one whose message could not be found, and one whose
 * every string an attacker wrote.
 */

const ICAL = '040000008200E00074C5B7101A82E008000000007f3a7f3a7f3a7f3a7f3a7f3a7f3a7f3a';
const ICAL_LEFT_ALONE = '040000008200E00074C5B7101A82E0080000000019c219c219c219c219c219c219c219c2';

/** The three mailboxes the message reached. */
export const AVERY = 'avery.abbott@tailspintoys.example';
export const QUINN = 'quinn.harper@tailspintoys.example';
export const ROWAN = 'rowan.price@tailspintoys.example';
/** A break-glass mailbox among the recipients: never acted on. */
export const BREAK_GLASS = 'bg-alpha@tailspintoys.example';

type Action = PlannedChain['actions'][number];

const action = (upn: string, tier: string, what: 'purgeMessage' | 'removeInvites', disposition: Action['disposition'], writes: number, n: number): Action => ({
  id: `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`,
  upn,
  tier,
  action: what,
  disposition,
  rule: `matrix.${tier}.high.${disposition}`,
  decisionId: `RSP-${String(n).padStart(16, '0')}`,
  writes,
});

/** A message to three mailboxes, an invite a compromised account sent after it, and one meeting left alone. */
export const chain: PlannedChain = {
  id: 'CHN-c2414073521797ee',
  networkMessageId: 'a1f3c9d2-5b7e-4c61-9f08-3d2e6b1c7a54',
  confidence: 'high',
  startedBy: ['defenderAlert:fa6b1d2e3c4f5a69788b9cadbecfd0e1'],
  message: {
    subject: 'Action required: updated payment portal',
    sender: 'accounts@tailspin-billing.test',
    senderIp: '203.0.113.45',
    returnPath: 'bounce@tailspin-billing.test',
    directionality: 'inbound',
    authentication: { spf: 'fail', dkim: 'none', dmarc: 'fail', composite: 'fail' },
    receivedAt: '2026-11-23T08:02:11Z',
    links: ['https://portal.tailspin-billing.test/sso/login'],
    recipients: 4,
  },
  invites: [{ iCalUId: ICAL, subject: 'Payment portal walkthrough (required)', organizer: QUINN, organizerKind: 'compromised-internal', matchedBy: ['links'], copies: 3 }],
  leftAlone: [{ iCalUId: ICAL_LEFT_ALONE, subject: 'Payment portal walkthrough', organizer: ROWAN, reason: 'no-shared-link' }],
  accounts: [{ upn: QUINN, role: 'compromised-internal' }],
  trace: [
    { source: 'analyzedEmails', from: '/security/collaboration/analyzedEmails', found: '4 copies from accounts@tailspin-billing.test (203.0.113.45), inbound; SPF fail, DKIM none, DMARC fail, composite fail; 1 links' },
    { source: 'events', from: '/users/{id}/events ($batch)', found: "5 meetings created 2026-11-22T08:02:11Z – 2026-11-24T08:02:11Z in 4 recipients' calendars" },
    { source: 'directory', from: '/users', found: `${BREAK_GLASS} is a break-glass account` },
  ],
  actions: [
    action(AVERY, 'standard', 'purgeMessage', 'automatic', 1, 1),
    action(AVERY, 'standard', 'removeInvites', 'automatic', 1, 2),
    action(QUINN, 'standard', 'purgeMessage', 'automatic', 1, 3),
    action(QUINN, 'standard', 'removeInvites', 'automatic', 1, 4),
    action(ROWAN, 'highValue', 'purgeMessage', 'approval', 1, 5),
    action(ROWAN, 'highValue', 'removeInvites', 'never', 0, 6),
  ],
  untouched: [{ address: BREAK_GLASS, reason: 'break-glass' }],
  open: {
    messages: [AVERY, QUINN, ROWAN],
    invites: [{ upn: AVERY, iCalUId: ICAL }],
  },
};

/** A chain an earlier run contained: nothing left open, nothing left to do. */
export const contained: PlannedChain = {
  ...chain,
  id: 'CHN-0b1c2d3e4f5a6b7c',
  networkMessageId: 'b2e4d6f8-0a1c-4e3b-8d5f-7a9c1e3b5d70',
  startedBy: ['command-line'],
  message: { ...chain.message!, subject: 'Invoice overdue', receivedAt: '2026-11-22T14:30:00Z', recipients: 1 },
  invites: [],
  leftAlone: [],
  accounts: [],
  trace: [{ source: 'analyzedEmails', from: '/security/collaboration/analyzedEmails', found: '1 copy, already in quarantine' }],
  actions: [action(AVERY, 'standard', 'purgeMessage', 'automatic', 0, 7)],
  untouched: [],
  open: { messages: [], invites: [] },
};

/** A chain whose message is not among the analyzed emails. */
export const notTraced: PlannedChain = {
  id: 'CHN-9f8e7d6c5b4a3928',
  networkMessageId: 'c3f5e7a9-1b2d-4f4c-9e6a-8b0d2f4a6c81',
  confidence: 'medium',
  startedBy: ['external:gw:4412'],
  notTraced: 'the message c3f5e7a9-1b2d-4f4c-9e6a-8b0d2f4a6c81 is not among the analyzed emails of the last 30 days',
  invites: [],
  leftAlone: [],
  accounts: [],
  trace: [{ source: 'analyzedEmails', from: '/security/collaboration/analyzedEmails', found: 'no message with that id' }],
  actions: [],
  untouched: [],
  open: { messages: [], invites: [] },
};

/** The chain reaching `n` standard mailboxes, each contained automatically. */
export function wide(n: number): PlannedChain {
  const upns = Array.from({ length: n }, (_, i) => `user${String(i + 1).padStart(3, '0')}@tailspintoys.example`);
  return {
    ...chain,
    message: { ...chain.message!, recipients: n },
    invites: [{ ...chain.invites[0]!, copies: n }],
    actions: upns.flatMap((upn, i) => [action(upn, 'standard', 'purgeMessage', 'automatic', 1, 2 * i), action(upn, 'standard', 'removeInvites', 'automatic', 1, 2 * i + 1)]),
    untouched: [],
    open: { messages: upns, invites: upns.map((upn) => ({ upn, iCalUId: ICAL })) },
  };
}

/** What an attacker can put in a subject: markup, a table pipe, a forged line, terminal controls. */
export const HOSTILE_SUBJECT = 'Pay <script>alert("subject")</script> | now |\nforged line \u001b[2J\u202egnp.exe';
/** A link that tries to become one in Markdown and HTML. */
export const HOSTILE_LINK = 'https://evil.example/<img src=x onerror=alert(1)>)[click](javascript:alert(2))';
/** An organizer that tries to close the cell and the line it is in. */
export const HOSTILE_ORGANIZER = 'ceo@evil.example</li><b>boss</b> | cell |\r\nforged organizer';
/** A trace step whose text (it quotes the subject) tries to add a table row. */
export const HOSTILE_FOUND = 'invite "x"\n| forged | row | of | six | cells | here |\n<iframe src="https://evil.example/">';

/** The small chain with every string of it written by an attacker. */
export const hostileChain: PlannedChain = {
  ...chain,
  message: { ...chain.message!, subject: HOSTILE_SUBJECT, sender: HOSTILE_ORGANIZER, links: [HOSTILE_LINK, 'www.evil.example/login'] },
  invites: [{ ...chain.invites[0]!, subject: HOSTILE_SUBJECT, organizer: HOSTILE_ORGANIZER }],
  leftAlone: [{ ...chain.leftAlone[0]!, subject: `<b>left</b> ${HOSTILE_SUBJECT}`, organizer: HOSTILE_ORGANIZER }],
  accounts: [{ upn: HOSTILE_ORGANIZER, role: 'delegate' }],
  trace: [...chain.trace, { source: 'events', from: ICAL, found: HOSTILE_FOUND }],
  actions: chain.actions.map((a) => (a.upn === ROWAN ? { ...a, upn: HOSTILE_ORGANIZER } : a)),
};
