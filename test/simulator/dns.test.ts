import dgram from 'node:dgram';
import { Resolver } from 'node:dns/promises';
import net from 'node:net';
import dnsPacket, { type DecodedPacket, type Packet } from 'dns-packet';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  startDnsServer,
  zoneFromRecords,
  type DnsFault,
  type DnsQueryLogEntry,
  type DnsRecord,
  type RunningDnsServer,
} from '../../simulator/dns/server.js';

const DOMAIN = 'contoso.example';
const DMARC = 'v=DMARC1; p=reject; rua=mailto:dmarc-reports@contoso.example';
const SPF = 'v=spf1 include:spf.protection.outlook.com -all';
const DKIM_TARGET = 'selector1-contoso-example._domainkey.contoso.onmicrosoft.example';
const DKIM_KEY = 'v=DKIM1; k=rsa; p=MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQC1';
/** Ten distinct 200-byte strings: about 2.1 kB of answers, more than fits one UDP response. */
const BIG = Array.from({ length: 10 }, (_, i) => `${i}`.padEnd(200, String.fromCharCode(97 + i)));

const records: DnsRecord[] = [
  { name: `_dmarc.${DOMAIN}`, type: 'TXT', data: DMARC },
  { name: DOMAIN, type: 'TXT', data: SPF },
  { name: DOMAIN, type: 'TXT', data: 'MS=ms12345678' },
  { name: DOMAIN, type: 'MX', data: '0 contoso-example.mail.protection.outlook.example' },
  { name: `mail.${DOMAIN}`, type: 'A', data: '192.0.2.25' },
  { name: `split.${DOMAIN}`, type: 'TXT', data: ['v=spf1 ip4:192.0.2.0/24 ', 'include:spf.protection.outlook.com -all'] },
  { name: `long.${DOMAIN}`, type: 'TXT', data: 'k'.repeat(600) },
  { name: '_dmarc.twice.example', type: 'TXT', data: 'v=DMARC1; p=none' },
  { name: '_DMARC.Twice.Example.', type: 'TXT', data: 'v=DMARC1; p=reject' },
  ...BIG.map((data): DnsRecord => ({ name: `big.${DOMAIN}`, type: 'TXT', data })),
  { name: `selector1._domainkey.${DOMAIN}`, type: 'CNAME', data: DKIM_TARGET },
  { name: DKIM_TARGET, type: 'TXT', data: DKIM_KEY },
  { name: `selector2._domainkey.${DOMAIN}`, type: 'CNAME', data: `missing._domainkey.${DOMAIN}` },
  { name: `servfail.${DOMAIN}`, type: 'TXT', data: 'unreachable' },
  { name: `flaky.${DOMAIN}`, type: 'TXT', data: 'sometimes' },
];

/** A resolver set up the way the product queries: short timeout, one try, only this server. */
function resolverFor(server: { host: string; port: number }): Resolver {
  const resolver = new Resolver({ timeout: 500, tries: 1 });
  resolver.setServers([`${server.host}:${server.port}`]);
  return resolver;
}

/** The error code a lookup fails with, or a failure when it succeeds. */
async function errorCode(lookup: Promise<unknown>): Promise<string> {
  try {
    const value = await lookup;
    return `resolved ${JSON.stringify(value)}`;
  } catch (err) {
    return String((err as NodeJS.ErrnoException).code);
  }
}

/** Sends one UDP datagram and waits up to `ms` for a reply (`undefined` when none comes). */
async function udpExchange(port: number, message: Buffer, ms = 300): Promise<Buffer | undefined> {
  const socket = dgram.createSocket('udp4');
  try {
    return await new Promise<Buffer | undefined>((resolve, reject) => {
      const timer = setTimeout(() => resolve(undefined), ms);
      socket.once('message', (reply) => {
        clearTimeout(timer);
        resolve(reply);
      });
      socket.once('error', reject);
      socket.send(message, port, '127.0.0.1');
    });
  } finally {
    socket.close();
  }
}

function query(name: string, type: 'TXT' | 'A' | 'CNAME' | 'MX', extra: Partial<Packet> = {}): Buffer {
  return dnsPacket.encode({
    type: 'query',
    id: 0x1234,
    flags: dnsPacket.RECURSION_DESIRED,
    questions: [{ name, type, class: 'IN' }],
    ...extra,
  });
}

function rcodeOf(response: Buffer): number {
  return response.readUInt16BE(2) & 0xf;
}

