import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import AjvDraft04 from 'ajv-draft-04';
import addFormats from 'ajv-formats';

/**
 * A validator of the SARIF 2.1.0 JSON schema as Microsoft's SARIF SDK publishes it (the schema
 * store's sarif-2.1.0-rtm.5.json, shipped in @microsoft/jest-sarif). It is written in JSON Schema
 * draft-04, hence Ajv's draft-04 class.
 */
export function sarifValidator() {
  const require = createRequire(import.meta.url);
  const file = join(dirname(require.resolve('@microsoft/jest-sarif/package.json')), 'lib/schemas/sarif-2.1.0-rtm.5.json');
  const schema = JSON.parse(readFileSync(file, 'utf8')) as { title: string };
  if (!/^Static Analysis Results Format \(SARIF\) Version 2\.1\.0/.test(schema.title)) throw new Error(`${file} is not the SARIF 2.1.0 schema`);
  // The schema's `language` pattern has a stray `]`, legal only in a regular expression without the
  // `u` flag, which is how draft-04 validators compile patterns.
  const ajv = new AjvDraft04.default({ allErrors: true, strict: false, unicodeRegExp: false });
  addFormats.default(ajv);
  return ajv.compile(schema);
}
