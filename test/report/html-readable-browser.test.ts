import { existsSync } from 'node:fs';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderHtml } from '../../reconciler/report/html.js';
import { CHROMIUM, launchReportBrowser, MISSING_CHROMIUM, type Opened, type ReportBrowser } from './browser.js';
import { cleanPlan, driftedFindings, driftedPlan, HOSTILE_NAME, INCOMPLETE_READ, makePlan } from './fixtures.js';
import { planWithPaths, tailspinPathMap } from './path-map-fixtures.js';

/**
 * The HTML report read by people who are not at a laptop with perfect eyes: on a phone, by its
 * colours' contrast, with a screen reader, and on paper.
 */

const LAPTOP = { width: 1280, height: 900 };
const PHONE = { width: 390, height: 844 };
/** An A4 page at 96 px to the inch, less Chromium's default print margins (0.4 in a side). */
const A4 = { width: 718, height: 1047 };

/** The few browser globals the page functions below use (the project compiles without the DOM library). */
interface Rect {
  readonly left: number;
  readonly right: number;
  readonly top: number;
  readonly bottom: number;
  readonly width: number;
  readonly height: number;
}
interface PageNode {
  readonly nodeType: number;
  readonly textContent: string | null;
  readonly parentElement: PageElement | null;
}
interface PageElement extends PageNode {
  readonly tagName: string;
  readonly className: string;
  readonly childNodes: Iterable<PageNode>;
  readonly children: Iterable<PageElement>;
  readonly scrollWidth: number;
  readonly clientWidth: number;
  scrollLeft: number;
  textContent: string | null;
  readonly style: { cssText: string };
  checkVisibility(options: { visibilityProperty: boolean; opacityProperty: boolean }): boolean;
  getBoundingClientRect(): Rect;
  closest(selectors: string): PageElement | null;
  querySelector(selectors: string): PageElement | null;
  querySelectorAll(selectors: string): Iterable<PageElement>;
  hasAttribute(name: string): boolean;
  appendChild(child: PageElement): PageElement;
  remove(): void;
}
interface Style {
  readonly color: string;
  readonly backgroundColor: string;
  readonly fontSize: string;
  readonly fontWeight: string;
  readonly display: string;
  readonly visibility: string;
  readonly overflowX: string;
  readonly paddingLeft: string;
  readonly paddingRight: string;
  readonly content: string;
}
declare const document: {
  readonly documentElement: PageElement;
  readonly body: PageElement;
  querySelectorAll(selectors: string): Iterable<PageElement>;
  createElement(tag: string): PageElement;
};
declare const window: { readonly innerWidth: number };
declare function getComputedStyle(element: PageElement, pseudo?: string): Style;

let reports: ReportBrowser | undefined;

async function open(name: string, html: string, viewport: { width: number; height: number }, javaScriptEnabled = true): Promise<Opened> {
  if (!reports) throw new Error(MISSING_CHROMIUM);
  return reports.open(name, html, javaScriptEnabled, viewport);
}

/** Everything the report draws: findings of every status, the incomplete banner and the inbound path map. */
const fullHtml = renderHtml({ ...planWithPaths(tailspinPathMap()), incomplete: [INCOMPLETE_READ] });

/** A text below WCAG AA contrast against what it is drawn on. */
interface LowContrast {
  readonly text: string;
  readonly where: string;
  readonly color: string;
  readonly background: string;
  readonly ratio: number;
  readonly needs: number;
}

/**
 * Every visible text of the page whose contrast with its background is below WCAG 2 AA: 4.5:1, or
 * 3:1 for large text (24 px, or 18.66 px bold). The text is each element's own text (and its
 * ::before content); the background is found by walking up to the first opaque background colour,
 * translucent ones on the way laid over it.
 */
