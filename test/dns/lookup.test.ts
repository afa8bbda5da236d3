import { describe, expect, it } from 'vitest';
import { parseDmarcRecord, type DmarcRecord } from '../../reconciler/dns/dmarc.js';
import { discoverDmarc, evaluateDmarc, MAX_TREE_WALK_QUERIES, organizationalDomainOf, queryTxt, treeWalkNames, type TxtResolver } from '../../reconciler/dns/lookup.js';
import { FakeResolver, type FakeAnswer } from './fake-resolver.js';

const RUA = 'rua=mailto:dmarc@contoso.example';

async function discover(domain: string, zone: Record<string, FakeAnswer>) {
  const resolver = new FakeResolver(zone);
  const discovery = await discoverDmarc(domain, resolver);
  return { discovery, evaluation: evaluateDmarc(discovery), asked: resolver.asked };
}

describe('queryTxt', () => {
  it('reads NXDOMAIN and NODATA as no record', async () => {
    expect(await queryTxt(new FakeResolver({ 'a.example': { error: 'ENODATA' } }), 'a.example')).toEqual({ kind: 'records', rrset: [] });
    expect(await queryTxt(new FakeResolver({}), 'b.example')).toEqual({ kind: 'records', rrset: [] });
  });

  it.each(['ESERVFAIL', 'ETIMEOUT', 'ECONNREFUSED', 'EREFUSED', 'EBADRESP'])('reads %s as a failure, not as no record', async (code) => {
    expect(await queryTxt(new FakeResolver({ 'a.example': { error: code } }), 'a.example')).toEqual({
      kind: 'failure',
      failure: { name: 'a.example', code, message: `queryTxt ${code} a.example` },
    });
  });

  it('reads an error without a code as a failure', async () => {
    const resolver: TxtResolver = { resolveTxt: () => Promise.reject(new Error('socket hang up')) };
    expect(await queryTxt(resolver, 'a.example')).toEqual({ kind: 'failure', failure: { name: 'a.example', code: 'UNKNOWN', message: 'socket hang up' } });
  });
});

describe('treeWalkNames (RFC 9989 "DNS Tree Walk")', () => {
  it('goes up one label at a time from the domain to its top-level label', () => {
    expect(treeWalkNames('a.mail.contoso.example')).toEqual(['a.mail.contoso.example', 'mail.contoso.example', 'contoso.example', 'example']);
    expect(treeWalkNames('example')).toEqual(['example']);
  });

  it('counts labels: 7 labels walk all 7 names, 8 labels all 8', () => {
    const seven = 'a.b.c.d.e.contoso.example';
    expect(treeWalkNames(seven)).toHaveLength(7);
    const eight = 'a.b.c.d.e.f.contoso.example';
    expect(treeWalkNames(eight)).toEqual([eight, 'b.c.d.e.f.contoso.example', 'c.d.e.f.contoso.example', 'd.e.f.contoso.example', 'e.f.contoso.example', 'f.contoso.example', 'contoso.example', 'example']);
  });

  it('shortens a name of more than 8 labels to its last 7 after the first query, so a walk never makes more than 8 queries', () => {
    const long = 'a.b.c.d.e.f.g.h.i.j.mail.example.com';
    expect(treeWalkNames(long)).toEqual([
      long,
      'g.h.i.j.mail.example.com',
      'h.i.j.mail.example.com',
      'i.j.mail.example.com',
      'j.mail.example.com',
      'mail.example.com',
      'example.com',
      'com',
    ]);
    for (const n of [1, 5, 8, 9, 20, 100]) {
      const name = Array.from({ length: n }, (_, k) => `l${k}`).join('.');
      expect(treeWalkNames(name).length, `${n} labels`).toBe(Math.min(n, MAX_TREE_WALK_QUERIES));
    }
  });
});

describe('organizationalDomainOf (RFC 9989 "Identifier Alignment Evaluation")', () => {
  const rec = (at: string, text: string) => ({ at, record: (parseDmarcRecord(text) as { record: DmarcRecord }).record });
  const r = 'v=DMARC1; p=reject; rua=mailto:d@contoso.example';

  it('is the record with the fewest labels when no record has psd', () => {
    expect(organizationalDomainOf('a.mail.contoso.example', [rec('mail.contoso.example', r), rec('contoso.example', r)])).toBe('contoso.example');
  });

  it('is the first record with psd=n', () => {
    expect(organizationalDomainOf('a.mail.contoso.example', [rec('mail.contoso.example', `${r}; psd=n`), rec('contoso.example', r)])).toBe('mail.contoso.example');
  });

  it('is the name one label below a psd=y record, taken from the start when the walk skipped names', () => {
    expect(organizationalDomainOf('a.mail.contoso.example', [rec('example', `${r}; psd=y`)])).toBe('contoso.example');
    const long = 'a.b.c.d.e.f.g.h.i.j.mail.example.com';
    expect(organizationalDomainOf(long, [rec('com', `${r}; psd=y`)])).toBe('example.com');
  });

  it('ignores psd=y at the walk\'s start, and is the start itself when there is no record', () => {
    expect(organizationalDomainOf('bank.example', [rec('bank.example', `${r}; psd=y`)])).toBe('bank.example');
    expect(organizationalDomainOf('mail.contoso.example', [])).toBe('mail.contoso.example');
  });
});

