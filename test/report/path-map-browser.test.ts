import { existsSync } from 'node:fs';
import type { Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderHtml } from '../../reconciler/report/html.js';
import { CHROMIUM, launchReportBrowser, MISSING_CHROMIUM, type Opened, type ReportBrowser } from './browser.js';
import { HOSTILE_CONNECTOR_SHOWN, planWithPaths, tailspinPathMap } from './path-map-fixtures.js';

const GATEWAY = 'fabrikam.example/gateway:mx1.gateway.example';
const EOP = 'tailspintoys.example/eop';
const PARTNER = '*/partner:Contoso partner';

const LAPTOP = { width: 1280, height: 900 };
const PHONE = { width: 390, height: 844 };

/** The few browser globals the page functions below use (the project compiles without the DOM library). */
interface PageElement {
  readonly scrollWidth: number;
  readonly clientWidth: number;
  readonly className: string;
  readonly textContent: string | null;
}
declare const document: { getElementById(id: string): PageElement | null; querySelectorAll(selectors: string): Iterable<PageElement> };
declare function getComputedStyle(element: unknown, pseudo?: string): { getPropertyValue(property: string): string };

/** A computed style of the element a locator finds. */
const style = (l: Locator, property: string, pseudo?: string): Promise<string> =>
  l.evaluate((el, [p, ps]) => getComputedStyle(el, ps).getPropertyValue(p!), [property, pseudo] as const);

let reports: ReportBrowser | undefined;
const html = renderHtml(planWithPaths(tailspinPathMap()));

async function open(name: string, viewport: { width: number; height: number }, javaScriptEnabled = true): Promise<Opened> {
  if (!reports) throw new Error(MISSING_CHROMIUM);
  return reports.open(name, html, javaScriptEnabled, viewport);
}

const path = (page: Page, key: string): Locator => page.locator(`article[data-path="${key}"]`);

/** How far the section and each path drawing are wider than they show (0 when nothing overflows). */
async function overflow(page: Page): Promise<{ section: number; paths: number[]; flows: number[]; boxes: string[] }> {
  return page.evaluate(() => {
    const over = (el: PageElement): number => el.scrollWidth - el.clientWidth;
    const all = (selector: string): PageElement[] => Array.from(document.querySelectorAll(selector));
    return {
      section: over(document.getElementById('inbound-paths')!),
      paths: all('#inbound-paths article').map(over),
      flows: all('#inbound-paths .pm-flow').map(over),
      // Nothing sticks out of its box either: a badge, a name, a chip.
      boxes: all('#inbound-paths .pm-step, #inbound-paths .pm-step *, #inbound-paths .pm-owners, #inbound-paths .pm-exception, #inbound-paths .pm-observed')
        .filter((el) => over(el) > 0)
        .map((el) => `${el.className}: ${(el.textContent ?? '').slice(0, 40)}`),
    };
  });
}

const NO_OVERFLOW = { section: 0, paths: [0, 0, 0], flows: [0, 0, 0], boxes: [] };

/** The boxes of a path's flow, in order, as laid out. */
async function steps(page: Page, key: string): Promise<Array<{ x: number; y: number; width: number; height: number }>> {
  const boxes = [];
  for (const step of await path(page, key).locator('.pm-step').all()) boxes.push((await step.boundingBox())!);
  return boxes;
}

