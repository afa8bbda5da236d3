import { afterEach, describe, expect, it } from 'vitest';
import { ROLE_IDS, type RunningSimulator } from '../../simulator/index.js';
import { DEFAULT_INGESTION_DELAY_MS } from '../../simulator/graph/entities/audit-log-queries.js';
import { all, exo, graph, start } from './helpers.js';

let sim: RunningSimulator | undefined;
afterEach(async () => {
  await sim?.stop();
  sim = undefined;
});

const ALEX = 'alex.kim@tailspintoys.example';
const ALEX_ID = 'bd26d213-0d63-5d86-bba0-1922069c5a69';

/** Runs an audit log query over a window to its records (polled twice, as the service moves a query). */
async function audit(s: RunningSimulator, start: string, end: string): Promise<Array<Record<string, unknown>>> {
  const created = await graph(s, 'POST', '/v1.0/security/auditLog/queries', {
    body: { displayName: 'changes', filterStartDateTime: start, filterEndDateTime: end, operationFilters: ['Set-Mailbox', 'UpdateInboxRules', 'New-InboxRule', 'Set-InboxRule', 'Remove-InboxRule'] },
  });
  expect(created.status).toBe(201);
  const id = created.body.id as string;
  await graph(s, 'GET', `/v1.0/security/auditLog/queries/${id}`);
  expect((await graph(s, 'GET', `/v1.0/security/auditLog/queries/${id}`)).body.status).toBe('succeeded');
  return (await all(s, `/v1.0/security/auditLog/queries/${id}/records`)).items;
}

