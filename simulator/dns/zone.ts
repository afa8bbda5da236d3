import { isIPv4 } from 'node:net';

/** The record types the simulated DNS serves. */
export type DnsRecordType = 'TXT' | 'CNAME' | 'A' | 'MX';

/**
 * One resource record served by the simulated DNS.
 *
 * - `TXT`: `data` is the record's character-strings (`string[]`, each at most 255 bytes; a longer
 *   one is split into 255-byte chunks when encoded), or one `string`, split into 255-byte chunks.
 *   Several TXT records at one name are several `DnsRecord` entries with the same name.
 * - `CNAME`: `data` is the target name.
 * - `A`: `data` is an IPv4 address.
 * - `MX`: `data` is the preference and the exchange, e.g. `"10 mail.contoso.example"`.
 */
export interface DnsRecord {
  /** Owner name; case-insensitive, a trailing dot is ignored. */
  name: string;
  type: DnsRecordType;
  /** Time to live in seconds. @default 300 */
  ttl?: number;
  data: string | string[];
}

/** What the simulated DNS answers from. */
export interface DnsZoneSource {
  /**
   * The records of `type` (upper case, e.g. `TXT`; `ANY` for all types) owned by `name`.
   * Returns `undefined` when the name does not exist (NXDOMAIN), and `[]` when it exists but has
   * no records of this type (NOERROR with no data).
   */
  lookup(name: string, type: string): DnsRecord[] | undefined;
}

/** Default TTL of a record without one, in seconds. */
export const DEFAULT_TTL = 300;

const MAX_TTL = 2 ** 31 - 1;

/**
 * The canonical form of a domain name for comparisons: ASCII letters in lower case, without the
 * trailing dot. The root is the empty string.
 */
export function normalizeName(name: string): string {
  const lower = name.replace(/[A-Z]+/g, (s) => s.toLowerCase());
  return lower.endsWith('.') ? lower.slice(0, -1) : lower;
}

/** Why `name` is not a valid domain name, or `undefined` when it is. */
export function invalidNameReason(name: string): string | undefined {
  const n = normalizeName(name);
  if (n === '') return undefined;
  if (Buffer.byteLength(n) > 253) return 'longer than 253 bytes';
  for (const label of n.split('.')) {
    if (label === '') return 'has an empty label';
    if (Buffer.byteLength(label) > 63) return `label "${label}" is longer than 63 bytes`;
  }
  return undefined;
}

/** An MX record's data split into its preference and exchange, or `undefined` when malformed. */
export function parseMx(data: string): { preference: number; exchange: string } | undefined {
  const m = /^\s*(\d{1,5})\s+(\S+)\s*$/.exec(data);
  if (!m) return undefined;
  const preference = Number(m[1]);
  const exchange = m[2] as string;
  if (preference > 0xffff || invalidNameReason(exchange) !== undefined) return undefined;
  return { preference, exchange: exchange.endsWith('.') ? exchange.slice(0, -1) : exchange };
}

/** Why `record` cannot be served, or `undefined` when it can. */
export function invalidRecordReason(record: DnsRecord): string | undefined {
  const badName = invalidNameReason(record.name);
  if (badName) return `name ${badName}`;
  if (record.ttl !== undefined && (!Number.isInteger(record.ttl) || record.ttl < 0 || record.ttl > MAX_TTL)) {
    return `ttl must be an integer from 0 to ${MAX_TTL}`;
  }
  if (record.type === 'TXT') {
    const ok = typeof record.data === 'string' || (Array.isArray(record.data) && record.data.every((s) => typeof s === 'string'));
    return ok ? undefined : 'TXT data must be a string or an array of strings';
  }
  if (typeof record.data !== 'string') return `${String(record.type)} data must be a string`;
  switch (record.type) {
    case 'CNAME': {
      const bad = invalidNameReason(record.data);
      return bad ? `CNAME target ${bad}` : undefined;
    }
    case 'A':
      return isIPv4(record.data) ? undefined : `"${record.data}" is not an IPv4 address`;
    case 'MX':
      return parseMx(record.data) ? undefined : `MX data "${record.data}" is not "<preference> <exchange>"`;
    default:
      return `unsupported record type ${JSON.stringify(record.type)}`;
  }
}

/**
 * A zone over a fixed list of records. Names are case-insensitive and a trailing dot is ignored.
 * A name that owns records of other types only answers NODATA (`[]`); so does a name that owns no
 * records but is an ancestor of one that does (an empty non-terminal such as
 * `_domainkey.contoso.example` when `selector1._domainkey.contoso.example` exists, RFC 8020).
 * Any other name does not exist (`undefined`).
 *
 * @throws TypeError when a record is invalid (bad name, TTL, type or data).
 */
export function zoneFromRecords(records: readonly DnsRecord[]): DnsZoneSource {
  const byName = new Map<string, DnsRecord[]>();
  const nonTerminals = new Set<string>();
  for (const record of records) {
    const reason = invalidRecordReason(record);
    if (reason) throw new TypeError(`invalid DNS record ${JSON.stringify(record)}: ${reason}`);
    const key = normalizeName(record.name);
    const copy: DnsRecord = { ...record, data: Array.isArray(record.data) ? [...record.data] : record.data };
    const list = byName.get(key);
    if (list) list.push(copy);
    else byName.set(key, [copy]);
    for (let ancestor = parentName(key); ancestor !== undefined; ancestor = parentName(ancestor)) {
      nonTerminals.add(ancestor);
    }
  }
  return {
    lookup(name: string, type: string): DnsRecord[] | undefined {
      const key = normalizeName(name);
      const here = byName.get(key);
      if (!here) return nonTerminals.has(key) ? [] : undefined;
      const wanted = type.toUpperCase();
      return here.filter((r) => wanted === 'ANY' || r.type === wanted);
    },
  };
}

/** The parent of a normalized name; the root (`''`) has none. */
function parentName(name: string): string | undefined {
  if (name === '') return undefined;
  const dot = name.indexOf('.');
  return dot === -1 ? '' : name.slice(dot + 1);
}
