/**
 * DMARC record parsing and checking, RFC 9989 (DMARCbis, which obsoletes RFC 7489).
 *
 * The verdict of {@link parseDmarcRecord} follows RFC 9989 "Formal Definition": the record must start
 * with `v=DMARC1`, every tag RFC 9989 defines (p, sp, np, adkim, aspf, fo, psd, t, rua, ruf) must hold a
 * value its grammar allows, no tag may repeat, and the tag list follows the DKIM tag-list syntax (RFC 6376
 * §3.2). Tags may come in any order after `v`. Unknown tags are ignored with a warning. When `p` is
 * missing or invalid, or `sp` or `np` is invalid, and `rua` holds a valid URI, the record is read as
 * p=none (RFC 9989 "DMARC Policy Discovery"). The tags RFC 9989 removed (pct, rf, ri) are historic:
 * they never make a record invalid; a valid `pct` is still read, because receivers that implement
 * RFC 7489 apply it. docs/dmarc-parsing.md explains each choice.
 */

export type DmarcPolicy = 'none' | 'quarantine' | 'reject';
export type DmarcAlignmentMode = 'r' | 's';
/** A failure-reporting option of the `fo` tag. */
export type DmarcFailureOption = '0' | '1' | 'd' | 's';

/** One problem found in a DNS record. Messages name the tag or term, the value and what is wrong. */
export interface RecordProblem {
  /** The DMARC tag (lower-case) or SPF term concerned; absent for problems of the record as a whole. */
  tag?: string;
  message: string;
  severity: 'error' | 'warning';
}

/** A DMARC report URI (RFC 9989 "DMARC Reporting URIs"). */
export interface DmarcUri {
  /** The URI as published, without its size limit, e.g. `mailto:dmarc@example.com`. */
  uri: string;
  /** The scheme, lower-case: `mailto`, `http` or `https`. */
  scheme: string;
  /** For mailto: the percent-decoded address, e.g. `dmarc@example.com`. */
  address?: string;
  /** The size limit: digits and an optional unit (lower-case), e.g. `10m`. Obsolete syntax in RFC 9989, which receivers ignore. */
  maxSize?: string;
  /** The size limit in bytes; the units are powers of two (k = 2^10, m = 2^20, g = 2^30, t = 2^40). */
  maxBytes?: number;
}

/** A DMARC record that receivers can use. Values are normalised (lower-case); defaults fill what is absent. */
export interface DmarcRecord {
  v: 'DMARC1';
  /**
   * The policy receivers apply to the domain. `none` when {@link DmarcRecord.policyFallback} is set,
   * whatever `p` says.
   */
  p: DmarcPolicy;
  /** Subdomain policy; absent when not published (receivers then use `p`) or when the policy fell back. */
  sp?: DmarcPolicy;
  /** Non-existent-subdomain policy, when published (receivers then use sp, then p). Absent when the policy fell back. */
  np?: DmarcPolicy;
  /** Public-suffix-domain flag, when published (absent means `u`); it steers the DNS tree walk. */
  psd?: 'y' | 'n' | 'u';
  /** Testing mode, when published (absent means `n`): with `y` receivers apply the policy one level below p, sp or np. */
  t?: 'y' | 'n';
  /**
   * The historic pct (RFC 7489): the percentage of failing mail the policy applies to. RFC 9989 removed
   * it (its `t=y` stands for what pct=0 was used for); receivers that still implement RFC 7489 apply
   * it. 100 when absent or not a valid value. @default 100
   */
  pct: number;
  rua: DmarcUri[];
  ruf: DmarcUri[];
  /** @default 'r' */
  adkim: DmarcAlignmentMode;
  /** @default 'r' */
  aspf: DmarcAlignmentMode;
  /** @default ['0'] */
  fo: DmarcFailureOption[];
  /** The record text as published. */
  raw: string;
  /**
   * Every tag RFC 9989 defines, and every historic tag (pct, rf, ri), that was literally present:
   * lower-case name to value as published (trimmed), valid or not.
   */
  tags: Readonly<Record<string, string>>;
  /** Tags neither RFC 9989 nor RFC 7489 defines, which receivers ignore: lower-case name to value. */
  unknownTags: Readonly<Record<string, string>>;
  /**
   * True when `p` is missing or invalid, or `sp` or `np` is invalid, and `rua` holds a valid URI:
   * receivers then act as if the record were `v=DMARC1; p=none` (RFC 9989 "DMARC Policy Discovery").
   */
  policyFallback: boolean;
}

