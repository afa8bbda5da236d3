import { cpSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { PlanDocument } from '../../reconciler/model/plan.js';
import { ALL_GRAPH_PERMISSIONS, startSimulator, type FaultRule, type RunningSimulator, type SimulatorOptions } from '../../simulator/index.js';
import { cli, planAgainst, synthExamples, target, tokens, writer } from './harness.js';

let synthDir: string;
let sim: RunningSimulator | undefined;
beforeAll(() => {
  synthDir = synthExamples();
});
afterEach(async () => {
  await sim?.stop();
  sim = undefined;
});

const withSim = async (o: SimulatorOptions) => (sim = await startSimulator({ scenario: 'compliant', ...o }));
const fast = ['--max-retries', '1', '--timeout', '2', '--format', 'json'];

describe('a read that fails is never reported as no drift', () => {
  const faults: Array<[string, FaultRule, RegExp]> = [
    ['a 5xx that persists', { route: '^/v1\\.0/users$', kind: 'status', status: 503 }, /users/],
    ['a 429 storm', { route: '/\\$batch$', kind: 'throttle', retryAfter: 1 }, /inbox rules/],
    ['a connection reset', { route: '/oauth2PermissionGrants', kind: 'reset' }, /delegated permission grants/],
    ['an answer slower than the timeout', { route: '/policies/authorizationPolicy', kind: 'slow', delayMs: 10_000 }, /no answer within 2 s/],
    ['truncated JSON', { route: '^/v1\\.0/groups$', kind: 'truncate' }, /not valid JSON/],
    ['a nextLink that loops', { route: '^/v1\\.0/users$', kind: 'loop-next-link' }, /leads back to a page already read/],
    ['a token that expires mid-run', { route: '/domains', kind: 'expire-token' }, /refused the credentials/],
    ['an Exchange cmdlet failing', { api: 'exchange', route: '^Get-Mailbox$', kind: 'status', status: 503 }, /mailboxes/],
  ];
  it.each(faults)('%s → exit 1 naming what could not be read', async (_name, fault, message) => {
    const s = await withSim({ faults: [fault] });
    const r = await planAgainst(s, synthDir, fast);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/the run is incomplete; this is not a clean result/);
    expect(r.stderr).toMatch(message);
    const plan = JSON.parse(r.stdout) as PlanDocument;
    expect(plan.incomplete.length).toBeGreaterThan(0);
    expect(plan.findings.some((f) => f.status === 'not-evaluated')).toBe(true);
  });

  it.each([
    ['SERVFAIL', 'servfail'],
    ['a timeout', 'timeout'],
  ] as const)('DNS %s for one domain → exit 1, and the other domains are still checked', async (_name, fault) => {
    const s = await withSim({ scenario: 'drifted', dnsFaults: { '_dmarc.news.tailspintoys.example': fault } });
    const r = await planAgainst(s, synthDir, fast);
    expect(r.code).toBe(1);
    const plan = JSON.parse(r.stdout) as PlanDocument;
    expect(plan.incomplete.map((i) => i.endpoint)).toEqual(['TXT _dmarc.news.tailspintoys.example']);
    expect(plan.findings.filter((f) => f.status === 'not-evaluated' && f.control.id.startsWith('MAIL.DMARC')).map((f) => f.control.id)).toHaveLength(4);
    expect(plan.findings.some((f) => f.control.id === 'MAIL.DMARC.2' && f.resource.name === 'tailspintoys.example')).toBe(true);
  });

  it('a transient fault is retried and the run completes', async () => {
    const s = await withSim({ faults: [{ route: '^/v1\\.0/users$', kind: 'status', status: 503, times: 1 }, { route: '/domains', kind: 'reset', times: 1 }] });
    const r = await planAgainst(s, synthDir, ['--format', 'json']);
    expect(r.code).toBe(0);
    expect((JSON.parse(r.stdout) as PlanDocument).findings).toEqual([]);
  });
});

