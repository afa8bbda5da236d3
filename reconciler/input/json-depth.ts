/** How deep a JSON document from outside may nest. Plans, manifests and trail records stay far below it. */
export const MAX_JSON_DEPTH = 64;

/**
 * The path of the first value nested deeper than `max` levels (e.g. `$.findings[0].evidence…`),
 * or `undefined` when the value stays within it. Iterative, so a hostile document cannot exhaust the
 * stack here; the recursive code that hashes and renders documents only sees bounded ones.
 */
export function tooDeep(value: unknown, max = MAX_JSON_DEPTH): string | undefined {
  const stack: Array<{ v: unknown; depth: number; path: string }> = [{ v: value, depth: 0, path: '$' }];
  while (stack.length) {
    const { v, depth, path } = stack.pop()!;
    if (v === null || typeof v !== 'object') continue;
    if (depth >= max) return path.length > 80 ? `${path.slice(0, 80)}…` : path;
    if (Array.isArray(v)) v.forEach((x, i) => stack.push({ v: x, depth: depth + 1, path: `${path}[${i}]` }));
    else for (const [k, x] of Object.entries(v)) stack.push({ v: x, depth: depth + 1, path: /^[A-Za-z_$][\w$]*$/.test(k) ? `${path}.${k}` : `${path}[${JSON.stringify(k)}]` });
  }
  return undefined;
}