describe('discoverDmarc', () => {
  it('uses the record at the domain itself, and walks on only to name the organizational domain', async () => {
    const { discovery, asked } = await discover('contoso.example', { '_dmarc.contoso.example': [`v=DMARC1; p=reject; sp=none; ${RUA}`] });
    expect(asked).toEqual(['_dmarc.contoso.example', '_dmarc.example']);
    expect(discovery).toMatchObject({
      domain: 'contoso.example',
      organizationalDomain: 'contoso.example',
      queried: ['_dmarc.contoso.example', '_dmarc.example'],
      source: 'domain',
      recordDomain: 'contoso.example',
      recordText: `v=DMARC1; p=reject; sp=none; ${RUA}`,
      effectivePolicy: 'reject',
      errors: [],
    });
  });

  it('asks nothing more when the domain\'s own record says psd=n', async () => {
    const { discovery, asked } = await discover('mail.contoso.example', { '_dmarc.mail.contoso.example': [`v=DMARC1; p=reject; psd=n; ${RUA}`] });
    expect(asked).toEqual(['_dmarc.mail.contoso.example']);
    expect(discovery).toMatchObject({ organizationalDomain: 'mail.contoso.example', effectivePolicy: 'reject' });
  });

  it('keeps the domain\'s own policy when the walk for its organizational domain fails', async () => {
    const { discovery, evaluation } = await discover('mail.contoso.example', {
      '_dmarc.mail.contoso.example': [`v=DMARC1; p=reject; ${RUA}`],
      '_dmarc.contoso.example': { error: 'ESERVFAIL' },
    });
    expect(discovery.dnsError).toBeUndefined();
    expect(discovery.organizationalDomain).toBeUndefined();
    expect(discovery.warnings.map((w) => w.message)).toContain(
      'the DNS query for _dmarc.contoso.example failed (ESERVFAIL), so the organizational domain of mail.contoso.example is unknown; its own record applies',
    );
    expect(evaluation.status).toBe('enforced');
  });

  it('walks up label by label to the organizational domain and applies its sp', async () => {
    const { discovery, asked } = await discover('mail.eu.contoso.example', { '_dmarc.contoso.example': [`v=DMARC1; p=reject; sp=quarantine; ${RUA}`] });
    expect(asked).toEqual(['_dmarc.mail.eu.contoso.example', '_dmarc.eu.contoso.example', '_dmarc.contoso.example', '_dmarc.example']);
    expect(discovery).toMatchObject({
      domain: 'mail.eu.contoso.example',
      organizationalDomain: 'contoso.example',
      source: 'organizational',
      recordDomain: 'contoso.example',
      effectivePolicy: 'quarantine',
    });
  });

  it('applies p of the organizational domain when it has no sp', async () => {
    const { discovery } = await discover('mail.contoso.example', { '_dmarc.contoso.example': [`v=DMARC1; p=reject; ${RUA}`] });
    expect(discovery.effectivePolicy).toBe('reject');
  });

  it('takes the organizational domain from the DNS, not from a list: the highest record wins, an intermediate one does not apply', async () => {
    // A Public Suffix List puts fabrikam.co.uk above mail.fabrikam.co.uk; the walk asks the DNS.
    const { discovery, asked } = await discover('a.mail.fabrikam.co.uk', {
      '_dmarc.mail.fabrikam.co.uk': [`v=DMARC1; p=none; ${RUA}`],
      '_dmarc.fabrikam.co.uk': [`v=DMARC1; p=reject; ${RUA}`],
    });
    expect(asked).toEqual(['_dmarc.a.mail.fabrikam.co.uk', '_dmarc.mail.fabrikam.co.uk', '_dmarc.fabrikam.co.uk', '_dmarc.co.uk', '_dmarc.uk']);
    expect(discovery).toMatchObject({ organizationalDomain: 'fabrikam.co.uk', source: 'organizational', effectivePolicy: 'reject' });
  });

  it('stops at psd=n: that domain is the organizational domain', async () => {
    const { discovery, asked } = await discover('a.mail.contoso.example', {
      '_dmarc.mail.contoso.example': [`v=DMARC1; p=quarantine; psd=n; ${RUA}`],
      '_dmarc.contoso.example': [`v=DMARC1; p=reject; ${RUA}`],
    });
    expect(asked).toEqual(['_dmarc.a.mail.contoso.example', '_dmarc.mail.contoso.example']);
    expect(discovery).toMatchObject({ organizationalDomain: 'mail.contoso.example', source: 'organizational', effectivePolicy: 'quarantine' });
  });

  it('stops at psd=y: the organizational domain is one label below, and its record applies', async () => {
    const { discovery, asked } = await discover('mail.giant.bank.example', {
      '_dmarc.giant.bank.example': [`v=DMARC1; p=reject; ${RUA}`],
      '_dmarc.bank.example': [`v=DMARC1; p=none; psd=y; ${RUA}`],
    });
    expect(asked).toEqual(['_dmarc.mail.giant.bank.example', '_dmarc.giant.bank.example', '_dmarc.bank.example']);
    expect(discovery).toMatchObject({ organizationalDomain: 'giant.bank.example', source: 'organizational', recordDomain: 'giant.bank.example', effectivePolicy: 'reject' });
  });

  it('applies the public suffix domain\'s record when the organizational domain publishes none', async () => {
    const { discovery, evaluation } = await discover('mail.mega.bank.example', { '_dmarc.bank.example': [`v=DMARC1; p=reject; sp=quarantine; psd=y; ${RUA}`] });
    expect(discovery).toMatchObject({ organizationalDomain: 'mega.bank.example', source: 'public-suffix', recordDomain: 'bank.example', effectivePolicy: 'quarantine' });
    expect(evaluation.summary).toBe('mail.mega.bank.example has quarantine for all failing mail (inherited from _dmarc.bank.example, the public suffix domain)');
  });

  it('makes at most 8 queries for a name of 13 labels, skipping the labels between', async () => {
    const long = 'a.b.c.d.e.f.g.h.i.j.mail.contoso.example';
    const { discovery, asked } = await discover(long, { '_dmarc.contoso.example': [`v=DMARC1; p=reject; ${RUA}`] });
    expect(asked).toHaveLength(MAX_TREE_WALK_QUERIES);
    expect(asked.slice(0, 2)).toEqual([`_dmarc.${long}`, '_dmarc.g.h.i.j.mail.contoso.example']);
    expect(discovery).toMatchObject({ organizationalDomain: 'contoso.example', effectivePolicy: 'reject' });
  });

  it('passes by several records, or an invalid one, above the domain, with a warning', async () => {
    const { discovery } = await discover('a.mail.contoso.example', {
      '_dmarc.mail.contoso.example': ['v=DMARC1; p=reject', 'v=DMARC1; p=none'],
      '_dmarc.contoso.example': ['v=DMARC1; p=rejected'],
      '_dmarc.example': [`v=DMARC1; p=quarantine; ${RUA}`],
    });
    expect(discovery).toMatchObject({ organizationalDomain: 'example', recordDomain: 'example', effectivePolicy: 'quarantine' });
    expect(discovery.warnings.map((w) => w.message)).toEqual([
      '_dmarc.mail.contoso.example has 2 DMARC records, so the DNS tree walk discards them (RFC 9989 "DNS Tree Walk")',
      'the DMARC record at _dmarc.contoso.example is not valid, so the DNS tree walk passes it by: tag "p": "rejected" is not a DMARC policy (none, quarantine or reject); without a valid "rua" receivers apply no DMARC policy (RFC 9989 "DMARC Policy Discovery")',
    ]);
  });

  it('treats NODATA at the domain like no record', async () => {
    const { discovery } = await discover('mail.contoso.example', {
      '_dmarc.mail.contoso.example': { error: 'ENODATA' },
      '_dmarc.contoso.example': [`v=DMARC1; p=reject; ${RUA}`],
    });
    expect(discovery.source).toBe('organizational');
  });

  it('joins the character-strings of a record', async () => {
    const { discovery } = await discover('contoso.example', { '_dmarc.contoso.example': [['v=DMARC1; p=qua', `rantine; ${RUA}`]] });
    expect(discovery.effectivePolicy).toBe('quarantine');
  });

  it('ignores TXT records that are not DMARC records, with a warning', async () => {
    const { discovery } = await discover('contoso.example', { '_dmarc.contoso.example': ['verification=123', `v=DMARC1; p=reject; ${RUA}`] });
    expect(discovery.effectivePolicy).toBe('reject');
    expect(discovery.warnings.map((w) => w.message)).toEqual(['TXT record "verification=123" at _dmarc.contoso.example is not a DMARC record and is ignored']);
  });

  it('says why a look-alike record is ignored, and walks on past it', async () => {
    const { discovery } = await discover('mail.contoso.example', {
      '_dmarc.mail.contoso.example': [' v=DMARC1; p=reject'],
      '_dmarc.contoso.example': [`v=DMARC1; p=none; ${RUA}`],
    });
    expect(discovery).toMatchObject({ source: 'organizational', effectivePolicy: 'none' });
    expect(discovery.warnings[0]!.message).toBe(
      'TXT record " v=DMARC1; p=reject" at _dmarc.mail.contoso.example is ignored because it does not start with exactly "v=DMARC1": ' +
        'the record starts with whitespace; receivers ignore records that do not start with "v=DMARC1" (RFC 9989 "DNS Tree Walk")',
    );
  });

  it('applies no policy when the domain has two DMARC records, and does not look past them', async () => {
    const { discovery, asked } = await discover('mail.contoso.example', {
      '_dmarc.mail.contoso.example': ['v=DMARC1; p=reject', 'v=DMARC1; p=none'],
      '_dmarc.contoso.example': [`v=DMARC1; p=reject; ${RUA}`],
    });
    expect(asked).toEqual(['_dmarc.mail.contoso.example']);
    expect(discovery).toMatchObject({ source: 'domain', recordTexts: ['v=DMARC1; p=reject', 'v=DMARC1; p=none'] });
    expect(discovery.effectivePolicy).toBeUndefined();
    expect(discovery.errors.map((e) => e.message)).toEqual([
      '_dmarc.mail.contoso.example has 2 DMARC records; receivers discard them all, so the domain\'s own policy does not apply (RFC 9989 "DNS Tree Walk")',
    ]);
  });

  it('applies no policy when the record is invalid, and does not look past it', async () => {
    const { discovery, asked } = await discover('mail.contoso.example', {
      '_dmarc.mail.contoso.example': ['v=DMARC1; p=rejected'],
      '_dmarc.contoso.example': [`v=DMARC1; p=reject; ${RUA}`],
    });
    expect(asked).toHaveLength(1);
    expect(discovery).toMatchObject({ source: 'domain', recordText: 'v=DMARC1; p=rejected' });
    expect(discovery.record).toBeUndefined();
    expect(discovery.errors[0]!.tag).toBe('p');
  });

  it('stops at a DNS failure at the domain: no walk, no policy', async () => {
    const { discovery, asked } = await discover('mail.contoso.example', {
      '_dmarc.mail.contoso.example': { error: 'ESERVFAIL' },
      '_dmarc.contoso.example': [`v=DMARC1; p=reject; ${RUA}`],
    });
    expect(asked).toEqual(['_dmarc.mail.contoso.example']);
    expect(discovery).toMatchObject({
      source: 'none',
      dnsError: { name: '_dmarc.mail.contoso.example', code: 'ESERVFAIL', message: 'queryTxt ESERVFAIL _dmarc.mail.contoso.example' },
    });
    expect(discovery.effectivePolicy).toBeUndefined();
  });

  it('reports a DNS failure on the walk as a failure, not as no record', async () => {
    const { discovery } = await discover('mail.contoso.example', { '_dmarc.contoso.example': { error: 'ETIMEOUT' } });
    expect(discovery.dnsError).toMatchObject({ name: '_dmarc.contoso.example', code: 'ETIMEOUT' });
    expect(discovery.queried).toEqual(['_dmarc.mail.contoso.example', '_dmarc.contoso.example']);
    expect(discovery.organizationalDomain).toBeUndefined();
  });

  it('refuses a name that is not a domain', async () => {
    await expect(discoverDmarc('192.0.2.1', new FakeResolver({}))).rejects.toThrow(RangeError);
  });
});

