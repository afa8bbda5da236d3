import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { tenantEnv } from '../../reconciler/fleet/auth.js';
import { parseFleet, type Fleet, type FleetTenant } from '../../reconciler/fleet/file.js';
import { mergeResults } from '../../reconciler/fleet/merge.js';
import { resolveShard, shardOf, tenantsOfShard } from '../../reconciler/fleet/shard.js';
import { tenantManifest } from '../../reconciler/fleet/stack.js';
import { loadSynthOutput } from '../../reconciler/input/synth-output.js';
import type { Manifest } from '../../reconciler/manifest/schema.js';
import type { FleetResult } from '../../reconciler/model/fleet.js';
import { synthExamples } from '../reconciler/harness.js';

const keys = (n: number, prefix = 'tenant-') => Array.from({ length: n }, (_, i) => `${prefix}${i}`);
const guid = (i: number) => `b0b00000-0000-4000-8000-${i.toString(16).padStart(12, '0')}`;
const owner = { name: 'MSP lead', team: 'Managed Services', contact: 'lead@msp.example' };

const fleetDoc = (extra: Record<string, unknown> = {}) => ({
  fleetVersion: 1,
  kind: 'PostureFleet',
  name: 'msp',
  baseline: { stack: 'tailspin' },
  auth: { method: 'workload-identity', clientId: '3c9b7a51-0000-4000-8000-0000000f1ee7' },
  tenants: [
    { key: 'contoso', id: guid(1), name: 'Contoso', owners: [owner] },
    { key: 'fabrikam', id: guid(2), owners: [owner] },
  ],
  ...extra,
});

describe('shards', () => {
  it('adding a tenant moves no other tenant between shards', () => {
    const before = keys(1000);
    const after = [...before.slice(0, 500), 'a-new-customer', ...before.slice(500)];
    for (const n of [1, 4, 10, 32]) {
      const was = new Map(before.map((k) => [k, shardOf(k, n)]));
      const shardsAfter = tenantsOfShardMap(after, n);
      for (const k of before) expect(shardsAfter.get(k)).toBe(was.get(k));
    }
  });

  it('removing a tenant moves no other tenant either', () => {
    const all = keys(300);
    const fewer = all.filter((k) => k !== 'tenant-42');
    const was = tenantsOfShardMap(all, 7);
    for (const [k, s] of tenantsOfShardMap(fewer, 7)) expect(s).toBe(was.get(k));
  });

  it('one more shard takes tenants only into the new shard, about one in N+1', () => {
    const all = keys(2000);
    const four = tenantsOfShardMap(all, 4);
    const five = tenantsOfShardMap(all, 5);
    const moved = all.filter((k) => four.get(k) !== five.get(k));
    for (const k of moved) expect(five.get(k)).toBe(4);
    expect(moved.length / all.length).toBeGreaterThan(0.15);
    expect(moved.length / all.length).toBeLessThan(0.25);
  });

  it('every tenant is in exactly one shard, and 500 tenants spread over 10 shards', () => {
    const tenants = keys(500).map((key) => ({ key }));
    const sizes = Array.from({ length: 10 }, (_, index) => tenantsOfShard(tenants, { index, count: 10 }).length);
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(500);
    for (const s of sizes) expect(s).toBeGreaterThan(25);
  });

  it('the shard comes from --shard I/N, a Kubernetes completion index, or an Azure DevOps job position', () => {
    expect(resolveShard({ flag: '3/4', env: {} })).toMatchObject({ index: 2, count: 4 });
    expect(resolveShard({ env: { JOB_COMPLETION_INDEX: '0' }, shards: 4 })).toMatchObject({ index: 0, count: 4 });
    expect(resolveShard({ env: { SYSTEM_JOBPOSITIONINPHASE: '4', SYSTEM_TOTALJOBSINPHASE: '4' } })).toMatchObject({ index: 3, count: 4 });
    expect(resolveShard({ env: {} })).toMatchObject({ index: 0, count: 1 });
    // The flag wins over the engine's variables, as a matrix job passes it.
    expect(resolveShard({ flag: '1/2', env: { JOB_COMPLETION_INDEX: '1' } })).toMatchObject({ index: 0, count: 2 });
  });

  it('refuses a shard that does not exist, a count that disagrees, and an index without a count', () => {
    expect(() => resolveShard({ flag: '0/4', env: {} })).toThrow('--shard 0/4: shard 0 is not one of 1 to 4');
    expect(() => resolveShard({ flag: '1/257', env: {} })).toThrow('the number of shards must be 1 to 256');
    expect(() => resolveShard({ flag: 'two', env: {} })).toThrow('is not I/N');
    expect(() => resolveShard({ env: { JOB_COMPLETION_INDEX: '4' }, shards: 4 })).toThrow('shard 5 is not one of 1 to 4');
    expect(() => resolveShard({ env: { JOB_COMPLETION_INDEX: '1' } })).toThrow('--shards N');
    expect(() => resolveShard({ env: { JOB_COMPLETION_INDEX: '1x' }, shards: 4 })).toThrow('not a whole number');
    expect(() => resolveShard({ flag: '1/4', shards: 5, env: {} })).toThrow('--shards says 5');
    expect(() => resolveShard({ env: {}, shards: 4 })).toThrow('without a shard index');
  });
});

