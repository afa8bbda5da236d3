import { describe, expect, it } from 'vitest';
import { checkDmarcTagValue, parseDmarcRecord, parseDmarcUri, selectDmarcRecord, type DmarcParseResult } from '../../reconciler/dns/dmarc.js';

const errorsOf = (r: DmarcParseResult): string[] => (r.ok ? [] : r.errors.map((e) => e.message));
const warningsOf = (r: DmarcParseResult): string[] => r.warnings.map((w) => w.message);

describe('parseDmarcRecord', () => {
  it('fills RFC 9989 defaults and records which tags were published', () => {
    const r = parseDmarcRecord('v=DMARC1; p=reject; rua=mailto:dmarc@contoso.example');
    expect(r).toMatchObject({
      ok: true,
      record: {
        v: 'DMARC1',
        p: 'reject',
        pct: 100,
        adkim: 'r',
        aspf: 'r',
        fo: ['0'],
        ruf: [],
        rua: [{ uri: 'mailto:dmarc@contoso.example', scheme: 'mailto', address: 'dmarc@contoso.example' }],
        tags: { v: 'DMARC1', p: 'reject', rua: 'mailto:dmarc@contoso.example' },
        unknownTags: {},
        policyFallback: false,
        raw: 'v=DMARC1; p=reject; rua=mailto:dmarc@contoso.example',
      },
      warnings: [],
    });
    if (r.ok) {
      for (const tag of ['sp', 'np', 'psd', 't', 'rf', 'ri']) expect(r.record).not.toHaveProperty(tag);
    }
  });

  it('normalises keyword case and whitespace but keeps published values in tags', () => {
    const r = parseDmarcRecord('V = DMARC1 ;\tP=Quarantine ; SP = REJECT; ADKIM=S; aspf=s; fo = D : s; rf=AFRF; pct=050; rua=mailto:a@contoso.example');
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.record).toMatchObject({ p: 'quarantine', sp: 'reject', adkim: 's', aspf: 's', fo: ['d', 's'], pct: 50 });
    expect(r.record.tags).toMatchObject({ p: 'Quarantine', sp: 'REJECT', fo: 'D : s', pct: '050', rf: 'AFRF' });
  });

  it('names the tag, the value and the rule in each error', () => {
    expect(errorsOf(parseDmarcRecord('v=DMARC1; p=reject; adkim=relaxed'))).toEqual(['tag "adkim": "relaxed" is not an alignment mode (r for relaxed or s for strict)']);
    expect(errorsOf(parseDmarcRecord('v=DMARC1; p=reject; fo=0:x'))).toEqual(['tag "fo": "0:x" contains "x", which is not a failure-reporting option (0, 1, d or s)']);
    expect(errorsOf(parseDmarcRecord('v=DMARC1; p=reject; psd=yes'))).toEqual(['tag "psd": "yes" is not a public-suffix flag (y, n or u)']);
    expect(errorsOf(parseDmarcRecord('v=DMARC1; p=reject; t=1'))).toEqual(['tag "t": "1" is not a testing flag (y or n)']);
  });

  it('reports every bad tag at once', () => {
    expect(errorsOf(parseDmarcRecord('v=DMARC1; p=reject; psd=x; adkim=x; t=soon'))).toHaveLength(3);
  });

  it('accepts p anywhere after v (RFC 9989), warning that RFC 7489 receivers reject it', () => {
    const r = parseDmarcRecord('v=DMARC1; rua=mailto:a@contoso.example; p=reject');
    expect(r).toMatchObject({ ok: true, record: { p: 'reject', policyFallback: false } });
    expect(warningsOf(r)).toEqual([
      'tag "p" does not come directly after "v=DMARC1" (here it follows "rua"): RFC 9989 allows it, but receivers that implement RFC 7489 (§6.4) reject the record; put p second',
    ]);
  });

  describe('historic tags (pct, rf, ri)', () => {
    it('never make a record invalid: an invalid value is a warning to remove the tag', () => {
      const r = parseDmarcRecord('v=DMARC1; p=reject; rua=mailto:a@contoso.example; pct=150; ri=-1; rf=xml');
      expect(r).toMatchObject({ ok: true, record: { p: 'reject', pct: 100, tags: { pct: '150', ri: '-1', rf: 'xml' } } });
      expect(warningsOf(r)).toEqual([
        'tag "pct": "150" is not an integer from 0 to 100; the pct tag was removed in RFC 9989 (t=y replaces pct=0), so RFC 9989 receivers ignore it, and RFC 7489 receivers read such a value in different ways: remove the tag',
        'tag "ri": "-1" is not a whole number of seconds from 0 to 4294967295; the ri tag was removed in RFC 9989, so RFC 9989 receivers ignore it, and RFC 7489 receivers read such a value in different ways: remove the tag',
        'tag "rf": "xml" is not a registered failure-report format (afrf); RFC 7489 §6.3 allows only registered formats; the rf tag was removed in RFC 9989, so RFC 9989 receivers ignore it, and RFC 7489 receivers read such a value in different ways: remove the tag',
      ]);
      expect(parseDmarcRecord('v=DMARC1; p=reject; pct=').ok).toBe(true);
    });

    it('read a valid pct, which RFC 7489 receivers still apply, and say RFC 9989 removed each', () => {
      const r = parseDmarcRecord('v=DMARC1; p=reject; rua=mailto:a@contoso.example; pct=0; ri=3600; rf=afrf');
      expect(r).toMatchObject({ ok: true, record: { pct: 0 } });
      expect(r.warnings.map((w) => w.tag)).toEqual(['pct', 'ri', 'rf', 'pct']);
      expect(warningsOf(r)[0]).toBe('tag "pct": the pct tag was removed in RFC 9989 (t=y replaces pct=0); receivers that follow RFC 9989 ignore it');
    });
  });

  it('rejects a repeated tag once, however often it repeats', () => {
    expect(errorsOf(parseDmarcRecord('v=DMARC1; p=none; p=reject; p=quarantine'))).toEqual([
      'tag "p" appears more than once; each tag may be given only once (RFC 6376 §3.2)',
    ]);
  });

  it('explains why a text is not a DMARC record at all', () => {
    expect(errorsOf(parseDmarcRecord(''))).toEqual(['the record is empty; a DMARC record starts with "v=DMARC1"']);
    expect(errorsOf(parseDmarcRecord(' v=DMARC1; p=reject'))[0]).toMatch(/^the record starts with whitespace/);
    expect(errorsOf(parseDmarcRecord('v=spf1 -all'))[0]).toMatch(/^this is an SPF record/);
    expect(errorsOf(parseDmarcRecord('p=reject; v=DMARC1'))).toEqual(['the record must start with "v=DMARC1"; it starts with "p=reject; v=DMARC1"']);
    expect(errorsOf(parseDmarcRecord('v=dmarc1; p=reject'))[0]).toContain('case-sensitive');
    expect(errorsOf(parseDmarcRecord('v=DMARC1 p=reject'))[0]).toContain('is a ";" missing after "DMARC1"?');
    expect(errorsOf(parseDmarcRecord('v=DMARC1\\; p=reject\\;'))[0]).toContain('zone-file escaping');
  });

  it('rejects what is not a tag=value list: a bare word, an empty tag, a bad tag name', () => {
    expect(errorsOf(parseDmarcRecord('v=DMARC1; p=reject; bogus'))).toEqual(['"bogus" after tag "p" is not a tag=value pair (RFC 9989 "Formal Definition")']);
    expect(errorsOf(parseDmarcRecord('v=DMARC1; p=reject;; adkim=s'))[0]).toMatch(/^empty tag after tag "p"/);
    expect(errorsOf(parseDmarcRecord('v=DMARC1; p=reject; 1x=y'))[0]).toMatch(/"1x" in "1x=y" is not a valid tag name/);
  });

  it('accepts one trailing ";" and trailing whitespace', () => {
    expect(parseDmarcRecord('v=DMARC1; p=reject; ').ok).toBe(true);
    expect(parseDmarcRecord('v=DMARC1; p=reject ').ok).toBe(true);
  });

  describe('RFC 9989 "DMARC Policy Discovery": no valid p, or an invalid sp or np', () => {
    it('reads a record without p but with a valid rua as p=none', () => {
      const r = parseDmarcRecord('v=DMARC1; rua=mailto:a@contoso.example');
      expect(r).toMatchObject({ ok: true, record: { p: 'none', policyFallback: true } });
      expect(r.warnings.find((w) => w.tag === 'p')?.message).toBe(
        'tag "p" is missing; a DMARC record gives its policy as p=none, quarantine or reject; ' +
          'because "rua" holds a valid URI, receivers act as if the record were "v=DMARC1; p=none" (RFC 9989 "DMARC Policy Discovery")',
      );
    });

    it('reads an invalid np with a valid rua as p=none, and without rua as unusable', () => {
      const r = parseDmarcRecord('v=DMARC1; p=reject; np=bogus; rua=mailto:a@contoso.example');
      expect(r).toMatchObject({ ok: true, record: { p: 'none', policyFallback: true } });
      if (r.ok) expect(r.record.np).toBeUndefined();
      expect(parseDmarcRecord('v=DMARC1; p=reject; np=bogus').ok).toBe(false);
    });

    it('reads p=reject with an invalid sp and a valid rua as p=none for the domain and its subdomains', () => {
      const r = parseDmarcRecord('v=DMARC1; p=reject; sp=bogus; rua=mailto:a@contoso.example');
      expect(r).toMatchObject({ ok: true, record: { p: 'none', policyFallback: true, tags: { p: 'reject', sp: 'bogus' } } });
      if (r.ok) expect(r.record.sp).toBeUndefined();
    });

    it('makes the same record unusable without rua', () => {
      const r = parseDmarcRecord('v=DMARC1; p=reject; sp=bogus');
      expect(errorsOf(r)).toEqual([
        'tag "sp": "bogus" is not a DMARC policy (none, quarantine or reject); without a valid "rua" receivers apply no DMARC policy (RFC 9989 "DMARC Policy Discovery")',
      ]);
    });
  });

  it('warns about what weakens a valid record', () => {
    const r = parseDmarcRecord('v=DMARC1; p=reject; sp=none; np=none; t=y; pct=25; fo=0:1:1');
    expect(r.ok).toBe(true);
    expect(r.warnings.map((w) => w.tag)).toEqual(['pct', 'fo', 'fo', 'rua', 't', 'pct', 'sp']);
    expect(warningsOf(r)).toContain(
      'tag "pct": 25 applies p=reject to only 25% of the mail that fails DMARC at receivers that implement RFC 7489, which apply the next weaker policy to the rest (RFC 7489 §6.6.4)',
    );
    expect(warningsOf(r)).toContain('tag "t": y is testing mode: receivers apply quarantine instead of p=reject to mail that fails DMARC (RFC 9989 "DMARC Policy Record Format")');
    expect(warningsOf(r)).toContain('tag "sp": none leaves subdomains unprotected while the domain itself has p=reject');
    expect(warningsOf(parseDmarcRecord('v=DMARC1; p=reject; np=none; rua=mailto:a@contoso.example'))).toEqual([
      'tag "np": none leaves non-existent subdomains unprotected while existing ones have p=reject',
    ]);
  });

  it('keeps unknown tags apart and warns about them', () => {
    const r = parseDmarcRecord('v=DMARC1; p=reject; rua=mailto:a@contoso.example; future_tag=1');
    expect(r).toMatchObject({ ok: true, record: { unknownTags: { future_tag: '1' } } });
    expect(warningsOf(r)).toEqual(['unknown tag "future_tag" is ignored (RFC 9989 "DMARC Policy Record Format")']);
  });

  it('reads the RFC 9989 tags np, psd and t', () => {
    const r = parseDmarcRecord('v=DMARC1; p=reject; np=Quarantine; psd=N; t=n; rua=mailto:a@contoso.example');
    expect(r).toMatchObject({ ok: true, record: { p: 'reject', np: 'quarantine', psd: 'n', t: 'n' } });
    expect(r.warnings).toEqual([]);
    expect(parseDmarcRecord('v=DMARC1; p=reject; t=yes').ok).toBe(false);
  });

  it('warns when rua lists more URIs than RFC 7489 receivers must serve', () => {
    const r = parseDmarcRecord('v=DMARC1; p=reject; rua=mailto:a@c.example,mailto:b@c.example,mailto:c@c.example');
    expect(warningsOf(r)).toEqual(['tag "rua": lists 3 URIs; receivers that implement RFC 7489 need only send reports to two of them (RFC 7489 §6.2)']);
  });

  it('rejects the record when one report URI is bad, naming it', () => {
    expect(errorsOf(parseDmarcRecord('v=DMARC1; p=none; rua=mailto:a@contoso.example,reports@contoso.example'))).toEqual([
      'tag "rua": "reports@contoso.example" is not a URI: it has no scheme (write "mailto:reports@contoso.example")',
    ]);
  });
});

