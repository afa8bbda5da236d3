import { neutralise } from '../core/text.js';
import type { Finding } from '../model/finding.js';
import type { ControlResult } from '../model/plan.js';
import { notEvaluatedText, statusLabel } from './shared.js';

/**
 * The first characters that make a spreadsheet read a cell as a formula (or, for tab and carriage
 * return, hide one behind them): `=`, `+`, `-`, `@`, their full-width forms, tab and CR.
 */
const FORMULA_START = /^[=+\-@\t\r\uFF1D\uFF0B\uFF0D\uFF20]/;

/**
 * One CSV cell (RFC 4180): quoted when it holds a comma, a double quote, CR or LF, its double quotes
 * doubled. Tenant text is hostile, so a cell a spreadsheet would read as a formula, even after
 * leading spaces, starts with a single quote instead (the OWASP defence against CSV injection), and
 * control and bidirectional characters are written as visible escapes (`\x1b`, `\u{202e}`); tab,
 * CR and LF stay.
 */
export function csvCell(value: string | number): string {
  let text = neutralise(String(value), '\n\r\t');
  if (FORMULA_START.test(text) || FORMULA_START.test(text.replace(/^ +/, ''))) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** One CSV record, without its line break (records are joined by CRLF, as RFC 4180 asks). */
export function csvRecord(cells: readonly (string | number)[]): string {
  return cells.map(csvCell).join(',');
}

/** The columns of the report's CSV: one record per finding and per control. */
export const CSV_COLUMNS = [
  'kind',
  'id',
  'control',
  'title',
  'status',
  'severity',
  'owner',
  'owner team',
  'owner contact',
  'resource type',
  'resource name',
  'resource id',
  'detail',
] as const;

/** The header record. */
export const csvHeader = (): string => csvRecord(CSV_COLUMNS);

/** A finding's record: its summary, and why it was not evaluated when it was not. */
export function findingCsvRecord(f: Finding): string {
  const notEvaluated = notEvaluatedText(f);
  return csvRecord([
    'finding',
    f.id,
    f.control.versionedId,
    f.control.title,
    statusLabel(f.status),
    f.severity,
    f.owner.name,
    f.owner.team,
    f.owner.contact,
    f.resource.type,
    f.resource.name,
    f.resource.id ?? '',
    notEvaluated ? `${f.summary} (${notEvaluated})` : f.summary,
  ]);
}

/** What a control's result says it checked, in one line: its checks, and why not when it was not evaluated. */
export function checkedText(c: ControlResult): string {
  const checks = c.checks.map((k) => (/[.!?]$/.test(k.description) ? k.description : `${k.description}.`)).join(' ');
  const reads = c.reads.length > 0 ? ` Read: ${c.reads.join(', ')}.` : '';
  const why = c.result === 'not-evaluated' && c.notEvaluated ? ` Not evaluated: ${c.notEvaluated}.` : '';
  return `${checks}${reads}${why}`;
}

/** A control's record: its result as its status, what was checked as its detail. */
export function controlCsvRecord(c: ControlResult): string {
  return csvRecord([
    'control',
    c.control.versionedId,
    c.control.versionedId,
    c.control.title,
    c.result === 'not-evaluated' ? 'not evaluated' : c.result,
    c.severity,
    c.owner.name,
    c.owner.team,
    c.owner.contact,
    '',
    '',
    '',
    checkedText(c),
  ]);
}
