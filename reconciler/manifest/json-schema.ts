import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { MANIFEST_VERSION, manifestSchema } from './schema.js';

/** Where the published JSON Schema of the manifest lives; a test fails when it is stale. */
export const MANIFEST_SCHEMA_DOC = fileURLToPath(new URL('../../docs/posture-manifest.schema.json', import.meta.url));

/** The manifest schema as JSON Schema (draft 2020-12), for editors and other tools. */
export function manifestJsonSchema(): Record<string, unknown> {
  return {
    ...z.toJSONSchema(manifestSchema),
    $id: `https://email-posture.example/schemas/posture-manifest-v${MANIFEST_VERSION}.json`,
    title: `email-posture manifest, version ${MANIFEST_VERSION}`,
  };
}

export function renderManifestJsonSchema(): string {
  return JSON.stringify(manifestJsonSchema(), null, 2) + '\n';
}
