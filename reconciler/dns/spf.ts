/**
 * SPF record parsing (RFC 7208 §4.5, §5, §6, §7) and evaluation of a domain's SPF posture: the
 * qualifier of the `all` that ends evaluation, and the number of DNS lookups (RFC 7208 §4.6.4).
 * Only TXT records are resolved, through the injected resolver, to follow include and redirect; the
 * a, mx, ptr and exists mechanisms are counted but not resolved.
 */
import { isIPv6 } from 'node:net';
import type { RecordProblem } from './dmarc.js';
import { queryTxt, type DnsFailure, type TxtResolver } from './lookup.js';
import { normalizeDomain } from './domain-name.js';

export type SpfQualifier = '+' | '-' | '~' | '?';
export type SpfMechanismName = 'all' | 'include' | 'a' | 'mx' | 'ptr' | 'ip4' | 'ip6' | 'exists';

/** A term of an SPF record. `value` is the text after the name and its ":" or "=", e.g. `_spf.example.com`. */
export type SpfTerm =
  | { kind: 'mechanism'; qualifier: SpfQualifier; name: SpfMechanismName; value?: string; text: string }
  | { kind: 'modifier'; name: string; value: string; text: string };

export interface SpfRecord {
  raw: string;
  terms: SpfTerm[];
  /** Qualifier of the first `all` mechanism, if any; later terms are never evaluated. */
  all?: SpfQualifier;
  /** Target of `redirect=`, when it applies (RFC 7208 §6.1: a redirect is ignored when the record has `all`). */
  redirect?: string;
  /** Target of `exp=`, if any. */
  exp?: string;
  /**
   * DNS-querying terms this record can evaluate (RFC 7208 §4.6.4): include, a, mx, ptr and exists up to
   * the first `all`, plus an applicable redirect. Terms of included records are not counted here.
   */
  lookupTerms: number;
}

export type SpfParseResult =
  | { ok: true; record: SpfRecord; warnings: RecordProblem[] }
  | { ok: false; errors: RecordProblem[]; warnings: RecordProblem[] };

export type SpfSelection =
  | { kind: 'none'; ignored: string[] }
  | { kind: 'one'; text: string; ignored: string[] }
  | { kind: 'many'; texts: string[]; ignored: string[] };

const LOOKUP_MECHANISMS: ReadonlySet<string> = new Set(['include', 'a', 'mx', 'ptr', 'exists']);
const quote = (s: string): string => JSON.stringify(s);
const warning = (tag: string | undefined, message: string): RecordProblem => ({ ...(tag ? { tag } : {}), severity: 'warning', message });

/** True when a TXT record is an SPF record: `v=spf1` (any case) followed by a space or the end (RFC 7208 §4.5). */
export function isSpfRecord(text: string): boolean {
  return /^v=spf1(?: |$)/i.test(text);
}

/**
 * Picks the SPF record from a domain's TXT RRset. Each TXT record is a list of character-strings,
 * joined without a separator (RFC 7208 §3.3). More than one SPF record is a permerror (RFC 7208 §4.5).
 */
export function selectSpfRecord(rrset: readonly (readonly string[])[]): SpfSelection {
  const texts = rrset.map((strings) => strings.join(''));
  const spf = texts.filter(isSpfRecord);
  const ignored = texts.filter((t) => !isSpfRecord(t));
  if (spf.length === 0) return { kind: 'none', ignored };
  if (spf.length === 1) return { kind: 'one', text: spf[0]!, ignored };
  return { kind: 'many', texts: spf, ignored };
}

/**
 * Checks a domain-spec (RFC 7208 §7.1): a macro-string that ends in a macro or in "." and a top label.
 * `exp` allows the macro letters c, r and t, which only explanation strings may use (RFC 7208 §7.2).
 * Returns what is wrong, or undefined.
 */
