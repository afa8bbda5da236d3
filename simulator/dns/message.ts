import dnsPacket, { type Answer, type DecodedPacket, type OptAnswer } from 'dns-packet';
import { DEFAULT_TTL, invalidRecordReason, normalizeName, parseMx, type DnsRecord, type DnsZoneSource } from './zone.js';

/** A fault injected for one query name. */
export type DnsFault =
  /** Answer with rcode SERVFAIL. */
  | 'servfail'
  /** Never answer: the query is dropped (over TCP the connection stays open). */
  | 'timeout'
  /** Answer with rcode REFUSED. */
  | 'refused';

/** The rcode reported for a query that was dropped on purpose (the `timeout` fault). */
export const DROPPED = 'DROPPED';

/** Largest UDP response offered to clients that announce a bigger EDNS0 buffer. */
export const MAX_UDP_PAYLOAD = 4096;
/** The UDP payload size this server announces in its own OPT record (DNS Flag Day 2020). */
const ADVERTISED_UDP_PAYLOAD = 1232;
/** Classic DNS limit for UDP messages without EDNS0 (RFC 1035). */
const CLASSIC_UDP_PAYLOAD = 512;
/** Longest CNAME chain followed within the zone. */
const MAX_CHAIN = 8;

const HEADER_BYTES = 12;
const QR = 1 << 15;
const AA = 1 << 10;
const TC = 1 << 9;
const RD = 1 << 8;
const DO = 1 << 15;

const RCODE = { NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3, NOTIMP: 4, REFUSED: 5, BADVERS: 16 } as const;
type RcodeName = keyof typeof RCODE;

/** What the server needs to answer a query. */
export interface QueryContext {
  zone: DnsZoneSource;
  /** The fault injected for a query name, if any. */
  faultFor(name: string): DnsFault | undefined;
}

/** The outcome of one received message that looked like a query. */
export interface QueryOutcome {
  /** The response to send; `undefined` when the query is dropped. */
  response: Buffer | undefined;
  /** Query name as asked (`''` when the question could not be read). */
  name: string;
  /** Query type, e.g. `TXT` (`''` when the question could not be read). */
  type: string;
  /** Response code name, e.g. `NOERROR`, `NXDOMAIN`; {@link DROPPED} when not answered. */
  rcode: string;
  /** Whether the response was truncated (TC) because it did not fit the UDP payload size. */
  truncated: boolean;
}

interface Request {
  id: number;
  opcode: number;
  rd: boolean;
  /** The question section exactly as received, echoed in the response. */
  rawQuestion: Buffer | undefined;
  /** The client's OPT record, when it uses EDNS0. */
  opt: OptAnswer | undefined;
}

/**
 * Answers one DNS message received over `transport`. Returns `undefined` for messages that are
 * not worth an answer (shorter than a header, or responses rather than queries); any other
 * malformed message gets FORMERR. Never throws.
 */
export function answerMessage(message: Buffer, transport: 'udp' | 'tcp', ctx: QueryContext): QueryOutcome | undefined {
  if (message.length < HEADER_BYTES) return undefined;
  const flags = message.readUInt16BE(2);
  if (flags & QR) return undefined;
  const head: Request = {
    id: message.readUInt16BE(0),
    opcode: (flags >> 11) & 0xf,
    rd: (flags & RD) !== 0,
    rawQuestion: undefined,
    opt: undefined,
  };
  const fail = (rcode: RcodeName, name = '', type = ''): QueryOutcome => ({
    response: encodeResponse(head, rcode, []),
    name,
    type,
    rcode,
    truncated: false,
  });

  let packet: DecodedPacket;
  try {
    packet = dnsPacket.decode(message);
  } catch {
    return fail('FORMERR');
  }
  const questions = packet.questions ?? [];
  const question = questions[0];
  if (questions.length === 1 && question) head.rawQuestion = rawQuestionSection(message);
  const opts = (packet.additionals ?? []).filter((a): a is OptAnswer => a.type === 'OPT');
  if (opts.length === 1) head.opt = opts[0];
  const name = question?.name ?? '';
  const type = question?.type ?? '';

  if (head.opcode !== 0) return fail('NOTIMP', name, type);
  if (!question || !head.rawQuestion || opts.length > 1) return fail('FORMERR', name, type);
  if (head.opt && head.opt.ednsVersion !== 0) return fail('BADVERS', name, type);
  if (question.class !== undefined && question.class !== 'IN' && question.class !== 'ANY') return fail('REFUSED', name, type);
  if (type === 'AXFR' || type === 'IXFR' || type === 'OPT') return fail('REFUSED', name, type);

  const fault = ctx.faultFor(name);
  if (fault === 'timeout') return { response: undefined, name, type, rcode: DROPPED, truncated: false };
  if (fault === 'servfail') return fail('SERVFAIL', name, type);
  if (fault === 'refused') return fail('REFUSED', name, type);

  try {
    const result = resolve(ctx.zone, name, type);
    const limit = transport === 'tcp' ? 0xffff : udpLimit(head.opt);
    let response = encodeResponse(head, result.rcode, result.answers);
    let truncated = false;
    if (response.length > limit) {
      response = encodeResponse(head, result.rcode, [], true);
      truncated = true;
    }
    return { response, name, type, rcode: result.rcode, truncated };
  } catch {
    // A zone source that throws, or records that cannot be encoded: the server's own failure.
    return fail('SERVFAIL', name, type);
  }
}

