import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { XMLParser } from 'fast-xml-parser';
import { stringify } from 'yaml';
import { permissionsFor } from '../../reconciler/cli/permissions.js';
import { tenantsOfShard } from '../../reconciler/fleet/shard.js';
import type { FleetReport, FleetResult } from '../../reconciler/model/fleet.js';
import { ROLE_IDS, startSimulator, type Grants, type RunningSimulator } from '../../simulator/index.js';
import { cli, synthExamples, TODAY, type CliResult } from '../reconciler/harness.js';

// 50 simulated tenants behind one Graph, Exchange and identity endpoint; one multi-tenant
// application signs in to each through @azure/identity; the fleet runs in 4 shards, each a real
// `posture fleet drift` process; one tenant's own credentials are wrong. The merge names it, keeps
// every other tenant, and exits 1.

const CLIENT = '3c9b7a51-0000-4000-8000-0000000f1ee7';
const SECRET = 'Fleet~simulated.client-secret_7hQ2pLmN4vRw2zYb6';
const WRONG = 'Fleet~not-the-secret_0000000000000000000';
const N = 50;
const SHARDS = 4;
const FAILING = 't17';
/** A tenant whose Exchange refuses every read: its run is incomplete, never clean. */
const INCOMPLETE = 't29';
const tenantId = (i: number) => `a11ce000-0000-4000-8000-${(i + 1).toString(16).padStart(12, '0')}`;
const key = (i: number) => `t${String(i).padStart(2, '0')}`;

function grants(): Grants {
  const perms = permissionsFor('plan');
  const role: Record<string, string> = { 'Global Reader': ROLE_IDS.globalReader, 'Exchange Administrator': ROLE_IDS.exchangeAdministrator };
  return {
    roles: { graph: perms.filter((p) => p.api === 'graph').map((p) => p.name), exchange: perms.filter((p) => p.api === 'exchange').map((p) => p.name) },
    directoryRoles: perms.filter((p) => p.api === 'entra-role').map((p) => role[p.name]!),
  };
}

let sim: RunningSimulator;
let work: string;
let synthDir: string;
let fleetFile: string;
let shardRuns: CliResult[];
let merge: CliResult;

const owner = (i: number) => ({ name: `Tenant ${i} lead`, team: 'Managed Services', contact: `lead${i}@msp.example` });

beforeAll(async () => {
  synthDir = synthExamples();
  work = mkdtempSync(join(tmpdir(), 'posture-fleet-'));
  sim = await startSimulator({
    scenario: 'compliant',
    tenants: Array.from({ length: N }, (_, i) => ({
      id: tenantId(i), displayName: `Customer ${i}`, generate: { mailboxes: 5 + (i % 7) },
      ...(key(i) === INCOMPLETE ? { faults: [{ api: 'exchange' as const, route: '.*', kind: 'status' as const, status: 403 }] } : {}),
    })),
    identity: { apps: [{ clientId: CLIENT, displayName: 'msp posture reader', secrets: [{ value: SECRET }], ...grants() }] },
  });
  const fleet = {
    fleetVersion: 1,
    kind: 'PostureFleet',
    name: 'msp-customers',
    baseline: { stack: 'tailspin' },
    concurrency: 3,
    auth: { method: 'secret', clientId: CLIENT },
    tenants: Array.from({ length: N }, (_, i) => ({
      key: key(i),
      id: tenantId(i),
      name: i === 3 ? 'Customer <b>3</b>\u001b[31m' : `Customer ${i}`,
      owners: [owner(i)],
      // This tenant signs in with credentials of its own, and they are wrong.
      ...(key(i) === FAILING ? { auth: { method: 'secret', clientId: CLIENT, from: { AZURE_CLIENT_SECRET: 'T17_CLIENT_SECRET' } } } : {}),
    })),
  };
  fleetFile = join(work, 'fleet.yaml');
  writeFileSync(fleetFile, stringify(fleet));
  const env = { ...sim.identity!.env, AZURE_CLIENT_SECRET: SECRET, T17_CLIENT_SECRET: WRONG };
  const target = ['--synth-dir', synthDir, '--graph-url', sim.graphUrl, '--exchange-url', sim.exoUrl, '--dns-server', `${sim.dns.host}:${sim.dns.port}`, '--today', TODAY];
  shardRuns = await Promise.all(Array.from({ length: SHARDS }, (_, s) => cli(['fleet', 'drift', '--fleet', fleetFile, '--shard', `${s + 1}/${SHARDS}`, '--out-dir', join(work, 'results', `shard-${s + 1}`), '--evidence-dir', join(work, 'evidence'), ...target], env)));
  merge = await cli(['fleet', 'merge', join(work, 'results'), '--fleet', fleetFile, '--out-dir', join(work, 'report')]);
}, 600_000);

