import { gzipSync } from 'node:zlib';
import type { Location, Log, Notification, ReportingDescriptor, Result } from 'sarif';
import { resolveControl, type Control } from '../../policies/catalogue.js';
import type { FrameworkRefs, Severity } from '../../policies/types.js';
import type { Finding } from '../model/finding.js';
import type { PlanDocument } from '../model/plan.js';
import { MANIFEST_FILE, type ControlEntry, type SourceLocation } from '../manifest/schema.js';
import { redactSecrets } from '../core/redact.js';
import { jsonSafe, neutralise } from '../core/text.js';
import { exceptionText, isActionable, notEvaluatedText, outcomeOf, patchLines, patchLineText, statusLabel } from './shared.js';

/** Where SARIF consumers find the schema of the format. */
export const SARIF_SCHEMA_URI = 'https://json.schemastore.org/sarif-2.1.0.json';

/** GitHub's `security-severity` per severity: critical ≥ 9.0, high 7.0–8.9, medium 4.0–6.9, low below 4.0. */
export const SECURITY_SEVERITY: Readonly<Record<Severity, string>> = { critical: '9.5', high: '8.0', medium: '5.5', low: '3.0' };

/** SARIF level per severity: critical and high are errors, medium warnings, low notes. */
export const SARIF_LEVEL: Readonly<Record<Severity, 'error' | 'warning' | 'note'>> = {
  critical: 'error',
  high: 'error',
  medium: 'warning',
  low: 'note',
};

/**
 * What GitHub code scanning takes in one upload: results per run, and the file's size gzip
 * compressed. A log over them is refused whole, so results beyond them are left out, least severe
 * first, and a notification says how many (the JSON report has them all).
 */
export const SARIF_LIMITS = { resultsPerRun: 25_000, gzipBytes: 10 * 1024 * 1024 } as const;

export interface SarifOptions {
  /**
   * The posture manifest, relative to the repository root: where a result points when its control
   * has no recorded source. Defaults to `cdktf.out/stacks/<stack>/posture.json`.
   */
  readonly manifestPath?: string;
  /**
   * The manifest's control entries: a result points at the line of the code that declares its
   * control (`source`, relative to the folder holding cdktf.json), so code scanning annotates it.
   */
  readonly declarations?: readonly Pick<ControlEntry, 'id' | 'source'>[];
  /** The folder holding cdktf.json, relative to the repository root; empty or absent when it is the root. */
  readonly sourceRoot?: string;
  /** Overrides of SARIF_LIMITS (tests). */
  readonly limits?: { readonly resultsPerRun?: number; readonly gzipBytes?: number };
}

function frameworkTags(frameworks: FrameworkRefs): string[] {
  return [
    ...frameworks.nistCsf.map((id) => `NIST-CSF-2.0/${id}`),
    ...(frameworks.scuba ?? []).map((id) => `CISA-SCuBA/${id}`),
    ...(frameworks.owaspNhi ?? []).map((id) => `OWASP-NHI/${id}`),
  ];
}

function frameworkLines(frameworks: FrameworkRefs): string[] {
  const lines = [`NIST CSF 2.0: ${frameworks.nistCsf.join(', ')}`];
  if (frameworks.scuba?.length) lines.push(`CISA SCuBA: ${frameworks.scuba.join(', ')}`);
  if (frameworks.owaspNhi?.length) lines.push(`OWASP NHI: ${frameworks.owaspNhi.join(', ')}`);
  return lines;
}

/** Text a code-scanning page shows: no control or bidirectional formatting character; newlines stay. */
const shown = (text: string): string => neutralise(text, '\n');

/** The catalogue control a finding names, when the catalogue has that exact version. */
function catalogueControl(finding: Finding): Control | undefined {
  const resolved = resolveControl(finding.control.versionedId);
  return 'control' in resolved ? resolved.control : undefined;
}

function ruleFor(finding: Finding): ReportingDescriptor {
  const control = catalogueControl(finding);
  const severity = control?.severity ?? finding.severity;
  const frameworks = control?.frameworks ?? finding.frameworks;
  const title = control?.title ?? finding.control.title;
  const rationale = control?.rationale ?? finding.control.title;
  const text = [
    rationale,
    ...(control ? ['', 'Checks:', ...control.checks.map((c) => `- ${c.id}: ${c.description}`), '', `Remediation: ${control.remediation.description}`] : []),
    '',
    ...frameworkLines(frameworks),
  ].join('\n');
  const markdown = [
    `**${finding.control.versionedId}**: ${title}`,
    '',
    rationale,
    ...(control
      ? ['', '**Checks**', '', ...control.checks.map((c) => `- \`${c.id}\`: ${c.description}`), '', `**Remediation:** ${control.remediation.description}`]
      : []),
    '',
    ...frameworkLines(frameworks).map((l) => `- ${l}`),
  ].join('\n');
  return {
    id: finding.control.versionedId,
    name: finding.control.id.replace(/\./g, '_'),
    shortDescription: { text: title },
    fullDescription: { text: rationale },
    help: { text, markdown },
    defaultConfiguration: { level: SARIF_LEVEL[severity] },
    properties: {
      tags: [...new Set(['security', 'email-posture', ...frameworkTags(frameworks)])],
      precision: 'very-high',
      'security-severity': SECURITY_SEVERITY[severity],
    },
  };
}

