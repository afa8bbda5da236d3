import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { renderHtml } from '../../reconciler/report/html.js';
import { controlResult, hostilePlan, PASSED, planWithControls, UNJUDGED } from './controls-fixtures.js';
import { cleanPlan, driftedPlan, mailPlatform, makePlan } from './fixtures.js';

/** The page's one script, as the browser would run it. */
const scriptOf = (html: string): string => {
  const m = /<script>([\s\S]*?)<\/script>/.exec(html);
  if (!m) throw new Error('no script');
  return m[1]!;
};

/** The rows of the controls table, by control id: its result attribute and its text without tags. */
function controlRows(html: string): Map<string, { result: string; text: string }> {
  const rows = new Map<string, { result: string; text: string }>();
  for (const m of html.matchAll(/<tr data-control-result="([^"]+)"[^>]*data-control="([^"]+)"[^>]*>([\s\S]*?)<\/tr>/g)) {
    rows.set(m[2]!, { result: m[1]!, text: m[3]!.replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ') });
  }
  return rows;
}

describe('renderHtml: controls, search and CSV', () => {
  const plan = hostilePlan();
  const html = renderHtml(plan);

  it('lists every control once with its result, and calls passed only those the plan says passed', () => {
    const rows = controlRows(html);
    expect([...rows.keys()]).toEqual(plan.controls!.map((c) => c.control.versionedId));
    for (const c of plan.controls!) expect(rows.get(c.control.versionedId)!.result).toBe(c.result);
    expect([...rows.values()].filter((r) => r.result === 'passed')).toHaveLength(PASSED.length);
    const unjudged = rows.get(`${UNJUDGED[0]}v1`)!;
    expect(unjudged.text).toContain('not evaluated');
    expect(unjudged.text).toContain(`Not evaluated: ${UNJUDGED[1]}`);
    expect(unjudged.text).not.toMatch(/\bpassed\b/);
  });

  it('a clean run passes its controls; not evaluated is never in the passed count', () => {
    const clean = { ...cleanPlan(), controls: [controlResult('MAIL.SPF.1', 'passed', mailPlatform), controlResult('MAIL.DKIM.1', 'not-evaluated', mailPlatform, { notEvaluated: 'Get-DkimSigningConfig failed' })] };
    const page = renderHtml(clean);
    expect(page).toContain('<a href="#controls">Controls</a>: 1 of 2 passed · 0 failed · 1 not evaluated</p>');
    expect(page).toContain('id="filters"');
    expect(controlRows(page).get('MAIL.DKIM.1v1')!.result).toBe('not-evaluated');
  });

  it('says when the plan does not record its controls, instead of guessing', () => {
    for (const p of [driftedPlan(), makePlan([])]) {
      const page = renderHtml(p);
      expect(page).toContain('id="controls-absent"');
      expect(page).not.toContain('<tr data-control-result');
      expect(page).not.toContain('value="passed"');
    }
    expect(renderHtml({ ...makePlan([]), rollbackOf: 'run-1' })).not.toContain('controls-absent');
  });

  it('runs only its own script, allowed by its hash, which builds no markup from text', () => {
    const script = scriptOf(html);
    const csp = /<meta http-equiv="Content-Security-Policy" content="([^"]+)">/.exec(html)![1]!.replace(/&apos;/g, "'");
    expect(csp).toContain(`script-src 'sha256-${createHash('sha256').update(script, 'utf8').digest('base64')}'`);
    expect(csp).toContain("default-src 'none'");
    expect(html.match(/<script\b/g)).toHaveLength(1);
    expect(script).not.toMatch(/innerHTML|outerHTML|insertAdjacentHTML|document\.write|eval\(|new Function|setAttribute\(\s*['"]on/);
    // The CSV is a Blob saved by the browser: nothing is sent anywhere.
    expect(script).not.toMatch(/fetch\(|XMLHttpRequest|sendBeacon|WebSocket|window\.open|location\s*=/);
  });

  it('keeps hostile names inside their attributes and text: no tag, attribute or script comes from them', () => {
    expect(html).not.toContain('<img');
    expect(html).not.toContain('</script><script>');
    expect(html).toContain('&lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;');
    // Every data-search and data-csv value is one attribute: no raw quote or angle bracket in it.
    for (const m of html.matchAll(/data-(?:search|csv)="([^"]*)"/g)) expect(m[1]).not.toMatch(/[<>]/);
    // A CR in a name survives as a character reference, which the parser keeps as CR in the CSV.
    expect(html).toContain('two&#13;\nlines');
    expect(html).not.toMatch(/[\u202A-\u202E\u2066-\u2069]/);
  });

  it('offers the passed status and the owners of controls without findings', () => {
    const p = planWithControls([]);
    const page = renderHtml({ ...p, controls: [...p.controls!, controlResult('ID.AUTH.3', 'passed', { name: 'Auth Owner', team: 'IAM', contact: 'Auth@Contoso.example' })] });
    expect(page).toContain('<option value="passed">Passed (controls)</option>');
    expect(page).toContain('<option value="auth@contoso.example">Auth Owner (IAM)</option>');
    expect(page).toContain('data-owner="auth@contoso.example"');
  });
});
