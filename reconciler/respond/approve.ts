import { ApplyRefused } from '../apply/apply.js';
import { writeProblemFor } from '../apply/writes.js';
import { sameJson } from '../core/json.js';
import { terminalSafe } from '../core/text.js';
import type { EvidenceRecord, ResponseEvidenceRecord } from '../evidence/records.js';
import type { Connection } from '../input/connection.js';
import type { Manifest } from '../manifest/schema.js';
import { labelOf, type PlannedChange } from '../model/change.js';
import { desiredHashOf } from '../plan/build.js';
import { sameTenant } from '../input/connection.js';
import { decisionWrites, responsePlanHash, responseTargets, type ResponsePlan } from './run.js';

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
  if (!sameJson(record.incidents, plan.incidents.map((i) => ({ ...i, identity: { id: i.identity.id, upn: i.identity.upn } })))) {
    throw new ApplyRefused('the response plan does not hold the incidents its run recorded: the plan file was edited; run posture respond again', 'altered');
  }
  const breakGlass = new Set(o.manifest.breakGlass.users.map((u) => u.toLowerCase()));
  const approvable = new Map(
    record.incidents.flatMap((i) => i.actions.filter((a) => a.disposition === 'approval').map((a) => [a.decisionId, { action: a.action, user: i.identity, since: i.openedAt }] as const)),
  );
  const targets = await responseTargets(o.manifest, o.conn);
  const now = new Map<string, PlannedChange[]>();
  for (const c of plan.approvals) {
    if (!isObj(c) || !isObj(c.write) || !isObj(c.resource)) throw new ApplyRefused('the response plan holds a write that is not well formed', 'altered');
    const d = approvable.get(c.findingId);
    if (!d || c.control !== `respond.${d.action}`) throw new ApplyRefused(`the response plan's write to ${labelOf(c.resource)} belongs to no action its run decided needs approval: the plan file was edited`, 'altered');
    if (breakGlass.has(d.user.upn.toLowerCase())) throw new ApplyRefused(`refusing to act on break-glass account ${terminalSafe(d.user.upn)}`, 'rail');
    const problem = writeProblemFor(c.resource.type, c.write);
    if (problem) throw new ApplyRefused(`refusing the response plan's write to ${labelOf(c.resource)}: it is not one respond makes (${problem}); nothing was written`, 'rail');
    if (!now.has(c.findingId)) now.set(c.findingId, await decisionWrites({ id: c.findingId, ...d }, targets, o.conn));
    const fresh = now.get(c.findingId)!.find((x) => x.resource.type === c.resource.type && sameJson(x.write, c.write));
    if (!fresh) throw new ApplyRefused(`stale response plan: ${labelOf(c.resource)} is no longer what ${d.action} for ${terminalSafe(d.user.upn)} would write (done meanwhile, or changed); run posture respond again`, 'stale');
    if (fresh.fingerprint !== c.fingerprint) throw new ApplyRefused(`stale response plan: ${labelOf(c.resource)} changed since ${terminalSafe(String(c.readAt))}; run posture respond again`, 'stale');
  }
  return plan.approvals.map((c) => now.get(c.findingId)!.find((x) => x.resource.type === c.resource.type && sameJson(x.write, c.write))!);
}