/** A repository-relative path as code scanning takes it: posix, not absolute, no `.`, `..` or empty segment, no scheme. */
export function isRelativeUri(uri: string): boolean {
  return (
    uri.length > 0 &&
    !uri.includes('\\') &&
    !uri.startsWith('/') &&
    !/^[A-Za-z][A-Za-z0-9+.-]*:/.test(uri) &&
    // eslint-disable-next-line no-control-regex
    !/[\u0000-\u001f\u007f]/.test(uri) &&
    !uri.split('/').some((s) => s === '' || s === '.' || s === '..')
  );
}

/**
 * A repository-relative path as a URI reference: each segment percent-encoded (a `#` or `?` in a file
 * name is not a fragment or a query, a `%2e%2e` segment stays a name and is never read as `..`).
 */
export function uriOf(path: string): string {
  return path.split('/').map(encodeURIComponent).join('/');
}

/** Where results point: the declaring code of each control, or else the manifest. */
interface Places {
  readonly manifestPath: string;
  readonly sources: ReadonlyMap<string, SourceLocation>;
}

function placesOf(plan: PlanDocument, options: SarifOptions): Places {
  const fallback = `cdktf.out/stacks/${plan.stack}/${MANIFEST_FILE}`;
  const given = (options.manifestPath ?? fallback).replace(/\\/g, '/').replace(/^(\.\/)+/, '');
  // Never an absolute path or one out of the repository: code scanning could not place it.
  const manifestPath = isRelativeUri(given) ? given : fallback;
  const root = (options.sourceRoot ?? '').replace(/\\/g, '/').replace(/^(\.\/)+|\/+$/g, '');
  const sources = new Map<string, SourceLocation>();
  for (const c of options.declarations ?? []) {
    if (!c.source) continue;
    const file = root && root !== '.' ? `${root}/${c.source.file}` : c.source.file;
    if (isRelativeUri(file) && Number.isInteger(c.source.line) && c.source.line >= 1) sources.set(c.id, { ...c.source, file });
  }
  return { manifestPath, sources };
}

function locationFor(finding: Finding, places: Places): Location {
  const source = places.sources.get(finding.control.versionedId);
  const physicalLocation = source
    ? { artifactLocation: { uri: uriOf(source.file) }, region: { startLine: source.line, ...(source.column ? { startColumn: source.column } : {}) } }
    : { artifactLocation: { uri: uriOf(places.manifestPath) }, region: { startLine: 1 } };
  return {
    physicalLocation,
    logicalLocations: [{ name: shown(finding.resource.name), fullyQualifiedName: shown(`${finding.resource.type}/${finding.resource.name}`), kind: 'resource' }],
  };
}

function resultFor(finding: Finding, ruleIndex: number, places: Places): Result {
  const patch = patchLines(finding, 400).map(patchLineText);
  const result: Result = {
    ruleId: finding.control.versionedId,
    ruleIndex,
    kind: 'fail',
    level: SARIF_LEVEL[finding.severity],
    message: { text: shown(finding.summary) },
    locations: [locationFor(finding, places)],
    // The finding id hashes control, check and resource, never where the code declares the control:
    // moving a declaration keeps the alert.
    partialFingerprints: { findingId: finding.id },
    properties: {
      status: finding.status,
      severity: finding.severity,
      check: finding.check,
      mode: finding.mode,
      owner: finding.owner,
      resource: finding.resource,
      change: { ...finding.change, outcome: outcomeOf(finding) },
      evidence: { endpoint: finding.evidence.endpoint, readAt: finding.evidence.readAt },
      ...(patch.length > 0 ? { patch } : {}),
      ...(finding.remediation ? { remediation: finding.remediation } : {}),
      ...(finding.exception ? { exception: finding.exception } : {}),
    },
  };
  if (finding.status === 'excepted') {
    result.suppressions = [
      {
        kind: 'external',
        status: 'accepted',
        justification: shown(exceptionText(finding) ?? 'Covered by a declared exception.'),
        ...(finding.exception ? { properties: { exceptionId: finding.exception.id, approvedBy: finding.exception.approvedBy, expires: finding.exception.expires } } : {}),
      },
    ];
  }
  return result;
}

const SEVERITY_ORDER: readonly Severity[] = ['critical', 'high', 'medium', 'low'];

/** The order results are kept in when a limit cuts them: actionable before excepted, then by severity, then as planned. */
function keepOrder(findings: readonly Finding[]): Finding[] {
  const rank = (f: Finding) => (f.status === 'excepted' ? SEVERITY_ORDER.length : 0) + SEVERITY_ORDER.indexOf(f.severity);
  return findings
    .map((f, i) => ({ f, i }))
    .sort((a, b) => rank(a.f) - rank(b.f) || a.i - b.i)
    .map((x) => x.f);
}

