import { describe, expect, it } from 'vitest';
import { auditedMailbox, auditWindow, mergeChanged, mergeDelta, planMailboxReads, rotationSlice, watermarkOf } from '../../reconciler/read/incremental/plan.js';
import { compactRows, expandRows, fullReadReason, parseState, STATE_VERSION, type IncrementalState } from '../../reconciler/read/incremental/state.js';

describe('merging what changed into the rows kept', () => {
  it('a delta round replaces rows by id (any case), adds new ones at the end, takes removed ones out, and drops its annotations', () => {
    const rows = [{ id: 'A', n: 1 }, { id: 'b', n: 2 }, { id: 'c', n: 3 }];
    const merged = mergeDelta(rows, [{ id: 'a', n: 10, '@odata.type': '#microsoft.graph.user' }, { id: 'B', '@removed': { reason: 'changed' } }, { id: 'd', n: 4 }, { id: 'e', '@removed': { reason: 'deleted' } }]);
    expect(merged).toEqual([{ id: 'a', n: 10 }, { id: 'c', n: 3 }, { id: 'd', n: 4 }]);
  });

  it('rows changed since the watermark replace the row of their key; the watermark is the latest date as the service wrote it', () => {
    const rows = [{ Guid: 'g1', WhenChanged: '2026-06-01T00:00:00Z' }, { Guid: 'g2' }];
    const merged = mergeChanged(rows, [{ Guid: 'G2', WhenChanged: '2026-06-02T08:00:00+00:00', ForwardingSmtpAddress: 'smtp:x@y.example' }, { Guid: 'g3', WhenChanged: '2026-06-01T09:00:00Z' }], 'Guid');
    expect(merged.map((r) => r['Guid'])).toEqual(['g1', 'G2', 'g3']);
    expect(watermarkOf(merged, 'WhenChanged')).toBe('2026-06-02T08:00:00+00:00');
    expect(watermarkOf([{ Guid: 'x' }], 'WhenChanged')).toBeNull();
  });
});

describe('which mailboxes a run reads again', () => {
  it('the rotation reads every mailbox within its period, whatever the order the ids come in', () => {
    const ids = Array.from({ length: 23 }, (_, i) => `M${String(i).padStart(2, '0')}`);
    for (const period of [1, 3, 7, 23, 40]) {
      let cursor = 0;
      const seen = new Set<string>();
      for (let run = 0; run < period; run++) {
        const { slice, next } = rotationSlice(run % 2 ? [...ids].reverse() : ids, cursor, period);
        for (const id of slice) seen.add(id);
        cursor = next;
      }
      expect(seen.size, `period ${period}`).toBe(ids.length);
    }
    expect(rotationSlice([], 5, 7)).toEqual({ slice: [], next: 0 });
  });

  it('reads the mailboxes the audit log names (by owner or object), those changed since the watermark, and the slice', () => {
    const known = [
      { id: 'u1', names: ['one@contoso.example'] },
      { id: 'u2', names: ['two@contoso.example'] },
      { id: 'u3', names: ['three@contoso.example'] },
      { id: 'u4', names: ['four@contoso.example'] },
    ];
    const plan = planMailboxReads({
      known,
      audit: [
        { operation: 'UpdateInboxRules', auditData: { MailboxOwnerUPN: 'One@Contoso.example' } },
        { operation: 'New-InboxRule', objectId: 'two@contoso.example\\Forward all', auditData: {} },
        { operation: 'New-InboxRule', objectId: 'stranger@contoso.example\\x' },
      ],
      changed: ['U3'],
      rotation: { cursor: 3, period: 4 },
    });
    expect([...plan.read].sort()).toEqual(['u1', 'u2', 'u3', 'u4']);
    expect(Object.fromEntries(plan.because)).toEqual({ u1: 'audit', u2: 'audit', u3: 'changed', u4: 'rotation' });
    expect(plan.unknownAddresses).toEqual(['stranger@contoso.example']);
    expect(plan.nextCursor).toBe(0);
    expect(auditedMailbox({ objectId: '' })).toBeUndefined();
  });

  it('the audit window starts the overlap before the last one ended, never after now', () => {
    expect(auditWindow('2026-06-02T00:00:00.000Z', new Date('2026-06-03T00:00:00Z'), 3600_000)).toEqual({ start: '2026-06-01T23:00:00.000Z', end: '2026-06-03T00:00:00.000Z' });
    expect(auditWindow('2026-06-05T00:00:00.000Z', new Date('2026-06-03T00:00:00Z'), 0).start).toBe('2026-06-03T00:00:00.000Z');
  });
});

