import { existsSync, mkdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderHtml } from '../../reconciler/report/html.js';
import { isUnsafeCodePoint } from '../../reconciler/core/text.js';
import { CHROMIUM, launchReportBrowser, MISSING_CHROMIUM, type Opened, type ReportBrowser } from './browser.js';
import { cleanPlan, driftedFindings, driftedPlan, HOSTILE_NAME, INCOMPLETE_READ, makePlan, XML_HOSTILE_NAME } from './fixtures.js';

/** Where the screenshot of the drifted report goes: outside the repository unless told otherwise. */
const SCREENSHOT_DIR = process.env['REPORT_SCREENSHOT_DIR'] ?? join(tmpdir(), 'email-posture-report');

let reports: ReportBrowser | undefined;

/** Opens a report from a file, as a person would, with JavaScript on or off. */
async function open(name: string, html: string, javaScriptEnabled: boolean): Promise<Opened> {
  if (!reports) throw new Error(MISSING_CHROMIUM);
  return reports.open(name, html, javaScriptEnabled);
}

/** The visible findings in the by-owner section, by resource name. */
async function visibleFindings(page: Page): Promise<string[]> {
  const names: string[] = [];
  for (const article of await page.locator('#by-owner article').all()) {
    if (await article.isVisible()) names.push((await article.locator('h4').innerText()).trim());
  }
  return names;
}

describe('the browser the HTML report is checked in', () => {
  it('is installed', () => {
    expect(existsSync(CHROMIUM), MISSING_CHROMIUM).toBe(true);
  });
});

