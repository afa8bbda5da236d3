import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import type { RunningSimulator } from '../../simulator/index.js';
import { GATEWAY_CLOCK, GATEWAY_IPS, gatewayMessages, gatewayScenario } from '../../simulator/scenario/gateway.js';
import { scenarioText } from '../../scripts/write-scenarios.js';
import { all, graph, start } from './helpers.js';

/**
 * Message trace in Graph v1.0 (`/admin/exchange/tracing/messageTraces`), served from the gateway
 * scenario's week of mail: the documented window (48 hours by default; both bounds, at most 10 days,
 * at most 90 days back, not in the future), filters, paging, the permission and getDetailsByRecipient.
 */
const BASE = '/v1.0/admin/exchange/tracing/messageTraces';
const range = (from: string, to: string) => `$filter=${encodeURIComponent(`receivedDateTime ge ${from} and receivedDateTime le ${to}`)}`;
const WEEK = range('2026-11-23T12:00:00Z', GATEWAY_CLOCK);
const q = (filter: string) => `$filter=${encodeURIComponent(filter)}`;

describe('gateway scenario: the file', () => {
  it('is what simulator/scenario/gateway.ts builds', () => {
    expect(readFileSync(new URL('../../simulator/scenarios/gateway.json', import.meta.url), 'utf8')).toBe(scenarioText(gatewayScenario));
  });
});

