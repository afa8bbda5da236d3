import { existsSync } from 'node:fs';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isUnsafeCodePoint } from '../../reconciler/core/text.js';
import type { PlannedChange } from '../../reconciler/model/change.js';
import { renderResponseHtml } from '../../reconciler/report/response.js';
import type { PlannedIncident, ResponsePlan } from '../../reconciler/respond/run.js';
import { CHROMIUM, launchReportBrowser, MISSING_CHROMIUM, type Opened, type ReportBrowser } from './browser.js';
import { chain, contained, HOSTILE_LINK, HOSTILE_ORGANIZER, HOSTILE_SUBJECT, hostileChain, notTraced, QUINN, ROWAN, wide } from './chains.js';

/** Why the circuit breaker held the automatic actions back, as decide words it. */
const BREAKER =
  'automatic actions would touch 2 identities within 24 hours (0 by earlier runs), more than the circuit breaker allows (1 identities, 5.0% of 40 users): none runs automatically, each waits for approval';

const READ_AT = '2026-11-16T08:58:00.000Z';

/** A write of a response action, as the plan holds it. */
const change = (findingId: string, userId: string, upn: string, path: string, method: 'POST' | 'PATCH' | 'DELETE' = 'POST'): PlannedChange => ({
  findingId,
  control: 'RESPOND',
  resource: { type: 'user', id: userId, name: upn },
  action: 'update',
  fingerprint: 'f'.repeat(64),
  readAt: READ_AT,
  write: { api: 'graph', method, path },
  before: null,
});

/** The plan's fields that are not about incidents. */
function plan(fields: Partial<ResponsePlan>): ResponsePlan {
  return {
    format: 'email-posture-response',
    formatVersion: 1,
    createdAt: '2026-11-16T09:00:00.000Z',
    tool: { name: 'email-posture', version: '0.1.0' },
    stack: 'tailspin',
    organization: 'Tailspin Toys',
    tenantId: '7e3a1c52-0d4b-4f7e-9a61-2b8c5d0e4f13',
    desiredHash: 'd'.repeat(64),
    owner: 'Security Operations Manager (secops@tailspintoys.example)',
    window: { since: '2026-11-16T00:00:00.000Z', until: '2026-11-16T08:55:30.000Z' },
    incidents: [],
    protected: [],
    setAside: [],
    watchesEnded: [],
    changes: [],
    approvals: [],
    incomplete: [],
    planHash: 'e'.repeat(64),
    ...fields,
  };
}

const jamie: PlannedIncident = {
  id: 'INC-1d91879ee9d8c2c4',
  identity: { id: '60cbc05e-a9ee-5a7a-85cc-4240d98f0b3a', upn: 'jamie.brooks@tailspintoys.example', displayName: 'Jamie Brooks' },
  tier: 'highValue',
  confidence: 'high',
  openedAt: '2026-11-16T08:39:00Z',
  lastSignalAt: '2026-11-16T08:41:00Z',
  signals: [
    { source: 'defenderAlert', id: 'da-7f21', version: '3', title: 'Suspicious inbox forwarding rule', observedAt: '2026-11-16T08:39:00Z', confidence: 'high', rule: 0 },
    { source: 'external', id: 'gw:4412', title: 'User clicked a known phishing link', observedAt: '2026-11-16T08:41:00Z', confidence: 'medium', rule: 2 },
  ],
  actions: [
    { action: 'revokeSessions', disposition: 'automatic', rule: 'matrix.highValue.high.automatic', decisionId: 'RSP-aaaaaaaaaaaaaaa1', writes: 1 },
    { action: 'notify', disposition: 'automatic', rule: 'matrix.highValue.high.automatic', decisionId: 'RSP-aaaaaaaaaaaaaaa2', writes: 0 },
    { action: 'disableAccount', disposition: 'approval', rule: 'matrix.highValue.high.approval', decisionId: 'RSP-aaaaaaaaaaaaaaa3', writes: 1 },
    { action: 'watchlist', disposition: 'never', rule: 'matrix.highValue.high.never', decisionId: 'RSP-aaaaaaaaaaaaaaa4', writes: 0 },
  ],
};