/**
 * The answers for `name`/`type` and the response code. A CNAME at the name (for any type but
 * CNAME and ANY) is answered with the CNAME, then followed within the zone; the response code is
 * that of the last name in the chain (RFC 6604), so a CNAME to a name that does not exist is
 * NXDOMAIN with the CNAME in the answer.
 */
function resolve(zone: DnsZoneSource, name: string, type: string): { rcode: RcodeName; answers: Answer[] } {
  const answers: Answer[] = [];
  const visited = new Set<string>();
  let owner = name;
  for (;;) {
    visited.add(normalizeName(owner));
    if (type !== 'CNAME' && type !== 'ANY') {
      const alias = zone.lookup(owner, 'CNAME')?.find((r) => r.type === 'CNAME');
      if (alias) {
        answers.push(toAnswer(owner, alias));
        const target = alias.data as string;
        if (visited.has(normalizeName(target)) || visited.size >= MAX_CHAIN) return { rcode: 'NOERROR', answers };
        owner = target;
        continue;
      }
    }
    const records = zone.lookup(owner, type);
    if (records === undefined) return { rcode: 'NXDOMAIN', answers };
    for (const r of records) if (type === 'ANY' || r.type === type) answers.push(toAnswer(owner, r));
    return { rcode: 'NOERROR', answers };
  }
}

/** A zone record as a dns-packet answer owned by `owner` (the name as it appears in the response). */
function toAnswer(owner: string, record: DnsRecord): Answer {
  const reason = invalidRecordReason(record);
  if (reason) throw new TypeError(`invalid DNS record ${JSON.stringify(record)}: ${reason}`);
  const name = owner.endsWith('.') && owner !== '.' ? owner.slice(0, -1) : owner;
  const ttl = record.ttl ?? DEFAULT_TTL;
  switch (record.type) {
    case 'TXT':
      return { name, type: 'TXT', ttl, data: txtStrings(record.data) };
    case 'CNAME':
      return { name, type: 'CNAME', ttl, data: stripDot(record.data as string) };
    case 'A':
      return { name, type: 'A', ttl, data: record.data as string };
    case 'MX':
      return { name, type: 'MX', ttl, data: parseMx(record.data as string) as { preference: number; exchange: string } };
  }
}

/** TXT data as character-strings of at most 255 bytes (longer strings are split). */
export function txtStrings(data: string | readonly string[]): Buffer[] {
  const strings = typeof data === 'string' ? [data] : data.length === 0 ? [''] : data;
  const out: Buffer[] = [];
  for (const s of strings) {
    const bytes = Buffer.from(s, 'utf8');
    if (bytes.length === 0) out.push(bytes);
    for (let i = 0; i < bytes.length; i += 255) out.push(bytes.subarray(i, i + 255));
  }
  return out;
}

function stripDot(name: string): string {
  return name.endsWith('.') ? name.slice(0, -1) : name;
}

/** The largest UDP response the client accepts. */
function udpLimit(opt: OptAnswer | undefined): number {
  if (!opt) return CLASSIC_UDP_PAYLOAD;
  return Math.min(Math.max(opt.udpPayloadSize, CLASSIC_UDP_PAYLOAD), MAX_UDP_PAYLOAD);
}

/** The question section of a one-question message, as received; `undefined` when unreadable. */
function rawQuestionSection(message: Buffer): Buffer | undefined {
  let offset = HEADER_BYTES;
  for (;;) {
    const len = message[offset];
    if (len === undefined) return undefined;
    if (len === 0) {
      offset += 1;
      break;
    }
    if ((len & 0xc0) === 0xc0) {
      offset += 2;
      break;
    }
    if ((len & 0xc0) !== 0) return undefined;
    offset += 1 + len;
  }
  const end = offset + 4;
  return end <= message.length ? message.subarray(HEADER_BYTES, end) : undefined;
}

/**
 * A response to `req`: the id, opcode and RD bit copied, AA set, RA clear, the question echoed as
 * received, and an OPT record when the query had one.
 */
function encodeResponse(req: Request, rcode: RcodeName, answers: Answer[], truncated = false): Buffer {
  const code = RCODE[rcode];
  const flags = AA | (req.opcode << 11) | (req.rd ? RD : 0) | (truncated ? TC : 0) | (code & 0xf);
  const additionals: Answer[] = [];
  if (req.opt) {
    additionals.push({
      name: '.',
      type: 'OPT',
      udpPayloadSize: ADVERTISED_UDP_PAYLOAD,
      extendedRcode: code >> 4,
      ednsVersion: 0,
      flags: req.opt.flags & DO,
      flag_do: (req.opt.flags & DO) !== 0,
      options: [],
    });
  }
  const body = dnsPacket.encode({ type: 'response', id: req.id, flags, questions: [], answers, additionals });
  if (!req.rawQuestion) return body;
  body.writeUInt16BE(1, 4);
  return Buffer.concat([body.subarray(0, HEADER_BYTES), req.rawQuestion, body.subarray(HEADER_BYTES)]);
}
