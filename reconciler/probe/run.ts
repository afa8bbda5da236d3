/**
 * `posture probe`, effects: read the path map, check the recipient, look up the spoofed domains'
 * DMARC policies, send each test message straight to its MX host, and read message trace for the
 * disposition of each one accepted.
 */
import { discoverDmarc } from '../dns/lookup.js';
import { Evaluation } from '../evaluate/context.js';
import { checkInboundPaths } from '../checks/paths.js';
import type { Connection } from '../input/connection.js';
import type { Manifest } from '../manifest/schema.js';
import type { IncompleteRead } from '../model/finding.js';
import type { Outcome, PathMap } from '../model/paths.js';
import { readTenant } from '../read/live.js';
import { BlockList, isIPv4 } from 'node:net';
import { neutralise } from '../core/text.js';
import { sendProbe, type SmtpOutcome } from '../transport/smtp.js';
import { judgeProbe, outcomeOfTrace, planProbes, type Probe, type ProbeConfig, type ProbeResult, type PublishedPolicy, type Unprobed } from './plan.js';

/** 300 s / 100 requests: message trace's pace, kept by the rounds of reads. */
export const TRACE_SECONDS_PER_REQUEST = 3;

/** How long a round of message trace reads waits before the next: the interval asked, or longer to keep the service's pace. */
export const tracePause = (pending: number, intervalMs: number): number => Math.max(intervalMs, pending * TRACE_SECONDS_PER_REQUEST * 1000);

/** Why a probe run refuses to send anything. */
export class ProbeRefused extends Error {}

export interface ProbeOptions {
  readonly today: string;
  readonly runId: string;
  readonly port: number;
  readonly helo: string;
  readonly timeoutMs: number;
  /** How long to wait for message trace to show each accepted message's disposition. */
  readonly waitMs: number;
  /** Between two reads of message trace (it allows 100 requests in 5 minutes). */
  readonly intervalMs: number;
  readonly log: (line: string) => void;
  /** Send to MX hosts that resolve to private or loopback addresses (a lab, the simulator). */
  readonly allowPrivate?: boolean;
  /** Waits; the tests' and the simulator's clock need not be the wall clock's. */
  readonly sleep?: (ms: number) => Promise<void>;
}

export interface ProbeOutcome {
  readonly probe: Probe;
  readonly smtp?: SmtpOutcome;
  /** What message trace (or the SMTP session) showed. */
  readonly got?: Outcome;
  /** The message trace status, when one was read. */
  readonly traceStatus?: string;
  readonly result: ProbeResult;
  readonly note?: string;
}

export interface ProbeRun {
  readonly map: PathMap;
  readonly outcomes: readonly ProbeOutcome[];
  readonly unprobed: readonly Unprobed[];
  /** Reasons the run is incomplete: a read failed, a probe could not be made. */
  readonly problems: readonly string[];
}

/** The manifest reduced to MAIL.PATH.1: the probe reads what the map needs, nothing else. */
function mapOnly(m: Manifest): Manifest {
  const paths = m.desired.inboundPaths!;
  return { ...m, controls: m.controls.filter((c) => /^MAIL\.PATH\.1v\d+$/.test(c.id)), desired: { inboundPaths: { ...paths, evidenceDays: 0 } } };
}

/** The path map, or the reads that failed. */
export async function readPathMap(m: Manifest, conn: Connection, today: string): Promise<{ map?: PathMap; incomplete: IncompleteRead[] }> {
  const reduced = mapOnly(m);
  const live = await readTenant(reduced, { graph: conn.graph, exchange: conn.exchange, resolver: conn.resolver });
  const ev = new Evaluation(reduced, live, today);
  const map = checkInboundPaths(ev);
  for (const [, section] of Object.entries(live)) {
    if (section && !(section instanceof Map) && 'ok' in section && !section.ok) ev.unread(section, section.endpoint);
  }
  return { ...(map ? { map } : {}), incomplete: ev.incomplete };
}

/**
 * The probe mailbox's addresses by domain, after refusing anything that could put a probe in front
 * of a person: a mailbox that is not a shared one, one that forwards (ForwardingAddress,
 * ForwardingSmtpAddress), or one with an enabled inbox rule that forwards or redirects. A check that
 * cannot be made refuses too.
 */
