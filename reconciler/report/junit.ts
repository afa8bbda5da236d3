import { escapeUTF8 } from 'entities';
import { CATALOGUE, resolveControl, versionedId, type Control } from '../../policies/catalogue.js';
import type { Finding } from '../model/finding.js';
import type { PlanDocument } from '../model/plan.js';
import { redactSecrets } from '../core/redact.js';
import { isUnsafeCodePoint, visibleEscape } from '../core/text.js';
import {
  compareFindings,
  exceptionText,
  isActionable,
  notEvaluatedText,
  outcomeOf,
  patchLines,
  patchLineText,
  statusLabel,
} from './shared.js';

export interface JunitOptions {
  /**
   * The versioned ids of the controls the run evaluated; each one without a finding becomes a
   * passing test case. Defaults to every control in the catalogue.
   */
  readonly controls?: readonly string[];
}

/**
 * Replaces what XML 1.0 cannot carry at all (most control characters, lone surrogates, U+FFFE/F)
 * with U+FFFD, and shows what it can carry but a test report must not (DEL, C1 controls,
 * bidirectional formatting, line separators) as escapes such as `\u{202e}`.
 */
function xmlChars(text: string): string {
  let out = '';
  for (const ch of text) {
    const c = ch.codePointAt(0)!;
    const allowed = c === 0x9 || c === 0xa || c === 0xd || (c >= 0x20 && c <= 0xd7ff) || (c >= 0xe000 && c <= 0xfffd) || c >= 0x10000;
    out += !allowed ? '\ufffd' : c >= 0x20 && isUnsafeCodePoint(c) ? visibleEscape(c) : ch;
  }
  return out;
}

/** Escapes text content for XML: `&`, `<`, `>`, quotes, and characters XML cannot hold. */
export function xmlText(text: string): string {
  return escapeUTF8(xmlChars(text));
}

/** Escapes an attribute value for XML; line breaks and tabs are kept as character references. */
export function xmlAttr(text: string): string {
  return xmlText(text).replace(/\n/g, '&#10;').replace(/\r/g, '&#13;').replace(/\t/g, '&#9;');
}

function attrs(values: Record<string, string | number>): string {
  return Object.entries(values)
    .map(([k, v]) => ` ${k}="${xmlAttr(String(v))}"`)
    .join('');
}

function details(f: Finding): string {
  const lines = [
    f.summary,
    '',
    `control:  ${f.control.versionedId} ${f.control.title}`,
    `severity: ${f.severity}`,
    `status:   ${statusLabel(f.status)} (mode ${f.mode})`,
    `owner:    ${f.owner.name}, ${f.owner.team} <${f.owner.contact}>`,
    `resource: ${f.resource.type} "${f.resource.name}"${f.resource.id ? ` (id ${f.resource.id})` : ''}`,
    `outcome:  ${outcomeOf(f)}`,
  ];
  const patch = patchLines(f, 400).map(patchLineText);
  if (patch.length > 0) lines.push('patch:', ...patch.map((l) => `  ${l}`));
  const exception = exceptionText(f);
  if (exception) lines.push(`exception: ${exception}`);
  if (f.remediation) lines.push('remediation:', ...f.remediation.trim().split('\n').map((l) => `  ${l}`));
  lines.push(`evidence: ${f.evidence.endpoint} at ${f.evidence.readAt}`, `finding:  ${f.id}`);
  return lines.join('\n');
}

function testcase(f: Finding): string {
  const open = `    <testcase${attrs({ classname: f.owner.team, name: `${f.resource.type} "${f.resource.name}": ${f.check}`, time: 0 })}>`;
  let inner: string;
  if (isActionable(f)) {
    inner = `      <failure${attrs({ message: f.summary, type: f.status })}>${xmlText(details(f))}</failure>`;
  } else if (f.status === 'excepted') {
    inner = `      <skipped${attrs({ message: `excepted: ${exceptionText(f) ?? 'covered by a declared exception'}` })}>${xmlText(details(f))}</skipped>`;
  } else {
    inner = `      <skipped${attrs({ message: `not evaluated: ${notEvaluatedText(f) ?? f.summary}` })}>${xmlText(details(f))}</skipped>`;
  }
  return `${open}\n${inner}\n    </testcase>`;
}

interface Suite {
  readonly id: string;
  readonly control: Control | undefined;
  readonly title: string;
  readonly findings: Finding[];
}