export function domainSpecProblem(spec: string, exp = false): string | undefined {
  if (spec === '') return 'the domain is empty';
  let endsInMacro = false;
  for (let i = 0; i < spec.length; i++) {
    const c = spec[i]!;
    endsInMacro = false;
    if (c === '%') {
      const next = spec[i + 1];
      if (next === '%' || next === '_' || next === '-') {
        i++;
        endsInMacro = true;
      } else if (next === '{') {
        const close = spec.indexOf('}', i);
        const body = close < 0 ? '' : spec.slice(i + 2, close);
        if (close < 0 || !/^[slodiphcrtv]\d*r?[-.+,/_=]*$/i.test(body)) {
          return `${quote(spec.slice(i, close < 0 ? undefined : close + 1))} is not a valid macro`;
        }
        if (!exp && /^[crt]/i.test(body)) return `macro "%{${body}}" may only be used in exp= (RFC 7208 §7.2)`;
        i = close;
        endsInMacro = true;
      } else {
        return `"%" must start a macro ("%{...}", "%%", "%_" or "%-")`;
      }
    } else if (c < '!' || c > '~') {
      return `${quote(c)} is not allowed in a domain`;
    }
  }
  if (endsInMacro || spec.includes('%')) return undefined;
  const name = spec.replace(/\.$/, '');
  const labels = name.split('.');
  if (labels.length < 2) return `${quote(spec)} is not a fully qualified domain name`;
  if (labels.some((l) => l === '')) return `${quote(spec)} has an empty label`;
  if (labels.some((l) => l.length > 63) || name.length > 253) return `${quote(spec)} is longer than DNS allows`;
  const top = labels[labels.length - 1]!;
  if (!/^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$/i.test(top) || /^\d+$/.test(top)) return `${quote(spec)} does not end in a valid top-level label`;
  return undefined;
}

function ip4Problem(net: string): string | undefined {
  const m = /^(\d{1,3}(?:\.\d{1,3}){3})(?:\/(\d+))?$/.exec(net);
  const octets = m?.[1]!.split('.') ?? [];
  if (!m || octets.some((o) => Number(o) > 255 || (o.length > 1 && o.startsWith('0')))) return `${quote(net)} is not an IPv4 address or network`;
  if (m[2] !== undefined && (Number(m[2]) > 32 || (m[2].length > 1 && m[2].startsWith('0')))) return `prefix length /${m[2]} is not from 0 to 32`;
  return undefined;
}

function ip6Problem(net: string): string | undefined {
  const m = /^([^/]+)(?:\/(\d+))?$/.exec(net);
  if (!m || !isIPv6(m[1]!)) return `${quote(net)} is not an IPv6 address or network`;
  if (m[2] !== undefined && (Number(m[2]) > 128 || (m[2].length > 1 && m[2].startsWith('0')))) return `prefix length /${m[2]} is not from 0 to 128`;
  return undefined;
}

/** Checks the argument of a, mx and ptr: an optional ":domain-spec", then (not for ptr) an optional dual CIDR length. */
function hostArgumentProblem(name: string, rest: string): string | undefined {
  const m = name === 'ptr' ? /^(?::(.*))?()$/s.exec(rest) : /^(?::(.*?))?((?:\/\d+)?(?:\/\/\d+)?)$/s.exec(rest);
  if (!m) return `${quote(rest)} is not ":domain" or a prefix length`;
  if (m[1] !== undefined) {
    const p = domainSpecProblem(m[1]);
    if (p) return p;
  }
  const cidr = /^(?:\/(\d+))?(?:\/\/(\d+))?$/.exec(m[2]!)!;
  if (cidr[1] !== undefined && Number(cidr[1]) > 32) return `IPv4 prefix length /${cidr[1]} is not from 0 to 32`;
  if (cidr[2] !== undefined && Number(cidr[2]) > 128) return `IPv6 prefix length //${cidr[2]} is not from 0 to 128`;
  return undefined;
}

/** Parses one mechanism; returns the term or what is wrong. */
function parseMechanism(text: string): SpfTerm | string {
  const m = /^([+\-~?]?)([A-Za-z][A-Za-z0-9]*)([:/][\s\S]*)?$/.exec(text);
  if (!m) return `${quote(text)} is not a mechanism or modifier`;
  const qualifier = (m[1] || '+') as SpfQualifier;
  const name = m[2]!.toLowerCase();
  const rest = m[3] ?? '';
  const arg = rest.startsWith(':') ? rest.slice(1) : undefined;
  let problem: string | undefined;
  switch (name) {
    case 'all':
      if (rest) problem = '"all" takes no argument';
      break;
    case 'include':
    case 'exists':
      problem = arg === undefined ? `"${name}" needs a domain ("${name}:example.com")` : domainSpecProblem(arg);
      break;
    case 'a':
    case 'mx':
    case 'ptr':
      problem = hostArgumentProblem(name, rest);
      break;
    case 'ip4':
      problem = arg === undefined ? '"ip4" needs an address ("ip4:192.0.2.0/24")' : ip4Problem(arg);
      break;
    case 'ip6':
      problem = arg === undefined ? '"ip6" needs an address ("ip6:2001:db8::/32")' : ip6Problem(arg);
      break;
    default:
      return `unknown mechanism ${quote(name)}; receivers return permerror for it (RFC 7208 §5)`;
  }
  if (problem) return `term ${quote(text)}: ${problem}`;
  const value = arg ?? (rest || undefined);
  return { kind: 'mechanism', qualifier, name: name as SpfMechanismName, ...(value !== undefined ? { value } : {}), text };
}