describe('message traces', () => {
  let sim: RunningSimulator;
  const messages = gatewayMessages();
  beforeAll(async () => {
    sim = await start({ scenario: 'gateway' });
  });
  afterAll(() => sim.stop());

  it('answers the previous 48 hours by default, newest first, with exactly the documented properties', async () => {
    const r = await graph(sim, 'GET', BASE);
    expect(r.status).toBe(200);
    expect(r.body['@odata.context']).toBe(`${sim.graphUrl}/v1.0/$metadata#admin/exchange/tracing/messageTraces`);
    const since = Date.parse(GATEWAY_CLOCK) - 48 * 3_600_000;
    const expected = messages.filter((m) => Date.parse(m.receivedAt) >= since).sort((a, b) => b.receivedAt.localeCompare(a.receivedAt));
    expect(expected.length).toBeGreaterThan(3);
    expect(r.body.value.map((t: { id: string }) => t.id)).toEqual(expected.map((m) => m.messageTraceId));
    expect(Object.keys(r.body.value[0])).toEqual(['id', 'senderAddress', 'recipientAddress', 'messageId', 'receivedDateTime', 'subject', 'size', 'fromIP', 'toIP', 'status']);
    expect(r.body).not.toHaveProperty('@odata.nextLink');
  });

  it('beta writes the status capitalised and types each row', async () => {
    const r = await graph(sim, 'GET', `/beta/admin/exchange/tracing/messageTraces?${WEEK}&$top=1`);
    expect(r.status).toBe(200);
    expect(r.body.value[0]).toMatchObject({ '@odata.type': '#microsoft.graph.exchangeMessageTrace', status: expect.stringMatching(/^[A-Z]/) });
  });

  it('a receivedDateTime range gives the whole week; the gateway path shows the gateway as fromIP', async () => {
    const r = await graph(sim, 'GET', `${BASE}?${WEEK}`);
    expect(r.status).toBe(200);
    expect(r.body.value).toHaveLength(messages.length);
    const spoof = r.body.value.find((t: { senderAddress: string; recipientAddress: string }) => t.senderAddress === 'desk@payroll-partner.example');
    expect(spoof).toMatchObject({ fromIP: GATEWAY_IPS[0], toIP: '', status: 'delivered' });
    const byStatus = (s: string) => r.body.value.filter((t: { status: string }) => t.status === s).length;
    expect([byStatus('delivered'), byStatus('quarantined'), byStatus('failed')]).toEqual([
      messages.filter((m) => m.verdict.disposition === 'inbox').length,
      messages.filter((m) => m.verdict.disposition === 'quarantine').length,
      messages.filter((m) => m.verdict.disposition === 'reject').length,
    ]);
  });

  it('refuses a range with one bound, over 10 days, starting over 90 days back or ending in the future, and operators a property does not take', async () => {
    const cases = [
      q('receivedDateTime ge 2026-11-25T00:00:00Z'),
      q('receivedDateTime le 2026-11-25T00:00:00Z'),
      range('2026-11-19T00:00:00Z', '2026-11-30T00:00:00Z'),
      range('2026-08-20T00:00:00Z', '2026-08-25T00:00:00Z'),
      range('2026-11-29T00:00:00Z', '2026-11-30T13:00:00Z'),
      range('2026-11-29T00:00:00Z', '2026-11-28T00:00:00Z'),
      q('receivedDateTime gt 2026-11-25T00:00:00Z and receivedDateTime le 2026-11-26T00:00:00Z'),
      q("status ne 'delivered'"),
      q("status eq 'lost'"),
      q("startswith(senderAddress,'desk')"),
      q("size eq 100"),
      '$top=5001',
      '$top=0',
    ];
    for (const c of cases) {
      const r = await graph(sim, 'GET', `${BASE}?${c}`);
      expect({ c, status: r.status }).toEqual({ c, status: 400 });
      expect(r.body.error).toMatchObject({ code: expect.any(String), message: expect.any(String) });
    }
    // 10 days exactly and 90 days back exactly are within the limits.
    expect((await graph(sim, 'GET', `${BASE}?${range('2026-11-20T12:00:00Z', GATEWAY_CLOCK)}`)).status).toBe(200);
    expect((await graph(sim, 'GET', `${BASE}?${range('2026-09-01T12:00:00Z', '2026-09-02T00:00:00Z')}`)).status).toBe(200);
  });

  it('filters by id, messageId, addresses, fromIP, status and subject', async () => {
    const failed = messages.find((m) => m.verdict.disposition === 'reject')!;
    const get = async (filter: string) => {
      const r = await graph(sim, 'GET', `${BASE}?${q(`${filter} and receivedDateTime ge 2026-11-23T12:00:00Z and receivedDateTime le ${GATEWAY_CLOCK}`)}`);
      expect(r.status).toBe(200);
      return r.body.value as Array<Record<string, unknown>>;
    };
    expect((await get(`id eq '${failed.messageTraceId}'`)).map((t) => t['status'])).toEqual(['failed']);
    expect((await get(`messageId eq '${failed.internetMessageId}'`)).map((t) => t['id'])).toEqual([failed.messageTraceId]);
    expect((await get("status eq 'quarantined'")).length).toBe(messages.filter((m) => m.verdict.disposition === 'quarantine').length);
    expect((await get("status eq 'Quarantined'")).length).toBe(messages.filter((m) => m.verdict.disposition === 'quarantine').length);
    expect((await get("recipientAddress eq 'PAYROLL@tailspintoys.example'")).every((t) => t['recipientAddress'] === 'payroll@tailspintoys.example')).toBe(true);
    expect((await get("senderAddress eq 'desk@payroll-partner.example'")).length).toBe(2);
    expect((await get(`fromIP eq '${GATEWAY_IPS[0]}'`)).length).toBe(messages.filter((m) => m.verdict.path === 'gateway').length);
    expect((await get("toIP eq ''")).length).toBe(messages.length);
    expect((await get("contains(subject,'bank details')")).length).toBe(2);
    expect((await get("startsWith(subject,'re: ')")).length).toBe(messages.filter((m) => /^re: /i.test(m.subject)).length);
    expect((await get("endswith(subject,'overdue') and status eq 'quarantined'")).map((t) => t['senderAddress'])).toEqual(['accounts@northwind.example']);
  });

  it('pages with $top and an absolute @odata.nextLink that keeps the query', async () => {
    const first = await graph(sim, 'GET', `${BASE}?${WEEK}&$top=10`);
    expect(first.body.value).toHaveLength(10);
    const next = new URL(first.body['@odata.nextLink']);
    expect(next.searchParams.get('$filter')).toContain('receivedDateTime ge');
    expect(next.searchParams.get('$top')).toBe('10');
    const { items, pages } = await all(sim, `${BASE}?${WEEK}&$top=10`);
    expect(pages).toBe(Math.ceil(messages.length / 10));
    expect(items.map((t) => t.id)).toEqual((await graph(sim, 'GET', `${BASE}?${WEEK}`)).body.value.map((t: { id: string }) => t.id));
  });

  it('needs ExchangeMessageTrace.Read.All', async () => {
    expect((await graph(sim, 'GET', BASE, { token: sim.token('graph', { roles: ['SecurityAnalyzedMessage.Read.All'] }) })).status).toBe(403);
    expect((await graph(sim, 'GET', BASE, { token: sim.token('graph', { roles: ['ExchangeMessageTrace.Read.All'] }) })).status).toBe(200);
    const row = messages[0]!;
    const details = `${BASE}/${row.messageTraceId}/getDetailsByRecipient(recipientAddress='${row.facts.recipient}')`;
    expect((await graph(sim, 'GET', details, { token: sim.token('graph', { roles: ['Mail.Read'] }) })).status).toBe(403);
  });

  it("getDetailsByRecipient gives a row's events: Receive then Deliver, Quarantine or Fail", async () => {
    const kinds = { inbox: 'Deliver', quarantine: 'Quarantine', reject: 'Fail' } as const;
    for (const [disposition, event] of Object.entries(kinds)) {
      const m = messages.find((x) => x.verdict.disposition === disposition)!;
      const r = await graph(sim, 'GET', `${BASE}/${m.messageTraceId}/getDetailsByRecipient(recipientAddress='${m.facts.recipient}')`);
      expect(r.status).toBe(200);
      expect(r.body['@odata.context']).toBe(`${sim.graphUrl}/v1.0/$metadata#Collection(microsoft.graph.exchangeMessageTraceDetail)`);
      expect(r.body.value.map((e: { event: string }) => e.event)).toEqual(['Receive', event]);
      expect(r.body.value[0]).toMatchObject({ id: m.messageTraceId, messageId: m.internetMessageId, dateTime: m.receivedAt, action: '', description: expect.stringMatching(/^Message received by: /), data: expect.stringMatching(/^<root>/) });
    }
    const m = messages[0]!;
    expect((await graph(sim, 'GET', `${BASE}/${m.messageTraceId}/getDetailsByRecipient(recipientAddress='someone.else@tailspintoys.example')`)).body.value).toEqual([]);
    expect((await graph(sim, 'GET', `${BASE}/00000000-0000-0000-0000-000000000000/getDetailsByRecipient(recipientAddress='${m.facts.recipient}')`)).status).toBe(404);
    expect((await graph(sim, 'GET', `${BASE}/${m.messageTraceId}/getDetailsByRecipient(recipientAddress=${m.facts.recipient})`)).status).toBe(400);
  });
});

describe('message trace limits', () => {
  it('answers 429 with Retry-After past 100 requests per 5 minutes (here 3)', async () => {
    const sim = await start({ scenario: 'gateway', limits: { enabled: true, messageTracePer5Minutes: 3 } });
    try {
      const statuses = [];
      for (let i = 0; i < 4; i++) statuses.push((await graph(sim, 'GET', BASE)).status);
      expect(statuses).toEqual([200, 200, 200, 429]);
      const r = await graph(sim, 'GET', BASE);
      expect(Number(r.headers.get('retry-after'))).toBeGreaterThan(0);
    } finally {
      await sim.stop();
    }
  });
});