/**
 * Renders a plan as SARIF 2.1.0 for GitHub code scanning. The rules are the catalogue controls the
 * findings name; each actionable finding is a result, and each excepted one a result with an
 * accepted external suppression. Findings that were not evaluated, and reads that failed, are tool
 * execution notifications; a failed read marks the invocation unsuccessful.
 *
 * Every result points at the line of the posture's code that declares its control (the source the
 * manifest records, given in `options.declarations`), a path relative to the repository root, so code
 * scanning annotates the stack file in a pull request; a control without a recorded source (an older
 * manifest) points at the manifest. The tenant resource is the result's logical location, and
 * `partialFingerprints.findingId` (control, check and resource; never a line) lets GitHub track one
 * problem across runs. The log names no analysis category (`automationDetails`), so the upload's
 * `category` decides it. Results beyond code scanning's limits (SARIF_LIMITS) are left out, least
 * severe first, and a notification says so. Secrets are redacted; the texts code scanning shows
 * carry no control or bidirectional formatting character, and the data in property bags carries
 * them only as JSON escapes.
 */
export function renderSarif(input: PlanDocument, options: SarifOptions = {}): string {
  const plan = redactSecrets(input);
  const places = placesOf(plan, options);
  const limits = { ...SARIF_LIMITS, ...options.limits };
  const reported = plan.findings.filter((f) => isActionable(f) || f.status === 'excepted');
  const ordered = keepOrder(reported);
  let keep = Math.min(ordered.length, limits.resultsPerRun);
  for (;;) {
    const text = renderLog(plan, places, new Set(ordered.slice(0, keep)), reported.length - keep);
    const size = gzipSync(text).length;
    if (keep === 0 || size <= limits.gzipBytes) return text;
    keep = Math.floor(keep * Math.min(0.9, limits.gzipBytes / size));
  }
}

function renderLog(plan: PlanDocument, places: Places, kept: ReadonlySet<Finding>, omitted: number): string {
  const rules: ReportingDescriptor[] = [];
  const ruleIndex = new Map<string, number>();
  const indexOf = (f: Finding): number => {
    let index = ruleIndex.get(f.control.versionedId);
    if (index === undefined) {
      index = rules.push(ruleFor(f)) - 1;
      ruleIndex.set(f.control.versionedId, index);
    }
    return index;
  };

  const results: Result[] = [];
  const notifications: Notification[] = [];
  for (const f of plan.findings) {
    if (isActionable(f) || f.status === 'excepted') {
      if (kept.has(f)) results.push(resultFor(f, indexOf(f), places));
    } else if (f.status === 'not-evaluated') {
      notifications.push({
        level: 'warning',
        message: {
          text: shown(`${f.control.versionedId} ${f.check} was not evaluated for ${f.resource.type}/${f.resource.name}: ${notEvaluatedText(f) ?? statusLabel(f.status)}`),
        },
        descriptor: { id: `not-evaluated/${f.notEvaluated?.reason ?? 'unknown'}` },
        associatedRule: { id: f.control.versionedId, index: indexOf(f) },
        locations: [locationFor(f, places)],
        properties: { findingId: f.id, owner: f.owner, ...(f.notEvaluated ? { notEvaluated: f.notEvaluated } : {}) },
      });
    }
  }
  for (const read of plan.incomplete) {
    notifications.push({
      level: 'error',
      message: { text: shown(`Could not read ${read.what} (${read.endpoint}): ${read.error}. This run cannot report "no drift".`) },
      descriptor: { id: 'incomplete-read' },
      properties: { what: read.what, endpoint: read.endpoint, error: read.error },
    });
  }
  if (omitted > 0) {
    notifications.push({
      level: 'warning',
      message: {
        text: `${omitted} of ${results.length + omitted} results were left out, the least severe first: code scanning takes at most ${SARIF_LIMITS.resultsPerRun.toLocaleString('en-US')} results per run and 10 MB (gzip) per file. The JSON report holds every finding.`,
      },
      descriptor: { id: 'results-truncated' },
      properties: { omitted, kept: results.length },
    });
  }

  const log: Log = {
    $schema: SARIF_SCHEMA_URI,
    version: '2.1.0',
    runs: [
      {
        tool: { driver: { name: 'email-posture', version: plan.tool.version, semanticVersion: plan.tool.version, rules } },
        invocations: [
          {
            executionSuccessful: plan.incomplete.length === 0,
            endTimeUtc: plan.createdAt,
            ...(notifications.length > 0 ? { toolExecutionNotifications: notifications } : {}),
          },
        ],
        results,
        properties: {
          kind: plan.kind,
          stack: plan.stack,
          organization: plan.organization,
          tenantId: plan.tenantId,
          desiredHash: plan.desiredHash,
          ...(omitted > 0 ? { omittedResults: omitted } : {}),
        },
      },
    ],
  };
  return `${jsonSafe(JSON.stringify(log, null, 2))}\n`;
}