describe('HTML report in a browser', () => {
  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) throw new Error(MISSING_CHROMIUM);
    reports = await launchReportBrowser('email-posture-html-');
  });

  afterAll(async () => {
    await reports?.close();
  });

  it('reads fully without JavaScript: counts, every owner’s findings, names as text', async () => {
    const { context, page, requests, problems } = await open('drifted-nojs.html', renderHtml(driftedPlan()), false);
    try {
      // No filters without JavaScript, and a word saying why.
      expect(await page.locator('#filters').isVisible()).toBe(false);
      expect(await page.getByText('All findings are shown. Filtering, search and the CSV download need JavaScript.').isVisible()).toBe(true);

      const banner = page.getByRole('alert');
      expect(await banner.isVisible()).toBe(true);
      expect(await banner.innerText()).toContain('INCOMPLETE: the following could not be read');
      expect(await banner.innerText()).toContain(INCOMPLETE_READ.what);

      // Counts by severity.
      const cards = page.getByRole('list', { name: 'Findings by severity' });
      expect(await cards.isVisible()).toBe(true);
      const cardText = (await cards.innerText()).replace(/\s+/g, ' ');
      expect(cardText).toContain('5 critical 4 high 1 medium 1 low 1 excepted 1 not evaluated');

      // Counts by owner.
      const rows = page.locator('table.owners tbody tr');
      expect(await rows.count()).toBe(3);
      const rowText = async (i: number): Promise<string> => (await rows.nth(i).innerText()).replace(/\s+/g, ' ').trim();
      expect(await rows.nth(0).isVisible()).toBe(true);
      expect(await rowText(0)).toBe('Identity Engineering Lead Identity · identity-team@tailspintoys.example 2 1 0 0 0 0 3');
      expect(await rowText(1)).toBe('Mail Platform Lead Messaging · mail-platform@tailspintoys.example 1 3 0 1 1 0 6');
      expect(await rowText(2)).toBe('Security Operations Manager SecOps · secops@tailspintoys.example 2 0 1 0 0 1 4');

      // Every owner's findings are on screen.
      for (const [contact, n] of [
        ['identity-team@tailspintoys.example', 3],
        ['mail-platform@tailspintoys.example', 6],
        ['secops@tailspintoys.example', 4],
      ] as const) {
        const section = page.locator(`section[data-owner-group="${contact}"]`);
        expect(await section.isVisible()).toBe(true);
        const articles = section.locator('article');
        expect(await articles.count()).toBe(n);
        for (const a of await articles.all()) expect(await a.isVisible()).toBe(true);
      }
      expect(await visibleFindings(page)).toHaveLength(13);
      expect(await page.locator('#by-control tr[data-finding]').count()).toBe(13);
      expect(await page.locator('#by-control').isVisible()).toBe(true);

      // The hostile names are text, not markup.
      expect(await page.locator('img, iframe, object, embed').count()).toBe(0);
      const heading = page.locator('#by-owner h4', { hasText: 'onerror' });
      expect(await heading.innerText()).toBe(`inboxRule${HOSTILE_NAME}`);
      const rule = page.locator('#by-owner h4', { hasText: 'Copy "legal"' });
      expect(await rule.isVisible()).toBe(true);
      expect(await rule.innerText()).toBe(`transportRule${XML_HOSTILE_NAME}`);

      expect(requests).toEqual([]);
      expect(problems).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('shows a name that carries control and bidirectional characters, a URL and an echoed token as inert text', async () => {
    const jwt = 'eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.eyJhdWQiOiJodHRwczovL2dyYXBoLm1pY3Jvc29mdC5jb20ifQ.c2lnbmF0dXJlLXZhbHVl';
    const name = 'Archive\u001b[2J\u0007 \u202egnp.exe \u2066x\u2069 line\u2028two https://evil.example/login';
    const findings = driftedFindings().map((f, i) => (i === 0 ? { ...f, resource: { ...f.resource, name }, summary: `read failed: Authorization: Bearer ${jwt}`, owner: { ...f.owner, name: `Owner \u202eevil` } } : f));
    const { context, page, requests, problems } = await open('hostile-js.html', renderHtml(makePlan(findings, [{ ...INCOMPLETE_READ, error: `HTTP 400: 'Bearer ${jwt}' ${name}` }])), true);
    try {
      // What the page shows, and the document as the browser holds it (entities decoded, attributes included).
      const text = `${await page.locator('body').innerText()}\n${await page.content()}`;
      const raw = [...text].filter((ch) => isUnsafeCodePoint(ch.codePointAt(0)!) && ch !== '\n' && ch !== '\t' && ch !== '\r');
      expect(raw.map((ch) => ch.codePointAt(0)!.toString(16))).toEqual([]);
      expect(text).not.toContain(jwt);
      expect(text).not.toContain(jwt.split('.')[1]!);
      const heading = page.locator('#by-owner h4', { hasText: 'gnp.exe' });
      expect(await heading.innerText()).toContain('Archive\\x1b[2J\\x07 \\u{202e}gnp.exe \\u{2066}x\\u{2069} line\\u{2028}two https://evil.example/login');
      // Text, not a link; the filter built from owners carries the escape too.
      expect(await page.locator('a[href*="evil"]').count()).toBe(0);
      expect(await page.getByLabel('Owner', { exact: true }).innerText()).toContain('Owner \\u{202e}evil');
      expect(requests).toEqual([]);
      expect(problems).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('filters by severity, status and owner with JavaScript', async () => {
    const { context, page, requests, problems } = await open('drifted-js.html', renderHtml(driftedPlan()), true);
    try {
      const form = page.locator('#filters');
      expect(await form.isVisible()).toBe(true);
      expect(await page.locator('#filters-note').isVisible()).toBe(false);
      const count = page.locator('#filter-count');
      expect(await count.innerText()).toBe('Showing 13 of 13 findings');
      expect(await visibleFindings(page)).toHaveLength(13);

      await page.getByLabel('Severity', { exact: true }).selectOption('critical');
      expect(await count.innerText()).toBe('Showing 7 of 13 findings');
      for (const a of await page.locator('#by-owner article').all()) {
        expect(await a.isVisible()).toBe((await a.getAttribute('data-severity')) === 'critical');
      }
      for (const row of await page.locator('#by-control tr[data-finding]').all()) {
        expect(await row.isVisible()).toBe((await row.getAttribute('data-severity')) === 'critical');
      }
      expect(await page.locator('#by-owner h4', { hasText: 'tailspintoys.example' }).first().isVisible()).toBe(false);
      expect(await page.locator('#by-control tbody', { hasText: 'MAIL.DMARC.2v1' }).isVisible()).toBe(false);

      await page.getByLabel('Status', { exact: true }).selectOption('actionable');
      expect(await count.innerText()).toBe('Showing 5 of 13 findings');
      expect(await page.locator('#by-owner article[data-status="excepted"]').isVisible()).toBe(false);

      await page.getByRole('button', { name: 'Clear filters' }).click();
      await expect.poll(() => count.innerText()).toBe('Showing 13 of 13 findings');

      await page.getByLabel('Owner', { exact: true }).selectOption('identity-team@tailspintoys.example');
      expect(await count.innerText()).toBe('Showing 3 of 13 findings');
      expect(await page.locator('section[data-owner-group="identity-team@tailspintoys.example"]').isVisible()).toBe(true);
      expect(await page.locator('section[data-owner-group="mail-platform@tailspintoys.example"]').isVisible()).toBe(false);
      expect(await page.locator('section[data-owner-group="secops@tailspintoys.example"]').isVisible()).toBe(false);

      expect(requests).toEqual([]);
      expect(problems).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('tells a clean tenant at a glance', async () => {
    const { context, page, problems } = await open('clean.html', renderHtml(cleanPlan()), true);
    try {
      expect(await page.getByText('No changes. The tenant matches the posture.').isVisible()).toBe(true);
      expect(await page.getByRole('alert').count()).toBe(0);
      expect(problems).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('takes a full-page screenshot of the drifted report', async () => {
    const { context, page } = await open('drifted-shot.html', renderHtml(driftedPlan()), true);
    try {
      mkdirSync(SCREENSHOT_DIR, { recursive: true });
      const path = join(SCREENSHOT_DIR, 'drifted.png');
      await page.screenshot({ path, fullPage: true });
      expect(statSync(path).size).toBeGreaterThan(50_000);
    } finally {
      await context.close();
    }
  });
});
