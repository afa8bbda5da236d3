import { ApplyRefused } from '../apply/apply.js';
import { writeProblemFor } from '../apply/writes.js';
import { sameJson } from '../core/json.js';
import { terminalSafe } from '../core/text.js';
import type { ChangeEvidenceRecord, EvidenceRecord, ResponseEvidenceRecord } from '../evidence/records.js';
import type { Connection } from '../input/connection.js';
import type { Manifest } from '../manifest/schema.js';
import { labelOf, type PlannedChange } from '../model/change.js';
import { desiredHashOf } from '../plan/build.js';
import { sameTenant } from '../input/connection.js';
import type { ChainTarget, ChainView } from '../model/chain.js';
import { chainTargetNow, decisionWrites, responsePlanHash, responseTargets, type ResponsePlan } from './run.js';
import { readDirectory } from './read.js';
import { tierOf, type Placement } from './decide.js';
import type { ResponseAction } from '../manifest/response.js';

const isObj = (v: unknown): boolean => !!v && typeof v === 'object' && !Array.isArray(v);

/**
 * Checks a saved response plan before a person's approval is carried out, and returns the writes to
 * make. The file is trusted for nothing it does not prove: its hash must hold, its run must be on the
 * evidence trail with the same hash (the decisions on record), each write must belong to an action
 * that run decided needs approval, for an identity that is not a break-glass account, and must be
 * exactly what that action takes now (read again from the tenant): a target that changed since, or
 * an action done meanwhile, makes the plan stale.
 */
