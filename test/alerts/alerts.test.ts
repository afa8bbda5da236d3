import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { decideAlerts, type AlertDecisionInput } from '../../reconciler/alerts/decide.js';
import { alertMessage, alertPayload, slackText, teamsText } from '../../reconciler/alerts/payload.js';
import { redactText, rememberSecretUrl } from '../../reconciler/core/redact.js';
import { resolveDestinations } from '../../reconciler/cli/alerts.js';
import type { Manifest } from '../../reconciler/manifest/schema.js';
import type { AlertDeliveryEvidenceRecord, AlertRunEvidenceRecord, EvidenceRecord } from '../../reconciler/evidence/records.js';
import type { AlertDestination } from '../../reconciler/manifest/alerts.js';
import type { ControlEntry, ControlMode } from '../../reconciler/manifest/schema.js';
import type { Finding, FindingStatus } from '../../reconciler/model/finding.js';
import { postWebhook, retryAfterMs, webhookUrlProblem } from '../../reconciler/transport/webhook.js';
import { build, declareAll, errorLines, postureProps } from '../stacks/helpers.js';

const owner = { name: 'SecOps Lead', team: 'SecOps', contact: 'secops@contoso.example' };
const TENANT = 'contoso.onmicrosoft.com';

const finding = (id: string, control: string, status: FindingStatus = 'violation', name = 'rule'): Finding => ({
  id,
  control: { id: control, version: 1, versionedId: `${control}v1`, title: `Title of ${control}` },
  check: 'check',
  resource: { type: 'inboxRule', id: 'r1', name },
  owner,
  severity: 'high',
  status,
  mode: 'report',
  summary: `Summary of ${name}`,
  patch: [],
  change: { action: 'none', automatic: false },
  evidence: { endpoint: '/x', readAt: '2026-06-01T00:00:00Z', live: null },
  frameworks: {} as Finding['frameworks'],
});
const entry = (control: string, mode: ControlMode): ControlEntry => ({ id: `${control}v1`, mode, owner, declaredBy: 'test/Posture' });
const teams: AlertDestination = { kind: 'teams', urlFromEnv: 'POSTURE_TEAMS_WEBHOOK' };
const slack: AlertDestination = { kind: 'slack', urlFromEnv: 'POSTURE_SLACK_WEBHOOK', controls: ['MAIL.FWD.4'] };

const base = { v: 1, runId: 'r', time: '2026-06-01T00:00:00Z', actor: { kind: 'unknown', id: 'unknown' }, prev: '0', hash: '0', planHash: 'a'.repeat(64), tenantId: TENANT, stack: 'contoso' } as const;
let seq = 0;
const delivered = (findingId: string, destination: AlertDestination, result: 'delivered' | 'failed' = 'delivered', stack = 'contoso'): AlertDeliveryEvidenceRecord => ({
  ...base, stack, seq: ++seq, kind: 'alert-delivery', findingId, control: 'X', reason: 'new', findingStatus: 'violation', destination: { kind: destination.kind, urlFromEnv: destination.urlFromEnv }, result, attempts: 1,
});
const run = (open: string[], complete = true, evaluated?: string[]): AlertRunEvidenceRecord => ({ ...base, seq: ++seq, kind: 'alert-run', complete, open, ...(evaluated ? { evaluated } : {}), counts: { delivered: 0, failed: 0 } });

const input = (findings: Finding[], records: EvidenceRecord[] = [], destinations = [teams]): AlertDecisionInput => ({
  findings,
  controls: [entry('MAIL.FWD.4', 'alert'), entry('MAIL.FWD.1', 'report'), entry('MAIL.FWD.2', 'remediate'), entry('GOV.OWNER.1', 'alert')],
  destinations,
  records,
  tenantId: TENANT.toUpperCase(),
  stack: 'contoso',
});
const sent = (i: AlertDecisionInput) => decideAlerts(i).deliveries.map((d) => [d.finding.id, d.destination.urlFromEnv, d.reason]);

