import { describe, expect, it } from 'vitest';
import { domainSpecProblem, evaluateSpf, parseSpfRecord, selectSpfRecord, type SpfParseResult } from '../../reconciler/dns/spf.js';
import { FakeResolver, type FakeAnswer } from './fake-resolver.js';

const errorsOf = (r: SpfParseResult): string[] => (r.ok ? [] : r.errors.map((e) => e.message));
const warningsOf = (r: SpfParseResult): string[] => r.warnings.map((w) => w.message);

async function evaluate(domain: string, zone: Record<string, FakeAnswer>, options = {}) {
  const resolver = new FakeResolver(zone);
  return { result: await evaluateSpf(domain, resolver, options), asked: resolver.asked };
}

describe('selectSpfRecord', () => {
  it('picks the record starting with v=spf1 and a space or the end, in any case', () => {
    expect(selectSpfRecord([['google-site-verification=x'], ['V=SPF1 -all']])).toEqual({ kind: 'one', text: 'V=SPF1 -all', ignored: ['google-site-verification=x'] });
    expect(selectSpfRecord([['v=spf1']])).toMatchObject({ kind: 'one', text: 'v=spf1' });
    expect(selectSpfRecord([['v=spf10 -all'], ['v=spf1-all'], [' v=spf1 -all']])).toMatchObject({ kind: 'none' });
  });

  it('joins character-strings and returns all records when there is more than one', () => {
    expect(selectSpfRecord([['v=spf1 include:_spf.contoso.', 'example -all']])).toMatchObject({ kind: 'one', text: 'v=spf1 include:_spf.contoso.example -all' });
    expect(selectSpfRecord([['v=spf1 -all'], ['v=spf1 ~all']])).toEqual({ kind: 'many', texts: ['v=spf1 -all', 'v=spf1 ~all'], ignored: [] });
  });
});

