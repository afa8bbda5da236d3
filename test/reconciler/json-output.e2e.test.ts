import { mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ApplyDocument, RollbackDocument, SynthDocument } from '../../reconciler/cli/json-output.js';
import type { PlanDocument } from '../../reconciler/model/plan.js';
import { startSimulator, type RunningSimulator, type SimulatorOptions } from '../../simulator/index.js';
import { cli, driftedCore, synthExamples, target, tenantArgs, TODAY, trailOf, writer } from './harness.js';

const root = resolve(import.meta.dirname, '../..');
const tmp = () => mkdtempSync(join(tmpdir(), 'posture-json-'));

let synthDir: string;
let sim: RunningSimulator | undefined;
beforeAll(() => {
  synthDir = synthExamples();
});
afterEach(async () => {
  await sim?.stop();
  sim = undefined;
});
const drifted = async (o: SimulatorOptions = {}) => (sim = await startSimulator({ scenario: driftedCore(), ...o }));

/** stdout is one JSON document, on one line, and nothing else. */
function onlyDocument<T>(stdout: string): T {
  const lines = stdout.split('\n').filter((l) => l !== '');
  expect(lines, stdout).toHaveLength(1);
  return JSON.parse(lines[0]!) as T;
}

/** A project whose cdktf.json names `app`. */
function project(app: string, files: Record<string, string> = {}): string {
  const dir = tmp();
  writeFileSync(join(dir, 'cdktf.json'), JSON.stringify({ language: 'typescript', app, output: 'cdktf.out' }));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  symlinkSync(join(root, 'node_modules'), join(dir, 'node_modules'), 'dir');
  return dir;
}
const context = { CDKTF_CONTEXT_JSON: JSON.stringify({ 'email-posture:today': TODAY }) };

