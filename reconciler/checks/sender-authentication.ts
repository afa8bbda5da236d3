import type { Evaluation } from '../evaluate/context.js';
import type { DesiredDomain } from '../manifest/schema.js';
import type { DmarcUri } from '../dns/dmarc.js';
import { ABSENT, type DomainDns } from '../read/dns.js';

type Obj = Record<string, unknown>;
const STRENGTH = { none: 0, quarantine: 1, reject: 2 } as const;

/** The non-existent subdomain policy a domain declares (manifests written before np: its subdomain policy). */
const declaredNp = (d: DesiredDomain) => d.dmarc.nonExistentSubdomainPolicy ?? d.dmarc.subdomainPolicy;

/**
 * The DMARC record the posture wants published for a domain (RFC 9989; the historic pct only when
 * declared below 100, for receivers that still apply it).
 */
export function dmarcRecordFor(d: DesiredDomain): string {
  const tags = [`v=DMARC1`, `p=${d.dmarc.policy}`];
  if (d.dmarc.subdomainPolicy !== d.dmarc.policy) tags.push(`sp=${d.dmarc.subdomainPolicy}`);
  if (declaredNp(d) !== d.dmarc.subdomainPolicy) tags.push(`np=${declaredNp(d)}`);
  if (d.dmarc.adkim !== 'r') tags.push(`adkim=${d.dmarc.adkim}`);
  if (d.dmarc.aspf !== 'r') tags.push(`aspf=${d.dmarc.aspf}`);
  if (d.dmarc.testing) tags.push('t=y');
  if (d.dmarc.pct !== 100) tags.push(`pct=${d.dmarc.pct}`);
  tags.push(`rua=${d.dmarc.rua.join(',')}`);
  if (d.dmarc.ruf.length) tags.push(`ruf=${d.dmarc.ruf.join(',')}`);
  return tags.join('; ');
}

const publish = (name: string, value: string) => `Publish TXT at ${name}: "${value}"`;

/**
 * MAIL.DMARC.1–4, MAIL.SPF.1 and MAIL.DKIM.1, per domain; one broken domain never hides another.
 * Policy, reporting and alignment are checked only when exactly one valid record applies (otherwise
 * MAIL.DMARC.1 says so once). A DNS failure is `not-evaluated`, never "missing".
 */
export function checkSenderAuthentication(ev: Evaluation): void {
  const sa = ev.manifest.desired.senderAuthentication;
  if (!sa || !ev.live.dns) return;
  for (const d of sa.domains) {
    const dns = ev.live.dns.get(d.name);
    if (!dns) continue;
    checkDmarc(ev, d, dns);
    checkSpf(ev, d, dns);
  }
  checkDkim(ev, sa.domains);
  checkUnmanagedDomains(ev, sa.domains);
}

function dnsFailure(ev: Evaluation, control: string, endpoint: string, readAt: string, error: string): void {
  ev.notEvaluated(control, { ok: false, endpoint, readAt, reason: 'read-failed', error }, `DNS ${endpoint}`);
}

