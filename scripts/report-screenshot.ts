/**
 * Screenshot of the HTML report for the README: the top of the page (the counts by severity and by
 * owner, the filters) and the start of the findings, at a desktop width, as docs/report.png.
 *
 * Run: npm run docs:screenshot (runs the demo into a temporary folder, then this script), or
 *      node --import tsx scripts/report-screenshot.ts [report.html] [out.png]
 * Defaults: demo-output/report.html (what `npm run demo` writes) and docs/report.png, both in the
 * repository. Needs Debian's Chromium at /usr/bin/chromium (bash test/setup/ensure-chromium.sh).
 */
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';

const CHROMIUM = '/usr/bin/chromium';
const WIDTH = 1280;
/** The shot ends below the first finding, within these bounds (CSS pixels). */
const MIN_HEIGHT = 900;
const MAX_HEIGHT = 1600;
/** Below the first finding: enough to show that more follow. */
const MARGIN = 48;
/** Larger than this and the README's image gets heavy. */
const MAX_BYTES = 400_000;

const root = fileURLToPath(new URL('../', import.meta.url));
const [reportArg, outArg] = process.argv.slice(2);
const report = reportArg ? resolve(reportArg) : resolve(root, 'demo-output', 'report.html');
const out = outArg ? resolve(outArg) : resolve(root, 'docs', 'report.png');
const shown = (p: string) => relative(process.cwd(), p) || p;

function fail(message: string): never {
  process.stderr.write(`report-screenshot: ${message}\n`);
  process.exit(1);
}

if (!existsSync(report)) fail(`${shown(report)} does not exist: run the demo first (npm run demo), or name a report`);
if (!existsSync(CHROMIUM)) fail(`${CHROMIUM} does not exist: install Debian's Chromium (bash test/setup/ensure-chromium.sh)`);

/** Opens the report, writes the PNG, and returns its height. */
async function screenshot(): Promise<number> {
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  try {
    const context = await browser.newContext({ viewport: { width: WIDTH, height: MIN_HEIGHT }, deviceScaleFactor: 1, colorScheme: 'light', javaScriptEnabled: true });
    const page = await context.newPage();
    const problems: string[] = [];
    page.on('pageerror', (e) => problems.push(e.message));
    await page.goto(pathToFileURL(report).href, { waitUntil: 'load' });
    if (problems.length > 0) throw new Error(`the report has script errors: ${problems.join('; ')}`);

    // Down to the end of the first finding of the first owner, or the page's end for a clean tenant.
    const findings = page.locator('#by-owner article');
    const first = (await findings.count()) > 0 ? await findings.first().boundingBox() : null;
    const pageHeight = await page.evaluate<number>('document.documentElement.scrollHeight');
    const bottom = first ? first.y + first.height + MARGIN : pageHeight;
    const height = Math.round(Math.min(MAX_HEIGHT, Math.max(MIN_HEIGHT, Math.min(bottom, pageHeight))));

    mkdirSync(dirname(out), { recursive: true });
    // fullPage, so that the clip may reach below the viewport.
    await page.screenshot({ path: out, fullPage: true, clip: { x: 0, y: 0, width: WIDTH, height }, animations: 'disabled' });
    await context.close();
    return height;
  } finally {
    await browser.close();
  }
}

const height = await screenshot().catch((err: unknown) => fail(err instanceof Error ? err.message : String(err)));
const bytes = statSync(out).size;
process.stdout.write(`wrote ${shown(out)} (${WIDTH}×${height} px, ${Math.round(bytes / 1024)} KB) from ${shown(report)}\n`);
if (bytes > MAX_BYTES) process.stderr.write(`report-screenshot: ${shown(out)} is ${Math.round(bytes / 1024)} KB, more than ${MAX_BYTES / 1000} KB\n`);
