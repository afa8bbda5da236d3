import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { describe, expect, it } from 'vitest';
import { CATALOGUE, versionedId } from '../../policies/catalogue.js';
import { renderJunit, xmlAttr, xmlText } from '../../reconciler/report/junit.js';
import { cleanPlan, driftedFindings, driftedPlan, INCOMPLETE_READ, makePlan, XML_HOSTILE_NAME } from './fixtures.js';

interface Failure {
  message: string;
  type: string;
  '#text': string;
}
interface TestCase {
  classname: string;
  name: string;
  failure?: Failure;
  error?: Failure;
  skipped?: { message: string; '#text'?: string };
}
interface TestSuite {
  name: string;
  tests: string;
  failures: string;
  errors: string;
  skipped: string;
  testcase: TestCase[];
  properties?: { property: { name: string; value: string }[] };
}
interface Doc {
  testsuites: { name: string; tests: string; failures: string; errors: string; skipped: string; testsuite: TestSuite[] };
}

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '',
  parseAttributeValue: false,
  parseTagValue: false,
  trimValues: false,
  htmlEntities: true,
  isArray: (name) => ['testsuite', 'testcase', 'property'].includes(name),
});

function parse(xml: string): Doc['testsuites'] {
  expect(XMLValidator.validate(xml)).toBe(true);
  return (parser.parse(xml) as Doc).testsuites;
}

