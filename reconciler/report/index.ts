import type { PlanDocument } from '../model/plan.js';
import { redactSecrets } from '../core/redact.js';
import { jsonSafe } from '../core/text.js';
import { renderHtml } from './html.js';
import { renderJunit, type JunitOptions } from './junit.js';
import { renderMarkdown, type MarkdownOptions } from './markdown.js';
import { renderSarif, type SarifOptions } from './sarif.js';

export { renderHuman, type HumanOptions } from './human.js';
export { renderHtml } from './html.js';
export { renderJunit, type JunitOptions } from './junit.js';
export { renderMarkdown, type MarkdownOptions } from './markdown.js';
export { renderSarif, type SarifOptions } from './sarif.js';

/** The machine-readable and shareable report formats (the terminal plan is `renderHuman`). */
export type ReportFormat = 'json' | 'markdown' | 'sarif' | 'junit' | 'html';

/** Every report format, in the order the CLI lists them. */
export const REPORT_FORMATS: readonly ReportFormat[] = ['json', 'markdown', 'sarif', 'junit', 'html'];

/** Options of every format; each renderer reads the ones it knows. */
export type ReportOptions = SarifOptions & JunitOptions & MarkdownOptions;

/** Whether `value` names a report format. */
export function isReportFormat(value: string): value is ReportFormat {
  return (REPORT_FORMATS as readonly string[]).includes(value);
}

/**
 * Renders a plan in one format: `json` is the plan document itself (what `posture show` reads
 * back), `markdown` a pull-request comment, `sarif` GitHub code scanning, `junit` Azure DevOps and
 * Jenkins test results, `html` a self-contained page. Every format is redacted (no token or secret
 * the plan may hold is written) and carries no raw control or bidirectional formatting character.
 */
export function renderReport(plan: PlanDocument, format: ReportFormat, options: ReportOptions = {}): string {
  switch (format) {
    case 'json':
      return jsonSafe(JSON.stringify(redactSecrets(plan), null, 2));
    case 'markdown':
      return renderMarkdown(plan, options);
    case 'sarif':
      return renderSarif(plan, options);
    case 'junit':
      return renderJunit(plan, options);
    case 'html':
      return renderHtml(plan);
    default: {
      const unknown: never = format;
      throw new Error(`unknown report format "${String(unknown)}"; expected one of ${REPORT_FORMATS.join(', ')}`);
    }
  }
}