export type DmarcParseResult =
  | { ok: true; record: DmarcRecord; warnings: RecordProblem[] }
  | { ok: false; errors: RecordProblem[]; warnings: RecordProblem[] };

/** The DMARC records of a TXT RRset, see {@link selectDmarcRecord}. `ignored` holds the other TXT records. */
export type DmarcSelection =
  | { kind: 'none'; ignored: string[] }
  | { kind: 'one'; text: string; ignored: string[] }
  | { kind: 'many'; texts: string[]; ignored: string[] };

export type DmarcUriResult = { ok: true; uri: DmarcUri; warnings: string[] } | { ok: false; message: string };

/** Tags RFC 9989 defines. */
export const RFC9989_TAGS = ['v', 'p', 'sp', 'np', 'adkim', 'aspf', 'fo', 'psd', 't', 'rua', 'ruf'] as const;
/** Tags RFC 7489 defined and RFC 9989 removed. They never make a record invalid; a valid pct is still read. */
export const HISTORIC_TAGS = ['pct', 'rf', 'ri'] as const;

const KNOWN_TAGS: ReadonlySet<string> = new Set<string>(RFC9989_TAGS);
const HISTORIC: ReadonlySet<string> = new Set<string>(HISTORIC_TAGS);
const POLICIES: readonly DmarcPolicy[] = ['none', 'quarantine', 'reject'];
const SIZE_UNITS = ['', 'k', 'm', 'g', 't'];
const MAX_RI = 4294967295;
const URI_SCHEMES = ['mailto', 'http', 'https'];

/** Splits on `sep` with optional spaces or tabs (RFC 5234 WSP) around it. */
const splitList = (value: string, sep: string): string[] => value.split(new RegExp(`[ \\t]*${sep}[ \\t]*`));
const trimWsp = (s: string): string => s.replace(/^[ \t]+|[ \t]+$/g, '');
const quote = (s: string): string => JSON.stringify(s);
const error = (tag: string | undefined, message: string): RecordProblem => ({ ...(tag ? { tag } : {}), severity: 'error', message });
const warning = (tag: string | undefined, message: string): RecordProblem => ({ ...(tag ? { tag } : {}), severity: 'warning', message });

/**
 * True when a TXT record starts with the DMARC version tag: `v` (either case), `=` with optional
 * spaces or tabs around it, exactly `DMARC1`, then `;` or the end. RFC 9989 "DNS Tree Walk" discards every
 * other record found at `_dmarc.<domain>`.
 */
export function startsWithDmarcVersion(text: string): boolean {
  return /^[vV][ \t]*=[ \t]*DMARC1[ \t]*(?:;|$)/.test(text);
}

/**
 * Picks the DMARC record from the TXT RRset at `_dmarc.<domain>`. Each TXT record is a list of
 * character-strings, joined without a separator (RFC 9989 "DMARC Policy Record Explained"). Records that do not
 * start with `v=DMARC1` are ignored; more than one DMARC record means no policy applies.
 */
export function selectDmarcRecord(rrset: readonly (readonly string[])[]): DmarcSelection {
  const texts = rrset.map((strings) => strings.join(''));
  const dmarc = texts.filter(startsWithDmarcVersion);
  const ignored = texts.filter((t) => !startsWithDmarcVersion(t));
  if (dmarc.length === 0) return { kind: 'none', ignored };
  if (dmarc.length === 1) return { kind: 'one', text: dmarc[0]!, ignored };
  return { kind: 'many', texts: dmarc, ignored };
}

/**
 * Parses one DMARC report URI with its optional size limit, e.g. `mailto:dmarc@example.com!10m`
 * (RFC 9989 "Formal Definition"). Accepted schemes are mailto (which receivers must support) and
 * http/https (with a warning: few receivers send to them). The size limit is obsolete syntax that
 * receivers ignore: it is read, with a warning. Spaces around `!` or before the unit are accepted
 * with a warning.
 */
