import jsonpatch from 'fast-json-patch';
import type { Severity } from '../../policies/types.js';
import { ACTIONABLE, type Finding, type FindingStatus, type NearMiss, type NearMissReason } from '../model/finding.js';
import { type PlanDocument } from '../model/plan.js';
import type { Owner } from '../manifest/schema.js';

/** Severities from the worst down. */
export const SEVERITIES: readonly Severity[] = ['critical', 'high', 'medium', 'low'];

/** The sign a finding carries in every report: what apply does about it, or why it does nothing. */
export type FindingSign = '+' | '~' | '-' | '!' | '=' | '?';

/** Whether the finding is a problem to act on (its status is one of `ACTIONABLE`). */
export function isActionable(finding: Finding): boolean {
  return ACTIONABLE.includes(finding.status);
}

/**
 * `+` create, `~` update, `-` delete (apply makes the change), `!` a finding apply does not change
 * (report-only, not remediable, or a control not in remediate mode), `=` excepted, `?` not evaluated.
 */
export function signOf(finding: Finding): FindingSign {
  if (finding.status === 'excepted') return '=';
  if (finding.status === 'not-evaluated') return '?';
  if (!finding.change.automatic) return '!';
  switch (finding.change.action) {
    case 'create':
      return '+';
    case 'update':
      return '~';
    case 'delete':
      return '-';
    default:
      return '!';
  }
}

/** What happens to the resource, in the words of a plan: "will be updated in place". */
export function outcomeOf(finding: Finding): string {
  const sign = signOf(finding);
  switch (sign) {
    case '+':
      return 'will be created';
    case '~':
      return 'will be updated in place';
    case '-':
      return 'will be deleted';
    case '=':
      return 'is excepted';
    case '?':
      return 'was not evaluated';
    default: {
      const manual = { create: 'needs to be created', update: 'needs an update', delete: 'needs to be deleted', none: 'needs action' } as const;
      const why = finding.change.action === 'none' ? 'apply does not change it' : `not automatic in ${finding.mode} mode`;
      return `${manual[finding.change.action]} by its owner (${why})`;
    }
  }
}

/** `not-evaluated` → `not evaluated`. */
export function statusLabel(status: FindingStatus): string {
  return status.replace(/-/g, ' ');
}

/** The exception that covers a finding, in one line, or undefined when there is none. */
export function exceptionText(finding: Finding): string | undefined {
  const e = finding.exception;
  if (!e) return undefined;
  const expired = finding.status === 'exception-expired' ? 'expired' : 'expires';
  const ticket = e.ticket ? `, ticket ${e.ticket}` : '';
  return `${e.id} approved by ${e.approvedBy}, ${expired} ${e.expires}${ticket}: ${e.reason}`;
}

/** Why a finding was not evaluated, in one line, or undefined when it was. */
export function notEvaluatedText(finding: Finding): string | undefined {
  const n = finding.notEvaluated;
  if (!n) return undefined;
  const permission = n.permission ? ` (needs ${n.permission})` : '';
  return `${n.reason}${permission}: ${n.detail}`;
}

/**
 * A conditional access finding's near miss: a heading naming the live policy, and one line per
 * reason (`code: text`). A saved plan may come from elsewhere, so each part is read as text.
 */
export function nearMissLines(finding: Finding): { heading: string; reasons: string[]; confirmation?: string } | undefined {
  const n = finding.evidence?.nearMiss as Partial<NearMiss> | undefined;
  if (!n || typeof n !== 'object' || !n.policy || typeof n.policy !== 'object') return undefined;
  const reasons = Array.isArray(n.reasons) ? n.reasons : [];
  const name = `"${String(n.policy.displayName)}" (${String(n.policy.id)})`;
  const heading =
    n.basis === 'closest'
      ? `closest live policy ${name}, ${reasons.length} reason${reasons.length === 1 ? '' : 's'}${typeof n.compared === 'number' ? `, of ${n.compared} compared` : ''}`
      : `policy ${name}`;
  const c = n.confirmation as Partial<Record<string, unknown>> | undefined;
  const confirmation =
    c && typeof c === 'object'
      ? c['confirmed'] === true
        ? `What If for ${String(c['user'])}: the policy ${c['policyApplies'] === true ? 'applies' : 'does not apply'}${Array.isArray(c['analysisReasons']) && c['analysisReasons'].length ? ` (${c['analysisReasons'].map(String).join(', ')})` : ''}`
        : `not confirmed: ${String(c['error'])}`
      : undefined;
  return {
    heading,
    reasons: reasons.map((r) => `${String((r as Partial<NearMissReason>)?.code)}: ${String((r as Partial<NearMissReason>)?.text)}`),
    ...(confirmation ? { confirmation } : {}),
  };
}

/** One line of a readable patch: `~ /state: "disabled" → "enabled"`. */
export interface PatchLine {
  readonly sign: '+' | '-' | '~';
  readonly path: string;
  readonly text: string;
}

const UNKNOWN = '(unknown)';

/** A JSON value in one line, cut at `max` characters. */
export function formatValue(value: unknown, max = 160): string {
  if (value === undefined) return UNKNOWN;
  let text: string;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    text = String(value);
  }
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** The live value at a JSON pointer of the evidence, or undefined when the evidence does not hold it. */
function liveValue(live: unknown, pointer: string): unknown {
  if (live === null || typeof live !== 'object') return pointer === '' ? live : undefined;
  try {
    return jsonpatch.getValueByPointer(live, pointer) as unknown;
  } catch {
    return undefined;
  }
}