describe('which alerts a run delivers', () => {
  it('a new finding of an alert-mode control goes to each destination that admits its control', () => {
    const i = input([finding('f1', 'MAIL.FWD.4'), finding('f2', 'GOV.OWNER.1')], [], [teams, slack]);
    expect(sent(i)).toEqual([
      ['f1', 'POSTURE_TEAMS_WEBHOOK', 'new'],
      ['f1', 'POSTURE_SLACK_WEBHOOK', 'new'],
      ['f2', 'POSTURE_TEAMS_WEBHOOK', 'new'],
    ]);
    expect(decideAlerts(i).open).toEqual(['f1', 'f2']);
  });

  it('report-mode and remediate-mode controls, excepted and not-evaluated findings never alert', () => {
    const i = input([finding('f1', 'MAIL.FWD.1'), finding('f2', 'MAIL.FWD.2'), finding('f3', 'MAIL.FWD.4', 'excepted'), finding('f4', 'MAIL.FWD.4', 'not-evaluated')]);
    expect(sent(i)).toEqual([]);
    expect(decideAlerts(i).open).toEqual([]);
  });

  it('a finding delivered before is not delivered again while it stays open', () => {
    const records = [delivered('f1', teams), run(['f1']), run(['f1'])];
    expect(sent(input([finding('f1', 'MAIL.FWD.4')], records))).toEqual([]);
  });

  it('a failed delivery does not count: the finding is sent again', () => {
    expect(sent(input([finding('f1', 'MAIL.FWD.4')], [delivered('f1', teams, 'failed'), run(['f1'])]))).toEqual([['f1', 'POSTURE_TEAMS_WEBHOOK', 'new']]);
  });

  it('a finding that was gone in a complete run and is back is reopened, and sent again', () => {
    const records = [delivered('f1', teams), run(['f1']), run([])];
    expect(sent(input([finding('f1', 'MAIL.FWD.4')], records))).toEqual([['f1', 'POSTURE_TEAMS_WEBHOOK', 'reopened']]);
    // Once delivered as reopened, it is not sent a third time; a destination that missed it gets it as reopened too.
    expect(sent(input([finding('f1', 'MAIL.FWD.4')], [...records, delivered('f1', teams), run(['f1'])]))).toEqual([]);
    const other: AlertDestination = { kind: 'webhook', urlFromEnv: 'HOOK' };
    expect(sent(input([finding('f1', 'MAIL.FWD.4')], [...records, delivered('f1', teams), run(['f1'])], [teams, other]))).toEqual([['f1', 'HOOK', 'reopened']]);
  });

  it('an incomplete run does not show that a finding is gone', () => {
    expect(sent(input([finding('f1', 'MAIL.FWD.4')], [delivered('f1', teams), run([], false)]))).toEqual([]);
    // Nor does one that could not judge the finding's control.
    expect(sent(input([finding('f1', 'MAIL.FWD.4')], [delivered('f1', teams), run([], false, ['GOV.OWNER.1'])]))).toEqual([]);
  });

  it('in a tenant that never reads everything, a finding of a control the runs could judge still closes and reopens, and its exception expires', () => {
    // Every run is incomplete (a section it lacks the permission for), but MAIL.FWD.4 was judged each time.
    const records = [delivered('f1', teams), run(['f1'], false, ['MAIL.FWD.4']), run([], false, ['MAIL.FWD.4'])];
    expect(sent(input([finding('f1', 'MAIL.FWD.4')], records))).toEqual([['f1', 'POSTURE_TEAMS_WEBHOOK', 'reopened']]);
    expect(sent(input([finding('f1', 'MAIL.FWD.4', 'exception-expired')], records))).toEqual([['f1', 'POSTURE_TEAMS_WEBHOOK', 'exception-expired']]);
  });

  it('a finding whose exception expired is sent as exception-expired, after the excepted runs', () => {
    const records = [delivered('f1', teams), run(['f1']), run([])];
    expect(sent(input([finding('f1', 'MAIL.FWD.4', 'exception-expired')], records))).toEqual([['f1', 'POSTURE_TEAMS_WEBHOOK', 'exception-expired']]);
    expect(sent(input([finding('f9', 'MAIL.FWD.4', 'exception-expired')]))).toEqual([['f9', 'POSTURE_TEAMS_WEBHOOK', 'exception-expired']]);
  });

  it('a destination added later gets the open findings, as new; records of another stack do not count', () => {
    const records = [delivered('f1', teams), delivered('f1', slack, 'delivered', 'other'), run(['f1'])];
    expect(sent(input([finding('f1', 'MAIL.FWD.4')], records, [teams, slack]))).toEqual([['f1', 'POSTURE_SLACK_WEBHOOK', 'new']]);
  });
});