const alex: PlannedIncident = {
  id: 'INC-52c0e6f1a8b3d947',
  identity: { id: '0b6f1d2e-3c4a-4b5c-8d9e-0f1a2b3c4d5e', upn: 'alex.wilber@tailspintoys.example', displayName: 'Alex Wilber' },
  tier: 'standard',
  confidence: 'medium',
  openedAt: '2026-11-16T07:12:00Z',
  lastSignalAt: '2026-11-16T07:12:00Z',
  signals: [{ source: 'riskDetection', id: 'rd-0c9a', title: 'Unfamiliar sign-in properties', observedAt: '2026-11-16T07:12:00Z', confidence: 'medium', rule: 1 }],
  actions: [
    { action: 'requirePasswordChange', disposition: 'approval', rule: 'matrix.standard.medium.automatic', heldBack: BREAKER, decisionId: 'RSP-bbbbbbbbbbbbbbb1', writes: 1 },
    { action: 'removeMailRules', disposition: 'automatic', rule: 'matrix.standard.medium.automatic', decisionId: 'RSP-bbbbbbbbbbbbbbb2', writes: 0 },
  ],
};

const breakGlass: PlannedIncident = {
  id: 'INC-9e8d7c6b5a493827',
  identity: { id: 'a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d', upn: 'bg-admin01@tailspintoys.onmicrosoft.com', displayName: 'Break Glass 01' },
  tier: 'breakGlass',
  confidence: 'low',
  openedAt: '2026-11-16T05:00:00Z',
  lastSignalAt: '2026-11-16T05:00:00Z',
  signals: [{ source: 'signIn', id: 'si-77f0', title: 'Sign-in from an anonymous IP address', observedAt: '2026-11-16T05:00:00Z', confidence: 'low', rule: -1 }],
  actions: [],
};

/** A busy run: incidents with every disposition, a break-glass account, signals set aside and the circuit breaker tripped. */
const busy = plan({
  incidents: [jamie, alex],
  protected: [breakGlass],
  setAside: [
    { source: 'defenderAlert', id: 'da-0001', reason: 'not-authoritative' },
    { source: 'defenderAlert', id: 'da-0002', reason: 'not-authoritative' },
    { source: 'external', id: 'gw:9', reason: 'ambiguous-identity' },
  ],
  circuitBreaker: BREAKER,
  watchesEnded: [{ upn: 'pat.kim@tailspintoys.example', since: '2026-10-17T09:00:00.000Z', writes: 1 }],
  changes: [change('RSP-aaaaaaaaaaaaaaa1', jamie.identity.id, jamie.identity.upn, `/users/${jamie.identity.id}/revokeSignInSessions`)],
  approvals: [
    change('RSP-aaaaaaaaaaaaaaa3', jamie.identity.id, jamie.identity.upn, `/users/${jamie.identity.id}`, 'PATCH'),
    change('RSP-bbbbbbbbbbbbbbb1', alex.identity.id, alex.identity.upn, `/users/${alex.identity.id}`, 'PATCH'),
  ],
});

/** A run whose read failed: nothing is planned, and the page must not read as a quiet tenant. */
const INCOMPLETE = { what: 'Defender alerts', endpoint: 'GET /security/alerts_v2', error: 'HTTP 503 Service Unavailable' };
const incomplete = plan({ incomplete: [INCOMPLETE, { what: 'directory roles', endpoint: 'GET /roleManagement/directory/roleAssignments', error: 'HTTP 429 Too Many Requests' }] });

/** Longer than any screen is wide, with nowhere to break. */
const LONG = `${'A'.repeat(300)}${'x'.repeat(300)}`;
const HOSTILE_DISPLAY = '<script>alert("name")</script><img src=x onerror=alert(1)>';
const HOSTILE_TITLE = `Clicked <img src=x onerror=alert(2)> \u001b[2J\u0007 \u202egnp.exe \u2066x\u2069 line\u2028two ${LONG}`;

