import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { RunningSimulator } from '../../simulator/index.js';
import { all, graph, start } from './helpers.js';

const keysOf = (o: object) => Object.keys(o).filter((k) => !k.startsWith('@odata')).sort();
/** The properties of the auditLogQuery and auditLogRecord resource pages' JSON representations. */
const QUERY_KEYS = [
  'id', 'displayName', 'filterStartDateTime', 'filterEndDateTime', 'recordTypeFilters', 'keywordFilter', 'serviceFilters', 'operationFilters',
  'userPrincipalNameFilters', 'ipAddressFilters', 'objectIdFilters', 'administrativeUnitIdFilters', 'status', 'approximateReturnedRecordCount',
  'isRecordCountLimitExceeded', 'recordCountLimit',
].sort();
const RECORD_KEYS = [
  'id', 'createdDateTime', 'auditLogRecordType', 'operation', 'organizationId', 'userType', 'userId', 'service', 'objectId', 'userPrincipalName',
  'clientIp', 'administrativeUnits', 'auditData',
].sort();

const JAMIE = 'jamie.brooks@tailspintoys.example';
const DREW = 'drew.evans@tailspintoys.example';
const ORG = 'b3c1f0e2-7d4a-4e6b-9a58-2c0d1e4f6a7b';

const record = (id: string, createdDateTime: string, upn: string, operation: string, o: Record<string, unknown> = {}) => ({
  id,
  createdDateTime,
  auditLogRecordType: 'exchangeAdmin',
  operation,
  organizationId: ORG,
  userType: 'regular',
  userId: upn,
  service: 'Exchange',
  objectId: `${upn}\\Forward all`,
  userPrincipalName: upn,
  clientIp: '203.0.113.7',
  administrativeUnits: [],
  auditData: { '@odata.type': 'microsoft.graph.security.auditData', Parameters: [{ Name: 'ForwardTo', Value: 'ap-archive@exfil-mail.test' }] },
  ...o,
});

/** The audit log of the tests: Jamie's rule changes in the window, others outside it or by someone else. */
const RECORDS = [
  record('r1', '2026-11-16T09:00:00Z', JAMIE, 'New-InboxRule'),
  record('r2', '2026-11-16T09:10:00Z', 'Jamie.Brooks@TailspinToys.example', 'set-inboxrule'),
  record('r3', '2026-11-16T09:20:00Z', JAMIE, 'New-InboxRule', { clientIp: '198.51.100.9' }),
  record('r4', '2026-11-16T09:30:00Z', JAMIE, 'MailItemsAccessed', { auditLogRecordType: 'exchangeItem' }),
  record('r5', '2026-11-16T09:40:00Z', DREW, 'New-InboxRule'),
  record('r6', '2026-11-15T23:59:59Z', JAMIE, 'New-InboxRule'),
  record('r7', '2026-11-16T12:00:00Z', JAMIE, 'New-InboxRule'),
  record('r8', '2026-11-16T09:50:00Z', JAMIE, 'UserLoggedIn', { auditLogRecordType: 'azureActiveDirectoryStsLogon', service: 'AzureActiveDirectory' }),
];

/** A scenario file extending compliant with the records (and how queries end, when given). */
function scenarioFile(search?: Record<string, unknown>): string {
  const dir = mkdtempSync(join(tmpdir(), 'scenario-audit-'));
  const file = join(dir, 'audit.json');
  writeFileSync(file, JSON.stringify({
    name: 'audit',
    description: 'compliant, with an audit log',
    extends: 'compliant',
    drifts: [
      { id: 'audit-records', description: 'rule changes and sign-ins in the audit log', patch: [{ op: 'add', path: '/graph/auditLogRecords', value: RECORDS }] },
      ...(search ? [{ id: 'audit-search', description: 'how audit queries end', patch: [{ op: 'add', path: '/graph/auditLogSearch', value: search }] }] : []),
    ],
  }));
  return file;
}

const Q = '/v1.0/security/auditLog/queries';
const WINDOW = { filterStartDateTime: '2026-11-16T00:00:00Z', filterEndDateTime: '2026-11-16T10:00:00Z' };
const NOW = '2026-11-16T11:00:00Z';