describe('alert payloads', () => {
  const hostile = 'Sync <https://evil.example|click> & [here](https://evil.example) **urgent** <!channel>\u001b[31m\u202e\nline2';
  const m = alertMessage(finding('f1', 'MAIL.FWD.4', 'violation', hostile), 'new', { id: TENANT, stack: 'contoso', organization: 'Contoso' });

  it('Slack: &, < and > escaped, control and bidirectional characters removed, no link can be formed', () => {
    expect(slackText(hostile)).toBe('Sync &lt;https\u200d://evil.example|click&gt; &amp; [here](https\u200d://evil.example) **urgent** &lt;!channel&gt;[31m line2');
    const body = alertPayload('slack', m) as { text: string; blocks: { text?: { text: string }; fields?: { text: string }[] }[] };
    const all = JSON.stringify(body);
    expect(all).not.toMatch(/<https|<!channel|\\u001b|\u202e/);
    expect(body.text).toContain('MAIL.FWD.4v1');
    expect(body.blocks[1]!.fields!.map((f) => f.text.split('\n')[0])).toEqual(['*Resource*', '*Owner*', '*Status*', '*Tenant*', '*Finding*']);
  });

  it('Teams: an Adaptive Card message whose tenant text cannot form a markdown link or emphasis', () => {
    expect(teamsText('[here](https://evil.example) **x** _y_ `z`')).toBe('\\[here\\]\\(https\u200d://evil.example\\) \\*\\*x\\*\\* \\_y\\_ \\`z\\`');
    expect(teamsText('- item')).toBe('\\- item');
    expect(teamsText('1. item')).toBe('1\\. item');
    const body = alertPayload('teams', m) as { type: string; attachments: { contentType: string; content: { type: string; version: string; body: unknown[] } }[] };
    expect(body.type).toBe('message');
    expect(body.attachments[0]!.contentType).toBe('application/vnd.microsoft.card.adaptive');
    expect(body.attachments[0]!.content.type).toBe('AdaptiveCard');
    const all = JSON.stringify(body);
    expect(all).not.toContain('](');
    expect(all).not.toMatch(/\\u001b|\u202e/);
  });

  it('generic JSON: the documented shape', () => {
    expect(alertPayload('webhook', m)).toEqual({
      format: 'email-posture-alert', formatVersion: 1, findingId: 'f1', control: 'MAIL.FWD.4v1', title: 'Title of MAIL.FWD.4', severity: 'high', owner,
      status: 'new', findingStatus: 'violation', resource: { type: 'inboxRule', id: 'r1', name: hostile }, summary: `Summary of ${hostile}`,
      tenant: { id: TENANT, stack: 'contoso', organization: 'Contoso' },
    });
  });

  it('long tenant strings are cut', () => {
    expect([...slackText('x'.repeat(2000))].length).toBe(500);
  });
});