describe('parseSpfRecord', () => {
  it('parses mechanisms with their qualifiers, modifiers and the final all', () => {
    const r = parseSpfRecord('v=spf1 ip4:192.0.2.0/24 ip6:2001:db8::/32 include:spf.protection.outlook.com ?mx ~ALL exp=explain.contoso.example');
    expect(r).toEqual({
      ok: true,
      record: {
        raw: 'v=spf1 ip4:192.0.2.0/24 ip6:2001:db8::/32 include:spf.protection.outlook.com ?mx ~ALL exp=explain.contoso.example',
        terms: [
          { kind: 'mechanism', qualifier: '+', name: 'ip4', value: '192.0.2.0/24', text: 'ip4:192.0.2.0/24' },
          { kind: 'mechanism', qualifier: '+', name: 'ip6', value: '2001:db8::/32', text: 'ip6:2001:db8::/32' },
          { kind: 'mechanism', qualifier: '+', name: 'include', value: 'spf.protection.outlook.com', text: 'include:spf.protection.outlook.com' },
          { kind: 'mechanism', qualifier: '?', name: 'mx', text: '?mx' },
          { kind: 'mechanism', qualifier: '~', name: 'all', text: '~ALL' },
          { kind: 'modifier', name: 'exp', value: 'explain.contoso.example', text: 'exp=explain.contoso.example' },
        ],
        all: '~',
        exp: 'explain.contoso.example',
        lookupTerms: 2,
      },
      warnings: [],
    });
  });

  it('counts include, a, mx, ptr, exists and an applicable redirect as lookups', () => {
    const r = parseSpfRecord('v=spf1 a a:mail.contoso.example/24//64 mx/24 ptr exists:%{i}.spf.contoso.example include:a.example ip4:192.0.2.1 redirect=b.example');
    expect(r).toMatchObject({ ok: true, record: { lookupTerms: 7, redirect: 'b.example' } });
    expect(r.ok && r.record.all).toBeUndefined();
  });

  it('accepts an empty record (neutral) and extra spaces', () => {
    expect(parseSpfRecord('v=spf1')).toMatchObject({ ok: true, record: { terms: [], lookupTerms: 0 } });
    expect(parseSpfRecord('v=spf1  mx   -all ')).toMatchObject({ ok: true, record: { all: '-', lookupTerms: 1 } });
  });

  it.each([
    ['v=spf1 foo -all', 'unknown mechanism "foo"; receivers return permerror for it (RFC 7208 §5)'],
    ['v=spf1 ip4:192.0.2.300 -all', 'term "ip4:192.0.2.300": "192.0.2.300" is not an IPv4 address or network'],
    ['v=spf1 ip4:192.0.2.0/33 -all', 'term "ip4:192.0.2.0/33": prefix length /33 is not from 0 to 32'],
    ['v=spf1 ip6:2001:db8::zz -all', 'term "ip6:2001:db8::zz": "2001:db8::zz" is not an IPv6 address or network'],
    ['v=spf1 include -all', 'term "include": "include" needs a domain ("include:example.com")'],
    ['v=spf1 include:localhost -all', 'term "include:localhost": "localhost" is not a fully qualified domain name'],
    ['v=spf1 a:mail..contoso.example -all', 'term "a:mail..contoso.example": "mail..contoso.example" has an empty label'],
    ['v=spf1 mx/40 -all', 'term "mx/40": IPv4 prefix length /40 is not from 0 to 32'],
    ['v=spf1 all:x', 'term "all:x": "all" takes no argument'],
    ['v=spf1 exists:%{x}.contoso.example', 'term "exists:%{x}.contoso.example": "%{x}" is not a valid macro'],
    ['v=spf1 exists:%{c}.contoso.example', 'term "exists:%{c}.contoso.example": macro "%{c}" may only be used in exp= (RFC 7208 §7.2)'],
    ['v=spf1 redirect=a.example redirect=b.example', '"redirect=" appears more than once; receivers return permerror (RFC 7208 §6)'],
    ['v=spf1 mx\t-all', 'term "mx\\t-all" contains a character other than printable ASCII; terms are separated by spaces'],
  ])('rejects %j', (record, message) => {
    expect(errorsOf(parseSpfRecord(record))).toEqual([message]);
  });

  it('rejects a text that is not an SPF record', () => {
    expect(errorsOf(parseSpfRecord('v=DMARC1; p=reject'))).toEqual(['the record does not start with "v=spf1" followed by a space: "v=DMARC1; p=reject"']);
  });

  it('warns about ptr, terms after all, a redirect that all overrides, and unknown modifiers', () => {
    const r = parseSpfRecord('v=spf1 ptr -all mx redirect=other.example foo=bar');
    expect(r).toMatchObject({ ok: true, record: { all: '-', lookupTerms: 1 } });
    expect(r.ok && r.record.redirect).toBeUndefined();
    expect(warningsOf(r)).toEqual([
      'unknown modifier "foo" is ignored (RFC 7208 §6)',
      '"ptr": the ptr mechanism should not be used (RFC 7208 §5.5); it is slow and unreliable',
      'terms after "-all" are never evaluated: mx',
      '"redirect=other.example" is ignored because the record has an "all" mechanism (RFC 7208 §6.1)',
    ]);
  });

  it('points out a mechanism written with "="', () => {
    const r = parseSpfRecord('v=spf1 include=spf.contoso.example -all');
    expect(r).toMatchObject({ ok: true, record: { lookupTerms: 0 } });
    expect(warningsOf(r)).toEqual(['"include=spf.contoso.example" is read as an unknown modifier and ignored; the mechanism is written "include:spf.contoso.example"']);
  });

  it('checks domain-specs with macros', () => {
    expect(domainSpecProblem('%{ir}.%{v}._spf.%{d2}')).toBeUndefined();
    expect(domainSpecProblem('_spf.contoso.example.')).toBeUndefined();
    expect(domainSpecProblem('%{l1r-}.contoso.example')).toBeUndefined();
    expect(domainSpecProblem('100%.contoso.example')).toBe('"%" must start a macro ("%{...}", "%%", "%_" or "%-")');
    expect(domainSpecProblem('contoso.123')).toBe('"contoso.123" does not end in a valid top-level label');
  });
});

