/**
 * DMARC policy discovery by the DNS tree walk (RFC 9989) over an injected TXT resolver, and its
 * evaluation into a posture status. Nothing here does network I/O itself: pass `new Resolver()` from `node:dns/promises`
 * in production and an in-memory resolver in tests.
 */
import { parseDmarcRecord, selectDmarcRecord, type DmarcPolicy, type DmarcRecord, type RecordProblem } from './dmarc.js';
import { normalizeDomain } from './domain-name.js';

/**
 * Resolves TXT records: one array of character-strings per record, as `Resolver.resolveTxt` of
 * `node:dns/promises` returns them. Failures reject with a node DNS error carrying `code`:
 * `ENOTFOUND` (NXDOMAIN) and `ENODATA` (no TXT record) mean there is no record; anything else
 * (`ESERVFAIL`, `ETIMEOUT`, `ECONNREFUSED`, `EREFUSED`, ...) is a failure.
 */
export interface TxtResolver {
  resolveTxt(name: string): Promise<string[][]>;
}

/** A DNS query that failed: the answer is unknown, which is never the same as "no record". */
export interface DnsFailure {
  name: string;
  code: string;
  message: string;
}

/** The answer to a TXT query: the records (possibly none), or a failure. */
export type TxtAnswer = { kind: 'records'; rrset: string[][] } | { kind: 'failure'; failure: DnsFailure };

/** Error codes of node:dns that mean the name has no TXT record (NXDOMAIN, NODATA). */
export const NO_RECORD_CODES: readonly string[] = ['ENOTFOUND', 'ENODATA'];

/**
 * Queries TXT records at `name`. NXDOMAIN and NODATA become an empty RRset; every other error,
 * including one without a code, becomes a failure.
 */
export async function queryTxt(resolver: TxtResolver, name: string): Promise<TxtAnswer> {
  try {
    return { kind: 'records', rrset: await resolver.resolveTxt(name) };
  } catch (err) {
    const code = typeof (err as { code?: unknown })?.code === 'string' ? (err as { code: string }).code : 'UNKNOWN';
    if (NO_RECORD_CODES.includes(code)) return { kind: 'records', rrset: [] };
    const message = err instanceof Error ? err.message : String(err);
    return { kind: 'failure', failure: { name, code, message } };
  }
}

/** Where the DMARC record that decided a discovery was found. */
export type DmarcSource = 'domain' | 'organizational' | 'public-suffix' | 'none';

/** The outcome of DMARC policy discovery for one domain. */
export interface DmarcDiscovery {
  /** The domain asked about, normalised (lower-case ASCII, no trailing dot). */
  domain: string;
  /**
   * Its organizational domain, found by the DNS tree walk (RFC 9989 "Identifier Alignment
   * Evaluation"): the first record on the walk with psd=n, the name one label below the first with
   * psd=y, otherwise the record with the fewest labels; the domain itself when the walk found no
   * record. Absent when a query the answer depends on failed.
   */
  organizationalDomain?: string;
  /** The names queried, in order: at most {@link MAX_TREE_WALK_QUERIES}. */
  queried: string[];
  /**
   * Where the DMARC record(s) that decided the outcome were found: at `_dmarc.<domain>`, at the
   * organizational domain, at the public suffix domain (a record with psd=y, when the
   * organizational domain publishes none), or nowhere (no record, or the lookup failed first).
   */
  source: DmarcSource;
  /** The domain whose `_dmarc` name holds the record(s) that decided, when `source` is not `none`. */
  recordDomain?: string;
  /** The usable record, when exactly one was found and it parsed. */
  record?: DmarcRecord;
  /** The text of the single DMARC record found, usable or not. */
  recordText?: string;
  /** The texts of all DMARC records found, when there was more than one. */
  recordTexts?: string[];
  /**
   * The policy receivers apply to mail from `domain`: `p` of a record at the domain itself, `sp`
   * (falling back to `p`) of a record at the organizational or public suffix domain, since a
   * declared domain exists. Absent when no policy applies.
   */
  effectivePolicy?: DmarcPolicy;
  /** Why no policy applies although records were found (syntax errors, several records). */
  errors: RecordProblem[];
  /** Problems that do not stop the policy from applying, and TXT records at `_dmarc` that were ignored. */
  warnings: RecordProblem[];
  /** Set when a query the policy depends on failed; then nothing is known about the policy. */
  dnsError?: DnsFailure;
}

