/**
 * The DMARC parser against the shared reference vectors: 245 cases from the test suites of six
 * independent implementations, read at run time from shared/reference/ beside the repository.
 * Every vector's verdict must match, except the few listed in DEVIATIONS (the vectors decided
 * against) and in RFC9989_ANSWERS (where RFC 9989 answers otherwise than the vector, which follows
 * RFC 7489 or an implementation's own reading), each of which must really disagree and be explained
 * in docs/dmarc-parsing.md.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  checkDmarcTagValue,
  parseDmarcRecord,
  parseDmarcUri,
  selectDmarcRecord,
  type DmarcRecord,
  type DmarcUri,
  type RecordProblem,
} from '../../reconciler/dns/dmarc.js';

const VECTORS_URL = new URL('../../../shared/reference/dmarc-vectors.json', import.meta.url);
const DOC_URL = new URL('../../docs/dmarc-parsing.md', import.meta.url);

const vectorSchema = z
  .object({
    id: z.string().regex(/^dmarc-\d{3}$/),
    source: z.string(),
    test: z.string(),
    kind: z.enum(['record', 'txtRecordSet', 'tagValue', 'tagSet', 'reportUri']),
    record: z.string().nullable().optional(),
    txtRecords: z.array(z.union([z.string(), z.array(z.string())])).optional(),
    tag: z.string().optional(),
    value: z.string().optional(),
    tags: z.record(z.string(), z.string()).optional(),
    valid: z.boolean(),
    expectedTags: z.record(z.string(), z.unknown()).optional(),
    expectedTagsAbsent: z.array(z.string()).optional(),
    expectedError: z.string().optional(),
    expectedWarningsContain: z.array(z.string()).optional(),
    specBasis: z.enum(['RFC7489', 'RFC9989', 'RFC7489+RFC9989', 'implementation-specific']),
    notes: z.string().optional(),
    pendingInSource: z.boolean().optional(),
  })
  .strict();
type Vector = z.infer<typeof vectorSchema>;

const vectors: Vector[] = z.array(vectorSchema).parse(JSON.parse(readFileSync(VECTORS_URL, 'utf8')));
const byId = new Map(vectors.map((v) => [v.id, v]));

/**
 * Vectors this parser decides against, each with the reason (the same line is in docs/dmarc-parsing.md).
 * Each one conflicts with other vectors or with RFC 7489; RFC 7489 decides.
 */
const DEVIATIONS: Record<string, string> = {
  'dmarc-008': 'an invalid `p` with a valid `rua` is read as p=none (RFC 9989 "DMARC Policy Discovery", as RFC 7489 §6.6.3 step 6), as mox reads an invalid `sp` (dmarc-118)',
  'dmarc-048': 'a TXT record at `_dmarc` that does not start with `v=DMARC1` is discarded (RFC 9989 "DNS Tree Walk", RFC 7489 §6.6.3), as mailauth and mox do (dmarc-067, dmarc-123)',
  'dmarc-061': 'a bare `tagonly` is not a tag=value pair (RFC 9989 "Formal Definition", RFC 6376 §3.2); mox rejects `bogus;` (dmarc-125)',
  'dmarc-132': 'a trailing `;;` is an empty tag that neither the RFC 9989 nor the RFC 7489 grammar allows; mox rejects `v=DMARC1;;` (dmarc-093)',
  'dmarc-137': 'the backslashes make the version `DMARC1\\`, and RFC 9989 requires exactly `DMARC1`, as for `DMARC1x` (dmarc-068)',
  'dmarc-148': 'the version value is case-sensitive (RFC 9989 "Formal Definition", RFC 7489 §6.4), as mox and mailauth hold (dmarc-066, dmarc-086)',
  'dmarc-244': 'a record with neither `p` nor a valid `rua` gets no DMARC processing (RFC 9989 "DMARC Policy Discovery"), as dmarc-078 holds for RFC 9989 too; psd does not stand in for p',
};
const MAX_DEVIATIONS = 16;