describe('webhook transport', () => {
  let server: Server | undefined;
  afterEach(() => new Promise<void>((r) => (server ? server.close(() => r()) : r())));
  const listen = async (answers: { status: number; headers?: Record<string, string> }[]) => {
    const seen: string[] = [];
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (d: Buffer) => (body += d.toString()));
      req.on('end', () => {
        seen.push(body);
        const a = answers[Math.min(seen.length - 1, answers.length - 1)]!;
        res.writeHead(a.status, a.headers ?? {}).end();
      });
    });
    await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
    return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook/secret-path-123456`, seen };
  };
  const policy = { maxRetries: 3, baseDelayMs: 1, maxDelayMs: 5000, timeoutMs: 2000 };
  const waits: number[] = [];
  const wait = async (ms: number) => void waits.push(ms);

  it('retries 503 and 429, honouring Retry-After, until a 2xx', async () => {
    waits.length = 0;
    const { url, seen } = await listen([{ status: 503, headers: { 'Retry-After': '2' } }, { status: 429, headers: { 'Retry-After': '1' } }, { status: 202 }]);
    expect(await postWebhook(url, { a: 1 }, policy, wait)).toEqual({ ok: true, attempts: 3, status: 202 });
    expect(waits).toEqual([2000, 1000]);
    expect(seen).toEqual(['{"a":1}', '{"a":1}', '{"a":1}']);
  });

  it('does not retry a 4xx other than 408 and 429, and never names the URL', async () => {
    const { url, seen } = await listen([{ status: 404 }]);
    const r = await postWebhook(url, {}, policy, wait);
    expect(r).toEqual({ ok: false, attempts: 1, status: 404, error: 'HTTP 404' });
    expect(seen).toHaveLength(1);
    const again = await listen([{ status: 408 }, { status: 200 }]);
    expect(await postWebhook(again.url, {}, policy, wait)).toMatchObject({ ok: true, attempts: 2 });
  });

  it('a Retry-After longer than the longest wait fails the delivery', async () => {
    const { url } = await listen([{ status: 429, headers: { 'Retry-After': '3600' } }]);
    const r = await postWebhook(url, {}, policy, wait);
    expect(r.ok).toBe(false);
    expect(!r.ok && r.error).toMatch(/Retry-After asks for 3600 s/);
  });

  it('a receiver that is down is a network failure, retried, then failed', async () => {
    const { url } = await listen([{ status: 200 }]);
    await new Promise<void>((r) => server!.close(() => r()));
    server = undefined;
    const r = await postWebhook(url, {}, policy, wait);
    expect(r).toMatchObject({ ok: false, attempts: 4 });
    expect(!r.ok && r.error).toMatch(/^no answer \(ECONNREFUSED\) after 4 attempts$/);
  });

  it('a URL must be https, or http on loopback; the problem never quotes it', () => {
    expect(webhookUrlProblem('https://hooks.slack.com/services/T/B/X')).toBeUndefined();
    expect(webhookUrlProblem('http://127.0.0.1:8080/x')).toBeUndefined();
    expect(webhookUrlProblem('http://hooks.example/x')).toBe('does not hold an https URL (plain http is allowed on loopback addresses only, for testing)');
    expect(webhookUrlProblem('https://user:pw@hooks.example/x')).toBe('holds a URL with a user name or password in it');
    expect(webhookUrlProblem('not a url')).toBe('does not hold a URL');
    expect(retryAfterMs('Wed, 21 Oct 2015 07:28:00 GMT', Date.parse('Wed, 21 Oct 2015 07:27:58 GMT'))).toBe(2000);
  });

  it('a remembered webhook URL, and its path and query, are redacted wherever they appear', () => {
    const url = 'https://prod-01.westeurope.logic.azure.com:443/workflows/abc123def/triggers/manual/paths/invoke?api-version=2016-06-01&sp=%2Ftriggers&sig=Zx9secretSignature';
    rememberSecretUrl(url);
    expect(redactText(`failed posting to ${url}`)).toBe('failed posting to [redacted]');
    expect(redactText('path /workflows/abc123def/triggers/manual/paths/invoke?api-version=2016-06-01&sp=%2Ftriggers&sig=Zx9secretSignature')).toBe('path [redacted]');
    expect(redactText('sig=AnotherSignature1')).toBe('sig=[redacted]');
  });
});

describe('alert destinations at synth', () => {
  it('are written to the manifest, control ids unversioned', () => {
    const b = build(declareAll, postureProps({ alerts: { destinations: [{ kind: 'teams', urlFromEnv: 'POSTURE_TEAMS_WEBHOOK' }, { kind: 'slack', urlFromEnv: 'POSTURE_SLACK_WEBHOOK', controls: ['MAIL.FWD.4v1'] }] } }));
    expect(errorLines(b)).toEqual([]);
    expect(b.posture.toManifest().alerts).toEqual({ destinations: [{ kind: 'teams', urlFromEnv: 'POSTURE_TEAMS_WEBHOOK' }, { kind: 'slack', urlFromEnv: 'POSTURE_SLACK_WEBHOOK', controls: ['MAIL.FWD.4'] }] });
  });

  it('refuses a URL in place of a variable name without quoting it, an unknown kind, a duplicate, an unknown control and an empty list', () => {
    const secret = 'https://hooks.slack.com/services/T000/B000/XXXXSECRET';
    const b = build(declareAll, postureProps({
      alerts: {
        destinations: [
          { kind: 'slack', urlFromEnv: secret },
          { kind: 'teamz' as never, urlFromEnv: 'A' },
          { kind: 'webhook', urlFromEnv: 'HOOK' },
          { kind: 'webhook', urlFromEnv: 'HOOK', controls: ['MAIL.NOPE.1'] },
          { kind: 'webhook', urlFromEnv: '1BAD' },
        ],
      },
    }));
    const lines = errorLines(b);
    expect(lines.join('\n')).not.toContain('XXXXSECRET');
    expect(lines).toEqual([
      'test/Posture: alerts.destinations[1].kind: "teamz" is not allowed: use teams, slack or webhook',
      'test/Posture: alerts.destinations[0].urlFromEnv: holds a URL: name the environment variable that holds the webhook URL (e.g. POSTURE_TEAMS_WEBHOOK), never the URL itself, which is a secret',
      'test/Posture: alerts.destinations[3].urlFromEnv: HOOK is already the URL of destinations[2]: declare each destination once',
      'test/Posture: alerts.destinations[3].controls[0]: unknown control "MAIL.NOPE.1"; see docs/controls.md for the catalogue',
      'test/Posture: alerts.destinations[4].urlFromEnv: "1BAD" is not an environment variable name (letters, digits and _, not starting with a digit)',
    ]);
    expect(errorLines(build(declareAll, postureProps({ alerts: { destinations: [] } })))).toEqual([
      'test/Posture: alerts.destinations: declare at least one destination { kind, urlFromEnv }, or leave alerts out',
    ]);
  });
});

describe('alert destinations at run time', () => {
  const manifest = (alerts?: Manifest['alerts']) => ({ stack: 'contoso', ...(alerts ? { alerts } : {}) }) as Manifest;

  it('take their URLs from the environment, naming the variable (never the value) when it is unset or unusable', () => {
    const m = manifest({ destinations: [teams] });
    expect(resolveDestinations(m, { POSTURE_TEAMS_WEBHOOK: 'https://example.webhook.office.com/hook/abc123456' })).toEqual([{ destination: teams, url: 'https://example.webhook.office.com/hook/abc123456' }]);
    expect(() => resolveDestinations(m, {})).toThrow('--deliver-alerts: the environment variable POSTURE_TEAMS_WEBHOOK (the URL of the teams alert destination) is not set');
    let message = '';
    try {
      resolveDestinations(m, { POSTURE_TEAMS_WEBHOOK: 'http://hooks.example/services/SECRETPATH99' });
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toBe('--deliver-alerts: the environment variable POSTURE_TEAMS_WEBHOOK does not hold an https URL (plain http is allowed on loopback addresses only, for testing)');
    expect(redactText('posting to http://hooks.example/services/SECRETPATH99 failed')).toBe('posting to [redacted] failed');
    expect(() => resolveDestinations(manifest(), {})).toThrow('--deliver-alerts: the posture of stack contoso declares no alert destinations (EmailSecurityPosture alerts.destinations)');
  });
});