function txtOf(packet: DecodedPacket): string[][] {
  return (packet.answers ?? []).flatMap((a) => (a.type === 'TXT' ? [(a.data as Buffer[]).map((b) => b.toString())] : []));
}

/** A TCP client that frames messages and collects the length-prefixed responses. */
class TcpClient {
  readonly responses: Buffer[] = [];
  private pending = Buffer.alloc(0);
  private waiters: (() => void)[] = [];
  closed = false;

  private constructor(readonly socket: net.Socket) {
    socket.on('data', (chunk) => {
      this.pending = Buffer.concat([this.pending, chunk]);
      while (this.pending.length >= 2 && this.pending.length >= 2 + this.pending.readUInt16BE(0)) {
        const length = this.pending.readUInt16BE(0);
        this.responses.push(this.pending.subarray(2, 2 + length));
        this.pending = this.pending.subarray(2 + length);
      }
      this.notify();
    });
    socket.on('close', () => {
      this.closed = true;
      this.notify();
    });
  }

  static async connect(port: number): Promise<TcpClient> {
    const socket = net.connect({ host: '127.0.0.1', port });
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    return new TcpClient(socket);
  }

  send(...messages: Buffer[]): void {
    for (const m of messages) {
      const prefix = Buffer.alloc(2);
      prefix.writeUInt16BE(m.length);
      this.socket.write(Buffer.concat([prefix, m]));
    }
  }