describe('posture synth --format json', () => {
  it('prints the stacks written, their manifests and control counts; the app’s lines go to stderr', async () => {
    const dir = project(`node --import tsx ${JSON.stringify(join(root, 'stacks', 'main.ts'))}`);
    const r = await cli(['synth', '--format', 'json'], context, dir);
    expect(r.code, r.stderr).toBe(0);
    const doc = onlyDocument<SynthDocument>(r.stdout);
    expect(doc).toMatchObject({ schemaVersion: 1, kind: 'email-posture-synth', ok: true, exitCode: 0, errors: [] });
    expect(doc.stacks.map((s) => s.stack).sort()).toEqual(['minimal', 'tailspin']);
    const tailspin = doc.stacks.find((s) => s.stack === 'tailspin')!;
    const manifest = JSON.parse(readFileSync(tailspin.manifestPath, 'utf8')) as { controls: Array<{ mode: string }> };
    expect(tailspin.controls.total).toBe(manifest.controls.length);
    expect(Object.values(tailspin.controls.byMode).reduce((a, b) => a + b, 0)).toBe(manifest.controls.length);
    expect(tailspin.terraformPath).toBe(join(dir, 'cdktf.out', 'stacks', 'tailspin', 'cdk.tf.json'));
    expect(r.stderr).toContain('synthesized tailspin, minimal');
  }, 120_000);

  it('an invalid posture: exit 1 and every validation error with its construct path and property', async () => {
    const app = [
      `import { App, TerraformStack } from 'cdktf';`,
      `import { EmailSecurityPosture, ForwardingLockdown, runSynth } from ${JSON.stringify(join(root, 'stacks', 'index.js'))};`,
      `import { owner, postureProps } from ${JSON.stringify(join(root, 'test', 'stacks', 'helpers.js'))};`,
      `process.exitCode = runSynth((app: App) => {`,
      `  const p = new EmailSecurityPosture(new TerraformStack(app, 'contoso'), 'Posture', postureProps());`,
      `  new ForwardingLockdown(p, 'Fwd', { owner, allowedRemoteDomain: ['partner.example'] } as never);`,
      `});`,
    ].join('\n');
    const dir = project('node --import tsx app.mts', { 'app.mts': app });
    const r = await cli(['synth', '--format', 'json'], context, dir);
    expect(r.code).toBe(1);
    const doc = onlyDocument<SynthDocument>(r.stdout);
    expect(doc).toMatchObject({ kind: 'email-posture-synth', ok: false, exitCode: 1, stacks: [] });
    expect(doc.errors).toContainEqual(expect.objectContaining({ constructPath: 'contoso/Posture/Fwd', property: 'allowedRemoteDomain' }));
    expect(r.stderr).toMatch(/validation error/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  }, 120_000);

  it('a cdktf.json that cannot be read is a document too', async () => {
    const r = await cli(['synth', '--format', 'json', '--config', 'missing.json'], {}, tmp());
    expect(r.code).toBe(1);
    expect(onlyDocument<SynthDocument>(r.stdout)).toMatchObject({ ok: false, exitCode: 1, error: { message: expect.stringContaining('cannot read missing.json') } });
  });
});

describe('posture apply --format json', () => {
  it('each change with its outcome and its evidence records, the human lines on stderr', async () => {
    const s = await drifted();
    const dir = tmp();
    const planFile = join(dir, 'plan.json');
    const evidence = join(dir, 'evidence.jsonl');
    expect((await cli(['plan', ...target(s, synthDir), '--out', planFile], writer(s))).code).toBe(2);
    const plan = JSON.parse(readFileSync(planFile, 'utf8')) as PlanDocument;
    const r = await cli(['apply', planFile, '--auto-approve', '--format', 'json', '--evidence', evidence, ...tenantArgs(s, synthDir)], writer(s));
    expect(r.code, r.stderr).toBe(0);
    const doc = onlyDocument<ApplyDocument>(r.stdout);
    expect(doc).toMatchObject({ schemaVersion: 1, kind: 'email-posture-apply', ok: true, exitCode: 0, planFile, planHash: plan.planHash, stack: 'tailspin' });
    expect(doc.changes).toHaveLength(plan.changes.length);
    expect(doc.changes.every((c) => c.result === 'applied' && c.verified)).toBe(true);
    expect(doc.counts).toEqual({ applied: plan.changes.length, failed: 0, skipped: 0 });
    expect(doc.changes.map((c) => c.findingId)).toEqual(plan.changes.map((c) => c.findingId));
    // The ids and hashes are the trail's own.
    const trail = trailOf(evidence);
    const bySeq = new Map(trail.map((t) => [t.seq, t]));
    for (const c of doc.changes) {
      const rec = bySeq.get(c.evidence!.change!.seq)!;
      expect(rec).toMatchObject({ kind: 'change', runId: doc.runId, hash: c.evidence!.change!.hash, findingId: c.findingId, result: 'applied' });
      expect(bySeq.get(c.evidence!.intent!.seq)).toMatchObject({ kind: 'intent', hash: c.evidence!.intent!.hash, findingId: c.findingId });
    }
    expect(doc.evidence!.head).toEqual({ seq: trail.at(-1)!.seq, hash: trail.at(-1)!.hash });
    expect(doc.evidence!.records.map((x) => x.kind)).toEqual(trail.filter((t) => t.runId === doc.runId).map((t) => t.kind));
    expect(r.stderr).toMatch(/applied +~/);
    expect(r.stderr).toContain('Apply complete');
  });

  it('a failed change: exit 1, the failure and the changes not attempted, no stack trace', async () => {
    const s = await drifted({ faults: [{ route: '/policies/authorizationPolicy', method: 'PATCH', kind: 'status', status: 503 }] });
    const evidence = join(tmp(), 'evidence.jsonl');
    const r = await cli(['apply', '--auto-approve', '--max-retries', '0', '--format', 'json', '--evidence', evidence, ...tenantArgs(s, synthDir)], writer(s));
    expect(r.code).toBe(1);
    const doc = onlyDocument<ApplyDocument>(r.stdout);
    expect(doc).toMatchObject({ ok: false, exitCode: 1, counts: { applied: 7, failed: 1, skipped: 4 } });
    const failed = doc.changes.find((c) => c.result === 'failed')!;
    expect(failed).toMatchObject({ verified: false, resource: { type: 'authorizationPolicy' }, error: expect.stringContaining('503') });
    expect(doc.changes.filter((c) => c.result === 'skipped').every((c) => c.evidence?.change && !c.evidence.intent)).toBe(true);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('a refused apply is a document naming the rail; a stack trace never reaches stdout', async () => {
    const s = await drifted();
    const r = await cli(['apply', '--auto-approve', '--max-changes', '1', '--format', 'json', '--no-evidence', ...tenantArgs(s, synthDir)], writer(s));
    expect(r.code).toBe(1);
    const doc = onlyDocument<ApplyDocument>(r.stdout);
    expect(doc).toMatchObject({ kind: 'email-posture-apply', ok: false, exitCode: 1, counts: { applied: 0, failed: 0 }, error: { message: expect.stringContaining('1') } });
    expect(doc.changes.every((c) => c.result === 'skipped')).toBe(true);
    expect(s.requests.entries.filter((e) => e.api === 'graph' && e.method === 'PATCH')).toEqual([]);
  });

  it('escapes and redacts what the tenant supplies', async () => {
    const scenario = driftedCore();
    const token = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl';
    const rules = Object.values((scenario as unknown as { graph: { messageRules: Record<string, Array<{ displayName: string }>> } }).graph.messageRules).flat();
    const rule = rules.find((x) => x.displayName === '.');
    expect(rule).toBeDefined();
    rule!.displayName = `Fwd "all"\u202e\n${token}`;
    const s = (sim = await startSimulator({ scenario }));
    const r = await cli(['apply', '--auto-approve', '--format', 'json', '--no-evidence', ...tenantArgs(s, synthDir)], writer(s));
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).not.toContain(token);
    expect(r.stdout).not.toContain('\u202e');
    const doc = onlyDocument<ApplyDocument>(r.stdout);
    const named = doc.changes.find((c) => c.resource.name.includes('Fwd "all"'));
    expect(named, JSON.stringify(doc.changes.map((c) => c.resource.name))).toBeDefined();
    expect(named!.resource.name).toContain('Fwd "all"\u202e\n[redacted]');
  });

  it('two formats to stdout are refused before anything is read; a command line that does not parse is still a document', async () => {
    const s = await drifted();
    s.requests.clear();
    const two = await cli(['apply', '--auto-approve', '--format', 'json', '--format', 'text', ...tenantArgs(s, synthDir)], writer(s));
    expect([two.code, two.stdout]).toEqual([1, '']);
    expect(two.stderr).toMatch(/posture apply: --format json, --format text would all go to stdout, one after the other/);
    expect(s.requests.entries).toEqual([]);
    const bad = await cli(['apply', '--auto-approve', '--format', 'json', '--max-changes', 'many', ...tenantArgs(s, synthDir)], writer(s));
    expect(bad.code).toBe(1);
    expect(onlyDocument<ApplyDocument>(bad.stdout)).toMatchObject({ kind: 'email-posture-apply', ok: false, error: { reason: 'usage', message: expect.stringContaining('--max-changes') } });
    const synth = await cli(['synth', '--format', 'json', '--format', 'json'], {}, tmp());
    expect([synth.code, synth.stdout]).toEqual([1, '']);
  });
});

describe('posture rollback --format json', () => {
  it('the rollback plan saved, each change, and its evidence record; then a refusal as a document', async () => {
    const s = await drifted();
    const dir = tmp();
    const evidence = join(dir, 'evidence.jsonl');
    const applied = onlyDocument<ApplyDocument>((await cli(['apply', '--auto-approve', '--format', 'json', '--evidence', evidence, ...tenantArgs(s, synthDir)], writer(s))).stdout);
    expect(applied.ok).toBe(true);
    const out = join(dir, 'rollback.json');
    const r = await cli(['rollback', applied.runId!, '--restore-insecure', '--format', 'json', '--evidence', evidence, '--out', out, ...tenantArgs(s, synthDir)], writer(s));
    expect(r.code, r.stderr).toBe(2);
    const doc = onlyDocument<RollbackDocument>(r.stdout);
    const plan = JSON.parse(readFileSync(out, 'utf8')) as PlanDocument;
    expect(doc).toMatchObject({ schemaVersion: 1, kind: 'email-posture-rollback', ok: true, exitCode: 2, rollbackOf: applied.runId, planFile: out, planHash: plan.planHash, irreversible: [] });
    expect(doc.changes.map((c) => c.findingId)).toEqual(plan.changes.map((c) => c.findingId));
    expect(doc.changes.every((c) => c.rollbackOf?.runId === applied.runId)).toBe(true);
    expect(doc.restores.length).toBeGreaterThan(0);
    const last = trailOf(evidence).at(-1)!;
    expect(doc.evidence!.records).toEqual([{ seq: last.seq, kind: 'plan', hash: last.hash }]);
    expect(r.stderr).toContain('Saved to');
    // Without --restore-insecure: refused, and said so in the document.
    const refused = await cli(['rollback', applied.runId!, '--format', 'json', '--evidence', evidence, '--out', join(dir, 'again.json'), ...tenantArgs(s, synthDir)], writer(s));
    expect(refused.code).toBe(1);
    expect(onlyDocument<RollbackDocument>(refused.stdout)).toMatchObject({ ok: false, exitCode: 1, rollbackOf: applied.runId, error: { reason: 'restore-insecure' } });
    const unknown = await cli(['rollback', 'no-such-run', '--format', 'json', '--evidence', evidence, ...tenantArgs(s, synthDir)], writer(s));
    expect(unknown.code).toBe(1);
    expect(onlyDocument<RollbackDocument>(unknown.stdout)).toMatchObject({ ok: false, error: { message: expect.stringContaining('no run no-such-run') } });
  });
});
