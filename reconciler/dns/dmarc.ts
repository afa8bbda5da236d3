/**
 * DMARC record parsing and checking, RFC 7489.
 *
 * The verdict of {@link parseDmarcRecord} follows RFC 7489: the record must start with `v=DMARC1`,
 * `p` must come directly after it, every known tag must hold a value RFC 7489 §6.3/§6.4 allows, no tag
 * may repeat, and the tag list follows the DKIM tag-list syntax (RFC 6376 §3.2) that RFC 7489 §6.3
 * adopts. Unknown tags are ignored with a warning. When `p` is missing or invalid, or `sp` is invalid,
 * and `rua` holds a valid URI, the record is read as p=none (RFC 7489 §6.6.3 step 6).
 * The RFC 9989 (DMARCbis) tags np, psd and t are known tags: their values are checked, but they do not
 * change the verdict or the policy. docs/dmarc-parsing.md explains each choice.
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

/** A DMARC report URI (RFC 7489 §6.2). */
export interface DmarcUri {
  /** The URI as published, without its size limit, e.g. `mailto:dmarc@example.com`. */
  uri: string;
  /** The scheme, lower-case: `mailto`, `http` or `https`. */
  scheme: string;
  /** For mailto: the percent-decoded address, e.g. `dmarc@example.com`. */
  address?: string;
  /** The size limit: digits and an optional unit (lower-case), e.g. `10m`. */
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
  /** RFC 9989 non-existent-subdomain policy, when published. RFC 7489 receivers ignore it. */
  np?: DmarcPolicy;
  /** RFC 9989 public-suffix-domain flag, when published. RFC 7489 receivers ignore it. */
  psd?: 'y' | 'n' | 'u';
  /** RFC 9989 testing flag, when published. RFC 7489 receivers ignore it. */
  t?: 'y' | 'n';
  /** Percentage of failing mail the policy applies to. @default 100 */
  pct: number;
  rua: DmarcUri[];
  ruf: DmarcUri[];
  /** @default 'r' */
  adkim: DmarcAlignmentMode;
  /** @default 'r' */
  aspf: DmarcAlignmentMode;
  /** @default ['0'] */
  fo: DmarcFailureOption[];
  /** @default ['afrf'] */
  rf: string[];
  /** Aggregate report interval in seconds. @default 86400 */
  ri: number;
  /** The record text as published. */
  raw: string;
  /** Every known tag that was literally present: lower-case name to value as published (trimmed), valid or not. */
  tags: Readonly<Record<string, string>>;
  /** Tags RFC 7489 and RFC 9989 do not define, which receivers ignore: lower-case name to value. */
  unknownTags: Readonly<Record<string, string>>;
  /**
   * True when `p` is missing or invalid, or `sp` is invalid, and `rua` holds a valid URI: RFC 7489 §6.6.3
   * step 6 then has receivers act as if the record were `v=DMARC1; p=none`.
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

/** Tags RFC 7489 defines. */
export const RFC7489_TAGS = ['v', 'p', 'sp', 'rua', 'ruf', 'adkim', 'aspf', 'ri', 'fo', 'rf', 'pct'] as const;
/** Tags RFC 9989 adds. Their values are checked; they do not change the verdict or the policy. */
export const RFC9989_TAGS = ['np', 'psd', 't'] as const;

const KNOWN_TAGS: ReadonlySet<string> = new Set([...RFC7489_TAGS, ...RFC9989_TAGS]);
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
 * spaces or tabs around it, exactly `DMARC1`, then `;` or the end. RFC 7489 §6.6.3 discards every
 * other record found at `_dmarc.<domain>`.
 */
export function startsWithDmarcVersion(text: string): boolean {
  return /^[vV][ \t]*=[ \t]*DMARC1[ \t]*(?:;|$)/.test(text);
}

/**
 * Picks the DMARC record from the TXT RRset at `_dmarc.<domain>`. Each TXT record is a list of
 * character-strings, joined without a separator (RFC 7489 §6.6.3, RFC 7208 §3.3). Records that do not
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
 * (RFC 7489 §6.2, §6.4). Accepted schemes are mailto (which receivers must support) and http/https
 * (with a warning: few receivers send to them). Spaces around `!` or before the unit are accepted
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
    warnings.push(`${quote(uri)} is not a mailto: URI; receivers are only required to send reports by email (RFC 7489 §6.3)`);
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
      'DMARC reports go to mailto: URIs (RFC 7489 §6.3), or to http: or https: where a receiver supports it'
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
    warnings.push(`lists ${uris.length} URIs; receivers need only send reports to two of them (RFC 7489 §6.2)`);
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
    message: `tag "v": ${quote(value)} is not "DMARC1"${hint}; receivers ignore a record whose version is not exactly DMARC1 (RFC 7489 §6.3)`,
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
 * `pct`, `ri`, `fo`, `rf`, `rua`, `ruf`; the tag name is case-insensitive, the value is trimmed).
 * Returns its problems: none when the value is valid and unremarkable. An unknown tag yields one
 * warning, since receivers ignore it.
 */
export function checkDmarcTagValue(tag: string, value: string): RecordProblem[] {
  const name = tag.toLowerCase();
  const check = TAG_CHECKS[name];
  if (!check) return [warning(name, `unknown tag "${name}" is ignored (RFC 7489 §6.3)`)];
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
      errors.push(error(undefined, `empty tag${after} (";;"): tags are separated by a single ";" (RFC 7489 §6.4)`));
    } else if (eq < 0) {
      errors.push(error(undefined, `${quote(spec)}${after} is not a tag=value pair (RFC 7489 §6.3)`));
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
 * it against RFC 7489. `ok` is true when receivers can use the record: then `record` holds the
 * normalised values with defaults, and `warnings` what deserves attention (no rua, pct below 100,
 * unknown tags, ...). Otherwise `errors` say which tag holds what and what is wrong with it.
 */
export function parseDmarcRecord(txt: string): DmarcParseResult {
  const warnings: RecordProblem[] = [];
  const fail = (errors: RecordProblem[]): DmarcParseResult => ({ ok: false, errors, warnings });
  if (trimWsp(txt) === '') return fail([error(undefined, 'the record is empty; a DMARC record starts with "v=DMARC1"')]);
  if (/^\s/.test(txt)) {
    return fail([error(undefined, 'the record starts with whitespace; receivers ignore records that do not start with "v=DMARC1" (RFC 7489 §6.6.3)')]);
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
    if (!KNOWN_TAGS.has(name)) {
      unknownTags[name] = value;
      warnings.push(warning(name, `unknown tag "${name}" is ignored (RFC 7489 §6.3)`));
      return;
    }
    tags[name] = value;
    if (name === 'v') return; // the first tag, checked by versionProblem; a second "v" is a duplicate
    if (name === 'p' && index !== 1) {
      const previous = split.tags[index - 1]!.name;
      errors.push(error('p', `tag "p" must come directly after "v=DMARC1" (RFC 7489 §6.4); here it is tag ${index + 1}, after "${previous}"`));
      return;
    }
    const r = TAG_CHECKS[name]!(value);
    if (!r.ok) {
      if (name === 'p' || name === 'sp') invalidPolicy[name] = r.message;
      else errors.push(error(name, r.message));
      return;
    }
    values[name] = r.value;
    for (const w of r.warnings) warnings.push(warning(name, `tag "${name}": ${w}`));
    if ((RFC9989_TAGS as readonly string[]).includes(name)) {
      warnings.push(warning(name, `tag "${name}" is defined by RFC 9989 (DMARCbis); receivers that implement RFC 7489 ignore it`));
    }
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
    rf: (values['rf'] as string[] | undefined) ?? ['afrf'],
    ri: (values['ri'] as number | undefined) ?? 86400,
    raw: txt,
    tags,
    unknownTags,
    policyFallback,
  };
  if (!policyFallback && values['sp'] !== undefined) record.sp = values['sp'] as DmarcPolicy;
  if (values['np'] !== undefined) record.np = values['np'] as DmarcPolicy;
  if (values['psd'] !== undefined) record.psd = values['psd'] as 'y' | 'n' | 'u';
  if (values['t'] !== undefined) record.t = values['t'] as 'y' | 'n';
  warnings.push(...policyWarnings(record));
  return { ok: true, record, warnings };
}

/**
 * RFC 7489 §6.6.3 step 6: a record without a valid `p`, or with an invalid `sp`, is read as p=none when
 * `rua` holds a valid URI, and is unusable otherwise. Returns whether the fallback applies; adds the
 * problems to `warnings` (fallback) or `errors` (unusable). A misplaced `p` is already an error.
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
    problems.push(error('p', 'tag "p" is missing; it must follow "v=DMARC1" with none, quarantine or reject (RFC 7489 §6.3)'));
  }
  for (const tag of ['p', 'sp']) {
    const message = invalidPolicy[tag];
    if (message) problems.push(error(tag, message));
  }
  if (problems.length === 0) return false;
  const misplacedP = errors.some((e) => e.tag === 'p');
  if (!misplacedP && ((values['rua'] as DmarcUri[] | undefined)?.length ?? 0) > 0) {
    const because = 'because "rua" holds a valid URI, receivers act as if the record were "v=DMARC1; p=none" (RFC 7489 §6.6.3)';
    for (const p of problems) warnings.push({ ...p, severity: 'warning', message: `${p.message}; ${because}` });
    return true;
  }
  errors.push(...problems.map((p) => ({ ...p, message: `${p.message}; without a valid "rua" receivers apply no DMARC policy (RFC 7489 §6.6.3)` })));
  return false;
}

/** Warnings about what a valid record leaves open: no aggregate reports, partial coverage, weak sp. */
function policyWarnings(record: DmarcRecord): RecordProblem[] {
  const warnings: RecordProblem[] = [];
  if (!('rua' in record.tags)) {
    warnings.push(warning('rua', 'no "rua" tag: no aggregate reports are requested, so nobody sees the mail that fails DMARC'));
  }
  const { pct, p } = record;
  if (pct < 100) {
    const share = `${pct}% of the mail that fails DMARC`;
    const message =
      p === 'none'
        ? `tag "pct": ${pct} has no effect while p=none, but once p is raised it limits the policy to ${share}`
        : `tag "pct": ${pct} applies p=${p} to only ${share}; receivers apply the next weaker policy to the rest (RFC 7489 §6.6.4)`;
    warnings.push(warning('pct', message));
  }
  if (record.sp === 'none' && record.p !== 'none') {
    warnings.push(warning('sp', `tag "sp": none leaves subdomains unprotected while the domain itself has p=${record.p}`));
  }
  return warnings;
}
