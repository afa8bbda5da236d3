import { resolveControl } from '../../policies/catalogue.js';
import { MANIFEST_VERSION, manifestSchema, type Manifest } from './schema.js';

export type ParseResult = { readonly ok: true; readonly manifest: Manifest } | { readonly ok: false; readonly errors: readonly string[] };

/**
 * Reads a posture manifest from its JSON text. Checks, in order: JSON syntax, the kind and schema
 * version (an unknown version is refused, not guessed at), the schema, and that every control id
 * names a control of this catalogue version. Each message starts with `source` and the JSON path.
 */
export function parseManifest(text: string, source: string): ParseResult {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    return { ok: false, errors: [`${source}: not valid JSON (${(err as Error).message})`] };
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    return { ok: false, errors: [`${source}: expected a JSON object`] };
  }
  const head = data as { kind?: unknown; manifestVersion?: unknown };
  if (head.kind !== 'EmailSecurityPosture') {
    return { ok: false, errors: [`${source}: not a posture manifest (kind is ${JSON.stringify(head.kind)}, expected "EmailSecurityPosture")`] };
  }
  if (head.manifestVersion !== MANIFEST_VERSION) {
    return {
      ok: false,
      errors: [
        `${source}: manifest version ${JSON.stringify(head.manifestVersion)} is not supported; this version of email-posture reads version ${MANIFEST_VERSION}. ` +
          'Synthesize the posture again with the same version of email-posture.',
      ],
    };
  }
  const parsed = manifestSchema.safeParse(data);
  if (!parsed.success) {
    return {
      ok: false,
      errors: parsed.error.issues.map((i) => `${source}: ${jsonPath(i.path)}: ${i.message}`),
    };
  }
  const errors: string[] = [];
  parsed.data.controls.forEach((c, i) => {
    const r = resolveControl(c.id);
    if ('error' in r) errors.push(`${source}: $.controls[${i}].id: ${r.error}`);
  });
  parsed.data.exceptions.forEach((e, i) => {
    const r = resolveControl(e.control);
    if ('error' in r) errors.push(`${source}: $.exceptions[${i}].control: ${r.error}`);
  });
  return errors.length ? { ok: false, errors } : { ok: true, manifest: parsed.data };
}

function jsonPath(path: readonly PropertyKey[]): string {
  return '$' + path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('');
}
