import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments, stringify } from 'yaml';
import { permissionsFor } from '../../reconciler/cli/permissions.js';
import { parseFleet } from '../../reconciler/fleet/file.js';
import { tenantsOfShard } from '../../reconciler/fleet/shard.js';
import type { FleetReport, FleetResult } from '../../reconciler/model/fleet.js';
import { ROLE_IDS, startSimulator, type RunningSimulator } from '../../simulator/index.js';
import { cli, synthExamples, TODAY } from '../reconciler/harness.js';

// The fleet templates of examples/fleet/: each engine's fields checked against the fields the
// engine documents, every posture invocation against `posture fleet … --help`, and the shard and
// merge commands run as each engine runs them (its variables set as it sets them) against the
// simulator.

const root = fileURLToPath(new URL('../../', import.meta.url));
type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Obj) : {});
const docs = (file: string): Obj[] => {
  const all = parseAllDocuments(readFileSync(join(root, 'examples', 'fleet', file), 'utf8'));
  for (const d of Array.isArray(all) ? all : [all]) expect(d.errors, file).toEqual([]);
  return (Array.isArray(all) ? all : [all]).map((d) => obj(d.toJS()));
};
const unknownKeys = (o: unknown, documented: readonly string[]) => Object.keys(obj(o)).filter((k) => !documented.includes(k));

// GitHub Actions workflow syntax: jobs.<job_id> and jobs.<job_id>.strategy.
const GITHUB_JOB = ['name', 'permissions', 'needs', 'if', 'runs-on', 'snapshot', 'environment', 'concurrency', 'outputs', 'env', 'defaults', 'steps', 'timeout-minutes', 'strategy', 'continue-on-error', 'container', 'services', 'uses', 'with', 'secrets'];
const GITHUB_STRATEGY = ['matrix', 'fail-fast', 'max-parallel'];
const GITHUB_MATRIX_MAX = 256;
// Kubernetes batch/v1 JobSpec (API reference, workload resources, Job v1).
const JOB_SPEC = ['template', 'parallelism', 'completions', 'completionMode', 'backoffLimit', 'activeDeadlineSeconds', 'ttlSecondsAfterFinished', 'suspend', 'selector', 'manualSelector', 'podFailurePolicy', 'successPolicy', 'backoffLimitPerIndex', 'maxFailedIndexes', 'podReplacementPolicy', 'managedBy'];
const POD_FAILURE_ACTIONS = ['FailJob', 'FailIndex', 'Ignore', 'Count'];
// Azure Pipelines YAML schema: jobs.job and jobs.job.strategy.
const ADO_JOB = ['job', 'displayName', 'dependsOn', 'condition', 'continueOnError', 'timeoutInMinutes', 'cancelTimeoutInMinutes', 'variables', 'strategy', 'pool', 'container', 'services', 'workspace', 'uses', 'steps', 'templateContext'];
const ADO_PARALLEL_MAX = 99;

const github = docs('github-actions.yml')[0]!;
const [serviceAccount, volume, shardsJob] = docs('kubernetes.yaml');
const mergeJob = docs('kubernetes-merge.yaml')[0]!;
const ado = docs('azure-pipelines.yml')[0]!;
const ghJobs = obj(github['jobs']);
const adoJobs = (ado['jobs'] as Obj[]).map(obj);

/** The posture command of a script line: its words, quotes removed. */
const postureWords = (script: string, sub: string): string[] => {
  const line = script.split('\n').find((l) => l.includes(`npx posture fleet ${sub}`))!;
  expect(line, `a posture fleet ${sub} line`).toBeDefined();
  return line.trim().replace(/\s*\|\|.*$/, '').split(/\s+/).map((w) => w.replace(/^"|"$/g, '')).slice(1);
};