function checkDmarc(ev: Evaluation, d: DesiredDomain, dns: DomainDns): void {
  const e = dns.dmarcEvaluation;
  const name = `_dmarc.${d.name}`;
  const resource = { type: 'domain', id: d.name, name: d.name };
  const scopes = [{ type: 'domain' as const, value: d.name }];
  const evidence = {
    endpoint: `DNS TXT ${e.recordName ?? name}`,
    readAt: dns.readAt,
    live: { record: dns.dmarc.recordText ?? dns.dmarc.recordTexts ?? null, status: e.status, policy: e.policy ?? null, organizationalDomain: dns.dmarc.organizationalDomain ?? null },
  };
  const wanted = dmarcRecordFor(d);
  if (e.status === 'error') {
    for (const c of ['MAIL.DMARC.1', 'MAIL.DMARC.2', 'MAIL.DMARC.3', 'MAIL.DMARC.4']) dnsFailure(ev, c, `TXT ${dns.dmarc.dnsError?.name ?? name}`, dns.readAt, `${dns.dmarc.dnsError?.code ?? 'error'}: ${dns.dmarc.dnsError?.message ?? ''}`);
    return;
  }
  if (e.status === 'missing' || e.status === 'invalid') {
    ev.add({
      control: 'MAIL.DMARC.1', check: e.status === 'missing' ? 'dmarc-record-present' : dns.dmarc.recordTexts ? 'dmarc-record-single' : 'dmarc-record-valid',
      resource, status: e.status === 'missing' ? 'missing' : 'violation', action: 'none', scopes, evidence,
      summary: e.status === 'missing' ? `${d.name} publishes no DMARC record: anyone can send mail as it.` : `${d.name}: ${e.summary}`,
      remediation: publish(name, wanted),
    });
    for (const c of ['MAIL.DMARC.2', 'MAIL.DMARC.3', 'MAIL.DMARC.4']) ev.cannotJudge(c, `${d.name} has no valid DMARC record to judge (MAIL.DMARC.1)`);
    return;
  }
  for (const c of ['MAIL.DMARC.2', 'MAIL.DMARC.3', 'MAIL.DMARC.4']) ev.ran(c);
  // A record applies (at the domain, or found by the DNS tree walk at its organizational or public suffix domain).
  const r = dns.dmarc.record!;
  const problems: Array<{ check: string; text: string }> = [];
  const policy = e.policy ?? 'none';
  if (STRENGTH[policy] < STRENGTH[d.dmarc.policy]) problems.push({ check: 'dmarc-policy', text: `p=${policy} (declared ${d.dmarc.policy})` });
  const sp = e.subdomainPolicy ?? policy;
  if (STRENGTH[sp] < STRENGTH[d.dmarc.subdomainPolicy]) problems.push({ check: 'dmarc-subdomain-policy', text: `sp=${sp} (declared ${d.dmarc.subdomainPolicy})` });
  const np = e.nonExistentSubdomainPolicy ?? sp;
  if (STRENGTH[np] < STRENGTH[declaredNp(d)]) problems.push({ check: 'dmarc-nonexistent-subdomain-policy', text: `np=${np} (declared ${declaredNp(d)})` });
  // Testing mode is what pct below 100 was: the policy is not enforced on all failing mail.
  if (e.testing && policy !== 'none' && !d.dmarc.testing) problems.push({ check: 'dmarc-testing', text: `t=y (testing mode: receivers apply a weaker policy than p=${policy})` });
  if ((e.pct ?? 100) < d.dmarc.pct) problems.push({ check: 'dmarc-pct', text: `pct=${e.pct} (declared ${d.dmarc.pct})` });
  if (problems.length) {
    ev.add({
      control: 'MAIL.DMARC.2', check: problems[0]!.check,
      resource, status: 'violation', action: 'none', scopes, evidence,
      summary: `${d.name} DMARC is weaker than the posture: ${problems.map((p) => p.text).join(', ')}${policy === 'none' ? '; receivers only monitor forged mail' : ''}.`,
      remediation: publish(name, wanted),
    });
  }
  const missingRua = missingUris(d.dmarc.rua, r.rua);
  const missingRuf = missingUris(d.dmarc.ruf, r.ruf);
  if (missingRua.length || missingRuf.length) {
    const not = [
      ...(missingRua.length ? [`aggregate reports do not go to ${missingRua.join(', ')}`] : []),
      ...(missingRuf.length ? [`failure reports do not go to ${missingRuf.join(', ')}`] : []),
    ];
    ev.add({
      control: 'MAIL.DMARC.3', check: missingRua.length ? 'dmarc-rua' : 'dmarc-ruf', resource, status: 'violation', action: 'none', scopes, evidence,
      summary: `${d.name} DMARC ${not.join('; ')}.`,
      remediation: publish(name, wanted),
    });
  }
  if (r.adkim !== d.dmarc.adkim || r.aspf !== d.dmarc.aspf) {
    ev.add({
      control: 'MAIL.DMARC.4', check: 'dmarc-alignment', resource, status: 'violation', action: 'none', scopes, evidence,
      summary: `${d.name} DMARC alignment is adkim=${r.adkim} aspf=${r.aspf}; the posture declares adkim=${d.dmarc.adkim} aspf=${d.dmarc.aspf}.`,
      remediation: publish(name, wanted),
    });
  }
}

