import { readFileSync } from 'node:fs';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { describe, expect, it } from 'vitest';
import { MANIFEST_SCHEMA_DOC, manifestJsonSchema, renderManifestJsonSchema } from '../../reconciler/manifest/json-schema.js';
import { parseManifest } from '../../reconciler/manifest/parse.js';
import { manifestSchema, type Manifest } from '../../reconciler/manifest/schema.js';
import { build, declareAll, postureProps } from '../stacks/helpers.js';

const sample = (): Manifest =>
  build(declareAll, postureProps({
    exceptions: [{ control: 'MAIL.FWD.3', scope: { type: 'user', value: 'a@contoso.example' }, reason: 'Partner mailbox', approvedBy: 'ciso@contoso.example', expires: '2026-07-01', ticket: 'RISK-1' }],
  })).posture.toManifest();

describe('posture manifest', () => {
  it('round-trips: what synth writes, the reader reads back unchanged', () => {
    const m = sample();
    const text = JSON.stringify(m, null, 2);
    const parsed = parseManifest(text, 'posture.json');
    expect(parsed).toEqual({ ok: true, manifest: m });
    if (parsed.ok) expect(JSON.stringify(parsed.manifest, null, 2)).toBe(text);
  });

  it('the published JSON Schema is up to date (run `npm run docs`)', () => {
    expect(readFileSync(MANIFEST_SCHEMA_DOC, 'utf8')).toBe(renderManifestJsonSchema());
  });

  it('the published JSON Schema accepts what synth writes and rejects what the reader rejects', () => {
    const ajv = new Ajv2020({ allErrors: true, strict: false });
    addFormats.default(ajv);
    const validate = ajv.compile(manifestJsonSchema());
    const m = sample();
    expect(validate(m), JSON.stringify(validate.errors)).toBe(true);
    const broken = structuredClone(m) as Record<string, unknown> & Manifest;
    (broken.desired.forwarding as { autoForwardingMode: string }).autoForwardingMode = 'On';
    expect(validate(broken)).toBe(false);
    expect(manifestSchema.safeParse(broken).success).toBe(false);
  });

  it('refuses an unknown schema version with one clear message', () => {
    const text = JSON.stringify({ ...sample(), manifestVersion: 2 });
    expect(parseManifest(text, 'cdktf.out/stacks/x/posture.json')).toEqual({
      ok: false,
      errors: [
        'cdktf.out/stacks/x/posture.json: manifest version 2 is not supported; this version of email-posture reads version 1. Synthesize the posture again with the same version of email-posture.',
      ],
    });
  });

  it('names the file and JSON path of every schema violation', () => {
    const m = sample() as unknown as { desired: { conditionalAccess: { policies: Array<Record<string, unknown>> } }; breakGlass: { users: string[] } };
    m.desired.conditionalAccess.policies[1]!['state'] = 'on';
    m.breakGlass.users = [];
    const r = parseManifest(JSON.stringify(m), 'p.json');
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.errors).toContain('p.json: $.breakGlass.users: declare at least one break-glass account');
      expect(r.errors.some((e) => e.startsWith('p.json: $.desired.conditionalAccess.policies[1].state: '))).toBe(true);
    }
  });

  it('refuses malformed JSON, another kind of file, unknown properties and unknown controls', () => {
    expect(parseManifest('{"manifestVersion": 1,', 'a.json')).toMatchObject({ ok: false, errors: [expect.stringMatching(/^a\.json: not valid JSON/)] });
    expect(parseManifest('[]', 'a.json')).toEqual({ ok: false, errors: ['a.json: expected a JSON object'] });
    expect(parseManifest('{"terraform": {}}', 'a.json')).toMatchObject({ ok: false, errors: [expect.stringContaining('not a posture manifest')] });
    expect(parseManifest(JSON.stringify({ ...sample(), extra: true }), 'a.json')).toMatchObject({ ok: false, errors: [expect.stringContaining('a.json: $: Unrecognized key: "extra"')] });
    const unknown = sample();
    unknown.controls[0]!.id = 'MAIL.NOPE.1v1';
    expect(parseManifest(JSON.stringify(unknown), 'a.json')).toEqual({ ok: false, errors: ['a.json: $.controls[0].id: unknown control "MAIL.NOPE.1v1"; see docs/controls.md for the catalogue'] });
  });
});
