import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { PlanDocument } from '../../reconciler/model/plan.js';
import { ALL_GRAPH_PERMISSIONS, startSimulator, type RunningSimulator } from '../../simulator/index.js';
import { GATEWAY_CLOCK, gatewayMessages, PROBE_MAILBOX } from '../../simulator/scenario/gateway.js';
import { exo } from '../simulator/helpers.js';
import { cli, planAgainst, synthExamples, tenantArgs, tokens, trailOf } from './harness.js';

/**
 * What really happened on each inbound path, against the simulator: the gateway scenario's week of
 * analyzed emails as evidence (MAIL.PATH.2), and `posture probe` sending test messages to each MX
 * host over SMTP and reading message trace for their disposition.
 */
let synthDir: string;
let sim: RunningSimulator | undefined;

beforeAll(() => {
  synthDir = synthExamples();
});
afterEach(async () => {
  await sim?.stop();
  sim = undefined;
});

const GATEWAY = 'tailspintoys.example/gateway:mx1.secure-gateway.example';
const DIRECT = 'tailspintoys.example/eop';
const plan = (stdout: string) => JSON.parse(stdout) as PlanDocument;

describe('evidence of what happened to failing mail (MAIL.PATH.2)', () => {
  it('the week of mail by path and disposition; the spoofs the gateway delivered are a finding with the messages, the counts go into the trail', async () => {
    sim = await startSimulator({ scenario: 'gateway' });
    const trail = join(mkdtempSync(join(tmpdir(), 'posture-trail-')), 'trail.jsonl');
    const r = await planAgainst(sim, synthDir, ['--format', 'json', '--evidence-until', '2026-11-30', '--now', GATEWAY_CLOCK, '--evidence', trail]);
    expect(r.code, r.stderr).toBe(2);
    const p = plan(r.stdout);
    const observed = Object.fromEntries(p.inboundPaths!.paths.filter((x) => x.observed).map((x) => [x.key, x.observed]));
    // What the scenario's messages were judged (each by the simulator's own judge), counted the same way.
    const failing = gatewayMessages().filter((m) => m.verdict.dmarc !== 'pass' && m.verdict.compauth !== 'pass' && m.verdict.compauth !== 'softpass' && [m.verdict.dmarc, m.verdict.spf, m.verdict.compauth].includes('fail'));
    const spoofsDelivered = failing.filter((m) => m.verdict.path === 'gateway' && m.verdict.disposition === 'inbox');
    expect(spoofsDelivered.length).toBeGreaterThan(0);
    expect(observed[GATEWAY]).toEqual({ failed: spoofsDelivered.length, byOutcome: { reject: 0, quarantine: 0, junk: 0, inbox: spoofsDelivered.length }, deliveredDespiteFailure: spoofsDelivered.length });
    expect(observed[DIRECT]).toMatchObject({ deliveredDespiteFailure: 0 });
    expect(observed['*/partner:partner woodgrove bank']).toMatchObject({ byOutcome: { quarantine: 2 }, deliveredDespiteFailure: 0 });
    // Up to the end of the day asked for, or now if earlier: the service's clock stands at GATEWAY_CLOCK.
    expect(p.inboundPaths!.evidence).toMatchObject({ from: '2026-11-23T12:00:00.000Z', to: '2026-11-30T12:00:00.000Z', failed: failing.length, unattributed: 0 });

    const f = p.findings.filter((x) => x.check === 'delivered-despite-failure');
    expect(f.map((x) => [x.control.id, x.resource.name, x.status])).toEqual([['MAIL.PATH.2', GATEWAY, 'violation']]);
    const live = f[0]!.evidence.live as { messages: Array<{ networkMessageId: string; delivered: string; connector: string }> };
    expect(live.messages.map((m) => m.networkMessageId).sort()).toEqual(spoofsDelivered.map((m) => m.networkMessageId).sort());
    expect(live.messages.every((m) => m.delivered === 'inbox' && m.connector === 'From Secure Gateway')).toBe(true);
    expect(f[0]!.summary).toMatch(/objective owner: Security Operations Manager/);
    // Ordinary mail through the gateway fails SPF (EOP judges the gateway's address) but passes DMARC: not evidence.
    expect(p.findings.some((x) => x.summary.includes('Weekly'))).toBe(false);

    const record = trailOf(trail).find((x) => x.kind === 'plan') as { inboundPaths?: { period?: { from: string }; paths: Array<{ path: string; observed?: { deliveredDespiteFailure: number } }> } };
    expect(record.inboundPaths!.period!.from).toBe('2026-11-23T12:00:00.000Z');
    expect(record.inboundPaths!.paths.find((x) => x.path === GATEWAY)!.observed!.deliveredDespiteFailure).toBe(spoofsDelivered.length);
  });

  it('failing mail delivered through a connector the map no longer has is a finding of its own, never lost as "unattributed"', async () => {
    sim = await startSimulator({ scenario: 'gateway' });
    const connectors = sim.tenant.exchange.InboundConnector as unknown as { values(): IterableIterator<Record<string, unknown>>; remove(id: string): boolean };
    const gw = [...connectors.values()].find((c) => c['Name'] === 'From Secure Gateway')!;
    expect(connectors.remove(String(gw['Guid'] ?? gw['Identity']))).toBe(true);
    const p = plan((await planAgainst(sim, synthDir, ['--format', 'json', '--evidence-until', '2026-11-30', '--now', GATEWAY_CLOCK])).stdout);
    const f = p.findings.filter((x) => x.check === 'delivered-despite-failure');
    expect(f.map((x) => x.resource.name)).toEqual(['unmapped:connector from secure gateway']);
    expect(f[0]!.summary).toMatch(/delivered through the connector "From Secure Gateway", which no path of the map has/);
    expect(f[0]!.summary).toMatch(/Exchange Online Protection did not judge any of them \(composite authentication none/);
    expect(p.inboundPaths!.evidence!.unattributed).toBeGreaterThan(0);
  });

  it('a sender domain whose DMARC policy cannot be looked up makes the run incomplete and its failures are judged as p=reject; a period past the retention is refused', async () => {
    sim = await startSimulator({ scenario: 'gateway', dnsFaults: { '_dmarc.payroll-partner.example': 'servfail' } });
    const r = await planAgainst(sim, synthDir, ['--format', 'json', '--evidence-until', '2026-11-30', '--now', GATEWAY_CLOCK]);
    expect(r.code).toBe(1);
    const p = plan(r.stdout);
    expect(p.incomplete.find((i) => i.endpoint === 'DNS TXT _dmarc of sender domains')?.error).toMatch(/the DMARC policy of 1 sender domain of failing mail could not be looked up \(payroll-partner\.example\); their DMARC failures are judged as p=reject/);
    const f = p.findings.find((x) => x.check === 'delivered-despite-failure')!;
    const messages = (f.evidence.live as { messages: Array<{ sender: string; failure: string }> }).messages;
    expect(messages.filter((m) => m.sender.endsWith('@payroll-partner.example')).map((m) => m.failure)).toEqual(expect.arrayContaining(['dmarc-reject']));

    const old = await planAgainst(sim, synthDir, ['--format', 'json', '--evidence-until', '2026-10-01', '--now', GATEWAY_CLOCK]);
    expect(old.code).toBe(1);
    const q = plan(old.stdout);
    expect(q.incomplete.find((i) => i.endpoint === '/security/collaboration/analyzedEmails')?.error).toMatch(/more than 30 days before now: Defender keeps analyzed emails for 30 days/);
    expect(q.findings.filter((x) => x.control.id === 'MAIL.PATH.2').map((x) => x.status)).toEqual(['not-evaluated']);
  });

  it('analyzed emails the app may not read: MAIL.PATH.2 is not evaluated and the run incomplete; the map still stands', async () => {
    sim = await startSimulator({ scenario: 'gateway' });
    const env = tokens(sim, ALL_GRAPH_PERMISSIONS.filter((x) => !x.startsWith('SecurityAnalyzedMessage.')));
    const r = await planAgainst(sim, synthDir, ['--format', 'json', '--evidence-until', '2026-11-30', '--now', GATEWAY_CLOCK], env);
    expect(r.code).toBe(1);
    const p = plan(r.stdout);
    expect(p.findings.filter((x) => x.control.id === 'MAIL.PATH.2').map((x) => x.status)).toEqual(['not-evaluated']);
    expect(p.incomplete.map((i) => i.endpoint)).toContain('/security/collaboration/analyzedEmails');
    expect(p.inboundPaths!.evidence).toBeUndefined();
    expect(p.findings.some((x) => x.check === 'path-disposition' && x.resource.name === GATEWAY)).toBe(true);
  });
});

/** `posture probe` against the simulator's SMTP listeners. */
function probe(s: RunningSimulator, extra: readonly string[] = [], env: Record<string, string> = tokens(s)) {
  return cli(['probe', ...tenantArgs(s, synthDir), '--smtp-port', String(s.smtp!.port), '--allow-private-mx', '--trace-interval', '1', '--wait', '20', '--today', '2026-06-01', ...extra], env);
}
type ProbeJson = { outcomes: Array<{ probe: { path: string; kind: string; host: string; to: string; subject: string }; got?: string; result: string }>; unprobed: Array<{ path: string }>; problems: string[]; exitCode: number };

describe('posture probe', () => {
  it('sends marked spoofs to each MX host, confirms each path\'s disposition in message trace and catches the gateway that delivers them', async () => {
    sim = await startSimulator({ scenario: 'gateway', smtp: true });
    const trail = join(mkdtempSync(join(tmpdir(), 'posture-trail-')), 'trail.jsonl');
    const r = await probe(sim, ['--format', 'json', '--evidence', trail]);
    expect(r.code, r.stderr).toBe(2);
    const out = JSON.parse(r.stdout) as ProbeJson;
    const results = out.outcomes.map((o) => [o.probe.path, o.probe.kind, o.got, o.result]);
    expect(results).toEqual(expect.arrayContaining([
      [GATEWAY, 'own-domain-spoof', 'inbox', 'delivered'],
      [GATEWAY, 'outside-spoof', 'inbox', 'delivered'],
      [DIRECT, 'own-domain-spoof', 'reject', 'confirmed'],
      [DIRECT, 'outside-spoof', 'reject', 'confirmed'],
      ['news.tailspintoys.example/eop', 'own-domain-spoof', 'quarantine', 'confirmed'],
    ]));
    expect(out.unprobed.map((u) => u.path)).toContain('*/partner:partner woodgrove bank');
    // The parked domain receives at its own EOP host too: probed there, and refused.
    expect(results).toContainEqual(['tailspin-toys.example/eop', 'own-domain-spoof', 'reject', 'confirmed']);
    expect(out.problems).toEqual([]);
    // Every test message went to the declared shared mailbox, marked, and nowhere else.
    const received = sim.smtp!.received;
    expect(received.length).toBe(out.outcomes.length);
    expect(received.map((m) => [m.facts.recipient.replace(/@.*$/, ''), m.subject.slice(0, 22)])).toEqual(received.map(() => ['mail-probe', '[email-posture probe] ']));
    // Each path is probed with the probe mailbox's address in its own domain, from the null reverse-path.
    for (const o of out.outcomes) expect(o.probe.to).toBe(`mail-probe@${o.probe.path.split('/')[0]}`);
    expect(out.outcomes.some((o) => o.probe.to === PROBE_MAILBOX)).toBe(true);
    expect(received.every((m) => m.facts.mailFrom === '')).toBe(true);
    for (const m of received) expect(m.facts.headers?.['x-email-posture-probe']).toMatch(/^run=[0-9a-f-]{36}; path=.+; probe=(own-domain|outside)-spoof$/);
    const record = trailOf(trail).find((x) => x.kind === 'probe') as { probes: ReadonlyArray<{ path: string; result: string }>; exitCode: number };
    expect(record.exitCode).toBe(2);
    expect(record.probes.filter((x) => x.result === 'delivered').map((x) => x.path)).toEqual([GATEWAY, GATEWAY]);

    const text = await probe(sim);
    expect(text.stdout).toContain(`${GATEWAY} via mx1.secure-gateway.example: own-domain-spoof (DMARC p=reject) -> inbox; map says inbox, posture requires quarantine: DELIVERED (weaker than required)`);
    expect(text.stdout).toContain('*/partner:partner woodgrove bank: not probed');
  });

  it('with enhanced filtering turned on the gateway rejects the spoofs: the map says so, and the probe confirms it', async () => {
    sim = await startSimulator({ scenario: 'gateway', smtp: true });
    expect((await exo(sim, 'Set-InboundConnector', { Identity: 'From Secure Gateway', EFSkipLastIP: true })).status).toBe(200);
    const r = await probe(sim, ['--format', 'json']);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as ProbeJson;
    expect(out.outcomes.filter((o) => o.probe.path === GATEWAY).map((o) => [o.got, o.result])).toEqual([['reject', 'confirmed'], ['reject', 'confirmed']]);
    expect(out.outcomes.every((o) => o.result === 'confirmed')).toBe(true);
  });

  it('refuses to send to anything but a shared mailbox, and sends nothing when the map cannot be read', async () => {
    sim = await startSimulator({ scenario: 'gateway', smtp: true });
    // The declared recipient turned into a person's mailbox: not one message goes out.
    const mailbox = sim.tenant.exchange.Mailbox as unknown as { values(): IterableIterator<Record<string, unknown>> };
    const probeBox = [...mailbox.values()].find((m) => m['PrimarySmtpAddress'] === PROBE_MAILBOX)!;
    probeBox['RecipientTypeDetails'] = 'UserMailbox';
    const refused = await probe(sim);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/posture probe: the probe recipient mail-probe@tailspintoys\.example is a UserMailbox, not a shared mailbox kept for probes/);
    expect(refused.stderr).not.toMatch(/\n\s+at /);
    expect(sim.smtp!.received).toHaveLength(0);
    probeBox['RecipientTypeDetails'] = 'SharedMailbox';

    // A shared mailbox that forwards, or whose inbox rule redirects, would put probes in front of someone.
    probeBox['ForwardingSmtpAddress'] = 'smtp:casey.lee@tailspintoys.example';
    const forwards = await probe(sim);
    expect([forwards.code, forwards.stderr]).toEqual([1, expect.stringMatching(/the probe mailbox mail-probe@tailspintoys\.example forwards its mail \(smtp:casey\.lee@tailspintoys\.example\)/)]);
    probeBox['ForwardingSmtpAddress'] = null;
    const owner = String(probeBox['ExternalDirectoryObjectId']);
    sim.tenant.inboxRules.add(owner, { id: 'AQAAAPr0be0=', displayName: 'Copy to me', sequence: 1, isEnabled: true, hasError: false, isReadOnly: false, conditions: {}, actions: { redirectTo: [{ emailAddress: { name: 'Casey', address: 'casey.lee@tailspintoys.example' } }] } });
    const redirects = await probe(sim);
    expect([redirects.code, redirects.stderr]).toEqual([1, expect.stringMatching(/has inbox rules that forward or redirect \("Copy to me"\)/)]);
    sim.tenant.inboxRules.remove(owner, 'AQAAAPr0be0=');
    expect(sim.smtp!.received).toHaveLength(0);

    sim.setDnsFault('tailspintoys.example', 'servfail');
    const blind = await probe(sim);
    expect(blind.code).toBe(1);
    expect(blind.stderr).toMatch(/the path map could not be read, so no probe was sent: .*MX/);
    expect(sim.smtp!.received).toHaveLength(0);
  });

  it('a path the probe mailbox has no address for is not confirmed: the run is incomplete, never clean', async () => {
    sim = await startSimulator({ scenario: 'gateway', smtp: true });
    await exo(sim, 'Set-InboundConnector', { Identity: 'From Secure Gateway', EFSkipLastIP: true });
    const mailbox = sim.tenant.exchange.Mailbox as unknown as { values(): IterableIterator<Record<string, unknown>> };
    const probeBox = [...mailbox.values()].find((m) => m['PrimarySmtpAddress'] === PROBE_MAILBOX)!;
    probeBox['EmailAddresses'] = (probeBox['EmailAddresses'] as string[]).filter((a) => !a.endsWith('@tailspin-toys.example'));
    const r = await probe(sim, ['--format', 'json']);
    expect(r.code).toBe(1);
    const out = JSON.parse(r.stdout) as ProbeJson;
    expect(out.outcomes.every((o) => o.result === 'confirmed')).toBe(true);
    expect(out.problems).toContain('tailspin-toys.example/eop was not probed: the probe mailbox mail-probe@tailspintoys.example has no address in tailspin-toys.example: add one (an smtp: proxy address) to probe this path');
  });

  it('an MX host on a private address gets nothing without --allow-private-mx: the run is not confirmed, never clean', async () => {
    sim = await startSimulator({ scenario: 'gateway', smtp: true });
    const r = await cli(['probe', ...tenantArgs(sim, synthDir), '--smtp-port', String(sim.smtp!.port), '--trace-interval', '1', '--wait', '5', '--format', 'json'], tokens(sim));
    expect(r.code).toBe(1);
    const out = JSON.parse(r.stdout) as ProbeJson;
    expect(out.outcomes.every((o) => o.result === 'not-confirmed')).toBe(true);
    expect(out.problems.join('\n')).toMatch(/resolves to 127\.0\.0\.\d+, a private or reserved address: nothing sent there/);
    expect(sim.smtp!.received).toHaveLength(0);
  });

  it('a message trace the app may not read leaves every accepted probe not confirmed: exit 1, never a clean run', async () => {
    sim = await startSimulator({ scenario: 'gateway', smtp: true });
    await exo(sim, 'Set-InboundConnector', { Identity: 'From Secure Gateway', EFSkipLastIP: true });
    const env = tokens(sim, ALL_GRAPH_PERMISSIONS.filter((x) => x !== 'ExchangeMessageTrace.Read.All'));
    const r = await probe(sim, ['--format', 'json'], env);
    expect(r.code).toBe(1);
    const out = JSON.parse(r.stdout) as ProbeJson;
    const news = out.outcomes.find((o) => o.probe.path === 'news.tailspintoys.example/eop')!;
    expect(news.result).toBe('not-confirmed');
    expect(out.problems.join('\n')).toMatch(/message trace could not be read/);
  });
});