describe('renderJunit', () => {
  const plan = driftedPlan();
  const xml = renderJunit(plan);
  const doc = parse(xml);
  const suites = doc.testsuite;
  const suite = (prefix: string): TestSuite => suites.find((s) => s.name.startsWith(prefix))!;

  it('is well-formed XML with the declaration first', () => {
    expect(xml.startsWith('<?xml version="1.0" encoding="UTF-8"?>\n<testsuites ')).toBe(true);
  });

  it('carries only the attributes junit-10.xsd allows on each element', () => {
    // From junit-10.xsd (jenkinsci/xunit-plugin, the schema CI servers read).
    const allowed: Record<string, readonly string[]> = {
      testsuites: ['name', 'time', 'tests', 'failures', 'disabled', 'errors'],
      testsuite: ['name', 'tests', 'failures', 'errors', 'group', 'time', 'disabled', 'skipped', 'timestamp', 'hostname', 'id', 'package', 'file', 'log', 'url', 'version'],
      testcase: ['name', 'assertions', 'time', 'classname', 'status', 'group', 'file', 'line'],
      property: ['name', 'value'],
      failure: ['message', 'type'],
      error: ['message', 'type'],
      skipped: ['message'],
    };
    for (const m of xml.matchAll(/<([a-z]+)((?:\s+[a-zA-Z:]+="[^"]*")*)\s*\/?>/g)) {
      const element = m[1]!;
      if (!(element in allowed)) continue;
      for (const a of m[2]!.matchAll(/([a-zA-Z:]+)="/g)) expect(allowed[element], `${element} ${a[1]}`).toContain(a[1]);
    }
    expect(allowed['testsuites']).not.toContain('skipped');
  });

  it('has one suite per catalogue control, named by versioned id and title, and a reads suite', () => {
    expect(suites.map((s) => s.name)).toEqual([...CATALOGUE.map((c) => `${versionedId(c)} ${c.title}`), 'reads']);
  });

  it('counts tests, failures, errors and skipped consistently', () => {
    const cases = suites.flatMap((s) => s.testcase);
    expect(Number(doc.tests)).toBe(cases.length);
    expect(Number(doc.failures)).toBe(11);
    expect(doc.skipped).toBeUndefined();
    expect(suites.reduce((n, x) => n + Number((x as unknown as { skipped: string }).skipped ?? 0), 0)).toBe(2);
    expect(Number(doc.errors)).toBe(1);
    expect(cases.filter((c) => c.failure)).toHaveLength(11);
    expect(cases.filter((c) => c.skipped)).toHaveLength(2);
    expect(cases.filter((c) => c.error)).toHaveLength(1);
    for (const s of suites) {
      expect(Number(s.tests), s.name).toBe(s.testcase.length);
      expect(Number(s.failures), s.name).toBe(s.testcase.filter((c) => c.failure).length);
      expect(Number(s.skipped), s.name).toBe(s.testcase.filter((c) => c.skipped).length);
      expect(Number(s.errors), s.name).toBe(s.testcase.filter((c) => c.error).length);
    }
    // 22 controls, of which 12 have findings (two of them under MAIL.FWD.4), plus the failed read.
    expect(cases).toHaveLength(CATALOGUE.length - 12 + 13 + 1);
  });

  it('names a finding’s test case by owner team, resource and check, and fails it with the summary', () => {
    const ca = suite('ID.CA.2v1').testcase;
    expect(ca).toHaveLength(1);
    expect(ca[0]!.classname).toBe('Identity');
    expect(ca[0]!.name).toBe('conditionalAccessPolicy "EP: Sign-in risk requires MFA": ca-signin-risk');
    expect(ca[0]!.failure!.type).toBe('drift');
    expect(ca[0]!.failure!.message).toBe(plan.findings.find((f) => f.check === 'ca-signin-risk')!.summary);
    expect(ca[0]!.failure!['#text']).toContain('~ /state: "enabledForReportingButNotEnforced" → "enabled"');
    expect(ca[0]!.failure!['#text']).toContain('owner:    Identity Engineering Lead, Identity <identity-team@tailspintoys.example>');

    const dmarc = suite('MAIL.DMARC.2v1').testcase[0]!;
    expect(dmarc.failure!.type).toBe('violation');
    expect(dmarc.failure!['#text']).toContain('  v=DMARC1; p=reject; sp=reject; pct=100;');
  });

  it('skips excepted and not-evaluated findings with the reason', () => {
    const excepted = suite('MAIL.FWD.3v1').testcase[0]!;
    expect(excepted.failure).toBeUndefined();
    expect(excepted.skipped!.message).toMatch(/^excepted: .*approved by ciso@tailspintoys\.example, expires 2025-08-31, ticket RISK-2291/);
    const fwd4 = suite('MAIL.FWD.4v1').testcase;
    expect(fwd4).toHaveLength(2);
    const notEvaluated = fwd4.find((c) => c.skipped)!;
    expect(notEvaluated.classname).toBe('SecOps');
    expect(notEvaluated.skipped!.message).toBe(
      'not evaluated: permission-missing (needs MailboxSettings.Read): Graph answered 403 Forbidden: the application is not granted MailboxSettings.Read.',
    );
  });

  it('passes one test case per evaluated control without findings', () => {
    const rua = suite('MAIL.DMARC.3v1');
    expect(rua.testcase).toEqual([{ classname: 'sender-authentication', name: 'MAIL.DMARC.3v1: no findings (dmarc-rua, dmarc-ruf)', time: '0' }]);

    const only = parse(renderJunit(plan, { controls: ['MAIL.DMARC.3v1', 'APP.CONSENT.2v1'] }));
    const names = only.testsuite.map((s) => s.name.split(' ')[0]);
    expect(names).toContain('MAIL.DMARC.3v1');
    expect(names).toContain('APP.CONSENT.2v1');
    expect(names).not.toContain('MAIL.DMARC.1v1');
    // Controls with findings are there whether listed or not.
    expect(names).toContain('ID.CA.2v1');
    expect(names.at(-1)).toBe('reads');
  });

  it('turns failed reads into errors of the reads suite', () => {
    const reads = suite('reads');
    expect(reads.testcase).toHaveLength(1);
    expect(reads.testcase[0]!.name).toBe(INCOMPLETE_READ.what);
    expect(reads.testcase[0]!.error!.message).toBe(INCOMPLETE_READ.error);
    expect(reads.testcase[0]!.error!.type).toBe('incomplete-read');
    expect(reads.testcase[0]!.error!['#text']).toContain(INCOMPLETE_READ.endpoint);

    const complete = parse(renderJunit(makePlan(driftedFindings())));
    const ok = complete.testsuite.find((s) => s.name === 'reads')!;
    expect(ok.errors).toBe('0');
    expect(ok.testcase[0]!.name).toBe('every read completed');
    expect(complete.errors).toBe('0');
  });

  it('passes everything for a clean tenant', () => {
    const clean = parse(renderJunit(cleanPlan()));
    expect(clean.failures).toBe('0');
    expect(clean.skipped).toBeUndefined();
    expect(clean.errors).toBe('0');
    expect(Number(clean.tests)).toBe(CATALOGUE.length + 1);
  });

  it('escapes <, &, quotes and apostrophes so names survive a round trip', () => {
    expect(xmlText(`a<b>&"c"'d'`)).toBe('a&lt;b&gt;&amp;&quot;c&quot;&apos;d&apos;');
    expect(xmlAttr('two\nlines\tand\rmore')).toBe('two&#10;lines&#9;and&#13;more');
    expect(xml).not.toContain('<archive>');

    const rule = suite('MAIL.FWD.5v1').testcase[0]!;
    const decode = (s: string): string => new XMLParser({ htmlEntities: true }).parse(`<x>${s}</x>`).x as string;
    expect(rule.name).toBe(`transportRule "${XML_HOSTILE_NAME}": transport-rule-external-copy`);
    expect(rule.failure!.message).toBe(plan.findings.find((f) => f.resource.name === XML_HOSTILE_NAME)!.summary);
    expect(decode(xmlText(XML_HOSTILE_NAME))).toBe(XML_HOSTILE_NAME);
  });

  it('stays well-formed when a name holds characters XML cannot carry', () => {
    const f = { ...driftedFindings()[0]!, resource: { type: 'inboxRule', id: 'r', name: 'bell\u0007 nul\u0000 esc\u001b ]]> end' }, summary: 'multi\nline\r\nsummary' };
    const out = renderJunit(makePlan([f]));
    const parsed = parse(out);
    const tc = parsed.testsuite.flatMap((s) => s.testcase).find((c) => c.failure)!;
    expect(tc.name).toBe('inboxRule "bell\ufffd nul\ufffd esc\ufffd ]]> end": dmarc-policy');
    expect(tc.failure!.message).toBe('multi\nline\r\nsummary');
  });
});
