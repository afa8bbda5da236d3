import { randomUUID } from 'node:crypto';
import { simpleParser } from 'mailparser';
import { SMTPServer, type SMTPServerDataStream, type SMTPServerSession } from 'smtp-server';
import { normalizeName, parseMx, type DnsRecord } from '../dns/zone.js';
import type { Tenant } from '../tenant/tenant.js';
import { isAcceptedDomain, isRecipient, mailConfigOf } from './config.js';
import { judge, type MessageFacts } from './judge.js';
import { analyzedEmailOf, messageTraceOf, type JudgedMessage } from './record.js';
import { plainIp } from './auth.js';

/*
 * The tenant's inbound SMTP: one listener per MX exchange the scenario publishes, each on a loopback
 * address of its own and all on one port, so a client that resolves the MX and its A record through
 * the simulator's DNS reaches the listener for that exact host (the listener knows which from the
 * local address the connection arrived on). No TLS, no AUTH. Recipients outside the accepted
 * domains and unknown ones are refused at RCPT TO; each message is judged per recipient
 * (smtp/judge.ts), refused at the end of DATA when DMARC's reject is honoured, and recorded as a
 * message trace row and an analyzed email.
 */

/** The largest message accepted, in bytes. */
export const MAX_MESSAGE_BYTES = 1_048_576;

/** The host at which Exchange Online Protection takes a domain's mail: `contoso.example` → `contoso-example.mail.protection.outlook.com`. */
export const eopHostOf = (domain: string): string => (domain.trim() ? `${domain.trim().toLowerCase().replace(/\.$/, '').replace(/\./g, '-')}.mail.protection.outlook.com` : '');

/** The MX exchanges a scenario's DNS publishes, in order, once each (a null MX is none). */
export function mxHosts(dns: readonly DnsRecord[]): string[] {
  const out: string[] = [];
  for (const r of dns) {
    if (r.type !== 'MX') continue;
    const exchange = normalizeName(parseMx(String(r.data))?.exchange ?? '');
    if (exchange && !out.includes(exchange)) out.push(exchange);
  }
  return out;
}

/**
 * A loopback address for each host: the scenario's own A record when it is one (127/8), else the
 * next of 127.0.0.2, 127.0.0.3, …
 */
export function loopbackAddresses(hosts: readonly string[], dns: readonly DnsRecord[]): Record<string, string> {
  const out: Record<string, string> = {};
  const taken = new Set<string>();
  const own = (h: string) => dns.find((r) => r.type === 'A' && normalizeName(r.name) === h && /^127\./.test(String(r.data)))?.data as string | undefined;
  for (const h of hosts) {
    const a = own(h);
    if (a && !taken.has(a)) {
      out[h] = a;
      taken.add(a);
    }
  }
  let next = 2;
  for (const h of hosts) {
    if (out[h]) continue;
    while (taken.has(`127.0.0.${next}`)) next++;
    if (next > 254) throw new Error('more MX hosts than loopback addresses 127.0.0.2-254');
    out[h] = `127.0.0.${next}`;
    taken.add(out[h]);
  }
  return out;
}

/** The served zone: the scenario's records with each MX host's A record pointing at its listener. */
export function zoneWithListeners(dns: readonly DnsRecord[], hosts: Readonly<Record<string, string>>): DnsRecord[] {
  const names = new Set(Object.keys(hosts));
  return [...dns.filter((r) => !(r.type === 'A' && names.has(normalizeName(r.name)))), ...Object.entries(hosts).map(([name, data]): DnsRecord => ({ name, type: 'A', ttl: 300, data }))];
}

export interface SmtpOptions {
  readonly tenant: Tenant;
  /** Host → loopback address (see {@link loopbackAddresses}). */
  readonly hosts: Readonly<Record<string, string>>;
  /** 0: any port free on every address. */
  readonly port?: number;
}

export interface RunningSmtp {
  readonly port: number;
  /** Host → address. */
  readonly hosts: Readonly<Record<string, string>>;
  /** Every message judged, one entry per recipient, in order. */
  readonly received: readonly JudgedMessage[];
  stop(): Promise<void>;
}

type Reply = Error & { responseCode?: number };
const reply = (code: number, text: string): Reply => Object.assign(new Error(text), { responseCode: code });

/** A DKIM verdict a test message declares: `X-Sim-DKIM: pass d=example.com`. */
function declaredDkim(value: string | undefined): MessageFacts['dkim'] {
  const m = /^\s*(pass|fail)\b.*?\bd=([^\s;]+)/i.exec(value ?? '');
  return m ? { result: m[1]!.toLowerCase() as 'pass' | 'fail', domain: m[2]!.toLowerCase() } : undefined;
}