/**
 * Vectors where RFC 9989 gives another answer than the vector, which follows RFC 7489 or an
 * implementation's own reading: RFC 9989's answer (the verdict, and for a valid record the tags, in
 * the vector's representation, that differ), with the reason. The same line is in
 * docs/dmarc-parsing.md, "Where RFC 9989 differs from RFC 7489".
 */
const RFC9989_ANSWERS: Record<string, { valid: boolean; tags?: Record<string, unknown>; reason: string }> = {
  'dmarc-059': {
    valid: true,
    tags: { pct: 100 },
    reason: '`pct=invalid` is a historic tag with an invalid value: RFC 9989 receivers ignore it, so all failing mail gets p=reject (mailauth reads it as pct=0)',
  },
  'dmarc-090': { valid: true, reason: '`sp` before `p` is allowed: RFC 9989 requires only that `v` comes first (RFC 7489 §6.3 wanted `p` second)' },
};


/** Vectors whose expected warning this parser also gives: the tag it concerns and what the message says. */
const EXPECTED_WARNINGS: Record<string, { tag: string; says: RegExp }> = {
  'dmarc-015': { tag: 'pct', says: /pct tag was removed in RFC 9989/ },
  'dmarc-016': { tag: 'rf', says: /rf tag was removed in RFC 9989/ },
  'dmarc-017': { tag: 'ri', says: /ri tag was removed in RFC 9989/ },
  'dmarc-018': { tag: 'p', says: /p=none/ },
  'dmarc-020': { tag: 'rua', says: /no aggregate reports/ },
  'dmarc-022': { tag: 'pct', says: /\b50\b/ },
  'dmarc-026': { tag: 'xyz', says: /unknown tag "xyz"/ },
  'dmarc-028': { tag: 'pct', says: /pct tag was removed in RFC 9989/ },
  'dmarc-029': { tag: 'pct', says: /pct tag was removed in RFC 9989/ },
  'dmarc-030': { tag: 'pct', says: /pct tag was removed in RFC 9989/ },
  'dmarc-031': { tag: 'pct', says: /pct tag was removed in RFC 9989/ },
  'dmarc-032': { tag: 'ri', says: /ri tag was removed in RFC 9989/ },
  'dmarc-035': { tag: 'rf', says: /rf tag was removed in RFC 9989/ },
  'dmarc-033': { tag: 'fo', says: /redundant/ },
  'dmarc-036': { tag: 'sp', says: /none leaves subdomains unprotected/ },
  'dmarc-038': { tag: 'p', says: /does not come directly after "v=DMARC1"/ },
  'dmarc-042': { tag: 'rua', says: /size limit "!10m" of "mailto:dmarc@example.com" is obsolete in RFC 9989/ },
  'dmarc-043': { tag: 'rua', says: /3 URIs/ },
  'dmarc-135': { tag: 'pct', says: /tag "pct" has an empty value/ },
  'dmarc-044': { tag: 'ruf', says: /3 URIs/ },
};

/** Vectors whose expected warning is outside what a record parser reports, and why. */
const WARNINGS_NOT_CHECKED: Record<string, string> = {
  'dmarc-037': 'it needs to know the domain is parked, which the record does not say; the reconciler checks that against the manifest',
  'dmarc-045': 'it needs an MX lookup of the report domain; the parser does no DNS',
};

/** Historic tags (RFC 7489 defined them, RFC 9989 removed them): kept in `tags`, as published, since RFC 7489 receivers still read pct. */
const KEPT_RFC7489_TAGS = ['pct', 'rf', 'ri'];

interface Verdict {
  valid: boolean;
  record?: DmarcRecord;
  uri?: DmarcUri;
  warnings: RecordProblem[];
}

function fromText(text: string): Verdict {
  const r = parseDmarcRecord(text);
  return r.ok ? { valid: true, record: r.record, warnings: r.warnings } : { valid: false, warnings: r.warnings };
}