/** RFC 9989 "DNS Tree Walk": a walk makes at most eight queries, whatever the number of labels. */
export const MAX_TREE_WALK_QUERIES = 8;

/**
 * The names a DNS tree walk from `domain` queries, in order (RFC 9989 "DNS Tree Walk"): the domain
 * itself, then, when it has 8 labels or more, its last 7 labels (the labels in between are skipped),
 * otherwise its parent, and then one label fewer each time down to the top-level label. So the walk
 * makes at most {@link MAX_TREE_WALK_QUERIES} queries. `domain` must be normalised.
 */
export function treeWalkNames(domain: string): string[] {
  const labels = domain.split('.');
  const names = [domain];
  for (let n = Math.min(labels.length - 1, MAX_TREE_WALK_QUERIES - 1); n >= 1; n--) names.push(labels.slice(-n).join('.'));
  return names;
}

/** What one name of a tree walk answered. */
type WalkStep =
  | { kind: 'failure'; qname: string; failure: DnsFailure }
  | { kind: 'none'; qname: string; at: string }
  | { kind: 'many'; qname: string; at: string; texts: string[] }
  | { kind: 'invalid'; qname: string; at: string; text: string; errors: RecordProblem[]; warnings: RecordProblem[] }
  | { kind: 'valid'; qname: string; at: string; text: string; record: DmarcRecord; warnings: RecordProblem[] };

async function walkStep(resolver: TxtResolver, at: string, warnings: RecordProblem[]): Promise<WalkStep> {
  const qname = `_dmarc.${at}`;
  const answer = await queryTxt(resolver, qname);
  if (answer.kind === 'failure') return { kind: 'failure', qname, failure: answer.failure };
  const selection = selectDmarcRecord(answer.rrset);
  warnings.push(...selection.ignored.map((text) => ignoredRecordWarning(qname, text)));
  if (selection.kind === 'none') return { kind: 'none', qname, at };
  if (selection.kind === 'many') return { kind: 'many', qname, at, texts: selection.texts };
  const parsed = parseDmarcRecord(selection.text);
  if (!parsed.ok) return { kind: 'invalid', qname, at, text: selection.text, errors: parsed.errors, warnings: parsed.warnings };
  return { kind: 'valid', qname, at, text: selection.text, record: parsed.record, warnings: parsed.warnings };
}

const labelCount = (name: string): number => name.split('.').length;

/**
 * The organizational domain from the valid records of a walk, longest name first (RFC 9989
 * "Identifier Alignment Evaluation"): the first with psd=n; the name one label below the first with
 * psd=y other than the walk's start; otherwise the one with the fewest labels; `start` when there
 * is none. The name below a psd=y record is taken from `start`'s labels, so it is right when the walk
 * skipped names.
 */
export function organizationalDomainOf(start: string, valid: ReadonlyArray<{ at: string; record: DmarcRecord }>): string {
  for (const { at, record } of valid) {
    if (record.psd === 'n') return at;
    if (record.psd === 'y' && at !== start) return start.split('.').slice(-(labelCount(at) + 1)).join('.');
  }
  return valid.reduce<string | undefined>((best, { at }) => (best === undefined || labelCount(at) < labelCount(best) ? at : best), undefined) ?? start;
}

/**
 * Walks from `names[0]` through `names` (RFC 9989 "DNS Tree Walk"), stopping after a valid record
 * with psd=y or psd=n. Several DMARC records at one name are discarded; so is a record that does not
 * parse (it is not a valid DMARC record); both with a warning. Returns the valid records, or the
 * first failure.
 */
async function treeWalk(
  resolver: TxtResolver,
  names: readonly string[],
  discovery: DmarcDiscovery,
): Promise<{ valid: Array<Extract<WalkStep, { kind: 'valid' }>> } | { failure: DnsFailure }> {
  const valid: Array<Extract<WalkStep, { kind: 'valid' }>> = [];
  for (const at of names) {
    discovery.queried.push(`_dmarc.${at}`);
    const step = await walkStep(resolver, at, discovery.warnings);
    if (step.kind === 'failure') return { failure: step.failure };
    if (step.kind === 'many') {
      discovery.warnings.push({ severity: 'warning', message: `${step.qname} has ${step.texts.length} DMARC records, so the DNS tree walk discards them (RFC 9989 "DNS Tree Walk")` });
    } else if (step.kind === 'invalid') {
      discovery.warnings.push({ severity: 'warning', message: `the DMARC record at ${step.qname} is not valid, so the DNS tree walk passes it by: ${step.errors[0]!.message}` });
    } else if (step.kind === 'valid') {
      valid.push(step);
      if (step.record.psd === 'y' || step.record.psd === 'n') break;
    }
  }
  return { valid };
}

