import { isActionable, SEVERITIES } from '../report/shared.js';
import { OUTCOME_RANK, FLEET_REPORT_FORMAT, type FleetReport, type FleetRespondRow, type FleetResult, type FleetTenantRow } from '../model/fleet.js';
import type { Fleet } from './file.js';
import { shardOf } from './shard.js';

export interface MergeInput {
  readonly results: ReadonlyArray<{ readonly result: FleetResult; readonly source: string }>;
  /** The fleet file, when given: its tenants without a result are named as missing. */
  readonly fleet?: Fleet;
  readonly now: Date;
  /** Results that finished longer ago than this are stale: their tenants are missing. @default no limit */
  readonly maxAgeHours?: number;
  /** The engine run being merged: a result of another run (or of none) is stale. @default any run */
  readonly runId?: string;
}

/** `taken`: the one result of each tenant the report stands on (none of another run, none stale). */
export type Merged = { ok: true; report: FleetReport; notes: string[]; taken: FleetResult[] } | { ok: false; errors: string[] };

/**
 * The fleet view from the tenants' results. Refused when the results are of different revisions of
 * the fleet file (or not of the one given), or name a tenant the fleet does not have. A tenant with
 * two results (a retried job) is taken from the one that finished last, and the note says so. Pure.
 */
export function mergeResults(input: MergeInput): Merged {
  const errors: string[] = [];
  const notes: string[] = [];
  // A result of another run, or older than the merge accepts, stands for nothing tonight: its tenant is missing, named with why.
  const stale = new Map<string, { result: FleetResult; why: string }>();
  const oldest = input.maxAgeHours === undefined ? undefined : input.now.getTime() - input.maxAgeHours * 3_600_000;
  const current = input.results.filter((r) => {
    const why =
      input.runId !== undefined && r.result.run !== input.runId
        ? `its result (${r.source}) is of ${r.result.run === undefined ? 'no recorded run' : `run ${r.result.run}`}, not run ${input.runId}`
        : oldest !== undefined && Date.parse(r.result.finishedAt) < oldest
          ? `its result (${r.source}) finished at ${r.result.finishedAt}, more than ${input.maxAgeHours} hours before the merge`
          : Date.parse(r.result.finishedAt) > input.now.getTime() + 3_600_000
            ? `its result (${r.source}) says it finished at ${r.result.finishedAt}, after the merge`
            : undefined;
    if (why && !stale.has(r.result.tenant.key)) stale.set(r.result.tenant.key, { result: r.result, why });
    return why === undefined;
  });
  const hashes = new Map<string, string>();
  for (const { result, source } of current) if (!hashes.has(result.fleet.hash)) hashes.set(result.fleet.hash, source);
  if (input.fleet) {
    for (const [hash, source] of hashes) {
      if (hash !== input.fleet.hash) errors.push(`${source} is of another revision of the fleet file (fleet hash ${hash.slice(0, 12)}…, the file given is ${input.fleet.hash.slice(0, 12)}…): run the shards again with the same fleet file`);
    }
  } else if (hashes.size > 1) {
    errors.push(`the results are of ${hashes.size} revisions of the fleet file (${[...hashes.values()].join(', ')} differ): merge the results of one run`);
  }
  const byKey = new Map<string, { result: FleetResult; source: string }>();
  for (const r of current) {
    const seen = byKey.get(r.result.tenant.key);
    if (seen) {
      const later = Date.parse(r.result.finishedAt) > Date.parse(seen.result.finishedAt) ? r : seen;
      notes.push(`tenant ${r.result.tenant.key} has two results (${seen.source}, ${r.source}): the one that finished last, ${later.source}, is taken`);
      byKey.set(r.result.tenant.key, later);
    } else byKey.set(r.result.tenant.key, r);
  }
  const fleetTenants = input.fleet ? new Map(input.fleet.tenants.map((t) => [t.key, t])) : undefined;
  if (fleetTenants) {
    for (const [key, r] of byKey) {
      const t = fleetTenants.get(key);
      if (!t) errors.push(`${r.source}: tenant ${key} is not in the fleet file`);
      else if (t.id.toLowerCase() !== r.result.tenant.tenantId.toLowerCase()) errors.push(`${r.source}: tenant ${key} is ${r.result.tenant.tenantId} there, ${t.id} in the fleet file`);
    }
  }
  if (errors.length) return { ok: false, errors };

  const columns = new Map<string, string>();
  // Who a tenant is and who owns it is the fleet file's to say, when it is given, not a result's.
  const rows: FleetTenantRow[] = [...byKey.values()].map(({ result }) => {
    const row = rowOf(result, columns);
    const t = fleetTenants?.get(result.tenant.key);
    if (!t) return row;
    const { name: _name, ...rest } = row;
    return { ...rest, ...(t.name ? { name: t.name } : {}), owners: t.owners };
  });
  // A stale result's tenant is missing even without the fleet file: it is never left out silently.
  for (const [key, { result, why }] of stale) {
    if (byKey.has(key) || fleetTenants?.has(key)) continue;
    rows.push({
      key, tenantId: result.tenant.tenantId, ...(result.tenant.name ? { name: result.tenant.name } : {}), owners: result.tenant.owners, outcome: 'missing', exitCode: 1,
      error: `no current result: ${why}`, bySeverity: { critical: 0, high: 0, medium: 0, low: 0 }, findings: 0, incomplete: [], controls: {},
    });
  }
  if (fleetTenants) {
    for (const t of fleetTenants.values()) {
      if (byKey.has(t.key)) continue;
      const old = stale.get(t.key);
      rows.push({
        key: t.key, tenantId: t.id, ...(t.name ? { name: t.name } : {}), owners: t.owners, outcome: 'missing', exitCode: 1,
        error: old
          ? `no current result: ${old.why}`
          : `no result: the shard that runs it (${input.results[0] ? `shard ${shardLabel(t.key, input.results[0].result.shard.count)}` : 'its shard'}) did not run or its result was not collected`,
        bySeverity: { critical: 0, high: 0, medium: 0, low: 0 }, findings: 0, incomplete: [], controls: {},
      });
    }
  }
  rows.sort(worstFirst);
  const summary = { tenants: rows.length, missing: 0, error: 0, incomplete: 0, findings: 0, clean: 0 };
  for (const r of rows) summary[r.outcome]++;
  const kinds = new Set(input.results.map((r) => r.result.kind));
  const respond = [...byKey.values()].filter(({ result }) => result.kind === 'respond').map(({ result }) => respondRowOf(result)).sort(respondWorstFirst);
  const exitCode: 0 | 1 | 2 = summary.missing || summary.error || summary.incomplete ? 1 : summary.findings ? 2 : 0;
  const name = input.fleet?.name ?? input.results[0]?.result.fleet.name ?? 'fleet';
  const hash = input.fleet?.hash ?? input.results[0]?.result.fleet.hash ?? '';
  return {
    ok: true,
    notes,
    taken: [...byKey.values()].map(({ result }) => result),
    report: {
      format: FLEET_REPORT_FORMAT,
      formatVersion: 1,
      createdAt: input.now.toISOString(),
      fleet: { name, hash },
      kind: kinds.size === 1 ? [...kinds][0]! : kinds.size === 0 ? 'drift' : 'mixed',
      summary,
      controls: [...columns].map(([id, title]) => ({ id, title })),
      tenants: rows,
      ...(respond.length ? { respond } : {}),
      exitCode,
    },
  };
}