describe('the GitHub Actions matrix', () => {
  const shard = obj(ghJobs['shard']);
  const strategy = obj(shard['strategy']);
  it('uses only the documented job and strategy fields: a matrix of at most 256 shards, fail-fast off, max-parallel set', () => {
    for (const [id, job] of Object.entries(ghJobs)) expect(unknownKeys(job, GITHUB_JOB), id).toEqual([]);
    expect(unknownKeys(strategy, GITHUB_STRATEGY)).toEqual([]);
    expect(strategy['fail-fast']).toBe(false);
    const shards = obj(strategy['matrix'])['shard'] as number[];
    expect(shards).toEqual(Array.from({ length: shards.length }, (_, i) => i + 1));
    expect(shards.length).toBeLessThanOrEqual(GITHUB_MATRIX_MAX);
    expect(strategy['max-parallel']).toBeGreaterThan(0);
    expect(strategy['max-parallel']).toBeLessThanOrEqual(shards.length);
  });
  it('passes the matrix index and the job total as --shard, and merges after every shard, whatever happened', () => {
    const step = (shard['steps'] as Obj[]).map(obj).find((s) => String(s['run'] ?? '').includes('posture fleet drift'))!;
    expect(obj(step['env'])).toEqual({ SHARD: '${{ matrix.shard }}', SHARDS: '${{ strategy.job-total }}' });
    expect(postureWords(String(step['run']), 'drift')).toContain('$SHARD/$SHARDS');
    const merge = obj(ghJobs['merge']);
    expect(merge['needs']).toBe('shard');
    expect(merge['if']).toBe('always()');
    expect(obj(shard['permissions'])['id-token']).toBe('write');
    expect(obj(merge['permissions'])['id-token']).toBeUndefined();
  });
});

describe('the Kubernetes Indexed Job', () => {
  const spec = obj(shardsJob!['spec']);
  const pod = obj(obj(spec['template'])['spec']);
  it('uses only documented JobSpec fields: Indexed, a backoff limit per index, every index allowed to fail on its own', () => {
    expect([serviceAccount!['kind'], volume!['kind'], shardsJob!['kind'], mergeJob['kind']]).toEqual(['ServiceAccount', 'PersistentVolumeClaim', 'Job', 'Job']);
    expect(unknownKeys(spec, JOB_SPEC)).toEqual([]);
    expect(unknownKeys(mergeJob['spec'], JOB_SPEC)).toEqual([]);
    expect(spec['completionMode']).toBe('Indexed');
    expect(spec['backoffLimitPerIndex']).toBeGreaterThanOrEqual(0);
    // maxFailedIndexes at most completions; equal, so no failed index stops the others.
    expect(spec['maxFailedIndexes']).toBe(spec['completions']);
    // backoffLimitPerIndex needs restartPolicy Never.
    expect(pod['restartPolicy']).toBe('Never');
    for (const rule of (obj(spec['podFailurePolicy'])['rules'] as Obj[]).map(obj)) expect(POD_FAILURE_ACTIONS).toContain(rule['action']);
    expect(obj(obj(obj(spec['template'])['metadata'])['labels'])['azure.workload.identity/use']).toBe('true');
  });
  it('runs --shards as many as the completions, and the merge as a follow-up Job over the shards\' results', () => {
    const command = obj((pod['containers'] as Obj[])[0])['command'] as string[];
    expect(command.slice(0, 4)).toEqual(['npx', 'posture', 'fleet', 'drift']);
    expect(Number(command[command.indexOf('--shards') + 1])).toBe(spec['completions']);
    const merge = obj((obj(obj(obj(mergeJob['spec'])['template'])['spec'])['containers'] as Obj[])[0])['command'] as string[];
    expect(merge.slice(0, 4)).toEqual(['npx', 'posture', 'fleet', 'merge']);
    expect(merge[4]).toBe(command[command.indexOf('--out-dir') + 1]);
  });
});

describe('the Azure DevOps parallel job', () => {
  const [shard, merge] = adoJobs;
  it('uses only documented job fields: strategy parallel (at most 99), then a merge that runs when a shard failed', () => {
    for (const job of adoJobs) expect(unknownKeys(job, ADO_JOB), String(job['job'])).toEqual([]);
    expect(unknownKeys(shard!['strategy'], ['parallel'])).toEqual([]);
    const n = obj(shard!['strategy'])['parallel'] as number;
    expect(n).toBeGreaterThan(1);
    expect(n).toBeLessThanOrEqual(ADO_PARALLEL_MAX);
    expect(merge!['dependsOn']).toBe('shard');
    expect(merge!['condition']).toBe('succeededOrFailed()');
  });
  it('leaves the shard to the job position the engine sets: no --shard', () => {
    const step = (shard!['steps'] as Obj[]).map(obj).find((s) => String(s['bash'] ?? '').includes('posture fleet drift'))!;
    const words = postureWords(String(step['bash']), 'drift');
    expect(words).not.toContain('--shard');
    expect(Object.keys(obj(step['env']))).toEqual(['AZURE_CLIENT_ID', 'AZURESUBSCRIPTION_SERVICE_CONNECTION_ID', 'SYSTEM_ACCESSTOKEN']);
  });
});

