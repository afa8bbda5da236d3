import { createServer, type IncomingMessage, type Server } from 'node:http';
import { mkdtempSync, readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AlertDeliveryEvidenceRecord, AlertRunEvidenceRecord } from '../../reconciler/evidence/records.js';
import { loadScenario, startSimulator, type RunningSimulator } from '../../simulator/index.js';
import { synthesize, TODAY_CONTEXT_KEY } from '../../stacks/index.js';
import { buildAlertsApp } from '../fixtures/alerts-posture.js';
import { cli, target, TODAY, tokens, trailOf, type CliResult } from '../reconciler/harness.js';

/**
 * `posture drift --deliver-alerts` against the simulator, with a Teams, a Slack and a generic
 * webhook receiver on loopback: each gets every alert once, a second run sends nothing, a 503 is
 * retried, a receiver that is down fails the run naming its variable and gets its alerts next run,
 * a finding that is resolved and comes back is sent again, and no URL is in any output.
 */

interface Receiver {
  server: Server;
  port: number;
  url: string;
  bodies: unknown[];
  /** Statuses to answer with, in order; then 200. */
  answers: number[];
  requests: number;
}

const SECRET_PATH = '/hooks/Tq8sV2kLm9wZ4xNc7RbE';
async function receiver(port = 0): Promise<Receiver> {
  const r: Receiver = { server: undefined as never, port, url: '', bodies: [], answers: [], requests: 0 };
  r.server = createServer((req: IncomingMessage, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      r.requests++;
      const status = r.answers.shift() ?? 200;
      if (status === 200 && req.url === SECRET_PATH && req.method === 'POST') r.bodies.push(JSON.parse(body));
      res.writeHead(req.url === SECRET_PATH ? status : 404, status === 503 ? { 'Retry-After': '0' } : {}).end('ok');
    });
  });
  await new Promise<void>((done) => r.server.listen(port, '127.0.0.1', done));
  r.port = (r.server.address() as AddressInfo).port;
  r.url = `http://127.0.0.1:${r.port}${SECRET_PATH}`;
  return r;
}
const close = (r: Receiver) => new Promise<void>((done) => r.server.close(() => done()));

let synthDir: string;
let sim: RunningSimulator | undefined;
let teams: Receiver;
let slack: Receiver;
let hook: Receiver;
const trail = join(mkdtempSync(join(tmpdir(), 'posture-alerts-')), 'evidence.jsonl');
const outputs: CliResult[] = [];

beforeAll(async () => {
  synthDir = join(mkdtempSync(join(tmpdir(), 'posture-alerts-synth-')), 'cdktf.out');
  const r = synthesize(buildAlertsApp, { outdir: synthDir, context: { [TODAY_CONTEXT_KEY]: TODAY } });
  if (!r.ok) throw new Error(`synth failed: ${JSON.stringify(r.errors)}`);
  [teams, slack, hook] = await Promise.all([receiver(), receiver(), receiver()]);
});
afterAll(async () => {
  await sim?.stop();
  await Promise.all([teams, slack, hook].map((r) => close(r).catch(() => undefined)));
});

