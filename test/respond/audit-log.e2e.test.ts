import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { TokenProvider } from '../../reconciler/auth/tokens.js';
import { AuditLogReadError, readAuditLog, type AuditLogFilter } from '../../reconciler/read/audit-log.js';
import { GraphTransport } from '../../reconciler/transport/graph.js';
import { startSimulator, type RunningSimulator } from '../../simulator/index.js';

/**
 * The audit log reader against the simulator's Purview audit search: it creates a query, polls it
 * until it has succeeded and reads every page of its records, and fails with one error naming what
 * was not read when the query does not succeed or a page cannot be read.
 */
const JAMIE = 'jamie.brooks@tailspintoys.example';
const DREW = 'drew.evans@tailspintoys.example';
const NOW = '2026-11-16T11:00:00Z';

const record = (id: string, createdDateTime: string, upn: string, operation: string) => ({
  id, createdDateTime, auditLogRecordType: 'exchangeAdmin', operation, organizationId: 'b3c1f0e2-7d4a-4e6b-9a58-2c0d1e4f6a7b',
  userType: 'regular', userId: upn, service: 'Exchange', objectId: `${upn}\\rule`, userPrincipalName: upn, clientIp: '203.0.113.7',
  administrativeUnits: [], auditData: { '@odata.type': 'microsoft.graph.security.auditData' },
});

/** 160 of Jamie's rule changes in the window (more than a page), Drew's, and Jamie's outside it. */
const RECORDS = [
  ...Array.from({ length: 160 }, (_, i) => record(`jamie-${String(i).padStart(3, '0')}`, new Date(Date.parse('2026-11-16T08:00:00Z') + i * 10_000).toISOString(), JAMIE, i % 2 ? 'Set-InboxRule' : 'New-InboxRule')),
  record('jamie-login', '2026-11-16T09:00:00Z', JAMIE, 'UserLoggedIn'),
  record('drew-rule', '2026-11-16T09:00:00Z', DREW, 'New-InboxRule'),
  record('jamie-before', '2026-11-15T07:00:00Z', JAMIE, 'New-InboxRule'),
];

const FILTER: AuditLogFilter = { start: '2026-11-16T00:00:00Z', end: '2026-11-16T10:00:00Z', userPrincipalNames: [JAMIE], operations: ['New-InboxRule', 'Set-InboxRule'] };

let sim: RunningSimulator | undefined;
afterEach(async () => {
  await sim?.stop();
  sim = undefined;
});

async function startWith(search?: Record<string, unknown>): Promise<RunningSimulator> {
  const dir = mkdtempSync(join(tmpdir(), 'scenario-audit-read-'));
  const file = join(dir, 'audit.json');
  writeFileSync(file, JSON.stringify({
    name: 'audit', description: 'compliant, with an audit log', extends: 'compliant',
    drifts: [
      { id: 'audit-records', description: 'rule changes in the audit log', patch: [{ op: 'add', path: '/graph/auditLogRecords', value: RECORDS }] },
      ...(search ? [{ id: 'audit-search', description: 'how audit queries end', patch: [{ op: 'add', path: '/graph/auditLogSearch', value: search }] }] : []),
    ],
  }));
  sim = await startSimulator({ scenario: file, limits: { enabled: false } });
  sim.clock.set(NOW);
  return sim;
}

/** A connection with only the Graph transport, retrying little and waiting for nothing. */
function connection(s: RunningSimulator, roles?: readonly string[]) {
  const tokens: TokenProvider = { canRefresh: false, description: 'test', token: async (api) => s.token(api, roles ? { roles } : {}) };
  return { graph: new GraphTransport({ baseUrl: s.graphUrl, tokens, retry: { maxRetries: 1, baseDelayMs: 1, maxDelayMs: 5 }, sleep: async () => undefined }) };
}

/** A polling clock that moves only when the reader sleeps; `onSleep` may move the simulator's too. */
function fakeTime(intervalMs: number, maxWaitMs: number, onSleep?: (ms: number) => void) {
  let t = Date.parse(NOW);
  const sleeps: number[] = [];
  return {
    sleeps,
    polling: {
      intervalMs, maxWaitMs, now: () => t,
      sleep: async (ms: number) => {
        sleeps.push(ms);
        t += ms;
        onSleep?.(ms);
      },
    },
  };
}

const auditRequests = (s: RunningSimulator) => s.requests.entries.filter((e) => e.path.includes('/security/auditLog/')).map((e) => `${e.method} ${e.path.replace(/queries\/[0-9a-f-]{36}/, 'queries/{id}').replace(/(\$|%24)skiptoken=[^&]+/, '$$skiptoken=…')} ${e.status}`);

