import { hostname } from 'node:os';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ChangeEvidenceRecord, EvidenceRecord } from '../../reconciler/evidence/records.js';
import { startSimulator, type RunningSimulator } from '../../simulator/index.js';
import type { RequestLogEntry } from '../../simulator/http/log.js';
import { cli, startCli, synthExamples, target, writer, type CliResult, driftedCore } from './harness.js';

let synthDir: string;
let sim: RunningSimulator | undefined;
beforeAll(() => {
  synthDir = synthExamples();
});
afterEach(async () => {
  await sim?.stop();
  sim = undefined;
});

const CA_NAME = 'EP - Sign-in risk medium+high: MFA every time';
const CA_WRITE = { route: '/identity/conditionalAccess/policies/', method: 'PATCH', kind: 'hold' as const, times: 1 };
const tmp = () => mkdtempSync(join(tmpdir(), 'posture-crash-'));
const records = (file: string) => readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as EvidenceRecord);
const isWrite = (e: RequestLogEntry) => (e.api === 'graph' ? e.method !== 'GET' && !e.path.includes('$batch') : !/^Get-/.test(e.cmdlet ?? ''));
const tenantArgs = (s: RunningSimulator) => target(s, synthDir).filter((a, i, all) => a !== '--today' && all[i - 1] !== '--today');
const policy = (s: RunningSimulator) => s.tenant.graph.conditionalAccessPolicies.findBy('displayName', CA_NAME)[0]!;

/**
 * Starts `posture apply --auto-approve` on the drifted tenant, waits until its conditional access
 * write (the sixth change) has reached the service and taken, and kills the process with SIGKILL
 * there: after the write, before its outcome could be recorded.
 */
async function applyKilledMidWrite(s: RunningSimulator, evidence: string): Promise<{ pid: number; killed: CliResult }> {
  const { child, done } = startCli(['apply', '--auto-approve', '--evidence', evidence, ...target(s, synthDir)], writer(s));
  await s.faults.held();
  child.kill('SIGKILL');
  const killed = await done;
  s.faults.release();
  return { pid: child.pid!, killed };
}

