/**
 * No import cycles in the project's own code. madge builds the import graph of every TypeScript
 * file (type-only imports count: a cycle of types is still two modules that cannot be read one
 * without the other), resolving `.js` specifiers to the `.ts` files they name.
 */
import { fileURLToPath } from 'node:url';
import madge from 'madge';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../', import.meta.url));
const FOLDERS = ['reconciler', 'policies', 'stacks', 'simulator'];

/** Every import cycle among the given folders (paths relative to the project root). */
async function importGraph(folders: readonly string[]): Promise<{ cycles: string[][]; files: number; graph: Record<string, string[]>; skipped: string[] }> {
  const result = await madge(
    folders.map((f) => `${root}${f}`),
    { baseDir: root, fileExtensions: ['ts'], tsConfig: `${root}tsconfig.json`, detectiveOptions: { ts: { skipTypeImports: false }, es6: { skipTypeImports: false } } },
  );
  const graph = result.obj();
  return { cycles: result.circular(), files: Object.keys(graph).length, graph, skipped: result.warnings().skipped };
}

/** The whole graph, built once for the tests below. */
const full = importGraph(FOLDERS);

describe('import cycles', () => {
  it('there are none in reconciler/, policies/, stacks/ and simulator/', async () => {
    const { cycles, files, graph, skipped } = await full;
    // The graph is complete: every import resolved to a file (`.js` specifiers to `.ts` sources).
    expect(skipped).toEqual([]);
    expect(files).toBeGreaterThan(120);
    expect(graph['reconciler/plan/build.ts']).toContain('reconciler/core/json.ts');
    expect(graph['reconciler/model/plan.ts']).toBeDefined();
    expect(graph['stacks/lib/consent.ts']).toContain('stacks/lib/area.ts');
    expect(cycles).toEqual([]);
  }, 120_000);

  it('core/ imports nothing of the project outside core/, and the evidence trail nothing of apply', async () => {
    const { graph } = await full;
    const importsOf = (folder: string) => Object.entries(graph).filter(([file]) => file.startsWith(folder)).flatMap(([file, deps]) => deps.map((d) => `${file} -> ${d}`));
    expect(Object.keys(graph).filter((f) => f.startsWith('reconciler/core/')).sort()).toEqual(['annotations', 'hash', 'json', 'loopback', 'redact', 'text'].map((m) => `reconciler/core/${m}.ts`));
    expect(importsOf('reconciler/evidence/').length).toBeGreaterThan(5);
    expect(importsOf('reconciler/core/').filter((edge) => !edge.split(' -> ')[1]!.startsWith('reconciler/core/'))).toEqual([]);
    expect(importsOf('reconciler/evidence/').filter((edge) => /-> reconciler\/(apply|cli|plan|resources)\//.test(edge))).toEqual([]);
  }, 120_000);
});