describe('a missing permission', () => {
  it('marks what it blocks not-evaluated, naming the permission', async () => {
    const s = await withSim({});
    const roles = ALL_GRAPH_PERMISSIONS.filter((p) => !p.startsWith('MailboxSettings.'));
    const r = await planAgainst(s, synthDir, fast, tokens(s, roles));
    expect(r.code).toBe(1);
    const plan = JSON.parse(r.stdout) as PlanDocument;
    const f = plan.findings.find((x) => x.control.id === 'MAIL.FWD.4')!;
    expect(f).toMatchObject({ status: 'not-evaluated', notEvaluated: { reason: 'permission-missing', permission: 'MailboxSettings.Read' } });
    expect(f.summary).toContain('MailboxSettings.Read');
    expect(plan.findings.filter((x) => x.status !== 'not-evaluated')).toEqual([]);
  });

  it('a tenant without the licence conditional access needs: not-evaluated, naming the licence, and never clean', async () => {
    const s = await withSim({});
    s.tenant.licences.delete('AAD_PREMIUM');
    const r = await planAgainst(s, synthDir, fast);
    expect(r.code).toBe(1);
    const plan = JSON.parse(r.stdout) as PlanDocument;
    const ca = plan.findings.filter((x) => x.control.id.startsWith('ID.CA.'));
    expect(ca.length).toBeGreaterThan(0);
    for (const f of ca) {
      expect(f).toMatchObject({ status: 'not-evaluated', notEvaluated: { reason: 'licence-missing' } });
      expect(f.summary).toContain('the tenant has no Microsoft Entra ID P1');
    }
    expect(plan.incomplete).toContainEqual(expect.objectContaining({ endpoint: '/identity/conditionalAccess/policies', error: 'licence missing: Microsoft Entra ID P1' }));
    expect(plan.findings.filter((x) => x.status !== 'not-evaluated')).toEqual([]);
  });
});

