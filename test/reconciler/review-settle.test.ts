import { afterEach, describe, expect, it } from 'vitest';
import { settleInterrupted } from '../../reconciler/apply/settle.js';
import type { EvidenceRecord } from '../../reconciler/evidence/records.js';
import { connect } from '../../reconciler/input/connection.js';
import { startSimulator, type RunningSimulator } from '../../simulator/index.js';
import { writer } from './harness.js';

let sim: RunningSimulator | undefined;
afterEach(async () => {
  await sim?.stop();
  sim = undefined;
});

const base = { v: 1, time: '2026-06-01T10:00:00.000Z', actor: { kind: 'application', id: 'app' }, prev: '0'.repeat(64), hash: '1'.repeat(64), planHash: 'a'.repeat(64) } as const;

describe('settling an interrupted run, with names from the tenant', () => {
  it('says what it found on one line per fact, whatever the resource name holds', async () => {
    const s = (sim = await startSimulator({ scenario: 'compliant', limits: { enabled: false } }));
    const conn = connect({ tenant: s.tenantId, auth: 'token', graphUrl: s.graphUrl, exchangeUrl: s.exoUrl, timeoutMs: 10_000, env: writer(s) });
    const records = [
      { ...base, seq: 1, runId: 'run-1\nforged', kind: 'apply-start', desiredHash: 'b'.repeat(64), tenantId: s.tenantId, stack: 'tailspin', changes: 1 },
      {
        ...base, seq: 2, runId: 'run-1\nforged', kind: 'intent', findingId: 'EP-1', control: 'MAIL.FWD.2v1', resource: { type: 'remoteDomain', id: null, name: 'Default\nApply complete: 1 change applied and verified.' },
        action: 'update', write: { api: 'exchange', cmdlet: 'Set-RemoteDomain', parameters: { Identity: 'Default', AutoForwardEnabled: false } }, before: { Identity: 'Default', AutoForwardEnabled: true },
      },
    ] as unknown as EvidenceRecord[];
    const [settled] = await settleInterrupted(records, conn, { runId: 'run-2', actor: { kind: 'application', id: 'app' } });
    expect(settled!.lines).toHaveLength(1);
    for (const line of settled!.lines) expect(line).not.toMatch(/\n/);
    // The messages recorded with the outcome are one line each too (the records' data stay as read).
    for (const r of settled!.records as unknown as Array<Record<string, unknown>>) {
      for (const k of ['error', 'settled']) if (typeof r[k] === 'string') expect(r[k]).not.toMatch(/\n/);
    }
  });
});