/** The shard a missing tenant belongs to, numbered as `--shard` numbers it (from 1). */
const shardLabel = (key: string, count: number) => `${shardOf(key, count) + 1}/${count}`;

function rowOf(r: FleetResult, columns: Map<string, string>): FleetTenantRow {
  const bySeverity = { critical: 0, high: 0, medium: 0, low: 0 };
  let findings = 0;
  // A respond run's findings are its incidents.
  if (r.response) findings = r.response.incidents.length + r.response.protected.length;
  for (const f of r.plan?.findings ?? []) {
    if (!isActionable(f)) continue;
    findings++;
    bySeverity[f.severity]++;
  }
  const controls: Record<string, string> = {};
  for (const c of r.plan?.controls ?? []) {
    if (!columns.has(c.control.id)) columns.set(c.control.id, c.control.title);
    controls[c.control.id] = c.result;
  }
  return {
    key: r.tenant.key,
    tenantId: r.tenant.tenantId,
    ...(r.tenant.name !== undefined ? { name: r.tenant.name } : {}),
    owners: r.tenant.owners,
    outcome: r.outcome,
    exitCode: r.exitCode,
    shard: r.shard,
    ...(r.error !== undefined ? { error: r.error } : {}),
    bySeverity,
    findings,
    incomplete: (r.plan?.incomplete ?? r.response?.incomplete ?? []).map((i) => `${i.what} (${i.endpoint}): ${i.error}`),
    controls,
    finishedAt: r.finishedAt,
  };
}

