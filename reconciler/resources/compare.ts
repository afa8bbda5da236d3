import { isAnnotation, withoutAnnotations } from '../core/annotations.js';
import type { Obj } from './types.js';

const isObj = (v: unknown): v is Obj => !!v && typeof v === 'object' && !Array.isArray(v);

/** Loose equality for a value read back after a write: case-insensitive strings, null = absent = "" = []. */
export function restored(expected: unknown, actual: unknown): boolean {
  const empty = (v: unknown) => v === null || v === undefined || v === '' || (Array.isArray(v) && v.length === 0);
  if (empty(expected)) return empty(actual);
  if (typeof expected === 'string') return typeof actual === 'string' && expected.toLowerCase() === actual.toLowerCase();
  if (Array.isArray(expected)) {
    if (!Array.isArray(actual) || actual.length !== expected.length) return false;
    const used = new Set<number>();
    return expected.every((e) => {
      const i = actual.findIndex((a, j) => !used.has(j) && restored(e, a));
      if (i < 0) return false;
      used.add(i);
      return true;
    });
  }
  if (isObj(expected)) return Object.entries(expected).every(([k, v]) => isAnnotation(k) || restored(v, isObj(actual) ? actual[k] : undefined));
  return expected === actual;
}

/** The first property of `expected` that `actual` does not hold (as {@link restored} compares), said as `name is value`. */
export function differs(expected: Obj, actual: unknown): string | undefined {
  const a = isObj(actual) ? actual : {};
  for (const [k, v] of Object.entries(expected)) {
    if (!restored(v, a[k])) return `${k} is ${JSON.stringify(a[k] ?? null)}`;
  }
  return undefined;
}

/** For each top-level property a write set, the whole value `source` held for it. */
export function pickLike(source: unknown, template: Obj): Obj {
  const src = isObj(source) ? source : {};
  return Object.fromEntries(Object.keys(template).map((k) => [k, src[k] ?? null]));
}

/** Read-only properties the service sets itself; a write that restores an object leaves them out. */
const READ_ONLY = new Set(['id', 'hasError', 'isReadOnly', 'createdDateTime', 'modifiedDateTime', 'version']);

/** An object as a write may send it back: annotations and read-only properties left out. */
export const writable = (o: Obj): Obj => Object.fromEntries(Object.entries(withoutAnnotations(o) as Obj).filter(([k]) => !READ_ONLY.has(k)));

export { isObj };
