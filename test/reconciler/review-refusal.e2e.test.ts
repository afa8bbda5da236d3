import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { EvidenceTrail } from '../../reconciler/evidence/store.js';
import { verifyTrail } from '../../reconciler/evidence/verify.js';
import { startSimulator, type RunningSimulator } from '../../simulator/index.js';
import { cli, synthExamples, target, writer } from './harness.js';

let synthDir: string;
let sim: RunningSimulator | undefined;
beforeAll(() => {
  synthDir = synthExamples();
});
afterEach(async () => {
  await sim?.stop();
  sim = undefined;
});

describe('a refusal is a record too', () => {
  it('apply refused because the trail holds an interrupted run on another tenant is recorded', async () => {
    const s = (sim = await startSimulator({ scenario: 'drifted' }));
    const evidence = join(mkdtempSync(join(tmpdir(), 'posture-review-refusal-')), 'evidence.jsonl');
    const trail = EvidenceTrail.open(evidence);
    trail.append({ kind: 'apply-start', runId: 'run-elsewhere', actor: { kind: 'application', id: 'app' }, planHash: 'a'.repeat(64), desiredHash: 'b'.repeat(64), tenantId: 'contoso.onmicrosoft.example', stack: 'tailspin', changes: 1 });
    const r = await cli(['apply', '--auto-approve', '--evidence', evidence, ...target(s, synthDir)], writer(s));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/apply run run-elsewhere on tenant contoso\.onmicrosoft\.example was interrupted/);
    const text = readFileSync(evidence, 'utf8');
    expect(verifyTrail(text).ok).toBe(true);
    const last = JSON.parse(text.trim().split('\n').pop()!) as Record<string, unknown>;
    expect(last).toMatchObject({ kind: 'refusal', command: 'apply', reason: 'interrupted-run', tenantId: s.tenantId });
  });
});