function lowContrast(page: Page): Promise<LowContrast[]> {
  return page.evaluate(() => {
    interface Rgba {
      r: number;
      g: number;
      b: number;
      a: number;
    }
    const parse = (css: string): Rgba => {
      const m = /^rgba?\(([^)]*)\)$/.exec(css);
      if (!m) throw new Error(`a colour this test cannot read: ${css}`);
      const [r = 0, g = 0, b = 0, a = 1] = m[1]!.split(/[\s,/]+/).filter(Boolean).map(Number);
      return { r, g, b, a };
    };
    const over = (top: Rgba, under: Rgba): Rgba => ({
      r: top.r * top.a + under.r * (1 - top.a),
      g: top.g * top.a + under.g * (1 - top.a),
      b: top.b * top.a + under.b * (1 - top.a),
      a: 1,
    });
    // WCAG 2 relative luminance and contrast ratio.
    const channel = (v: number): number => {
      const s = v / 255;
      return s <= 0.04045 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
    };
    const luminance = (c: Rgba): number => 0.2126 * channel(c.r) + 0.7152 * channel(c.g) + 0.0722 * channel(c.b);
    const ratio = (x: Rgba, y: Rgba): number => {
      const [light, dark] = [luminance(x), luminance(y)].sort((p, q) => q - p) as [number, number];
      return (light + 0.05) / (dark + 0.05);
    };
    const background = (el: PageElement): Rgba => {
      const layers: Rgba[] = [];
      for (let e: PageElement | null = el; e; e = e.parentElement) {
        const c = parse(getComputedStyle(e).backgroundColor);
        if (c.a > 0) layers.push(c);
        if (c.a >= 1) break;
      }
      // Under everything, the canvas: white in a light colour scheme.
      return layers.reverse().reduce((under, layer) => over(layer, under), { r: 255, g: 255, b: 255, a: 1 });
    };
    // Drawn and not visually hidden (a 1 px clipped caption is for screen readers only).
    const shown = (el: PageElement): boolean => {
      if (!el.checkVisibility({ visibilityProperty: true, opacityProperty: true })) return false;
      for (let e: PageElement | null = el; e && e !== document.body; e = e.parentElement) {
        const r = e.getBoundingClientRect();
        if (r.width <= 1 || r.height <= 1) return false;
      }
      return true;
    };
    const rgb = (c: Rgba): string => `rgb(${Math.round(c.r)}, ${Math.round(c.g)}, ${Math.round(c.b)})`;
    const found: LowContrast[] = [];
    const check = (el: PageElement, text: string, style: Style): void => {
      const bg = background(el);
      const fg = over(parse(style.color), bg);
      const size = parseFloat(style.fontSize);
      const large = size >= 24 || (Number(style.fontWeight) >= 700 && size >= 18.66);
      const needs = large ? 3 : 4.5;
      const got = ratio(fg, bg);
      if (got < needs) {
        found.push({ text: text.slice(0, 40), where: `${el.tagName.toLowerCase()}.${el.className}`, color: rgb(fg), background: rgb(bg), ratio: Math.round(got * 100) / 100, needs });
      }
    };
    for (const el of document.body.querySelectorAll('*')) {
      if (el.tagName === 'SCRIPT' || el.tagName === 'OPTION' || !shown(el)) continue;
      const own = [...el.childNodes].filter((n) => n.nodeType === 3).map((n) => n.textContent ?? '').join('').trim();
      // A select shows its chosen option's text in its own colours.
      const text = el.tagName === 'SELECT' ? (el.querySelector('option:checked')?.textContent ?? '') : own;
      if (text !== '') check(el, text, getComputedStyle(el));
      const before = getComputedStyle(el, '::before');
      if (/^".*[^\s"].*"$/.test(before.content)) check(el, before.content, before);
    }
    return found;
  });
}

