import { micromark } from 'micromark';
import { gfm, gfmHtml } from 'micromark-extension-gfm';
import { describe, expect, it } from 'vitest';
import { renderResponseHtml, renderResponseHuman, renderResponseMarkdown } from '../../reconciler/report/response.js';
import type { PlannedChain, ResponsePlan } from '../../reconciler/respond/run.js';
import { AVERY, BREAK_GLASS, chain, contained, HOSTILE_FOUND, HOSTILE_LINK, HOSTILE_ORGANIZER, HOSTILE_SUBJECT, hostileChain, notTraced, QUINN, ROWAN, wide } from './chains.js';

const JWT = 'eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.eyJhdWQiOiJodHRwczovL2dyYXBoLm1pY3Jvc29mdC5jb20iLCJ0aWQiOiJ0In0.c2lnbmF0dXJlLXNpZ25hdHVyZQ';

/** A response plan whose tenant strings and signal titles were written by an attacker. */
const hostile: ResponsePlan = {
  format: 'email-posture-response',
  formatVersion: 1,
  createdAt: '2026-11-16T09:00:00.000Z',
  tool: { name: 'email-posture', version: '0.1.0' },
  stack: 'tailspin',
  organization: 'Tailspin <b>Toys</b>',
  tenantId: 't',
  desiredHash: 'd'.repeat(64),
  owner: 'Security Operations Manager (secops@tailspintoys.example)',
  window: { since: '2026-11-16T00:00:00.000Z', until: '2026-11-16T08:55:30.000Z' },
  incidents: [
    {
      id: 'INC-1d91879ee9d8c2c4',
      identity: { id: '60cbc05e-a9ee-5a7a-85cc-4240d98f0b3a', upn: 'jamie.brooks@tailspintoys.example' },
      tier: 'highValue',
      confidence: 'high',
      openedAt: '2026-11-16T08:39:00Z',
      lastSignalAt: '2026-11-16T08:39:00Z',
      signals: [{ source: 'external', id: 'gw:1', title: `Clicked <script>alert(1)</script> | ![x](https://evil.example/p.png) \u001b[2J\u202eevil\nforged line (Bearer ${JWT})`, observedAt: '2026-11-16T08:39:00Z', confidence: 'high', rule: 0 }],
      actions: [
        { action: 'revokeSessions', disposition: 'automatic', rule: 'matrix.highValue.high.automatic', decisionId: 'RSP-1', writes: 1 },
        { action: 'disableAccount', disposition: 'approval', rule: 'matrix.highValue.high.approval', decisionId: 'RSP-2', writes: 1 },
        { action: 'watchlist', disposition: 'never', rule: 'matrix.highValue.high.never', decisionId: 'RSP-3', writes: 0 },
      ],
    },
  ],
  protected: [],
  setAside: [{ source: 'defenderAlert', id: 'a', reason: 'not-authoritative' }],
  watchesEnded: [],
  changes: [],
  approvals: [],
  incomplete: [],
  planHash: 'e'.repeat(64),
};

describe('the response plan as people read it', () => {
  it('on a terminal: control and bidirectional characters escaped, no forged line, the token masked', () => {
    const text = renderResponseHuman(hostile);
    expect(text.includes("\u001b") || text.includes("\u202e")).toBe(false);
    expect(text).not.toContain(JWT);
    expect(text.split('\n').filter((l) => l.startsWith('forged line'))).toEqual([]);
    expect(text).toContain('automatic revokeSessions: 1 write (matrix.highValue.high.automatic)');
    expect(text).toContain('approval  disableAccount: 1 write, waiting for approval');
    expect(text).toContain('never     watchlist: never done');
    expect(text).toContain('Response: 1 incident, 0 automatic writes, 0 waiting for approval.');
  });

  it('as Markdown: the tenant cannot add an element, an image, a table cell or a line', () => {
    const md = renderResponseMarkdown(hostile);
    expect(md).not.toContain(JWT);
    const html = micromark(md, { extensions: [gfm()], htmlExtensions: [gfmHtml()] });
    expect(html).not.toMatch(/<script|<img|<b>/i);
    expect(html).toContain('&lt;script&gt;');
    // The incident table has the header's six cells in every row.
    const rows = md.split('\n').filter((l) => l.startsWith('| INC-'));
    expect(rows).toHaveLength(1);
    expect(html.match(/<tr>/g)!.length).toBe(2);
  });

  it('as HTML: one self-contained page without script, every tenant string escaped', () => {
    const page = renderResponseHtml(hostile);
    expect(page.startsWith('<!doctype html>')).toBe(true);
    expect(page).toContain("default-src 'none'");
    expect(page).not.toMatch(/<script|<img|<b>Toys/i);
    expect(page).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(page.includes("\u001b") || page.includes("\u202e")).toBe(false);
    expect(page).not.toContain(JWT);
  });
});