/**
 * Discovers the DMARC policy for mail from `domain` (RFC 9989 "DMARC Policy Discovery"): queries
 * `_dmarc.<domain>`; when it holds no DMARC record, walks up the DNS tree ({@link treeWalkNames})
 * and applies the record of the organizational domain, or failing that of the public suffix domain
 * (psd=y). More than one DMARC record at the domain itself, or an unusable one, means no policy
 * applies (a posture asks the domain to publish one valid record; it does not look past a broken
 * one). When the domain has its own record, the walk goes on only to name the organizational
 * domain (relaxed alignment needs it), and a failure then leaves that name unknown without touching
 * the policy. A DNS failure the policy depends on stops discovery and is reported as `dnsError`,
 * never as a missing record.
 *
 * @throws RangeError when `domain` is not a domain name.
 */
export async function discoverDmarc(domain: string, resolver: TxtResolver): Promise<DmarcDiscovery> {
  const name = normalizeDomain(domain);
  const discovery: DmarcDiscovery = { domain: name, queried: [], source: 'none', errors: [], warnings: [] };
  const [, ...parents] = treeWalkNames(name);

  discovery.queried.push(`_dmarc.${name}`);
  const own = await walkStep(resolver, name, discovery.warnings);
  if (own.kind === 'failure') {
    discovery.dnsError = own.failure;
    return discovery;
  }
  if (own.kind === 'many') {
    Object.assign(discovery, { source: 'domain', recordDomain: name, recordTexts: own.texts });
    discovery.errors.push({
      severity: 'error',
      message: `${own.qname} has ${own.texts.length} DMARC records; receivers discard them all, so the domain's own policy does not apply (RFC 9989 "DNS Tree Walk")`,
    });
    return discovery;
  }
  if (own.kind === 'invalid') {
    Object.assign(discovery, { source: 'domain', recordDomain: name, recordText: own.text });
    discovery.warnings.push(...own.warnings);
    discovery.errors.push(...own.errors);
    return discovery;
  }
  if (own.kind === 'valid') {
    Object.assign(discovery, { source: 'domain', recordDomain: name, recordText: own.text, record: own.record, effectivePolicy: own.record.p });
    discovery.warnings.push(...own.warnings);
    if (own.record.psd === 'y' || own.record.psd === 'n') {
      discovery.organizationalDomain = name;
      return discovery;
    }
    const walk = await treeWalk(resolver, parents, discovery);
    if ('failure' in walk) {
      const f = walk.failure;
      discovery.warnings.push({ severity: 'warning', message: `the DNS query for ${f.name} failed (${f.code}), so the organizational domain of ${name} is unknown; its own record applies` });
    } else {
      discovery.organizationalDomain = organizationalDomainOf(name, [own, ...walk.valid]);
    }
    return discovery;
  }

  const walk = await treeWalk(resolver, parents, discovery);
  if ('failure' in walk) {
    discovery.dnsError = walk.failure;
    return discovery;
  }
  const org = organizationalDomainOf(name, walk.valid);
  discovery.organizationalDomain = org;
  const applied = walk.valid.find((s) => s.at === org) ?? walk.valid.find((s) => s.record.psd === 'y');
  if (!applied) return discovery;
  Object.assign(discovery, {
    source: applied.at === org ? 'organizational' : 'public-suffix',
    recordDomain: applied.at,
    recordText: applied.text,
    record: applied.record,
    effectivePolicy: applied.record.sp ?? applied.record.p,
  });
  discovery.warnings.push(...applied.warnings);
  return discovery;
}

/** A warning for a TXT record at `_dmarc` that is not a DMARC record, saying why when it looks like one. */
function ignoredRecordWarning(qname: string, text: string): RecordProblem {
  const shown = JSON.stringify(text.length > 60 ? `${text.slice(0, 60)}...` : text);
  if (/^\s*v\s*=\s*dmarc/i.test(text)) {
    const parsed = parseDmarcRecord(text);
    const why = parsed.ok ? '' : `: ${parsed.errors[0]!.message}`;
    return { severity: 'warning', message: `TXT record ${shown} at ${qname} is ignored because it does not start with exactly "v=DMARC1"${why}` };
  }
  return { severity: 'warning', message: `TXT record ${shown} at ${qname} is not a DMARC record and is ignored` };
}

