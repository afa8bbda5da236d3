import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { permissionsFor } from '../../reconciler/cli/permissions.js';
import type { FleetReport, FleetResult } from '../../reconciler/model/fleet.js';
import { ALL_GRAPH_PERMISSIONS, loadScenario, ROLE_IDS, scenarioDrifts, startSimulator, type RunningSimulator, type Scenario } from '../../simulator/index.js';
import { applyDrifts } from '../../simulator/scenario/scenario.js';
import { cli, synthExamples, TODAY, trailOf, type CliResult } from '../reconciler/harness.js';

// Five simulated tenants behind one set of endpoints: two in the `incident` scenario, two
// `compliant` (with the response policy's tier groups), one whose own credentials are wrong. `posture fleet respond` runs each through the
// one respond composition with its own stack and sign-in; first without --auto-approve (nothing is
// written, each incident's plan of actions in its result), then with it (the automatic actions run
// per tenant, approvals still wait). The merge names the failing tenant and exits 1.

const CLIENT = '3c9b7a51-0000-4000-8000-00000000a5b0';
const SECRET = 'Fleet~simulated.respond-secret_9kQ2pLmN4vRw2zYb6';
const WRONG = 'Fleet~not-the-secret_1111111111111111111';
const SINCE = '2026-11-16T00:00:00Z';
const tenantId = (i: number) => `b0b0e000-0000-4000-8000-${(i + 1).toString(16).padStart(12, '0')}`;
/**
 * The compliant tenant with the groups and the service account the example response policy tiers
 * by (as the incident scenario adds them), and no signal: respond reads it in full and finds nothing.
 */
const CALM: Scenario = applyDrifts(loadScenario('compliant'), { name: 'compliant-with-tiers', drifts: scenarioDrifts('incident').filter((d) => ['finance-user', 'service-account', 'watchlist-group'].includes(d.id)) } as Parameters<typeof applyDrifts>[1]);
const TENANTS = [
  { key: 'incident-a', scenario: 'incident' },
  { key: 'calm-b', scenario: CALM },
  { key: 'incident-c', scenario: 'incident' },
  { key: 'calm-d', scenario: CALM },
  { key: 'broken-e', scenario: CALM },
] as const;
const FAILING = 'broken-e';
const INCIDENT = new Set(['incident-a', 'incident-c']);
const JAMIE = 'jamie.brooks@tailspintoys.example';

let sim: RunningSimulator;
let work: string;
let fleetFile: string;
let held: CliResult;
let merged: CliResult;
let approved: CliResult;

const idOf = (key: string) => tenantId(TENANTS.findIndex((t) => t.key === key));
/** What respond may change of one user of one tenant. */
function jamie(key: string) {
  const t = sim.tenants.get(idOf(key))!.tenant;
  const u = t.graph.users.findBy('userPrincipalName', JAMIE)[0]!;
  return { sessions: u['signInSessionsValidFromDateTime'], risk: t.graph.riskyUsers.get(u.id)?.['riskState'] ?? null, rules: t.inboxRules.list(u.id).map((r) => r['displayName']) };
}
const results = (dir: string): FleetResult[] => readdirSync(join(work, dir)).map((f) => JSON.parse(readFileSync(join(work, dir, f), 'utf8')) as FleetResult);
const byKey = (dir: string) => new Map(results(dir).map((r) => [r.tenant.key, r]));

