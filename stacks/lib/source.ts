import { existsSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { SourceLocation } from '../../reconciler/manifest/schema.js';

/**
 * Where a construct was declared: the file and line of the `new …` in the posture's own code, found
 * from a stack trace taken in the construct's constructor.
 *
 * Frames of this package are skipped: those in the folder of the construct files (this module's
 * folder, `stacks/lib` in the source tree or `dist/stacks/lib` once compiled) and in the package's
 * other code folders beside it, found from this module's own location, so it holds wherever the
 * package is installed. Frames of dependencies (anything under a `node_modules` folder) and of Node
 * itself are skipped too. The first frame left is the declaration. With tsx (cdktf.json's app), stack
 * traces are source-mapped, so the line is the TypeScript file's.
 *
 * The file is recorded relative to the folder holding cdktf.json (the repository root of a posture
 * repository), found upwards from the file, or else the working folder; with posix separators. A
 * file outside that folder is not recorded: a manifest never holds an absolute path or `..`.
 */

/** The folder of the construct files, wherever the package is installed. */
const CONSTRUCTS_DIR = dirname(fileURLToPath(import.meta.url));
/** The package's code root: the repository root in the source tree, `dist/` once compiled. */
const CODE_ROOT = resolve(CONSTRUCTS_DIR, '..', '..');
/** The package's own code folders (the constructs, and the catalogue and manifest code they call). */
const OWN_DIRS = [CONSTRUCTS_DIR, join(CODE_ROOT, 'policies'), join(CODE_ROOT, 'reconciler')];

const within = (dir: string, file: string): boolean => {
  const r = relative(dir, file);
  return r !== '' && !r.startsWith('..') && !isAbsolute(r);
};

/** Whether a frame's file is code of this package or of a dependency. */
export function isLibraryFile(file: string): boolean {
  return OWN_DIRS.some((d) => within(d, file)) || file.split(/[\\/]/).includes('node_modules');
}

/** One frame of a V8 stack trace: `at fn (file:line:col)`, `at file:line:col`, with file a path or file: URL. */
const FRAME = /^\s*at (?:.*? \()?(.+?):(\d+):(\d+)\)?\s*$/;

interface Frame {
  readonly file: string;
  readonly line: number;
  readonly column: number;
}

/** The frames of a stack trace that name a file on disk, in order. */
export function stackFrames(stack: string): Frame[] {
  return stack.split('\n').flatMap((l) => {
    const m = FRAME.exec(l);
    if (!m) return [];
    let file = m[1]!;
    if (file.startsWith('file://')) {
      try {
        file = fileURLToPath(file);
      } catch {
        return [];
      }
    }
    if (!isAbsolute(file)) return []; // node:internal, native, eval and the like
    return [{ file, line: Number(m[2]), column: Number(m[3]) }];
  });
}

const projectRoots = new Map<string, string | undefined>();

/** The nearest folder at or above `dir` that holds cdktf.json. */
function projectRootOf(dir: string): string | undefined {
  if (projectRoots.has(dir)) return projectRoots.get(dir);
  const parent = dirname(dir);
  const found = existsSync(join(dir, 'cdktf.json')) ? dir : parent === dir ? undefined : projectRootOf(parent);
  projectRoots.set(dir, found);
  return found;
}

/** `file` relative to its project root (or the working folder), posix; undefined outside it. */
export function projectRelative(file: string, cwd: string = process.cwd()): string | undefined {
  const root = projectRootOf(dirname(file)) ?? cwd;
  if (!within(root, file)) return undefined;
  return relative(root, file).split(sep).join('/');
}

/** The declaration site in a stack trace: the first frame outside this package and its dependencies. */
export function declarationIn(stack: string, cwd?: string): SourceLocation | undefined {
  for (const f of stackFrames(stack)) {
    if (isLibraryFile(f.file)) continue;
    const file = projectRelative(f.file, cwd);
    if (!file || f.line < 1) return undefined;
    return { file, line: f.line, ...(f.column >= 1 ? { column: f.column } : {}) };
  }
  return undefined;
}

/** Where the construct being constructed now was declared; call it from the constructor. */
export function captureDeclaration(): SourceLocation | undefined {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 100;
  try {
    return declarationIn(new Error().stack ?? '');
  } catch {
    return undefined;
  } finally {
    Error.stackTraceLimit = limit;
  }
}