describe('every posture invocation of the templates names real flags', () => {
  it('as posture fleet … --help lists them', async () => {
    const invocations: string[][] = [
      postureWords(String((obj(ghJobs['shard'])['steps'] as Obj[]).map(obj).find((s) => String(s['run'] ?? '').includes('fleet drift'))!['run']), 'drift'),
      postureWords(String((obj(ghJobs['merge'])['steps'] as Obj[]).map(obj).find((s) => String(s['run'] ?? '').includes('fleet merge'))!['run']), 'merge'),
      (obj((obj(obj(obj(shardsJob!['spec'])['template'])['spec'])['containers'] as Obj[])[0])['command'] as string[]).slice(1),
      (obj((obj(obj(obj(mergeJob['spec'])['template'])['spec'])['containers'] as Obj[])[0])['command'] as string[]).slice(1),
      ...adoJobs.map((j) => (j['steps'] as Obj[]).map(obj).find((s) => String(s['bash'] ?? '').includes('posture fleet'))!).map((s) => postureWords(String(s['bash']), String(s['bash']).includes('fleet merge') ? 'merge' : 'drift')),
    ];
    const helps = new Map<string, string>();
    for (const words of invocations) {
      expect(words.slice(0, 2), words.join(' ')).toEqual(['posture', 'fleet']);
      const sub = words[2]!;
      if (!helps.has(sub)) helps.set(sub, (await cli(['fleet', sub, '--help'])).stdout);
      for (const flag of words.filter((w) => w.startsWith('--'))) expect(helps.get(sub), `${flag} of posture fleet ${sub}`).toContain(`  ${flag} `);
    }
  });
  it('the example fleet file is valid', () => {
    const r = parseFleet(readFileSync(join(root, 'examples', 'fleet', 'fleet.yaml'), 'utf8'), 'examples/fleet/fleet.yaml');
    expect(r.ok, JSON.stringify(!r.ok && r.errors)).toBe(true);
  });
});

// ---------------------------------------------------------------------------------------------
// The shard and merge commands as each engine runs them, against the simulator.
// ---------------------------------------------------------------------------------------------

const CLIENT = '3c9b7a51-0000-4000-8000-00000000e9e9';
const SECRET = 'Templates~simulated.secret_2hQ7pLmN4vRw2zYb6';
const TENANTS = 8;
const tid = (i: number) => `e9e90000-0000-4000-8000-${(i + 1).toString(16).padStart(12, '0')}`;
let sim: RunningSimulator;
let work: string;
let synthDir: string;
let fleetFile: string;

beforeAll(async () => {
  synthDir = synthExamples();
  work = mkdtempSync(join(tmpdir(), 'posture-fleet-templates-'));
  const perms = permissionsFor('plan');
  const role: Record<string, string> = { 'Global Reader': ROLE_IDS.globalReader, 'Exchange Administrator': ROLE_IDS.exchangeAdministrator };
  sim = await startSimulator({
    scenario: 'compliant',
    tenants: Array.from({ length: TENANTS }, (_, i) => ({ id: tid(i), generate: { mailboxes: 3 } })),
    identity: {
      apps: [{
        clientId: CLIENT, secrets: [{ value: SECRET }],
        roles: { graph: perms.filter((p) => p.api === 'graph').map((p) => p.name), exchange: perms.filter((p) => p.api === 'exchange').map((p) => p.name) },
        directoryRoles: perms.filter((p) => p.api === 'entra-role').map((p) => role[p.name]!),
      }],
    },
  });
  fleetFile = join(work, 'fleet.yaml');
  writeFileSync(fleetFile, stringify({
    fleetVersion: 1, kind: 'PostureFleet', name: 'templates', baseline: { stack: 'tailspin' }, auth: { method: 'secret', clientId: CLIENT },
    tenants: Array.from({ length: TENANTS }, (_, i) => ({ key: `c${i}`, id: tid(i), owners: [{ name: 'Lead', team: 'MSP', contact: 'lead@msp.example' }] })),
  }));
}, 120_000);
afterAll(() => sim?.stop());

/** The simulator's endpoints and a fixed day: what this machine adds to a template's command. */
const local = () => ['--synth-dir', synthDir, '--graph-url', sim.graphUrl, '--exchange-url', sim.exoUrl, '--dns-server', `${sim.dns.host}:${sim.dns.port}`, '--today', TODAY];
const signIn = () => ({ ...sim.identity!.env, AZURE_CLIENT_SECRET: SECRET });