beforeAll(async () => {
  const synthDir = synthExamples();
  work = mkdtempSync(join(tmpdir(), 'posture-fleet-respond-'));
  const perms = permissionsFor('respond');
  sim = await startSimulator({
    scenario: 'compliant',
    tenants: TENANTS.map((t, i) => ({ id: tenantId(i), displayName: `Customer ${t.key}`, scenario: t.scenario })),
    identity: {
      apps: [{
        clientId: CLIENT, displayName: 'msp posture responder', secrets: [{ value: SECRET }],
        roles: { graph: [...ALL_GRAPH_PERMISSIONS], exchange: perms.filter((p) => p.api === 'exchange').map((p) => p.name) },
        directoryRoles: [ROLE_IDS.exchangeAdministrator, ROLE_IDS.globalReader, ROLE_IDS.userAdministrator],
      }],
    },
  });
  fleetFile = join(work, 'fleet.yaml');
  writeFileSync(fleetFile, stringify({
    fleetVersion: 1, kind: 'PostureFleet', name: 'msp-respond', baseline: { stack: 'tailspin' }, concurrency: 2,
    auth: { method: 'secret', clientId: CLIENT },
    tenants: TENANTS.map((t, i) => ({
      key: t.key, id: tenantId(i), name: `Customer ${t.key}`, owners: [{ name: `${t.key} lead`, team: 'Managed Services', contact: `${t.key}@msp.example` }],
      ...(t.key === FAILING ? { auth: { method: 'secret', clientId: CLIENT, from: { AZURE_CLIENT_SECRET: 'BROKEN_CLIENT_SECRET' } } } : {}),
    })),
  }));
  const env = { ...sim.identity!.env, AZURE_CLIENT_SECRET: SECRET, BROKEN_CLIENT_SECRET: WRONG };
  const target = ['--fleet', fleetFile, '--synth-dir', synthDir, '--shard', '1/1', '--graph-url', sim.graphUrl, '--exchange-url', sim.exoUrl, '--dns-server', `${sim.dns.host}:${sim.dns.port}`, '--today', TODAY, '--since', SINCE, '--evidence-dir', join(work, 'evidence')];
  const before = Object.fromEntries([...INCIDENT].map((k) => [k, jamie(k)]));
  held = await cli(['fleet', 'respond', ...target, '--out-dir', join(work, 'held')], env);
  // Nothing was written without --auto-approve: checked here, before the approved run changes the tenants.
  for (const k of INCIDENT) expect(jamie(k), k).toEqual(before[k]);
  merged = await cli(['fleet', 'merge', join(work, 'held'), '--fleet', fleetFile, '--out-dir', join(work, 'report')]);
  approved = await cli(['fleet', 'respond', ...target, '--out-dir', join(work, 'approved'), '--auto-approve'], env);
}, 600_000);

afterAll(() => sim?.stop());

