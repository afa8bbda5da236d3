import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { renderHtml } from '../../reconciler/report/html.js';
import { cleanPlan, driftedFindings, driftedPlan, HOSTILE_NAME, INCOMPLETE_READ, makePlan } from './fixtures.js';

/** Every attribute of every real tag: escaped text such as `&lt;img src=x&gt;` is not a tag. */
function attributes(html: string): { tag: string; name: string; value: string }[] {
  const out: { tag: string; name: string; value: string }[] = [];
  for (const tag of html.matchAll(/<([a-zA-Z][a-zA-Z0-9-]*)((?:\s+[^\s=>/]+(?:\s*=\s*(?:"[^"]*"|'[^']*'|[^\s>]+))?)*)\s*\/?>/g)) {
    for (const a of tag[2]!.matchAll(/([^\s=>/]+)(?:\s*=\s*("[^"]*"|'[^']*'|[^\s>]+))?/g)) {
      out.push({ tag: tag[1]!.toLowerCase(), name: a[1]!.toLowerCase(), value: (a[2] ?? '').replace(/^["']|["']$/g, '') });
    }
  }
  return out;
}

describe('renderHtml', () => {
  const html = renderHtml(driftedPlan());

  it('is one HTML document with its style inline', () => {
    expect(html.startsWith('<!doctype html>\n<html lang="en">')).toBe(true);
    expect(html.trimEnd().endsWith('</html>')).toBe(true);
    expect(html).toContain('<meta charset="utf-8">');
    expect(html.match(/<style>/g)).toHaveLength(1);
    expect(html).not.toMatch(/<link\b/i);
  });

  it('loads nothing from anywhere: no URLs, no imports, no web fonts', () => {
    expect(html).not.toMatch(/https?:\/\//i);
    expect(html).not.toMatch(/@import|@font-face|url\s*\(/i);
    const attrs = attributes(html);
    expect(attrs.length).toBeGreaterThan(100);
    expect(attrs.filter((a) => a.name === 'src' || a.name === 'srcset' || a.name === 'action' || a.name === 'formaction')).toEqual([]);
    const hrefs = attrs.filter((a) => a.name === 'href');
    expect(hrefs.length).toBeGreaterThan(0);
    for (const a of hrefs) expect(a.value).toMatch(/^#[A-Za-z0-9_-]+$/);
    expect(attrs.filter((a) => a.name.startsWith('on'))).toEqual([]);
    expect(attrs.filter((a) => a.name === 'style')).toEqual([]);
  });

  it('forbids loading anything by Content-Security-Policy, allowing only its own style and script', () => {
    const csp = /<meta http-equiv="Content-Security-Policy" content="([^"]+)">/.exec(html)![1]!.replace(/&apos;/g, "'");
    expect(csp).toContain("default-src 'none'");
    const style = /<style>([\s\S]*?)<\/style>/.exec(html)![1]!;
    const script = /<script>([\s\S]*?)<\/script>/.exec(html)![1]!;
    const hash = (s: string): string => `'sha256-${createHash('sha256').update(s).digest('base64')}'`;
    expect(csp).toContain(`style-src ${hash(style)}`);
    expect(csp).toContain(`script-src ${hash(script)}`);
    expect(html.match(/<script\b/g)).toHaveLength(1);
  });

  it('escapes tenant-supplied strings everywhere', () => {
    expect(html).not.toContain('<img');
    expect(html).not.toContain(HOSTILE_NAME);
    expect(html).toContain('&lt;img src=x onerror=alert(1)&gt; | pipe `tick`');
    expect(html).toContain('Copy &quot;legal&quot; &lt;archive&gt; &amp; &apos;audit&apos;');
    const hostileOwner = { name: `"><script>alert(2)</script>`, team: `' onmouseover='x`, contact: `a"b@tailspintoys.example` };
    const out = renderHtml(makePlan(driftedFindings().map((f) => ({ ...f, owner: hostileOwner }))));
    expect(out.match(/<script\b/g)).toHaveLength(1);
    expect(out).toContain('data-owner="a&quot;b@tailspintoys.example"');
    expect(attributes(out).filter((a) => a.name.startsWith('on'))).toEqual([]);
  });

  it('shows counts by severity and by owner at the top', () => {
    const top = html.slice(0, html.indexOf('id="by-owner"'));
    expect(top).toContain('<li class="card c-critical"><span class="n">5</span><span class="l">critical</span></li>');
    expect(top).toContain('<li class="card c-medium"><span class="n">1</span><span class="l">medium</span></li>');
    expect(top).toContain('<li class="card c-excepted"><span class="n">1</span><span class="l">excepted</span></li>');
    for (const owner of ['Identity Engineering Lead', 'Mail Platform Lead', 'Security Operations Manager']) expect(top).toContain(`<span class="who">${owner}</span>`);
    expect(top).toContain('11 findings to act on (5 critical, 4 high, 1 medium, 1 low), 1 excepted, 1 not evaluated');
  });

  it('details every finding by owner and again by control', () => {
    const byOwner = html.slice(html.indexOf('id="by-owner"'), html.indexOf('id="by-control"'));
    const byControl = html.slice(html.indexOf('id="by-control"'));
    expect(byOwner.match(/<article /g)).toHaveLength(13);
    expect(byControl.match(/<tr data-finding /g)).toHaveLength(13);
    expect(byOwner).toContain('<span class="op-replace">~ /state: &quot;enabledForReportingButNotEnforced&quot; → &quot;enabled&quot;</span>');
    expect(byOwner).toContain('v=DMARC1; p=reject; sp=reject; pct=100;');
    expect(byOwner).toContain('approved by ciso@tailspintoys.example · expires 2025-08-31 · ticket RISK-2291');
    expect(byOwner).toContain('permission-missing (needs MailboxSettings.Read)');
    expect(byOwner).toContain('<code>DNS TXT _dmarc.tailspintoys.example</code> <span class="sub">read 2025-06-02T02:00:14.512Z</span>');
    for (const id of new Set(driftedFindings().map((f) => f.control.versionedId))) expect(byControl).toContain(`<code>${id}</code>`);
  });

  it('shows an INCOMPLETE banner only when reads failed', () => {
    expect(html).toContain('INCOMPLETE: the following could not be read');
    expect(html).toContain(`<strong>${INCOMPLETE_READ.what}</strong>`);
    expect(renderHtml(makePlan(driftedFindings()))).not.toContain('INCOMPLETE');
  });

  it('says "No changes" for a clean tenant', () => {
    const clean = renderHtml(cleanPlan());
    expect(clean).toContain('No changes. The tenant matches the posture.');
    expect(clean).not.toContain('<article');
    expect(clean).not.toContain('id="filters"');
  });
});