/** Starts the listeners; resolves once every host listens. */
export async function startSmtp(o: SmtpOptions): Promise<RunningSmtp> {
  const { tenant } = o;
  const hostOf = new Map(Object.entries(o.hosts).map(([h, a]) => [a, h]));
  const received: JudgedMessage[] = [];

  const onRcptTo = (address: { address: string }, _session: SMTPServerSession, done: (err?: Error | null) => void) => {
    const rcpt = address.address.toLowerCase();
    if (!isAcceptedDomain(tenant, rcpt)) return done(reply(550, '5.7.64 TenantAttribution; Relay Access Denied'));
    if (!isRecipient(tenant, rcpt)) return done(reply(550, '5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP address lookup'));
    done();
  };

  const onData = (stream: SMTPServerDataStream, session: SMTPServerSession, done: (err?: Error | null, message?: string) => void) => {
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('error', (err) => done(err));
    stream.on('end', () => {
      if (stream.sizeExceeded) return done(reply(552, `5.3.4 Message size exceeds fixed maximum message size (${MAX_MESSAGE_BYTES} bytes)`));
      const raw = Buffer.concat(chunks);
      simpleParser(raw, { skipHtmlToText: true, skipTextToHtml: true, skipTextLinks: true })
        .then((mail) => {
          const host = hostOf.get(plainIp(session.localAddress)) ?? '';
          const mailFrom = session.envelope.mailFrom ? session.envelope.mailFrom.address : '';
          const fromHeader = mail.from?.value[0];
          const from = fromHeader?.address ?? mailFrom;
          const headers: Record<string, string> = {};
          for (const h of mail.headerLines) {
            const key = h.key.toLowerCase();
            // Unfolded (RFC 5322 2.2.3): a long field's continuation lines are one value.
            if (!(key in headers)) headers[key] = h.line.slice(h.line.indexOf(':') + 1).replace(/\r?\n(?=[ \t])/g, '').trim();
          }
          const networkMessageId = randomUUID();
          const internetMessageId = mail.messageId ?? `<${networkMessageId}@${host}>`;
          const at = tenant.clock.iso();
          const config = mailConfigOf(tenant);
          const judged = session.envelope.rcptTo.map((r): JudgedMessage => {
            const facts: MessageFacts = { host, clientIp: plainIp(session.remoteAddress), mailFrom, from, recipient: r.address.toLowerCase(), dkim: declaredDkim(headers['x-sim-dkim']), headers };
            return {
              networkMessageId, internetMessageId, subject: mail.subject ?? '', size: raw.length, receivedAt: at, facts,
              displayName: fromHeader?.name || undefined, verdict: judge(facts, config), analyzedEmailId: randomUUID(), messageTraceId: randomUUID(),
            };
          });
          const own = (d: string) => isAcceptedDomain(tenant, `x@${d}`);
          for (const m of judged) {
            received.push(m);
            tenant.graph.messageTraces.insert(messageTraceOf(m, { events: true }));
            tenant.graph.analyzedEmails.insert(analyzedEmailOf(m, { ownDomain: own }));
          }
          const refused = judged.find((m) => m.verdict.disposition === 'reject');
          if (refused) {
            const text = refused.verdict.reply ?? '550 5.7.509 Access denied';
            return done(reply(Number(text.slice(0, 3)), text.slice(4)));
          }
          done(null, `2.6.0 ${internetMessageId} [InternalId=${networkMessageId}, Hostname=${host}] Queued mail for delivery`);
        })
        .catch((err: Error) => done(reply(554, `5.6.0 The message could not be read: ${err.message}`)));
    });
  };

  const servers: SMTPServer[] = [];
  const make = (host: string) =>
    new SMTPServer({
      name: host,
      banner: 'Microsoft ESMTP MAIL Service ready',
      logger: false,
      disabledCommands: ['AUTH', 'STARTTLS'],
      hideSTARTTLS: true,
      authOptional: true,
      allowInsecureAuth: true,
      disableReverseLookup: true,
      size: MAX_MESSAGE_BYTES,
      closeTimeout: 500,
      onRcptTo,
      onData,
    });
  const listen = (s: SMTPServer, address: string, port: number) =>
    new Promise<number>((resolve, reject) => {
      const net = s.server;
      const fail = (err: Error) => reject(err);
      net.once('error', fail);
      s.listen(port, address, () => {
        net.off('error', fail);
        const a = net.address();
        resolve(typeof a === 'object' && a ? a.port : port);
      });
    });
  const close = (s: SMTPServer) => new Promise<void>((resolve) => (s.server.listening ? s.close(() => resolve()) : resolve()));

  const entries = Object.entries(o.hosts);
  let port = o.port ?? 0;
  for (let attempt = 1; ; attempt++) {
    try {
      for (const [host, address] of entries) {
        const s = make(host);
        servers.push(s);
        const bound = await listen(s, address, port);
        if (port === 0) port = bound;
      }
      break;
    } catch (err) {
      await Promise.all(servers.splice(0).map(close));
      const retry = (err as NodeJS.ErrnoException).code === 'EADDRINUSE' && (o.port ?? 0) === 0 && attempt < 10;
      if (!retry) throw err;
      port = 0;
    }
  }
  let stopping: Promise<void> | undefined;
  return {
    port,
    hosts: { ...o.hosts },
    received,
    stop: () => (stopping ??= Promise.all(servers.map(close)).then(() => undefined)),
  };
}