export async function checkApproval(plan: ResponsePlan, o: { manifest: Manifest; conn: Pick<Connection, 'graph' | 'exchange' | 'tenant'>; records: readonly EvidenceRecord[]; maxChanges: number }): Promise<PlannedChange[]> {
  if (plan.formatVersion !== 1 || !Array.isArray(plan.approvals) || !Array.isArray(plan.incidents) || typeof plan.planHash !== 'string') {
    throw new ApplyRefused('the file is not a complete response plan (incidents, approvals and planHash are required)', 'not-a-plan');
  }
  if (plan.planHash !== responsePlanHash(plan)) throw new ApplyRefused('the response plan was altered after it was made (its hash does not match its content); run posture respond again', 'altered');
  if (plan.desiredHash !== desiredHashOf(o.manifest)) throw new ApplyRefused('the posture changed since the response was planned (the synthesized manifest differs); run posture respond again', 'stale');
  if (typeof plan.tenantId !== 'string' || !sameTenant(plan.tenantId, o.conn.tenant)) throw new ApplyRefused(`the response plan is for tenant ${terminalSafe(String(plan.tenantId))}, not ${o.conn.tenant}`, 'tenant');
  if (plan.approvals.length === 0) return [];
  if (plan.approvals.length > o.maxChanges) throw new ApplyRefused(`the response plan has ${plan.approvals.length} writes waiting for approval, more than --max-changes ${o.maxChanges}; review it in parts or raise the limit`, 'max-changes');
  const record = o.records.find((r): r is ResponseEvidenceRecord => r.kind === 'response' && r.planHash === plan.planHash);
  if (!record) throw new ApplyRefused('the evidence trail holds no respond run that made this plan: approve a response with the trail it was recorded in (--evidence FILE)', 'evidence');
  if (!sameJson(record.incidents, plan.incidents.map((i) => ({ ...i, identity: { id: i.identity.id, upn: i.identity.upn } }))) || !sameJson(record.chains ?? [], plan.chains ?? [])) {
    throw new ApplyRefused('the response plan does not hold the incidents and chains its run recorded: the plan file was edited; run posture respond again', 'altered');
  }
  const approvable = new Map<string, { action: string; user: { id: string; upn: string }; since: string; confidence: 'high' | 'medium' | 'low'; chain?: ChainView }>([
    ...record.incidents.flatMap((i) => i.actions.filter((a) => a.disposition === 'approval').map((a) => [a.decisionId, { action: a.action, user: i.identity, since: i.openedAt, confidence: i.confidence }] as const)),
    // A chain's containment, mailbox by mailbox: approved against the chain as it is traced again now.
    ...(record.chains ?? []).flatMap((c) => c.actions.filter((a) => a.disposition === 'approval').map((a) => [a.decisionId, { action: a.action, user: { id: a.id, upn: a.upn }, since: c.message?.receivedAt ?? '', confidence: c.confidence, chain: c }] as const)),
  ]);
  // A plan is approved once: a write of it already applied (the plan replayed) refuses it whole.
  const done = o.records.find((r): r is ChangeEvidenceRecord => r.kind === 'change' && r.planHash === plan.planHash && r.result === 'applied' && approvable.has(r.findingId));
  if (done) throw new ApplyRefused(`this response plan was already approved and applied (run ${terminalSafe(done.runId)} at ${terminalSafe(done.time)}): run posture respond again for what is left`, 'stale');
  // Each identity is placed again from the directory as it is now: an account made break-glass, or
  // moved to a tier whose cell no longer lets the action be approved, since the run is not acted on.
  const policy = o.manifest.desired.response;
  if (!policy) throw new ApplyRefused('the posture declares no response policy (IncidentResponse): its response plans cannot be approved', 'stale');
  const directory = await readDirectory(policy, o.manifest.breakGlass.groups, o.conn);
  if (directory.incomplete.length) {
    throw new ApplyRefused(`the directory could not be read completely, so no identity could be placed in its tier again; nothing was written. Could not read: ${directory.incomplete.map((i) => `${i.what} (${i.endpoint}): ${terminalSafe(i.error)}`).join('; ')}`, 'incomplete-read');
  }
  const byId = new Map(directory.identities.map((i) => [i.id.toLowerCase(), i]));
  const placed = new Map<string, Placement>();
  const targets = await responseTargets(o.manifest, o.conn);
  const now = new Map<string, PlannedChange[]>();
  const chainTargets = new Map<string, ChainTarget | string>();
  for (const c of plan.approvals) {
    if (!isObj(c) || !isObj(c.write) || !isObj(c.resource)) throw new ApplyRefused('the response plan holds a write that is not well formed', 'altered');
    const d = approvable.get(c.findingId);
    if (!d || c.control !== `respond.${d.action}`) throw new ApplyRefused(`the response plan's write to ${labelOf(c.resource)} belongs to no action its run decided needs approval: the plan file was edited`, 'altered');
    if (!placed.has(c.findingId)) {
      const identity = byId.get(d.user.id.toLowerCase());
      if (!identity) throw new ApplyRefused(`stale response plan: ${terminalSafe(d.user.upn)} is no longer in the directory; run posture respond again`, 'stale');
      placed.set(c.findingId, tierOf(identity, { policy, breakGlass: o.manifest.breakGlass }));
    }
    const tier = placed.get(c.findingId)!;
    if (tier === 'breakGlass') throw new ApplyRefused(`refusing to act on break-glass account ${terminalSafe(d.user.upn)}`, 'rail');
    const cell = policy.matrix[tier][d.confidence];
    if (cell.never.includes(d.action as ResponseAction) || !(cell.approval.includes(d.action as ResponseAction) || cell.automatic.includes(d.action as ResponseAction))) {
      throw new ApplyRefused(`stale response plan: ${terminalSafe(d.user.upn)} is now in tier ${tier}, where the matrix (matrix.${tier}.${d.confidence}) does not let ${d.action} be approved; run posture respond again`, 'stale');
    }
    const problem = writeProblemFor(c.resource.type, c.write);
    if (problem) throw new ApplyRefused(`refusing the response plan's write to ${labelOf(c.resource)}: it is not one respond makes (${problem}); nothing was written`, 'rail');
    if (!now.has(c.findingId)) {
      let chain: ChainTarget | undefined;
      if (d.chain) {
        if (!chainTargets.has(d.chain.id)) chainTargets.set(d.chain.id, await chainTargetNow(o.manifest, o.conn, d.chain, directory.identities, directory.identities.length, new Date()));
        const t = chainTargets.get(d.chain.id)!;
        if (typeof t === 'string') throw new ApplyRefused(`stale response plan: chain ${terminalSafe(d.chain.id)}: ${terminalSafe(t)}; run posture respond again`, 'stale');
        chain = t;
      }
      now.set(c.findingId, await decisionWrites({ id: c.findingId, action: d.action, user: d.user, since: d.since, ...(chain ? { chain } : {}) }, targets, o.conn));
    }
    const fresh = now.get(c.findingId)!.find((x) => x.resource.type === c.resource.type && sameJson(x.write, c.write));
    if (!fresh) throw new ApplyRefused(`stale response plan: ${labelOf(c.resource)} is no longer what ${d.action} for ${terminalSafe(d.user.upn)} would write (done meanwhile, or changed); run posture respond again`, 'stale');
    if (fresh.fingerprint !== c.fingerprint) throw new ApplyRefused(`stale response plan: ${labelOf(c.resource)} changed since ${terminalSafe(String(c.readAt))}; run posture respond again`, 'stale');
  }
  return plan.approvals.map((c) => now.get(c.findingId)!.find((x) => x.resource.type === c.resource.type && sameJson(x.write, c.write))!);
}