const urls = () => ({ POSTURE_TEAMS_WEBHOOK: teams.url, POSTURE_SLACK_WEBHOOK: slack.url, POSTURE_ALERT_WEBHOOK: hook.url });
/** The name of the forwarding inbox rule the drifted tenant holds: a mention, a Slack link, a markdown link, emphasis, ESC, bidi and a line break. */
const HOSTILE = 'Sync <!channel> <https://evil.example|open> [verify](https://evil.example/login) **now** \u001b[2J\u202e\nforged';
function hostileDrifted() {
  const s = loadScenario('drifted');
  const rules = (s as unknown as { graph: { messageRules: Record<string, { id: string; displayName: string }[]> } }).graph.messageRules['6c0c8543-6c3d-5c16-a0fe-5579aadd9158']!;
  rules.find((r) => r.id === 'AQAAAJ5dZsE=')!.displayName = HOSTILE;
  return s;
}
async function drift(scenario: 'drifted' | 'compliant', env: Record<string, string> = urls()): Promise<CliResult> {
  await sim?.stop();
  sim = await startSimulator({ scenario: scenario === 'drifted' ? hostileDrifted() : scenario });
  const r = await cli(['drift', ...target(sim, synthDir), '--color', 'false', '--format', 'json', '--evidence', trail, '--deliver-alerts', '--max-retries', '1', '--timeout', '5'], { ...tokens(sim), ...env });
  outputs.push(r);
  return r;
}
const deliveries = () => trailOf(trail).filter((r): r is AlertDeliveryEvidenceRecord => r.kind === 'alert-delivery');
const runs = () => trailOf(trail).filter((r): r is AlertRunEvidenceRecord => r.kind === 'alert-run');
/** The finding id of an alert of any kind: the generic document's field, the Teams card's or the Slack message's "Finding" fact. */
function idOf(body: unknown): string {
  const b = body as { findingId?: string; attachments?: { content: { body: { facts?: { title: string; value: string }[] }[] } }[]; blocks?: { fields?: { text: string }[] }[] };
  if (b.findingId) return b.findingId;
  if (b.attachments) return b.attachments[0]!.content.body.flatMap((x) => x.facts ?? []).find((f) => f.title === 'Finding')!.value;
  return b.blocks!.flatMap((x) => x.fields ?? []).find((f) => f.text.startsWith('*Finding*'))!.text.split('\n')[1]!;
}
const ids = (bodies: unknown[]) => bodies.map(idOf).sort();