/** Tenant strings and signal titles an attacker wrote. */
const hostile = plan({
  organization: 'Tailspin <b>Toys</b> <iframe src="https://evil.example/">',
  incidents: [
    {
      ...jamie,
      identity: { ...jamie.identity, upn: `${LONG}@tailspintoys.example`, displayName: HOSTILE_DISPLAY },
      signals: [{ ...jamie.signals[0]!, id: `da-${LONG}`, title: HOSTILE_TITLE }],
    },
  ],
  protected: [{ ...breakGlass, identity: { ...breakGlass.identity, displayName: `Break \u202eGlass ${LONG}` } }],
  setAside: [{ source: 'external', id: 'x', reason: `<img src=x onerror=alert(3)>${LONG}` }],
  approvals: [change('RSP-aaaaaaaaaaaaaaa3', jamie.identity.id, `${LONG}@tailspintoys.example`, `/users/${LONG}`, 'PATCH')],
  chains: [{ ...hostileChain, message: { ...hostileChain.message!, subject: `${HOSTILE_SUBJECT} ${LONG}`, links: [`${HOSTILE_LINK}${LONG}`] } }],
});

/** Phishing chains: one open over three mailboxes, one contained, one not traced, and one over forty mailboxes. */
const many = { ...wide(40), id: 'CHN-4040404040404040' };
const phishing = plan({ chains: [chain, contained, notTraced, many] });

/** The chain's section, found by its id. */
const chainSection = (page: Page, id: string) => page.locator('section.chain', { hasText: id });

let reports: ReportBrowser | undefined;

async function open(name: string, p: ResponsePlan, javaScriptEnabled: boolean, width = 1280): Promise<Opened> {
  if (!reports) throw new Error(MISSING_CHROMIUM);
  return reports.open(name, renderResponseHtml(p), javaScriptEnabled, { width, height: 900 });
}

/** The text of an element with its white space run together, as a reader sees it. */
const textOf = async (page: Page, selector: string): Promise<string> => (await page.locator(selector).innerText()).replace(/\s+/g, ' ').trim();

/** Whether the document is wider than the window (a horizontal scroll bar). */
const overflows = async (page: Page): Promise<boolean> => (await page.evaluate('document.documentElement.scrollWidth > document.documentElement.clientWidth')) === true;

/** The incident's section, found by its id. */
const incidentSection = (page: Page, id: string) => page.locator('section.incident', { hasText: id });

const MODES = [
  ['without JavaScript', false],
  ['with JavaScript', true],
] as const;

describe('the browser the response report is checked in', () => {
  it('is installed', () => {
    expect(existsSync(CHROMIUM), MISSING_CHROMIUM).toBe(true);
  });
});

