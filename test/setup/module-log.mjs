// Loaded with `node --import` into a process under test: appends the URL of every module it loads,
// ES modules as they are resolved and CommonJS ones at exit, to the file MODULE_LOG names.
import { appendFileSync } from 'node:fs';
import { createRequire, register } from 'node:module';
import { pathToFileURL } from 'node:url';

register(
  'data:text/javascript,' +
    encodeURIComponent(`
import { appendFileSync } from 'node:fs';
export async function resolve(specifier, context, next) {
  const r = await next(specifier, context);
  if (process.env.MODULE_LOG) appendFileSync(process.env.MODULE_LOG, r.url + '\\n');
  return r;
}`),
);
process.on('exit', () => {
  const log = process.env.MODULE_LOG;
  if (!log) return;
  const loaded = Object.keys(createRequire(import.meta.url).cache).map((p) => pathToFileURL(p).href);
  appendFileSync(log, loaded.map((u) => `${u}\n`).join(''));
});