describe('parseDmarcUri', () => {
  it('splits off the size limit; units are powers of two', () => {
    expect(parseDmarcUri('mailto:dmarc@contoso.example!10m')).toEqual({
      ok: true,
      uri: { uri: 'mailto:dmarc@contoso.example', scheme: 'mailto', address: 'dmarc@contoso.example', maxSize: '10m', maxBytes: 10 * 2 ** 20 },
      warnings: ['the size limit "!10m" of "mailto:dmarc@contoso.example" is obsolete in RFC 9989, and receivers ignore it; publish the URI without it'],
    });
    expect(parseDmarcUri('mailto:d@contoso.example!2G')).toMatchObject({ ok: true, uri: { maxSize: '2g', maxBytes: 2 * 2 ** 30 } });
    expect(parseDmarcUri('mailto:d@contoso.example!500')).toMatchObject({ ok: true, uri: { maxSize: '500', maxBytes: 500 } });
  });

  it('decodes the mailto address', () => {
    expect(parseDmarcUri('MAILTO:dmarc%2Breports@contoso.example')).toMatchObject({ ok: true, uri: { scheme: 'mailto', address: 'dmarc+reports@contoso.example' } });
  });

  it('accepts whitespace inside the size limit with a warning', () => {
    const r = parseDmarcUri('mailto:d@contoso.example ! 10 K');
    expect(r).toMatchObject({ ok: true, uri: { maxSize: '10k', maxBytes: 10240 } });
    expect(r.ok && r.warnings).toEqual([
      'whitespace in the size limit of "mailto:d@contoso.example ! 10 K" is not allowed by RFC 7489 §6.4; write "mailto:d@contoso.example!10k"',
      'the size limit "!10k" of "mailto:d@contoso.example" is obsolete in RFC 9989, and receivers ignore it; publish the URI without it',
    ]);
  });

  it('accepts http and https with a warning', () => {
    const r = parseDmarcUri('https://reports.contoso.example/dmarc');
    expect(r).toMatchObject({ ok: true, uri: { scheme: 'https' } });
    expect(r.ok && r.warnings[0]).toMatch(/not a mailto: URI/);
  });

  it.each([
    ['not_a_valid_uri', '"not_a_valid_uri" is not a URI (a report URI looks like mailto:dmarc-reports@example.com)'],
    ['__mailto:a@contoso.example', '"__mailto:a@contoso.example" is not a URI: "__mailto" is not a valid scheme name'],
    [
      'ftp://contoso.example/dmarc',
      '"ftp://contoso.example/dmarc" uses the "ftp" scheme; DMARC reports go to mailto: URIs (RFC 9989 "DMARC Policy Record Format"), or to http: or https: where a receiver supports it',
    ],
    ['mailto:nobody', '"mailto:nobody" has no valid email address after "mailto:"'],
    ['mailto:a b@contoso.example', '"mailto:a b@contoso.example" contains " ", which a URI cannot contain unencoded; write it as %20'],
    ['mailto:a@contoso.example!', 'size limit "!" of "mailto:a@contoso.example" is not a number with an optional unit k, m, g or t'],
    ['mailto:a@contoso.example!10p', 'size limit "!10p" of "mailto:a@contoso.example" is not a number with an optional unit k, m, g or t'],
    ['https:reports', '"https:reports" has no host after "https://"'],
  ])('rejects %s', (text, message) => {
    expect(parseDmarcUri(text)).toEqual({ ok: false, message });
  });
});