describe('an apply killed between a write and its record', () => {
  it('the intent is on record: verify reports the run, and the next apply reads the target, records that the write took, and goes on', async () => {
    const s = (sim = await startSimulator({ scenario: driftedCore(), faults: [CA_WRITE] }));
    const dir = tmp();
    const evidence = join(dir, 'evidence.jsonl');
    const { pid, killed } = await applyKilledMidWrite(s, evidence);
    expect(killed.code).toBeNull();
    // The write took in the tenant; the trail has its intent and no outcome.
    const sessionControls = policy(s)['sessionControls'];
    expect(sessionControls).not.toBeNull();
    const left = records(evidence);
    const start = left.find((r) => r.kind === 'apply-start')!;
    const intent = left[left.length - 1]!;
    expect(intent).toMatchObject({ kind: 'intent', runId: start.runId, resource: { type: 'conditionalAccessPolicy', name: CA_NAME }, action: 'update', write: { api: 'graph', method: 'PATCH' } });
    expect(left.filter((r) => r.kind === 'change')).toHaveLength(5);
    expect(left.some((r) => r.kind === 'apply-end')).toBe(false);

    // verify: the chain is intact, and the run without its end is reported; exit 1.
    const verified = await cli(['evidence', 'verify', evidence]);
    expect(verified.code).toBe(1);
    expect(verified.stdout).toContain(
      `apply run ${start.runId} (record ${start.seq}, started ${start.time}) has no end record: it was interrupted (a killed process?); it was writing conditionalAccessPolicy "${CA_NAME}" (intent, record ${intent.seq}), and whether that write took is not recorded.`,
    );
    expect(verified.stdout).toMatch(new RegExp(`^${left.length} records, chain intact, head [0-9a-f]{64}; 1 apply run was interrupted and not settled$`, 'm'));
    const json = JSON.parse((await cli(['evidence', 'verify', evidence, '--format', 'json'])).stdout) as { ok: boolean; unfinished: Array<{ runId: string; state: string }> };
    expect(json.ok).toBe(true);
    expect(json.unfinished).toMatchObject([{ runId: start.runId, state: 'interrupted' }]);

    // The killed process left its locks; the next apply takes them over, settles the run, and goes on.
    const writesBefore = s.requests.entries.filter(isWrite).length;
    const next = await cli(['apply', '--auto-approve', '--evidence', evidence, ...target(s, synthDir)], writer(s));
    expect(next.code, next.stderr).toBe(0);
    expect(next.stderr).toContain(`warning: took over the lock on tenant ${s.tenantId} left by pid ${pid} on host ${hostname()}`);
    expect(next.stderr).toMatch(/that process is no longer running/);
    expect(next.stderr).toContain(
      `warning: apply run ${start.runId} (started ${start.time}) was interrupted and never ended: its change to conditionalAccessPolicy "${CA_NAME}" took (a read shows it): recorded as applied.`,
    );
    const newRun = /recorded as run ([0-9a-f-]{36})/.exec(next.stderr)![1]!;
    // The conditional access write was not made again (the plan found it done); the others were made once.
    expect(s.requests.entries.filter((e) => e.method === 'PATCH' && e.path.includes('/conditionalAccess/'))).toHaveLength(1);
    expect(s.requests.entries.filter(isWrite).length - writesBefore).toBe(6);

    const all = records(evidence);
    const settled = all.find((r): r is ChangeEvidenceRecord => r.kind === 'change' && r.runId === start.runId && r.resource.type === 'conditionalAccessPolicy')!;
    expect(settled).toMatchObject({ result: 'applied', intent: intent.seq, settledBy: newRun, before: (intent as { before: unknown }).before });
    expect((settled.after as { sessionControls: unknown }).sessionControls).toEqual(sessionControls);
    expect(settled.settled).toMatch(new RegExp(`^run ${start.runId} was interrupted while it sent this write \\(intent, record ${intent.seq}\\); run ${newRun} read the target at .*: the write took$`));
    const end = all.find((r) => r.kind === 'apply-end' && r.runId === start.runId)!;
    expect(end).toMatchObject({ counts: { applied: 6, failed: 0, skipped: 6 }, exitCode: 1, settledBy: newRun });
    expect(all.findIndex((r) => r === end)).toBeLessThan(all.findIndex((r) => r.kind === 'apply-start' && r.runId === newRun));
    const verifiedAfter = await cli(['evidence', 'verify', evidence]);
    expect(verifiedAfter.code, verifiedAfter.stdout).toBe(0);
    expect(verifiedAfter.stdout).toMatch(/chain intact, head [0-9a-f]{64}\n$/);

    // The killed run can be rolled back, the write it never recorded itself included.
    const rb = await cli(['rollback', start.runId, '--evidence', evidence, '--out', join(dir, 'rb.json'), '--restore-insecure', ...tenantArgs(s)], writer(s));
    expect(rb.code, rb.stderr).toBe(2);
    expect(rb.stdout).toContain(`~ conditionalAccessPolicy "${CA_NAME}"`);
    expect(rb.stdout).toContain('6 changes, last change first');
  }, 120_000);

  it('a write that had not taken when the process was killed: recorded as not made, and the next apply makes it', async () => {
    const s = (sim = await startSimulator({ scenario: driftedCore(), faults: [CA_WRITE] }));
    const evidence = join(tmp(), 'evidence.jsonl');
    const before = structuredClone(policy(s));
    await applyKilledMidWrite(s, evidence);
    // As if the process had died just before sending: the policy is as it was.
    s.tenant.graph.conditionalAccessPolicies.replace(before.id, before);
    const start = records(evidence).find((r) => r.kind === 'apply-start')!;

    const next = await cli(['apply', '--auto-approve', '--evidence', evidence, ...target(s, synthDir)], writer(s));
    expect(next.code, next.stderr).toBe(0);
    expect(next.stderr).toContain(`its change to conditionalAccessPolicy "${CA_NAME}" did not take (a read shows the resource as it was before the write): recorded as not made`);
    const settled = records(evidence).find((r): r is ChangeEvidenceRecord => r.kind === 'change' && r.runId === start.runId && r.resource.type === 'conditionalAccessPolicy')!;
    expect(settled).toMatchObject({ result: 'skipped', after: null });
    expect(records(evidence).find((r) => r.kind === 'apply-end' && r.runId === start.runId)).toMatchObject({ counts: { applied: 5, failed: 0, skipped: 7 } });
    // This apply made the write itself.
    expect(next.stdout).toContain(`applied ~ conditionalAccessPolicy "${CA_NAME}"`);
    expect(policy(s)['sessionControls']).not.toBeNull();
    expect((await cli(['evidence', 'verify', evidence])).code).toBe(0);
  }, 120_000);

  it('a killed apply is settled by the next rollback too, before it reverses anything', async () => {
    const s = (sim = await startSimulator({ scenario: driftedCore(), faults: [CA_WRITE] }));
    const dir = tmp();
    const evidence = join(dir, 'evidence.jsonl');
    await applyKilledMidWrite(s, evidence);
    const start = records(evidence).find((r) => r.kind === 'apply-start')!;
    const out = join(dir, 'rb.json');
    const rb = await cli(['rollback', start.runId, '--evidence', evidence, '--out', out, '--restore-insecure', ...tenantArgs(s)], writer(s));
    expect(rb.code, rb.stderr).toBe(2);
    expect(rb.stderr).toContain(`apply run ${start.runId} (started ${start.time}) was interrupted and never ended: its change to conditionalAccessPolicy "${CA_NAME}" took`);
    expect(rb.stdout).toContain(`~ conditionalAccessPolicy "${CA_NAME}"`);
    expect(existsSync(out)).toBe(true);
    expect((await cli(['evidence', 'verify', evidence])).code).toBe(0);
  }, 120_000);
});