describe('bad input: one clear message, exit 1, no stack trace', () => {
  const run = (args: string[]) => cli(['plan', '--tenant', '00000000-0000-0000-0000-000000000001', ...args], { POSTURE_ACCESS_TOKEN: 'x.y.z' });
  const oneMessage = (stderr: string, pattern: RegExp) => {
    expect(stderr).toMatch(pattern);
    expect(stderr).not.toMatch(/\n\s+at /);
  };

  it('synthesized output that is missing', async () => {
    const r = await run(['--synth-dir', '/nonexistent/out']);
    expect(r.code).toBe(1);
    oneMessage(r.stderr, /^posture plan: no synthesized output at .*run `posture synth` first/);
  });

  it('an unknown stack, and several stacks without --stack', async () => {
    const r = await run(['--synth-dir', synthDir, '--stack', 'nope']);
    expect(r.code).toBe(1);
    oneMessage(r.stderr, /unknown stack "nope": .* holds minimal, tailspin/);
    const r2 = await run(['--synth-dir', synthDir]);
    oneMessage(r2.stderr, /holds several stacks \(minimal, tailspin\): choose one with --stack/);
  });

  it('a malformed manifest and one of an unknown schema version', async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'posture-bad-')), 'out');
    cpSync(synthDir, dir, { recursive: true });
    const manifest = join(dir, 'stacks', 'tailspin', 'posture.json');
    const good = readFileSync(manifest, 'utf8');
    writeFileSync(manifest, good.slice(0, 200));
    let r = await run(['--synth-dir', dir, '--stack', 'tailspin']);
    expect(r.code).toBe(1);
    oneMessage(r.stderr, /posture\.json: not valid JSON/);
    writeFileSync(manifest, good.replace('"manifestVersion": 1', '"manifestVersion": 7'));
    r = await run(['--synth-dir', dir, '--stack', 'tailspin']);
    oneMessage(r.stderr, /manifest version 7 is not supported; this version of email-posture reads version 1/);
    writeFileSync(manifest, good.replace('"autoForwardingMode": "Off"', '"autoForwardingMode": "On"'));
    r = await run(['--synth-dir', dir, '--stack', 'tailspin']);
    oneMessage(r.stderr, /\$\.desired\.forwarding\.autoForwardingMode/);
  });

  it('a cdk.tf.json that is valid JSON but not a configuration object', async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'posture-bad-')), 'out');
    cpSync(synthDir, dir, { recursive: true });
    const terraform = join(dir, 'stacks', 'tailspin', 'cdk.tf.json');
    for (const [text, what] of [['null', 'null'], ['[]', 'an array'], ['"x"', 'a string']] as const) {
      writeFileSync(terraform, text);
      const r = await run(['--synth-dir', dir, '--stack', 'tailspin']);
      expect(r.code).toBe(1);
      oneMessage(r.stderr, new RegExp(`^posture plan: .*cdk\\.tf\\.json holds ${what}, not a Terraform JSON configuration \\(an object\\); run \`posture synth\`$`, 'm'));
    }
  });

  it('no tenant, and no credentials', async () => {
    let r = await cli(['plan', '--synth-dir', synthDir, '--stack', 'tailspin'], { POSTURE_ACCESS_TOKEN: 'x' });
    expect(r.code).toBe(1);
    oneMessage(r.stderr, /no tenant: pass --tenant/);
    r = await cli(['plan', '--synth-dir', synthDir, '--stack', 'tailspin', '--tenant', 't', '--auth', 'secret'], {});
    expect(r.code).toBe(1);
    oneMessage(r.stderr, /missing environment variables AZURE_CLIENT_ID, AZURE_CLIENT_SECRET/);
  });

  it('bad credentials are refused by the service: exit 1, and the token never printed', async () => {
    const s = await withSim({});
    const bad = { POSTURE_GRAPH_TOKEN: 'eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.', POSTURE_EXCHANGE_TOKEN: 'eyJhbGciOiJub25lIn0.eyJzdWIiOiJ5In0.' };
    const r = await planAgainst(s, synthDir, fast, bad);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/refused the credentials/);
    expect(r.stdout + r.stderr).not.toContain('eyJzdWIiOiJ4In0');
  });

  it('an unreachable endpoint', async () => {
    const r = await cli(
      ['plan', '--synth-dir', synthDir, '--stack', 'minimal', '--tenant', 't', '--graph-url', 'http://127.0.0.1:9', '--exchange-url', 'http://127.0.0.1:9', '--dns-server', '127.0.0.1:9', ...fast],
      { POSTURE_ACCESS_TOKEN: 'x.y.z' },
    );
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/ECONNREFUSED/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('a non-https endpoint that is not loopback', async () => {
    const r = await run(['--synth-dir', synthDir, '--stack', 'tailspin', '--graph-url', 'http://graph.example']);
    oneMessage(r.stderr, /only https is allowed, except on loopback/);
  });

  it('a non-https endpoint whose name only starts like a loopback address', async () => {
    const r = await run(['--synth-dir', synthDir, '--stack', 'tailspin', '--graph-url', 'http://127.0.0.1.example:8080']);
    expect(r.code).toBe(1);
    oneMessage(r.stderr, /--graph-url http:\/\/127\.0\.0\.1\.example:8080: only https is allowed, except on loopback/);
  });

  it('azure-pipelines outside a pipeline: the missing variable named, no stack trace', async () => {
    const r = await cli(['plan', '--synth-dir', synthDir, '--stack', 'tailspin', '--tenant', 't', '--auth', 'azure-pipelines'], { AZURE_CLIENT_ID: 'c', AZURESUBSCRIPTION_SERVICE_CONNECTION_ID: 's', SYSTEM_ACCESSTOKEN: 'x' });
    expect(r.code).toBe(1);
    oneMessage(r.stderr, /^posture plan: missing environment variable SYSTEM_OIDCREQUESTURI$/m);
    expect(r.stderr).not.toContain('--debug');
  });
});

