import { micromark } from 'micromark';
import { gfm, gfmHtml } from 'micromark-extension-gfm';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../reconciler/cli/log.js';
import type { Finding } from '../../reconciler/model/finding.js';
import type { PlanDocument } from '../../reconciler/model/plan.js';
import { buildPlan } from '../../reconciler/plan/build.js';
import { renderHuman, renderReport, REPORT_FORMATS } from '../../reconciler/report/index.js';
import { driftedFindings, INCOMPLETE_READ, makePlan, secOps } from './fixtures.js';

const JWT = 'eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.eyJhdWQiOiJodHRwczovL2dyYXBoLm1pY3Jvc29mdC5jb20iLCJ0aWQiOiJ0In0.c2lnbmF0dXJlLXNpZ25hdHVyZQ';
const OPAQUE = 'Zq8~opaque.client-secret_value_4f1e';
const REDACTED = '[redacted]';

/** Every output a plan becomes: the human plan and each report format. */
const outputs = (plan: PlanDocument): Array<[string, string]> => [
  ['human', renderHuman(plan, { color: false })],
  ...REPORT_FORMATS.map((f): [string, string] => [f, renderReport(plan, f)]),
];

describe('one redaction, applied to every output', () => {
  it('a plan holds no secret, and its hash covers what it holds', () => {
    const base = driftedFindings()[0]!;
    const f: Finding = { ...base, summary: `${base.summary} (Bearer ${JWT})` };
    const plan = buildPlan({
      kind: 'plan',
      manifest: { stack: 's', organization: { name: 'Org' } } as never,
      tenantId: 't',
      findings: [f],
      incomplete: [{ what: 'users', endpoint: '/users', error: `HTTP 401: token ${JWT} is expired; retried with client_secret=${OPAQUE}` }],
    });
    expect(JSON.stringify(plan)).not.toContain(JWT);
    expect(JSON.stringify(plan)).not.toContain(OPAQUE);
    expect(plan.incomplete[0]!.error).toBe(`HTTP 401: token ${REDACTED} is expired; retried with client_secret=${REDACTED}`);
  });

  it('every report and the human plan mask a token the service echoed, wherever the plan holds it', () => {
    const [first, ...rest] = driftedFindings();
    const echoed: Finding = {
      ...first!,
      summary: `policy could not be read: Authorization: Bearer ${JWT}`,
      remediation: `curl -H "Authorization: Bearer ${JWT}" …`,
      evidence: { ...first!.evidence, live: { displayName: 'x', clientSecret: OPAQUE, note: JWT } },
    };
    const plan = makePlan([echoed, ...rest], [{ ...INCOMPLETE_READ, error: `HTTP 400: the header 'Authorization: Bearer ${JWT}' could not be processed` }]);
    for (const [format, text] of outputs(plan)) {
      expect(text.includes(JWT), format).toBe(false);
      expect(text.includes(JWT.split('.')[1]!), format).toBe(false);
      expect(text.includes(OPAQUE), format).toBe(false);
    }
  });
});

