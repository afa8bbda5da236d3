/**
 * What the end-to-end tests of `posture import` share: a posture folder to import into, the import
 * command against a simulator, the generated stack synthesized, and the checks of a generated file.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { ESLint } from 'eslint';
import { isUnsafeCodePoint } from '../../reconciler/core/text.js';
import type { PlanDocument } from '../../reconciler/model/plan.js';
import type { RunningSimulator } from '../../simulator/index.js';
import { synthesize, TODAY_CONTEXT_KEY, type App, type SynthResult } from '../../stacks/index.js';
import { cli, TODAY, tokens } from '../reconciler/harness.js';

export const repo = fileURLToPath(new URL('../../', import.meta.url));
/** The generated stacks import the constructs from the repository's source, as a posture repository imports 'email-posture'. */
export const MODULE = join(repo, 'stacks', 'index.js');
export const OWNER = ['--owner', 'Mail Platform Lead <mail-platform@tailspintoys.example>', '--team', 'Messaging'];
export const BREAK_GLASS = ['--break-glass', 'bg-alpha@tailspintoys.example', 'bg-bravo@tailspintoys.example'];

/** Whether a generated file holds a control character or one that hides or reorders code (a newline only as layout). */
export const hasUnsafeCharacters = (text: string) => [...text].some((ch) => ch !== '\n' && isUnsafeCodePoint(ch.codePointAt(0)!));

export const connection = (sim: RunningSimulator) => ['--tenant', sim.tenantId, '--graph-url', sim.graphUrl, '--exchange-url', sim.exoUrl, '--dns-server', `${sim.dns.host}:${sim.dns.port}`];

/** A temporary posture folder: ESM, so the generated stack is compiled and loaded as a posture repository's is. */
export function workspace(): string {
  const dir = mkdtempSync(join(tmpdir(), 'posture-import-'));
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ type: 'module', private: true }));
  return dir;
}

/** `posture import` of the simulated tenant as stack `tailspin` into DIR/stacks/tailspin.ts. */
export function runImport(sim: RunningSimulator, dir: string, extra: readonly string[], env = tokens(sim)) {
  return cli(['import', ...connection(sim), '--stack', 'tailspin', '--module', MODULE, '--out', join(dir, 'stacks', 'tailspin.ts'), ...extra], env, dir);
}

/** Loads the generated class and synthesizes it, as a tiny cdktf app that instantiates it would. */
export async function synthGenerated(file: string): Promise<{ result: SynthResult; outdir: string }> {
  const mod = (await import(pathToFileURL(file).href)) as Record<string, new (scope: App, id: string) => unknown>;
  const Stack = mod['TailspinStack']!;
  const outdir = join(dirname(dirname(file)), 'cdktf.out');
  const result = synthesize((app) => void new Stack(app, 'tailspin'), { outdir, context: { [TODAY_CONTEXT_KEY]: TODAY } });
  return { result, outdir };
}

/**
 * The messages the repository's ESLint configuration gives a generated file's text, linted as if it
 * were at PATH (relative to the repository) so the configuration's rules for that place apply; each
 * as "RULE: MESSAGE", with "(fixable)" when `eslint --fix` would change the file.
 */
export async function lintMessages(text: string, path: string): Promise<string[]> {
  const eslint = new ESLint({ cwd: repo });
  const results = await eslint.lintText(text, { filePath: join(repo, path), warnIgnored: true });
  return results.flatMap((r) => r.messages.map((m) => `${m.ruleId ?? 'eslint'}: ${m.message}${m.fix ? ' (fixable)' : ''} (line ${m.line})`));
}

export const findingLine = (f: PlanDocument['findings'][number]) => `${f.control.versionedId} ${f.status} ${f.resource.type}:${f.resource.name}`;