describe('the state', () => {
  const state = (o: Partial<IncrementalState> = {}): IncrementalState => ({
    version: STATE_VERSION, tenantId: 'T1', desiredHash: 'h', observedAt: '2026-06-01T00:00:00.000Z', delta: {}, changed: {}, perMailbox: {},
    auditEnd: '2026-06-01T00:00:00.000Z', rotation: { period: 7, cursor: 0 }, ...o,
  });

  it('compacts rows that mostly agree to their differences, and expands them back to equal rows', () => {
    const rows = Array.from({ length: 50 }, (_, i) => ({ id: `m${i}`, AuditEnabled: true, AuditOwner: ['Update', 'Send'], ...(i === 7 ? { ForwardingSmtpAddress: 'smtp:x@y.example' } : {}), ...(i === 9 ? { AuditEnabled: false } : {}) }));
    rows.push({ id: 'odd' } as never);
    const c = compactRows(rows);
    expect(c.common).toEqual({ AuditEnabled: true, AuditOwner: ['Update', 'Send'] });
    expect(JSON.stringify(c).length).toBeLessThan(JSON.stringify(rows).length / 2);
    expect(expandRows(JSON.parse(JSON.stringify(c)))).toEqual(rows);
  });

  it('a state is used only for its own tenant and posture, within the delta links\' lifetime, with the same rotation period', () => {
    const run = { tenantId: 't1', desiredHash: 'h', now: new Date('2026-06-03T00:00:00Z'), lifetimeMs: 7 * 86_400_000, period: 7 };
    expect(fullReadReason(state(), run)).toBeUndefined();
    expect(fullReadReason(undefined, run)).toBe('no state from an earlier run');
    expect(fullReadReason(state(), { ...run, full: true })).toBe('--full was given');
    expect(fullReadReason(state({ tenantId: 'T2' }), run)).toMatch(/another tenant/);
    expect(fullReadReason(state({ desiredHash: 'other' }), run)).toMatch(/another posture/);
    expect(fullReadReason(state(), { ...run, period: 3 })).toMatch(/rotates over 7 runs/);
    expect(fullReadReason(state(), { ...run, now: new Date('2026-06-09T00:00:01Z') })).toMatch(/older than its delta links live \(8 days\)/);
    expect(fullReadReason(state(), { ...run, now: new Date('2026-05-31T00:00:00Z') })).toMatch(/clock moved back/);
  });

  it('a file that is not a state of this version is refused with what is wrong', () => {
    expect(parseState(state())).toEqual(state());
    expect(parseState([])).toEqual({ problem: 'it is not a JSON object' });
    expect(parseState({ ...state(), version: 2 })).toEqual({ problem: 'its version is 2, this version reads 1' });
    expect(parseState({ ...state(), observedAt: 'yesterday' })).toEqual({ problem: 'observedAt is not a date-time' });
    expect(parseState({ ...state(), delta: { user: { link: 3, rows: { common: {}, rows: [] } } } })).toEqual({ problem: 'delta is not a map of links and rows' });
    expect(parseState({ ...state(), perMailbox: { inboxRule: { u1: 'rules' } } })).toEqual({ problem: 'perMailbox is not a map of items by mailbox' });
    expect(parseState({ ...state(), rotation: { period: 0, cursor: 0 } })).toEqual({ problem: 'rotation is not a period and a cursor' });
  });
});