describe("the tenant's changes in Get-Mailbox -Filter WhenChanged and in the audit log", () => {
  it('Set-Mailbox moves WhenChanged on the tenant clock; -Filter "WhenChanged -gt …" finds only the mailboxes changed since', async () => {
    sim = await start();
    const s = sim;
    s.clock.set('2026-11-16T08:00:00Z');
    expect((await exo(s, 'Set-Mailbox', { Identity: ALEX, ForwardingSmtpAddress: 'smtp:out@partner.example' })).status).toBe(200);
    const since = await exo(s, 'Get-Mailbox', { Filter: "WhenChanged -gt '2026-11-16T07:59:00Z'" });
    expect(since.status).toBe(200);
    expect(since.body.value.map((m: Record<string, unknown>) => m['UserPrincipalName'])).toEqual([ALEX]);
    expect(since.body.value[0].WhenChanged).toBe('2026-11-16T08:00:00.000Z');
    // The en-US form Exchange prints, combined with another clause.
    const us = await exo(s, 'Get-Mailbox', { Filter: "(WhenChanged -ge '11/16/2026 08:00:00') -and (ForwardingSmtpAddress -ne $null)" });
    expect(us.body.value).toHaveLength(1);
    expect((await exo(s, 'Get-Mailbox', { Filter: "WhenChanged -gt '11/16/2026 08:00:01'" })).body.value).toEqual([]);
    const bad = await exo(s, 'Get-Mailbox', { Filter: "WhenChanged -gt 'yesterday'" });
    expect(bad.status).toBe(400);
  });

  it('forwarding and rule changes leave audit records that become searchable only after the ingestion delay', async () => {
    sim = await start();
    const s = sim;
    s.clock.set('2026-11-16T08:00:00Z');
    await exo(s, 'Set-Mailbox', { Identity: ALEX, ForwardingSmtpAddress: 'smtp:out@partner.example' });
    const rule = await graph(s, 'POST', `/v1.0/users/${ALEX_ID}/mailFolders/inbox/messageRules`, { body: { displayName: 'fwd', sequence: 1, actions: { forwardTo: [{ emailAddress: { address: 'x@out.example' } }] } } });
    expect(rule.status).toBe(201);
    expect((await graph(s, 'DELETE', `/v1.0/users/${ALEX_ID}/mailFolders/inbox/messageRules/${encodeURIComponent(rule.body.id as string)}`)).status).toBe(204);
    const window = ['2026-11-16T07:00:00Z', '2026-11-16T09:00:00Z'] as const;
    s.clock.advance(DEFAULT_INGESTION_DELAY_MS - 60_000);
    expect(await audit(s, ...window)).toEqual([]);
    s.clock.advance(60_000);
    const records = await audit(s, ...window);
    // The three changes share a second: the service orders them by id among themselves.
    expect(records.map((r) => [r['operation'], r['auditLogRecordType'], (r['auditData'] as Record<string, unknown>)['MailboxOwnerUPN']]).sort()).toEqual([
      ['Set-Mailbox', 'exchangeAdmin', ALEX],
      ['UpdateInboxRules', 'exchangeItem', ALEX],
      ['UpdateInboxRules', 'exchangeItem', ALEX],
    ]);
    expect(records.every((r) => r['createdDateTime'] === '2026-11-16T08:00:00Z')).toBe(true);
  });

  it('while the audit log loses records, a change leaves none; the delay is a scenario setting', async () => {
    sim = await start();
    const s = sim;
    s.clock.set('2026-11-16T08:00:00Z');
    s.tenant.auditLogSearch.settings.ingestionDelayMs = 0;
    s.tenant.auditLogSearch.settings.loseRecords = true;
    await exo(s, 'Set-Mailbox', { Identity: ALEX, ForwardingSmtpAddress: 'smtp:lost@partner.example' });
    s.tenant.auditLogSearch.settings.loseRecords = false;
    await exo(s, 'Set-Mailbox', { Identity: ALEX, ForwardingSmtpAddress: 'smtp:kept@partner.example' });
    s.clock.advance(1000);
    const records = await audit(s, '2026-11-16T07:00:00Z', '2026-11-16T09:00:00Z');
    expect(records).toHaveLength(1);
    expect(JSON.stringify(records[0]!['auditData'])).toContain('kept@partner.example');
  });

  it('New-InboxRule, Set-InboxRule and Remove-InboxRule change the rules Get-InboxRule and Graph show, each leaving its exchangeAdmin record', async () => {
    sim = await start();
    const s = sim;
    s.clock.set('2026-11-16T08:00:00Z');
    s.tenant.auditLogSearch.settings.ingestionDelayMs = 0;
    const admin = { token: s.token('exchange', { wids: [ROLE_IDS.exchangeAdministrator] }) };
    expect((await exo(s, 'New-InboxRule', { Mailbox: ALEX, Name: 'Invoices', ForwardTo: ['ap@partner.example'] }, admin)).status).toBe(200);
    const rules = (await graph(s, 'GET', `/v1.0/users/${ALEX_ID}/mailFolders/inbox/messageRules`)).body.value as Array<Record<string, unknown>>;
    const rule = rules.find((r) => r['displayName'] === 'Invoices')!;
    expect(rule['actions']).toEqual({ forwardTo: [{ emailAddress: { address: 'ap@partner.example' } }] });
    expect((await exo(s, 'Set-InboxRule', { Mailbox: ALEX, Identity: 'Invoices', RedirectTo: 'smtp:other@partner.example', ForwardTo: null }, admin)).status).toBe(200);
    const shown = (await exo(s, 'Get-InboxRule', { Mailbox: ALEX })).body.value as Array<Record<string, unknown>>;
    expect(shown.find((r) => r['Name'] === 'Invoices')).toMatchObject({ ForwardTo: null, RedirectTo: ['"other@partner.example" [SMTP:other@partner.example]'] });
    expect((await exo(s, 'Remove-InboxRule', { Mailbox: ALEX, Identity: `${ALEX}\\${String(rule['id'])}` }, admin)).status).toBe(200);
    expect((await exo(s, 'Remove-InboxRule', { Mailbox: ALEX, Identity: 'Invoices' }, admin)).status).toBe(404);
    // Without the Exchange Administrator role the cmdlets are refused.
    expect((await exo(s, 'New-InboxRule', { Mailbox: ALEX, Name: 'x' }, { token: s.token('exchange', { wids: [ROLE_IDS.globalReader] }) })).status).toBe(403);
    s.clock.advance(1000);
    const records = await audit(s, '2026-11-16T07:00:00Z', '2026-11-16T09:00:00Z');
    expect(records.map((r) => [r['operation'], r['auditLogRecordType'], r['objectId']]).sort()).toEqual([
      ['New-InboxRule', 'exchangeAdmin', `${ALEX}\\Invoices`],
      ['Remove-InboxRule', 'exchangeAdmin', `${ALEX}\\Invoices`],
      ['Set-InboxRule', 'exchangeAdmin', `${ALEX}\\Invoices`],
    ]);
  });
});