/** The declared report URIs the record does not list, compared without case and without the obsolete size limit. */
function missingUris(declared: readonly string[], live: readonly DmarcUri[]): string[] {
  const bare = (u: string) => u.toLowerCase().replace(/!.*$/, '');
  const published = new Set(live.map((u) => bare(u.uri)));
  return declared.filter((u) => !published.has(bare(u))).map(bare);
}

function checkSpf(ev: Evaluation, d: DesiredDomain, dns: DomainDns): void {
  const s = dns.spf;
  const resource = { type: 'domain', id: d.name, name: d.name };
  const scopes = [{ type: 'domain' as const, value: d.name }];
  const wanted = d.spf.record ?? (d.sending ? `v=spf1 include:spf.protection.outlook.com ${d.spf.all}` : 'v=spf1 -all');
  const evidence = { endpoint: `DNS TXT ${d.name}`, readAt: dns.readAt, live: { record: s.record ?? null, status: s.status, lookups: s.lookups } };
  if (s.status === 'error') {
    dnsFailure(ev, 'MAIL.SPF.1', `TXT ${s.dnsError?.name ?? d.name}`, dns.readAt, `${s.dnsError?.code ?? 'error'}: ${s.dnsError?.message ?? ''}`);
    return;
  }
  ev.ran('MAIL.SPF.1');
  const ok = s.status === 'hardfail' || (s.status === 'softfail' && d.spf.all === '~all');
  if (ok) return;
  const check = s.status === 'missing' ? 'spf-record-present' : s.status === 'invalid' ? 'spf-record-valid' : 'spf-all-qualifier';
  const why =
    s.status === 'missing'
      ? 'publishes no SPF record'
      : s.status === 'invalid'
        ? `has an SPF record receivers reject (${s.errors[0]?.message ?? 'permerror'})`
        : `has an SPF record ending in ${s.all ? `${s.all}all` : 'no all'} (${s.status}); the posture requires ${d.spf.all}`;
  ev.add({
    control: 'MAIL.SPF.1', check, resource, status: s.status === 'missing' ? 'missing' : 'violation', action: 'none', scopes, evidence,
    summary: `${d.name} ${why}.`,
    remediation: publish(d.name, wanted),
  });
}

/**
 * MAIL.DKIM.1 for every domain that sends: each declared sending domain (signing enabled and its
 * selector CNAMEs published) and the tenant's initial domain, which every mailbox can send from
 * (signing enabled; Microsoft publishes its selectors). A DNS failure on one domain makes that
 * domain not evaluated and never hides another domain's findings.
 */
function checkDkim(ev: Evaluation, domains: readonly DesiredDomain[]): void {
  const got = ev.need<[Obj[]]>('MAIL.DKIM.1', ['dkimSigningConfig']);
  if (!got || !ev.live.dkim?.ok) return;
  const dkim = ev.live.dkim;
  const configs = new Map(got[0].map((c) => [String(c['Domain'] ?? c['Identity']).toLowerCase(), c]));
  const targets: Array<{ name: string; selectors: boolean }> = domains.filter((d) => d.dkim.enabled).map((d) => ({ name: d.name, selectors: true }));
  const accepted = ev.need<[Obj[]]>('MAIL.DKIM.1', ['acceptedDomain']);
  const declared = new Set(domains.map((d) => d.name));
  for (const a of accepted?.[0] ?? []) {
    const name = String(a['DomainName'] ?? '').toLowerCase();
    if (name && a['InitialDomain'] === true && !declared.has(name)) targets.push({ name, selectors: false });
  }
  for (const { name, selectors } of targets) {
    const c = configs.get(name);
    const resource = { type: 'dkimSigningConfig', id: name, name };
    const scopes = [{ type: 'domain' as const, value: name }];
    if (!c || c['Enabled'] !== true) {
      ev.add({
        control: 'MAIL.DKIM.1', check: 'dkim-signing-enabled', resource, status: c ? 'drift' : 'missing', action: c ? 'update' : 'create', scopes,
        patch: c ? [{ op: 'replace', path: '/Enabled', value: true }] : [{ op: 'add', path: '', value: { Domain: name, Enabled: true } } as never],
        summary: `Exchange Online does not DKIM-sign mail from ${name}${selectors ? '' : ' (the initial domain, which every mailbox can send from)'}.`,
        evidence: { endpoint: 'Exchange Get-DkimSigningConfig', readAt: dkim.readAt, live: c ? { Domain: name, Enabled: c['Enabled'], Status: c['Status'] } : null },
      });
      continue;
    }
    const dns = selectors ? ev.live.dns?.get(name) : undefined;
    if (!dns) continue;
    const broken = dns.dkim.find((sel) => sel.error && !ABSENT.includes(sel.error));
    if (broken) {
      dnsFailure(ev, 'MAIL.DKIM.1', `CNAME ${broken.name}`, dns.readAt, broken.error!);
      continue;
    }
    const unpublished: string[] = [];
    for (const [i, sel] of dns.dkim.entries()) {
      const expected = String(c[`Selector${i + 1}CNAME`] ?? '').toLowerCase();
      if (!sel.targets?.some((t) => t.toLowerCase() === expected)) unpublished.push(`CNAME ${sel.name} → ${expected}`);
    }
    if (unpublished.length) {
      ev.add({
        control: 'MAIL.DKIM.1', check: 'dkim-selectors-published', resource, key: `${name}/selectors`, status: 'violation', action: 'none', scopes,
        summary: `${name} does not publish the DKIM selector CNAMEs Exchange signs with, so receivers cannot verify its signatures.`,
        evidence: { endpoint: `DNS CNAME selector1/selector2._domainkey.${name}`, readAt: dns.readAt, live: dns.dkim },
        remediation: `Publish ${unpublished.join(' and ')}.`,
      });
    }
  }
}