function tenantsOfShardMap(all: readonly string[], n: number): Map<string, number> {
  const out = new Map<string, number>();
  for (let index = 0; index < n; index++) for (const t of tenantsOfShard(all.map((key) => ({ key })), { index, count: n })) out.set(t.key, index);
  return out;
}

describe('the fleet file', () => {
  it('reads YAML and JSON alike, with a hash of its content', () => {
    const yaml = parseFleet(stringify(fleetDoc()), 'fleet.yaml');
    const json = parseFleet(JSON.stringify(fleetDoc()), 'fleet.json');
    expect(yaml.ok && json.ok).toBe(true);
    if (!yaml.ok || !json.ok) return;
    expect(yaml.fleet.tenants.map((t) => t.key)).toEqual(['contoso', 'fabrikam']);
    expect(yaml.fleet.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(yaml.fleet.hash).toBe(json.fleet.hash);
    const other = parseFleet(stringify(fleetDoc({ name: 'msp-2' })), 'fleet.yaml');
    expect(other.ok && other.fleet.hash).not.toBe(yaml.fleet.hash);
  });

  it('names the file and the property of each problem', () => {
    const cases: Array<[unknown, string]> = [
      [{ ...fleetDoc(), extra: 1 }, 'fleet.yaml: $: Unrecognized key: "extra"'],
      [fleetDoc({ tenants: [{ key: 'Bad Key', id: guid(1), owners: [owner] }] }), 'fleet.yaml: $.tenants[0].key: must be 1 to 64 lower-case letters'],
      [fleetDoc({ tenants: [{ key: 'a', id: guid(1), owners: [] }] }), 'fleet.yaml: $.tenants[0].owners: name at least one owner'],
      [fleetDoc({ tenants: [{ key: 'a', id: guid(1), owners: [owner] }, { key: 'a', id: guid(2), owners: [owner] }] }), 'fleet.yaml: $.tenants[1].key: "a" is already the key of tenants[0]'],
      [fleetDoc({ tenants: [{ key: 'a', id: guid(1), owners: [owner] }, { key: 'b', id: guid(1).toUpperCase(), owners: [owner] }] }), `fleet.yaml: $.tenants[1].id: ${guid(1).toUpperCase()} is already the id of tenants[0]`],
      [fleetDoc({ auth: { method: 'token' } }), 'fleet.yaml: $.auth.method: token signs in to one tenant only'],
      [fleetDoc({ tenants: [{ key: 'a', id: guid(1), owners: [owner], auth: { method: 'secret', from: { AZURE_CLIENT_SECRET: 'not a name' } } }] }), 'fleet.yaml: $.tenants[0].auth.from.AZURE_CLIENT_SECRET: must be the name of an environment variable'],
      [fleetDoc({ tenants: [{ key: 'a', id: guid(1), owners: [owner], overrides: { owners: { 'MAIL.DMARC': owner } } }] }), 'fleet.yaml: $.tenants[0].overrides.owners'],
      [fleetDoc({ tenants: [
        { key: 'a', id: guid(1), owners: [owner], auth: { method: 'secret', from: { AZURE_CLIENT_SECRET: 'TENANT_A_SECRET' } } },
        { key: 'b', id: guid(2), owners: [owner], auth: { method: 'secret', from: { AZURE_CLIENT_SECRET: 'TENANT_A_SECRET' } } },
      ] }), "fleet.yaml: $.tenants[1].auth.from.AZURE_CLIENT_SECRET: TENANT_A_SECRET is already a credential of tenants[0]"],
      [{ ...fleetDoc(), fleetVersion: 2 }, 'fleet.yaml: $.fleetVersion: version 2 is not supported'],
      [{ ...fleetDoc(), kind: 'EmailSecurityPosture' }, 'fleet.yaml: $.kind: not a fleet file'],
    ];
    for (const [doc, message] of cases) {
      const r = parseFleet(stringify(doc), 'fleet.yaml');
      expect(r.ok, message).toBe(false);
      if (!r.ok) expect(r.errors[0], JSON.stringify(r.errors)).toContain(message);
    }
  });

  it('refuses text that is not YAML, duplicate keys, and deep nesting', () => {
    const broken = parseFleet('kind: PostureFleet\n  tenants: [', 'fleet.yaml');
    expect(!broken.ok && broken.errors[0]).toMatch(/^fleet\.yaml: not valid YAML/);
    const dup = parseFleet('kind: PostureFleet\nkind: PostureFleet\n', 'fleet.yaml');
    expect(!dup.ok && dup.errors[0]).toMatch(/^fleet\.yaml: not valid YAML/);
    const deep = parseFleet(`${'['.repeat(100)}${']'.repeat(100)}`, 'fleet.json');
    expect(!deep.ok && deep.errors[0]).toMatch(/nested deeper than/);
    const bomb = parseFleet(['a: &a [x, x, x, x, x, x, x, x, x, x]', ...Array.from({ length: 8 }, (_, i) => `${String.fromCharCode(98 + i)}: &${String.fromCharCode(98 + i)} [${Array(10).fill(`*${String.fromCharCode(97 + i)}`).join(', ')}]`)].join('\n'), 'fleet.yaml');
    expect(bomb.ok).toBe(false);
  });
});

describe("a tenant's stack: the baseline with its overrides", () => {
  let baseline: Manifest;
  beforeAll(() => {
    baseline = loadSynthOutput(join(synthExamples()), 'tailspin').manifest;
  });
  const tenant = (overrides: FleetTenant['overrides']): FleetTenant => ({ key: 'contoso', id: guid(1), owners: [owner], ...(overrides ? { overrides } : {}) });

  it('replaces domains, break-glass accounts and owners, adds exceptions, and names the tenant id', () => {
    const domain = baseline.desired.senderAuthentication!.domains[0]!;
    const other = { ...domain, name: 'contoso.example' };
    const dmarc = baseline.controls.find((c) => c.id.startsWith('MAIL.DMARC.'))!;
    const dmarcId = dmarc.id.replace(/v\d+$/, '');
    const special = { name: 'DNS lead', team: 'Contoso DNS', contact: 'dns@contoso.example' };
    const exception = { id: 'contoso-exc-1', control: dmarc.id, scope: { type: 'domain' as const, value: 'contoso.example' }, reason: 'Migration', approvedBy: 'ciso@contoso.example', expires: '2026-12-31', declaredBy: 'fleet' };
    const r = tenantManifest(baseline, tenant({ domains: [other], breakGlass: { users: ['bg@contoso.example'], groups: [] }, owners: { '*': owner, [dmarcId]: special }, exceptions: [exception as never] }), 'fleet.yaml: $.tenants[0]');
    expect(r.ok, JSON.stringify(!r.ok && r.errors)).toBe(true);
    if (!r.ok) return;
    expect(r.manifest.organization.tenantId).toBe(guid(1));
    expect(r.manifest.desired.senderAuthentication!.domains.map((d) => d.name)).toEqual(['contoso.example']);
    expect(r.manifest.breakGlass.users).toEqual(['bg@contoso.example']);
    expect(r.manifest.controls.find((c) => c.id === dmarc.id)!.owner).toEqual(special);
    expect(r.manifest.controls.filter((c) => c.id !== dmarc.id).every((c) => c.owner.contact === owner.contact)).toBe(true);
    expect(r.manifest.exceptions).toHaveLength(baseline.exceptions.length + 1);
    // The baseline is left as it was.
    expect(baseline.organization.tenantId).not.toBe(guid(1));
  });

  it('refuses an owner for a control the baseline does not declare, and an override the manifest schema refuses', () => {
    const r = tenantManifest(baseline, tenant({ owners: { 'MAIL.NOPE.9': owner } }), 'fleet.yaml: $.tenants[0]');
    expect(!r.ok && r.errors[0]).toContain('fleet.yaml: $.tenants[0].overrides.owners["MAIL.NOPE.9"]: the baseline stack "tailspin" does not declare MAIL.NOPE.9');
    const bad = tenantManifest(baseline, tenant({ exceptions: [{ id: 'x', control: 'MAIL.NOPE.9v1', scope: { type: 'domain', value: 'x.example' }, reason: 'r', approvedBy: 'a@x.example', expires: '2026-12-31', declaredBy: 'fleet' } as never] }), 'fleet.yaml: $.tenants[0]');
    expect(!bad.ok && bad.errors.join('\n')).toContain('$.exceptions[');
  });
});

describe("each tenant's sign-in environment", () => {
  const fleet = parseFleet(stringify(fleetDoc()), 'fleet.yaml') as { ok: true; fleet: Fleet };
  const env = { PATH: '/usr/bin', AZURE_FEDERATED_TOKEN_FILE: '/var/run/secrets/azure/tokens/azure-identity-token', AZURE_CLIENT_SECRET: 'process-secret', POSTURE_GRAPH_TOKEN: 'someone-elses-token', AZURE_TENANT_ID: guid(99), CONTOSO_SECRET: 'contoso-secret' };

  it("the fleet's application: its client id, the process's federated token file, the tenant's id", () => {
    const r = tenantEnv(fleet.fleet.auth, fleet.fleet.tenants[0]!, env);
    expect(r.env['AZURE_CLIENT_ID']).toBe('3c9b7a51-0000-4000-8000-0000000f1ee7');
    expect(r.env['AZURE_TENANT_ID']).toBe(guid(1));
    expect(r.env['AZURE_FEDERATED_TOKEN_FILE']).toBe(env.AZURE_FEDERATED_TOKEN_FILE);
    expect(r.env['PATH']).toBe('/usr/bin');
  });

  it("a tenant's own credentials: only the variables its from names, never the process's secret or token", () => {
    const t: FleetTenant = { key: 'contoso', id: guid(1), owners: [owner], auth: { method: 'secret', clientId: '3c9b7a51-0000-4000-8000-00000000c0c0', from: { AZURE_CLIENT_SECRET: 'CONTOSO_SECRET' } } };
    const r = tenantEnv(fleet.fleet.auth, t, env);
    expect(r.auth.method).toBe('secret');
    expect(r.env['AZURE_CLIENT_SECRET']).toBe('contoso-secret');
    expect(r.env['AZURE_CLIENT_ID']).toBe('3c9b7a51-0000-4000-8000-00000000c0c0');
    expect(r.env['POSTURE_GRAPH_TOKEN']).toBeUndefined();
    expect(r.env['AZURE_FEDERATED_TOKEN_FILE']).toBeUndefined();
    const missing = tenantEnv(fleet.fleet.auth, { ...t, auth: { method: 'secret', from: { AZURE_CLIENT_SECRET: 'UNSET_SECRET' } } }, env);
    expect(missing.missing).toEqual(['UNSET_SECRET']);
    expect(missing.env['AZURE_CLIENT_SECRET']).toBeUndefined();
  });
});

describe('merging results', () => {
  const fleet = (parseFleet(stringify(fleetDoc()), 'fleet.yaml') as { ok: true; fleet: Fleet }).fleet;
  const result = (key: string, id: string, hash = fleet.hash): FleetResult => ({
    format: 'email-posture-fleet-result', formatVersion: 1, fleet: { name: 'msp', hash }, tenant: { key, tenantId: id, owners: [owner] },
    shard: { index: 0, count: 1 }, kind: 'drift', startedAt: '2026-06-01T00:00:00Z', finishedAt: '2026-06-01T00:01:00Z', outcome: 'error', exitCode: 1, error: 'sign-in refused',
  });

  it('refuses results of another revision of the fleet file, and tenants it does not have', () => {
    const r = mergeResults({ results: [{ result: result('contoso', guid(1), 'f'.repeat(64)), source: 'a.json' }], fleet, now: new Date() });
    expect(!r.ok && r.errors[0]).toContain('a.json is of another revision of the fleet file');
    const stranger = mergeResults({ results: [{ result: result('northwind', guid(7)), source: 'b.json' }], fleet, now: new Date() });
    expect(!stranger.ok && stranger.errors[0]).toBe('b.json: tenant northwind is not in the fleet file');
    const mixed = mergeResults({ results: [{ result: result('contoso', guid(1)), source: 'a.json' }, { result: result('fabrikam', guid(2), 'e'.repeat(64)), source: 'b.json' }], now: new Date() });
    expect(!mixed.ok && mixed.errors[0]).toContain('2 revisions of the fleet file');
  });

  it('takes no result of another run, none older than the limit and none from the future: their tenants are missing, with or without the fleet file', () => {
    const clean = (key: string, id: string, fields: Partial<FleetResult>): FleetResult => {
      const { error: _error, ...rest } = result(key, id);
      return { ...rest, outcome: 'clean', exitCode: 0, ...fields };
    };
    const now = new Date('2026-06-02T00:30:00Z');
    const results = [
      { result: clean('contoso', guid(1), { run: '41', finishedAt: '2026-06-02T00:10:00Z' }), source: 'tonight/contoso.json' },
      { result: clean('fabrikam', guid(2), { run: '40', finishedAt: '2026-06-01T00:10:00Z' }), source: 'last-night/fabrikam.json' },
    ];
    const byRun = mergeResults({ results, now, runId: '41' });
    expect(byRun.ok).toBe(true);
    if (!byRun.ok) return;
    expect(byRun.report.tenants.map((t) => [t.key, t.outcome])).toEqual([['fabrikam', 'missing'], ['contoso', 'clean']]);
    expect(byRun.report.tenants[0]!.error).toBe('no current result: its result (last-night/fabrikam.json) is of run 40, not run 41');
    expect(byRun.report.exitCode).toBe(1);
    const byAge = mergeResults({ results, fleet, now, maxAgeHours: 20 });
    expect(byAge.ok && byAge.report.tenants.find((t) => t.key === 'fabrikam')).toMatchObject({ outcome: 'missing', error: expect.stringContaining('finished at 2026-06-01T00:10:00Z, more than 20 hours before the merge') });
    const future = mergeResults({ results: [{ result: clean('contoso', guid(1), { finishedAt: '2099-01-01T00:00:00Z' }), source: 'x.json' }], now });
    expect(future.ok && future.report.tenants.map((t) => [t.key, t.outcome])).toEqual([['contoso', 'missing']]);
  });

  it("names a tenant's owners as the fleet file does, whatever its result says", () => {
    const impostor = { ...result('contoso', guid(1)), tenant: { key: 'contoso', tenantId: guid(1), name: 'Not Contoso', owners: [{ name: 'Someone Else', team: 'X', contact: 'x@elsewhere.example' }] } };
    const r = mergeResults({ results: [{ result: impostor, source: 'a.json' }], fleet, now: new Date('2026-06-01T01:00:00Z') });
    const row = r.ok ? r.report.tenants.find((t) => t.key === 'contoso') : undefined;
    expect(row?.owners).toEqual(fleet.tenants.find((t) => t.key === 'contoso')!.owners);
    expect(row?.name).toBe(fleet.tenants.find((t) => t.key === 'contoso')!.name);
  });

  it('takes the later of two results of one tenant, says so, and names the tenants without one', () => {
    const late = { ...result('contoso', guid(1)), finishedAt: '2026-06-01T00:05:00Z', error: 'second try' };
    const r = mergeResults({ results: [{ result: result('contoso', guid(1)), source: 'a.json' }, { result: late, source: 'b.json' }], fleet, now: new Date('2026-06-01T01:00:00Z') });
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.notes[0]).toContain('the one that finished last, b.json, is taken');
    expect(r.report.tenants.map((t) => [t.key, t.outcome])).toEqual([['contoso', 'error'], ['fabrikam', 'missing']]);
    expect(r.report.tenants[0]!.error).toBe('second try');
    expect(r.report.exitCode).toBe(1);
  });
});