async function checkRecipient(conn: Connection, recipient: string): Promise<Map<string, string>> {
  const nothing = 'nothing was sent';
  const found = await conn.exchange.invoke<Record<string, unknown>>('Get-Mailbox', { Identity: recipient }).catch((err: Error) => {
    throw new ProbeRefused(`the probe recipient ${recipient} could not be looked up (${err.message}); ${nothing}`);
  });
  if (found.length !== 1) throw new ProbeRefused(`the probe recipient ${recipient} is not a mailbox of the tenant; ${nothing}`);
  const box = found[0]!;
  const type = String(box['RecipientTypeDetails'] ?? '');
  if (type !== 'SharedMailbox') {
    throw new ProbeRefused(`the probe recipient ${recipient} is a ${type || 'mailbox of unknown type'}, not a shared mailbox kept for probes: test messages never go to a person's mailbox; ${nothing}`);
  }
  const forwards = [box['ForwardingAddress'], box['ForwardingSmtpAddress']].filter((v) => typeof v === 'string' && v.trim() !== '');
  if (forwards.length) throw new ProbeRefused(`the probe mailbox ${recipient} forwards its mail (${forwards.map(String).join(', ')}): probes would reach whoever gets it; ${nothing}`);
  const id = String(box['ExternalDirectoryObjectId'] ?? '') || recipient;
  const rules = await conn.graph.list<Record<string, unknown>>(`/users/${encodeURIComponent(id)}/mailFolders/inbox/messageRules`).catch((err: Error) => {
    throw new ProbeRefused(`the inbox rules of the probe mailbox ${recipient} could not be read (${err.message}), so it is not known where probes would go; ${nothing}`);
  });
  const onward = rules.filter((r) => r['isEnabled'] !== false && ['forwardTo', 'redirectTo', 'forwardAsAttachmentTo'].some((k) => Array.isArray((r['actions'] as Record<string, unknown> | undefined)?.[k]) && ((r['actions'] as Record<string, unknown[]>)[k]!).length > 0));
  if (onward.length) throw new ProbeRefused(`the probe mailbox ${recipient} has inbox rules that forward or redirect (${onward.map((r) => JSON.stringify(String(r['displayName'] ?? ''))).join(', ')}): probes would reach whoever gets them; ${nothing}`);
  const addresses = new Map<string, string>();
  const all = [String(box['PrimarySmtpAddress'] ?? recipient), ...(Array.isArray(box['EmailAddresses']) ? (box['EmailAddresses'] as unknown[]).map(String) : [])];
  for (const a of all) {
    const m = /^(?:smtp:)?([^@\s:]+@([^@\s]+))$/i.exec(a.trim());
    if (!m) continue;
    const domain = m[2]!.toLowerCase();
    if (!addresses.has(domain) || /^SMTP:/.test(a)) addresses.set(domain, m[1]!.toLowerCase());
  }
  return addresses;
}

