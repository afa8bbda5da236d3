import fastJsonPatch, { type Operation } from 'fast-json-patch';
import { isAnnotation } from '../core/annotations.js';

/**
 * One canonical form for both sides of a diff, so only real differences show:
 * - null, undefined, [] and {} are all "absent" and dropped;
 * - arrays of plain values are sets: de-duplicated and sorted;
 * - values of the named enum properties compare case-insensitively (lower-cased);
 * - properties named in `drop` (read-only or server-managed) and OData annotations are removed at any depth.
 */
export function canonical(value: unknown, o: { enums?: ReadonlySet<string>; drop?: ReadonlySet<string> } = {}, key = ''): unknown {
  if (value === null || value === undefined) return undefined;
  if (Array.isArray(value)) {
    const items = value.map((v) => canonical(v, o, key)).filter((v) => v !== undefined);
    if (items.length === 0) return undefined;
    if (items.every((v) => typeof v !== 'object')) return [...new Set(items.map((v) => String(v)))].sort();
    return items;
  }
  if (typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(value as object).sort()) {
      if (isAnnotation(k) || o.drop?.has(k)) continue;
      const v = canonical((value as Record<string, unknown>)[k], o, k);
      if (v !== undefined) out[k] = v;
    }
    return Object.keys(out).length ? out : undefined;
  }
  if (typeof value === 'string' && o.enums?.has(key)) return value.toLowerCase();
  return value;
}

/** JSON Patch from `live` to `desired`, both already canonical. */
export function patchFrom(live: unknown, desired: unknown): Operation[] {
  return fastJsonPatch.compare((live ?? {}) as object, (desired ?? {}) as object);
}

/** The value at a JSON Pointer, for showing "old → new". */
export function at(doc: unknown, pointer: string): unknown {
  try {
    return fastJsonPatch.getValueByPointer(doc, pointer);
  } catch {
    return undefined;
  }
}
