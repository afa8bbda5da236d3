import type { Collection, Entity } from '../tenant/collection.js';
import { badRequest, type SimResponse } from '../http/errors.js';

/** One `prop eq value`, `prop ge 2026-01-01T00:00:00Z` or `startswith(prop,'value')` clause; clauses are joined by `and`. */
export interface FilterClause {
  field: string;
  op: 'eq' | 'ne' | 'ge' | 'gt' | 'le' | 'lt' | StringFunction;
  value: string | number | boolean | null;
}

/** The string functions a `$filter` may call: `startswith` everywhere, `contains` and `endswith` where a resource supports them. */
export type StringFunction = 'startswith' | 'contains' | 'endswith';

/** An OData DateTimeOffset literal, written unquoted: 2026-09-14T10:51:02Z, with fraction or offset. */
const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,7})?)?(Z|[+-]\d{2}:\d{2})$/;

/**
 * Parses the `$filter` forms the simulator supports (the ones the clients use): equality on a
 * property, `ne`, `startswith`, and `ge`/`gt`/`le`/`lt` against a number or a DateTimeOffset,
 * joined by `and`. Anything else is refused as Graph refuses an unsupported filter.
 */
export function parseFilter(filter: string, allowed: readonly string[], functions: readonly StringFunction[] = ['startswith']): FilterClause[] {
  const clauses = filter.split(/\s+and\s+/i);
  return clauses.map((raw) => {
    const c = raw.trim().replace(/^\((.*)\)$/, '$1');
    let m = /^(startswith|contains|endswith)\(\s*([A-Za-z/]+)\s*,\s*'((?:[^']|'')*)'\s*\)$/i.exec(c);
    if (m) {
      const fn = m[1]!.toLowerCase() as StringFunction;
      if (!functions.includes(fn)) throw badRequest(`Invalid filter clause: the function '${m[1]}' is not supported.`, 'BadRequest');
      return check({ field: m[2]!, op: fn, value: m[3]!.replace(/''/g, "'") }, allowed);
    }
    m = /^([A-Za-z/]+)\s+(eq|ne|ge|gt|le|lt)\s+(.+)$/i.exec(c);
    if (!m) throw badRequest(`Invalid filter clause: '${raw}'.`, 'BadRequest');
    const literal = m[3]!.trim();
    let value: FilterClause['value'];
    if (/^'((?:[^']|'')*)'$/.test(literal)) value = literal.slice(1, -1).replace(/''/g, "'");
    else if (literal === 'true' || literal === 'false') value = literal === 'true';
    else if (literal === 'null') value = null;
    else if (/^-?[0-9]+$/.test(literal)) value = Number(literal);
    else if (DATE_TIME.test(literal) && !Number.isNaN(Date.parse(literal))) value = literal;
    else throw badRequest(`Invalid filter clause: syntax error at '${literal}'.`, 'BadRequest');
    const op = m[2]!.toLowerCase() as FilterClause['op'];
    if (op !== 'eq' && op !== 'ne' && (typeof value === 'boolean' || value === null)) throw badRequest(`Invalid filter clause: '${raw}'.`, 'BadRequest');
    return check({ field: m[1]!, op, value }, allowed);
  });
}

function check(c: FilterClause, allowed: readonly string[]): FilterClause {
  if (!allowed.some((a) => a.toLowerCase() === c.field.toLowerCase())) {
    throw badRequest(`Unsupported or invalid query filter clause specified for property '${c.field}' of resource.`, 'Request_UnsupportedQuery');
  }
  c.field = allowed.find((a) => a.toLowerCase() === c.field.toLowerCase())!;
  return c;
}

const norm = (v: unknown) => (typeof v === 'string' ? v.toLowerCase() : v);

export function matches(item: Entity, clauses: readonly FilterClause[]): boolean {
  return clauses.every((c) => {
    const v = item[c.field];
    if (c.op === 'startswith') return typeof v === 'string' && v.toLowerCase().startsWith(String(c.value).toLowerCase());
    if (c.op === 'contains') return typeof v === 'string' && v.toLowerCase().includes(String(c.value).toLowerCase());
    if (c.op === 'endswith') return typeof v === 'string' && v.toLowerCase().endsWith(String(c.value).toLowerCase());
    if (c.op === 'ge' || c.op === 'gt' || c.op === 'le' || c.op === 'lt') {
      const order = compare(v, c.value);
      if (order === undefined) return false;
      return c.op === 'ge' ? order >= 0 : c.op === 'gt' ? order > 0 : c.op === 'le' ? order <= 0 : order < 0;
    }
    const eq = norm(v ?? null) === norm(c.value);
    return c.op === 'eq' ? eq : !eq;
  });
}

