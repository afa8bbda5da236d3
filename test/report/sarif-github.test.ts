import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import type { Log, Result } from 'sarif';
import { afterAll, describe, expect, it } from 'vitest';
import { repositoryPaths, sarifPlaces } from '../../reconciler/input/repository.js';
import type { ControlEntry } from '../../reconciler/manifest/schema.js';
import type { PlanDocument } from '../../reconciler/model/plan.js';
import { isRelativeUri, renderSarif, SARIF_LIMITS, type SarifOptions } from '../../reconciler/report/sarif.js';
import { build, declareAll } from '../stacks/helpers.js';
import { driftedPlan, hugePlan } from './fixtures.js';
import { sarifValidator } from './sarif-schema.js';

// GitHub code scanning's rules for an uploaded SARIF file, beyond the SARIF schema
// (docs.github.com: code-security, "SARIF support for code scanning"), checked on what renderSarif
// writes: a file breaking them is refused at upload, or its alerts cannot be placed in the code.

const root = fileURLToPath(new URL('../../', import.meta.url));
const validate = sarifValidator();
const parse = (text: string): Log => JSON.parse(text) as Log;

/** What GitHub's ingestion would refuse or mishandle in a log, one line per problem. */
export function githubProblems(log: Log, gzipBytes: number): string[] {
  const problems: string[] = [];
  const add = (where: string, what: string) => problems.push(`${where}: ${what}`);
  if (log.version !== '2.1.0') add('log', `version ${String(log.version)} is not 2.1.0`);
  if (log.runs.length > 20) add('log', `${log.runs.length} runs; at most 20 per file`);
  if (gzipBytes > SARIF_LIMITS.gzipBytes) add('log', `${gzipBytes} bytes gzip compressed; at most 10 MB`);
  log.runs.forEach((run, r) => {
    const rules = run.tool.driver.rules ?? [];
    if (!run.tool.driver.name) add(`runs[${r}]`, 'tool.driver.name is missing');
    if ((run.results ?? []).length > 25_000) add(`runs[${r}]`, `${run.results!.length} results; at most 25,000 per run`);
    if (rules.length > 25_000) add(`runs[${r}]`, `${rules.length} rules; at most 25,000 per run`);
    rules.forEach((rule, k) => {
      const at = `runs[${r}].rules[${k}] ${rule.id}`;
      for (const field of ['shortDescription', 'fullDescription', 'help'] as const) if (!rule[field]?.text) add(at, `${field}.text is missing`);
      const severity = rule.properties?.['security-severity'];
      if (typeof severity !== 'string' || !/^\d+(\.\d+)?$/.test(severity) || Number(severity) < 0 || Number(severity) > 10) {
        add(at, `security-severity ${JSON.stringify(severity)} is not a number from 0.0 to 10.0 in a string`);
      }
      const tags = (rule.properties?.tags ?? []) as unknown[];
      if (!tags.includes('security')) add(at, 'tags do not include "security" (code scanning files it as a security alert only then)');
      if (tags.length > 20) add(at, `${tags.length} tags; at most 20 per rule`);
    });
    (run.results ?? []).forEach((result, i) => {
      const at = `runs[${r}].results[${i}]`;
      if (!result.ruleId) add(at, 'ruleId is missing');
      else if (!rules.some((x) => x.id === result.ruleId)) add(at, `ruleId ${result.ruleId} names no rule of the run`);
      if (!result.message?.text) add(at, 'message.text is missing');
      const locations = result.locations ?? [];
      if (locations.length === 0) add(at, 'no location');
      if (locations.length > 1000) add(at, `${locations.length} locations; at most 1,000 per result`);
      locations.forEach((l, j) => {
        const physical = l.physicalLocation;
        const uri = physical?.artifactLocation?.uri;
        if (!physical || uri === undefined) add(`${at}.locations[${j}]`, 'no physicalLocation with an artifactLocation.uri');
        else if (!isRelativeUri(uri)) add(`${at}.locations[${j}]`, `uri ${JSON.stringify(uri)} is not relative to the repository root`);
        const base = physical?.artifactLocation?.uriBaseId;
        if (base !== undefined && base !== '%SRCROOT%') add(`${at}.locations[${j}]`, `uriBaseId ${base} is not %SRCROOT%`);
        const line = physical?.region?.startLine;
        if (!Number.isInteger(line) || line! < 1) add(`${at}.locations[${j}]`, `region.startLine ${String(line)} is not a line number`);
      });
      const fingerprints = Object.values(result.partialFingerprints ?? {});
      if (fingerprints.length === 0) add(at, 'no partialFingerprints: alerts would not be tracked across runs');
    });
  });
  return problems;
}

const check = (text: string) => {
  const log = parse(text);
  expect(validate(log), JSON.stringify(validate.errors, null, 2)).toBe(true);
  expect(githubProblems(log, gzipSync(text).length)).toEqual([]);
  return log;
};

/** The control entries of a posture declaring every area, with the sources synth records. */
function declarations(): ControlEntry[] {
  return build(declareAll).posture.toManifest().controls;
}