/**
 * The mail domains of the tenant: every verified domain of the directory (Graph /domains) and every
 * accepted domain of Exchange Online, each marked Microsoft-managed when Microsoft owns its DNS: the
 * initial domain and the Exchange coexistence (hybrid routing) domain.
 */
export function tenantDomains(verified: readonly Obj[], accepted: readonly Obj[]): Map<string, { microsoftManaged: boolean; initial: boolean; from: string }> {
  const out = new Map<string, { microsoftManaged: boolean; initial: boolean; from: string }>();
  const add = (name: string, initial: boolean, managed: boolean, from: string) => {
    const key = name.toLowerCase();
    if (!key) return;
    const had = out.get(key);
    const microsoftOwned = managed || initial || /\.onmicrosoft\.com$/.test(key);
    out.set(key, { microsoftManaged: (had?.microsoftManaged ?? false) || microsoftOwned, initial: (had?.initial ?? false) || initial, from: had?.from ?? from });
  };
  for (const d of verified) if (d['isVerified'] !== false) add(String(d['id'] ?? ''), d['isInitial'] === true, false, '/domains');
  for (const a of accepted) add(String(a['DomainName'] ?? ''), a['InitialDomain'] === true, a['IsCoexistenceDomain'] === true, 'Exchange Get-AcceptedDomain');
  return out;
}

/**
 * Domains of the tenant that the posture does not declare. Microsoft-managed domains (initial and
 * coexistence) are left out: Microsoft publishes their DNS, so nobody in the organisation can act on
 * a DNS finding for them.
 */
function checkUnmanagedDomains(ev: Evaluation, domains: readonly DesiredDomain[]): void {
  const got = ev.need<[Obj[], Obj[]]>('MAIL.DMARC.1', [
    'domain',
    'acceptedDomain',
  ]);
  if (!got) return;
  const readAt = (from: string) => (from === '/domains' ? ev.live.domains : ev.live.acceptedDomains)!.readAt;
  const declared = new Set(domains.map((d) => d.name));
  for (const [name, d] of tenantDomains(got[0], got[1])) {
    if (declared.has(name) || d.microsoftManaged) continue;
    ev.add({
      control: 'MAIL.DMARC.1', check: 'dmarc-record-present', resource: { type: 'domain', id: name, name }, key: `${name}/unmanaged`,
      status: 'unmanaged', action: 'none', scopes: [{ type: 'domain', value: name }],
      summary: `Domain ${name} of the tenant is not in the posture, so nothing checks that it is protected from spoofing.`,
      evidence: { endpoint: d.from, readAt: readAt(d.from), live: { domain: name } },
      remediation: 'Declare the domain in the posture (sending, or parked with p=reject and v=spf1 -all).',
    });
  }
}
