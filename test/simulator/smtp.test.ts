import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Resolver } from 'node:dns/promises';
import net from 'node:net';
import nodemailer from 'nodemailer';
import type { RunningSimulator } from '../../simulator/index.js';
import { EOP_HOST, GATEWAY_CLOCK, GATEWAY_HOST } from '../../simulator/scenario/gateway.js';
import { exo, graph, start } from './helpers.js';

/**
 * The SMTP listeners over real sockets, against the gateway scenario: the MX and A records resolved
 * through the simulator's DNS lead to the listener of that exact host; the gateway (enhanced
 * filtering off) delivers a spoof of tailspintoys.example, Exchange Online Protection refuses it
 * with 550 5.7.509, and each message is readable in message trace and analyzed emails over Graph.
 */

interface Sent {
  ok: boolean;
  response: string;
  messageId: string;
}

/** Resolves `domain`'s MX and its A record through the simulator's DNS, then sends one message there. */
async function send(sim: RunningSimulator, o: { domain?: string; host?: string; from: string; to: string; subject?: string; headers?: Record<string, string>; text?: string; envelopeFrom?: string }): Promise<Sent> {
  const resolver = new Resolver({ timeout: 1000, tries: 1 });
  resolver.setServers([`${sim.dns.host}:${sim.dns.port}`]);
  let host = o.host;
  if (!host) {
    const mx = (await resolver.resolveMx(o.domain ?? o.to.split('@')[1]!)).sort((a, b) => a.priority - b.priority);
    host = mx[0]!.exchange;
  }
  const [address] = await resolver.resolve4(host);
  const transport = nodemailer.createTransport({ host: address, port: sim.smtp!.port, secure: false, ignoreTLS: true, name: 'probe.posture.test', connectionTimeout: 5000 });
  const messageId = `<probe-${Math.random().toString(36).slice(2)}@posture.test>`;
  try {
    const info = await transport.sendMail({
      from: o.from, to: o.to, subject: o.subject ?? 'Posture probe', text: o.text ?? 'A posture probe.', messageId, headers: o.headers ?? {},
      ...(o.envelopeFrom ? { envelope: { from: o.envelopeFrom, to: o.to } } : {}),
    });
    return { ok: true, response: info.response, messageId };
  } catch (err) {
    return { ok: false, response: String((err as { response?: string }).response ?? (err as Error).message), messageId };
  } finally {
    transport.close();
  }
}

const trace = async (sim: RunningSimulator, messageId: string) => {
  const r = await graph(sim, 'GET', `/v1.0/admin/exchange/tracing/messageTraces?$filter=${encodeURIComponent(`messageId eq '${messageId}'`)}`);
  expect(r.status).toBe(200);
  return r.body.value as Array<Record<string, unknown>>;
};

