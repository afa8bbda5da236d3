import type { Location, Log, Notification, ReportingDescriptor, Result } from 'sarif';
import { resolveControl, type Control } from '../../policies/catalogue.js';
import type { FrameworkRefs, Severity } from '../../policies/types.js';
import type { Finding } from '../model/finding.js';
import type { PlanDocument } from '../model/plan.js';
import { MANIFEST_FILE } from '../manifest/schema.js';
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

export interface SarifOptions {
  /**
   * The posture manifest, relative to the repository root: code scanning needs a file to attach an
   * alert to. Defaults to `cdktf.out/stacks/<stack>/posture.json`.
   */
  readonly manifestPath?: string;
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

function locationFor(finding: Finding, manifestPath: string): Location {
  return {
    physicalLocation: { artifactLocation: { uri: manifestPath }, region: { startLine: 1 } },
    logicalLocations: [{ name: shown(finding.resource.name), fullyQualifiedName: shown(`${finding.resource.type}/${finding.resource.name}`), kind: 'resource' }],
  };
}

function resultFor(finding: Finding, ruleIndex: number, manifestPath: string): Result {
  const patch = patchLines(finding, 400).map(patchLineText);
  const result: Result = {
    ruleId: finding.control.versionedId,
    ruleIndex,
    kind: 'fail',
    level: SARIF_LEVEL[finding.severity],
    message: { text: shown(finding.summary) },
    locations: [locationFor(finding, manifestPath)],
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

/**
 * Renders a plan as SARIF 2.1.0 for GitHub code scanning. The rules are the catalogue controls the
 * findings name; each actionable finding is a result, and each excepted one a result with an
 * accepted external suppression. Findings that were not evaluated, and reads that failed, are tool
 * execution notifications; a failed read marks the invocation unsuccessful. Every result points at
 * the posture manifest (code scanning needs a file) and names the tenant resource as a logical
 * location; `partialFingerprints.findingId` lets GitHub track one problem across runs. Secrets are
 * redacted; the texts code scanning shows carry no control or bidirectional formatting character,
 * and the data in property bags carries them only as JSON escapes.
 */
export function renderSarif(input: PlanDocument, options: SarifOptions = {}): string {
  const plan = redactSecrets(input);
  const manifestPath = (options.manifestPath ?? `cdktf.out/stacks/${plan.stack}/${MANIFEST_FILE}`).replace(/\\/g, '/').replace(/^\.\//, '');
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
      results.push(resultFor(f, indexOf(f), manifestPath));
    } else if (f.status === 'not-evaluated') {
      notifications.push({
        level: 'warning',
        message: {
          text: shown(`${f.control.versionedId} ${f.check} was not evaluated for ${f.resource.type}/${f.resource.name}: ${notEvaluatedText(f) ?? statusLabel(f.status)}`),
        },
        descriptor: { id: `not-evaluated/${f.notEvaluated?.reason ?? 'unknown'}` },
        associatedRule: { id: f.control.versionedId, index: indexOf(f) },
        locations: [locationFor(f, manifestPath)],
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

  const log: Log = {
    $schema: SARIF_SCHEMA_URI,
    version: '2.1.0',
    runs: [
      {
        tool: { driver: { name: 'email-posture', version: plan.tool.version, semanticVersion: plan.tool.version, rules } },
        automationDetails: { id: `email-posture/${plan.stack}/` },
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
        },
      },
    ],
  };
  return `${jsonSafe(JSON.stringify(log, null, 2))}\n`;
}
