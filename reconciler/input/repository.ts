import { existsSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import type { SynthOutput } from './synth-output.js';

/** Where a synthesized output sits in its repository, as code scanning names files: from the repository root, posix. */
export interface RepositoryPaths {
  /** The manifest, relative to the repository root; absent when it lies outside it. */
  readonly manifestPath?: string;
  /** The folder holding cdktf.json (which the manifest's sources are relative to), relative to the repository root; '' when it is the root. */
  readonly sourceRoot?: string;
}

const inside = (root: string, path: string): string | undefined => {
  const r = relative(root, path);
  if (r.startsWith('..') || isAbsolute(r)) return undefined;
  return r.split(sep).join('/');
};

/** The nearest folder at or above `dir` that holds `name`. */
function upwards(dir: string, name: string): string | undefined {
  for (let d = resolve(dir); ; d = dirname(d)) {
    if (existsSync(join(d, name))) return d;
    if (dirname(d) === d) return undefined;
  }
}

/**
 * The repository paths of a synthesized output: the project is the folder holding cdktf.json (the
 * output's parent, or else the working folder), the repository root the nearest folder at or above
 * it that holds `.git` (else the project itself).
 */
export function repositoryPaths(synthDir: string, manifestPath: string, cwd: string = process.cwd()): RepositoryPaths {
  const parent = dirname(resolve(synthDir));
  const project = existsSync(join(parent, 'cdktf.json')) ? parent : existsSync(join(cwd, 'cdktf.json')) ? resolve(cwd) : undefined;
  const root = upwards(project ?? cwd, '.git') ?? project ?? resolve(cwd);
  const manifest = inside(root, resolve(manifestPath));
  const sourceRoot = project ? inside(root, project) : undefined;
  return { ...(manifest ? { manifestPath: manifest } : {}), ...(sourceRoot !== undefined ? { sourceRoot } : {}) };
}

/**
 * What the SARIF report needs of a synthesized output to point at code: the manifest and the
 * folder of cdktf.json as repository paths, and each control's recorded source.
 */
export function sarifPlaces(synthDir: string, input: Pick<SynthOutput, 'manifest' | 'manifestPath'>): RepositoryPaths & { readonly declarations: SynthOutput['manifest']['controls'] } {
  return { ...repositoryPaths(synthDir, input.manifestPath), declarations: input.manifest.controls };
}