/**
 * Parses an SPF record (its character-strings already joined) and checks it against RFC 7208.
 * `ok` is false for what makes receivers return permerror: a syntax error, an unknown mechanism, or
 * redirect= or exp= given twice. Warnings cover ptr (RFC 7208 §5.5), terms after `all`, a redirect
 * that `all` overrides, and unknown modifiers (which receivers ignore).
 */
export function parseSpfRecord(txt: string): SpfParseResult {
  const errors: RecordProblem[] = [];
  const warnings: RecordProblem[] = [];
  if (!isSpfRecord(txt)) {
    const message = `the record does not start with "v=spf1" followed by a space: ${quote(txt.slice(0, 20))}`;
    return { ok: false, errors: [{ severity: 'error', message }], warnings };
  }
  const terms: SpfTerm[] = [];
  for (const text of txt.slice(6).split(' ').filter((t) => t !== '')) {
    const error = (message: string): void => void errors.push({ tag: text, severity: 'error', message });
    if (/[^!-~]/.test(text)) {
      error(`term ${quote(text)} contains a character other than printable ASCII; terms are separated by spaces`);
      continue;
    }
    const mod = /^([A-Za-z][A-Za-z0-9\-_.]*)=([\s\S]*)$/.exec(text);
    if (mod) {
      const name = mod[1]!.toLowerCase();
      const value = mod[2]!;
      if (name === 'redirect' || name === 'exp') {
        if (terms.some((t) => t.kind === 'modifier' && t.name === name)) {
          error(`"${name}=" appears more than once; receivers return permerror (RFC 7208 §6)`);
        }
        const p = domainSpecProblem(value, name === 'exp');
        if (p) error(`term ${quote(text)}: ${p}`);
      } else if (LOOKUP_MECHANISMS.has(name) || ['all', 'ip4', 'ip6'].includes(name)) {
        warnings.push(warning(text, `${quote(text)} is read as an unknown modifier and ignored; the mechanism is written "${name}:${value}"`));
      } else {
        warnings.push(warning(text, `unknown modifier ${quote(name)} is ignored (RFC 7208 §6)`));
      }
      terms.push({ kind: 'modifier', name, value, text });
      continue;
    }
    const term = parseMechanism(text);
    if (typeof term === 'string') error(term);
    else terms.push(term);
  }
  if (errors.length) return { ok: false, errors, warnings };
  return { ok: true, record: buildRecord(txt, terms, warnings), warnings };
}

function buildRecord(raw: string, terms: SpfTerm[], warnings: RecordProblem[]): SpfRecord {
  const mechanisms = terms.filter((t): t is Extract<SpfTerm, { kind: 'mechanism' }> => t.kind === 'mechanism');
  const allIndex = mechanisms.findIndex((t) => t.name === 'all');
  const evaluated = allIndex < 0 ? mechanisms : mechanisms.slice(0, allIndex + 1);
  const modifier = (name: string): string | undefined => terms.find((t) => t.kind === 'modifier' && t.name === name)?.value;
  const record: SpfRecord = { raw, terms, lookupTerms: evaluated.filter((t) => LOOKUP_MECHANISMS.has(t.name)).length };
  for (const t of evaluated) {
    if (t.name === 'ptr') warnings.push(warning(t.text, `${quote(t.text)}: the ptr mechanism should not be used (RFC 7208 §5.5); it is slow and unreliable`));
  }
  const redirect = modifier('redirect');
  const exp = modifier('exp');
  if (exp !== undefined) record.exp = exp;
  if (allIndex >= 0) {
    record.all = mechanisms[allIndex]!.qualifier;
    const after = mechanisms.slice(allIndex + 1).map((t) => t.text);
    if (after.length) warnings.push(warning(undefined, `terms after "${mechanisms[allIndex]!.text}" are never evaluated: ${after.join(' ')}`));
    if (redirect !== undefined) {
      warnings.push(warning(`redirect=${redirect}`, `"redirect=${redirect}" is ignored because the record has an "all" mechanism (RFC 7208 §6.1)`));
    }
  } else if (redirect !== undefined) {
    record.redirect = redirect;
    record.lookupTerms++;
  }
  return record;
}