describe('response report in a browser', () => {
  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) throw new Error(MISSING_CHROMIUM);
    reports = await launchReportBrowser('email-posture-response-');
  });

  afterAll(async () => {
    await reports?.close();
  });

  for (const [mode, js] of MODES) {
    it(`shows every incident, signal and decision ${mode}`, async () => {
      const { context, page, requests, problems } = await open(`busy-${js}.html`, busy, js);
      try {
        expect(await page.locator('section.incident').count()).toBe(busy.incidents.length);
        for (const inc of busy.incidents) {
          const section = incidentSection(page, inc.id);
          expect(await section.isVisible()).toBe(true);
          const heading = (await section.locator('h2').innerText()).trim();
          expect(heading).toContain(inc.identity.upn);
          expect(heading).toContain(inc.identity.displayName!);
          const text = (await section.innerText()).replace(/\s+/g, ' ');
          expect(text).toContain(`${inc.tier}, ${inc.confidence} confidence`);
          for (const sig of inc.signals) {
            const item = section.locator('li', { hasText: sig.id });
            expect(await item.isVisible()).toBe(true);
            expect(await item.innerText()).toContain(sig.title);
            expect(await item.innerText()).toContain(sig.source);
          }
          for (const a of inc.actions) {
            const item = section.locator('li', { hasText: a.rule }).filter({ hasText: a.action });
            expect(await item.count()).toBe(1);
            expect(await item.isVisible()).toBe(true);
            const line = (await item.innerText()).replace(/\s+/g, ' ');
            expect(line.startsWith(`${a.disposition} ${a.action}:`)).toBe(true);
            expect(line.includes('held back by the circuit breaker')).toBe(a.heldBack !== undefined);
          }
        }
        // What each disposition comes to, in words.
        const jamieText = await textOf(page, `section.incident:has-text("${jamie.id}")`);
        expect(jamieText).toContain('automatic revokeSessions: 1 write');
        expect(jamieText).toContain('automatic notify: the incident owner, Security Operations Manager (secops@tailspintoys.example)');
        expect(jamieText).toContain('approval disableAccount: 1 write, waiting for approval');
        expect(jamieText).toContain('never watchlist: never done');
        expect(await textOf(page, `section.incident:has-text("${alex.id}")`)).toContain('automatic removeMailRules: nothing left to do');

        // The break-glass account: named, not acted on, nothing to approve for it.
        const guarded = page.locator('.protected');
        expect(await guarded.count()).toBe(1);
        expect(await guarded.isVisible()).toBe(true);
        expect(await guarded.innerText()).toContain(`Break-glass account ${breakGlass.identity.upn} is named in 1 signal (incident ${breakGlass.id}): never acted on`);
        expect(await incidentSection(page, breakGlass.id).count()).toBe(0);

        const body = (await page.locator('body').innerText()).replace(/\s+/g, ' ');
        expect(body).toContain('Signals set aside: 2 not-authoritative, 1 ambiguous-identity.');
        expect(body).toContain(`Circuit breaker: ${BREAKER}.`);
        expect(body).toContain('Watch ended: pat.kim@tailspintoys.example, on the watchlist since 2026-10-17T09:00:00.000Z: taken off it.');
        expect(body).toContain('Response: 2 incidents, 1 automatic write, 2 waiting for approval.');
        const approvals = page.locator('section', { has: page.getByRole('heading', { name: 'Waiting for approval' }) }).locator('li');
        expect(await approvals.count()).toBe(busy.approvals.length);
        for (const c of busy.approvals) expect(await page.getByText(`~ user "${c.resource.name}" (RESPOND): PATCH ${c.write.api === 'graph' ? c.write.path : ''}`).isVisible()).toBe(true);
        expect(await page.getByRole('alert').count()).toBe(0);

        expect(await overflows(page)).toBe(false);
        expect(requests).toEqual([]);
        expect(problems).toEqual([]);
      } finally {
        await context.close();
      }
    });

    it(`puts an incomplete read first and never reads as a quiet run ${mode}`, async () => {
      const { context, page, requests, problems } = await open(`incomplete-${js}.html`, incomplete, js);
      try {
        const banner = page.getByRole('alert');
        expect(await banner.count()).toBe(1);
        expect(await banner.isVisible()).toBe(true);
        const text = (await banner.innerText()).replace(/\s+/g, ' ');
        expect(text).toContain('INCOMPLETE');
        expect(text).toContain('nothing was acted on');
        for (const r of incomplete.incomplete) {
          expect(text).toContain(r.what);
          expect(text).toContain(r.error);
          expect(text).toContain(r.endpoint);
        }
        // Prominent: the first thing after the title, in the first screen.
        const box = await banner.boundingBox();
        expect(box).not.toBeNull();
        expect(box!.y + box!.height).toBeLessThan(900);
        expect(await page.locator('h1 + [role="alert"]').count()).toBe(1);
        const body = (await page.locator('body').innerText()).replace(/\s+/g, ' ');
        expect(body).not.toMatch(/\b0 incidents\b|no incidents|nothing (left )?to do|nothing to respond|all clear|no changes/i);
        expect(requests).toEqual([]);
        expect(problems).toEqual([]);
      } finally {
        await context.close();
      }
    });

    for (const width of [1280, 390]) {
      it(`shows each phishing chain from delivery to containment, inside a ${width} px window, ${mode}`, async () => {
        const { context, page, requests, problems } = await open(`chains-${js}-${width}.html`, phishing, js, width);
        try {
          expect(await page.locator('section.chain').count()).toBe(phishing.chains!.length);
          const open = chainSection(page, chain.id);
          expect(await open.isVisible()).toBe(true);
          expect((await open.locator('h2').innerText()).trim()).toBe(`Chain ${chain.id}`);
          const delivered = await textOf(page, `section.chain:has-text("${chain.id}") .message`);
          for (const part of [chain.message!.receivedAt, chain.message!.subject, chain.message!.sender, 'IP 203.0.113.45', 'SPF fail, DKIM none, DMARC fail, composite fail', '4 recipients', chain.message!.links[0]!]) expect(delivered).toContain(part);
          const invite = open.locator('li.invite');
          expect(await invite.count()).toBe(1);
          expect(await invite.isVisible()).toBe(true);
          expect((await invite.innerText()).trim()).toBe(`"Payment portal walkthrough (required)" by ${QUINN} (compromised-internal), matched by links, 3 copies`);
          const leftAlone = open.locator('li.left-alone');
          expect(await leftAlone.isVisible()).toBe(true);
          expect((await leftAlone.innerText()).trim()).toBe(`left alone "Payment portal walkthrough" by ${ROWAN}: no-shared-link`);
          expect(await open.locator('ol.trace > li').count()).toBe(chain.trace.length);
          // Automatic containment of few mailboxes, and any waiting for approval or never done, names each mailbox.
          const approval = open.locator('li.approval');
          expect(await approval.innerText()).toContain('purgeMessage: 1 mailbox waiting for approval (1 write), by matrix.highValue.high.approval');
          expect(await approval.locator('ul.mailboxes > li').allInnerTexts()).toEqual([`${ROWAN} (highValue): 1 write, waiting for approval (matrix.highValue.high.approval)`]);
          expect(await open.locator('li.never ul.mailboxes > li').count()).toBe(1);
          const state = open.locator('.state');
          expect(await state.isVisible()).toBe(true);
          expect((await state.innerText()).trim()).toBe("Still open: 3 message copies, 1 invite copy (as read, before this run's writes)");
          expect(await state.getAttribute('class')).toBe('state open');

          const done = chainSection(page, contained.id).locator('.state');
          expect(await done.isVisible()).toBe(true);
          expect((await done.innerText()).trim()).toBe('Contained');
          const missing = chainSection(page, notTraced.id);
          expect(await missing.isVisible()).toBe(true);
          expect(await textOf(page, `section.chain:has-text("${notTraced.id}")`)).toContain(notTraced.notTraced!);
          expect(await missing.locator('.state').count()).toBe(0);

          // Forty mailboxes contained automatically: one line per action, no mailbox named.
          const wideSection = chainSection(page, many.id);
          expect(await wideSection.locator('li.automatic').allInnerTexts()).toEqual([
            'purgeMessage: 40 mailboxes automatic (40 writes), by matrix.standard.high.automatic',
            'removeInvites: 40 mailboxes automatic (40 writes), by matrix.standard.high.automatic',
          ]);
          expect(await wideSection.locator('ul.mailboxes').count()).toBe(0);

          expect(await textOf(page, 'body')).toContain('Response: 0 incidents, 4 phishing chains, 0 automatic writes, 0 waiting for approval.');
          expect(await overflows(page)).toBe(false);
          expect(requests).toEqual([]);
          expect(problems).toEqual([]);
        } finally {
          await context.close();
        }
      });

      it(`shows hostile tenant strings as text, inside a ${width} px window, ${mode}`, async () => {
        const { context, page, requests, problems } = await open(`hostile-${js}-${width}.html`, hostile, js, width);
        try {
          // Nothing the tenant wrote became an element.
          expect(await page.locator('body script, img, iframe, object, embed, b, a').count()).toBe(0);
          expect(await page.locator('script').count()).toBe(0);
          expect(await page.title()).toBe('email-posture response: Tailspin <b>Toys</b> <iframe src="https://evil.example/">');
          const heading = (await incidentSection(page, jamie.id).locator('h2').innerText()).trim();
          expect(heading).toContain(HOSTILE_DISPLAY);
          const signal = (await incidentSection(page, jamie.id).locator('li', { hasText: 'gnp.exe' }).innerText()).trim();
          expect(signal).toContain('Clicked <img src=x onerror=alert(2)> \\x1b[2J\\x07 \\u{202e}gnp.exe \\u{2066}x\\u{2069} line\\u{2028}two');
          expect(signal).toContain(LONG);
          expect(await page.getByText('Signals set aside: 1 <img src=x onerror=alert(3)>', { exact: false }).isVisible()).toBe(true);

          // The hostile chain: each invite one item, its subject, organizer and link as text.
          const hostileSection = chainSection(page, hostileChain.id);
          expect(await hostileSection.isVisible()).toBe(true);
          expect(await hostileSection.locator('li.invite').count()).toBe(1);
          expect(await hostileSection.locator('li.left-alone').count()).toBe(1);
          const shown = (v: string) => v.replace(/[\r\n\t]+/g, ' ').replace('\u001b', '\\x1b').replace('\u202e', '\\u{202e}');
          expect((await hostileSection.locator('li.invite').innerText()).trim()).toBe(`"${shown(HOSTILE_SUBJECT)}" by ${shown(HOSTILE_ORGANIZER)} (compromised-internal), matched by links, 3 copies`);
          expect(await hostileSection.locator('.message').innerText()).toContain(`${HOSTILE_LINK}${LONG}`);
          expect(await hostileSection.locator('ol.trace > li').count()).toBe(hostileChain.trace.length);
          expect((await hostileSection.locator('.state').innerText()).trim()).toMatch(/^Still open: /);

          // No control or bidirectional character reaches the page, shown or in the document.
          const text = `${await page.locator('body').innerText()}\n${await page.content()}`;
          const raw = [...text].filter((ch) => isUnsafeCodePoint(ch.codePointAt(0)!) && ch !== '\n' && ch !== '\t' && ch !== '\r');
          expect(raw.map((ch) => ch.codePointAt(0)!.toString(16))).toEqual([]);

          // The long strings wrap instead of widening the page.
          expect(await overflows(page)).toBe(false);
          expect(requests).toEqual([]);
          expect(problems).toEqual([]);
        } finally {
          await context.close();
        }
      });
    }
  }

  it('forbids scripts in its Content-Security-Policy, and the browser enforces it', async () => {
    const { context, page, requests, problems } = await open('csp.html', busy, true);
    try {
      const csp = await page.locator('meta[http-equiv="Content-Security-Policy"]').getAttribute('content');
      expect(csp).not.toBeNull();
      const directives = new Map(
        csp!
          .split(';')
          .map((d) => d.trim().split(/\s+/))
          .filter((d) => d[0])
          .map(([name, ...values]) => [name!.toLowerCase(), values] as const),
      );
      // Scripts fall back to default-src unless script-src names them.
      const scripts = directives.get('script-src-elem') ?? directives.get('script-src') ?? directives.get('default-src');
      expect(scripts).toEqual(["'none'"]);
      expect(directives.has('script-src-attr') ? directives.get('script-src-attr') : scripts).toEqual(["'none'"]);
      expect(directives.get('default-src')).toEqual(["'none'"]);

      // A script put into the page does not run, and the browser says why.
      const outcome = await page.evaluate(`new Promise((resolve) => {
        document.addEventListener('securitypolicyviolation', (e) => resolve('refused by ' + e.effectiveDirective), { once: true });
        const s = document.createElement('script');
        s.textContent = 'document.body.dataset.ran = "yes"';
        document.head.append(s);
        if (document.body.dataset.ran) resolve('ran');
      })`);
      expect(outcome).toMatch(/^refused by script-src/);
      expect(await page.locator('body[data-ran]').count()).toBe(0);
      expect(problems.every((p) => p.includes('Content Security Policy'))).toBe(true);
      expect(requests).toEqual([]);
    } finally {
      await context.close();
    }
  });
});
