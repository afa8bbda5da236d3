import { directoryOf, type Directory } from '../evaluate/context.js';
import { evaluate } from '../evaluate/index.js';
import type { PlanDocument } from '../findings/model.js';
import type { Connection } from '../input/connection.js';
import { InputError } from '../input/synth-output.js';
import type { Manifest } from '../manifest/schema.js';
import { canonicalJson, planHashOf, sha256 } from '../plan/build.js';
import { readTenant, type LiveState } from '../read/live.js';
import { diffPolicy, resolvePolicy } from '../resources/conditional-access-policy.js';
import { errorOf } from '../transport/graph.js';
import { restored } from './rollback.js';
import { readGraph, readTarget, snapshot } from './target.js';
import { fingerprintOf, type PlannedChange, type Write } from './writes.js';

type Obj = Record<string, unknown>;

/** Apply refuses: nothing has been written. */
export class ApplyRefused extends InputError {}

export interface ChangeOutcome {
  readonly change: PlannedChange;
  readonly result: 'applied' | 'failed';
  /** The resource as read just before the write. */
  readonly before?: unknown;
  readonly after?: unknown;
  readonly error?: string;
}

export interface ApplyHooks {
  /** Asked once, after every check passed and before the first write. */
  confirm(changes: readonly PlannedChange[]): Promise<boolean>;
  /** Told about each change as it completes (for the evidence trail and the log). */
  onChange?(outcome: ChangeOutcome): void;
}

/** Checks that make apply refuse before anything is written. Returns the fresh live state. */
export async function preflight(plan: PlanDocument, manifest: Manifest, conn: Connection, o: { maxChanges: number; today: string }): Promise<{ live: LiveState; dir: Directory }> {
  if (plan.planHash !== planHashOf(plan)) throw new ApplyRefused('the plan file was altered after it was made (its hash does not match its content); make a new plan');
  if (plan.kind !== 'plan') throw new ApplyRefused('this is a drift report, not a plan; make one with `posture plan --out FILE`');
  if (plan.desiredHash !== sha256(canonicalJson(manifest))) throw new ApplyRefused('the posture changed since the plan was made (the synthesized manifest differs); make a new plan');
  if (plan.tenantId !== conn.tenant) throw new ApplyRefused(`the plan is for tenant ${plan.tenantId}, not ${conn.tenant}`);
  if (plan.incomplete.length) throw new ApplyRefused('the plan was made from an incomplete read; make a new plan');
  if (plan.changes.length > o.maxChanges) throw new ApplyRefused(`the plan has ${plan.changes.length} changes, more than --max-changes ${o.maxChanges}; review it in parts or raise the limit`);

  const live = await readTenant(manifest, { graph: conn.graph, exchange: conn.exchange, resolver: conn.resolver });
  const fresh = evaluate(manifest, live, o.today);
  if (fresh.incomplete.length) throw new ApplyRefused(`the tenant could not be read completely before applying: ${fresh.incomplete.map((i) => i.what).join(', ')}`);
  const byId = new Map(fresh.findings.map((f) => [f.id, f]));
  for (const c of plan.changes) {
    // A rollback's changes undo earlier writes, not findings: each is checked against its resource as read now.
    const stale = c.rollbackOf
      ? fingerprintOf(snapshot(await readTarget(conn, c.write))) !== c.fingerprint
      : fingerprintOf(byId.get(c.findingId)?.evidence.live) !== c.fingerprint || !byId.has(c.findingId);
    if (stale) {
      throw new ApplyRefused(`stale plan: ${c.resource.type} "${c.resource.name}" changed since ${c.readAt}; make a new ${c.rollbackOf ? 'rollback' : 'plan'}`);
    }
  }
  const dir = directoryOf(live);
  for (const c of plan.changes) checkBreakGlass(c, manifest, dir, live);
  return { live, dir };
}

/**
 * The break-glass rail: no conditional access write may leave a policy that applies to a declared
 * break-glass account, whatever the plan file says.
 */
function checkBreakGlass(c: PlannedChange, m: Manifest, dir: Directory, live: LiveState): void {
  if (c.write.api !== 'graph' || !c.write.path.startsWith('/identity/conditionalAccess/policies') || c.write.method === 'DELETE') return;
  const existing = c.write.method === 'PATCH' && live.caPolicies?.ok ? live.caPolicies.value.find((p) => c.write.api === 'graph' && c.write.path.endsWith(`/${encodeURIComponent(String(p['id']))}`)) : undefined;
  const result = { ...(existing ?? {}), ...(c.write.body ?? {}) } as Obj;
  if (result['state'] === 'disabled') return;
  const users = (((result['conditions'] as Obj | undefined)?.['users'] ?? {}) as Obj);
  const excluded = new Set(((users['excludeUsers'] as string[] | undefined) ?? []).map((x) => x.toLowerCase()));
  const excludedGroups = new Set(((users['excludeGroups'] as string[] | undefined) ?? []).map((x) => x.toLowerCase()));
  for (const upn of m.breakGlass.users) {
    const id = dir.userByUpn(upn)?.['id'];
    if (!id || !excluded.has(String(id).toLowerCase())) {
      throw new ApplyRefused(`refusing to write conditional access policy "${c.resource.name}": it would apply to break-glass account ${upn}`);
    }
  }
  for (const g of m.breakGlass.groups) {
    const id = dir.groupByName(g)?.['id'];
    if (!id || !excludedGroups.has(String(id).toLowerCase())) throw new ApplyRefused(`refusing to write conditional access policy "${c.resource.name}": it would apply to break-glass group ${g}`);
  }
}

/**
 * Applies the plan's changes one by one, each verified by a read after it. Stops at the first change
 * that fails or does not verify. Running again (after a new plan) converges: a change already made
 * no longer appears in the plan.
 */
