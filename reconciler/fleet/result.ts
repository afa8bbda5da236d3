import { z } from 'zod';
import { MAX_JSON_DEPTH, tooDeep } from '../input/json-depth.js';
import { ownerSchema } from '../manifest/schema.js';
import type { FleetResult } from '../model/fleet.js';
import { ACTIONABLE } from '../model/finding.js';
import { FLEET_RESULT_FORMAT } from '../model/fleet.js';
import type { PlanDocument } from '../model/plan.js';
import { planHashOf } from '../plan/build.js';
import { responsePlanHashOf } from '../respond/hash.js';
import { jsonPath, tenantKey } from './file.js';

/**
 * A result file is input from another machine (an artifact of a job): everything the merge and the
 * reports read of it is checked here, and the plan inside must carry the hash of its content.
 */
const str = z.string().max(100_000);
const iso = z.iso.datetime({ offset: true });
const severity = z.enum(['critical', 'high', 'medium', 'low']);
const control = z.object({ id: str, version: z.number().int(), versionedId: str, title: str }).passthrough();

const findingSchema = z
  .object({
    id: str,
    control,
    check: str,
    resource: z.object({ type: str, id: str.nullable(), name: str }).passthrough(),
    owner: ownerSchema.passthrough(),
    severity,
    status: z.enum(['drift', 'missing', 'unmanaged', 'violation', 'excepted', 'exception-expired', 'not-evaluated']),
    mode: z.enum(['report', 'alert', 'remediate']),
    summary: str,
    patch: z.array(z.unknown()),
    change: z.object({ action: z.enum(['create', 'update', 'delete', 'none']), automatic: z.boolean() }).passthrough(),
    evidence: z.object({ endpoint: str, readAt: str }).passthrough(),
    frameworks: z.unknown(),
  })
  .passthrough();

const planSchema = z
  .object({
    format: z.literal('email-posture-plan'),
    formatVersion: z.literal(1),
    createdAt: str,
    tool: z.object({ name: z.literal('email-posture'), version: str }).passthrough(),
    kind: z.enum(['plan', 'drift']),
    stack: str,
    organization: str,
    tenantId: str,
    desiredHash: str,
    summary: z.object({}).passthrough(),
    findings: z.array(findingSchema).max(1_000_000),
    incomplete: z.array(z.object({ what: str, endpoint: str, error: str }).passthrough()),
    changes: z.array(z.unknown()),
    controls: z
      .array(
        z
          .object({
            control,
            severity,
            owner: ownerSchema.passthrough(),
            mode: z.enum(['report', 'alert', 'remediate']),
            result: z.enum(['passed', 'failed', 'excepted', 'not-evaluated']),
            checks: z.array(z.unknown()),
            reads: z.array(str),
            findings: z.number().int().min(0),
          })
          .passthrough(),
      )
      .optional(),
    planHash: z.string().regex(/^[0-9a-f]{64}$/),
  })
  .passthrough();

const incidentSchema = z
  .object({
    id: str,
    identity: z.object({ id: str, upn: str }).passthrough(),
    tier: str,
    confidence: z.enum(['high', 'medium', 'low']),
    openedAt: str,
    lastSignalAt: str,
    signals: z.array(z.unknown()).max(100_000),
    actions: z.array(z.object({ action: str, disposition: str, rule: str, decisionId: str, writes: z.number().int().min(0), heldBack: str.optional() }).passthrough()).max(1000),
  })
  .passthrough();

const responseSchema = z
  .object({
    format: z.literal('email-posture-response'),
    formatVersion: z.literal(1),
    createdAt: str,
    tool: z.object({ name: z.literal('email-posture'), version: str }).passthrough(),
    stack: str,
    tenantId: str,
    desiredHash: str,
    window: z.object({ since: str, until: str }).passthrough(),
    incidents: z.array(incidentSchema).max(100_000),
    protected: z.array(incidentSchema).max(100_000),
    chains: z.array(z.unknown()).max(100_000).optional(),
    setAside: z.array(z.unknown()),
    circuitBreaker: str.optional(),
    watchesEnded: z.array(z.unknown()),
    changes: z.array(z.unknown()),
    approvals: z.array(z.unknown()),
    incomplete: z.array(z.object({ what: str, endpoint: str, error: str }).passthrough()),
    planHash: z.string().regex(/^[0-9a-f]{64}$/),
  })
  .passthrough();

/** An engine's run id, as the result records it: short, printable. */
export const RUN_ID = z.string().regex(/^[A-Za-z0-9._:-]{1,128}$/, 'must be 1 to 128 letters, digits, dots, dashes, colons or underscores');

/** The run id of this engine run: `--run-id`, else the engine's (GitHub Actions' run, Azure Pipelines' build), else none. */
export function engineRunId(given: string | undefined, env: NodeJS.ProcessEnv): string | undefined {
  const id = given ?? env['GITHUB_RUN_ID'] ?? env['BUILD_BUILDID'];
  return id === undefined || id === '' ? undefined : id;
}