describe('the HTML report, readable', () => {
  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) throw new Error(MISSING_CHROMIUM);
    reports = await launchReportBrowser('email-posture-readable-');
  });

  afterAll(async () => {
    await reports?.close();
  });

  describe('on a phone', () => {
    /** Where the page, or anything on it outside a box that scrolls, is wider than the screen or clips what it holds. */
    const layoutProblems = (page: Page): Promise<{ page: number; outside: string[]; clipped: string[]; wraps: Array<{ scroll: number; client: number; overflowX: string }> }> =>
      page.evaluate(() => {
        const width = window.innerWidth;
        const name = (el: PageElement): string => `${el.tagName.toLowerCase()}.${el.className}: ${(el.textContent ?? '').trim().slice(0, 40)}`;
        const all = [...document.body.querySelectorAll('*')].filter((el) => el.checkVisibility({ visibilityProperty: true, opacityProperty: true }));
        return {
          page: document.documentElement.scrollWidth,
          // Outside a scrolling table box, nothing reaches past either edge of the screen.
          outside: all
            .filter((el) => !el.closest('.table-wrap'))
            .filter((el) => {
              const r = el.getBoundingClientRect();
              return r.width > 1 && (r.left < -0.5 || r.right > width + 0.5);
            })
            .map(name),
          // Nothing cuts off what it holds: no box that hides its overflow is wider inside than out.
          clipped: all
            .filter((el) => ['hidden', 'clip'].includes(getComputedStyle(el).overflowX) && el.getBoundingClientRect().width > 1)
            .filter((el) => el.scrollWidth > el.clientWidth)
            .map(name),
          wraps: [...document.querySelectorAll('.table-wrap')].map((w) => ({ scroll: w.scrollWidth, client: w.clientWidth, overflowX: getComputedStyle(w).overflowX })),
        };
      });

    /**
     * The cells of the by-control table too narrow for a word they hold, or that something overflows:
     * a table squeezed into a column of letters fails both.
     */
    const squeezedCells = (page: Page): Promise<{ cells: number; narrow: string[]; overflowing: string[] }> =>
      page.evaluate(() => {
        const narrow: string[] = [];
        const overflowing: string[] = [];
        const visible = (el: PageElement): boolean => {
          if (!el.checkVisibility({ visibilityProperty: true, opacityProperty: true })) return false;
          for (let e: PageElement | null = el; e && e.tagName !== 'TABLE'; e = e.parentElement) {
            const r = e.getBoundingClientRect();
            if (r.width <= 1 || r.height <= 1) return false;
          }
          return true;
        };
        const cells = [...document.querySelectorAll('table.controls td, table.controls th')].filter(visible);
        for (const cell of cells) {
          const style = getComputedStyle(cell);
          const box = cell.getBoundingClientRect();
          const room = cell.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
          const label = `${cell.className || cell.tagName.toLowerCase()}: ${(cell.textContent ?? '').trim().slice(0, 40)}`;
          // Each word, measured on one line in the font of the element that holds it.
          for (const node of [cell, ...cell.querySelectorAll('*')]) {
            for (const text of [...node.childNodes].filter((n) => n.nodeType === 3)) {
              for (const word of (text.textContent ?? '').split(/\s+/).filter(Boolean)) {
                const probe = document.createElement('span');
                probe.style.cssText = 'position: absolute; white-space: nowrap; visibility: hidden';
                probe.textContent = word;
                node.appendChild(probe);
                const wide = probe.getBoundingClientRect().width;
                probe.remove();
                if (wide > room + 0.5) narrow.push(`${label} (“${word}” is ${Math.round(wide)} px, the cell ${Math.round(room)} px)`);
              }
            }
          }
          if (cell.scrollWidth > cell.clientWidth) overflowing.push(label);
          for (const inner of cell.querySelectorAll('*')) {
            const r = inner.getBoundingClientRect();
            if (r.width > 0 && (r.left < box.left - 0.5 || r.right > box.right + 0.5)) overflowing.push(`${label} (${inner.tagName.toLowerCase()} sticks out)`);
          }
        }
        return { cells: cells.length, narrow, overflowing };
      });

    it('is no wider than the screen: the owner table scrolls in its own box, nothing is cut off', async () => {
      for (const javaScriptEnabled of [true, false]) {
        const { context, page, requests, problems } = await open(`phone-${javaScriptEnabled}.html`, fullHtml, PHONE, javaScriptEnabled);
        try {
          const layout = await layoutProblems(page);
          expect(layout.page).toBeLessThanOrEqual(PHONE.width);
          expect(layout.outside).toEqual([]);
          expect(layout.clipped).toEqual([]);
          // Two tables, each in a box no wider than the screen; the owner table's scrolls sideways.
          expect(layout.wraps).toHaveLength(2);
          for (const w of layout.wraps) {
            expect(w.client).toBeLessThanOrEqual(PHONE.width);
            if (w.scroll > w.client) expect(['auto', 'scroll']).toContain(w.overflowX);
          }

          // The owner table's box scrolls, can be scrolled from the keyboard, and is named after the table.
          const box = page.getByRole('region', { name: 'Findings by owner and severity' });
          expect(await box.getAttribute('tabindex')).toBe('0');
          expect(await box.evaluate((el: PageElement) => el.scrollWidth > el.clientWidth)).toBe(true);
          // Its last column is reached by scrolling, the owners' names staying in view.
          const total = box.locator('thead th', { hasText: 'total' });
          const owner = box.locator('tbody th').first();
          await box.evaluate((el: PageElement) => {
            el.scrollLeft = el.scrollWidth;
          });
          const frame = (await box.boundingBox())!;
          const last = (await total.boundingBox())!;
          expect(last.x).toBeGreaterThanOrEqual(frame.x);
          expect(last.x + last.width).toBeLessThanOrEqual(frame.x + frame.width + 0.5);
          const name = (await owner.boundingBox())!;
          expect(name.x).toBeGreaterThanOrEqual(frame.x);
          expect(name.x).toBeLessThan(frame.x + 2);
          expect(await owner.locator('.who').innerText()).toBe('Identity Engineering Lead');

          // The by-control table fits the screen, each finding stacked, every cell wide enough for its words.
          const controls = page.locator('#by-control .table-wrap');
          expect(await controls.evaluate((el: PageElement) => el.scrollWidth <= el.clientWidth)).toBe(true);
          const cells = await squeezedCells(page);
          expect(cells.cells).toBeGreaterThan(13 * 5);
          expect(cells.narrow).toEqual([]);
          expect(cells.overflowing).toEqual([]);
          const first = page.locator('#by-control tr[data-finding]').first();
          const resource = (await first.locator('td.ctl-resource').boundingBox())!;
          const summary = (await first.locator('td.ctl-summary').boundingBox())!;
          expect(summary.y).toBeGreaterThan(resource.y + resource.height - 0.5);
          expect(summary.width).toBeGreaterThan(PHONE.width * 0.75);
          // With its column header out of sight, the owner is labelled.
          const ownerCell = first.locator('td.ctl-owner');
          expect(await ownerCell.evaluate((el: PageElement) => getComputedStyle(el, '::before').content)).toBe('"Owner: "');
          expect(await ownerCell.innerText()).toBe('Identity Engineering LeadIdentity');
          expect(await page.locator('#by-control thead').boundingBox()).toMatchObject({ width: 1, height: 1 });

          expect(requests).toEqual([]);
          expect(problems).toEqual([]);
        } finally {
          await context.close();
        }
      }
    });

    it('keeps the by-control table a readable table on a laptop', async () => {
      const { context, page, problems } = await open('laptop-layout.html', fullHtml, LAPTOP);
      try {
        const layout = await layoutProblems(page);
        expect(layout.page).toBeLessThanOrEqual(LAPTOP.width);
        expect(layout.outside).toEqual([]);
        expect(layout.clipped).toEqual([]);
        for (const w of layout.wraps) expect(w.scroll).toBeLessThanOrEqual(w.client);
        const cells = await squeezedCells(page);
        expect(cells.cells).toBeGreaterThan(13 * 5);
        expect(cells.narrow).toEqual([]);
        expect(cells.overflowing).toEqual([]);
        // Five columns side by side.
        const row = page.locator('#by-control tr[data-finding]').first();
        const ys = await Promise.all(['resource', 'status', 'sev', 'owner', 'summary'].map(async (c) => (await row.locator(`td.ctl-${c}`).boundingBox())!.y));
        for (const y of ys) expect(Math.abs(y - ys[0]!)).toBeLessThan(1);
        expect(problems).toEqual([]);
      } finally {
        await context.close();
      }
    });
  });

  describe('in contrast', () => {
    for (const [width, viewport] of [
      ['laptop', LAPTOP],
      ['phone', PHONE],
    ] as const) {
      it(`meets WCAG AA for every text on a ${width}: zero counts, severity pills, the path map`, async () => {
        for (const [name, html] of [
          ['full', fullHtml],
          ['clean', renderHtml(cleanPlan())],
        ] as const) {
          const { context, page, problems } = await open(`contrast-${name}-${width}.html`, html, viewport);
          try {
            expect(await lowContrast(page), `${name} report, ${width}`).toEqual([]);
            expect(problems).toEqual([]);
          } finally {
            await context.close();
          }
        }
      });
    }

    it('checks what it should: zero counts and the high pill are among the texts measured', async () => {
      const { context, page } = await open('contrast-probe.html', fullHtml, LAPTOP);
      try {
        // The audit sees a failing colour when there is one.
        await page.locator('#by-owner .pill.c-high').first().evaluate((el: PageElement) => {
          el.style.cssText = 'color: #e04f16';
        });
        await page.locator('table.owners td.num.zero').first().evaluate((el: PageElement) => {
          el.style.cssText = 'color: #b0b7c3';
        });
        const low = await lowContrast(page);
        expect(low.map((l) => [l.where, l.text, l.ratio])).toEqual([
          ['td.num c-medium zero', '0', 2.02],
          ['span.pill c-high', 'high', 3.71],
        ]);
      } finally {
        await context.close();
      }
    });
  });

  describe('to a screen reader', () => {
    it('names every table by a caption that is hidden from sight only', async () => {
      const { context, page, problems } = await open('captions.html', fullHtml, LAPTOP);
      try {
        const tables = page.locator('table');
        expect(await tables.count()).toBe(2);
        const captions: string[] = [];
        for (const table of await tables.all()) {
          const caption = table.locator('caption');
          expect(await caption.count()).toBe(1);
          const text = (await caption.textContent())!.trim();
          expect(text).not.toBe('');
          expect(await caption.getAttribute('hidden')).toBeNull();
          expect(await caption.getAttribute('aria-hidden')).toBeNull();
          const style = await caption.evaluate((el: PageElement) => ({ display: getComputedStyle(el).display, visibility: getComputedStyle(el).visibility }));
          expect(style.display).not.toBe('none');
          expect(style.visibility).toBe('visible');
          // Out of sight: the headings above say the same.
          const box = (await caption.boundingBox())!;
          expect(box.width * box.height).toBeLessThanOrEqual(1);
          captions.push(text);
        }
        expect(captions).toEqual(['Findings by owner and severity', 'Findings by control']);

        // The names as Playwright computes them, and as Chromium gives them to assistive technology.
        for (const name of captions) expect(await page.getByRole('table', { name, exact: true }).count()).toBe(1);
        const cdp = await context.newCDPSession(page);
        const tree = (await cdp.send('Accessibility.getFullAXTree')) as { nodes: Array<{ ignored: boolean; role?: { value: unknown }; name?: { value: unknown } }> };
        const named = tree.nodes.filter((n) => !n.ignored && n.role?.value === 'table').map((n) => n.name?.value);
        expect(named).toEqual(captions);
        expect(problems).toEqual([]);
      } finally {
        await context.close();
      }
    });

    it('keeps the by-control table a table when it is stacked on a phone', async () => {
      const { context, page } = await open('stacked-semantics.html', fullHtml, PHONE);
      try {
        const table = page.getByRole('table', { name: 'Findings by control' });
        expect(await table.getByRole('columnheader').count()).toBe(5);
        expect(await table.getByRole('row').count()).toBeGreaterThan(13);
        expect(await table.getByRole('cell').count()).toBe(13 * 5);
      } finally {
        await context.close();
      }
    });
  });

  describe('on paper', () => {
    /** The findings a page shows in the by-owner section and the by-control table. */
    const shownFindings = (page: Page): Promise<{ articles: number; rows: number }> =>
      page.evaluate(() => {
        const count = (selector: string): number =>
          [...document.querySelectorAll(selector)].filter((el) => el.checkVisibility({ visibilityProperty: true, opacityProperty: true })).length;
        return { articles: count('#by-owner article'), rows: count('#by-control tr[data-finding]') };
      });
    const fits = (page: Page): Promise<{ page: number; wraps: boolean[] }> =>
      page.evaluate(() => ({ page: document.documentElement.scrollWidth, wraps: [...document.querySelectorAll('.table-wrap')].map((w) => w.scrollWidth <= w.clientWidth) }));

    it('says on the printed page which filter the lists are under, next to the counts of everything', async () => {
      const { context, page, requests, problems } = await open('print-filtered.html', renderHtml(driftedPlan()), A4);
      try {
        const notes = page.locator('[data-print-filter]');
        expect(await notes.count()).toBe(2);
        await page.getByLabel('Severity', { exact: true }).selectOption('critical');
        await page.getByLabel('Owner', { exact: true }).selectOption('identity-team@tailspintoys.example');

        // On screen the form says it; the notes are for paper.
        for (const n of await notes.all()) expect(await n.isVisible()).toBe(false);

        await page.emulateMedia({ media: 'print' });
        expect(await page.locator('#filters').isVisible()).toBe(false);
        expect(await shownFindings(page)).toEqual({ articles: 2, rows: 2 });
        const verdict = page.locator('.verdict');
        expect(await verdict.isVisible()).toBe(true);
        expect(await verdict.innerText()).toContain('11 findings to act on (5 critical, 4 high, 1 medium, 1 low)');

        const counts = page.locator('[data-print-filter="counts"]');
        const list = page.locator('[data-print-filter="list"]');
        expect(await counts.isVisible()).toBe(true);
        expect(await list.isVisible()).toBe(true);
        expect(await counts.innerText()).toBe(
          'Filtered copy: these counts cover all 13 findings; the findings listed below show 2 of them (Severity: critical; Owner: Identity Engineering Lead (Identity)).',
        );
        expect(await list.innerText()).toBe('Filtered: showing 2 of 13 findings (Severity: critical; Owner: Identity Engineering Lead (Identity)). The counts at the top cover all 13.');
        // The first note stands with the counts, above the owner table; the second above the lists.
        const y = async (selector: string): Promise<number> => (await page.locator(selector).first().boundingBox())!.y;
        expect(await y('[data-print-filter="counts"]')).toBeGreaterThan(await y('.cards'));
        expect(await y('[data-print-filter="counts"]')).toBeLessThan(await y('table.owners'));
        expect(await y('[data-print-filter="list"]')).toBeLessThan(await y('#by-owner'));
        expect(await y('[data-print-filter="list"]')).toBeGreaterThan(await y('table.owners'));

        // Paper does not scroll: the page and both tables fit its width.
        expect(await fits(page)).toEqual({ page: A4.width, wraps: [true, true] });
        const pdf = await page.pdf({ format: 'A4', printBackground: true });
        expect(pdf.byteLength).toBeGreaterThan(10_000);

        // Without a filter, paper shows everything and no note.
        await page.emulateMedia({ media: 'screen' });
        await page.getByRole('button', { name: 'Clear filters' }).click();
        await expect.poll(() => page.locator('#filter-count').innerText()).toBe('Showing 13 of 13 findings');
        await page.emulateMedia({ media: 'print' });
        for (const n of await notes.all()) expect(await n.isVisible()).toBe(false);
        expect(await shownFindings(page)).toEqual({ articles: 13, rows: 13 });

        // A status filter is named by its label as well.
        await page.emulateMedia({ media: 'screen' });
        await page.getByLabel('Status', { exact: true }).selectOption('actionable');
        await page.emulateMedia({ media: 'print' });
        expect(await list.innerText()).toBe('Filtered: showing 11 of 13 findings (Status: To act on). The counts at the top cover all 13.');
        expect(requests).toEqual([]);
        expect(problems).toEqual([]);
      } finally {
        await context.close();
      }
    });

    it('prints everything, and no note, without JavaScript', async () => {
      const { context, page, problems } = await open('print-nojs.html', renderHtml(driftedPlan()), A4, false);
      try {
        await page.emulateMedia({ media: 'print' });
        expect(await shownFindings(page)).toEqual({ articles: 13, rows: 13 });
        for (const n of await page.locator('[data-print-filter]').all()) expect(await n.isVisible()).toBe(false);
        expect(await fits(page)).toEqual({ page: A4.width, wraps: [true, true] });
        expect(problems).toEqual([]);
      } finally {
        await context.close();
      }
    });

    it('writes an owner’s name in the note as text', async () => {
      const hostile = { name: `${HOSTILE_NAME} <b>x</b>`, team: 'Red & <Team>', contact: 'evil@tailspintoys.example' };
      const findings = driftedFindings().map((f, i) => (i === 0 ? { ...f, owner: hostile } : f));
      const { context, page, problems } = await open('print-hostile.html', renderHtml(makePlan(findings)), A4);
      try {
        await page.getByLabel('Owner', { exact: true }).selectOption('evil@tailspintoys.example');
        await page.emulateMedia({ media: 'print' });
        expect(await page.locator('[data-print-filter="list"]').innerText()).toBe(
          `Filtered: showing 1 of 13 findings (Owner: ${HOSTILE_NAME} <b>x</b> (Red & <Team>)). The counts at the top cover all 13.`,
        );
        expect(await page.locator('img, b').count()).toBe(0);
        expect(problems).toEqual([]);
      } finally {
        await context.close();
      }
    });
  });
});