export type SpfStatus = 'hardfail' | 'softfail' | 'neutral' | 'permissive' | 'missing' | 'invalid' | 'error';

export interface SpfEvaluation {
  domain: string;
  /**
   * From the `all` that ends evaluation, following redirects: `-all` hardfail, `~all` softfail, `?all` or
   * no `all` and no redirect neutral (RFC 7208 §4.7), `+all` permissive. `missing`: no SPF record.
   * `invalid`: receivers return permerror (syntax, several records, an include or redirect without an
   * SPF record, a loop, more than `maxLookups` DNS lookups). `error`: a DNS query failed.
   */
  status: SpfStatus;
  /** The SPF record of the domain itself. */
  record?: string;
  /** The qualifier of the deciding `all`, when there is one. */
  all?: SpfQualifier;
  errors: RecordProblem[];
  warnings: RecordProblem[];
  /** DNS-querying terms evaluated, with included and redirected records (RFC 7208 §4.6.4). */
  lookups: number;
  /** The TXT names queried, in order. */
  queried: string[];
  dnsError?: DnsFailure;
}

export interface SpfOptions {
  /** The DNS lookup limit of RFC 7208 §4.6.4. @default 10 */
  maxLookups?: number;
  /** Stop following include and redirect after this many TXT queries. @default 50 */
  maxQueries?: number;
}

type Outcome = { kind: 'record'; all?: SpfQualifier } | { kind: 'none' } | { kind: 'stop' };

interface Walk {
  resolver: TxtResolver;
  maxLookups: number;
  maxQueries: number;
  lookups: number;
  /** Set at the lookup that exceeds the limit; from then on the walk only counts. */
  exceeded?: string;
  /** True when counting stopped early, so `lookups` is a lower bound. */
  countIncomplete: boolean;
  queried: string[];
  errors: RecordProblem[];
  warnings: RecordProblem[];
  dnsError?: DnsFailure;
}

/**
 * Evaluates the SPF posture of `domain`: resolves its SPF record and follows include and redirect
 * through `resolver`, counting DNS lookups, detecting loops, and taking the final `all` qualifier.
 * Beyond the lookup limit the walk goes on only to report the total. A DNS failure yields `error`,
 * never `missing`.
 *
 * @throws RangeError when `domain` is not a domain name.
 */
export async function evaluateSpf(domain: string, resolver: TxtResolver, options: SpfOptions = {}): Promise<SpfEvaluation> {
  const name = normalizeDomain(domain);
  const walk: Walk = {
    resolver,
    maxLookups: options.maxLookups ?? 10,
    maxQueries: options.maxQueries ?? 50,
    lookups: 0,
    countIncomplete: false,
    queried: [],
    errors: [],
    warnings: [],
  };
  let record: string | undefined;
  const outcome = await visit(walk, name, [name], (text) => (record = text));
  if (walk.exceeded) {
    const total = walk.countIncomplete ? `at least ${walk.lookups}` : `${walk.lookups}`;
    walk.errors.push({
      severity: 'error',
      message:
        `SPF for ${name} needs ${total} DNS lookups; RFC 7208 §4.6.4 allows ${walk.maxLookups}, ` +
        `and receivers return permerror at ${walk.exceeded}`,
    });
  }
  const { errors, warnings, lookups, queried } = walk;
  const result: SpfEvaluation = { domain: name, status: 'neutral', errors, warnings, lookups, queried };
  if (record !== undefined) result.record = record;
  if (walk.dnsError) return { ...result, status: 'error', dnsError: walk.dnsError };
  if (walk.errors.length) return { ...result, status: 'invalid' };
  if (outcome.kind !== 'record') return { ...result, status: 'missing' };
  if (outcome.all === undefined) return result;
  const status: Record<SpfQualifier, SpfStatus> = { '-': 'hardfail', '~': 'softfail', '?': 'neutral', '+': 'permissive' };
  return { ...result, all: outcome.all, status: status[outcome.all] };
}

