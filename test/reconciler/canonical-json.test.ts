import canonicalize from 'canonicalize';
import { describe, expect, it } from 'vitest';
import { canonicalJson, canonicalJsonV1, NotCanonicalJsonError, sameJson, wellFormed } from '../../reconciler/core/json.js';

/** The canonical JSON version 0.1.0 hashed evidence records with, as it was released. */
function released(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map((v) => (v === undefined ? 'null' : released(v))).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const obj = value as Record<string, unknown>;
    return `{${Object.keys(obj)
      .sort()
      .filter((k) => obj[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${released(obj[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** The one version 0.1.0 hashed plans and manifests with, as it was released. */
function releasedPlanForm(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(releasedPlanForm).join(',')}]`;
  if (value && typeof value === 'object') {
    return `{${Object.keys(value as object)
      .sort()
      .filter((k) => (value as Record<string, unknown>)[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${releasedPlanForm((value as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value);
}

/** A small deterministic generator of JSON values as JSON.parse gives them, with awkward strings and numbers. */
function* jsonValues(count: number): Generator<unknown> {
  let seed = 12345;
  const next = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  const pieces = ['a', 'B', 'é', '€', '\u0000', '\n', '"', '\\', '/', '\u2028', '\u202e', '\ud83d\ude00', '\ufb33', '\u0080', '1', ' ', '@odata.type', '__proto__', 'ﬀ'];
  const numbers = [0, -0, 1, -1, 0.1, 1e21, 1e-7, 123456789012345680000, 333333333.3333333, 4.5, 2e-3, 1e-27, Number.MAX_SAFE_INTEGER, Number.MIN_VALUE, 5e-324, 1.7976931348623157e308];
  const str = () => Array.from({ length: Math.floor(next() * 5) }, () => pieces[Math.floor(next() * pieces.length)]).join('');
  const gen = (depth: number): unknown => {
    const r = next();
    if (depth > 3 || r < 0.3) return [null, true, false, str(), numbers[Math.floor(next() * numbers.length)]][Math.floor(next() * 5)];
    if (r < 0.6) return Array.from({ length: Math.floor(next() * 4) }, () => gen(depth + 1));
    return JSON.parse(JSON.stringify(Object.fromEntries(Array.from({ length: Math.floor(next() * 5) }, () => [str(), gen(depth + 1)])))) as unknown;
  };
  for (let i = 0; i < count; i++) yield gen(0);
}

describe('canonicalJson: RFC 8785', () => {
  it('writes the RFC’s own example exactly', () => {
    const input = JSON.parse('{"numbers":[333333333.33333329,1E30,4.50,2e-3,0.000000000000000000000000001],"string":"\\u20ac$\\u000F\\u000aA\'\\u0042\\u0022\\u005c\\\\\\"\\/","literals":[null,true,false]}') as unknown;
    expect(canonicalJson(input)).toBe('{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],"string":"€$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}');
  });

  it('sorts keys by UTF-16 code units, as the RFC’s sorting example', () => {
    const input = { '\u20ac': 'Euro Sign', '\r': 'Carriage Return', '\ufb33': 'Hebrew Letter Dalet With Dagesh', '1': 'One', '\ud83d\ude00': 'Emoji: Grinning Face', '\u0080': 'Control', '\u00f6': 'Latin Small Letter O With Diaeresis' };
    expect(Object.values(JSON.parse(canonicalJson(input)) as object)).toEqual(['One', 'Carriage Return', 'Control', 'Latin Small Letter O With Diaeresis', 'Euro Sign', 'Emoji: Grinning Face', 'Hebrew Letter Dalet With Dagesh']);
    expect(canonicalJson(input).indexOf('\\r')).toBeLessThan(canonicalJson(input).indexOf('"1"'));
  });

  it('is the canonicalize package’s text for JSON values', () => {
    for (const v of jsonValues(400)) expect(canonicalJson(v)).toBe(canonicalize(v));
  });

  it('writes undefined in an array as null and leaves out undefined properties, as JSON does', () => {
    expect(canonicalJson([1, undefined])).toBe('[1,null]');
    expect(canonicalJson({ b: 1, a: undefined, c: [undefined] })).toBe('{"b":1,"c":[null]}');
    expect(canonicalJson({ at: new Date('2026-06-01T00:00:00Z') })).toBe('{"at":"2026-06-01T00:00:00.000Z"}');
  });

  it('refuses what RFC 8785 refuses and what has no JSON form', () => {
    const cyclic: Record<string, unknown> = {};
    cyclic['self'] = cyclic;
    for (const bad of [NaN, Infinity, -Infinity, [1, NaN], { n: Infinity }, 'lone \ud800', { ['\udc00']: 1 }, undefined, () => 1, { f: () => 1 }, [Symbol('s')], { s: Symbol('s') }, 10n, { n: 1n }, cyclic]) {
      expect(() => canonicalJson(bad), String(typeof bad)).toThrow(NotCanonicalJsonError);
    }
  });

  it('sameJson: equal JSON whatever the key order; undefined equals only undefined', () => {
    expect(sameJson({ a: 1, b: [1, 2] }, { b: [1, 2], a: 1 })).toBe(true);
    expect(sameJson([1, 2], [2, 1])).toBe(false);
    expect(sameJson(undefined, undefined)).toBe(true);
    expect(sameJson(undefined, null)).toBe(false);
    expect(sameJson(null, undefined)).toBe(false);
  });
});

describe('the canonical JSON of version 1 files', () => {
  it('is the released forms’ text for every JSON value, and RFC 8785 for every value RFC 8785 accepts', () => {
    for (const v of jsonValues(400)) {
      expect(canonicalJsonV1(v)).toBe(released(v));
      expect(canonicalJsonV1(v)).toBe(releasedPlanForm(v));
      expect(canonicalJsonV1(v)).toBe(canonicalJson(v));
    }
  });

  it('writes a lone surrogate as the released code did, where RFC 8785 refuses it', () => {
    for (const v of ['\ud800', { name: 'rule \udc00', list: ['\ud83d', '\ud83d\ude00'] }, { ['key\ud800']: [1, { x: '\udfff' }] }]) {
      expect(() => canonicalJson(v)).toThrow(NotCanonicalJsonError);
      expect(canonicalJsonV1(v)).toBe(released(v));
      expect(canonicalJsonV1(v)).toBe(releasedPlanForm(v));
    }
    expect(canonicalJsonV1({ b: '\ud800', a: 1 })).toBe('{"a":1,"b":"\\ud800"}');
  });

  it('still refuses NaN and Infinity', () => {
    expect(() => canonicalJsonV1({ s: '\ud800', n: NaN })).toThrow(NotCanonicalJsonError);
    expect(() => canonicalJsonV1([Infinity])).toThrow(NotCanonicalJsonError);
  });
});

describe('wellFormed', () => {
  it('replaces lone surrogates in strings and keys with U+FFFD and keeps pairs', () => {
    expect(wellFormed({ ['k\ud800']: ['a\udc00b', '\ud83d\ude00', 1, null] })).toEqual({ ['k\ufffd']: ['a\ufffdb', '\ud83d\ude00', 1, null] });
    expect(canonicalJson(wellFormed({ name: 'x\ud800' }))).toBe('{"name":"x\ufffd"}');
  });
});

describe('plans', () => {
  it('a name with a lone surrogate is saved as U+FFFD and the plan hashes as RFC 8785', async () => {
    const { buildPlan, planHashOf } = await import('../../reconciler/plan/build.js');
    const { driftedFindings } = await import('../report/fixtures.js');
    const findings = driftedFindings();
    const hostile = { ...findings[0]!, resource: { ...findings[0]!.resource, name: 'rule \ud800' } };
    const manifest = { stack: 'tailspin', organization: { name: 'Tailspin \udc00 Toys' } } as never;
    const plan = buildPlan({ kind: 'plan', manifest, tenantId: 'contoso.onmicrosoft.com', findings: [hostile, ...findings.slice(1)], incomplete: [] });
    expect(plan.findings[0]!.resource.name).toBe('rule \ufffd');
    expect(plan.organization).toBe('Tailspin \ufffd Toys');
    const { planHash, ...rest } = plan;
    expect(planHash).toBe(planHashOf(plan));
    const { createHash } = await import('node:crypto');
    expect(planHash).toBe(createHash('sha256').update(canonicalize(rest)!).digest('hex'));
    expect(plan.desiredHash).toBe(createHash('sha256').update(released(manifest)).digest('hex'));
  });
});
