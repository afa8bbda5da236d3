import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { MANIFEST_SCHEMA_DOC, renderManifestJsonSchema } from '../reconciler/manifest/json-schema.js';
import { renderControlsMarkdown } from './render-docs.js';

/** Where the generated catalogue lives; the staleness test reads the same path. */
export const CONTROLS_DOC = fileURLToPath(new URL('../docs/controls.md', import.meta.url));

/** Writes every generated document: the control catalogue and the manifest JSON Schema. */
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  writeFileSync(CONTROLS_DOC, renderControlsMarkdown());
  writeFileSync(MANIFEST_SCHEMA_DOC, renderManifestJsonSchema());
  console.log('wrote docs/controls.md and docs/posture-manifest.schema.json');
}
