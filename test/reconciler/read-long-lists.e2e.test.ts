import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, signIn } from '../../reconciler/input/connection.js';
import { loadSynthOutput } from '../../reconciler/input/synth-output.js';
import type { Obj } from '../../reconciler/resources/types.js';
import { readTenant } from '../../reconciler/read/live.js';
import { startSimulator, type RunningSimulator } from '../../simulator/index.js';
import { synthExamples, tokens } from './harness.js';

describe('a long Exchange list, read page by page', () => {
  let sim: RunningSimulator;
  let synthDir: string;
  beforeAll(async () => {
    synthDir = synthExamples();
    sim = await startSimulator({ scenario: 'compliant', generate: { mailboxes: 2500, forwardingShare: 0.01 }, limits: { enabled: false } });
  });
  afterAll(() => sim?.stop());

  const read = async () => {
    const input = loadSynthOutput(synthDir, 'tailspin');
    const conn = connect({ tenant: sim.tenantId, auth: 'token', graphUrl: sim.graphUrl, exchangeUrl: sim.exoUrl, dnsServer: `${sim.dns.host}:${sim.dns.port}`, timeoutMs: 30_000, maxRetries: 2, env: tokens(sim) });
    await signIn(conn);
    return readTenant(input.manifest, { graph: conn.graph, exchange: conn.exchange, resolver: conn.resolver });
  };

  it('holds each equal list of strings once, across pages, and every mailbox and its rules are read', async () => {
    const live = await read();
    expect(live.mailboxes?.ok).toBe(true);
    const rows = (live.mailboxes as { value: Obj[] }).value;
    expect(rows).toHaveLength(sim.tenant.exchange.Mailbox.size);
    expect(rows.length).toBeGreaterThan(2000);
    // The first and the last mailbox came on different pages (1,000 a page): one list, not two copies.
    const [first, last] = [rows[0]!, rows[rows.length - 1]!];
    for (const k of ['AuditOwner', 'AuditDelegate', 'AuditAdmin', 'DefaultAuditSet']) {
      expect(last[k]).toEqual(first[k]);
      expect(last[k]).toBe(first[k]);
    }
    // Held once or not, every value is the service's.
    const served = [...sim.tenant.exchange.Mailbox.values()];
    for (const i of [0, 1, 999, 1000, rows.length - 1]) {
      for (const k of ['Identity', 'Name', 'Alias', 'DisplayName', 'UserPrincipalName', 'PrimarySmtpAddress', 'ExternalDirectoryObjectId', 'Guid', 'RecipientTypeDetails', 'ForwardingSmtpAddress']) {
        expect(rows[i]![k], `${i} ${k}`).toEqual(served[i]![k] ?? null);
      }
    }
    // A list a mailbox holds on its own stays its own.
    const changed = sim.tenant.exchange.Mailbox.at(1500)!;
    expect(live.inboxRules?.ok).toBe(true);
    expect((live.inboxRules as { value: { mailboxes: number } }).value.mailboxes).toBe(rows.filter((r) => typeof r['ExternalDirectoryObjectId'] === 'string' && r['ExternalDirectoryObjectId']).length);
    sim.tenant.exchange.Mailbox.replace(changed.id, { ...changed, AuditOwner: ['Update', 'Send'] });
    const again = ((await read()).mailboxes as { value: Obj[] }).value;
    const mine = again.find((r) => r['UserPrincipalName'] === changed['UserPrincipalName'])!;
    expect(mine['AuditOwner']).toEqual(['Update', 'Send']);
    expect(again[0]!['AuditOwner']).toEqual(first['AuditOwner']);
  });
});
