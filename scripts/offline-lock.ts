/**
 * A package-lock.json for a posture repository that depends on a packed email-posture tarball, made
 * from this repository's own lock: the same versions and integrity hashes, so `npm ci --offline`
 * installs it from the npm cache that installing this repository filled, without the registry.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';

interface LockEntry {
  version?: string;
  integrity?: string;
  resolved?: string;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  dev?: boolean;
  devOptional?: boolean;
  optional?: boolean;
  peer?: boolean;
  [key: string]: unknown;
}

interface Lock {
  lockfileVersion: number;
  packages: Record<string, LockEntry>;
}

/** Where `name` resolves from the package at `from` (a lock key), as Node's lookup walks up node_modules folders. */
function locate(packages: Lock['packages'], from: string, name: string): string | undefined {
  let base = from;
  for (;;) {
    const key = `${base ? `${base}/` : ''}node_modules/${name}`;
    if (packages[key]) return key;
    if (!base) return undefined;
    const at = base.lastIndexOf('/node_modules/');
    base = at < 0 ? '' : base.slice(0, at);
  }
}

/** The lock keys `roots` need, with everything they depend on (optional dependencies too, when the lock has them). */
function closure(packages: Lock['packages'], roots: readonly string[]): Set<string> {
  const seen = new Set<string>();
  const queue = roots.map((name) => locate(packages, '', name)).filter((k): k is string => Boolean(k));
  while (queue.length) {
    const key = queue.pop()!;
    if (seen.has(key)) continue;
    seen.add(key);
    const entry = packages[key]!;
    for (const name of Object.keys({ ...entry.dependencies, ...entry.optionalDependencies, ...entry.peerDependencies })) {
      const found = locate(packages, key, name);
      if (found) queue.push(found);
    }
  }
  return seen;
}

/**
 * The lock of a repository whose package.json has `dependencies` (email-posture from `tarballSpec`,
 * the others at this repository's versions) and `devDependencies`.
 */
export function offlineLock(o: {
  readonly repoLock: string;
  readonly repoManifest: string;
  readonly tarball: string;
  readonly tarballSpec: string;
  readonly name: string;
  readonly dependencies: Readonly<Record<string, string>>;
  readonly devDependencies: Readonly<Record<string, string>>;
}): Lock {
  const lock = JSON.parse(readFileSync(o.repoLock, 'utf8')) as Lock;
  const manifest = JSON.parse(readFileSync(o.repoManifest, 'utf8')) as { version: string; dependencies: Record<string, string>; engines?: unknown; bin?: unknown; license?: string };
  const others = (deps: Readonly<Record<string, string>>) => Object.keys(deps).filter((n) => n !== 'email-posture');
  const prod = closure(lock.packages, [...Object.keys(manifest.dependencies), ...others(o.dependencies)]);
  const dev = closure(lock.packages, others(o.devDependencies));
  const packages: Record<string, LockEntry> = {
    '': { name: o.name, dependencies: { ...o.dependencies }, devDependencies: { ...o.devDependencies } },
    'node_modules/email-posture': {
      version: manifest.version,
      resolved: o.tarballSpec,
      integrity: `sha512-${createHash('sha512').update(readFileSync(o.tarball)).digest('base64')}`,
      license: manifest.license,
      dependencies: manifest.dependencies,
      bin: manifest.bin,
      engines: manifest.engines,
    },
  };
  for (const key of [...new Set([...prod, ...dev])].sort()) {
    const { dev: _dev, devOptional: _devOptional, ...entry } = lock.packages[key]!;
    packages[key] = prod.has(key) ? entry : { ...entry, dev: true };
  }
  return { lockfileVersion: 3, name: o.name, requires: true, packages } as unknown as Lock;
}