/** A template's words with its variables and paths replaced by this machine's. */
const expand = (words: readonly string[], vars: Record<string, string>) => words.map((w) => w.replace(/\$([A-Z_]+)/g, (_, n: string) => vars[n] ?? `$${n}`)).map((w) => (w === 'fleets/contoso-msp.yaml' ? fleetFile : w));

describe('the shard and merge commands, run as each engine runs them', () => {
  // Shard 2 of 4 in each engine's own terms: a matrix value 2, completion index 1, job position 2.
  const expected = () => tenantsOfShard(Array.from({ length: TENANTS }, (_, i) => ({ key: `c${i}` })), { index: 1, count: 4 }).map((t) => t.key).sort();

  async function runEngine(name: string, shardWords: string[], env: Record<string, string>, mergeWords: (results: string) => string[]) {
    expect(expected().length, 'shard 2 of 4 has tenants').toBeGreaterThan(0);
    const results = join(work, name, 'results');
    const report = join(work, name, 'report');
    const shard = await cli([...shardWords.map((w) => (w === '/results/shards' || w === '$BUILD_ARTIFACTSTAGINGDIRECTORY/results' || w === 'results' ? results : w)).slice(1), ...local()], { ...signIn(), ...env });
    expect(shard.code, shard.stderr).toBe(0);
    const written = readdirSync(results).map((f) => JSON.parse(readFileSync(join(results, f), 'utf8')) as FleetResult);
    expect(written.map((r) => r.tenant.key).sort()).toEqual(expected());
    for (const r of written) expect([r.shard, r.outcome === 'error' ? r.error : 'read']).toEqual([{ index: 1, count: 4 }, 'read']);
    const merged = await cli(mergeWords(results).map((w) => (w === '/results/report' || w === 'report' || w === '$BUILD_ARTIFACTSTAGINGDIRECTORY/report' ? report : w)).slice(1));
    // One shard of four ran: the merge names the others' tenants as missing, and fails.
    expect(merged.code).toBe(1);
    const fleet = JSON.parse(readFileSync(join(report, 'fleet.json'), 'utf8')) as FleetReport;
    expect(fleet.tenants.filter((t) => t.outcome !== 'missing').map((t) => t.key).sort()).toEqual(expected());
    expect(fleet.summary.missing).toBe(TENANTS - expected().length);
  }

  it('GitHub Actions: the matrix value and strategy.job-total in SHARD and SHARDS', async () => {
    const steps = (j: string) => (obj(ghJobs[j])['steps'] as Obj[]).map(obj);
    const shard = postureWords(String(steps('shard').find((s) => String(s['run'] ?? '').includes('fleet drift'))!['run']), 'drift');
    const merge = postureWords(String(steps('merge').find((s) => String(s['run'] ?? '').includes('fleet merge'))!['run']), 'merge');
    const vars = { FLEET_FILE: fleetFile, SHARD: '2', SHARDS: '4' };
    await runEngine('github', expand(shard, vars), {}, (results) => expand(merge, vars).map((w) => (w === 'results' ? results : w)));
  }, 180_000);

  it('Kubernetes: JOB_COMPLETION_INDEX from the Job controller, --shards from the manifest', async () => {
    const container = (job: Obj) => obj((obj(obj(obj(job['spec'])['template'])['spec'])['containers'] as Obj[])[0]);
    const shard = container(shardsJob!)['command'] as string[];
    const merge = container(mergeJob)['command'] as string[];
    // The container's command is npx's: its words from `posture` on, as for the other engines.
    await runEngine('kubernetes', expand(shard.slice(1), {}), { JOB_COMPLETION_INDEX: '1' }, (results) => expand(merge.slice(1), {}).map((w) => (w === '/results/shards' ? results : w)));
  }, 180_000);

  it('Azure DevOps: SYSTEM_JOBPOSITIONINPHASE and SYSTEM_TOTALJOBSINPHASE of the parallel job', async () => {
    const bash = (j: Obj) => String((j['steps'] as Obj[]).map(obj).find((s) => String(s['bash'] ?? '').includes('posture fleet'))!['bash']);
    const vars = { FLEET_FILE: fleetFile };
    const shard = expand(postureWords(bash(adoJobs[0]!), 'drift'), vars);
    const merge = expand(postureWords(bash(adoJobs[1]!), 'merge'), vars);
    await runEngine('azure-devops', shard, { SYSTEM_JOBPOSITIONINPHASE: '2', SYSTEM_TOTALJOBSINPHASE: '4' }, (results) => merge.map((w) => (w === '$PIPELINE_WORKSPACE/results' ? results : w)));
  }, 180_000);
});