describe('evaluateDmarc', () => {
  const at = (record: string) => ({ '_dmarc.contoso.example': [record] });

  it('enforced: reject or quarantine for all failing mail', async () => {
    expect((await discover('contoso.example', at(`v=DMARC1; p=reject; ${RUA}`))).evaluation).toEqual({
      domain: 'contoso.example',
      status: 'enforced',
      policy: 'reject',
      subdomainPolicy: 'reject',
      nonExistentSubdomainPolicy: 'reject',
      pct: 100,
      testing: false,
      recordName: '_dmarc.contoso.example',
      summary: 'contoso.example has reject for all failing mail (_dmarc.contoso.example)',
      problems: [],
    });
    expect((await discover('contoso.example', at(`v=DMARC1; p=quarantine; sp=none; ${RUA}`))).evaluation).toMatchObject({
      status: 'enforced',
      policy: 'quarantine',
      subdomainPolicy: 'none',
      nonExistentSubdomainPolicy: 'none',
    });
    expect((await discover('contoso.example', at(`v=DMARC1; p=reject; np=quarantine; ${RUA}`))).evaluation).toMatchObject({ nonExistentSubdomainPolicy: 'quarantine' });
  });

  it('enforced through the organizational domain, which the summary names', async () => {
    const { evaluation } = await discover('mail.contoso.example', at(`v=DMARC1; p=none; sp=reject; ${RUA}`));
    expect(evaluation).toMatchObject({ status: 'enforced', policy: 'reject', recordName: '_dmarc.contoso.example' });
    expect(evaluation.summary).toBe('mail.contoso.example has reject for all failing mail (inherited from _dmarc.contoso.example, the organizational domain)');
  });

  it('partial: testing mode (t=y), which has receivers apply the policy one level below', async () => {
    const { evaluation } = await discover('contoso.example', at(`v=DMARC1; p=reject; t=y; ${RUA}`));
    expect(evaluation).toMatchObject({ status: 'partial', policy: 'reject', testing: true, pct: 100 });
    expect(evaluation.summary).toBe('contoso.example has reject in testing mode (t=y) (_dmarc.contoso.example): receivers apply quarantine to failing mail instead');
    expect((await discover('contoso.example', at(`v=DMARC1; p=reject; t=n; ${RUA}`))).evaluation).toMatchObject({ status: 'enforced', testing: false });
    expect((await discover('contoso.example', at(`v=DMARC1; p=none; t=y; ${RUA}`))).evaluation).toMatchObject({ status: 'monitoring' });
  });

  it('partial: the historic pct below 100', async () => {
    const { evaluation } = await discover('contoso.example', at(`v=DMARC1; p=reject; pct=50; ${RUA}`));
    expect(evaluation).toMatchObject({ status: 'partial', policy: 'reject', pct: 50, testing: false });
    expect(evaluation.problems.map((p) => p.tag)).toEqual(['pct', 'pct']);
  });

  it('monitoring: p=none, published or by the fallback', async () => {
    expect((await discover('contoso.example', at(`v=DMARC1; p=none; ${RUA}`))).evaluation).toMatchObject({ status: 'monitoring', policy: 'none' });
    const { evaluation } = await discover('contoso.example', at(`v=DMARC1; p=reject; sp=rejectt; ${RUA}`));
    expect(evaluation).toMatchObject({ status: 'monitoring', policy: 'none' });
    expect(evaluation.summary).toContain('because the published policy is invalid and rua is valid');
    expect(evaluation.problems[0]!.message).toMatch(/^tag "sp": "rejectt" is not a DMARC policy/);
  });

  it('missing: no record at the domain or on its tree walk', async () => {
    expect((await discover('mail.contoso.example', {})).evaluation).toEqual({
      domain: 'mail.contoso.example',
      status: 'missing',
      summary: 'no DMARC record at _dmarc.mail.contoso.example or _dmarc.contoso.example or _dmarc.example',
      problems: [],
    });
  });

  it('invalid: records present but none applies', async () => {
    const many = await discover('contoso.example', { '_dmarc.contoso.example': ['v=DMARC1; p=reject', 'v=DMARC1; p=reject'] });
    expect(many.evaluation).toMatchObject({ status: 'invalid', recordName: '_dmarc.contoso.example' });
    expect(many.evaluation.policy).toBeUndefined();
    const broken = await discover('contoso.example', at('v=DMARC1; p=reject; adkim=x'));
    expect(broken.evaluation).toMatchObject({
      status: 'invalid',
      summary: 'no DMARC policy applies to contoso.example: tag "adkim": "x" is not an alignment mode (r for relaxed or s for strict)',
    });
  });

  it('error: a DNS failure leaves the policy unknown', async () => {
    const { evaluation } = await discover('contoso.example', { '_dmarc.contoso.example': { error: 'ECONNREFUSED' } });
    expect(evaluation).toEqual({
      domain: 'contoso.example',
      status: 'error',
      summary: 'the DNS query for _dmarc.contoso.example failed (ECONNREFUSED), so the DMARC policy of contoso.example is unknown',
      problems: [],
    });
  });
});