/** Orders a stored value against a literal: numbers as numbers, date-times as instants; undefined when they do not compare. */
function compare(v: unknown, literal: FilterClause['value']): number | undefined {
  if (typeof literal === 'number') return typeof v === 'number' ? v - literal : undefined;
  if (typeof literal !== 'string' || typeof v !== 'string') return undefined;
  const a = Date.parse(v);
  const b = Date.parse(literal);
  return Number.isNaN(a) || Number.isNaN(b) ? undefined : a - b;
}

/** Keeps only the selected properties (Graph returns exactly what `$select` names). */
export function select(item: Record<string, unknown>, fields: readonly string[] | undefined): Record<string, unknown> {
  if (!fields) return item;
  // An item's type (the @odata.type of a directoryObject collection's items) stays, as Graph keeps it.
  const out: Record<string, unknown> = typeof item['@odata.type'] === 'string' ? { '@odata.type': item['@odata.type'] } : {};
  for (const f of fields) {
    const k = Object.keys(item).find((x) => x.toLowerCase() === f.toLowerCase()) ?? f;
    out[k] = item[k] ?? null;
  }
  return out;
}

export function parseSelect(query: URLSearchParams, known: readonly string[] | undefined, typeName: string): string[] | undefined {
  const raw = query.get('$select');
  if (!raw) return undefined;
  const fields = raw.split(',').map((s) => s.trim()).filter(Boolean);
  if (known) {
    for (const f of fields) {
      if (!known.some((k) => k.toLowerCase() === f.toLowerCase())) {
        throw badRequest(`Could not find a property named '${f}' on type '${typeName}'.`, 'BadRequest');
      }
    }
  }
  return fields;
}

export interface PageOptions {
  /** Page size without $top. */
  defaultTop: number;
  /** Largest $top accepted. */
  maxTop: number;
  known?: readonly string[];
  typeName: string;
  filterable?: readonly string[];
  /** The request URL, absolute, for building @odata.nextLink. */
  requestUrl: URL;
  /** The @odata.context to return. */
  context: string;
  /** A fault says the next link should lead back to this page. */
  loopNextLink?: boolean;
  /** How an item is shown in the answer (instance annotations the service adds), before $select. */
  render?: (item: Entity) => Record<string, unknown>;
}

interface Cursor {
  /** Next position to read. */
  p: number;
}

/**
 * Answers a list request over a collection: $filter, $select, $top, $skiptoken and an absolute
 * @odata.nextLink that keeps the query. Positions are read lazily, so a 100,000-item collection is
 * never materialised.
 */
export function listPage(source: Collection | Entity[], query: URLSearchParams, o: PageOptions): SimResponse {
  const rawTop = query.get('$top');
  const top = rawTop === null ? o.defaultTop : Number(rawTop);
  if (!Number.isInteger(top) || top < 1) throw badRequest(`Invalid value '${rawTop}' for query parameter $top.`, 'BadRequest');
  if (top > o.maxTop) throw badRequest(`Invalid page size specified: '${top}'. Must be between 1 and ${o.maxTop} inclusive.`, 'Request_BadRequest');
  const fields = parseSelect(query, o.known, o.typeName);
  const filter = query.get('$filter');
  const clauses = filter ? parseFilter(filter, o.filterable ?? []) : [];
  let start = 0;
  const token = query.get('$skiptoken');
  if (token) {
    try {
      start = (JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as Cursor).p;
      if (!Number.isInteger(start) || start < 0) throw new Error('bad');
    } catch {
      throw badRequest('The specified page token value has expired or is invalid.', 'Directory_ExpiredPageToken');
    }
  }

  const show = o.render ?? ((i: Entity) => i);
  const items = Array.isArray(source) ? source : undefined;
  const size = items ? items.length : (source as Collection).size;
  const at = (p: number) => (items ? items[p] : (source as Collection).at(p));

  // Equality on an indexed field answers from the index, in one page.
  const first = clauses[0];
  if (!items && first && first.op === 'eq' && !token && !o.loopNextLink) {
    const hits = (source as Collection).findBy(first.field, first.value).filter((i) => matches(i, clauses));
    if (hits.length <= top) return { status: 200, body: { '@odata.context': o.context, value: hits.map((i) => select(show(i), fields)) } };
  }

  const value: Record<string, unknown>[] = [];
  let p = start;
  for (; p < size && value.length < top; p++) {
    const item = at(p);
    if (item && matches(item, clauses)) value.push(select(show(item), fields));
  }
  // Skip trailing holes and non-matches so the last page carries no next link.
  while (p < size) {
    const item = at(p);
    if (item && matches(item, clauses)) break;
    p++;
  }
  const body: Record<string, unknown> = { '@odata.context': o.context, value };
  if (o.loopNextLink) {
    body['@odata.nextLink'] = o.requestUrl.toString();
  } else if (p < size) {
    const next = new URL(o.requestUrl);
    next.searchParams.set('$skiptoken', Buffer.from(JSON.stringify({ p })).toString('base64url'));
    body['@odata.nextLink'] = next.toString();
  }
  return { status: 200, body };
}