describe('reading the audit log', () => {
  it('creates the query, polls it until it has succeeded, and reads every page of its records', async () => {
    const s = await startWith();
    const time = fakeTime(5_000, 60_000);
    const read = await readAuditLog(connection(s), FILTER, time.polling);
    expect(read.records.map((r) => r.id)).toEqual(RECORDS.slice(0, 160).map((r) => r.id));
    expect(read.records[0]).toMatchObject({ operation: 'New-InboxRule', userPrincipalName: JAMIE, '@odata.type': '#microsoft.graph.security.auditLogRecord' });
    expect(time.sleeps).toEqual([5_000]);
    expect(auditRequests(s)).toEqual([
      'POST /v1.0/security/auditLog/queries 201',
      'GET /v1.0/security/auditLog/queries/{id} 200',
      'GET /v1.0/security/auditLog/queries/{id} 200',
      'GET /v1.0/security/auditLog/queries/{id}/records 200',
      'GET /v1.0/security/auditLog/queries/{id}/records?$skiptoken=… 200',
    ]);
    const query = s.tenant.auditLogSearch.get(read.queryId, s.tenant.clock.now(), s.tenant.graph.auditLogRecords)!.query;
    expect(query).toMatchObject({ filterStartDateTime: FILTER.start, filterEndDateTime: FILTER.end, userPrincipalNameFilters: [JAMIE], operationFilters: ['New-InboxRule', 'Set-InboxRule'], recordTypeFilters: [] });
  });

  it('a query that never succeeds is an error once the maximum wait has passed, and its records are never read', async () => {
    const s = await startWith({ outcome: 'running' });
    const time = fakeTime(10_000, 45_000);
    const err = await readAuditLog(connection(s), FILTER, time.polling).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AuditLogReadError);
    expect((err as Error).message).toMatch(
      new RegExp(`^audit log records from ${FILTER.start} to ${FILTER.end} \\(users ${JAMIE}; operations New-InboxRule, Set-InboxRule\\) were not read: the audit log query [0-9a-f-]{36} did not succeed within 45 s \\(still running\\)$`),
    );
    expect((err as AuditLogReadError).queryId).toMatch(/^[0-9a-f-]{36}$/);
    // Waits of 10 s up to the 45 s: the last one shortened to what was left.
    expect(time.sleeps).toEqual([10_000, 10_000, 10_000, 10_000, 5_000]);
    expect(auditRequests(s).filter((r) => r.includes('/records'))).toEqual([]);
    expect(auditRequests(s).filter((r) => r.startsWith('GET'))).toHaveLength(6);
  });

  it('a failed or cancelled query is an error naming the query', async () => {
    for (const outcome of ['failed', 'cancelled'] as const) {
      const s = await startWith({ outcome });
      const err = await readAuditLog(connection(s), FILTER, fakeTime(1_000, 60_000).polling).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(AuditLogReadError);
      expect((err as Error).message).toMatch(new RegExp(`were not read: the audit log query ${(err as AuditLogReadError).queryId} ended ${outcome}$`));
      expect(auditRequests(s).filter((r) => r.includes('/records'))).toEqual([]);
      await s.stop();
      sim = undefined;
    }
  });

  it('a page of records that cannot be read is an error, not a short list', async () => {
    const s = await startWith();
    s.faults.add({ api: 'graph', route: '/auditLog/queries/[^/]+/records$', kind: 'status', status: 503, after: 1 });
    const err = await readAuditLog(connection(s), FILTER, fakeTime(1_000, 60_000).polling).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AuditLogReadError);
    expect((err as Error).message).toMatch(/were not read: reading the records of audit log query [0-9a-f-]{36} failed: .*\/records\?\$skiptoken=.*HTTP 503 ServiceUnavailable/);
    expect(auditRequests(s).filter((r) => r.includes('/records'))).toEqual([
      'GET /v1.0/security/auditLog/queries/{id}/records 200',
      'GET /v1.0/security/auditLog/queries/{id}/records?$skiptoken=… 503',
      'GET /v1.0/security/auditLog/queries/{id}/records?$skiptoken=… 503',
    ]);
  });

  it('a missing permission, a bad window and a query over its record-count limit are errors; nothing is created for a bad window', async () => {
    const s = await startWith({ recordCountLimit: 100 });
    const denied = await readAuditLog(connection(s, ['SecurityAlert.Read.All']), FILTER, fakeTime(1_000, 60_000).polling).catch((e: unknown) => e);
    expect((denied as Error).message).toMatch(/were not read: creating the audit log query failed: \/security\/auditLog\/queries: permission missing \(AuditLogsQuery\.Read\.All .*\): HTTP 403 Authorization_RequestDenied/);

    const reversed = await readAuditLog(connection(s), { ...FILTER, start: FILTER.end, end: FILTER.start }, fakeTime(1_000, 60_000).polling).catch((e: unknown) => e);
    expect((reversed as Error).message).toMatch(/were not read: the window ends \(2026-11-16T00:00:00Z\) before it starts/);
    const garbled = await readAuditLog(connection(s), { ...FILTER, start: 'last tuesday' }, fakeTime(1_000, 60_000).polling).catch((e: unknown) => e);
    expect((garbled as Error).message).toMatch(/the window last tuesday to .* is not two ISO 8601 date-times/);
    expect(auditRequests(s)).toEqual(['POST /v1.0/security/auditLog/queries 403']);

    const over = await readAuditLog(connection(s), FILTER, fakeTime(1_000, 60_000).polling).catch((e: unknown) => e);
    expect(over).toBeInstanceOf(AuditLogReadError);
    expect((over as Error).message).toMatch(/matched more than its record-count limit \(100\)/);
    expect(auditRequests(s).filter((r) => r.includes('/records'))).toEqual([]);
  });

  it('takes the query in the wrapped shape the get page shows, and a query finished by the clock', async () => {
    const s = await startWith();
    // The second poll is answered as the documentation's example is: the query inside "value".
    s.faults.add({ api: 'graph', method: 'GET', route: '/auditLog/queries/[^/]+$', kind: 'body', after: 1, body: { value: { '@odata.type': '#microsoft.graph.security.auditLogQuery', id: 'x', status: 'succeeded' } } });
    // The simulator's clock moves with the reader's: by the records read, the query has run.
    const time = fakeTime(60_000, 300_000, (ms) => s.clock.advance(ms));
    const read = await readAuditLog(connection(s), { ...FILTER, operations: ['new-inboxrule'] }, time.polling);
    expect(read.records).toHaveLength(80);
    expect(read.records.every((r) => r.operation === 'New-InboxRule')).toBe(true);
  });
});
