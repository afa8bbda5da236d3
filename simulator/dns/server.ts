import dgram from 'node:dgram';
import net from 'node:net';
import { answerMessage, type DnsFault, type QueryOutcome } from './message.js';
import { normalizeName, zoneFromRecords, type DnsRecord, type DnsZoneSource } from './zone.js';

export { DROPPED, type DnsFault } from './message.js';
export { zoneFromRecords, type DnsRecord, type DnsRecordType, type DnsZoneSource } from './zone.js';

/** One query the simulated DNS received, reported through {@link DnsServerOptions.onQuery}. */
export interface DnsQueryLogEntry {
  transport: 'udp' | 'tcp';
  /** Query name as asked (`''` when the question could not be read). */
  name: string;
  /** Query type, e.g. `TXT`. */
  type: string;
  /** Response code sent, e.g. `NOERROR`, `NXDOMAIN`, `SERVFAIL`; `DROPPED` when not answered. */
  rcode: string;
  /** Milliseconds since the epoch when the query was handled. */
  time: number;
  /** Set when a UDP response was truncated (TC) so that the client retries over TCP. */
  truncated?: boolean;
}

/** Options of {@link startDnsServer}. */
export interface DnsServerOptions {
  /** Address to listen on, for UDP and TCP. @default '127.0.0.1' */
  host?: string;
  /** Port for both UDP and TCP; 0 picks a free one. @default 0 */
  port?: number;
  /** What to answer from: a zone source, or a list of records (see {@link zoneFromRecords}). */
  zone: DnsZoneSource | DnsRecord[];
  /**
   * Faults by query name (case-insensitive, trailing dot ignored). The server reads this object on
   * every query, so it may be changed while the server runs; {@link RunningDnsServer.setFault}
   * changes it too.
   */
  faults?: Record<string, DnsFault>;
  /** Called for every query handled, answered or dropped. */
  onQuery?: (entry: DnsQueryLogEntry) => void;
}

/** A running simulated DNS server. */
export interface RunningDnsServer {
  host: string;
  /** The port, the same for UDP and TCP. */
  port: number;
  /** Closes both sockets and every open TCP connection; resolves once closed. Safe to call twice. */
  stop(): Promise<void>;
  /** Injects (or, with `undefined`, removes) the fault for one query name. */
  setFault(name: string, fault: DnsFault | undefined): void;
}

/** Attempts at finding a port free for both UDP and TCP when the port is chosen by the system. */
const BIND_ATTEMPTS = 10;

/**
 * Starts an authoritative DNS server for the simulated world on UDP and TCP, on the same port.
 *
 * Answers carry the AA flag, the question and id of the query, and its RD bit (RA is never set).
 * A name with no data of the asked type answers NOERROR with no answers; an unknown name answers
 * NXDOMAIN. A CNAME at the name is answered with the CNAME and followed within the zone. A UDP
 * response larger than 512 bytes (or the client's EDNS0 payload size) is truncated (TC, no
 * answers) so that the client retries over TCP. Over TCP, messages are length-prefixed and a
 * connection may carry several queries. Malformed messages get FORMERR when their header can be
 * read and are ignored otherwise.
 */
export async function startDnsServer(options: DnsServerOptions): Promise<RunningDnsServer> {
  const host = options.host ?? '127.0.0.1';
  const zone = Array.isArray(options.zone) ? zoneFromRecords(options.zone) : options.zone;
  const faults: Record<string, DnsFault> = options.faults ?? {};
  const onQuery = options.onQuery;

  const faultFor = (name: string): DnsFault | undefined => {
    const key = normalizeName(name);
    for (const [faultName, fault] of Object.entries(faults)) {
      if (fault !== undefined && normalizeName(faultName) === key) return fault;
    }
    return undefined;
  };

  const { udp, tcp, port } = await bindBoth(host, options.port ?? 0);
  const connections = new Set<net.Socket>();
  let stopping: Promise<void> | undefined;

  const handle = (message: Buffer, transport: 'udp' | 'tcp'): Buffer | undefined => {
    let outcome: QueryOutcome | undefined;
    try {
      outcome = answerMessage(message, transport, { zone, faultFor });
    } catch {
      return undefined;
    }
    if (!outcome) return undefined;
    if (onQuery) {
      const entry: DnsQueryLogEntry = { transport, name: outcome.name, type: outcome.type, rcode: outcome.rcode, time: Date.now() };
      if (outcome.truncated) entry.truncated = true;
      try {
        onQuery(entry);
      } catch {
        // A failing observer must not take the server down.
      }
    }
    return outcome.response;
  };

  udp.on('message', (message, remote) => {
    if (stopping) return;
    const response = handle(message, 'udp');
    if (response) udp.send(response, remote.port, remote.address, () => {});
  });
  udp.on('error', () => {});

  tcp.on('connection', (socket) => {
    if (stopping) {
      socket.destroy();
      return;
    }
    connections.add(socket);
    let pending: Buffer = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
      while (pending.length >= 2) {
        const length = pending.readUInt16BE(0);
        if (pending.length < 2 + length) break;
        const message = pending.subarray(2, 2 + length);
        pending = pending.subarray(2 + length);
        const response = handle(message, 'tcp');
        if (response && !socket.destroyed) {
          const prefix = Buffer.alloc(2);
          prefix.writeUInt16BE(response.length);
          socket.write(Buffer.concat([prefix, response]));
        }
      }
    });
    socket.on('error', () => {});
    socket.on('close', () => connections.delete(socket));
  });
  tcp.on('error', () => {});

  return {
    host,
    port,
    stop(): Promise<void> {
      stopping ??= (async () => {
        for (const socket of connections) socket.destroy();
        connections.clear();
        await Promise.all([
          new Promise<void>((resolve) => udp.close(() => resolve())),
          new Promise<void>((resolve) => tcp.close(() => resolve())),
        ]);
      })();
      return stopping;
    },
    setFault(name: string, fault: DnsFault | undefined): void {
      const key = normalizeName(name);
      for (const faultName of Object.keys(faults)) {
        if (normalizeName(faultName) === key) delete faults[faultName];
      }
      if (fault !== undefined) faults[key] = fault;
    },
  };
}

/**
 * Binds UDP, then TCP on the same port. With port 0 the system picks the UDP port; when TCP finds
 * it taken, both are released and another port is tried.
 */
async function bindBoth(host: string, port: number): Promise<{ udp: dgram.Socket; tcp: net.Server; port: number }> {
  for (let attempt = 1; ; attempt++) {
    const udp = dgram.createSocket(net.isIPv6(host) ? 'udp6' : 'udp4');
    try {
      await new Promise<void>((resolve, reject) => {
        udp.once('error', reject);
        udp.bind(port, host, () => {
          udp.off('error', reject);
          resolve();
        });
      });
    } catch (err) {
      try {
        udp.close();
      } catch {
        // Already closed by the failed bind.
      }
      throw err;
    }
    const actual = udp.address().port;
    const tcp = net.createServer();
    try {
      await new Promise<void>((resolve, reject) => {
        tcp.once('error', reject);
        tcp.listen({ port: actual, host }, () => {
          tcp.off('error', reject);
          resolve();
        });
      });
      return { udp, tcp, port: actual };
    } catch (err) {
      await new Promise<void>((resolve) => udp.close(() => resolve()));
      const inUse = (err as NodeJS.ErrnoException).code === 'EADDRINUSE';
      if (!inUse || port !== 0 || attempt >= BIND_ATTEMPTS) throw err;
    }
  }
}
