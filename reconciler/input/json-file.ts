import { readFileSync } from 'node:fs';
import { MAX_JSON_DEPTH, tooDeep } from './json-depth.js';
import { InputError } from './synth-output.js';

/** A JSON file given on the command line, or one clear message. */
export function readJsonFile(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new InputError(`${file}: ${code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory, not a plan file' : `cannot be read (${code ?? (err as Error).message})`}`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text) as unknown;
  } catch (err) {
    throw new InputError(`${file}: not valid JSON (${(err as Error).message})`);
  }
  const deep = tooDeep(value);
  if (deep) throw new InputError(`${file}: nested deeper than ${MAX_JSON_DEPTH} levels (at ${deep}): not a plan file`);
  return value;
}