export function parseDmarcUri(text: string): DmarcUriResult {
  const item = trimWsp(text);
  if (item === '') return { ok: false, message: 'the URI is empty' };
  const warnings: string[] = [];
  const bang = item.indexOf('!');
  const uriText = bang < 0 ? item : item.slice(0, bang);
  const uri = trimWsp(uriText);
  const checked = checkUri(uri);
  if (typeof checked === 'string') return { ok: false, message: checked };
  if (checked.scheme !== 'mailto') {
    warnings.push(`${quote(uri)} is not a mailto: URI; receivers are only required to send reports by email (RFC 9989 "DMARC Policy Record Format")`);
  }
  const result: DmarcUri = { uri, ...checked };
  if (bang >= 0) {
    const sizeText = item.slice(bang + 1);
    const m = /^[ \t]*(\d+)[ \t]*([kmgtKMGT]?)[ \t]*$/.exec(sizeText);
    if (!m) return { ok: false, message: `size limit "!${sizeText}" of ${quote(uri)} is not a number with an optional unit k, m, g or t` };
    const digits = m[1]!;
    const unit = m[2]!.toLowerCase();
    const bytes = Number(digits) * 1024 ** SIZE_UNITS.indexOf(unit);
    if (!Number.isSafeInteger(bytes)) return { ok: false, message: `size limit "!${sizeText}" of ${quote(uri)} is too large` };
    if (uriText !== uri || sizeText !== `${digits}${m[2]}`) {
      warnings.push(`whitespace in the size limit of ${quote(item)} is not allowed by RFC 7489 §6.4; write "${uri}!${digits}${unit}"`);
    }
    warnings.push(`the size limit "!${digits}${unit}" of ${quote(uri)} is obsolete in RFC 9989, and receivers ignore it; publish the URI without it`);
    result.maxSize = `${digits}${unit}`;
    result.maxBytes = bytes;
  }
  return { ok: true, uri: result, warnings };
}