export async function applyChanges(plan: PlanDocument, manifest: Manifest, conn: Connection, dir: Directory, hooks: ApplyHooks): Promise<ChangeOutcome[]> {
  const outcomes: ChangeOutcome[] = [];
  for (const change of plan.changes) {
    let outcome: ChangeOutcome;
    let before: unknown;
    try {
      before = snapshot(await readTarget(conn, change.write));
      const created = await send(conn, change.write);
      const after = change.rollbackOf ? await verifyRestored(conn, change, created) : await verify(conn, change, manifest, dir, created);
      outcome = { change, result: 'applied', before, after: snapshot(after) };
    } catch (err) {
      outcome = { change, result: 'failed', ...(before !== undefined ? { before } : {}), error: (err as Error).message };
    }
    outcomes.push(outcome);
    hooks.onChange?.(outcome);
    if (outcome.result === 'failed') break;
  }
  return outcomes;
}

async function send(conn: Connection, w: Write): Promise<unknown> {
  if (w.api === 'exchange') return conn.exchange.invoke(w.cmdlet, w.parameters);
  const reply = await conn.graph.request(w.method, w.path, w.body);
  if (reply.status >= 400) throw errorOf(reply, w.path);
  return reply.body;
}

/** Reads the resource back and checks the write took; returns the value read. */
async function verify(conn: Connection, c: PlannedChange, m: Manifest, dir: Directory, created: unknown): Promise<unknown> {
  const w = c.write;
  const fail = (what: string): never => {
    throw new Error(`the write to ${c.resource.type} "${c.resource.name}" did not take: ${what}`);
  };
  if (w.api === 'graph') {
    if (w.path.startsWith('/identity/conditionalAccess/policies')) {
      const path = w.method === 'POST' ? `${w.path}/${encodeURIComponent(String((created as Obj)['id']))}` : w.path;
      const live = await conn.graph.call<Obj>('GET', path);
      const desired = m.desired.conditionalAccess!.policies.find((p) => p.displayName === c.resource.name)!;
      const left = diffPolicy(resolvePolicy(desired, dir), live);
      if (left.length) fail(`${left.length} differences remain`);
      return live;
    }
    if (w.method === 'DELETE') {
      const reply = await conn.graph.request('GET', w.path);
      if (w.path.includes('/messageRules/')) {
        const list = await conn.graph.call<{ value: Obj[] }>('GET', w.path.replace(/\/[^/]+$/, ''));
        if (list.value.some((r) => w.path.endsWith(`/${encodeURIComponent(String(r['id']))}`))) fail('the rule is still there');
        return null;
      }
      if (reply.status !== 404) fail(`a read after the delete answered ${reply.status}`);
      return null;
    }
    const after = await conn.graph.call<Obj>('GET', w.path);
    for (const [k, v] of Object.entries(w.body ?? {})) {
      if (k === 'reviewers') continue;
      if (typeof v === 'object' && v !== null && !Array.isArray(v)) {
        for (const [k2, v2] of Object.entries(v)) if (canonicalJson((after[k] as Obj | undefined)?.[k2]) !== canonicalJson(v2)) fail(`${k}.${k2} is not ${JSON.stringify(v2)}`);
      } else if (canonicalJson(after[k]) !== canonicalJson(v)) fail(`${k} is not ${JSON.stringify(v)}`);
    }
    return after;
  }
  const noun = w.cmdlet.replace(/^(Set|New|Disable)-/, '');
  const identity = String(w.parameters['Identity'] ?? w.parameters['DomainName']);
  const [after] = await conn.exchange.invoke<Obj>(`Get-${noun}`, { Identity: identity });
  if (!after) fail('it cannot be read back');
  if (w.cmdlet.startsWith('Disable-')) {
    if (String(after!['State']).toLowerCase() !== 'disabled') fail(`State is ${String(after!['State'])}`);
  } else {
    for (const [k, v] of Object.entries(w.parameters)) {
      if (['Identity', 'DomainName', 'Confirm'].includes(k)) continue;
      const got = after![k] === '' ? null : after![k];
      if (canonicalJson(typeof got === 'string' ? got.toLowerCase() : got) !== canonicalJson(typeof v === 'string' ? v.toLowerCase() : v)) fail(`${k} is ${JSON.stringify(got)}`);
    }
  }
  return after;
}

/** Reads back a rollback's write and checks the recorded value is there again; returns the value read. */
async function verifyRestored(conn: Connection, c: PlannedChange, created: unknown): Promise<unknown> {
  const w = c.write;
  const fail = (what: string): never => {
    throw new Error(`the rollback of ${c.resource.type} "${c.resource.name}" did not take: ${what}`);
  };
  if (w.api === 'graph' && w.method === 'DELETE') {
    if ((await readTarget(conn, w)) !== null) fail('it still exists');
    return null;
  }
  if (w.api === 'graph' && w.method === 'POST') {
    const id = (created as Obj | undefined)?.['id'];
    if (typeof id !== 'string') fail('the service did not return the id of what it created');
    const read = await readGraph(conn, `${w.path}/${encodeURIComponent(id as string)}`);
    if (!restored(w.body, read)) fail('what was created differs from the recorded value');
    return read;
  }
  const read = await readTarget(conn, w);
  if (w.api === 'graph') {
    if (!restored(w.body, read)) fail('the value read back differs from the recorded one');
    return read;
  }
  const expected = w.cmdlet.startsWith('Enable-')
    ? { State: 'Enabled' }
    : Object.fromEntries(Object.entries(w.parameters).filter(([k]) => k !== 'Identity' && k !== 'Confirm'));
  if (!restored(expected, read)) fail('the value read back differs from the recorded one');
  return read;
}