function fromRrset(records: Array<string | string[]>): Verdict {
  const selection = selectDmarcRecord(records.map((r) => (typeof r === 'string' ? [r] : r)));
  return selection.kind === 'one' ? fromText(selection.text) : { valid: false, warnings: [] };
}

/** This parser's verdict on a vector, by kind. */
function verdict(v: Vector): Verdict {
  switch (v.kind) {
    case 'record':
      return fromText(v.record!);
    case 'txtRecordSet':
      return fromRrset(v.txtRecords!);
    case 'tagValue': {
      const problems = checkDmarcTagValue(v.tag!, v.value!);
      return { valid: !problems.some((p) => p.severity === 'error'), warnings: problems };
    }
    case 'tagSet':
      return fromText(Object.entries(v.tags!).map(([k, value]) => `${k}=${value}`).join('; '));
    case 'reportUri': {
      const r = parseDmarcUri(v.record!);
      return r.ok ? { valid: true, uri: r.uri, warnings: [] } : { valid: false, warnings: [] };
    }
  }
}

const modeWord = (m: 'r' | 's'): string => (m === 's' ? 'strict' : 'relaxed');

/**
 * Each implementation's test asserts tags in its own representation. These functions render our
 * record the same way, key by key, so that only real differences fail:
 * - checkdmarc: `{ value, explicit }`, explicit meaning literally present, with RFC 9989 defaults
 *   (np from sp from p, psd u, t n) for absent np, psd and t.
 * - mailauth: tag values as published (pct and ri as numbers), `rr` the raw record; its RFC 9989
 *   compliance tests assert results instead: `policy`, adkim as relaxed/strict, `rrContains`.
 * - mox: the applied policy, lists for fo and rf, URIs with the mailto: scheme and the size as number and unit.
 * - stalwart: adkim and aspf as relaxed/strict, fo flags in the order 0, 1, d, s, sp defaulting to p
 *   and np to sp, URIs without mailto: and percent-decoded (it drops the whitespace this yields), sizes
 *   in bytes (0 = none), psd `default` when absent, t as boolean.
 * - Mail::DMARC: tag values as published, pct as a number.
 */
const PROJECTIONS: Record<string, (record: DmarcRecord, key: string, expected: unknown, v: Vector) => unknown> = {
  'domainaware/checkdmarc': (record, key, expected) => {
    const value = { np: record.np ?? record.sp ?? record.p, psd: record.psd ?? 'u', t: record.t ?? 'n' }[key] ?? record[key as keyof DmarcRecord];
    return { value, ...('explicit' in (expected as object) ? { explicit: key in record.tags } : {}) };
  },
  'postalsys/mailauth': (record, key, expected, v) => {
    if (v.source.includes('rfc9989-compliance-test')) {
      if (key === 'policy') return record.p;
      if (key === 'adkim') return modeWord(record.adkim);
      if (key === 'rrContains') return record.raw.includes(expected as string) ? expected : record.raw;
    }
    if (key === 'rr') return record.raw;
    if (key === 'pct') return record.pct;
    if (key === 'ri') return record.tags.ri === undefined ? 86400 : Number(record.tags.ri);
    return record.tags[key];
  },
  'mjl-/mox': (record, key) => {
    // mox parses RFC 7489: the historic ri and rf as published, with RFC 7489's defaults when absent.
    if (key === 'ri') return record.tags.ri === undefined ? 86400 : Number(record.tags.ri);
    if (key === 'rf') return record.tags.rf === undefined ? ['afrf'] : record.tags.rf.split(/[ \t]*:[ \t]*/);
    if (key === 'rua' || key === 'ruf') {
      return record[key].map((u) => {
        const size = /^(\d+)([kmgt]?)$/.exec(u.maxSize ?? '');
        return size ? { address: u.uri, maxSize: Number(size[1]), unit: size[2] } : { address: u.uri };
      });
    }
    return record[key as keyof DmarcRecord];
  },
  'stalwartlabs/mail-auth': (record, key) => {
    switch (key) {
      case 'adkim':
      case 'aspf':
        return modeWord(record[key]);
      case 'fo':
        return ['0', '1', 'd', 's'].filter((o) => (record.fo as string[]).includes(o)).join(':');
      case 'sp':
        return record.sp ?? record.p;
      case 'np':
        return record.np ?? record.sp ?? record.p;
      case 'rua':
      case 'ruf':
        return record[key].map((u) => ({ uri: (u.address ?? u.uri).replace(/\s/g, ''), maxSize: u.maxBytes ?? 0 }));
      case 'psd':
        return record.psd ?? 'default';
      case 't':
        return record.t === 'y';
      default:
        return record[key as keyof DmarcRecord];
    }
  },
  'msimerson/mail-dmarc': (record, key) => (key === 'pct' ? record.pct : record.tags[key]),
};