const results = (log: Log): Result[] => log.runs[0]!.results!;
const uriOf = (r: Result) => r.locations![0]!.physicalLocation!.artifactLocation!.uri!;
const lineOf = (r: Result) => r.locations![0]!.physicalLocation!.region!.startLine!;

describe('SARIF for GitHub code scanning', () => {
  const plan = driftedPlan();
  const controls = declarations();
  const sourced = (options: SarifOptions = {}, p: PlanDocument = plan) => check(renderSarif(p, { manifestPath: 'cdktf.out/stacks/tailspin/posture.json', declarations: controls, ...options }));

  it('the checker refuses what GitHub refuses', () => {
    const log = sourced();
    const broken = structuredClone(log);
    const r = broken.runs[0]!.results![0]!;
    r.locations![0]!.physicalLocation!.artifactLocation!.uri = '/builds/posture/stacks/contoso.ts';
    broken.runs[0]!.results![1]!.locations![0]!.physicalLocation!.artifactLocation!.uri = 'file:///builds/stacks/contoso.ts';
    broken.runs[0]!.results![2]!.locations![0]!.physicalLocation!.artifactLocation!.uri = '../stacks/contoso.ts';
    broken.runs[0]!.results![3]!.locations![0]!.physicalLocation!.region = { startLine: 0 };
    delete broken.runs[0]!.results![4]!.ruleId;
    broken.runs[0]!.tool.driver.rules![0]!.properties!['security-severity'] = 'high';
    broken.runs[0]!.tool.driver.rules![1]!.properties!.tags = ['email-posture'];
    expect(githubProblems(broken, 1)).toHaveLength(7);
    expect(githubProblems(log, SARIF_LIMITS.gzipBytes + 1)).toEqual(['log: 10485761 bytes gzip compressed; at most 10 MB']);
  });

  it('points each result at the line of the code that declares its control', () => {
    const log = sourced();
    expect(results(log).length).toBeGreaterThan(5);
    for (const r of results(log)) {
      const entry = controls.find((c) => c.id === r.ruleId)!;
      expect(entry.source, r.ruleId).toBeDefined();
      expect(r.locations![0]!.physicalLocation).toEqual({
        artifactLocation: { uri: entry.source!.file },
        region: { startLine: entry.source!.line, startColumn: entry.source!.column },
      });
      // A file of this repository: the one code scanning annotates.
      expect(existsSync(join(root, uriOf(r))), uriOf(r)).toBe(true);
      expect(r.locations![0]!.logicalLocations![0]!.kind).toBe('resource');
    }
    expect(new Set(results(log).map(uriOf))).toEqual(new Set(['test/stacks/helpers.ts']));
    // Not-evaluated notifications point at the same code.
    const notes = log.runs[0]!.invocations![0]!.toolExecutionNotifications!.filter((n) => n.descriptor?.id?.startsWith('not-evaluated/'));
    expect(notes.length).toBeGreaterThan(0);
    for (const n of notes) expect(n.locations![0]!.physicalLocation!.artifactLocation!.uri).toBe('test/stacks/helpers.ts');
  });

  it('falls back to the manifest for a control without a recorded source (an older manifest)', () => {
    const older = controls.map(({ source: _, ...c }) => c);
    const log = check(renderSarif(plan, { manifestPath: 'cdktf.out/stacks/tailspin/posture.json', declarations: older }));
    for (const r of results(log)) expect([uriOf(r), lineOf(r)]).toEqual(['cdktf.out/stacks/tailspin/posture.json', 1]);
    // One control with its source, the rest without.
    const dmarc = controls.find((c) => c.id === 'MAIL.DMARC.2v1')!;
    const mixed = check(renderSarif(plan, { declarations: [dmarc] }));
    for (const r of results(mixed)) expect(uriOf(r)).toBe(r.ruleId === 'MAIL.DMARC.2v1' ? dmarc.source!.file : 'cdktf.out/stacks/tailspin/posture.json');
    // A source that is not repository-relative is never written.
    const bad = controls.map((c) => ({ ...c, source: { file: '../outside/stack.ts', line: 3 } }));
    for (const r of results(check(renderSarif(plan, { declarations: bad })))) expect(uriOf(r)).toBe('cdktf.out/stacks/tailspin/posture.json');
    // Nor is an absolute manifest path.
    const absolute = check(renderSarif(plan, { manifestPath: '/builds/posture/cdktf.out/stacks/tailspin/posture.json' }));
    for (const r of results(absolute)) expect(uriOf(r)).toBe('cdktf.out/stacks/tailspin/posture.json');
  });

  it('prefixes the sources with the folder of cdktf.json when it is not the repository root', () => {
    const log = sourced({ sourceRoot: 'posture' });
    for (const r of results(log)) expect(uriOf(r)).toBe('posture/test/stacks/helpers.ts');
    expect(uriOf(results(sourced({ sourceRoot: '' }))[0]!)).toBe('test/stacks/helpers.ts');
  });

  it('keeps the fingerprints when a declaration moves: no line in them', () => {
    const moved = controls.map((c) => ({ ...c, source: { file: 'stacks/contoso.ts', line: c.source!.line + 40 } }));
    const before = results(sourced());
    const after = results(sourced({ declarations: moved }));
    expect(after.map((r) => r.partialFingerprints)).toEqual(before.map((r) => r.partialFingerprints));
    expect(after.map(lineOf)).not.toEqual(before.map(lineOf));
    for (const r of before) {
      expect(Object.keys(r.partialFingerprints!)).toEqual(['findingId']);
      // The finding's id: a hash of control, check and resource.
      expect(plan.findings.map((f) => f.id)).toContain(r.partialFingerprints!['findingId']);
      expect(r.fingerprints).toBeUndefined();
    }
  });

  it('names no analysis category, so the upload step chooses it', () => {
    // upload-sarif keeps a run's automationDetails.id over its own `category` input.
    expect(sourced().runs[0]!.automationDetails).toBeUndefined();
  });

  it('keeps within the results per run, the most severe first, and says what it left out', () => {
    const log = sourced({ limits: { resultsPerRun: 3 } });
    expect(results(log)).toHaveLength(3);
    const all = results(sourced());
    const rank = ['critical', 'high', 'medium', 'low'];
    const severities = (rs: Result[]) => rs.map((r) => rank.indexOf(String((r.properties as { severity: string }).severity)));
    expect(Math.max(...severities(results(log)))).toBeLessThanOrEqual(Math.min(...severities(all).sort().slice(3)));
    const note = log.runs[0]!.invocations![0]!.toolExecutionNotifications!.find((n) => n.descriptor?.id === 'results-truncated')!;
    expect(note.message.text).toContain(`${all.length - 3} of ${all.length} results were left out`);
    expect(log.runs[0]!.properties!['omittedResults']).toBe(all.length - 3);
    expect(sourced().runs[0]!.invocations![0]!.toolExecutionNotifications!.some((n) => n.descriptor?.id === 'results-truncated')).toBe(false);
  });

  it('keeps within the compressed size, and says so', () => {
    const huge = hugePlan(400);
    const full = renderSarif(huge);
    const limit = Math.floor(gzipSync(full).length / 3);
    const text = renderSarif(huge, { limits: { gzipBytes: limit } });
    expect(gzipSync(text).length).toBeLessThanOrEqual(limit);
    const log = check(text);
    expect(results(log).length).toBeGreaterThan(0);
    expect(results(log).length).toBeLessThan(400);
    expect(log.runs[0]!.properties!['omittedResults']).toBe(400 - results(log).length);
  });

  it('takes the default limits from code scanning', () => {
    expect(SARIF_LIMITS).toEqual({ resultsPerRun: 25_000, gzipBytes: 10 * 1024 * 1024 });
  });
});