export const fleetResultSchema = z
  .object({
    format: z.literal(FLEET_RESULT_FORMAT),
    formatVersion: z.literal(1),
    fleet: z.object({ name: str.min(1), hash: z.string().regex(/^[0-9a-f]{64}$/, 'must be a SHA-256 in hex') }).strict(),
    tenant: z.object({ key: tenantKey, tenantId: z.guid(), name: str.optional(), owners: z.array(ownerSchema) }).strict(),
    shard: z.object({ index: z.number().int().min(0), count: z.number().int().min(1).max(256) }).strict(),
    kind: z.enum(['plan', 'drift', 'respond']),
    run: RUN_ID.optional(),
    startedAt: iso,
    finishedAt: iso,
    outcome: z.enum(['clean', 'findings', 'incomplete', 'error']),
    exitCode: z.union([z.literal(0), z.literal(1), z.literal(2)]),
    error: str.optional(),
    plan: planSchema.optional(),
    response: responseSchema.optional(),
    respond: z.object({ approved: z.boolean(), applied: z.number().int().min(0), failed: z.number().int().min(0) }).strict().optional(),
  })
  .strict()
  .superRefine((r, ctx) => {
    if (r.shard.index >= r.shard.count) ctx.addIssue({ code: 'custom', path: ['shard', 'index'], message: `shard ${r.shard.index} of ${r.shard.count} does not exist` });
    if (r.outcome === 'error' && r.error === undefined) ctx.addIssue({ code: 'custom', path: ['error'], message: 'a failed run says why' });
    if (r.kind === 'respond') {
      if (r.plan !== undefined) ctx.addIssue({ code: 'custom', path: ['plan'], message: 'a respond run carries a response plan, not a posture plan' });
      if (r.outcome !== 'error' && r.response === undefined) ctx.addIssue({ code: 'custom', path: ['response'], message: `a run that is ${r.outcome} carries its response plan` });
      if (r.response && r.respond === undefined) ctx.addIssue({ code: 'custom', path: ['respond'], message: 'a response plan comes with what was done with its writes' });
      if (r.respond && r.respond.failed > 0 && r.outcome !== 'error') ctx.addIssue({ code: 'custom', path: ['outcome'], message: `${r.respond.failed} automatic writes failed: the run is error, not ${r.outcome}` });
      if (r.response) {
        if (r.response.tenantId.toLowerCase() !== r.tenant.tenantId.toLowerCase()) ctx.addIssue({ code: 'custom', path: ['response', 'tenantId'], message: `the response plan is of tenant ${r.response.tenantId}, not ${r.tenant.tenantId}` });
        if (r.outcome !== 'error') {
          const p = r.response;
          const expected = p.incomplete.length ? 'incomplete' : p.incidents.length + p.protected.length + p.changes.length + p.approvals.length > 0 ? 'findings' : 'clean';
          if (r.outcome !== expected) ctx.addIssue({ code: 'custom', path: ['outcome'], message: `the response plan says ${expected}, not ${r.outcome}` });
        }
      }
      return;
    }
    if (r.response !== undefined || r.respond !== undefined) ctx.addIssue({ code: 'custom', path: [r.response !== undefined ? 'response' : 'respond'], message: `a ${r.kind} run carries no response plan` });
    if (r.outcome !== 'error' && r.plan === undefined) ctx.addIssue({ code: 'custom', path: ['plan'], message: `a run that is ${r.outcome} carries its plan` });
    if (r.plan) {
      if (r.plan.tenantId.toLowerCase() !== r.tenant.tenantId.toLowerCase()) ctx.addIssue({ code: 'custom', path: ['plan', 'tenantId'], message: `the plan is of tenant ${r.plan.tenantId}, not ${r.tenant.tenantId}` });
      if (r.plan.kind !== r.kind) ctx.addIssue({ code: 'custom', path: ['plan', 'kind'], message: `the plan is a ${r.plan.kind}, the result a ${r.kind}` });
      const expected = r.plan.incomplete.length ? 'incomplete' : r.plan.findings.some((f) => (ACTIONABLE as readonly string[]).includes(f.status)) ? 'findings' : 'clean';
      if (r.outcome !== expected) ctx.addIssue({ code: 'custom', path: ['outcome'], message: `the plan says ${expected}, not ${r.outcome}` });
    }
  });

/** A result file's content, or why it is not one. Pure: the caller reads the file. */
export function parseResult(value: unknown, source: string): { ok: true; result: FleetResult } | { ok: false; error: string } {
  const deep = tooDeep(value);
  if (deep) return { ok: false, error: `${source}: nested deeper than ${MAX_JSON_DEPTH} levels (at ${deep}): not a fleet result` };
  if (typeof value !== 'object' || value === null || (value as { format?: unknown }).format !== FLEET_RESULT_FORMAT) return { ok: false, error: `${source}: not a fleet result (format is not "${FLEET_RESULT_FORMAT}")` };
  const parsed = fleetResultSchema.safeParse(value);
  if (!parsed.success) {
    const i = parsed.error.issues[0]!;
    return { ok: false, error: `${source}: ${jsonPath(i.path)}: ${i.message}${parsed.error.issues.length > 1 ? ` (and ${parsed.error.issues.length - 1} more)` : ''}` };
  }
  const plan = parsed.data.plan as unknown as PlanDocument | undefined;
  if (plan && planHashOf(plan) !== plan.planHash) return { ok: false, error: `${source}: $.plan.planHash: the plan's content does not match its hash (changed after it was written)` };
  const response = parsed.data.response;
  if (response && responsePlanHashOf(response) !== response.planHash) return { ok: false, error: `${source}: $.response.planHash: the response plan's content does not match its hash (changed after it was written)` };
  return { ok: true, result: parsed.data as unknown as FleetResult };
}
