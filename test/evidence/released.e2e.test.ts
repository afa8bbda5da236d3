/**
 * Plans and an evidence trail written by an earlier release (test/fixtures/released/, see its
 * README) stay readable: the trail verifies with the same head, the plans show the same, their
 * hashes hold, and they still apply and roll back against the simulator.
 */
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import type { PlanDocument } from '../../reconciler/model/plan.js';
import { startSimulator, type RunningSimulator } from '../../simulator/index.js';
import { cli, target, writer, driftedCore } from '../reconciler/harness.js';

const dir = fileURLToPath(new URL('../fixtures/released/', import.meta.url));
const fixture = (name: string) => join(dir, name);
const HEAD = '180dbe1319331e214bc692f615ea1812de8a678b6fd382190016bffb5524c7a7';
const { runId } = JSON.parse(readFileSync(fixture('run.json'), 'utf8')) as { runId: string };

/**
 * The posture those plans were made from, as that release synthesized it (the same stack and day:
 * its hash is their desiredHash). The example posture has grown controls since, so a synth of it
 * today would make the plans stale.
 */
const synthDir = fileURLToPath(new URL('../fixtures/released-apply/synth/', import.meta.url));
let sim: RunningSimulator | undefined;
afterEach(async () => {
  await sim?.stop();
  sim = undefined;
});

describe('a trail and plans written by the released code', () => {
  it('the trail verifies, with the head it had', async () => {
    const r = await cli(['evidence', 'verify', fixture('evidence.jsonl')]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe(`18 records, chain intact, head ${HEAD}`);
    const again = await cli(['evidence', 'verify', fixture('evidence.jsonl'), '--expect-head', HEAD, '--format', 'json']);
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ ok: true, records: 18, head: HEAD, headSeq: 18, problems: [] });
  });

  it('a trail holding strings with lone surrogates (tenant data RFC 8785 refuses) still verifies', async () => {
    const r = await cli(['evidence', 'verify', fixture('lone-surrogate.jsonl')]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe('2 records, chain intact, head f52215bb15c7f6193268cb852aae330408acb3fdc1936cfe21370d610607e2a8');
    // An edit is still found in such a record.
    const work = mkdtempSync(join(tmpdir(), 'posture-released-'));
    const edited = join(work, 'edited.jsonl');
    writeFileSync(edited, readFileSync(fixture('lone-surrogate.jsonl'), 'utf8').replace('nothing', 'n0thing'));
    const bad = await cli(['evidence', 'verify', edited]);
    expect(bad.code).toBe(1);
    expect(bad.stdout).toContain('record 2 (line 2) was edited');
  });

  it('`posture show` renders each plan as the released code did', async () => {
    for (const name of ['plan', 'rollback-plan']) {
      const r = await cli(['show', fixture(`${name}.json`), '--color', 'false']);
      expect(r.stderr).toBe('');
      expect(r.stdout).toBe(readFileSync(fixture(`${name}.show.txt`), 'utf8'));
    }
  });

  it('the plans carry the hashes the current code computes', async () => {
    const { planHashOf } = await import('../../reconciler/plan/build.js');
    for (const name of ['plan.json', 'rollback-plan.json', 'lone-surrogate-plan.json']) {
      const plan = JSON.parse(readFileSync(fixture(name), 'utf8')) as PlanDocument;
      expect(planHashOf(plan)).toBe(plan.planHash);
    }
  });

  it('the plan applies, recorded on the released trail, and that run rolls back from it', async () => {
    const s = (sim = await startSimulator({ scenario: driftedCore() }));
    const work = mkdtempSync(join(tmpdir(), 'posture-released-'));
    const trail = join(work, 'evidence.jsonl');
    copyFileSync(fixture('evidence.jsonl'), trail);
    const a = await cli(['apply', fixture('plan.json'), '--auto-approve', '--evidence', trail, ...target(s, synthDir)], writer(s));
    expect(a.code, a.stderr).toBe(0);
    expect(a.stdout).toContain('Apply complete: 6 changes applied and verified.');
    const applied = /recorded as run ([0-9a-f-]{36})/.exec(a.stderr)?.[1];
    expect(applied).toBeDefined();
    expect(applied).not.toBe(runId);

    const tenantArgs = target(s, synthDir).filter((x, i, all) => x !== '--today' && all[i - 1] !== '--today');
    const rollbackFile = join(work, 'rollback.json');
    const rb = await cli(['rollback', applied!, '--evidence', trail, '--out', rollbackFile, ...tenantArgs, '--restore-insecure'], writer(s));
    expect(rb.code, rb.stderr).toBe(2);
    expect(rb.stdout).toContain(`Rollback of run ${applied}: 6 changes, last change first:`);
    // The plan passes apply's checks up to the break-glass rail, which the drifted policy's undo trips
    // (it would take the break-glass account back out of the exclusions).
    const ra = await cli(['apply', rollbackFile, '--auto-approve', '--evidence', trail, ...tenantArgs], writer(s));
    expect(ra.code).toBe(1);
    expect(ra.stderr).toContain('posture apply: refusing to write conditional access policy "EP - Sign-in risk medium+high: MFA every time": it would apply to break-glass account bg-bravo@tailspintoys.example');
    const v = await cli(['evidence', 'verify', trail]);
    expect(v.code, v.stdout).toBe(0);
    expect(v.stdout).toMatch(/^(\d+) records, chain intact/);
    expect(Number(/^(\d+)/.exec(v.stdout)![1])).toBeGreaterThan(18);
    // The released records are still the first 18 lines, unchanged.
    expect(readFileSync(trail, 'utf8').startsWith(readFileSync(fixture('evidence.jsonl'), 'utf8'))).toBe(true);
  });
});
