/**
 * The one canonical JSON of the tool: RFC 8785 (JSON Canonicalization Scheme), as the
 * `canonicalize` package writes it. Plans, evidence records, manifests and live values are hashed
 * and compared through it, so equal data always gives equal text, however it was formatted.
 */
import canonicalize from 'canonicalize';

/** A value RFC 8785 cannot write: NaN, ±Infinity, a lone surrogate, a cycle, or no JSON value at all. */
export class NotCanonicalJsonError extends Error {
  override readonly name = 'NotCanonicalJsonError';
}

/**
 * RFC 8785 canonical JSON: object keys sorted by UTF-16 code units, no whitespace, numbers and
 * strings as ECMAScript writes them. As in JSON, `undefined` inside an array is `null` and a
 * property whose value is `undefined` is left out; `toJSON` is honoured.
 * Throws {@link NotCanonicalJsonError} for what the RFC (and `canonicalize`) refuses, NaN,
 * ±Infinity, strings with lone surrogates, cycles, and for values with no JSON form: `undefined`
 * itself, functions, symbols and bigints.
 */
export function canonicalJson(value: unknown): string {
  if (value === undefined) throw new NotCanonicalJsonError('undefined has no JSON form');
  rejectNonJson(value, 0);
  let text: string | undefined;
  try {
    text = canonicalize(value);
  } catch (err) {
    throw new NotCanonicalJsonError(`not canonical JSON: ${(err as Error).message}`, { cause: err });
  }
  if (text === undefined) throw new NotCanonicalJsonError('the value has no JSON form');
  return text;
}

/** Whether two values are the same JSON value. `undefined` (absent) equals only `undefined`. */
export function sameJson(a: unknown, b: unknown): boolean {
  if (a === undefined || b === undefined) return a === b;
  return canonicalJson(a) === canonicalJson(b);
}

/**
 * The canonical JSON that version 1 plans (`formatVersion: 1`) and evidence records (`v: 1`) are
 * hashed with. It is {@link canonicalJson}, except for strings holding a lone surrogate, which
 * RFC 8785 refuses and version 1 wrote as `JSON.stringify` does (`"\ud800"`); such strings can
 * be in files written before the tool made every string it writes well-formed ({@link wellFormed}).
 * For every other value the two are the same text (a test compares them).
 */
export function canonicalJsonV1(value: unknown): string {
  if (!hasLoneSurrogate(value, 0)) return canonicalJson(value);
  return releasedForm(value, 0);
}

/** A copy of a JSON value in which every string (keys too) is well-formed: a lone surrogate becomes U+FFFD. */
export function wellFormed<T>(value: T): T {
  return mapWellFormed(value, 0) as T;
}

const MAX_DEPTH = 400;

/** A lone surrogate: with the `u` flag, a surrogate that is not half of a pair. */
const LONE_SURROGATE = /\p{Cs}/u;
const LONE_SURROGATES = /\p{Cs}/gu;
const isWellFormed = (s: string) => !LONE_SURROGATE.test(s);
const toWellFormed = (s: string) => s.replace(LONE_SURROGATES, '\ufffd');

function rejectNonJson(value: unknown, depth: number): void {
  if (depth > MAX_DEPTH) throw new NotCanonicalJsonError('the value is nested too deeply (a cycle?)');
  switch (typeof value) {
    case 'function':
    case 'symbol':
    case 'bigint':
      throw new NotCanonicalJsonError(`a ${typeof value} has no JSON form`);
    case 'object':
      if (value === null) return;
      for (const v of Array.isArray(value) ? value : Object.values(value)) rejectNonJson(v, depth + 1);
  }
}

function hasLoneSurrogate(value: unknown, depth: number): boolean {
  if (depth > MAX_DEPTH) return false;
  if (typeof value === 'string') return !isWellFormed(value);
  if (value === null || typeof value !== 'object') return false;
  if (Array.isArray(value)) return value.some((v) => hasLoneSurrogate(v, depth + 1));
  return Object.entries(value).some(([k, v]) => !isWellFormed(k) || hasLoneSurrogate(v, depth + 1));
}

/** Version 1's form for a value holding a lone surrogate: RFC 8785's layout, strings as JSON.stringify writes them. */
function releasedForm(value: unknown, depth: number): string {
  if (depth > MAX_DEPTH) throw new NotCanonicalJsonError('the value is nested too deeply (a cycle?)');
  if (typeof value === 'string') return JSON.stringify(value);
  if (value === null || typeof value !== 'object') return canonicalJson(value);
  if (Array.isArray(value)) return `[${value.map((v) => (v === undefined ? 'null' : releasedForm(v, depth + 1))).join(',')}]`;
  const obj = value as Record<string, unknown>;
  return `{${Object.keys(obj)
    .sort()
    .filter((k) => obj[k] !== undefined)
    .map((k) => `${JSON.stringify(k)}:${releasedForm(obj[k], depth + 1)}`)
    .join(',')}}`;
}

function mapWellFormed(value: unknown, depth: number): unknown {
  if (depth > MAX_DEPTH) throw new NotCanonicalJsonError('the value is nested too deeply (a cycle?)');
  if (typeof value === 'string') return toWellFormed(value);
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((v) => mapWellFormed(v, depth + 1));
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [toWellFormed(k), mapWellFormed(v, depth + 1)]));
}