describe('posture fleet respond over five tenants, one failing', () => {
  it("every other tenant's respond result is there; the failing one is named, and the shard exits 1", () => {
    expect(held.code, held.stderr).toBe(1);
    const r = byKey('held');
    expect([...r.keys()].sort()).toEqual(TENANTS.map((t) => t.key).sort());
    const failing = r.get(FAILING)!;
    expect([failing.kind, failing.outcome, failing.exitCode]).toEqual(['respond', 'error', 1]);
    expect(failing.error).toBeTruthy();
    expect(held.stderr).toContain(`not read in full: ${FAILING}`);
    expect(held.stderr + held.stdout).not.toContain(WRONG);
    for (const [key, res] of r) {
      if (key === FAILING) continue;
      expect(res.outcome, `${key}: ${res.error ?? ''}`).toBe(INCIDENT.has(key) ? 'findings' : 'clean');
      expect(res.response!.tenantId).toBe(idOf(key));
      expect(res.response!.incomplete).toEqual([]);
    }
  });

  it("a tenant with an incident has its plan of actions in its result; without --auto-approve none of it ran", () => {
    const r = byKey('held');
    for (const key of INCIDENT) {
      const res = r.get(key)!;
      const incident = res.response!.incidents.find((i) => i.identity.upn === JAMIE)!;
      expect(incident, key).toBeDefined();
      expect(incident.actions.filter((a) => a.disposition === 'automatic').map((a) => a.action)).toContain('revokeSessions');
      expect(res.response!.changes.length).toBeGreaterThan(0);
      expect(res.response!.approvals.length).toBeGreaterThan(0);
      expect(res.respond).toEqual({ approved: false, applied: 0, failed: 0 });
      // Writes wait: the exit code respond would give.
      expect(res.exitCode).toBe(2);
    }
    for (const key of ['calm-b', 'calm-d']) expect(r.get(key)!.response!.incidents, key).toEqual([]);
  });

  it('the merge has a respond section, incidents per tenant worst first, and exits 1 naming the failing tenant', () => {
    expect(merged.code, merged.stderr).toBe(1);
    expect(merged.stderr).toMatch(new RegExp(`- ${FAILING} \\(${idOf(FAILING)}\\): error`));
    const report = JSON.parse(readFileSync(join(work, 'report', 'fleet.json'), 'utf8')) as FleetReport;
    expect(report.kind).toBe('respond');
    const rows = report.respond!;
    expect(rows.map((t) => t.key)).toEqual([FAILING, ...[...INCIDENT].sort(), 'calm-b', 'calm-d']);
    for (const key of INCIDENT) {
      const row = rows.find((t) => t.key === key)!;
      expect(row.incidents.some((i) => i.upn === JAMIE)).toBe(true);
      expect(row.taken).toBe(0);
      expect(row.planned).toBeGreaterThan(0);
      expect(row.awaitingApproval).toBeGreaterThan(0);
    }
    const md = readFileSync(join(work, 'report', 'fleet.md'), 'utf8');
    expect(md).toContain('## Respond: incidents per tenant, worst first');
    expect(readFileSync(join(work, 'report', 'fleet.html'), 'utf8')).toContain('<h2>Respond: incidents per tenant, worst first</h2>');
  });

  it("with --auto-approve each incident tenant's automatic actions run, verified and on its own trail; approvals still wait; the calm tenants are untouched", () => {
    expect(approved.code, approved.stderr).toBe(1);
    const r = byKey('approved');
    expect(r.get(FAILING)!.outcome).toBe('error');
    for (const key of INCIDENT) {
      const res = r.get(key)!;
      expect(res.outcome, `${key}: ${res.error ?? ''}`).toBe('findings');
      expect(res.respond!.approved).toBe(true);
      expect(res.respond!.applied).toBe(res.response!.changes.length);
      expect(res.respond!.failed).toBe(0);
      expect(res.response!.approvals.length).toBeGreaterThan(0);
      expect(jamie(key)).toMatchObject({ risk: 'confirmedCompromised', rules: [] });
      const trail = trailOf(join(work, 'evidence', `${key}.jsonl`));
      expect(trail.filter((x) => x.kind === 'response').length).toBe(2);
      expect(trail.filter((x) => x.kind === 'change' && (x as { result?: string }).result === 'applied').length).toBe(res.respond!.applied);
    }
    for (const key of ['calm-b', 'calm-d']) {
      expect(r.get(key)!.outcome).toBe('clean');
      expect(r.get(key)!.respond).toEqual({ approved: false, applied: 0, failed: 0 });
    }
  });

  it('a respond result changed after it was written is refused by the merge, naming the file and the field', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'posture-fleet-respond-tampered-'));
    const r = JSON.parse(readFileSync(join(work, 'held', 'incident-a.json'), 'utf8')) as { response: { incidents: Array<{ actions: unknown[] }> } };
    r.response.incidents[0]!.actions = [];
    writeFileSync(join(dir, 'incident-a.json'), JSON.stringify(r));
    const m = await cli(['fleet', 'merge', dir, '--out-dir', join(dir, 'report')]);
    expect(m.code).toBe(1);
    expect(m.stderr).toContain(`${join(dir, 'incident-a.json')}: $.response.planHash: the response plan's content does not match its hash`);
    expect(m.stderr).not.toMatch(/\n\s+at /);
  });

  it('--help describes every option, with examples and exit codes', async () => {
    const r = await cli(['fleet', 'respond', '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout.split('\n').filter((l) => /^ {2}(--?[\w-]+(?:, --?[\w-]+)*|[a-z][\w-]*) +\[/.test(l))).toEqual([]);
    expect(r.stdout).toMatch(/\nExamples:\n {2}posture fleet respond /);
    const codes = /\nExit codes:\n((?: {2}\d+ {2}.+\n?)+)/.exec(r.stdout);
    expect(codes![1]).toMatch(/^ {2}1 {2}/m);
    expect(r.stdout).toContain('--auto-approve');
  });
});