describe('SMTP listeners of the gateway scenario', () => {
  let sim: RunningSimulator;
  beforeAll(async () => {
    sim = await start({ scenario: 'gateway', smtp: true });
  });
  afterAll(() => sim.stop());

  it('listen once per MX exchange and per accepted domain\'s own EOP host, each on its own loopback address, all on one port; DNS answers their A records', async () => {
    expect(sim.smtp!.hosts).toEqual({
      [GATEWAY_HOST]: '127.0.0.2', [EOP_HOST]: '127.0.0.3',
      // Exchange Online Protection takes every accepted domain's mail at its own host, MX or not.
      'tailspintoys-example.mail.protection.outlook.com': '127.0.0.4', 'tailspin-toys-example.mail.protection.outlook.com': '127.0.0.5',
      'tailspintoys-onmicrosoft-example.mail.protection.outlook.com': '127.0.0.6', 'tailspintoys-mail-onmicrosoft-example.mail.protection.outlook.com': '127.0.0.7',
    });
    expect(sim.smtp!.port).toBeGreaterThan(0);
    const resolver = new Resolver({ timeout: 1000, tries: 1 });
    resolver.setServers([`${sim.dns.host}:${sim.dns.port}`]);
    expect(await resolver.resolveMx('tailspintoys.example')).toEqual([expect.objectContaining({ exchange: GATEWAY_HOST, priority: 10 })]);
    expect(await resolver.resolve4(GATEWAY_HOST)).toEqual(['127.0.0.2']);
    expect(await resolver.resolve4(EOP_HOST)).toEqual(['127.0.0.3']);
    expect(sim.tenant.dns.some((r) => r.type === 'A' && r.name === GATEWAY_HOST)).toBe(false);
  });

  it('through the gateway without enhanced filtering a spoof of the own domain is delivered, and message trace says so', async () => {
    const sent = await send(sim, { from: 'ciso@tailspintoys.example', to: 'payroll@tailspintoys.example', subject: 'Probe: own-domain spoof via gateway' });
    expect(sent.ok).toBe(true);
    expect(sent.response).toMatch(/^250 2\.6\.0 /);
    const rows = await trace(sim, sent.messageId);
    expect(rows).toEqual([expect.objectContaining({ senderAddress: 'ciso@tailspintoys.example', recipientAddress: 'payroll@tailspintoys.example', status: 'delivered', fromIP: '198.51.100.25', toIP: '', receivedDateTime: GATEWAY_CLOCK, subject: 'Probe: own-domain spoof via gateway' })]);
    const analyzed = await graph(sim, 'GET', `/v1.0/security/collaboration/analyzedEmails?startTime=2026-11-30T00:00:00Z&endTime=${GATEWAY_CLOCK}&$filter=${encodeURIComponent(`internetMessageId eq '${sent.messageId}'`)}`);
    expect(analyzed.status).toBe(200);
    expect(analyzed.body.value).toEqual([expect.objectContaining({
      inboundConnectorFormattedName: 'From Secure Gateway', authenticationDetails: { senderPolicyFramework: 'Fail', dkim: 'None', dmarc: 'Fail', compositeAuthentication: 'None' },
      latestDelivery: expect.objectContaining({ action: 'delivered', location: 'inbox_folder' }), senderDetail: expect.objectContaining({ ipv4: '198.51.100.25' }),
    })]);
    expect(sim.smtp!.received.at(-1)).toMatchObject({ internetMessageId: sent.messageId, facts: { host: GATEWAY_HOST, clientIp: '127.0.0.1' }, verdict: { disposition: 'inbox', compauthReason: '905' } });
  });

  it('with enhanced filtering turned on over the Exchange API the same spoof is refused with 550 5.7.509', async () => {
    expect((await exo(sim, 'Set-InboundConnector', { Identity: 'From Secure Gateway', EFSkipLastIP: true })).status).toBe(200);
    try {
      const sent = await send(sim, { from: 'ciso@tailspintoys.example', to: 'payroll@tailspintoys.example' });
      expect(sent.ok).toBe(false);
      expect(sent.response).toBe('550 5.7.509 Access denied, sending domain [TAILSPINTOYS.EXAMPLE] does not pass DMARC verification and has a DMARC policy of reject.');
      const [row] = await trace(sim, sent.messageId);
      expect(row).toMatchObject({ status: 'failed', fromIP: '198.51.100.25' });
      const details = await graph(sim, 'GET', `/v1.0/admin/exchange/tracing/messageTraces/${String(row!['id'])}/getDetailsByRecipient(recipientAddress='payroll@tailspintoys.example')`);
      expect(details.body.value.map((e: { event: string }) => e.event)).toEqual(['Receive', 'Fail']);
      expect(details.body.value[1].description).toContain('5.7.509');
    } finally {
      await exo(sim, 'Set-InboundConnector', { Identity: 'From Secure Gateway', EFSkipLastIP: false });
    }
  });

  it('straight to Exchange Online Protection (the EOP host) a spoof of the own domain is refused; a signed message passes', async () => {
    const refused = await send(sim, { host: EOP_HOST, from: 'ciso@tailspintoys.example', to: 'alex.kim@tailspintoys.example' });
    expect(refused.response).toMatch(/^550 5\.7\.509 Access denied, sending domain \[TAILSPINTOYS\.EXAMPLE\]/);
    const signed = await send(sim, { host: EOP_HOST, from: 'ciso@tailspintoys.example', to: 'alex.kim@tailspintoys.example', headers: { 'X-Sim-DKIM': 'pass d=tailspintoys.example' } });
    expect(signed.ok).toBe(true);
    expect((await trace(sim, signed.messageId))[0]).toMatchObject({ status: 'delivered', fromIP: '127.0.0.1' });
  });

  it('a p=quarantine subdomain spoof at the EOP host is quarantined', async () => {
    const sent = await send(sim, { host: EOP_HOST, from: 'billing@news.tailspintoys.example', to: 'casey.lee@tailspintoys.example' });
    expect(sent.ok).toBe(true);
    expect((await trace(sim, sent.messageId))[0]).toMatchObject({ status: 'quarantined' });
  });

  it("accepts a group's address and a proxy address; a message to two recipients leaves a row for each", async () => {
    const group = await send(sim, { from: 'orders@fabrikam.example', to: 'secops@tailspintoys.example', headers: { 'X-Sim-DKIM': 'pass d=fabrikam.example' } });
    expect(group.ok).toBe(true);
    const proxy = await send(sim, { from: 'orders@fabrikam.example', to: 'jamie.rivera@tailspintoys.onmicrosoft.example', domain: 'tailspintoys.example', headers: { 'X-Sim-DKIM': 'pass d=fabrikam.example' } });
    expect(proxy.ok).toBe(true);
    const both = await send(sim, { from: 'orders@fabrikam.example', to: 'alex.kim@tailspintoys.example, payroll@tailspintoys.example', domain: 'tailspintoys.example', headers: { 'X-Sim-DKIM': 'pass d=fabrikam.example' } });
    expect(both.ok).toBe(true);
    const rows = await trace(sim, both.messageId);
    expect(rows.map((r) => r['recipientAddress']).sort()).toEqual(['alex.kim@tailspintoys.example', 'payroll@tailspintoys.example']);
    expect(rows.every((r) => r['status'] === 'delivered')).toBe(true);
    expect(new Set(sim.smtp!.received.filter((m) => m.internetMessageId === both.messageId).map((m) => m.networkMessageId)).size).toBe(1);
  });

  it('refuses recipients outside the accepted domains and unknown ones at RCPT TO, and messages over the size limit', async () => {
    const outside = await send(sim, { from: 'someone@fabrikam.example', to: 'someone@fabrikam.example', domain: 'tailspintoys.example' });
    expect(outside.response).toMatch(/^550 5\.7\.64 TenantAttribution; Relay Access Denied/);
    const unknown = await send(sim, { from: 'someone@fabrikam.example', to: 'nobody@tailspintoys.example' });
    expect(unknown.response).toMatch(/^550 5\.1\.10 RESOLVER\.ADR\.RecipientNotFound/);
    const big = await send(sim, { from: 'someone@fabrikam.example', to: 'alex.kim@tailspintoys.example', text: 'x'.repeat(1_100_000) });
    expect(big.ok).toBe(false);
    expect(big.response).toMatch(/^552 /);
    expect((await trace(sim, outside.messageId)).length + (await trace(sim, unknown.messageId)).length + (await trace(sim, big.messageId)).length).toBe(0);
  });
});

describe('SMTP listeners start and stop with the simulator', () => {
  it('are off by default, and closed once the simulator stops', async () => {
    const off = await start({ scenario: 'compliant' });
    expect(off.smtp).toBeUndefined();
    await off.stop();

    const sim = await start({ scenario: 'compliant', smtp: true });
    expect(sim.smtp!.hosts).toMatchObject({ 'tailspintoys-example.mail.protection.outlook.com': '127.0.0.2' });
    const sent = await send(sim, { from: 'ciso@tailspintoys.example', to: 'alex.kim@tailspintoys.example' });
    expect(sent.response).toMatch(/^550 5\.7\.509/);
    await sim.stop();
    const refused = await new Promise<boolean>((resolve) => {
      const socket = net.connect({ host: '127.0.0.2', port: sim.smtp!.port });
      socket.once('connect', () => {
        socket.destroy();
        resolve(false);
      });
      socket.once('error', () => resolve(true));
    });
    expect(refused).toBe(true);
  });
});