describe('two runs at once', () => {
  it('a second apply or rollback while an apply writes: refused, naming the holder, and nothing read or written', async () => {
    const s = (sim = await startSimulator({ scenario: driftedCore(), faults: [CA_WRITE] }));
    const dir = tmp();
    const evidence = join(dir, 'evidence.jsonl');
    const first = startCli(['apply', '--auto-approve', '--evidence', evidence, ...target(s, synthDir)], writer(s));
    await s.faults.held();
    const requests = s.requests.entries.length;
    const holder = new RegExp(
      `is locked by another run: pid ${first.child.pid} on host ${hostname().replace(/[.]/g, '\\.')}, started \\d{4}-\\d\\d-\\d\\dT[0-9:.]+Z, running "posture apply --auto-approve --evidence ${evidence.replace(/[.]/g, '\\.')} --synth-dir .*"\\. Nothing was read or written; run again once it has ended\\.`,
    );

    // The same tenant and trail; the same tenant with another trail, or none: all refused.
    for (const recording of [['--evidence', evidence], ['--evidence', join(dir, 'other.jsonl')], ['--no-evidence']]) {
      const second = await cli(['apply', '--auto-approve', ...recording, ...target(s, synthDir)], writer(s));
      expect(second.code).toBe(1);
      expect(second.stderr).toMatch(new RegExp(`^posture apply: tenant ${s.tenantId} ${holder.source}`, 'm'));
    }
    const start = records(evidence).find((r) => r.kind === 'apply-start')!;
    const rb = await cli(['rollback', start.runId, '--evidence', evidence, '--out', join(dir, 'rb.json'), '--restore-insecure', ...tenantArgs(s)], writer(s));
    expect(rb.code).toBe(1);
    expect(rb.stderr).toMatch(new RegExp(`^posture rollback: tenant ${s.tenantId} ${holder.source}`, 'm'));
    expect(existsSync(join(dir, 'rb.json'))).toBe(false);
    expect(s.requests.entries.slice(requests)).toEqual([]);
    expect(existsSync(join(dir, 'other.jsonl'))).toBe(false);

    s.faults.release();
    const done = await first.done;
    expect(done.code, done.stderr).toBe(0);
    expect(s.requests.entries.filter((e) => e.method === 'PATCH' && e.path.includes('/conditionalAccess/'))).toHaveLength(1);
    // Once it has ended, the next apply runs (and finds nothing left to do).
    const after = await cli(['apply', '--auto-approve', '--evidence', evidence, ...target(s, synthDir)], writer(s));
    expect(after.code, after.stderr).toBe(0);
    expect(after.stdout).toContain('No changes to apply.');
    expect(after.stderr).not.toMatch(/took over/);
  }, 120_000);
});