describe('the inbound path map in a browser', () => {
  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) throw new Error(MISSING_CHROMIUM);
    reports = await launchReportBrowser('email-posture-paths-');
  });

  afterAll(async () => {
    await reports?.close();
  });

  it('shows the section on a laptop, each path as one row of boxes, the gateway’s failures short in the inbox', async () => {
    const { context, page, requests, problems } = await open('paths-laptop.html', LAPTOP);
    try {
      const section = page.getByRole('region', { name: 'Inbound paths' });
      expect(await section.isVisible()).toBe(true);
      expect(await section.locator('article').count()).toBe(3);
      const top = await section.locator('.pm-evidence').innerText();
      expect(top).toContain('1342 inbound messages failed authentication; 17 unattributed');

      // A row: Internet, entry, connector, bypasses, EOP and outcomes side by side, left to right.
      for (const key of [EOP, GATEWAY, PARTNER]) {
        const boxes = await steps(page, key);
        expect(boxes).toHaveLength(6);
        for (let i = 1; i < boxes.length; i++) {
          expect(boxes[i]!.x, `${key} step ${i}`).toBeGreaterThan(boxes[i - 1]!.x + boxes[i - 1]!.width);
          expect(Math.abs(boxes[i]!.y - boxes[0]!.y), `${key} step ${i}`).toBeLessThan(1);
        }
      }

      // The gateway path: enhanced filtering off drawn as a break, every chip inbox and short, in red, with what is required.
      const gw = path(page, GATEWAY);
      expect(await gw.locator('.pm-connector .pm-badge').innerText()).toBe('ENHANCED FILTERING: OFF'.toLowerCase());
      expect(await style(gw.locator('.pm-connector'), 'border-top-style')).toBe('dashed');
      const chips = gw.locator('.pm-chip');
      expect(await chips.count()).toBe(4);
      for (const chip of await chips.all()) {
        expect(await chip.isVisible()).toBe(true);
        expect(await chip.getAttribute('data-outcome')).toBe('inbox');
        expect(await chip.getAttribute('class')).toContain('short');
        expect(await style(chip.locator('.pm-out'), 'color')).toBe('rgb(180, 35, 24)');
        expect(await chip.locator('.pm-req').innerText()).toMatch(/^short: requires (reject|quarantine|junk)$/);
      }
      expect(await gw.locator('.pm-hosts').innerText()).toBe('mx1.gateway.example\nmx2.gateway.example');
      expect(await gw.locator('.pm-despite').innerText()).toBe('125 delivered despite failure');
      // Each reason is on the page, not only in a tooltip.
      expect(await gw.locator('.pm-why li').first().isVisible()).toBe(true);
      expect(await gw.locator('.pm-why li').first().innerText()).toContain('judges the gateway, not the sender');

      // The EOP path rejects and meets the posture: no chip short.
      const eop = path(page, EOP);
      expect(await eop.locator('.pm-chip[data-kind="dmarc-reject"]').getAttribute('data-outcome')).toBe('reject');
      expect(await eop.locator('.pm-chip.short').count()).toBe(0);
      expect(await style(eop.locator('.pm-chip[data-kind="dmarc-reject"] .pm-out'), 'color')).toBe('rgb(6, 118, 71)');

      // The partner path: its policy owner missing, in red; its exception.
      const partner = path(page, PARTNER);
      const unowned = partner.locator('.pm-unowned');
      expect(await unowned.count()).toBe(1);
      expect(await unowned.isVisible()).toBe(true);
      expect(await unowned.innerText()).toBe('unowned');
      expect(await style(unowned, 'color')).toBe('rgb(180, 35, 24)');
      expect(await partner.locator('.pm-owners div', { has: page.locator('.pm-unowned') }).locator('dt').innerText()).toMatch(/policy/i);
      expect(await partner.locator('.pm-exception').innerText()).toContain('EXC-2025-014 · approved by CISO Office · expires 2025-09-30');

      expect(await overflow(page)).toEqual(NO_OVERFLOW);
      expect(requests).toEqual([]);
      expect(problems).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('shows a hostile connector name as text', async () => {
    const { context, page, problems } = await open('paths-hostile.html', LAPTOP, true);
    try {
      const name = path(page, GATEWAY).locator('.pm-connector .pm-name');
      expect(await name.innerText()).toBe(HOSTILE_CONNECTOR_SHOWN);
      expect(await page.locator('#inbound-paths script, #inbound-paths b, #inbound-paths img').count()).toBe(0);
      expect(await page.locator('script').count()).toBe(1);
      expect(await path(page, GATEWAY).locator('.pm-bypass .pm-name').innerText()).toBe('Marketing bypass <b>bold</b>');
      expect(problems).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('stacks each path vertically on a phone, and nothing is wider than the screen', async () => {
    const { context, page, requests, problems } = await open('paths-phone.html', PHONE, false);
    try {
      expect(await page.locator('#inbound-paths').isVisible()).toBe(true);
      for (const key of [EOP, GATEWAY, PARTNER]) {
        const boxes = await steps(page, key);
        for (let i = 1; i < boxes.length; i++) {
          expect(boxes[i]!.y, `${key} step ${i}`).toBeGreaterThan(boxes[i - 1]!.y + boxes[i - 1]!.height);
          expect(Math.abs(boxes[i]!.x - boxes[0]!.x), `${key} step ${i}`).toBeLessThan(1);
        }
      }
      expect(await style(page.locator('#inbound-paths .pm-arrow').first(), 'content', '::before')).toBe('"↓"');
      expect(await overflow(page)).toEqual(NO_OVERFLOW);
      expect(await path(page, GATEWAY).locator('.pm-chip.short').count()).toBe(4);
      expect(requests).toEqual([]);
      expect(problems).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('prints readably: the reasons, owners and exception on paper, nothing wider than the page', async () => {
    const { context, page, problems } = await open('paths-print.html', { width: 794, height: 1123 }, false);
    try {
      await page.emulateMedia({ media: 'print' });
      expect(await overflow(page)).toEqual(NO_OVERFLOW);
      for (const key of [EOP, GATEWAY, PARTNER]) {
        const p = path(page, key);
        expect(await p.locator('.pm-why li').first().isVisible()).toBe(true);
        expect(await p.locator('.pm-owners').isVisible()).toBe(true);
        expect(await style(p, 'break-inside')).toBe('avoid');
      }
      expect(await path(page, PARTNER).locator('.pm-exception').isVisible()).toBe(true);
      const pdf = await page.pdf({ format: 'A4', printBackground: true });
      expect(pdf.byteLength).toBeGreaterThan(10_000);
      expect(problems).toEqual([]);
    } finally {
      await context.close();
    }
  });
});