describe('evaluateSpf', () => {
  it.each([
    ['v=spf1 mx -all', 'hardfail', '-'],
    ['v=spf1 mx ~all', 'softfail', '~'],
    ['v=spf1 mx ?all', 'neutral', '?'],
    ['v=spf1 mx +all', 'permissive', '+'],
    ['v=spf1 mx all', 'permissive', '+'],
  ])('%s is %s', async (record, status, all) => {
    const { result } = await evaluate('contoso.example', { 'contoso.example': [record] });
    expect(result).toEqual({ domain: 'contoso.example', status, all, record, errors: [], warnings: [], lookups: 1, queried: ['contoso.example'] });
  });

  it('is neutral without all and without redirect (RFC 7208 §4.7)', async () => {
    const { result } = await evaluate('contoso.example', { 'contoso.example': ['v=spf1 ip4:192.0.2.1'] });
    expect(result.status).toBe('neutral');
    expect(result.all).toBeUndefined();
  });

  it('follows includes, counting their lookups, while the all of the domain decides', async () => {
    const { result, asked } = await evaluate('contoso.example', {
      'contoso.example': ['v=spf1 include:spf.protection.outlook.com include:_spf.mailer.example -all'],
      'spf.protection.outlook.com': ['v=spf1 ip4:40.92.0.0/15 include:spfd.protection.outlook.com -all'],
      'spfd.protection.outlook.com': ['v=spf1 ip4:51.4.72.0/24 -all'],
      '_spf.mailer.example': ['v=spf1 a mx ?all'],
    });
    expect(asked).toEqual(['contoso.example', 'spf.protection.outlook.com', 'spfd.protection.outlook.com', '_spf.mailer.example']);
    expect(result).toMatchObject({ status: 'hardfail', lookups: 5, errors: [] });
  });

  it('takes the all of the redirect target', async () => {
    const { result } = await evaluate('contoso.example', {
      'contoso.example': ['v=spf1 ip4:192.0.2.1 redirect=_spf.contoso.example'],
      '_spf.contoso.example': ['v=spf1 mx ~all'],
    });
    expect(result).toMatchObject({ status: 'softfail', all: '~', lookups: 2, record: 'v=spf1 ip4:192.0.2.1 redirect=_spf.contoso.example' });
  });

  it('is missing when the domain has no SPF record', async () => {
    expect((await evaluate('contoso.example', { 'contoso.example': ['verification=1'] })).result).toMatchObject({ status: 'missing', errors: [] });
    expect((await evaluate('contoso.example', {})).result.status).toBe('missing');
    expect((await evaluate('contoso.example', { 'contoso.example': { error: 'ENODATA' } })).result.status).toBe('missing');
  });

  it('is invalid with two SPF records', async () => {
    const { result } = await evaluate('contoso.example', { 'contoso.example': ['v=spf1 -all', 'v=spf1 mx -all'] });
    expect(result.status).toBe('invalid');
    expect(result.errors).toEqual([{ severity: 'error', message: 'contoso.example has 2 SPF records; receivers return permerror (RFC 7208 §4.5)' }]);
  });

  it('is invalid when the record or an included record has a syntax error', async () => {
    expect((await evaluate('contoso.example', { 'contoso.example': ['v=spf1 mx:/99 -all'] })).result.status).toBe('invalid');
    const { result } = await evaluate('contoso.example', {
      'contoso.example': ['v=spf1 include:_spf.mailer.example -all'],
      '_spf.mailer.example': ['v=spf1 ipv4:192.0.2.1 -all'],
    });
    expect(result.status).toBe('invalid');
    expect(result.errors[0]!.message).toBe('_spf.mailer.example (via contoso.example): unknown mechanism "ipv4"; receivers return permerror for it (RFC 7208 §5)');
  });

  it('is invalid when an include or redirect target has no SPF record', async () => {
    const include = await evaluate('contoso.example', { 'contoso.example': ['v=spf1 include:gone.example -all'] });
    expect(include.result).toMatchObject({ status: 'invalid' });
    expect(include.result.errors[0]!.message).toBe('"include:gone.example": gone.example has no SPF record, so receivers return permerror (RFC 7208 §5.2)');
    const redirect = await evaluate('contoso.example', { 'contoso.example': ['v=spf1 redirect=gone.example'], 'gone.example': ['not spf'] });
    expect(redirect.result.errors[0]!.message).toBe('"redirect=gone.example": gone.example has no SPF record, so receivers return permerror (RFC 7208 §6.1)');
  });

  it('detects include loops, including a domain that includes itself', async () => {
    const loop = await evaluate('a.example', { 'a.example': ['v=spf1 include:b.example -all'], 'b.example': ['v=spf1 include:A.example. -all'] });
    expect(loop.result.status).toBe('invalid');
    expect(loop.result.errors[0]!.message).toBe(
      'b.example (via a.example): "include:A.example." loops: a.example → b.example → a.example; receivers return permerror',
    );
    const self = await evaluate('a.example', { 'a.example': ['v=spf1 redirect=a.example'] });
    expect(self.result.status).toBe('invalid');
  });

  it('allows 10 DNS lookups and is invalid at 11, reporting the total', async () => {
    const zone = (n: number): Record<string, FakeAnswer> => ({
      'contoso.example': [`v=spf1 include:i.example ${Array.from({ length: n - 2 }, () => 'a').join(' ')} -all`],
      'i.example': ['v=spf1 mx -all'],
    });
    expect((await evaluate('contoso.example', zone(10))).result).toMatchObject({ status: 'hardfail', lookups: 10 });
    const over = (await evaluate('contoso.example', zone(13))).result;
    expect(over).toMatchObject({ status: 'invalid', lookups: 13 });
    expect(over.errors.map((e) => e.message)).toEqual([
      'SPF for contoso.example needs 13 DNS lookups; RFC 7208 §4.6.4 allows 10, and receivers return permerror at lookup 11 ("a" in the SPF record of contoso.example)',
    ]);
    expect((await evaluate('contoso.example', zone(13), { maxLookups: 20 })).result.status).toBe('hardfail');
  });

  it('stops counting at a failure past the limit and says the total is a lower bound', async () => {
    const includes = Array.from({ length: 12 }, (_, i) => `include:i${i}.example`).join(' ');
    const zone: Record<string, FakeAnswer> = { 'contoso.example': [`v=spf1 ${includes} -all`] };
    for (let i = 0; i < 12; i++) zone[`i${i}.example`] = ['v=spf1 -all'];
    zone['i11.example'] = { error: 'ESERVFAIL' };
    const { result } = await evaluate('contoso.example', zone);
    expect(result.status).toBe('invalid');
    expect(result.dnsError).toBeUndefined();
    expect(result.errors[0]!.message).toMatch(/^SPF for contoso\.example needs at least 12 DNS lookups/);
  });

  it('reports a DNS failure as an error, never as missing, at the domain or in an include', async () => {
    const top = await evaluate('contoso.example', { 'contoso.example': { error: 'ETIMEOUT' } });
    expect(top.result).toMatchObject({ status: 'error', dnsError: { name: 'contoso.example', code: 'ETIMEOUT' } });
    const nested = await evaluate('contoso.example', { 'contoso.example': ['v=spf1 include:_spf.mailer.example -all'], '_spf.mailer.example': { error: 'ESERVFAIL' } });
    expect(nested.result).toMatchObject({ status: 'error', dnsError: { name: '_spf.mailer.example', code: 'ESERVFAIL' }, errors: [] });
  });

  it('counts but does not follow targets that use macros', async () => {
    const { result, asked } = await evaluate('contoso.example', { 'contoso.example': ['v=spf1 include:%{ir}.%{v}._spf.contoso.example -all'] });
    expect(asked).toEqual(['contoso.example']);
    expect(result).toMatchObject({ status: 'hardfail', lookups: 1 });
    expect(result.warnings[0]!.message).toBe('"include:%{ir}.%{v}._spf.contoso.example" uses macros, which depend on the message; it is counted but not followed');
  });

  it('prefixes warnings from included records with where they come from', async () => {
    const { result } = await evaluate('contoso.example', { 'contoso.example': ['v=spf1 include:_spf.mailer.example -all'], '_spf.mailer.example': ['v=spf1 ptr ~all'] });
    expect(result.warnings.map((w) => w.message)).toEqual([
      '_spf.mailer.example (via contoso.example): "ptr": the ptr mechanism should not be used (RFC 7208 §5.5); it is slow and unreliable',
    ]);
  });
});