/**
 * Resolves and walks the SPF record at `name`. `chain` holds the names from the evaluated domain to
 * this one, for loop detection. Returns the record's `all` (after its redirect), `none`, or `stop`
 * after a problem, which is recorded in `walk` unless the lookup limit was already exceeded.
 */
async function visit(walk: Walk, name: string, chain: string[], onTopRecord?: (text: string) => void): Promise<Outcome> {
  const at = chain.length > 1 ? `${name} (via ${chain.slice(0, -1).join(' → ')}): ` : '';
  const stop = (problem: RecordProblem | DnsFailure): Outcome => {
    if (walk.exceeded) walk.countIncomplete = true;
    else if ('code' in problem) walk.dnsError = problem;
    else walk.errors.push(problem);
    return { kind: 'stop' };
  };
  if (walk.queried.length >= walk.maxQueries) {
    walk.countIncomplete = true;
    return stop({ severity: 'error', message: `${at}stopped after ${walk.maxQueries} TXT queries` });
  }
  walk.queried.push(name);
  const answer = await queryTxt(walk.resolver, name);
  if (answer.kind === 'failure') return stop(answer.failure);
  const selection = selectSpfRecord(answer.rrset);
  if (selection.kind === 'none') return { kind: 'none' };
  if (selection.kind === 'many') {
    const count = selection.texts.length;
    return stop({ severity: 'error', message: `${at}${name} has ${count} SPF records; receivers return permerror (RFC 7208 §4.5)` });
  }
  onTopRecord?.(selection.text);
  const parsed = parseSpfRecord(selection.text);
  if (!walk.exceeded) walk.warnings.push(...parsed.warnings.map((w) => ({ ...w, message: at + w.message })));
  if (!parsed.ok) return stop({ severity: 'error', message: `${at}${parsed.errors.map((e) => e.message).join('; ')}` });
  const { record } = parsed;
  const mechanisms = record.terms.filter((t): t is Extract<SpfTerm, { kind: 'mechanism' }> => t.kind === 'mechanism');
  for (const term of mechanisms) {
    if (LOOKUP_MECHANISMS.has(term.name)) count(walk, term.text, name);
    if (term.name === 'include') {
      const r = await follow(walk, term.value!, chain, `${at}"${term.text}"`, 'RFC 7208 §5.2');
      if (r.kind !== 'record') return r;
    }
    if (term.name === 'all') return { kind: 'record', all: term.qualifier };
  }
  if (record.redirect === undefined) return { kind: 'record' };
  count(walk, `redirect=${record.redirect}`, name);
  return follow(walk, record.redirect, chain, `${at}"redirect=${record.redirect}"`, 'RFC 7208 §6.1');
}

/** Counts one DNS-querying term; the first one over the limit is remembered for the message. */
function count(walk: Walk, term: string, recordOf: string): void {
  walk.lookups++;
  if (!walk.exceeded && walk.lookups > walk.maxLookups) walk.exceeded = `lookup ${walk.lookups} ("${term}" in the SPF record of ${recordOf})`;
}

/** Follows an include or redirect target; a target without SPF record, or a loop, is a permerror. */
async function follow(walk: Walk, target: string, chain: string[], via: string, rfc: string): Promise<Outcome> {
  if (target.includes('%')) {
    walk.warnings.push(warning(undefined, `${via} uses macros, which depend on the message; it is counted but not followed`));
    return { kind: 'record' };
  }
  const next = normalizeDomain(target);
  const error = (message: string): Outcome => {
    if (walk.exceeded) walk.countIncomplete = true;
    else walk.errors.push({ severity: 'error', message });
    return { kind: 'stop' };
  };
  if (chain.includes(next)) return error(`${via} loops: ${[...chain, next].join(' → ')}; receivers return permerror`);
  const r = await visit(walk, next, [...chain, next]);
  if (r.kind === 'none') return error(`${via}: ${next} has no SPF record, so receivers return permerror (${rfc})`);
  return r;
}
