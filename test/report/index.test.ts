import { describe, expect, it } from 'vitest';
import { isReportFormat, renderReport, REPORT_FORMATS, type ReportFormat } from '../../reconciler/report/index.js';
import { driftedPlan } from './fixtures.js';

describe('renderReport', () => {
  const plan = driftedPlan();

  it('offers json, markdown, sarif, junit and html', () => {
    expect(REPORT_FORMATS).toEqual(['json', 'markdown', 'sarif', 'junit', 'html']);
    expect(isReportFormat('sarif')).toBe(true);
    expect(isReportFormat('human')).toBe(false);
  });

  it('writes the plan document itself as json', () => {
    const json = renderReport(plan, 'json');
    expect(json).toBe(JSON.stringify(plan, null, 2));
    expect(JSON.parse(json)).toEqual(plan);
  });

  it('renders each format by its renderer', () => {
    const starts: Record<Exclude<ReportFormat, 'json'>, string> = {
      markdown: '## email-posture plan: Tailspin Toys',
      sarif: '{\n  "$schema": "https://json.schemastore.org/sarif-2.1.0.json"',
      junit: '<?xml version="1.0" encoding="UTF-8"?>\n<testsuites ',
      html: '<!doctype html>',
    };
    for (const [format, start] of Object.entries(starts)) expect(renderReport(plan, format as ReportFormat).startsWith(start), format).toBe(true);
  });

  it('passes the options on', () => {
    const sarif = JSON.parse(renderReport(plan, 'sarif', { manifestPath: 'out/tailspin/posture.json' })) as {
      runs: { results: { locations: { physicalLocation: { artifactLocation: { uri: string } } }[] }[] }[];
    };
    expect(sarif.runs[0]!.results[0]!.locations[0]!.physicalLocation.artifactLocation.uri).toBe('out/tailspin/posture.json');
    const junit = renderReport(plan, 'junit', { controls: ['MAIL.DMARC.3v1'] });
    expect(junit).toContain('name="MAIL.DMARC.3v1: no findings (dmarc-rua, dmarc-ruf)"');
    expect(junit).not.toContain('MAIL.DMARC.1v1');
    expect(renderReport(plan, 'markdown', { maxLength: 3000 }).length).toBeLessThanOrEqual(3000);
  });

  it('refuses a format it does not know', () => {
    expect(() => renderReport(plan, 'pdf' as ReportFormat)).toThrow(/unknown report format "pdf"/);
  });
});