/** Checks a URI (RFC 3986 syntax, allowed scheme, a usable address); returns its parts or a message. */
function checkUri(uri: string): { scheme: string; address?: string } | string {
  const m = /^([^:]*):([\s\S]*)$/.exec(uri);
  if (!m) {
    return uri.includes('@')
      ? `${quote(uri)} is not a URI: it has no scheme (write "mailto:${uri}")`
      : `${quote(uri)} is not a URI (a report URI looks like mailto:dmarc-reports@example.com)`;
  }
  const [, schemeText, rest] = m as unknown as [string, string, string];
  if (!/^[A-Za-z][A-Za-z0-9+.-]*$/.test(schemeText)) return `${quote(uri)} is not a URI: ${quote(schemeText)} is not a valid scheme name`;
  const bad = /[^A-Za-z0-9\-._~:/?#[\]@$&'()*+=%]/.exec(rest);
  if (bad) {
    const hex = bad[0].charCodeAt(0).toString(16).toUpperCase().padStart(2, '0');
    return `${quote(uri)} contains ${quote(bad[0])}, which a URI cannot contain unencoded; write it as %${hex}`;
  }
  if (/%(?![0-9A-Fa-f]{2})/.test(rest)) return `${quote(uri)} has a "%" that is not followed by two hexadecimal digits`;
  const scheme = schemeText.toLowerCase();
  if (!URI_SCHEMES.includes(scheme)) {
    return (
      `${quote(uri)} uses the ${quote(scheme)} scheme; ` +
      'DMARC reports go to mailto: URIs (RFC 9989 "DMARC Policy Record Format"), or to http: or https: where a receiver supports it'
    );
  }
  if (scheme === 'mailto') {
    let address: string;
    try {
      address = decodeURIComponent(rest.split('?')[0]!);
    } catch {
      return `${quote(uri)} has a percent-encoded address that is not valid UTF-8`;
    }
    if (!/^[^@]+@[^@\s]+\.[^@\s]+$/.test(address)) return `${quote(uri)} has no valid email address after "mailto:"`;
    return { scheme, address };
  }
  if (!/^\/\/[^/?#]+/.test(rest)) return `${quote(uri)} has no host after "${scheme}://"`;
  return { scheme };
}

type TagCheck = { ok: true; value: unknown; warnings: string[] } | { ok: false; message: string };

const valid = (value: unknown, warnings: string[] = []): TagCheck => ({ ok: true, value, warnings });

/** `tag "pct": "150" is not an integer from 0 to 100`, or for an empty value, `tag "pct" has an empty value; ...`. */
function invalid(tag: string, value: string, expected: string): TagCheck {
  return {
    ok: false,
    message: value === '' ? `tag "${tag}" has an empty value; expected ${expected}` : `tag "${tag}": ${quote(value)} is not ${expected}`,
  };
}

function policyValue(tag: string, value: string): TagCheck {
  const v = value.toLowerCase();
  return (POLICIES as readonly string[]).includes(v) ? valid(v) : invalid(tag, value, 'a DMARC policy (none, quarantine or reject)');
}

function letterValue(tag: string, value: string, letters: string, expected: string): TagCheck {
  const v = value.toLowerCase();
  return v.length === 1 && letters.includes(v) ? valid(v) : invalid(tag, value, expected);
}

function integerValue(tag: string, value: string, max: number, pattern: RegExp, expected: string): TagCheck {
  return pattern.test(value) && Number(value) <= max ? valid(Number(value)) : invalid(tag, value, expected);
}

function uriListValue(tag: string, value: string): TagCheck {
  if (value === '') return invalid(tag, value, 'a comma-separated list of report URIs');
  const uris: DmarcUri[] = [];
  const warnings: string[] = [];
  for (const item of value.split(',')) {
    const r = parseDmarcUri(item);
    if (!r.ok) return { ok: false, message: `tag "${tag}": ${r.message}` };
    uris.push(r.uri);
    warnings.push(...r.warnings);
  }
  if (uris.length > 2) {
    warnings.push(`lists ${uris.length} URIs; receivers that implement RFC 7489 need only send reports to two of them (RFC 7489 §6.2)`);
  }
  return valid(uris, warnings);
}

function foValue(value: string): TagCheck {
  const expected = 'a list of failure-reporting options (0, 1, d or s, separated by ":")';
  if (value === '') return invalid('fo', value, expected);
  const items = splitList(value, ':');
  const options: DmarcFailureOption[] = [];
  const warnings: string[] = [];
  for (const item of items) {
    const o = item.toLowerCase();
    if (!/^[01ds]$/.test(o)) {
      if (items.length === 1) return invalid('fo', value, expected);
      return { ok: false, message: `tag "fo": ${quote(value)} contains ${quote(item)}, which is not a failure-reporting option (0, 1, d or s)` };
    }
    if (options.includes(o as DmarcFailureOption)) warnings.push(`${quote(o)} is listed more than once`);
    else options.push(o as DmarcFailureOption);
  }
  if (options.includes('0') && options.includes('1')) {
    warnings.push('"0" is redundant next to "1": "1" asks for a report when any mechanism fails, which includes when all fail');
  }
  return valid(options, warnings);
}

function rfValue(value: string): TagCheck {
  if (value === '') return invalid('rf', value, 'a list of failure-report formats (afrf)');
  const formats: string[] = [];
  const warnings: string[] = [];
  for (const item of splitList(value, ':')) {
    if (!/^[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?$/.test(item)) {
      return { ok: false, message: `tag "rf": ${quote(item)} is not a report-format name (letters, digits and inner hyphens)` };
    }
    const f = item.toLowerCase();
    if (f === 'iodef') {
      warnings.push('"iodef" is not in the RFC 7489 registry of failure-report formats, which holds only afrf; receivers ignore it');
    } else if (f !== 'afrf') {
      const message = `tag "rf": ${quote(item)} is not a registered failure-report format (afrf); RFC 7489 §6.3 allows only registered formats`;
      return { ok: false, message };
    }
    formats.push(f);
  }
  return valid(formats, warnings);
}

function versionValue(value: string): TagCheck {
  if (value === 'DMARC1') return valid(value);
  let hint = '';
  if (value.includes('\\')) hint = ' (the text contains a backslash: zone-file escaping such as "\\;" was published as part of the record)';
  else if (/^DMARC1[ \t]/i.test(value)) hint = ' (is a ";" missing after "DMARC1"?)';
  else if (value.toUpperCase() === 'DMARC1') hint = ' (the version is case-sensitive and must be upper-case)';
  return {
    ok: false,
    message: `tag "v": ${quote(value)} is not "DMARC1"${hint}; receivers ignore a record whose version is not exactly DMARC1 (RFC 9989 "DMARC Policy Record Format")`,
  };
}

const TAG_CHECKS: Record<string, (value: string) => TagCheck> = {
  v: versionValue,
  p: (v) => policyValue('p', v),
  sp: (v) => policyValue('sp', v),
  np: (v) => policyValue('np', v),
  adkim: (v) => letterValue('adkim', v, 'rs', 'an alignment mode (r for relaxed or s for strict)'),
  aspf: (v) => letterValue('aspf', v, 'rs', 'an alignment mode (r for relaxed or s for strict)'),
  psd: (v) => letterValue('psd', v, 'ynu', 'a public-suffix flag (y, n or u)'),
  t: (v) => letterValue('t', v, 'yn', 'a testing flag (y or n)'),
  pct: (v) => integerValue('pct', v, 100, /^\d{1,3}$/, 'an integer from 0 to 100'),
  ri: (v) => integerValue('ri', v, MAX_RI, /^\d+$/, `a whole number of seconds from 0 to ${MAX_RI}`),
  fo: foValue,
  rf: rfValue,
  rua: (v) => uriListValue('rua', v),
  ruf: (v) => uriListValue('ruf', v),
};

/**
 * Checks the value of one DMARC tag on its own (`v`, `p`, `sp`, `np`, `adkim`, `aspf`, `psd`, `t`,
 * `fo`, `rua`, `ruf` by the RFC 9989 grammar; the historic `pct`, `ri` and `rf` by the RFC 7489 one;
 * the tag name is case-insensitive, the value is trimmed). Returns its problems: none when the value
 * is valid and unremarkable. An unknown tag yields one warning, since receivers ignore it. In a
 * record, {@link parseDmarcRecord} reads a historic tag's error as a warning.
 */
export function checkDmarcTagValue(tag: string, value: string): RecordProblem[] {
  const name = tag.toLowerCase();
  const check = TAG_CHECKS[name];
  if (!check) return [warning(name, `unknown tag "${name}" is ignored (RFC 9989 "DMARC Policy Record Format")`)];
  const r = check(trimWsp(value));
  if (!r.ok) return [error(name, r.message)];
  return r.warnings.map((w) => warning(name, `tag "${name}": ${w}`));
}

interface TagEntry {
  name: string;
  value: string;
  /** Position of the tag's segment in the record (0 = first). */
  segment: number;
}

/** Splits a record into tag=value pairs (RFC 6376 §3.2 tag-list), with an error for each malformed segment. */
function splitTags(txt: string): { tags: TagEntry[]; errors: RecordProblem[] } {
  const errors: RecordProblem[] = [];
  const tags: TagEntry[] = [];
  const segments = txt.split(';');
  if (segments.length > 1 && trimWsp(segments[segments.length - 1]!) === '') segments.pop();
  segments.forEach((segment, i) => {
    const spec = trimWsp(segment);
    const after = tags.length ? ` after tag "${tags[tags.length - 1]!.name}"` : '';
    const eq = spec.indexOf('=');
    const name = trimWsp(spec.slice(0, Math.max(eq, 0)));
    if (spec === '') {
      errors.push(error(undefined, `empty tag${after} (";;"): tags are separated by a single ";" (RFC 9989 "Formal Definition")`));
    } else if (eq < 0) {
      errors.push(error(undefined, `${quote(spec)}${after} is not a tag=value pair (RFC 9989 "Formal Definition")`));
    } else if (!/^[A-Za-z][A-Za-z0-9_]*$/.test(name)) {
      errors.push(error(undefined, `${quote(name)} in ${quote(spec)} is not a valid tag name (a letter, then letters, digits or "_")`));
    } else {
      tags.push({ name: name.toLowerCase(), value: trimWsp(spec.slice(eq + 1)), segment: i });
    }
  });
  return { tags, errors };
}

/** Why a record is not a DMARC record at all, or undefined when it starts with a valid version tag. */
function versionProblem(txt: string, first: TagEntry | undefined): RecordProblem | undefined {
  if (/^[vV][ \t]*=[ \t]*spf1(?:[ \t]|$)/.test(txt)) {
    return error(undefined, 'this is an SPF record ("v=spf1 ..."), not a DMARC record; SPF belongs at the domain itself, DMARC at _dmarc.<domain>');
  }
  if (first?.name !== 'v') {
    const start = txt.length > 20 ? `${txt.slice(0, 20)}...` : txt;
    return error(undefined, `the record must start with "v=DMARC1"; it starts with ${quote(start)}`);
  }
  const r = versionValue(first.value);
  return r.ok ? undefined : error('v', r.message);
}

/**
 * Parses a DMARC record (the text of one TXT record, its character-strings already joined) and checks
 * it against RFC 9989. `ok` is true when receivers can use the record: then `record` holds the
 * normalised values with defaults, and `warnings` what deserves attention (no rua, testing mode, a
 * historic tag, unknown tags, ...). Otherwise `errors` say which tag holds what and what is wrong with it.
 */
export function parseDmarcRecord(txt: string): DmarcParseResult {
  const warnings: RecordProblem[] = [];
  const fail = (errors: RecordProblem[]): DmarcParseResult => ({ ok: false, errors, warnings });
  if (trimWsp(txt) === '') return fail([error(undefined, 'the record is empty; a DMARC record starts with "v=DMARC1"')]);
  if (/^\s/.test(txt)) {
    return fail([error(undefined, 'the record starts with whitespace; receivers ignore records that do not start with "v=DMARC1" (RFC 9989 "DNS Tree Walk")')]);
  }
  const split = splitTags(txt);
  const notDmarc = versionProblem(txt, split.tags[0]?.segment === 0 ? split.tags[0] : undefined);
  if (notDmarc) return fail([notDmarc]);
  if (split.errors.length) return fail(split.errors);

  const errors: RecordProblem[] = [];
  const tags: Record<string, string> = {};
  const unknownTags: Record<string, string> = {};
  const values: Record<string, unknown> = {};
  const invalidPolicy: Record<string, string> = {};
  const seen = new Set<string>();
  const repeated = new Set<string>();
  split.tags.forEach(({ name, value }, index) => {
    if (seen.has(name)) {
      if (!repeated.has(name)) errors.push(error(name, `tag "${name}" appears more than once; each tag may be given only once (RFC 6376 §3.2)`));
      repeated.add(name);
      return;
    }
    seen.add(name);
    if (HISTORIC.has(name)) {
      tags[name] = value;
      historicTag(name, value, values, warnings);
      return;
    }
    if (!KNOWN_TAGS.has(name)) {
      unknownTags[name] = value;
      warnings.push(warning(name, `unknown tag "${name}" is ignored (RFC 9989 "DMARC Policy Record Format")`));
      return;
    }
    tags[name] = value;
    if (name === 'v') return; // the first tag, checked by versionProblem; a second "v" is a duplicate
    if (name === 'p' && index !== 1) {
      const previous = split.tags[index - 1]!.name;
      const message = `tag "p" does not come directly after "v=DMARC1" (here it follows "${previous}"): RFC 9989 allows it, but receivers that implement RFC 7489 (§6.4) reject the record; put p second`;
      warnings.push(warning('p', message));
    }
    const r = TAG_CHECKS[name]!(value);
    if (!r.ok) {
      if (name === 'p' || name === 'sp' || name === 'np') invalidPolicy[name] = r.message;
      else errors.push(error(name, r.message));
      return;
    }
    values[name] = r.value;
    for (const w of r.warnings) warnings.push(warning(name, `tag "${name}": ${w}`));
  });

  const policyFallback = fallBackToNone(tags, values, invalidPolicy, errors, warnings);
  if (errors.length) return fail(errors);

  const record: DmarcRecord = {
    v: 'DMARC1',
    p: policyFallback ? 'none' : (values['p'] as DmarcPolicy),
    pct: (values['pct'] as number | undefined) ?? 100,
    rua: (values['rua'] as DmarcUri[] | undefined) ?? [],
    ruf: (values['ruf'] as DmarcUri[] | undefined) ?? [],
    adkim: (values['adkim'] as DmarcAlignmentMode | undefined) ?? 'r',
    aspf: (values['aspf'] as DmarcAlignmentMode | undefined) ?? 'r',
    fo: (values['fo'] as DmarcFailureOption[] | undefined) ?? ['0'],
    raw: txt,
    tags,
    unknownTags,
    policyFallback,
  };
  if (!policyFallback && values['sp'] !== undefined) record.sp = values['sp'] as DmarcPolicy;
  if (!policyFallback && values['np'] !== undefined) record.np = values['np'] as DmarcPolicy;
  if (values['psd'] !== undefined) record.psd = values['psd'] as 'y' | 'n' | 'u';
  if (values['t'] !== undefined) record.t = values['t'] as 'y' | 'n';
  warnings.push(...policyWarnings(record));
  return { ok: true, record, warnings };
}

/**
 * RFC 9989 "DMARC Policy Discovery": a record without a valid `p`, or with an invalid `sp` or `np`, is
 * read as p=none when `rua` holds a valid URI, and is unusable otherwise. Returns whether the fallback
 * applies; adds the problems to `warnings` (fallback) or `errors` (unusable).
 */
function fallBackToNone(
  tags: Record<string, string>,
  values: Record<string, unknown>,
  invalidPolicy: Record<string, string>,
  errors: RecordProblem[],
  warnings: RecordProblem[],
): boolean {
  const problems: RecordProblem[] = [];
  if (!('p' in tags)) {
    problems.push(error('p', 'tag "p" is missing; a DMARC record gives its policy as p=none, quarantine or reject'));
  }
  for (const tag of ['p', 'sp', 'np']) {
    const message = invalidPolicy[tag];
    if (message) problems.push(error(tag, message));
  }
  if (problems.length === 0) return false;
  if (((values['rua'] as DmarcUri[] | undefined)?.length ?? 0) > 0) {
    const because = 'because "rua" holds a valid URI, receivers act as if the record were "v=DMARC1; p=none" (RFC 9989 "DMARC Policy Discovery")';
    for (const p of problems) warnings.push({ ...p, severity: 'warning', message: `${p.message}; ${because}` });
    return true;
  }
  errors.push(...problems.map((p) => ({ ...p, message: `${p.message}; without a valid "rua" receivers apply no DMARC policy (RFC 9989 "DMARC Policy Discovery")` })));
  return false;
}

/**
 * A historic tag (RFC 7489's pct, rf, ri): a warning that RFC 9989 removed it, and for a valid pct its
 * value, which receivers that implement RFC 7489 still apply. An invalid value is a warning, not an
 * error: RFC 9989 receivers ignore the tag whatever it holds.
 */
function historicTag(name: string, value: string, values: Record<string, unknown>, warnings: RecordProblem[]): void {
  const r = TAG_CHECKS[name]!(value);
  const removed = name === 'pct' ? 'the pct tag was removed in RFC 9989 (t=y replaces pct=0)' : `the ${name} tag was removed in RFC 9989`;
  if (!r.ok) {
    warnings.push(warning(name, `${r.message}; ${removed}, so RFC 9989 receivers ignore it, and RFC 7489 receivers read such a value in different ways: remove the tag`));
    return;
  }
  if (name === 'pct') values['pct'] = r.value;
  warnings.push(warning(name, `tag "${name}": ${removed}; receivers that follow RFC 9989 ignore it`));
}

/** Warnings about what a valid record leaves open: no aggregate reports, testing mode, partial coverage, weak sp or np. */
function policyWarnings(record: DmarcRecord): RecordProblem[] {
  const warnings: RecordProblem[] = [];
  if (!('rua' in record.tags)) {
    warnings.push(warning('rua', 'no "rua" tag: no aggregate reports are requested, so nobody sees the mail that fails DMARC'));
  }
  const { pct, p } = record;
  if (record.t === 'y' && p !== 'none') {
    const below = p === 'reject' ? 'quarantine' : 'none';
    warnings.push(warning('t', `tag "t": y is testing mode: receivers apply ${below} instead of p=${p} to mail that fails DMARC (RFC 9989 "DMARC Policy Record Format")`));
  }
  if (pct < 100) {
    const share = `${pct}% of the mail that fails DMARC`;
    const message =
      p === 'none'
        ? `tag "pct": ${pct} has no effect while p=none, but once p is raised it limits the policy to ${share} at receivers that implement RFC 7489`
        : `tag "pct": ${pct} applies p=${p} to only ${share} at receivers that implement RFC 7489, which apply the next weaker policy to the rest (RFC 7489 §6.6.4)`;
    warnings.push(warning('pct', message));
  }
  if (record.sp === 'none' && record.p !== 'none') {
    warnings.push(warning('sp', `tag "sp": none leaves subdomains unprotected while the domain itself has p=${record.p}`));
  }
  if (record.np === 'none' && (record.sp ?? record.p) !== 'none') {
    warnings.push(warning('np', `tag "np": none leaves non-existent subdomains unprotected while existing ones have ${record.sp ? 'sp' : 'p'}=${record.sp ?? record.p}`));
  }
  return warnings;
}
