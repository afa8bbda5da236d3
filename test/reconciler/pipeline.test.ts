import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ANNOTATIONS_SHOWN, pipelineLines, pipelineOf, pipelineWarning, writeJobSummary } from '../../reconciler/cli/pipeline.js';
import { driftedPlan } from '../report/fixtures.js';

describe('pipeline annotations', () => {
  it('detects GitHub Actions and Azure Pipelines, nothing elsewhere', () => {
    expect([pipelineOf({ GITHUB_ACTIONS: 'true' }), pipelineOf({ TF_BUILD: 'True' }), pipelineOf({}), pipelineOf({ GITHUB_ACTIONS: 'false' })]).toEqual(['github', 'azure', undefined, undefined]);
  });

  it('an error annotation per finding to act on (the first ten), one for the rest, one for an incomplete run', () => {
    const plan = driftedPlan();
    const acting = plan.findings.filter((f) => ['drift', 'missing', 'unmanaged', 'violation', 'exception-expired'].includes(f.status)).length;
    const gh = pipelineLines('github', plan);
    expect(gh.filter((l) => l.startsWith('::error title=MAIL.') || l.startsWith('::error title=ID.') || l.startsWith('::error title=APP.') || l.startsWith('::error title=GOV.'))).toHaveLength(Math.min(acting, ANNOTATIONS_SHOWN));
    if (acting > ANNOTATIONS_SHOWN) expect(gh).toContain(`::error::${acting - ANNOTATIONS_SHOWN} more findings to act on: see the report`);
    expect(pipelineLines('azure', plan)[0]).toMatch(/^##vso\[task\.logissue type=error;code=[A-Z.0-9v]+\]/);
    expect(pipelineLines(undefined, plan)).toEqual([]);
  });

  it('tenant text cannot end a workflow command or start another', () => {
    const plan = driftedPlan();
    const hostile = { ...plan, findings: [{ ...plan.findings.find((f) => f.status === 'violation')!, summary: 'Rule "x\n::error::forged%0A" set', resource: { type: 'inboxRule', id: null, name: 'a:b,c\r\n##vso[task.complete result=Succeeded]' } }], incomplete: [] };
    const [gh] = pipelineLines('github', hostile);
    expect(gh!.split('\n')).toHaveLength(1);
    expect(gh).toContain('x%0A::error::forged%250A');
    expect(gh).toMatch(/title=[^:]*a%3Ab%2Cc%0D%0A##vso/);
    const [az] = pipelineLines('azure', hostile);
    expect(az!.split('\n')).toHaveLength(1);
    expect(az).toContain('%AZP0D%AZP0A##vso[task.complete result=Succeeded]');
    expect(pipelineWarning('github', 'two\nlines', 't:1')).toBe('::warning title=t%3A1::two%0Alines');
    expect(pipelineWarning('azure', 'two\nlines')).toBe('##vso[task.logissue type=warning]two%AZP0Alines');
    expect(pipelineWarning(undefined, 'x')).toBeUndefined();
  });

  it('the job summary is appended on GitHub only', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'summary-')), 'summary.md');
    expect(writeJobSummary('## plan', { GITHUB_ACTIONS: 'true', GITHUB_STEP_SUMMARY: file })).toBe(true);
    expect(writeJobSummary('## again', { GITHUB_ACTIONS: 'true', GITHUB_STEP_SUMMARY: file })).toBe(true);
    expect(readFileSync(file, 'utf8')).toBe('## plan\n## again\n');
    expect(writeJobSummary('## plan', { TF_BUILD: 'True', GITHUB_STEP_SUMMARY: file })).toBe(false);
  });
});
