import { describe, expect, it } from 'vitest';
import { checkDmarcTagValue, parseDmarcRecord, parseDmarcUri, selectDmarcRecord, type DmarcParseResult } from '../../reconciler/dns/dmarc.js';

const errorsOf = (r: DmarcParseResult): string[] => (r.ok ? [] : r.errors.map((e) => e.message));
const warningsOf = (r: DmarcParseResult): string[] => r.warnings.map((w) => w.message);

describe('parseDmarcRecord', () => {
  it('fills RFC 7489 defaults and records which tags were published', () => {
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
        rf: ['afrf'],
        ri: 86400,
        ruf: [],
        rua: [{ uri: 'mailto:dmarc@contoso.example', scheme: 'mailto', address: 'dmarc@contoso.example' }],
        tags: { v: 'DMARC1', p: 'reject', rua: 'mailto:dmarc@contoso.example' },
        unknownTags: {},
        policyFallback: false,
        raw: 'v=DMARC1; p=reject; rua=mailto:dmarc@contoso.example',
      },
      warnings: [],
    });
    if (r.ok) expect(r.record).not.toHaveProperty('sp');
  });

  it('normalises keyword case and whitespace but keeps published values in tags', () => {
    const r = parseDmarcRecord('V = DMARC1 ;\tP=Quarantine ; SP = REJECT; ADKIM=S; aspf=s; fo = D : s; rf=AFRF; pct=050; rua=mailto:a@contoso.example');
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.record).toMatchObject({ p: 'quarantine', sp: 'reject', adkim: 's', aspf: 's', fo: ['d', 's'], rf: ['afrf'], pct: 50 });
    expect(r.record.tags).toMatchObject({ p: 'Quarantine', sp: 'REJECT', fo: 'D : s', pct: '050' });
  });

  it('names the tag, the value and the rule in each error', () => {
    expect(errorsOf(parseDmarcRecord('v=DMARC1; p=reject; pct=150'))).toEqual(['tag "pct": "150" is not an integer from 0 to 100']);
    expect(errorsOf(parseDmarcRecord('v=DMARC1; p=reject; pct='))).toEqual(['tag "pct" has an empty value; expected an integer from 0 to 100']);
    expect(errorsOf(parseDmarcRecord('v=DMARC1; p=reject; ri=-1'))).toEqual(['tag "ri": "-1" is not a whole number of seconds from 0 to 4294967295']);
    expect(errorsOf(parseDmarcRecord('v=DMARC1; p=reject; adkim=relaxed'))).toEqual(['tag "adkim": "relaxed" is not an alignment mode (r for relaxed or s for strict)']);
    expect(errorsOf(parseDmarcRecord('v=DMARC1; p=reject; fo=0:x'))).toEqual(['tag "fo": "0:x" contains "x", which is not a failure-reporting option (0, 1, d or s)']);
    expect(errorsOf(parseDmarcRecord('v=DMARC1; p=reject; np=nones'))).toEqual(['tag "np": "nones" is not a DMARC policy (none, quarantine or reject)']);
  });

  it('reports every bad tag at once', () => {
    expect(errorsOf(parseDmarcRecord('v=DMARC1; p=reject; pct=101; adkim=x; ri=soon'))).toHaveLength(3);
  });

  it('requires p directly after v', () => {
    expect(errorsOf(parseDmarcRecord('v=DMARC1; rua=mailto:a@contoso.example; p=reject'))).toEqual([
      'tag "p" must come directly after "v=DMARC1" (RFC 7489 §6.4); here it is tag 3, after "rua"',
    ]);
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
    expect(errorsOf(parseDmarcRecord('v=DMARC1; p=reject; bogus'))).toEqual(['"bogus" after tag "p" is not a tag=value pair (RFC 7489 §6.3)']);
    expect(errorsOf(parseDmarcRecord('v=DMARC1; p=reject;; pct=100'))[0]).toMatch(/^empty tag after tag "p"/);
    expect(errorsOf(parseDmarcRecord('v=DMARC1; p=reject; 1x=y'))[0]).toMatch(/"1x" in "1x=y" is not a valid tag name/);
  });

  it('accepts one trailing ";" and trailing whitespace', () => {
    expect(parseDmarcRecord('v=DMARC1; p=reject; ').ok).toBe(true);
    expect(parseDmarcRecord('v=DMARC1; p=reject ').ok).toBe(true);
  });

  describe('RFC 7489 §6.6.3 step 6', () => {
    it('reads a record without p but with a valid rua as p=none', () => {
      const r = parseDmarcRecord('v=DMARC1; rua=mailto:a@contoso.example');
      expect(r).toMatchObject({ ok: true, record: { p: 'none', policyFallback: true } });
      expect(r.warnings.find((w) => w.tag === 'p')?.message).toBe(
        'tag "p" is missing; it must follow "v=DMARC1" with none, quarantine or reject (RFC 7489 §6.3); ' +
          'because "rua" holds a valid URI, receivers act as if the record were "v=DMARC1; p=none" (RFC 7489 §6.6.3)',
      );
    });

    it('reads p=reject with an invalid sp and a valid rua as p=none for the domain and its subdomains', () => {
      const r = parseDmarcRecord('v=DMARC1; p=reject; sp=bogus; rua=mailto:a@contoso.example');
      expect(r).toMatchObject({ ok: true, record: { p: 'none', policyFallback: true, tags: { p: 'reject', sp: 'bogus' } } });
      if (r.ok) expect(r.record.sp).toBeUndefined();
    });

    it('makes the same record unusable without rua', () => {
      const r = parseDmarcRecord('v=DMARC1; p=reject; sp=bogus');
      expect(errorsOf(r)).toEqual([
        'tag "sp": "bogus" is not a DMARC policy (none, quarantine or reject); without a valid "rua" receivers apply no DMARC policy (RFC 7489 §6.6.3)',
      ]);
    });

    it('does not rescue a misplaced p', () => {
      expect(parseDmarcRecord('v=DMARC1; rua=mailto:a@contoso.example; p=reject').ok).toBe(false);
    });
  });

  it('warns about what weakens a valid record', () => {
    const r = parseDmarcRecord('v=DMARC1; p=reject; sp=none; pct=25; fo=0:1:1');
    expect(r.ok).toBe(true);
    expect(r.warnings.map((w) => w.tag)).toEqual(['fo', 'fo', 'rua', 'pct', 'sp']);
    expect(warningsOf(r)).toContain(
      'tag "pct": 25 applies p=reject to only 25% of the mail that fails DMARC; receivers apply the next weaker policy to the rest (RFC 7489 §6.6.4)',
    );
    expect(warningsOf(r)).toContain('tag "sp": none leaves subdomains unprotected while the domain itself has p=reject');
  });

  it('keeps unknown tags apart and warns about them', () => {
    const r = parseDmarcRecord('v=DMARC1; p=reject; rua=mailto:a@contoso.example; future_tag=1');
    expect(r).toMatchObject({ ok: true, record: { unknownTags: { future_tag: '1' } } });
    expect(warningsOf(r)).toEqual(['unknown tag "future_tag" is ignored (RFC 7489 §6.3)']);
  });

  it('checks the RFC 9989 tags np, psd and t, and says RFC 7489 receivers ignore them', () => {
    const r = parseDmarcRecord('v=DMARC1; p=reject; np=Quarantine; psd=N; t=y; rua=mailto:a@contoso.example');
    expect(r).toMatchObject({ ok: true, record: { p: 'reject', np: 'quarantine', psd: 'n', t: 'y' } });
    expect(r.warnings.map((w) => w.tag)).toEqual(['np', 'psd', 't']);
    expect(parseDmarcRecord('v=DMARC1; p=reject; t=yes').ok).toBe(false);
  });

  it('accepts the legacy rf=iodef with a warning and rejects unregistered formats', () => {
    expect(warningsOf(parseDmarcRecord('v=DMARC1; p=reject; rua=mailto:a@contoso.example; rf=iodef'))[0]).toMatch(/"iodef" is not in the RFC 7489 registry/);
    expect(errorsOf(parseDmarcRecord('v=DMARC1; p=reject; rf=xml'))).toEqual([
      'tag "rf": "xml" is not a registered failure-report format (afrf); RFC 7489 §6.3 allows only registered formats',
    ]);
  });

  it('warns when rua lists more URIs than receivers must serve', () => {
    const r = parseDmarcRecord('v=DMARC1; p=reject; rua=mailto:a@c.example,mailto:b@c.example,mailto:c@c.example');
    expect(warningsOf(r)).toEqual(['tag "rua": lists 3 URIs; receivers need only send reports to two of them (RFC 7489 §6.2)']);
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
      warnings: [],
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
      '"ftp://contoso.example/dmarc" uses the "ftp" scheme; DMARC reports go to mailto: URIs (RFC 7489 §6.3), or to http: or https: where a receiver supports it',
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
  it('returns no problem for a valid value, an error for an invalid one, a warning for an unknown tag', () => {
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
    expect(checkDmarcTagValue('xyz', 'a')).toEqual([{ tag: 'xyz', severity: 'warning', message: 'unknown tag "xyz" is ignored (RFC 7489 §6.3)' }]);
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
