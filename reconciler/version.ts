import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The folder of this package: the nearest package.json named email-posture above this module. The
 * same from the TypeScript source (reconciler/) and the compiled package (dist/reconciler/).
 */
export const PACKAGE_ROOT: string = (() => {
  for (let dir = dirname(fileURLToPath(import.meta.url)); ; dir = dirname(dir)) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest) && (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name === 'email-posture') return dir;
    if (dirname(dir) === dir) throw new Error('email-posture: cannot find the package.json of this package');
  }
})();

/** The version of email-posture, from package.json. */
export const TOOL_VERSION: string = (JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { version: string }).version;