describe('apply and rollback never call an incomplete read "nothing to do"', () => {
  const quick = ['--max-retries', '0', '--timeout', '2'];
  const noWrites = (s: RunningSimulator) => s.requests.entries.filter((e) => (e.api === 'graph' ? e.method !== 'GET' && !e.path.includes('$batch') : !/^Get-/.test(e.cmdlet ?? '')));

  it('apply --auto-approve without a plan file, every endpoint unreachable: exit 1, naming what was not read', async () => {
    const r = await cli(
      ['apply', '--auto-approve', '--no-evidence', '--synth-dir', synthDir, '--stack', 'minimal', '--tenant', 't', '--graph-url', 'http://127.0.0.1:9', '--exchange-url', 'http://127.0.0.1:9', '--dns-server', '127.0.0.1:9', ...quick],
      { POSTURE_ACCESS_TOKEN: 'x.y.z' },
    );
    expect(r.code).toBe(1);
    expect(r.stdout).not.toContain('No changes to apply');
    expect(r.stderr).toMatch(/^posture apply: the tenant could not be read completely, so nothing was applied\. Could not read:$/m);
    expect(r.stderr).toMatch(/^ {2}- .*ECONNREFUSED/m);
  });

  it('apply --auto-approve without a plan file, 503 from all of Graph and Exchange: exit 1, naming what was not read', async () => {
    const s = await withSim({ faults: [{ route: '.*', kind: 'status', status: 503 }] });
    const r = await cli(['apply', '--auto-approve', '--no-evidence', ...target(s, synthDir), ...quick], writer(s));
    expect(r.code).toBe(1);
    expect(r.stdout).not.toContain('No changes to apply');
    expect(r.stderr).toMatch(/the tenant could not be read completely, so nothing was applied/);
    expect(r.stderr).toMatch(/^ {2}- conditional access policies \(\/identity\/conditionalAccess\/policies\): .*503/m);
    expect(r.stderr).toMatch(/^ {2}- .*Get-HostedOutboundSpamFilterPolicy.*503/m);
    expect(noWrites(s)).toEqual([]);
  });

  it('a saved plan made from an incomplete read, with no changes: apply exits 1 and names what the plan could not read', async () => {
    const s = await withSim({ faults: [{ route: '^/v1\\.0/oauth2PermissionGrants', kind: 'status', status: 503 }] });
    const file = join(mkdtempSync(join(tmpdir(), 'posture-incomplete-')), 'plan.json');
    expect((await cli(['plan', ...target(s, synthDir), '--out', file, '--no-evidence', ...quick], writer(s))).code).toBe(1);
    const saved = JSON.parse(readFileSync(file, 'utf8')) as PlanDocument;
    expect(saved.changes).toEqual([]);
    expect(saved.incomplete.length).toBeGreaterThan(0);
    const r = await cli(['apply', file, '--auto-approve', '--no-evidence', ...target(s, synthDir)], writer(s));
    expect(r.code).toBe(1);
    expect(r.stdout).not.toContain('No changes to apply');
    expect(r.stderr).toMatch(/the plan was made from an incomplete read, so nothing was applied\. Could not read:\n {2}- delegated permission grants/);
  });

  it('rollback whose reads fail: exit 1, naming what could not be read, and no plan saved', async () => {
    const s = await withSim({ scenario: 'drifted' });
    const dir = mkdtempSync(join(tmpdir(), 'posture-incomplete-'));
    const evidence = join(dir, 'evidence.jsonl');
    const applied = await cli(['apply', '--auto-approve', '--evidence', evidence, ...target(s, synthDir)], writer(s));
    expect(applied.code, applied.stderr).toBe(0);
    const runId = /recorded as run ([0-9a-f-]{36})/.exec(applied.stderr)![1]!;
    s.faults.add({ route: '.*', kind: 'status', status: 503 });
    const out = join(dir, 'rollback.json');
    const args = target(s, synthDir).filter((a, i, all) => a !== '--today' && all[i - 1] !== '--today');
    const r = await cli(['rollback', runId, '--evidence', evidence, '--out', out, '--restore-insecure', ...args, ...quick], writer(s));
    expect(r.code).toBe(1);
    expect(r.stdout).not.toMatch(/nothing to reverse/);
    expect(r.stderr).toMatch(/^posture rollback: .*(503|ServiceUnavailable)/m);
    expect(existsSync(out)).toBe(false);
  });
});