function project(v: Vector, result: Verdict): Record<string, unknown> {
  const expected = v.expectedTags!;
  if (v.kind === 'reportUri') {
    const u = result.uri!;
    const all: Record<string, unknown> = { scheme: u.scheme, address: u.address, size_limit: u.maxSize === undefined ? null : '(not None)' };
    return Object.fromEntries(Object.keys(expected).map((k) => [k, all[k]]));
  }
  const repo = v.source.split(':')[0]!;
  const projection = PROJECTIONS[repo];
  if (!projection) throw new Error(`no tag projection for ${repo}`);
  return Object.fromEntries(Object.entries(expected).map(([k, e]) => [k, projection(result.record!, k, e, v)]));
}

const agreeing = vectors.filter((v) => !(v.id in DEVIATIONS) && !(v.id in RFC9989_ANSWERS));

describe('DMARC reference vectors', () => {
  it('reads all 245 vectors of the six implementations', () => {
    expect(vectors).toHaveLength(245);
    expect(new Set(vectors.map((v) => v.id)).size).toBe(245);
    expect(new Set(vectors.map((v) => v.source.split(':')[0])).size).toBe(Object.keys(PROJECTIONS).length);
  });

  it.each(agreeing.map((v) => [v.id, v] as const))('%s: verdict matches the vector', (_id, v) => {
    const r = verdict(v);
    expect(r.valid, `${v.kind} ${JSON.stringify(v.record ?? v.tags ?? v.txtRecords ?? `${v.tag}=${v.value}`)}`).toBe(v.valid);
  });

  it('gives the same verdict for a record as for the TXT RRset it came from', () => {
    for (const v of vectors.filter((x) => x.kind === 'record' && x.txtRecords && !(x.id in DEVIATIONS) && !(x.id in RFC9989_ANSWERS))) {
      expect(fromRrset(v.txtRecords!).valid, v.id).toBe(verdict(v).valid);
    }
  });

  describe('vectors decided against', () => {
    it(`stay few: at most ${MAX_DEVIATIONS}, each an existing vector`, () => {
      expect(Object.keys(DEVIATIONS).length).toBeLessThanOrEqual(MAX_DEVIATIONS);
      for (const id of Object.keys(DEVIATIONS)) expect(byId.has(id), id).toBe(true);
    });

    it.each(Object.entries(DEVIATIONS))('%s really disagrees with the vector', (id) => {
      const v = byId.get(id)!;
      expect(verdict(v).valid).toBe(!v.valid);
    });

    it('are exactly the ones docs/dmarc-parsing.md lists, with the same reasons', () => {
      const rows = readFileSync(DOC_URL, 'utf8')
        .split('\n')
        .map((line) => /^\| (dmarc-\d{3}) \| (.+) \|$/.exec(line))
        .filter((m) => m !== null)
        .map((m) => [m[1], m[2]]);
      expect(Object.fromEntries(rows)).toEqual(DEVIATIONS);
      expect(rows).toHaveLength(Object.keys(DEVIATIONS).length);
    });
  });

  describe('where RFC 9989 answers otherwise', () => {
    it.each(Object.entries(RFC9989_ANSWERS))('%s: gives the RFC 9989 answer, which the vector does not', (id, answer) => {
      const v = byId.get(id)!;
      const r = verdict(v);
      expect(r.valid).toBe(answer.valid);
      if (answer.tags) {
        const tags = project({ ...v, expectedTags: answer.tags }, r);
        expect(tags).toEqual(answer.tags);
        expect(project(v, r)).not.toEqual(v.expectedTags);
      } else {
        expect(v.valid).toBe(!answer.valid);
      }
    });

    it('are exactly the ones docs/dmarc-parsing.md lists, with the same reasons', () => {
      const doc = readFileSync(DOC_URL, 'utf8');
      const section = doc.slice(doc.indexOf('### Where RFC 9989 differs from RFC 7489'));
      const rows = section
        .split('\n')
        .map((line) => /^- (dmarc-\d{3}): (.+)$/.exec(line))
        .filter((m) => m !== null)
        .map((m) => [m[1], m[2]]);
      expect(Object.fromEntries(rows)).toEqual(Object.fromEntries(Object.entries(RFC9989_ANSWERS).map(([id, a]) => [id, a.reason])));
      expect(rows).toHaveLength(Object.keys(RFC9989_ANSWERS).length);
    });
  });

  it.each(agreeing.filter((v) => v.valid && v.expectedTags).map((v) => [v.id, v] as const))('%s: parsed tags match', (_id, v) => {
    expect(project(v, verdict(v))).toEqual(v.expectedTags);
  });

  it('leaves unknown tags out of the parsed tags, and keeps the historic pct, rf and ri as published', () => {
    const checked = agreeing.filter((v) => v.expectedTagsAbsent);
    expect(checked.map((v) => v.id)).toEqual(['dmarc-026', 'dmarc-028', 'dmarc-029', 'dmarc-030', 'dmarc-031', 'dmarc-032', 'dmarc-035']);
    for (const v of checked) {
      const { record } = verdict(v);
      for (const tag of v.expectedTagsAbsent!) {
        if (KEPT_RFC7489_TAGS.includes(tag)) expect(record!.tags, v.id).toHaveProperty(tag);
        else {
          expect(record!.tags, v.id).not.toHaveProperty(tag);
          expect(record!.unknownTags, v.id).toHaveProperty(tag);
        }
      }
    }
  });

  it('mox records that also lack p stay invalid with p=none added, so the tag each test names is rejected on its own; a historic tag is ignored', () => {
    const confounded = vectors.filter((v) => v.notes?.includes('the tag-value error is not isolated'));
    expect(confounded.length).toBeGreaterThan(20);
    const historic = new RegExp(`^v=DMARC1; (?:${KEPT_RFC7489_TAGS.join('|')})=`);
    for (const v of confounded) {
      if (v.id === 'dmarc-085') continue; // "v=DMARC1": the missing ";" it tests is what adding p supplies
      const [version, ...rest] = v.record!.split(';');
      const withP = rest.length ? [version, ' p=none', ...rest].join(';') : `${version}; p=none`;
      // RFC 9989 removed pct, rf and ri: a bad value of one is a warning, and the record with p is valid.
      expect(parseDmarcRecord(withP).ok, `${v.id}: ${withP}`).toBe(historic.test(v.record!));
    }
  });

  it('every vector expecting a warning is either checked or explained', () => {
    for (const v of vectors.filter((x) => x.expectedWarningsContain)) {
      const places = [v.id in EXPECTED_WARNINGS, v.id in WARNINGS_NOT_CHECKED, v.id in DEVIATIONS || v.id in RFC9989_ANSWERS].filter(Boolean);
      expect(places, v.id).toHaveLength(1);
    }
  });

  it.each(Object.entries(EXPECTED_WARNINGS))('%s: warns as the vector expects', (id, { tag, says }) => {
    const r = verdict(byId.get(id)!);
    expect(r.valid).toBe(true);
    expect(r.warnings.filter((w) => w.tag === tag).map((w) => w.message)).toContainEqual(expect.stringMatching(says));
  });
});
