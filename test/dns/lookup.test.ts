import { describe, expect, it } from 'vitest';
import { discoverDmarc, evaluateDmarc, queryTxt, type TxtResolver } from '../../reconciler/dns/lookup.js';
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

describe('discoverDmarc', () => {
  it('uses the record at the domain itself and asks nothing more', async () => {
    const { discovery, asked } = await discover('contoso.example', { '_dmarc.contoso.example': [`v=DMARC1; p=reject; sp=none; ${RUA}`] });
    expect(asked).toEqual(['_dmarc.contoso.example']);
    expect(discovery).toMatchObject({
      domain: 'contoso.example',
      organizationalDomain: 'contoso.example',
      queried: ['_dmarc.contoso.example'],
      source: 'domain',
      recordText: `v=DMARC1; p=reject; sp=none; ${RUA}`,
      effectivePolicy: 'reject',
      errors: [],
    });
  });

  it('falls back to the organizational domain and applies its sp', async () => {
    const { discovery } = await discover('mail.eu.contoso.example', { '_dmarc.contoso.example': [`v=DMARC1; p=reject; sp=quarantine; ${RUA}`] });
    expect(discovery).toMatchObject({
      domain: 'mail.eu.contoso.example',
      organizationalDomain: 'contoso.example',
      queried: ['_dmarc.mail.eu.contoso.example', '_dmarc.contoso.example'],
      source: 'organizational',
      effectivePolicy: 'quarantine',
    });
  });

  it('applies p of the organizational domain when it has no sp', async () => {
    const { discovery } = await discover('mail.contoso.example', { '_dmarc.contoso.example': [`v=DMARC1; p=reject; ${RUA}`] });
    expect(discovery.effectivePolicy).toBe('reject');
  });

  it('uses the Public Suffix List for the organizational domain', async () => {
    const { asked } = await discover('Mail.Fabrikam.co.uk.', {});
    expect(asked).toEqual(['_dmarc.mail.fabrikam.co.uk', '_dmarc.fabrikam.co.uk']);
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

  it('says why a look-alike record is ignored, and falls back past it', async () => {
    const { discovery } = await discover('mail.contoso.example', {
      '_dmarc.mail.contoso.example': [' v=DMARC1; p=reject'],
      '_dmarc.contoso.example': [`v=DMARC1; p=none; ${RUA}`],
    });
    expect(discovery).toMatchObject({ source: 'organizational', effectivePolicy: 'none' });
    expect(discovery.warnings[0]!.message).toBe(
      'TXT record " v=DMARC1; p=reject" at _dmarc.mail.contoso.example is ignored because it does not start with exactly "v=DMARC1": ' +
        'the record starts with whitespace; receivers ignore records that do not start with "v=DMARC1" (RFC 7489 §6.6.3)',
    );
  });

  it('applies no policy when the domain has two DMARC records, and does not fall back', async () => {
    const { discovery, asked } = await discover('mail.contoso.example', {
      '_dmarc.mail.contoso.example': ['v=DMARC1; p=reject', 'v=DMARC1; p=none'],
      '_dmarc.contoso.example': [`v=DMARC1; p=reject; ${RUA}`],
    });
    expect(asked).toEqual(['_dmarc.mail.contoso.example']);
    expect(discovery).toMatchObject({ source: 'domain', recordTexts: ['v=DMARC1; p=reject', 'v=DMARC1; p=none'] });
    expect(discovery.effectivePolicy).toBeUndefined();
    expect(discovery.errors.map((e) => e.message)).toEqual([
      '_dmarc.mail.contoso.example has 2 DMARC records; with more than one, receivers apply no DMARC policy (RFC 7489 §6.6.3)',
    ]);
  });

  it('applies no policy when the record is invalid, and does not fall back', async () => {
    const { discovery, asked } = await discover('mail.contoso.example', {
      '_dmarc.mail.contoso.example': ['v=DMARC1; p=rejected'],
      '_dmarc.contoso.example': [`v=DMARC1; p=reject; ${RUA}`],
    });
    expect(asked).toHaveLength(1);
    expect(discovery).toMatchObject({ source: 'domain', recordText: 'v=DMARC1; p=rejected' });
    expect(discovery.record).toBeUndefined();
    expect(discovery.errors[0]!.tag).toBe('p');
  });

  it('stops at a DNS failure at the domain: no fallback, no policy', async () => {
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

  it('reports a DNS failure at the organizational domain as a failure, not as no record', async () => {
    const { discovery } = await discover('mail.contoso.example', { '_dmarc.contoso.example': { error: 'ETIMEOUT' } });
    expect(discovery.dnsError).toMatchObject({ name: '_dmarc.contoso.example', code: 'ETIMEOUT' });
    expect(discovery.queried).toEqual(['_dmarc.mail.contoso.example', '_dmarc.contoso.example']);
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
      pct: 100,
      recordName: '_dmarc.contoso.example',
      summary: 'contoso.example has reject for all failing mail (_dmarc.contoso.example)',
      problems: [],
    });
    expect((await discover('contoso.example', at(`v=DMARC1; p=quarantine; sp=none; ${RUA}`))).evaluation).toMatchObject({
      status: 'enforced',
      policy: 'quarantine',
      subdomainPolicy: 'none',
    });
  });

  it('enforced through the organizational domain, which the summary names', async () => {
    const { evaluation } = await discover('mail.contoso.example', at(`v=DMARC1; p=none; sp=reject; ${RUA}`));
    expect(evaluation).toMatchObject({ status: 'enforced', policy: 'reject', recordName: '_dmarc.contoso.example' });
    expect(evaluation.summary).toBe('mail.contoso.example has reject for all failing mail (inherited from _dmarc.contoso.example)');
  });

  it('partial: pct below 100', async () => {
    const { evaluation } = await discover('contoso.example', at(`v=DMARC1; p=reject; pct=50; ${RUA}`));
    expect(evaluation).toMatchObject({ status: 'partial', policy: 'reject', pct: 50 });
    expect(evaluation.problems.map((p) => p.tag)).toEqual(['pct']);
  });

  it('monitoring: p=none, published or by the RFC 7489 §6.6.3 fallback', async () => {
    expect((await discover('contoso.example', at(`v=DMARC1; p=none; ${RUA}`))).evaluation).toMatchObject({ status: 'monitoring', policy: 'none' });
    const { evaluation } = await discover('contoso.example', at(`v=DMARC1; p=reject; sp=rejectt; ${RUA}`));
    expect(evaluation).toMatchObject({ status: 'monitoring', policy: 'none' });
    expect(evaluation.summary).toContain('because the published policy is invalid and rua is valid');
    expect(evaluation.problems[0]!.message).toMatch(/^tag "sp": "rejectt" is not a DMARC policy/);
  });

  it('missing: no record at the domain or its organizational domain', async () => {
    expect((await discover('mail.contoso.example', {})).evaluation).toEqual({
      domain: 'mail.contoso.example',
      status: 'missing',
      summary: 'no DMARC record at _dmarc.mail.contoso.example or _dmarc.contoso.example',
      problems: [],
    });
  });

  it('invalid: records present but none applies', async () => {
    const many = await discover('contoso.example', { '_dmarc.contoso.example': ['v=DMARC1; p=reject', 'v=DMARC1; p=reject'] });
    expect(many.evaluation).toMatchObject({ status: 'invalid', recordName: '_dmarc.contoso.example' });
    expect(many.evaluation.policy).toBeUndefined();
    const broken = await discover('contoso.example', at('v=DMARC1; p=reject; pct=200'));
    expect(broken.evaluation).toMatchObject({
      status: 'invalid',
      summary: 'no DMARC policy applies to contoso.example: tag "pct": "200" is not an integer from 0 to 100',
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