/** A plan of phishing chains only: one open over three mailboxes, one contained, one not traced. */
const phishing: ResponsePlan = { ...hostile, organization: 'Tailspin Toys', incidents: [], setAside: [], chains: [chain, contained, notTraced] };

/** The lines of one chain's block on a terminal: from its header to the blank line after it. */
function block(text: string, id: string): string[] {
  const lines = text.split('\n');
  const start = lines.findIndex((l) => l.startsWith(`Chain ${id} `));
  expect(start, `no block for ${id}`).toBeGreaterThanOrEqual(0);
  const end = lines.indexOf('', start);
  return lines.slice(start, end < 0 ? undefined : end);
}

/** The index of the one line of `lines` that contains `text`. */
function lineOf(lines: readonly string[], text: string): number {
  const found = lines.flatMap((l, i) => (l.includes(text) ? [i] : []));
  expect(found, `one line with ${JSON.stringify(text)} in\n${lines.join('\n')}`).toHaveLength(1);
  return found[0]!;
}

/** The table rows of rendered Markdown, each as its cells. */
const tableRows = (html: string) => [...html.matchAll(/<tr>([\s\S]*?)<\/tr>/g)].map((r) => [...r[1]!.matchAll(/<t[hd][^>]*>/g)].length);

describe('phishing chains in the response plan as people read it', () => {
  it('on a terminal: one block per chain, from the delivery to its containment', () => {
    const text = renderResponseHuman(phishing);
    const lines = block(text, chain.id);
    expect(lines[0]).toBe(`Chain ${chain.id} (high confidence, started by defenderAlert:fa6b1d2e3c4f5a69788b9cadbecfd0e1)`);
    const delivered = lineOf(lines, 'delivered');
    expect(lines[delivered]).toBe(
      '    delivered  2026-11-23T08:02:11Z: "Action required: updated payment portal" from accounts@tailspin-billing.test (IP 203.0.113.45, return path bounce@tailspin-billing.test), inbound; SPF fail, DKIM none, DMARC fail, composite fail; 4 recipients; link https://portal.tailspin-billing.test/sso/login',
    );
    const invite = lineOf(lines, `invite     "Payment portal walkthrough (required)" by ${QUINN} (compromised-internal), matched by links, 3 copies`);
    const leftAlone = lineOf(lines, `left alone "Payment portal walkthrough" by ${ROWAN}: no-shared-link`);
    const account = lineOf(lines, `account    ${QUINN} (compromised-internal)`);
    const trace = chain.trace.map((t) => lineOf(lines, `trace      ${t.source}: ${t.found}`));
    // Containment by action and disposition; with so few mailboxes each is named.
    const purge = lineOf(lines, 'contain    purgeMessage: 2 mailboxes automatic (2 writes), by matrix.standard.high.automatic');
    expect(lines[purge + 1]).toBe(`                 ${AVERY} (standard): 1 write (matrix.standard.high.automatic)`);
    expect(lines[purge + 2]).toBe(`                 ${QUINN} (standard): 1 write (matrix.standard.high.automatic)`);
    const approval = lineOf(lines, 'contain    purgeMessage: 1 mailbox waiting for approval (1 write), by matrix.highValue.high.approval');
    expect(lines[approval + 1]).toBe(`                 ${ROWAN} (highValue): 1 write, waiting for approval (matrix.highValue.high.approval)`);
    const removal = lineOf(lines, 'contain    removeInvites: 2 mailboxes automatic (2 writes), by matrix.standard.high.automatic');
    const never = lineOf(lines, 'contain    removeInvites: 1 mailbox never acted on, by matrix.highValue.high.never');
    expect(lines[never + 1]).toBe(`                 ${ROWAN} (highValue): never done (matrix.highValue.high.never)`);
    const untouched = lineOf(lines, `untouched  ${BREAK_GLASS} (break-glass)`);
    expect(lines.at(-1)).toBe("    still open: 3 message copies, 1 invite copy (as read, before this run's writes)");
    // A timeline: delivery, what followed it, what was read, what is done, what is left.
    const order = [delivered, invite, leftAlone, account, ...trace, purge, approval, removal, never, untouched, lines.length - 1];
    expect(order).toEqual([...order].sort((a, b) => a - b));

    const done = block(text, contained.id);
    expect(done).toContain('    contain    purgeMessage: 1 mailbox automatic (nothing left to do), by matrix.standard.high.automatic');
    expect(done.at(-1)).toBe('    contained');
    expect(done.some((l) => l.includes('still open'))).toBe(false);

    // A chain not traced is one line that says why.
    expect(block(text, notTraced.id)).toEqual([`Chain ${notTraced.id} (medium confidence, started by external:gw:4412): not traced: ${notTraced.notTraced}`]);
    expect(text).not.toContain(notTraced.trace[0]!.found);

    expect(text).toContain('Response: 0 incidents, 3 phishing chains, 0 automatic writes, 0 waiting for approval.');
  });

  it('on a terminal: forty mailboxes contained automatically are two lines, those waiting for approval are named', () => {
    const many = wide(40);
    const lines = block(renderResponseHuman({ ...phishing, chains: [many] }), many.id);
    const contain = lines.filter((l) => l.startsWith('    contain '));
    expect(contain).toEqual([
      '    contain    purgeMessage: 40 mailboxes automatic (40 writes), by matrix.standard.high.automatic',
      '    contain    removeInvites: 40 mailboxes automatic (40 writes), by matrix.standard.high.automatic',
    ]);
    expect(lines.filter((l) => l.includes('user0'))).toEqual([]);
    expect(lines.at(-1)).toBe("    still open: 40 message copies, 40 invite copies (as read, before this run's writes)");

    // The circuit breaker held every one back: each mailbox is named, the reason given once.
    const why = 'the chain would act automatically on 40 mailboxes, 80.0% of 50 users, more than the circuit breaker allows (10 and 5.0%): each of its actions waits for approval';
    const held: PlannedChain = { ...many, actions: many.actions.map((a) => ({ ...a, disposition: 'approval', rule: 'matrix.standard.high.automatic', heldBack: why })) };
    const heldLines = block(renderResponseHuman({ ...phishing, chains: [held] }), held.id);
    expect(heldLines).toContain('    contain    purgeMessage: 40 mailboxes waiting for approval, held back by the circuit breaker (40 writes), by matrix.standard.high.automatic');
    expect(heldLines.filter((l) => l.includes('user001@tailspintoys.example (standard): 1 write, waiting for approval'))).toHaveLength(2);
    expect(heldLines.filter((l) => /^ {17}user\d{3}@/.test(l))).toHaveLength(80);
    expect(heldLines.filter((l) => l.includes(why))).toEqual([`    held back  by the circuit breaker: ${why}`]);
  });

  it('on a terminal: a hostile subject, link, organizer or trace cannot forge a line or reach the terminal raw', () => {
    const text = renderResponseHuman({ ...phishing, chains: [hostileChain] });
    expect(text.includes('\u001b') || text.includes('\u202e') || text.includes('\r')).toBe(false);
    expect(text.split('\n').filter((l) => /^\s*(forged|\|)/.test(l))).toEqual([]);
    const lines = block(text, hostileChain.id);
    // The same lines as the plain chain's, and one more trace step.
    expect(lines).toHaveLength(block(renderResponseHuman(phishing), chain.id).length + 1);
    expect(lines[lineOf(lines, 'delivered')]).toContain('"Pay <script>alert("subject")</script> | now | forged line \\x1b[2J\\u{202e}gnp.exe"');
    expect(lines[lineOf(lines, 'delivered')]).toContain(`links ${HOSTILE_LINK}, www.evil.example/login`);
    expect(lines.filter((l) => l.includes('ceo@evil.example</li><b>boss</b> | cell |  forged organizer'))).toHaveLength(6);
  });

  it('as Markdown: each chain with its invites, trace and containment, the named mailboxes as a table', () => {
    const md = renderResponseMarkdown(phishing);
    expect(md).toContain('Response: 0 incidents, 3 phishing chains, 0 automatic writes, 0 waiting for approval.');
    const html = micromark(md, { extensions: [gfm()], htmlExtensions: [gfmHtml()] });
    const text = html.replace(/<[^>]+>/g, '').replace(/&quot;/g, '"').replace(/&apos;|&#x27;/g, "'").replace(/[\u200b\u200d]/g, '');
    expect(html).toContain(`<h3>Chain ${chain.id}</h3>`);
    for (const expected of [
      'high confidence, started by defenderAlert:fa6b1d2e3c4f5a69788b9cadbecfd0e1.',
      'delivered 2026-11-23T08:02:11Z: "Action required: updated payment portal" from accounts@tailspin-billing.test (IP 203.0.113.45, return path bounce@tailspin-billing.test), inbound; SPF fail, DKIM none, DMARC fail, composite fail; 4 recipients; link https://portal.tailspin-billing.test/sso/login',
      `invite "Payment portal walkthrough (required)" by ${QUINN} (compromised-internal), matched by links, 3 copies`,
      `left alone "Payment portal walkthrough" by ${ROWAN}: no-shared-link`,
      `account ${QUINN} (compromised-internal)`,
      ...chain.trace.map((t) => `trace ${t.source}: ${t.found}`),
      'contain purgeMessage: 2 mailboxes automatic (2 writes), by matrix.standard.high.automatic',
      'contain removeInvites: 1 mailbox never acted on, by matrix.highValue.high.never',
      `untouched ${BREAK_GLASS} (break-glass)`,
      "Still open: 3 message copies, 1 invite copy (as read, before this run's writes).",
      'Contained.',
      `Chain ${notTraced.id}: not traced`,
      `medium confidence, started by external:gw:4412. ${notTraced.notTraced}`,
    ])
      expect(text).toContain(expected);
    // The three mailboxes, one row per action (a header and six rows); the contained chain's one mailbox (a header and one row).
    expect(html).toContain(`<td>${ROWAN.replace('@', '@\u200d')}</td>\n<td>highValue</td>\n<td>purgeMessage</td>\n<td>approval</td>\n<td>1 write, waiting for approval</td>`);
    expect(tableRows(html)).toEqual(Array(7 + 2).fill(6));
    // Forty mailboxes contained automatically: no table.
    expect(renderResponseMarkdown({ ...phishing, chains: [wide(40)] })).not.toContain('| mailbox |');
  });

  it('as Markdown: a hostile subject, link, organizer or trace cannot add an element, a link, a table cell or a line', () => {
    const md = renderResponseMarkdown({ ...hostile, chains: [hostileChain] });
    const html = micromark(md, { extensions: [gfm()], htmlExtensions: [gfmHtml()] });
    expect(html).not.toMatch(/<script|<img|<b>|<iframe|<a |href=|<\/li><b>/i);
    expect(html).toContain('&lt;script&gt;alert(&quot;subject&quot;)&lt;/script&gt;');
    expect(md.split('\n').filter((l) => /^\s*(forged|\| forged)/.test(l))).toEqual([]);
    // The incident table (six cells) and the chain's mailbox table (six cells): no row gained or lost one.
    const rows = tableRows(html);
    expect(rows).toEqual(Array(2 + 7).fill(6));
    // Each step is one list item, the hostile trace step included.
    expect(md.split('\n').filter((l) => l.startsWith('- **trace** '))).toHaveLength(hostileChain.trace.length);
    expect(md).not.toContain(HOSTILE_FOUND);
    expect(md).not.toContain(HOSTILE_SUBJECT);
    expect(md).not.toContain(HOSTILE_ORGANIZER);
  });

  it('as HTML: every string of a hostile chain escaped', () => {
    const page = renderResponseHtml({ ...phishing, chains: [hostileChain, notTraced] });
    expect(page).not.toMatch(/<script|<img|<iframe|<b>|<\/li><b>/i);
    expect(page).toContain('&lt;script&gt;alert(&quot;subject&quot;)&lt;/script&gt;');
    expect(page).toContain('ceo@evil.example&lt;/li&gt;&lt;b&gt;boss&lt;/b&gt;');
    expect(page.includes('\u001b') || page.includes('\u202e')).toBe(false);
    expect(page.match(/<section class="chain/g)).toHaveLength(2);
  });
});