afterAll(() => sim?.stop());

const resultsOf = (s: number): FleetResult[] => {
  const dir = join(work, 'results', `shard-${s + 1}`);
  return readdirSync(dir).map((f) => JSON.parse(readFileSync(join(dir, f), 'utf8')) as FleetResult);
};

describe('a fleet of 50 tenants in 4 shards, one failing', () => {
  it('each shard runs exactly its own tenants, one result file each; only the shard with the failing tenant exits 1', () => {
    const tenants = Array.from({ length: N }, (_, i) => ({ key: key(i) }));
    for (let s = 0; s < SHARDS; s++) {
      const expected = tenantsOfShard(tenants, { index: s, count: SHARDS }).map((t) => t.key).sort();
      expect(expected.length, 'every shard has tenants').toBeGreaterThan(0);
      expect(resultsOf(s).map((r) => r.tenant.key).sort()).toEqual(expected);
      expect(shardRuns[s]!.code, shardRuns[s]!.stderr).toBe(expected.includes(FAILING) || expected.includes(INCOMPLETE) ? 1 : 0);
      for (const r of resultsOf(s)) expect(r.shard).toEqual({ index: s, count: SHARDS });
    }
  });

  it("every tenant but the failing and the incomplete one was read in full, from its own tenant's state", () => {
    const all = Array.from({ length: SHARDS }, (_, s) => resultsOf(s)).flat();
    expect(all).toHaveLength(N);
    const incomplete = all.find((r) => r.tenant.key === INCOMPLETE)!;
    expect([incomplete.outcome, incomplete.exitCode]).toEqual(['incomplete', 1]);
    expect(incomplete.plan!.incomplete.length).toBeGreaterThan(0);
    for (const r of all) {
      if (r.tenant.key === FAILING || r.tenant.key === INCOMPLETE) continue;
      expect(r.outcome, `${r.tenant.key}: ${r.error ?? ''}`).not.toBe('error');
      expect(r.plan!.incomplete).toEqual([]);
      expect(r.plan!.tenantId).toBe(r.tenant.tenantId);
    }
    // The one application got Graph and Exchange tokens of each tenant but the failing one, whose secret is wrong.
    const issued = sim.identity!.issued.map((t) => ({ audience: t.audience, clientId: t.clientId, tid: (JSON.parse(Buffer.from(t.token.split('.')[1]!, 'base64url').toString('utf8')) as { tid: string }).tid }));
    expect(new Set(issued.map((t) => t.clientId))).toEqual(new Set([CLIENT]));
    for (let i = 0; i < N; i++) {
      const audiences = new Set(issued.filter((t) => t.tid === tenantId(i)).map((t) => t.audience));
      expect([...audiences].sort(), key(i)).toEqual(key(i) === FAILING ? [] : ['https://graph.microsoft.com', 'https://outlook.office365.com']);
    }
  });

  it("each tenant read is recorded in its own evidence trail, which verifies; the failing tenant's has nothing", async () => {
    const trails = readdirSync(join(work, 'evidence')).sort();
    expect(trails).toEqual(Array.from({ length: N }, (_, i) => key(i)).filter((k) => k !== FAILING).map((k) => `${k}.jsonl`).sort());
    const one = JSON.parse(readFileSync(join(work, 'evidence', 't05.jsonl'), 'utf8').trim()) as { kind: string; actor: { kind: string; id: string } };
    expect(one.actor).toMatchObject({ kind: 'application', id: CLIENT });
    const verified = await cli(['evidence', 'verify', join(work, 'evidence', 't05.jsonl')]);
    expect(verified.code, verified.stdout + verified.stderr).toBe(0);
  });

  it('the failing tenant has a result that says why, and no secret', () => {
    const failed = Array.from({ length: SHARDS }, (_, s) => resultsOf(s)).flat().find((r) => r.tenant.key === FAILING)!;
    expect(failed.outcome).toBe('error');
    expect(failed.exitCode).toBe(1);
    expect(failed.error).toMatch(/could not get a Microsoft Graph token with the secret credential/);
    expect(failed.plan).toBeUndefined();
    const shard = shardRuns.find((r) => r.code === 1)!;
    expect(shard.stderr).toContain(`not read in full: ${FAILING}`);
    for (const text of [...shardRuns.flatMap((r) => [r.stdout, r.stderr]), JSON.stringify(failed)]) {
      expect(text).not.toContain(SECRET);
      expect(text).not.toContain(WRONG);
    }
  });

  it('the merge keeps every other tenant, names the failing and the incomplete one, and exits 1', () => {
    expect(merge.code, merge.stderr).toBe(1);
    expect(merge.stderr).toContain(`${FAILING} (${tenantId(17)}): error`);
    expect(merge.stderr).toContain(`${INCOMPLETE} (${tenantId(29)}): incomplete`);
    const report = JSON.parse(readFileSync(join(work, 'report', 'fleet.json'), 'utf8')) as FleetReport;
    expect(report.tenants).toHaveLength(N);
    expect(report.summary.error).toBe(1);
    expect(report.summary.incomplete).toBe(1);
    expect(report.summary.missing).toBe(0);
    expect(report.summary.clean + report.summary.findings).toBe(N - 2);
    // Worst first: the failed tenant heads the view, then the incomplete one.
    expect(report.tenants.slice(0, 2).map((t) => t.key)).toEqual([FAILING, INCOMPLETE]);
    expect(report.tenants[1]!.incomplete.length).toBeGreaterThan(0);
    expect(report.controls.length).toBeGreaterThan(5);
    for (const t of report.tenants.slice(1)) expect(Object.keys(t.controls).length).toBe(report.controls.length);
    // A tenant whose Exchange could not be read has controls that were not evaluated, never passed on no data.
    expect(Object.values(report.tenants[1]!.controls)).toContain('not-evaluated');
    // SARIF and JUnit for every tenant with a plan.
    const files = readdirSync(join(work, 'report', 'tenants'));
    expect(files.filter((f) => f.endsWith('.sarif'))).toHaveLength(N - 1);
    expect(files.filter((f) => f.endsWith('.junit.xml'))).toHaveLength(N - 1);
    expect(files).not.toContain(`${FAILING}.sarif`);
    // The fleet as one JUnit suite: a test case per tenant, a failure for each that needs a person.
    const junit = new XMLParser({ ignoreAttributes: false }).parse(readFileSync(join(work, 'report', 'fleet.junit.xml'), 'utf8')) as { testsuites: { testsuite: { testcase: Array<{ '@_name': string; failure?: { '@_type': string } }> } } };
    const cases = junit.testsuites.testsuite.testcase;
    expect(cases).toHaveLength(N);
    expect(cases.find((c) => c['@_name'].startsWith(`${FAILING} `))!.failure!['@_type']).toBe('error');
    expect(cases.find((c) => c['@_name'].startsWith(`${INCOMPLETE} `))!.failure!['@_type']).toBe('incomplete');
    expect(cases.filter((c) => c.failure).length).toBe(N - report.summary.clean);
    expect(readFileSync(join(work, 'report', 'fleet.junit.xml'), 'utf8')).not.toContain('\u001b');
  });

  it("the Markdown and HTML views escape tenant text and list each tenant's owners", () => {
    const md = readFileSync(join(work, 'report', 'fleet.md'), 'utf8');
    const html = readFileSync(join(work, 'report', 'fleet.html'), 'utf8');
    expect(md).toContain('## Not read in full');
    expect(md).toContain(`\`${FAILING}\``);
    expect(html).toContain('lead17@msp.example');
    for (const text of [md, html]) {
      expect(text).not.toContain('<b>3</b>');
      expect(text).not.toContain('\u001b');
    }
    expect(html).toContain('Customer &lt;b&gt;3&lt;/b&gt;');
  });

  it('a merge without one shard names every tenant of it as missing', async () => {
    const partial = join(work, 'partial');
    mkdirSync(partial);
    const r = await cli(['fleet', 'merge', join(work, 'results', 'shard-1'), join(work, 'results', 'shard-2'), join(work, 'results', 'shard-3'), '--fleet', fleetFile, '--out-dir', partial]);
    expect(r.code).toBe(1);
    const report = JSON.parse(readFileSync(join(partial, 'fleet.json'), 'utf8')) as FleetReport;
    const lost = resultsOf(3).map((x) => x.tenant.key).sort();
    expect(report.tenants.filter((t) => t.outcome === 'missing').map((t) => t.key).sort()).toEqual(lost);
    for (const k of lost) expect(r.stderr).toContain(`${k} (`);
  });

  it('a result file altered after it was written is refused, naming the file', async () => {
    const dir = join(work, 'altered');
    mkdirSync(dir);
    const r0 = resultsOf(0).find((r) => r.plan)!;
    // The plan says another organisation than it did when written; its hash is as it was.
    const forged = { ...r0, plan: { ...r0.plan!, organization: 'Someone else' } };
    writeFileSync(join(dir, 'forged.json'), JSON.stringify(forged));
    const r = await cli(['fleet', 'merge', dir, '--out-dir', join(work, 'altered-report')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/posture fleet merge: .*forged\.json: \$\.plan\.planHash: the plan's content does not match its hash/);
    expect(r.stderr).not.toContain('    at ');
    expect(existsSync(join(work, 'altered-report', 'fleet.json'))).toBe(false);
  });
});

describe('bad input to the fleet commands', () => {
  it('a fleet file with a bad property: one message naming file and property, exit 2, nothing read', async () => {
    const bad = join(work, 'bad.yaml');
    writeFileSync(bad, readFileSync(fleetFile, 'utf8').replace(`id: ${tenantId(4)}`, 'id: not-a-guid'));
    sim.requests.clear();
    const r = await cli(['fleet', 'plan', '--fleet', bad, '--shard', '1/4', '--out-dir', join(work, 'never'), '--synth-dir', synthDir, '--graph-url', sim.graphUrl, '--exchange-url', sim.exoUrl]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toEqual([`posture fleet plan: ${bad}: $.tenants[4].id: must be a GUID such as 62e90394-69f5-4237-9190-012177145e10`]);
    expect(sim.requests.entries).toEqual([]);
  });

  it('an endpoint that is not allowed, or a baseline stack the output does not hold, is refused once with exit 2', async () => {
    const out = join(work, 'never');
    const a = await cli(['fleet', 'drift', '--fleet', fleetFile, '--shard', '1/4', '--out-dir', out, '--synth-dir', synthDir, '--graph-url', 'http://graph.example']);
    expect(a.code).toBe(2);
    expect(a.stderr.trim().split('\n')).toEqual(['posture fleet drift: --graph-url http://graph.example: only https is allowed, except on loopback (127.0.0.0/8, ::1, localhost: the simulator)']);
    const other = join(work, 'other-stack.yaml');
    writeFileSync(other, readFileSync(fleetFile, 'utf8').replace('stack: tailspin', 'stack: contoso'));
    const b = await cli(['fleet', 'drift', '--fleet', other, '--shard', '1/4', '--out-dir', out, '--synth-dir', synthDir]);
    expect(b.code).toBe(2);
    expect(b.stderr).toContain(`posture fleet drift: ${other}: $.baseline.stack: unknown stack "contoso"`);
    expect(existsSync(out)).toBe(false);
  });

  it('a shard out of range, or an index without a count, is refused with exit 2', async () => {
    const out = join(work, 'never');
    const a = await cli(['fleet', 'plan', '--fleet', fleetFile, '--shard', '5/4', '--out-dir', out, '--synth-dir', synthDir]);
    expect([a.code, a.stderr.trim()]).toEqual([2, 'posture fleet plan: --shard 5/4: shard 5 is not one of 1 to 4']);
    const b = await cli(['fleet', 'plan', '--fleet', fleetFile, '--out-dir', out, '--synth-dir', synthDir], { JOB_COMPLETION_INDEX: '2' });
    expect(b.code).toBe(2);
    expect(b.stderr).toContain('give the number of shards');
  });
});