describe('control and bidirectional characters reach no output raw', () => {
  const ESC = '\u001b';
  const RAW = [ESC, '\u0007', '\u009b', '\u202e', '\u2066', '\u200e', '\u2028', '\u0000'];
  const NAME = `rule${ESC}[2J${ESC}]0;title\u0007 \u009b31m \u202egnp.exe \u2066iso\u2069 \u200emark line\u2028sep nul\u0000`;

  const hostilePlan = () => {
    const [first, ...rest] = driftedFindings();
    const f: Finding = { ...first!, resource: { ...first!.resource, name: NAME }, summary: `summary of ${NAME}`, remediation: `remove ${NAME}\nthen check`, owner: { ...secOps, name: `Owner ${ESC}[31m\u202e` } };
    return makePlan([f, ...rest], [{ ...INCOMPLETE_READ, error: `error ${NAME}` }]);
  };

  it('in the human plan and every report', () => {
    for (const [format, text] of outputs(hostilePlan())) {
      for (const ch of RAW) expect(text.includes(ch), `${format} holds U+${ch.codePointAt(0)!.toString(16).padStart(4, '0')}`).toBe(false);
    }
  });

  it('shown as escapes where people read them, kept as JSON escapes where the plan is data', () => {
    const plan = hostilePlan();
    expect(renderHuman(plan)).toContain('rule\\x1b[2J\\x1b]0;title\\x07 \\x9b31m \\u{202e}gnp.exe \\u{2066}iso\\u{2069} \\u{200e}mark line\\u{2028}sep nul\\x00');
    expect(renderReport(plan, 'html')).toContain('\\u{202e}gnp.exe');
    expect(renderReport(plan, 'markdown')).toContain('\\\\u{202e}gnp.exe');
    expect(renderReport(plan, 'junit')).toContain('\\u{202e}gnp.exe');
    const sarif = JSON.parse(renderReport(plan, 'sarif')) as { runs: Array<{ results: Array<{ message: { text: string }; properties: { resource: { name: string } } }> }> };
    expect(sarif.runs[0]!.results[0]!.message.text).toContain('\\u{202e}gnp.exe');
    expect(sarif.runs[0]!.results[0]!.properties.resource.name).toBe(NAME);
    const json = renderReport(plan, 'json');
    expect(json).toContain('\\u202egnp.exe');
    expect((JSON.parse(json) as PlanDocument).findings[0]!.resource.name).toBe(NAME);
  });

  it('a bare URL or www. name in a tenant string is not a link in the pull-request comment', () => {
    const [first, ...rest] = driftedFindings();
    const f: Finding = { ...first!, resource: { ...first!.resource, name: 'Sign in at https://evil.example/login or www.evil.example, ftp://evil.example/x, HTTP://EVIL.EXAMPLE' }, summary: 'see http://evil.example/a and www.evil.example' };
    const md = renderReport(makePlan([f, ...rest]), 'markdown');
    const html = micromark(md, { allowDangerousHtml: true, extensions: [gfm()], htmlExtensions: [gfmHtml()] });
    expect(html).not.toMatch(/<a [^>]*(evil|EVIL)/);
    expect(html).toContain('evil.example/login');
  });

  it('an e-mail address in a tenant string is not a mailto: link in the pull-request comment', () => {
    const [first, ...rest] = driftedFindings();
    const f: Finding = {
      ...first!,
      resource: { ...first!.resource, name: 'alex.kim@tailspintoys.example: "Mail helpdesk@evil-support.example, or mailto:it@evil-support.example, xmpp:ops@evil-support.example"' },
      summary: 'An inbox rule forwards to drop@exfil-mail.test, outside the organisation.',
    };
    const md = renderReport(makePlan([f, ...rest], [{ ...INCOMPLETE_READ, error: 'HTTP 403: ask admin@evil-support.example for access' }]), 'markdown');
    const html = micromark(md, { allowDangerousHtml: true, extensions: [gfm()], htmlExtensions: [gfmHtml()] });
    expect(html).not.toMatch(/<a [^>]*(evil-support|exfil-mail|alex\.kim)/);
    // The text still reads the same.
    expect(html.replace(/\u200d/g, '')).toContain('helpdesk@evil-support.example');
    expect(html.replace(/\u200d/g, '')).toContain('drop@exfil-mail.test');
  });

  it('in the logs, as text and as JSON lines', () => {
    const lines: string[] = [];
    const stream = { isTTY: false, write: (s: string) => lines.push(s) } as unknown as NodeJS.WriteStream;
    createLogger('text', stream).warn(`read ${NAME} with Bearer ${JWT}`);
    createLogger('json', stream).info(`read ${NAME}`, { detail: `token ${JWT}` });
    for (const line of lines) {
      for (const ch of RAW) expect(line.includes(ch), `log holds U+${ch.codePointAt(0)!.toString(16)}`).toBe(false);
      expect(line).not.toContain(JWT);
    }
    expect(lines[0]).toContain('warning: read rule\\x1b[2J');
    expect(lines[0]).toContain(`Bearer ${REDACTED}`);
    expect((JSON.parse(lines[1]!) as { message: string; detail: string })).toMatchObject({ message: `read ${NAME}`, detail: `token ${REDACTED}` });
  });

});
