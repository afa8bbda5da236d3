import { micromark } from 'micromark';
import { gfm, gfmHtml } from 'micromark-extension-gfm';
import { describe, expect, it } from 'vitest';
import { renderResponseHtml, renderResponseHuman, renderResponseMarkdown } from '../../reconciler/report/response.js';
import type { ResponsePlan } from '../../reconciler/respond/run.js';

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