  /** Waits until `predicate` holds or `ms` pass; returns whether it holds. */
  async until(predicate: () => boolean, ms = 500): Promise<boolean> {
    const deadline = Date.now() + ms;
    while (!predicate()) {
      const left = deadline - Date.now();
      if (left <= 0) return false;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    return true;
  }

  private notify(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }
}

describe('simulated DNS server', () => {
  let server: RunningDnsServer;
  const log: DnsQueryLogEntry[] = [];
  const faults: Record<string, DnsFault> = { [`servfail.${DOMAIN}`]: 'servfail' };
  let dns: Resolver;

  beforeAll(async () => {
    server = await startDnsServer({ zone: records, faults, onQuery: (e) => log.push(e) });
  });
  afterAll(async () => {
    await server?.stop();
  });
  beforeEach(() => {
    dns = resolverFor(server);
    log.length = 0;
  });

  it('listens on loopback, UDP and TCP on the same port', async () => {
    expect(server.host).toBe('127.0.0.1');
    expect(server.port).toBeGreaterThan(0);
    const tcp = await TcpClient.connect(server.port);
    tcp.socket.destroy();
    expect(await udpExchange(server.port, query(`_dmarc.${DOMAIN}`, 'TXT'))).toBeInstanceOf(Buffer);
  });

  describe('answers through the Node resolver', () => {
    it('serves the DMARC TXT record at the _dmarc name', async () => {
      expect(await dns.resolveTxt(`_dmarc.${DOMAIN}`)).toEqual([[DMARC]]);
    });

    it('serves the SPF TXT record at the apex, next to the other TXT records there', async () => {
      const txt = await dns.resolveTxt(DOMAIN);
      expect(txt).toHaveLength(2);
      expect(txt).toContainEqual([SPF]);
      expect(txt).toContainEqual(['MS=ms12345678']);
    });

    it('looks names up case-insensitively', async () => {
      expect(await dns.resolveTxt(`_DMARC.${DOMAIN.toUpperCase()}`)).toEqual([[DMARC]]);
    });

    it('keeps the character-strings of one TXT record together', async () => {
      expect(await dns.resolveTxt(`split.${DOMAIN}`)).toEqual([['v=spf1 ip4:192.0.2.0/24 ', 'include:spf.protection.outlook.com -all']]);
    });

    it('splits a TXT string longer than 255 bytes into 255-byte character-strings', async () => {
      expect(await dns.resolveTxt(`long.${DOMAIN}`)).toEqual([['k'.repeat(255), 'k'.repeat(255), 'k'.repeat(90)]]);
    });

    it('returns several TXT records at one name as separate records', async () => {
      const txt = await dns.resolveTxt('_dmarc.twice.example');
      expect(txt).toHaveLength(2);
      expect(txt).toEqual(expect.arrayContaining([['v=DMARC1; p=none'], ['v=DMARC1; p=reject']]));
    });

    it('serves A and MX records', async () => {
      expect(await dns.resolve4(`mail.${DOMAIN}`)).toEqual(['192.0.2.25']);
      expect(await dns.resolveMx(DOMAIN)).toEqual([expect.objectContaining({ priority: 0, exchange: 'contoso-example.mail.protection.outlook.example' })]);
    });

    it('truncates a TXT answer too large for UDP, and the resolver gets it complete over TCP', async () => {
      const txt = await dns.resolveTxt(`big.${DOMAIN}`);
      expect(txt).toHaveLength(10);
      expect(txt.map((strings) => strings.join('')).sort()).toEqual([...BIG].sort());
      const seen = log.filter((e) => e.name === `big.${DOMAIN}`);
      expect(seen.map((e) => e.transport)).toEqual(['udp', 'tcp']);
      expect(seen[0]).toMatchObject({ rcode: 'NOERROR', truncated: true });
      expect(seen[1]?.truncated).toBeUndefined();
    });

    it('answers the DKIM selector CNAME', async () => {
      expect(await dns.resolveCname(`selector1._domainkey.${DOMAIN}`)).toEqual([DKIM_TARGET]);
    });

    it('chases a CNAME within the zone: TXT at the selector name reaches the key at the target', async () => {
      expect(await dns.resolveTxt(`selector1._domainkey.${DOMAIN}`)).toEqual([[DKIM_KEY]]);
      expect(log.filter((e) => e.type === 'TXT').map((e) => e.name)).toEqual([`selector1._domainkey.${DOMAIN}`]);
    });

    it('answers NXDOMAIN for an unknown name: ENOTFOUND', async () => {
      expect(await errorCode(dns.resolveTxt(`_dmarc.unknown.${DOMAIN}`))).toBe('ENOTFOUND');
      expect(log.at(-1)).toMatchObject({ transport: 'udp', rcode: 'NXDOMAIN', type: 'TXT' });
    });

    it('answers NXDOMAIN for a CNAME whose target does not exist (RFC 6604)', async () => {
      expect(await errorCode(dns.resolveTxt(`selector2._domainkey.${DOMAIN}`))).toBe('ENOTFOUND');
    });

    it('answers NODATA for a name without records of the asked type: ENODATA', async () => {
      expect(await errorCode(dns.resolveTxt(`mail.${DOMAIN}`))).toBe('ENODATA');
      expect(log.at(-1)).toMatchObject({ rcode: 'NOERROR' });
    });

    it('answers NODATA, not NXDOMAIN, for an empty non-terminal (RFC 8020)', async () => {
      expect(await errorCode(dns.resolveTxt(`_domainkey.${DOMAIN}`))).toBe('ENODATA');
      expect(await errorCode(dns.resolveTxt('twice.example'))).toBe('ENODATA');
    });
  });

  describe('faults', () => {
    afterEach(() => server.setFault(`flaky.${DOMAIN}`, undefined));

    it('servfail: ESERVFAIL', async () => {
      expect(await errorCode(dns.resolveTxt(`servfail.${DOMAIN}`))).toBe('ESERVFAIL');
      expect(log.at(-1)).toMatchObject({ name: `servfail.${DOMAIN}`, rcode: 'SERVFAIL' });
    });

    it('refused: EREFUSED', async () => {
      server.setFault(`Flaky.${DOMAIN}.`, 'refused');
      expect(await errorCode(dns.resolveTxt(`flaky.${DOMAIN}`))).toBe('EREFUSED');
    });

    it('timeout: the query is never answered, ETIMEOUT', async () => {
      server.setFault(`flaky.${DOMAIN}`, 'timeout');
      const started = Date.now();
      expect(await errorCode(dns.resolveTxt(`flaky.${DOMAIN}`))).toBe('ETIMEOUT');
      expect(Date.now() - started).toBeGreaterThanOrEqual(400);
      expect(log.map((e) => e.rcode)).toEqual(['DROPPED']);
    });

    it('can be set and cleared while the server runs', async () => {
      server.setFault(`flaky.${DOMAIN}`, 'servfail');
      expect(await errorCode(resolverFor(server).resolveTxt(`flaky.${DOMAIN}`))).toBe('ESERVFAIL');
      server.setFault(`FLAKY.${DOMAIN}`, undefined);
      expect(await resolverFor(server).resolveTxt(`flaky.${DOMAIN}`)).toEqual([['sometimes']]);
      faults[`flaky.${DOMAIN}`] = 'refused';
      expect(await errorCode(resolverFor(server).resolveTxt(`flaky.${DOMAIN}`))).toBe('EREFUSED');
      server.setFault(`flaky.${DOMAIN}`, undefined);
      expect(faults).toEqual({ [`servfail.${DOMAIN}`]: 'servfail' });
      expect(await resolverFor(server).resolveTxt(`flaky.${DOMAIN}`)).toEqual([['sometimes']]);
    });

    it('a dropped TCP query leaves the connection open for the next one', async () => {
      server.setFault(`flaky.${DOMAIN}`, 'timeout');
      const tcp = await TcpClient.connect(server.port);
      try {
        tcp.send(query(`flaky.${DOMAIN}`, 'TXT', { id: 1 }), query(`_dmarc.${DOMAIN}`, 'TXT', { id: 2 }));
        expect(await tcp.until(() => tcp.responses.length >= 1)).toBe(true);
        expect(await tcp.until(() => tcp.responses.length >= 2 || tcp.closed, 200)).toBe(false);
        expect(tcp.responses.map((r) => dnsPacket.decode(r).id)).toEqual([2]);
        expect(tcp.closed).toBe(false);
      } finally {
        tcp.socket.destroy();
      }
    });
  });

  describe('on the wire', () => {
    it('answers authoritatively, echoing id, question and RD, without RA', async () => {
      const reply = await udpExchange(server.port, query(`_dmarc.${DOMAIN}`, 'TXT'));
      const packet = dnsPacket.decode(reply as Buffer);
      expect(packet).toMatchObject({ id: 0x1234, type: 'response', flag_aa: true, flag_rd: true, flag_ra: false, flag_tc: false });
      expect(packet.questions).toEqual([{ name: `_dmarc.${DOMAIN}`, type: 'TXT', class: 'IN' }]);
      expect(txtOf(packet)).toEqual([[DMARC]]);

      const noRd = dnsPacket.decode((await udpExchange(server.port, query(`_dmarc.${DOMAIN}`, 'TXT', { flags: 0 }))) as Buffer);
      expect(noRd.flag_rd).toBe(false);
    });

    it('echoes the question exactly as asked, case included', async () => {
      const message = query(`_DMARC.Contoso.EXAMPLE`, 'TXT');
      const reply = (await udpExchange(server.port, message)) as Buffer;
      expect(reply.subarray(12, message.length)).toEqual(message.subarray(12));
      expect(txtOf(dnsPacket.decode(reply))).toEqual([[DMARC]]);
    });

    it('truncates at 512 bytes without EDNS0, and honours a larger EDNS0 payload size', async () => {
      const plain = dnsPacket.decode((await udpExchange(server.port, query(`big.${DOMAIN}`, 'TXT'))) as Buffer);
      expect(plain.flag_tc).toBe(true);
      expect(plain.answers).toEqual([]);
      expect(plain.questions).toHaveLength(1);

      const opt = { type: 'OPT' as const, name: '.', udpPayloadSize: 4096, extendedRcode: 0, ednsVersion: 0, flags: 0, flag_do: false, options: [] };
      const reply = (await udpExchange(server.port, query(`big.${DOMAIN}`, 'TXT', { additionals: [opt] }))) as Buffer;
      expect(reply.length).toBeGreaterThan(512);
      const edns = dnsPacket.decode(reply);
      expect(edns.flag_tc).toBe(false);
      expect(txtOf(edns)).toHaveLength(10);
      expect(edns.additionals?.[0]?.type).toBe('OPT');
    });

    it('serves several queries on one TCP connection', async () => {
      const tcp = await TcpClient.connect(server.port);
      try {
        tcp.send(query(`big.${DOMAIN}`, 'TXT', { id: 7 }), query(`nope.${DOMAIN}`, 'TXT', { id: 8 }));
        expect(await tcp.until(() => tcp.responses.length >= 2)).toBe(true);
        const [big, nope] = tcp.responses.map((r) => dnsPacket.decode(r));
        expect(big?.id).toBe(7);
        expect(big?.flag_tc).toBe(false);
        expect(txtOf(big as DecodedPacket)).toHaveLength(10);
        expect(nope?.id).toBe(8);
        expect(rcodeOf(tcp.responses[1] as Buffer)).toBe(3);
        expect(log.map((e) => e.transport)).toEqual(['tcp', 'tcp']);
      } finally {
        tcp.socket.destroy();
      }
    });

    it('survives malformed UDP packets: garbage is ignored, a readable header gets FORMERR', async () => {
      expect(await udpExchange(server.port, Buffer.from([0xde, 0xad, 0xbe]), 100)).toBeUndefined();

      const noQuestion = Buffer.alloc(12);
      noQuestion.writeUInt16BE(0xbeef, 0);
      noQuestion.writeUInt16BE(1, 4); // one question announced, none present
      const formerr = (await udpExchange(server.port, noQuestion)) as Buffer;
      expect(formerr).toBeInstanceOf(Buffer);
      expect(formerr.readUInt16BE(0)).toBe(0xbeef);
      expect(rcodeOf(formerr)).toBe(1);

      const badLabel = Buffer.concat([query(`_dmarc.${DOMAIN}`, 'TXT').subarray(0, 12), Buffer.from([0x7f, 0x41, 0x00, 0x10])]);
      expect(rcodeOf((await udpExchange(server.port, badLabel)) as Buffer)).toBe(1);

      expect(await dns.resolveTxt(`_dmarc.${DOMAIN}`)).toEqual([[DMARC]]);
    });

    it('survives malformed TCP messages and keeps serving the connection', async () => {
      const tcp = await TcpClient.connect(server.port);
      try {
        tcp.send(Buffer.from('not dns'), Buffer.alloc(0), query(`_dmarc.${DOMAIN}`, 'TXT', { id: 9 }));
        expect(await tcp.until(() => tcp.responses.length >= 1)).toBe(true);
        expect(dnsPacket.decode(tcp.responses[0] as Buffer).id).toBe(9);
      } finally {
        tcp.socket.destroy();
      }
    });
  });
});

describe('stop()', () => {
  it('closes open TCP connections and frees the port for UDP and TCP', async () => {
    const server = await startDnsServer({ zone: records });
    const resolver = resolverFor(server);
    expect(await resolver.resolveTxt(`_dmarc.${DOMAIN}`)).toEqual([[DMARC]]);
    const tcp = await TcpClient.connect(server.port);

    await server.stop();
    await server.stop();
    expect(await tcp.until(() => tcp.closed)).toBe(true);

    const udp = dgram.createSocket('udp4');
    await new Promise<void>((resolve, reject) => {
      udp.once('error', reject);
      udp.bind(server.port, '127.0.0.1', resolve);
    });
    const listener = net.createServer();
    await new Promise<void>((resolve, reject) => {
      listener.once('error', reject);
      listener.listen(server.port, '127.0.0.1', resolve);
    });
    await new Promise<void>((resolve) => udp.close(() => resolve()));
    await new Promise<void>((resolve) => listener.close(() => resolve()));
  });

  it('binds a requested port', async () => {
    const probe = await startDnsServer({ zone: [] });
    const port = probe.port;
    await probe.stop();
    const server = await startDnsServer({ zone: [], port });
    try {
      expect(server.port).toBe(port);
      expect(await errorCode(resolverFor(server).resolveTxt(DOMAIN))).toBe('ENOTFOUND');
    } finally {
      await server.stop();
    }
  });
});

describe('zoneFromRecords', () => {
  const zone = zoneFromRecords(records);

  it('tells a missing name (undefined) from a name without data of the type ([])', () => {
    expect(zone.lookup(`nope.${DOMAIN}`, 'TXT')).toBeUndefined();
    expect(zone.lookup(`mail.${DOMAIN}`, 'TXT')).toEqual([]);
    expect(zone.lookup(`_domainkey.${DOMAIN}.`, 'TXT')).toEqual([]);
    expect(zone.lookup('example', 'A')).toEqual([]);
    expect(zone.lookup(`MAIL.${DOMAIN}.`, 'A')).toEqual([{ name: `mail.${DOMAIN}`, type: 'A', data: '192.0.2.25' }]);
    expect(zone.lookup(DOMAIN, 'ANY')).toHaveLength(3);
  });

  it('rejects invalid records', () => {
    expect(() => zoneFromRecords([{ name: 'a.example', type: 'A', data: '300.1.1.1' }])).toThrow(/IPv4/);
    expect(() => zoneFromRecords([{ name: 'a.example', type: 'MX', data: 'mail.example' }])).toThrow(/MX data/);
    expect(() => zoneFromRecords([{ name: 'a..example', type: 'TXT', data: 'x' }])).toThrow(/empty label/);
    expect(() => zoneFromRecords([{ name: 'a.example', type: 'CNAME', data: ['b.example'] }])).toThrow(/must be a string/);
  });
});