export type DmarcStatus = 'enforced' | 'partial' | 'monitoring' | 'missing' | 'invalid' | 'error';

/** What DMARC protection a domain has, as receivers see it. */
export interface DmarcEvaluation {
  domain: string;
  /**
   * - `error`: a DNS query failed, so the policy is unknown.
   * - `missing`: no DMARC record at the domain or on its DNS tree walk.
   * - `invalid`: DMARC records exist at the domain but none applies (syntax errors, or more than one record).
   * - `monitoring`: the effective policy is none.
   * - `partial`: quarantine or reject, but not enforced on all failing mail: testing mode (t=y, which
   *   has receivers apply the policy one level below), or the historic pct below 100 (which
   *   receivers that implement RFC 7489 apply).
   * - `enforced`: quarantine or reject for all failing mail. Whether quarantine is enough is for the
   *   posture to decide from `policy`.
   */
  status: DmarcStatus;
  /** The policy receivers apply to mail from the domain. */
  policy?: DmarcPolicy;
  /** The policy receivers apply to subdomains: sp, falling back to p, of the record that applied. */
  subdomainPolicy?: DmarcPolicy;
  /** The policy receivers apply to non-existent subdomains: np, falling back to sp, then p. */
  nonExistentSubdomainPolicy?: DmarcPolicy;
  /** The historic pct of the record that applied (100 when absent). */
  pct?: number;
  /** True when the record that applied asks for testing mode (t=y). */
  testing?: boolean;
  /** The name the record that decided was found at, e.g. `_dmarc.example.com`. */
  recordName?: string;
  /** One sentence for a report. */
  summary: string;
  /** Errors first, then warnings. */
  problems: RecordProblem[];
}

const WEAKER: Record<DmarcPolicy, DmarcPolicy> = { reject: 'quarantine', quarantine: 'none', none: 'none' };

/** Turns a discovery into a posture status with a one-sentence summary. */
export function evaluateDmarc(discovery: DmarcDiscovery): DmarcEvaluation {
  const problems = [...discovery.errors, ...discovery.warnings];
  const base = { domain: discovery.domain, problems };
  const recordName = `_dmarc.${discovery.recordDomain ?? discovery.domain}`;
  if (discovery.dnsError) {
    const e = discovery.dnsError;
    const summary = `the DNS query for ${e.name} failed (${e.code}), so the DMARC policy of ${discovery.domain} is unknown`;
    return { ...base, status: 'error', summary };
  }
  const { record, effectivePolicy: policy } = discovery;
  if (!record || !policy) {
    if (discovery.errors.length === 0) {
      return { ...base, status: 'missing', summary: `no DMARC record at ${discovery.queried.join(' or ')}` };
    }
    return { ...base, status: 'invalid', recordName, summary: `no DMARC policy applies to ${discovery.domain}: ${discovery.errors[0]!.message}` };
  }
  const subdomainPolicy = record.sp ?? record.p;
  const testing = record.t === 'y';
  const found = { ...base, policy, subdomainPolicy, nonExistentSubdomainPolicy: record.np ?? subdomainPolicy, pct: record.pct, testing, recordName };
  const inherited =
    discovery.source === 'organizational'
      ? ` (inherited from ${recordName}, the organizational domain)`
      : discovery.source === 'public-suffix'
        ? ` (inherited from ${recordName}, the public suffix domain)`
        : ` (${recordName})`;
  if (policy === 'none') {
    const why = record.policyFallback ? ', because the published policy is invalid and rua is valid' : '';
    return { ...found, status: 'monitoring', summary: `${discovery.domain} has p=none${why}${inherited}: failing mail is only reported` };
  }
  if (testing) {
    return {
      ...found,
      status: 'partial',
      summary: `${discovery.domain} has ${policy} in testing mode (t=y)${inherited}: receivers apply ${WEAKER[policy]} to failing mail instead`,
    };
  }
  if (record.pct < 100) {
    return {
      ...found,
      status: 'partial',
      summary: `${discovery.domain} has ${policy} for only ${record.pct}% of failing mail${inherited} at receivers that still apply the historic pct; the rest gets the next weaker policy`,
    };
  }
  return { ...found, status: 'enforced', summary: `${discovery.domain} has ${policy} for all failing mail${inherited}` };
}
