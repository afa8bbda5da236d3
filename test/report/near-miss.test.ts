import { micromark } from 'micromark';
import { gfm, gfmHtml } from 'micromark-extension-gfm';
import { describe, expect, it } from 'vitest';
import type { Finding, NearMiss } from '../../reconciler/model/finding.js';
import { renderHuman } from '../../reconciler/report/human.js';
import { renderHtml } from '../../reconciler/report/html.js';
import { renderMarkdown } from '../../reconciler/report/markdown.js';
import { nearMissLines } from '../../reconciler/report/shared.js';
import { driftedFindings, HOSTILE_NAME, makePlan } from './fixtures.js';

/** The HTML GitHub would make of the comment before sanitising: raw HTML passes through. */
const toHtml = (md: string): string => micromark(md, { allowDangerousHtml: true, extensions: [gfm()], htmlExtensions: [gfmHtml()] });

const nearMiss: NearMiss = {
  basis: 'closest',
  policy: { id: 'p-1', displayName: `Pilot ${HOSTILE_NAME}\u001b[31m`, state: 'enabledForReportingButNotEnforced' },
  reasons: [
    { code: 'report-only', field: '/state', text: 'it is report-only (enabledForReportingButNotEnforced), not enforced' },
    { code: 'excludes-group', field: '/conditions/users/excludeGroups', text: `it excludes group "${HOSTILE_NAME}"`, principal: { type: 'group', id: 'g-1', name: HOSTILE_NAME } },
  ],
  score: 2,
  compared: 4,
};

/** The drifted fixtures, the missing privileged-tier policy given a near miss. */
function withNearMiss(n: unknown = nearMiss): Finding[] {
  return driftedFindings().map((f) => (f.status === 'missing' && f.resource.type === 'conditionalAccessPolicy' ? { ...f, evidence: { ...f.evidence, nearMiss: n as NearMiss } } : f));
}

describe('a near miss in the reports', () => {
  it('one heading naming the policy, one line per reason', () => {
    const f = withNearMiss().find((x) => x.evidence.nearMiss)!;
    expect(nearMissLines(f)).toEqual({
      heading: `closest live policy "Pilot ${HOSTILE_NAME}\u001b[31m" (p-1), 2 reasons, of 4 compared`,
      reasons: ['report-only: it is report-only (enabledForReportingButNotEnforced), not enforced', `excludes-group: it excludes group "${HOSTILE_NAME}"`],
    });
    expect(nearMissLines({ ...f, evidence: { ...f.evidence, nearMiss: { ...nearMiss, basis: 'same-name', compared: 1 } } })!.heading).toBe(`policy "Pilot ${HOSTILE_NAME}\u001b[31m" (p-1)`);
  });

  it('the terminal shows it, control characters neutralised', () => {
    const out = renderHuman(makePlan(withNearMiss()), { color: false });
    expect(out).toContain('near miss: closest live policy "Pilot');
    expect(out).toContain('  - report-only: it is report-only (enabledForReportingButNotEnforced), not enforced');
    expect(out).toContain(`  - excludes-group: it excludes group "${HOSTILE_NAME}"`);
    expect(out).not.toContain('\u001b[31m');
  });

  it('Markdown and HTML show it, tenant text escaped', () => {
    const md = renderMarkdown(makePlan(withNearMiss()));
    expect(md).toContain('**Near miss:** closest live policy');
    expect(md).toMatch(/^- report-only: it is report-only/m);
    expect(toHtml(md)).not.toMatch(/<img/i);
    const html = renderHtml(makePlan(withNearMiss()));
    expect(html).toContain('<dt>Near miss</dt>');
    expect(html).toContain('<li>report-only: it is report-only (enabledForReportingButNotEnforced), not enforced</li>');
    expect(html).not.toContain('<img src=x');
  });

  it('a malformed near miss from an edited plan file renders as text, or not at all', () => {
    const f = withNearMiss({ policy: { id: 7, displayName: null }, reasons: 'x' }).find((x) => x.evidence.nearMiss)!;
    expect(nearMissLines(f)).toEqual({ heading: 'policy "null" (7)', reasons: [] });
    expect(nearMissLines({ ...f, evidence: { ...f.evidence, nearMiss: 'nonsense' as unknown as NearMiss } })).toBeUndefined();
    expect(() => renderHuman(makePlan(withNearMiss({ reasons: [null] })), { color: false })).not.toThrow();
  });
});