let sim: RunningSimulator | undefined;
afterEach(async () => {
  await sim?.stop();
  sim = undefined;
});

async function startWith(search?: Record<string, unknown>): Promise<RunningSimulator> {
  sim = await start({ scenario: scenarioFile(search) });
  // A clock that stands still, so a query moves only as it is polled.
  sim.clock.set(NOW);
  return sim;
}

describe('audit log queries', () => {
  it('create answers 201 notStarted; the query runs on the first poll, succeeds on the second; its records match its filters and page', async () => {
    const s = await startWith();
    const created = await graph(s, 'POST', Q, {
      body: {
        '@odata.type': '#microsoft.graph.security.auditLogQuery',
        displayName: 'Jamie rule changes',
        ...WINDOW,
        operationFilters: ['new-inboxrule', 'Set-InboxRule'],
        userPrincipalNameFilters: [JAMIE.toUpperCase()],
        recordTypeFilters: ['ExchangeAdmin'],
      },
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      '@odata.type': '#microsoft.graph.security.auditLogQuery',
      displayName: 'Jamie rule changes',
      ...WINDOW,
      status: 'notStarted',
      operationFilters: ['new-inboxrule', 'Set-InboxRule'],
      ipAddressFilters: [],
    });
    // The query has the resource page's properties, the record the record page's.
    expect(keysOf(created.body)).toEqual(QUERY_KEYS);
    const id = created.body.id as string;
    expect(id).toMatch(/^[0-9a-f-]{36}$/);

    // Before it has succeeded, its records are refused, not answered empty.
    const early = await graph(s, 'GET', `${Q}/${id}/records`);
    expect(early.status).toBe(400);
    expect(early.body.error.code).toBe('BadRequest');
    expect(early.body.error.message).toMatch(/has not succeeded \(status notStarted\)/);

    const first = await graph(s, 'GET', `${Q}/${id}`);
    expect(first.status).toBe(200);
    expect(first.body.status).toBe('running');
    expect((await graph(s, 'GET', `${Q}/${id}/records`)).status).toBe(400);
    const second = await graph(s, 'GET', `${Q}/${id}`);
    expect(second.body).toMatchObject({ id, status: 'succeeded', approximateReturnedRecordCount: 3, isRecordCountLimitExceeded: false });

    // r1, r2 (case differs), r3; not r4 (operation), r5 (user), r6/r7 (outside the window), r8.
    const { items, pages } = await all(s, `${Q}/${id}/records?$top=2`);
    expect(items.map((r) => r.id)).toEqual(['r1', 'r2', 'r3']);
    expect(pages).toBe(2);
    for (const r of items) expect(keysOf(r)).toEqual(RECORD_KEYS);
    expect(items[0]).toMatchObject({ '@odata.type': '#microsoft.graph.security.auditLogRecord', operation: 'New-InboxRule', userPrincipalName: JAMIE, auditData: { Parameters: [{ Name: 'ForwardTo' }] } });

    // The list holds the query as it now stands.
    const listed = await graph(s, 'GET', Q);
    expect(listed.status).toBe(200);
    expect(listed.body.value.map((q: { id: string; status: string }) => [q.id, q.status])).toEqual([[id, 'succeeded']]);
  });

  it('filters by IP address, record type and service; the window end is left out; the tenant clock finishes a query without polls', async () => {
    const s = await startWith();
    const byIp = await graph(s, 'POST', Q, { body: { ...WINDOW, ipAddressFilters: ['198.51.100.9'] } });
    const byType = await graph(s, 'POST', Q, { body: { ...WINDOW, filterEndDateTime: '2026-11-16T09:50:00Z', recordTypeFilters: ['exchangeItem', 'azureActiveDirectoryStsLogon'] } });
    const byService = await graph(s, 'POST', Q, { body: { ...WINDOW, serviceFilter: 'azureactivedirectory' } });
    s.clock.advance(60_000);
    for (const q of [byIp, byType, byService]) expect((await graph(s, 'GET', `${Q}/${q.body.id}`)).body.status).toBe('succeeded');
    expect((await all(s, `${Q}/${byIp.body.id}/records`)).items.map((r) => r.id)).toEqual(['r3']);
    // r8 is at 09:50:00, the end of that window: left out.
    expect((await all(s, `${Q}/${byType.body.id}/records`)).items.map((r) => r.id)).toEqual(['r4']);
    expect((await all(s, `${Q}/${byService.body.id}/records`)).items.map((r) => r.id)).toEqual(['r8']);
  });

  it('an unknown query is 404; a missing, malformed or reversed window is 400; a token without an audit permission is 403', async () => {
    const s = await startWith();
    for (const path of [`${Q}/00000000-0000-4000-8000-000000000000`, `${Q}/00000000-0000-4000-8000-000000000000/records`]) {
      const r = await graph(s, 'GET', path);
      expect(r.status).toBe(404);
      expect(r.body.error).toMatchObject({ code: 'NotFound' });
      expect(r.body.error.innerError['request-id']).toBeTruthy();
    }
    const bad = [
      { filterEndDateTime: WINDOW.filterEndDateTime },
      { filterStartDateTime: WINDOW.filterStartDateTime },
      { ...WINDOW, filterStartDateTime: 'yesterday' },
      { ...WINDOW, filterEndDateTime: 20261116 },
      { filterStartDateTime: WINDOW.filterEndDateTime, filterEndDateTime: WINDOW.filterStartDateTime },
      { ...WINDOW, operationFilters: 'New-InboxRule' },
    ];
    for (const body of bad) {
      const r = await graph(s, 'POST', Q, { body });
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(r.body.error.code).toBe('BadRequest');
    }
    expect((await graph(s, 'GET', Q)).body.value).toEqual([]);

    const noAudit = s.token('graph', { roles: ['SecurityAlert.Read.All', 'AuditLog.Read.All'] });
    const refused = await graph(s, 'POST', Q, { body: WINDOW, token: noAudit });
    expect(refused.status).toBe(403);
    expect(refused.body.error.code).toBe('Authorization_RequestDenied');
    // A per-service permission is enough.
    const exchangeOnly = s.token('graph', { roles: ['AuditLogsQuery-Exchange.Read.All'] });
    const created = await graph(s, 'POST', Q, { body: WINDOW, token: exchangeOnly });
    expect(created.status).toBe(201);
    expect((await graph(s, 'GET', `${Q}/${created.body.id}`, { token: noAudit })).status).toBe(403);
  });

  it('a scenario can make queries fail, or hold them running for good', async () => {
    const s = await startWith({ outcome: 'running' });
    const held = await graph(s, 'POST', Q, { body: WINDOW });
    for (let i = 0; i < 4; i++) expect((await graph(s, 'GET', `${Q}/${held.body.id}`)).body.status).toBe('running');
    s.clock.advance(3_600_000);
    expect((await graph(s, 'GET', `${Q}/${held.body.id}`)).body.status).toBe('running');
    expect((await graph(s, 'GET', `${Q}/${held.body.id}/records`)).status).toBe(400);

    // The outcome is read when a query finishes: changed while the simulator runs, it takes the next query.
    s.tenant.auditLogSearch.outcome = 'failed';
    const failing = await graph(s, 'POST', Q, { body: WINDOW });
    expect((await graph(s, 'GET', `${Q}/${failing.body.id}`)).body.status).toBe('running');
    expect((await graph(s, 'GET', `${Q}/${failing.body.id}`)).body.status).toBe('failed');
    const records = await graph(s, 'GET', `${Q}/${failing.body.id}/records`);
    expect(records.status).toBe(400);
    expect(records.body.error.message).toMatch(/status failed/);
  });

  it('a query matching more than the record-count limit returns the limit and says it was exceeded', async () => {
    const s = await startWith({ recordCountLimit: 2 });
    const q = await graph(s, 'POST', Q, { body: { ...WINDOW, userPrincipalNameFilters: [JAMIE] } });
    expect(q.body.recordCountLimit).toBe(2);
    await graph(s, 'GET', `${Q}/${q.body.id}`);
    const done = await graph(s, 'GET', `${Q}/${q.body.id}`);
    expect(done.body).toMatchObject({ status: 'succeeded', isRecordCountLimitExceeded: true, approximateReturnedRecordCount: 2 });
    expect((await all(s, `${Q}/${q.body.id}/records`)).items.map((r) => r.id)).toEqual(['r1', 'r2']);
  });
});