/**
 * Renders a plan as JUnit XML for Azure DevOps and Jenkins: one test suite per control (named by
 * its versioned id and title), one test case per finding (class = owner team, name = resource and
 * check): a failure when actionable, skipped when excepted or not evaluated, and one passing case
 * for each evaluated control without a finding, so the run shows what was checked. Failed reads
 * are errors in a `reads` suite.
 */
export function renderJunit(input: PlanDocument, options: JunitOptions = {}): string {
  const plan = redactSecrets(input);
  const evaluated = options.controls ?? CATALOGUE.map(versionedId);
  const suites = new Map<string, Suite>();
  const suiteFor = (id: string, fallbackTitle: string): Suite => {
    let suite = suites.get(id);
    if (!suite) {
      const resolved = resolveControl(id);
      const control = 'control' in resolved ? resolved.control : undefined;
      suite = { id, control, title: control?.title ?? fallbackTitle, findings: [] };
      suites.set(id, suite);
    }
    return suite;
  };
  for (const id of evaluated) suiteFor(id, id);
  for (const f of plan.findings) suiteFor(f.control.versionedId, f.control.title).findings.push(f);

  const order = new Map(CATALOGUE.map((c, i) => [versionedId(c), i]));
  const ordered = [...suites.values()].sort(
    (a, b) => (order.get(a.id) ?? Number.MAX_SAFE_INTEGER) - (order.get(b.id) ?? Number.MAX_SAFE_INTEGER) || a.id.localeCompare(b.id),
  );

  const totals = { tests: 0, failures: 0, errors: 0, skipped: 0 };
  const parts: string[] = [];
  for (const suite of ordered) {
    const findings = suite.findings.sort(compareFindings);
    const failures = findings.filter(isActionable).length;
    const skipped = findings.length - failures;
    const tests = Math.max(1, findings.length);
    totals.tests += tests;
    totals.failures += failures;
    totals.skipped += skipped;
    const props: [string, string][] = [['control', suite.id]];
    if (suite.control) {
      props.push(['severity', suite.control.severity], ['area', suite.control.area], ['checks', suite.control.checks.map((c) => c.id).join(', ')]);
    }
    const cases =
      findings.length > 0
        ? findings.map(testcase)
        : [
            `    <testcase${attrs({
              classname: suite.control?.area ?? 'controls',
              name: `${suite.id}: no findings${suite.control ? ` (${suite.control.checks.map((c) => c.id).join(', ')})` : ''}`,
              time: 0,
            })}/>`,
          ];
    parts.push(
      `  <testsuite${attrs({ name: `${suite.id} ${suite.title}`, tests, failures, errors: 0, skipped, time: 0, timestamp: plan.createdAt })}>`,
      '    <properties>',
      ...props.map(([name, value]) => `      <property${attrs({ name, value })}/>`),
      '    </properties>',
      ...cases,
      '  </testsuite>',
    );
  }

  const reads = plan.incomplete;
  const readTests = Math.max(1, reads.length);
  totals.tests += readTests;
  totals.errors += reads.length;
  parts.push(`  <testsuite${attrs({ name: 'reads', tests: readTests, failures: 0, errors: reads.length, skipped: 0, time: 0, timestamp: plan.createdAt })}>`);
  if (reads.length === 0) {
    parts.push(`    <testcase${attrs({ classname: 'reads', name: 'every read completed', time: 0 })}/>`);
  }
  for (const read of reads) {
    parts.push(
      `    <testcase${attrs({ classname: 'reads', name: read.what, time: 0 })}>`,
      `      <error${attrs({ message: read.error, type: 'incomplete-read' })}>${xmlText(
        `Could not read ${read.what}; this run cannot report "no drift".\nendpoint: ${read.endpoint}\nerror:    ${read.error}`,
      )}</error>`,
      '    </testcase>',
    );
  }
  parts.push('  </testsuite>');

  // junit-10.xsd (the schema Jenkins, Azure DevOps and GitLab read) allows name, time, tests,
  // failures, disabled and errors on <testsuites>: skipped and timestamp are the suites' own.
  const head = `<testsuites${attrs({ name: `email-posture ${plan.kind}: ${plan.organization} (${plan.stack})`, tests: totals.tests, failures: totals.failures, errors: totals.errors, time: 0 })}>`;
  return ['<?xml version="1.0" encoding="UTF-8"?>', head, ...parts, '</testsuites>', ''].join('\n');
}