/**
 * The finding's JSON Patch as readable lines, the old value taken from `evidence.live` where it
 * holds one (`(unknown)` where it does not). `test` operations say nothing a reader needs.
 */
export function patchLines(finding: Finding, max = 160): PatchLine[] {
  const lines: PatchLine[] = [];
  for (const op of finding.patch) {
    const path = op.path === '' ? '/' : op.path;
    switch (op.op) {
      case 'add':
        if (op.path === '' && isPlainObject(op.value)) {
          // A whole new resource: one line per top-level property reads better than one long object.
          for (const [key, value] of Object.entries(op.value)) {
            lines.push({ sign: '+', path: `/${jsonpatch.escapePathComponent(key)}`, text: formatValue(value, max) });
          }
        } else {
          lines.push({ sign: '+', path, text: formatValue(op.value, max) });
        }
        break;
      case 'remove':
        lines.push({ sign: '-', path, text: formatValue(liveValue(finding.evidence.live, op.path), max) });
        break;
      case 'replace':
        lines.push({ sign: '~', path, text: `${formatValue(liveValue(finding.evidence.live, op.path), max)} → ${formatValue(op.value, max)}` });
        break;
      case 'move':
        lines.push({ sign: '~', path, text: `moved from ${op.from}` });
        break;
      case 'copy':
        lines.push({ sign: '+', path, text: `copy of ${op.from}` });
        break;
      default:
        break;
    }
  }
  return lines;
}

/** `~ /state: "disabled" → "enabled"`. */
export function patchLineText(line: PatchLine): string {
  return `${line.sign} ${line.path}: ${line.text}`;
}

/** Counts of findings: actionable ones by severity, and the ones excepted or not evaluated. */
export interface Tally {
  readonly critical: number;
  readonly high: number;
  readonly medium: number;
  readonly low: number;
  /** Actionable findings, all severities. */
  readonly actionable: number;
  readonly excepted: number;
  readonly notEvaluated: number;
  /** Every finding. */
  readonly total: number;
}

/** Counts the findings the way every report shows them. */
export function tally(findings: readonly Finding[]): Tally {
  const t = { critical: 0, high: 0, medium: 0, low: 0, actionable: 0, excepted: 0, notEvaluated: 0, total: 0 };
  for (const f of findings) {
    t.total++;
    if (f.status === 'excepted') t.excepted++;
    else if (f.status === 'not-evaluated') t.notEvaluated++;
    else if (isActionable(f)) {
      t.actionable++;
      t[f.severity]++;
    }
  }
  return t;
}

/** `12 findings to act on (3 critical, 4 high, 4 medium, 1 low), 1 excepted, 1 not evaluated`. */
export function tallyText(t: Tally): string {
  const bySeverity = SEVERITIES.filter((s) => t[s] > 0).map((s) => `${t[s]} ${s}`);
  let text = `${t.actionable} ${t.actionable === 1 ? 'finding' : 'findings'} to act on`;
  if (bySeverity.length > 0) text += ` (${bySeverity.join(', ')})`;
  if (t.excepted > 0) text += `, ${t.excepted} excepted`;
  if (t.notEvaluated > 0) text += `, ${t.notEvaluated} not evaluated`;
  return text;
}

/** `Plan: 2 to create, 5 to update, 1 to delete` (what apply would do, from the plan's summary). */
export function changesText(plan: PlanDocument): string {
  const c = plan.summary.changes;
  return `Plan: ${c.create} to create, ${c.update} to update, ${c.delete} to delete`;
}

/** The findings of one owner. */
export interface OwnerGroup {
  /** The owner's contact in lower case: what `PlanSummary.byOwner` is keyed by. */
  readonly key: string;
  readonly owner: Owner;
  readonly findings: readonly Finding[];
}

const statusRank = (f: Finding): number => (isActionable(f) ? 0 : f.status === 'excepted' ? 1 : 2);
const severityRank = (s: Severity): number => SEVERITIES.indexOf(s);

/** Actionable first, worst first; then excepted; then not evaluated; then by control and resource. */
export function compareFindings(a: Finding, b: Finding): number {
  return (
    statusRank(a) - statusRank(b) ||
    severityRank(a.severity) - severityRank(b.severity) ||
    a.control.versionedId.localeCompare(b.control.versionedId) ||
    a.resource.type.localeCompare(b.resource.type) ||
    a.resource.name.localeCompare(b.resource.name) ||
    a.id.localeCompare(b.id)
  );
}

/** The findings grouped by owner contact (case-insensitively), owners by name, each group's findings worst first. */
export function groupByOwner(findings: readonly Finding[]): OwnerGroup[] {
  const groups = new Map<string, { owner: Owner; findings: Finding[] }>();
  for (const f of findings) {
    const key = f.owner.contact.toLowerCase();
    const group = groups.get(key);
    if (group) group.findings.push(f);
    else groups.set(key, { owner: f.owner, findings: [f] });
  }
  return [...groups.entries()]
    .map(([key, g]) => ({ key, owner: g.owner, findings: g.findings.sort(compareFindings) }))
    .sort((a, b) => a.owner.name.localeCompare(b.owner.name) || a.owner.team.localeCompare(b.owner.team) || a.key.localeCompare(b.key));
}
