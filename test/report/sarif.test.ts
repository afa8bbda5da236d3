import type { Log, Result } from 'sarif';
import { describe, expect, it } from 'vitest';
import { CATALOGUE, versionedId } from '../../policies/catalogue.js';
import { ACTIONABLE } from '../../reconciler/model/finding.js';
import { renderSarif, SECURITY_SEVERITY } from '../../reconciler/report/sarif.js';
import { cleanPlan, driftedFindings, driftedPlan, HOSTILE_NAME, INCOMPLETE_READ, makePlan } from './fixtures.js';
import { sarifValidator } from './sarif-schema.js';

const validate = sarifValidator();
const parse = (text: string): Log => JSON.parse(text) as Log;

describe('renderSarif', () => {
  const plan = driftedPlan();
  const log = parse(renderSarif(plan, { manifestPath: 'cdktf.out/stacks/tailspin/posture.json' }));
  const run = log.runs[0]!;
  const rules = run.tool.driver.rules!;
  const results = run.results!;
  const byFinding = new Map<string, Result>(results.map((r) => [String(r.partialFingerprints!['findingId']), r]));

  it('validates against the SARIF 2.1.0 schema, drifted and clean', () => {
    expect(validate(log), JSON.stringify(validate.errors, null, 2)).toBe(true);
    const clean = parse(renderSarif(cleanPlan()));
    expect(validate(clean), JSON.stringify(validate.errors, null, 2)).toBe(true);
    expect(clean.runs[0]!.results).toEqual([]);
  });

  it('is checked by a validator that rejects a broken log', () => {
    const broken = structuredClone(log) as unknown as { runs: { results: { level: string }[] }[] };
    broken.runs[0]!.results[0]!.level = 'fatal';
    expect(validate(broken)).toBe(false);
    expect(validate({ version: '2.1.0', runs: [{ tool: {} }] })).toBe(false);
  });

  it('describes the tool and one rule per control that appears', () => {
    expect(log.version).toBe('2.1.0');
    expect(run.tool.driver.name).toBe('email-posture');
    const appearing = [...new Set(plan.findings.map((f) => f.control.versionedId))].sort();
    expect(rules.map((r) => r.id).sort()).toEqual(appearing);
    const dmarc = rules.find((r) => r.id === 'MAIL.DMARC.2v1')!;
    const control = CATALOGUE.find((c) => versionedId(c) === 'MAIL.DMARC.2v1')!;
    expect(dmarc.shortDescription?.text).toBe(control.title);
    expect(dmarc.fullDescription?.text).toBe(control.rationale);
    expect(dmarc.help?.text).toContain('dmarc-pct');
    expect(dmarc.defaultConfiguration?.level).toBe('error');
    expect(dmarc.properties?.tags).toEqual(expect.arrayContaining(['security', 'NIST-CSF-2.0/PR.DS-02', 'CISA-SCuBA/MS.EXO.4.2v1']));
  });

  it('maps severity to security-severity and level', () => {
    expect(SECURITY_SEVERITY).toEqual({ critical: '9.5', high: '8.0', medium: '5.5', low: '3.0' });
    const severityOf = (id: string): unknown => rules.find((r) => r.id === id)?.properties?.['security-severity'];
    expect(severityOf('MAIL.FWD.4v1')).toBe('9.5');
    expect(severityOf('ID.CA.2v1')).toBe('8.0');
    expect(severityOf('GOV.OWNER.1v1')).toBe('5.5');
    expect(severityOf('MAIL.DMARC.4v1')).toBe('3.0');
    const levelOf = (check: string): unknown => results.find((r) => (r.properties as { check: string }).check === check)?.level;
    expect(levelOf('inbox-rule-forward-external')).toBe('error');
    expect(levelOf('ca-signin-risk')).toBe('error');
    expect(levelOf('break-glass-resolves')).toBe('warning');
    expect(levelOf('dmarc-alignment')).toBe('note');
  });

  it('reports each actionable or excepted finding once, fingerprinted by finding id', () => {
    const expected = plan.findings.filter((f) => ACTIONABLE.includes(f.status) || f.status === 'excepted');
    expect(results).toHaveLength(expected.length);
    for (const f of expected) {
      const r = byFinding.get(f.id);
      expect(r, f.id).toBeDefined();
      expect(r!.ruleId).toBe(f.control.versionedId);
      expect(rules[r!.ruleIndex!]!.id).toBe(f.control.versionedId);
      expect(r!.message.text).toBe(f.summary);
      expect(r!.partialFingerprints).toEqual({ findingId: f.id });
    }
  });

  it('points every result at the manifest and names the resource', () => {
    const rule = byFinding.get(plan.findings.find((f) => f.resource.name === HOSTILE_NAME)!.id)!;
    expect(rule.locations).toEqual([
      {
        physicalLocation: { artifactLocation: { uri: 'cdktf.out/stacks/tailspin/posture.json' }, region: { startLine: 1 } },
        logicalLocations: [{ name: HOSTILE_NAME, fullyQualifiedName: `inboxRule/${HOSTILE_NAME}`, kind: 'resource' }],
      },
    ]);
    const byDefault = parse(renderSarif(plan));
    expect(byDefault.runs[0]!.results![0]!.locations![0]!.physicalLocation!.artifactLocation!.uri).toBe('cdktf.out/stacks/tailspin/posture.json');
    const windows = parse(renderSarif(plan, { manifestPath: '.\\out\\posture.json' }));
    expect(windows.runs[0]!.results![0]!.locations![0]!.physicalLocation!.artifactLocation!.uri).toBe('out/posture.json');
  });

  it('suppresses excepted findings with the exception as justification', () => {
    const excepted = plan.findings.find((f) => f.status === 'excepted')!;
    const r = byFinding.get(excepted.id)!;
    expect(r.suppressions).toHaveLength(1);
    expect(r.suppressions![0]).toMatchObject({ kind: 'external', status: 'accepted' });
    expect(r.suppressions![0]!.justification).toContain('approved by ciso@tailspintoys.example');
    expect(r.suppressions![0]!.justification).toContain(excepted.exception!.reason);
    const others = results.filter((x) => x !== r);
    for (const o of others) expect(o.suppressions).toBeUndefined();
    // An expired exception does not suppress.
    const expired = plan.findings.find((f) => f.status === 'exception-expired')!;
    expect(byFinding.get(expired.id)!.suppressions).toBeUndefined();
  });

  it('reports not-evaluated findings and failed reads as notifications, not results', () => {
    const notEvaluated = plan.findings.find((f) => f.status === 'not-evaluated')!;
    expect(byFinding.has(notEvaluated.id)).toBe(false);
    const invocation = run.invocations![0]!;
    expect(invocation.executionSuccessful).toBe(false);
    const notes = invocation.toolExecutionNotifications!;
    const ne = notes.find((n) => n.descriptor?.id === 'not-evaluated/permission-missing')!;
    expect(ne.message.text).toContain('MailboxSettings.Read');
    expect(ne.associatedRule?.id).toBe('MAIL.FWD.4v1');
    const read = notes.find((n) => n.descriptor?.id === 'incomplete-read')!;
    expect(read.level).toBe('error');
    expect(read.message.text).toContain(INCOMPLETE_READ.what);

    const complete = parse(renderSarif(makePlan(driftedFindings())));
    expect(complete.runs[0]!.invocations![0]!.executionSuccessful).toBe(true);
  });
});