describe('checkDmarcTagValue', () => {
  it('returns no problem for a valid value, an error for an invalid one (a historic tag by RFC 7489), a warning for an unknown tag', () => {
    expect(checkDmarcTagValue('P', 'REJECT')).toEqual([]);
    expect(checkDmarcTagValue('pct', '1.0')).toEqual([{ tag: 'pct', severity: 'error', message: 'tag "pct": "1.0" is not an integer from 0 to 100' }]);
    expect(checkDmarcTagValue('ri', '4294967296')[0]?.severity).toBe('error');
    expect(checkDmarcTagValue('fo', '0:1')).toEqual([
      {
        tag: 'fo',
        severity: 'warning',
        message: 'tag "fo": "0" is redundant next to "1": "1" asks for a report when any mechanism fails, which includes when all fail',
      },
    ]);
    expect(checkDmarcTagValue('xyz', 'a')).toEqual([{ tag: 'xyz', severity: 'warning', message: 'unknown tag "xyz" is ignored (RFC 9989 "DMARC Policy Record Format")' }]);
  });
});

describe('selectDmarcRecord', () => {
  it('joins the character-strings of each record without a separator', () => {
    expect(selectDmarcRecord([['v=DMARC1; p=re', 'ject']])).toEqual({ kind: 'one', text: 'v=DMARC1; p=reject', ignored: [] });
  });

  it('ignores records that do not start with v=DMARC1, keeping them for the report', () => {
    expect(selectDmarcRecord([['google-site-verification=abc'], ['V = DMARC1; p=none'], ['v=DMARC1x; p=reject'], ['v=dmarc1; p=reject']])).toEqual({
      kind: 'one',
      text: 'V = DMARC1; p=none',
      ignored: ['google-site-verification=abc', 'v=DMARC1x; p=reject', 'v=dmarc1; p=reject'],
    });
    expect(selectDmarcRecord([[' v=DMARC1; p=reject']])).toEqual({ kind: 'none', ignored: [' v=DMARC1; p=reject'] });
    expect(selectDmarcRecord([])).toEqual({ kind: 'none', ignored: [] });
  });

  it('returns every DMARC record when there is more than one', () => {
    expect(selectDmarcRecord([['v=DMARC1; p=reject'], ['v=DMARC1; p=none']])).toEqual({
      kind: 'many',
      texts: ['v=DMARC1; p=reject', 'v=DMARC1; p=none'],
      ignored: [],
    });
  });
});
