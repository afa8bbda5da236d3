import { micromark } from 'micromark';
import { gfm, gfmHtml } from 'micromark-extension-gfm';
import { describe, expect, it } from 'vitest';
import type { Finding } from '../../reconciler/model/finding.js';
import { escapeMarkdown, GITHUB_COMMENT_LIMIT, renderMarkdown } from '../../reconciler/report/markdown.js';
import { cleanPlan, driftedFindings, driftedPlan, HOSTILE_NAME, hugePlan, INCOMPLETE_READ, makePlan } from './fixtures.js';

/** The HTML GitHub would make of the comment before sanitising: raw HTML passes through. */
const toHtml = (md: string): string => micromark(md, { allowDangerousHtml: true, extensions: [gfm()], htmlExtensions: [gfmHtml()] });

const count = (text: string, needle: string): number => text.split(needle).length - 1;

describe('renderMarkdown', () => {
  const md = renderMarkdown(driftedPlan());
  const html = toHtml(md);

  it('opens with a headline of counts and the plan line', () => {
    expect(md.startsWith('## email-posture plan: Tailspin Toys (stack `tailspin`)\n')).toBe(true);
    expect(md).toContain('**11 findings to act on** (5 critical · 4 high · 1 medium · 1 low) · 1 excepted · 1 not evaluated');
    expect(md).toContain('Plan: 1 to create, 6 to update, 1 to delete.');
  });

  it('has a table by owner and severity', () => {
    const table = html.slice(html.indexOf('<table>'), html.indexOf('</table>'));
    expect(table).toContain('<th>Owner</th>');
    const rows = [...table.matchAll(/<tr>([\s\S]*?)<\/tr>/g)].map((m) => [...m[1]!.matchAll(/<td[^>]*>([\s\S]*?)<\/td>/g)].map((c) => c[1]));
    const body = rows.filter((r) => r.length > 0);
    expect(body).toEqual([
      ['Identity Engineering Lead', 'Identity', '2', '1', '0', '0', '0', '0'],
      ['Mail Platform Lead', 'Messaging', '1', '3', '0', '1', '1', '0'],
      ['Security Operations Manager', 'SecOps', '2', '0', '1', '0', '0', '1'],
    ]);
  });

  it('puts each owner’s findings in a <details> of their own', () => {
    expect(count(md, '<details><summary>')).toBe(3);
    expect(count(md, '</details>')).toBe(3);
    const sections = md.split('<details><summary>').slice(1);
    expect(sections[0]).toMatch(/^<strong>Identity Engineering Lead<\/strong> \(Identity, identity-team@tailspintoys\.example\)/);
    expect(sections[0]).toContain('EP: Sign-in risk requires MFA');
    expect(sections[1]).toMatch(/^<strong>Mail Platform Lead<\/strong>/);
    expect(sections[1]).toContain('**MAIL.DMARC.2v1**');
    expect(sections[1]).toContain('v=DMARC1; p=reject; sp=reject; pct=100');
    expect(sections[1]).toContain('**Excepted:** MAIL.FWD.3v1/user/payroll@tailspintoys.example approved by ciso@tailspintoys.example');
    expect(sections[2]).toMatch(/^<strong>Security Operations Manager<\/strong>/);
    expect(sections[2]).toContain('**Not evaluated:** permission-missing (needs MailboxSettings.Read)');
    expect(md).toContain('```diff\n~ /state: "enabledForReportingButNotEnforced" → "enabled"\n~ /conditions/signInRiskLevels: ["high"] → ["medium","high"]\n```');
    // GitHub renders the details blocks as such.
    expect(count(html, '<details>')).toBe(3);
  });

  it('shows a hostile display name as text, in a table, a summary and a heading', () => {
    const hostileOwner = { name: HOSTILE_NAME, team: 'Red | Team', contact: 'x@tailspintoys.example' };
    const findings: Finding[] = driftedFindings().map((f) => (f.owner.team === 'SecOps' ? { ...f, owner: hostileOwner } : f));
    const hostileMd = renderMarkdown(makePlan(findings));
    const hostileHtml = toHtml(hostileMd);

    expect(hostileHtml).not.toMatch(/<img/i);
    expect(hostileHtml).not.toContain('onerror=alert(1)>');
    expect(hostileHtml).toContain('&lt;img src=x onerror=alert(1)&gt;');
    // The pipe stays inside its cell: every row of the table still has eight cells.
    const table = hostileHtml.slice(hostileHtml.indexOf('<table>'), hostileHtml.indexOf('</table>'));
    const rows = [...table.matchAll(/<tr>([\s\S]*?)<\/tr>/g)].slice(1);
    expect(rows).toHaveLength(3);
    for (const row of rows) expect(count(row[1]!, '<td')).toBe(8);
    expect(table).toContain('&lt;img src=x onerror=alert(1)&gt; | pipe `tick`</td>');
    // Backticks do not open code spans, and the heading keeps the whole name.
    expect(hostileHtml).not.toContain('<code>tick</code>');
    expect(hostileHtml).toContain('inboxRule “&lt;img src=x onerror=alert(1)&gt; | pipe `tick`”');
  });

  it('escapes Markdown and HTML metacharacters and defuses mentions', () => {
    expect(escapeMarkdown('a|b')).toBe('a\\|b');
    expect(escapeMarkdown('<b>x</b>')).toBe('&lt;b&gt;x&lt;/b&gt;');
    expect(escapeMarkdown('[click](javascript:x)')).toBe('\\[click\\](javascript:x)');
    expect(toHtml(escapeMarkdown('[click](javascript:x)'))).toBe('<p>[click](javascript:x)</p>');
    for (const start of ['- item', '+ item', '1. one', '2) two', '# title', '===', '---']) {
      expect(toHtml(`para\n\n${escapeMarkdown(start)}`), start).toBe(`<p>para</p>\n<p>${start}</p>`);
    }
    expect(toHtml(escapeMarkdown('costs $x$ and ~~gone~~'))).toBe('<p>costs $x$ and ~~gone~~</p>');
    expect(escapeMarkdown('line\nbreak')).toBe('line break');
    expect(toHtml(escapeMarkdown('ping @octocat please'))).not.toContain('@octocat');
    expect(toHtml(escapeMarkdown('*bold* _em_ `code`'))).toBe('<p>*bold* _em_ `code`</p>');
  });

  it('keeps a fenced block closed whatever backticks the remediation holds', () => {
    const f = { ...driftedFindings()[0]!, remediation: 'run:\n```\n<script>alert(1)</script>' };
    const out = toHtml(renderMarkdown(makePlan([f])));
    expect(out).not.toContain('<script>');
    expect(out).toContain('<pre><code>run:\n```\n&lt;script&gt;alert(1)&lt;/script&gt;\n</code></pre>');
  });

  it('warns loudly about failed reads', () => {
    expect(md).toContain('> [!CAUTION]\n> **INCOMPLETE:** the following could not be read; this run cannot report "no drift":');
    expect(md).toContain('inbox rules of 3 mailboxes');
    expect(renderMarkdown(makePlan(driftedFindings()))).not.toContain('INCOMPLETE');
    expect(renderMarkdown(makePlan([], [INCOMPLETE_READ]))).not.toContain('No changes');
  });

  it('says "No changes" for a clean tenant', () => {
    const clean = renderMarkdown(cleanPlan());
    expect(clean).toContain('**No changes.** The tenant matches the posture.');
    expect(clean).not.toContain('<details>');
  });

  it('fits GitHub’s comment limit with 5,000 findings, keeping the summary and saying what was cut', () => {
    const huge = renderMarkdown(hugePlan(5000));
    expect(huge.length).toBeLessThanOrEqual(GITHUB_COMMENT_LIMIT);
    expect(huge.length).toBeGreaterThan(GITHUB_COMMENT_LIMIT - 5000);
    // The example workflow posts it whole, after its marker line: that fits too.
    expect(`<!-- email-posture:plan -->\n${huge}`.length).toBeLessThanOrEqual(GITHUB_COMMENT_LIMIT);
    expect(huge).toContain('**5000 findings to act on** (5000 critical · 0 high · 0 medium · 0 low)');
    expect(huge).toContain('| Mail Platform Lead | Messaging | 1667 |');
    const note = /\*\*Truncated:\*\* (\d+) of 5000 findings are shown in detail/.exec(huge);
    expect(note).not.toBeNull();
    const shown = Number(note![1]);
    expect(shown).toBeGreaterThan(10);
    expect(shown).toBeLessThan(5000);
    expect(count(huge, '\n#### ')).toBe(shown);
    expect(count(huge, '<details>')).toBe(count(huge, '</details>'));
    expect(renderMarkdown(driftedPlan())).not.toContain('Truncated');
  });

  it('truncates to a smaller limit when asked', () => {
    const small = renderMarkdown(driftedPlan(), { maxLength: 4000 });
    expect(small.length).toBeLessThanOrEqual(4000);
    expect(small).toContain('**Truncated:**');
    expect(small).toContain('| Security Operations Manager | SecOps |');
  });
});