describe('repository paths of a synthesized output', () => {
  const temp = mkdtempSync(join(tmpdir(), 'posture-repo-'));
  afterAll(() => rmSync(temp, { recursive: true, force: true }));

  it('are relative to the repository root, with the folder of cdktf.json as the sources root', () => {
    const repo = join(temp, 'at-root');
    mkdirSync(join(repo, '.git'), { recursive: true });
    writeFileSync(join(repo, 'cdktf.json'), '{}');
    const manifest = join(repo, 'cdktf.out/stacks/contoso/posture.json');
    expect(repositoryPaths(join(repo, 'cdktf.out'), manifest, repo)).toEqual({ manifestPath: 'cdktf.out/stacks/contoso/posture.json', sourceRoot: '' });
  });

  it('prefix the folder of cdktf.json when it is below the repository root', () => {
    const repo = join(temp, 'monorepo');
    mkdirSync(join(repo, '.git'), { recursive: true });
    mkdirSync(join(repo, 'posture'), { recursive: true });
    writeFileSync(join(repo, 'posture/cdktf.json'), '{}');
    const manifest = join(repo, 'posture/cdktf.out/stacks/contoso/posture.json');
    const paths = repositoryPaths(join(repo, 'posture/cdktf.out'), manifest, join(repo, 'posture'));
    expect(paths).toEqual({ manifestPath: 'posture/cdktf.out/stacks/contoso/posture.json', sourceRoot: 'posture' });
    const places = sarifPlaces(join(repo, 'posture/cdktf.out'), { manifestPath: manifest, manifest: { controls: declarations() } as never });
    const log = parse(renderSarif(driftedPlan(), places));
    expect(uriOf(results(log)[0]!)).toBe('posture/test/stacks/helpers.ts');
  });

  it('leave out a manifest outside the repository, so the report falls back to its default', () => {
    const repo = join(temp, 'elsewhere');
    mkdirSync(join(repo, '.git'), { recursive: true });
    writeFileSync(join(repo, 'cdktf.json'), '{}');
    const outside = join(temp, 'out/stacks/contoso/posture.json');
    expect(repositoryPaths(join(temp, 'out'), outside, repo)).toEqual({ sourceRoot: '' });
    const log = parse(renderSarif(driftedPlan(), repositoryPaths(join(temp, 'out'), outside, repo)));
    expect(uriOf(results(log)[0]!)).toBe('cdktf.out/stacks/tailspin/posture.json');
  });
});
