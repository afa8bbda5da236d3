/**
 * DMARC policy discovery (RFC 7489 §6.6.3) over an injected TXT resolver, and its evaluation into a
 * posture status. Nothing here does network I/O itself: pass `new Resolver()` from `node:dns/promises`
 * in production and an in-memory resolver in tests.
 */
import { parseDmarcRecord, selectDmarcRecord, type DmarcPolicy, type DmarcRecord, type RecordProblem } from './dmarc.js';
import { normalizeDomain, organizationalDomain } from './organizational-domain.js';

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

/** The outcome of DMARC policy discovery for one domain. */
export interface DmarcDiscovery {
  /** The domain asked about, normalised (lower-case ASCII, no trailing dot). */
  domain: string;
  /** Its organizational domain (RFC 7489 §3.2). */
  organizationalDomain: string;
  /** The names queried, in order. */
  queried: string[];
  /**
   * Where the DMARC record(s) that decided the outcome were found: at `_dmarc.<domain>`, at
   * `_dmarc.<organizational domain>`, or nowhere (no record, or the lookup failed first).
   */
  source: 'domain' | 'organizational' | 'none';
  /** The usable record, when exactly one was found and it parsed. */
  record?: DmarcRecord;
  /** The text of the single DMARC record found, usable or not. */
  recordText?: string;
  /** The texts of all DMARC records found, when there was more than one. */
  recordTexts?: string[];
  /**
   * The policy receivers apply to mail from `domain`: `p` of a record at the domain itself, `sp`
   * (falling back to `p`) of a record at the organizational domain. Absent when no policy applies.
   */
  effectivePolicy?: DmarcPolicy;
  /** Why no policy applies although records were found (syntax errors, several records). */
  errors: RecordProblem[];
  /** Problems that do not stop the policy from applying, and TXT records at `_dmarc` that were ignored. */
  warnings: RecordProblem[];
  /** Set when a query failed; then nothing is known about the policy. */
  dnsError?: DnsFailure;
}

/**
 * Discovers the DMARC policy for mail from `domain` (RFC 7489 §6.6.3): queries `_dmarc.<domain>`,
 * keeps the records that start with `v=DMARC1`, and only when none is left queries
 * `_dmarc.<organizational domain>`. More than one DMARC record, or an unusable one, means no policy
 * applies (and there is no fallback to the organizational domain). A DNS failure stops discovery and
 * is reported as `dnsError`, never as a missing record.
 *
 * @throws RangeError when `domain` is not a domain name.
 */
export async function discoverDmarc(domain: string, resolver: TxtResolver): Promise<DmarcDiscovery> {
  const name = normalizeDomain(domain);
  const org = organizationalDomain(name);
  const discovery: DmarcDiscovery = { domain: name, organizationalDomain: org, queried: [], source: 'none', errors: [], warnings: [] };
  const steps: Array<{ at: string; source: 'domain' | 'organizational' }> = [{ at: name, source: 'domain' }];
  if (org !== name) steps.push({ at: org, source: 'organizational' });

  for (const { at, source } of steps) {
    const qname = `_dmarc.${at}`;
    discovery.queried.push(qname);
    const answer = await queryTxt(resolver, qname);
    if (answer.kind === 'failure') {
      discovery.dnsError = answer.failure;
      return discovery;
    }
    const selection = selectDmarcRecord(answer.rrset);
    discovery.warnings.push(...selection.ignored.map((text) => ignoredRecordWarning(qname, text)));
    if (selection.kind === 'none') continue;
    discovery.source = source;
    if (selection.kind === 'many') {
      discovery.recordTexts = selection.texts;
      discovery.errors.push({
        severity: 'error',
        message: `${qname} has ${selection.texts.length} DMARC records; with more than one, receivers apply no DMARC policy (RFC 7489 §6.6.3)`,
      });
      return discovery;
    }
    discovery.recordText = selection.text;
    const parsed = parseDmarcRecord(selection.text);
    discovery.warnings.push(...parsed.warnings);
    if (!parsed.ok) {
      discovery.errors.push(...parsed.errors);
      return discovery;
    }
    discovery.record = parsed.record;
    discovery.effectivePolicy = source === 'domain' ? parsed.record.p : (parsed.record.sp ?? parsed.record.p);
    return discovery;
  }
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
   * - `missing`: no DMARC record at the domain or its organizational domain.
   * - `invalid`: DMARC records exist but none applies (syntax errors, or more than one record).
   * - `monitoring`: the effective policy is none.
   * - `partial`: quarantine or reject, but pct below 100.
   * - `enforced`: quarantine or reject for all failing mail. Whether quarantine is enough is for the
   *   posture to decide from `policy`.
   */
  status: DmarcStatus;
  /** The policy receivers apply to mail from the domain. */
  policy?: DmarcPolicy;
  /** The policy receivers apply to subdomains: sp, falling back to p, of the record that applied. */
  subdomainPolicy?: DmarcPolicy;
  /** The pct of the record that applied. */
  pct?: number;
  /** The name the record that decided was found at, e.g. `_dmarc.example.com`. */
  recordName?: string;
  /** One sentence for a report. */
  summary: string;
  /** Errors first, then warnings. */
  problems: RecordProblem[];
}

/** Turns a discovery into a posture status with a one-sentence summary. */
export function evaluateDmarc(discovery: DmarcDiscovery): DmarcEvaluation {
  const problems = [...discovery.errors, ...discovery.warnings];
  const base = { domain: discovery.domain, problems };
  const at = discovery.source === 'organizational' ? discovery.organizationalDomain : discovery.domain;
  const recordName = `_dmarc.${at}`;
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
  const found = { ...base, policy, subdomainPolicy: record.sp ?? record.p, pct: record.pct, recordName };
  const inherited = discovery.source === 'organizational' ? ` (inherited from ${recordName})` : ` (${recordName})`;
  if (policy === 'none') {
    const why = record.policyFallback ? ', because the published policy is invalid and rua is valid' : '';
    return { ...found, status: 'monitoring', summary: `${discovery.domain} has p=none${why}${inherited}: failing mail is only reported` };
  }
  if (record.pct < 100) {
    return {
      ...found,
      status: 'partial',
      summary: `${discovery.domain} has ${policy} for only ${record.pct}% of failing mail${inherited}; the rest gets the next weaker policy`,
    };
  }
  return { ...found, status: 'enforced', summary: `${discovery.domain} has ${policy} for all failing mail${inherited}` };
}