describe('posture drift --deliver-alerts', () => {
  let open: string[] = [];

  it('an unset variable is an error naming it, before the tenant is read', async () => {
    const r = await drift('drifted', { POSTURE_TEAMS_WEBHOOK: teams.url, POSTURE_SLACK_WEBHOOK: slack.url });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('the environment variable POSTURE_ALERT_WEBHOOK (the URL of the webhook alert destination) is not set');
    expect(sim!.requests.entries).toEqual([]);
    expect(teams.requests + slack.requests + hook.requests).toBe(0);
  });

  it('the first run delivers each alert-mode finding once to each destination, retrying a 503', async () => {
    slack.answers = [503];
    const r = await drift('drifted');
    expect(r.code, r.stderr).toBe(2);
    const plan = JSON.parse(r.stdout) as { findings: { id: string; control: { id: string; versionedId: string }; mode: string; status: string; resource: { name: string } }[] };
    const alerting = plan.findings.filter((f) => f.mode === 'alert' && ['drift', 'missing', 'unmanaged', 'violation', 'exception-expired'].includes(f.status));
    expect(alerting.length).toBeGreaterThan(1);
    open = alerting.map((f) => f.id).sort();
    expect(ids(teams.bodies)).toEqual(open);
    expect(ids(hook.bodies)).toEqual(open);
    const fwd4 = alerting.filter((f) => f.control.id === 'MAIL.FWD.4');
    expect(fwd4.length).toBeGreaterThan(0);
    expect(ids(slack.bodies)).toEqual(fwd4.map((x) => x.id).sort());
    expect(slack.requests).toBe(fwd4.length + 1);

    const card = teams.bodies[0] as { type: string; attachments: { contentType: string; content: { type: string } }[] };
    expect(card.type).toBe('message');
    expect(card.attachments[0]).toMatchObject({ contentType: 'application/vnd.microsoft.card.adaptive', content: { type: 'AdaptiveCard' } });
    const s = slack.bodies[0] as { text: string; blocks: unknown[] };
    expect(s.text).toContain('MAIL.FWD.4v1');
    expect(s.blocks.length).toBeGreaterThan(0);
    // The rule's name reached every destination, neutralised for each.
    const slackText = JSON.stringify(slack.bodies);
    expect(slackText).toContain('Sync &lt;!channel&gt; &lt;https\u200d://evil.example|open&gt;');
    expect(slackText).not.toMatch(/<!channel>|<https|\\u001b|\u202e|\\nforged/);
    const cards = JSON.stringify(teams.bodies);
    expect(cards).toContain('\\\\[verify\\\\]\\\\(https\u200d://evil.example/login\\\\)');
    expect(cards).not.toMatch(/\]\(|\\u001b|\u202e|\\nforged/);
    expect(JSON.stringify(hook.bodies)).toContain(JSON.stringify(HOSTILE).slice(1, -1));
    const f = alerting.find((x) => x.id === (hook.bodies[0] as { findingId: string }).findingId)!;
    expect(hook.bodies[0]).toMatchObject({
      format: 'email-posture-alert', formatVersion: 1, control: f.control.versionedId, status: 'new', findingStatus: f.status,
      resource: { name: f.resource.name }, tenant: { id: sim!.tenantId, stack: 'tailspin', organization: 'Tailspin Toys' },
    });
    expect(deliveries().filter((d) => d.result === 'delivered')).toHaveLength(open.length * 2 + fwd4.length);
    expect(deliveries().find((d) => d.destination.urlFromEnv === 'POSTURE_SLACK_WEBHOOK')).toMatchObject({ attempts: 2, httpStatus: 200 });
    expect(runs().at(-1)).toMatchObject({ complete: true, open, counts: { delivered: open.length * 2 + fwd4.length, failed: 0 } });
    expect(r.stderr).toContain(`alerts: ${open.length * 2 + fwd4.length} delivered, 0 failed`);
  });

  it('a second run delivers nothing new', async () => {
    const before = [teams.requests, slack.requests, hook.requests];
    const r = await drift('drifted');
    expect(r.code, r.stderr).toBe(2);
    expect([teams.requests, slack.requests, hook.requests]).toEqual(before);
    expect(r.stderr).toContain('alerts: 0 delivered, 0 failed');
  });

  it('resolved findings are recorded as gone; when they come back with a receiver down, the run fails naming its variable', async () => {
    const resolved = await drift('compliant');
    expect(runs().at(-1)!.open.filter((id) => open.includes(id))).toEqual([]);
    expect(resolved.stderr).toContain('alerts: 0 delivered');
    teams.bodies = [];
    slack.bodies = [];
    hook.bodies = [];
    const port = hook.port;
    await close(hook);
    const r = await drift('drifted');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/posture drift: alert MAIL\.FWD\.\dv1 \S+ to POSTURE_ALERT_WEBHOOK \(webhook\) failed: no answer \(ECONNREFUSED\) after 2 attempts; it is sent again next run/);
    expect(ids(teams.bodies)).toEqual(open);
    expect((teams.bodies as { attachments: { content: { body: { text?: string }[] } }[] }[]).every((b) => b.attachments[0]!.content.body[0]!.text!.startsWith('Reopened finding'))).toBe(true);
    expect(deliveries().filter((d) => d.destination.urlFromEnv === 'POSTURE_ALERT_WEBHOOK' && d.result === 'failed').length).toBe(open.length);
    hook = await receiver(port);
  });

  it('the next run delivers what failed, and only that', async () => {
    const before = [teams.requests, slack.requests];
    const r = await drift('drifted');
    expect(r.code, r.stderr).toBe(2);
    expect([teams.requests, slack.requests]).toEqual(before);
    expect(ids(hook.bodies)).toEqual(open);
    expect(hook.bodies.every((b) => (b as { status: string }).status === 'reopened')).toBe(true);
  });

  it('no URL, and no part of its secret path, is in any output or the trail; the trail verifies', async () => {
    const text = readFileSync(trail, 'utf8');
    for (const out of [...outputs.map((o) => o.stdout + o.stderr), text]) {
      expect(out).not.toContain(SECRET_PATH);
      expect(out).not.toContain('Tq8sV2kLm9wZ4xNc7RbE');
    }
    const v = await cli(['evidence', 'verify', trail]);
    expect(v.code, v.stdout + v.stderr).toBe(0);
  });
});