/** Where no probe goes without `--allow-private-mx`: loopback, private, shared, link-local, multicast and reserved IPv4 ranges. */
const PRIVATE = (() => {
  const b = new BlockList();
  for (const [net, bits] of [['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['127.0.0.0', 8], ['169.254.0.0', 16], ['172.16.0.0', 12], ['192.168.0.0', 16], ['224.0.0.0', 4], ['240.0.0.0', 4]] as const) b.addSubnet(net, bits, 'ipv4');
  return b;
})();
export const isPrivateAddress = (ip: string): boolean => !isIPv4(ip) || PRIVATE.check(ip, 'ipv4');

async function policyOf(domain: string, conn: Connection): Promise<PublishedPolicy> {
  const found = await discoverDmarc(domain, conn.resolver).catch(() => undefined);
  if (!found || found.dnsError) return 'unknown';
  const r = found.record;
  if (!r) return 'none';
  return found.recordDomain && found.recordDomain !== found.domain && r.sp ? r.sp : r.p;
}

const printable = (s: string) => neutralise(s).replace(/[\r\n]/g, ' ');

/** The text every probe carries, so whoever sees one knows what it is. */
const bodyOf = (p: Probe) =>
  `This is a test message sent on purpose by email-posture to check what the inbound path ${p.path} does with mail that fails ` +
  `authentication (${p.kind}, ${p.failure}). It goes only to ${p.to}, a mailbox kept for these tests, and is safe to delete.\n`;

export async function runProbe(m: Manifest, config: ProbeConfig, conn: Connection, o: ProbeOptions): Promise<ProbeRun> {
  const sleep = o.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const { map, incomplete } = await readPathMap(m, conn, o.today);
  if (incomplete.length || !map) {
    throw new ProbeRefused(`the path map could not be read, so no probe was sent: ${incomplete.map((i) => `${i.what} (${i.endpoint}): ${i.error}`).join('; ') || 'a read failed'}`);
  }
  const addresses = await checkRecipient(conn, config.recipient);
  const domains = [...new Set([...map.paths.filter((p) => p.entry !== 'partner').map((p) => p.domain), config.outsideDomain])];
  const policies = new Map(await Promise.all(domains.map(async (d) => [d, await policyOf(d, conn)] as const)));
  const { probes, unprobed, problems } = planProbes(map, config, policies, o.runId, (d) => addresses.get(d));

  const sent: Array<{ probe: Probe; smtp: SmtpOutcome; at: number; note?: string }> = [];
  for (const p of probes) {
    let address: string | undefined;
    try {
      address = (await (conn.resolver as unknown as { resolve4(n: string): Promise<string[]> }).resolve4(p.host))[0];
    } catch (err) {
      sent.push({ probe: p, smtp: { kind: 'failed', response: `the MX host ${p.host} has no address (${(err as { code?: string }).code ?? (err as Error).message})` }, at: Date.now() });
      continue;
    }
    if (!address) {
      sent.push({ probe: p, smtp: { kind: 'failed', response: `the MX host ${p.host} has no address` }, at: Date.now() });
      continue;
    }
    if (isPrivateAddress(address) && !o.allowPrivate) {
      sent.push({ probe: p, smtp: { kind: 'failed', response: `the MX host ${p.host} resolves to ${address}, a private or reserved address: nothing sent there (--allow-private-mx for a lab)` }, at: Date.now() });
      continue;
    }
    o.log(`sending ${p.kind} to ${p.host} (${address}:${o.port}) for ${p.path}`);
    const smtp = await sendProbe(
      { host: p.host, address, port: o.port, helo: o.helo, timeoutMs: o.timeoutMs },
      { from: p.from, to: p.to, subject: p.subject, messageId: p.messageId, text: bodyOf(p), headers: { 'X-Email-Posture-Probe': printable(`run=${o.runId}; path=${p.path}; probe=${p.kind}`) } },
    );
    sent.push({ probe: p, smtp, at: Date.now() });
  }

  // Message trace for every accepted message, until each has a final status or the wait is over.
  const pending = new Map(sent.filter((s) => s.smtp.kind === 'accepted').map((s) => [s.probe.messageId, s]));
  const traced = new Map<string, { got: Outcome; status: string }>();
  const deadline = Date.now() + o.waitMs;
  let traceError: string | undefined;
  while (pending.size) {
    for (const [id, s] of [...pending]) {
      const filter = `messageId eq '${id.replace(/'/g, "''")}' and recipientAddress eq '${s.probe.to.replace(/'/g, "''")}'`;
      try {
        const rows = await conn.graph.list<Record<string, unknown>>(`/admin/exchange/tracing/messageTraces?$filter=${encodeURIComponent(filter)}`);
        const status = rows.map((r) => String(r['status'] ?? '')).find((st) => outcomeOfTrace(st) !== undefined);
        if (status) {
          traced.set(id, { got: outcomeOfTrace(status)!, status });
          pending.delete(id);
        }
      } catch (err) {
        traceError = (err as Error).message;
        pending.clear();
        break;
      }
    }
    // Message trace allows 100 requests in 5 minutes: one per pending message per round, so a round
    // waits at least 3 s per message still pending.
    const pause = tracePause(pending.size, o.intervalMs);
    if (!pending.size || Date.now() + pause > deadline) break;
    await sleep(pause);
  }

  const outcomes: ProbeOutcome[] = sent.map(({ probe, smtp }) => {
    if (smtp.kind === 'rejected') return { probe, smtp, got: 'reject', result: judgeProbe(probe, 'reject') };
    if (smtp.kind === 'accepted') {
      const t = traced.get(probe.messageId);
      if (t) return { probe, smtp, got: t.got, traceStatus: t.status, result: judgeProbe(probe, t.got) };
      return { probe, smtp, result: 'not-confirmed', note: traceError ? `message trace could not be read: ${traceError}` : `message trace showed no final status within ${Math.round(o.waitMs / 1000)} s` };
    }
    const note = smtp.kind === 'refused-recipient' ? `the recipient was refused (${smtp.response}): check probe.recipient` : `not sent: ${smtp.response}`;
    return { probe, smtp, result: 'not-confirmed', note };
  });
  return { map, outcomes, unprobed, problems };
}