function worstFirst(a: FleetTenantRow, b: FleetTenantRow): number {
  const rank = OUTCOME_RANK[a.outcome] - OUTCOME_RANK[b.outcome];
  if (rank) return rank;
  for (const s of SEVERITIES) {
    const d = b.bySeverity[s] - a.bySeverity[s];
    if (d) return d;
  }
  return b.findings - a.findings || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0);
}

/** A respond result's row: its incidents with what the matrix decided, and what became of the writes. */
function respondRowOf(r: FleetResult): FleetRespondRow {
  const p = r.response;
  const incidents = [...(p?.incidents ?? []), ...(p?.protected ?? [])].map((i) => ({
    id: i.id,
    upn: i.identity.upn,
    tier: i.tier,
    confidence: i.confidence,
    actions: i.actions.map((a) => ({ action: a.action, disposition: a.disposition, writes: a.writes, ...(a.heldBack !== undefined ? { heldBack: a.heldBack } : {}) })),
  }));
  const applied = r.respond?.applied ?? 0;
  const failed = r.respond?.failed ?? 0;
  return {
    key: r.tenant.key,
    tenantId: r.tenant.tenantId,
    ...(r.tenant.name !== undefined ? { name: r.tenant.name } : {}),
    outcome: r.outcome,
    ...(r.error !== undefined ? { error: r.error } : {}),
    incidents,
    protected: p?.protected.length ?? 0,
    chains: p?.chains?.length ?? 0,
    ...(p?.circuitBreaker !== undefined ? { circuitBreaker: p.circuitBreaker } : {}),
    taken: applied,
    failed,
    planned: r.respond?.approved ? 0 : (p?.changes.length ?? 0),
    awaitingApproval: p?.approvals.length ?? 0,
    incomplete: (p?.incomplete ?? []).map((i) => `${i.what} (${i.endpoint}): ${i.error}`),
  };
}

const CONFIDENCE_RANK: Readonly<Record<string, number>> = { high: 0, medium: 1, low: 2 };

/** Failed and incomplete first, then the most high-confidence incidents, the most incidents, the most writes waiting, then by key. */
function respondWorstFirst(a: FleetRespondRow, b: FleetRespondRow): number {
  const rank = OUTCOME_RANK[a.outcome] - OUTCOME_RANK[b.outcome];
  if (rank) return rank;
  const high = (r: FleetRespondRow) => r.incidents.filter((i) => (CONFIDENCE_RANK[i.confidence] ?? 3) === 0).length;
  return high(b) - high(a) || b.incidents.length - a.incidents.length || b.awaitingApproval + b.planned - (a.awaitingApproval + a.planned) || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0);
}
