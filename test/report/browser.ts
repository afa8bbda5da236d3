import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

/**
 * Opens HTML reports in headless Chromium, as a person would open a file: the browser tests of the
 * posture report and of the response report share it.
 */

/** Debian's Chromium, driven by playwright-core. */
export const CHROMIUM = '/usr/bin/chromium';

const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** What to do when the browser is not there. */
export const MISSING_CHROMIUM =
  `The HTML report is checked in a real browser, but ${CHROMIUM} does not exist. ` +
  'Install Debian’s Chromium (as root): apt-get update && apt-get install -y chromium';

/** A report open in its own browser context. */
export interface Opened {
  readonly context: BrowserContext;
  readonly page: Page;
  /** Every request the page made besides loading the report itself. */
  readonly requests: string[];
  /** Console errors and warnings, page errors and dialogs: none may happen. */
  readonly problems: string[];
}

/** A running browser and the folder the reports are written to. */
export interface ReportBrowser {
  /** Writes `html` to a file called `name` and opens it with JavaScript on or off, 1280 px wide unless told. */
  open(name: string, html: string, javaScriptEnabled: boolean, viewport?: { width: number; height: number }): Promise<Opened>;
  /** Closes the browser and removes the folder. */
  close(): Promise<void>;
}

/** Starts Chromium; the reports go to a new temporary folder whose name begins with `prefix`. */
export async function launchReportBrowser(prefix: string): Promise<ReportBrowser> {
  const browser: Browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return {
    async open(name, html, javaScriptEnabled, viewport = { width: 1280, height: 900 }) {
      const file = join(dir, name);
      writeFileSync(file, html);
      const url = pathToFileURL(file).href;
      const context = await browser.newContext({ javaScriptEnabled, viewport });
      const page = await context.newPage();
      const requests: string[] = [];
      const problems: string[] = [];
      page.on('request', (r) => {
        if (r.url() !== url) requests.push(r.url());
      });
      page.on('console', (m) => {
        if (m.type() === 'error' || m.type() === 'warning') problems.push(`console ${m.type()}: ${m.text()}`);
      });
      page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
      page.on('dialog', (d) => {
        problems.push(`dialog: ${d.message()}`);
        void d.dismiss();
      });
      await page.goto(url, { waitUntil: 'load' });
      return { context, page, requests, problems };
    },
    async close() {
      await browser.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
