import { directoryOf, type Directory } from '../evaluate/context.js';
import { evaluate } from '../evaluate/index.js';
import type { Manifest } from '../manifest/schema.js';
import type { PlannedChange } from '../model/change.js';
import type { Finding, IncompleteRead } from '../model/finding.js';
import type { LiveState } from '../model/live.js';
import type { PlanDocument } from '../model/plan.js';
import { readTenant } from '../read/live.js';
import { isConfirmable, resourceType } from '../resources/registry.js';
import type { ConfirmContext, ReadContext } from '../resources/types.js';
import { buildPlan } from './build.js';
import { plannedChanges } from './changes.js';

export interface RunInput {
  /** `plan` proposes changes; `drift` only reports. */
  readonly kind: 'plan' | 'drift';
  readonly manifest: Manifest;
  readonly tenantId: string;
  readonly read: ReadContext;
  /** "Today" for exception expiry, YYYY-MM-DD. */
  readonly today: string;
  /**
   * Ask the service to confirm each finding's explanation where its resource type can (a
   * conditional access near miss: a What If evaluation). Optional: a failed confirmation is said in
   * the finding, never a failed run.
   */
  readonly confirm?: boolean;
  /** How the tenant is read (an incremental read); @default readTenant */
  readonly readLive?: (m: Manifest, ctx: ReadContext) => Promise<LiveState>;
}

export interface Run {
  readonly live: LiveState;
  readonly dir: Directory;
  readonly findings: Finding[];
  readonly incomplete: IncompleteRead[];
  readonly changes: PlannedChange[];
  readonly plan: PlanDocument;
}

/**
 * The one composition of a run: read the tenant, evaluate the posture, derive the changes, build
 * the plan. `posture plan`, `posture drift`, `posture apply` without a plan file and apply's
 * preflight all use it.
 */
export async function runPlan(input: RunInput): Promise<Run> {
  const live = await (input.readLive ?? readTenant)(input.manifest, input.read);
  const evaluated = evaluate(input.manifest, live, input.today);
  const { incomplete } = evaluated;
  const dir = directoryOf(live);
  const findings = input.confirm ? await confirmed(evaluated.findings, { graph: input.read.graph, manifest: input.manifest, live, dir }) : evaluated.findings;
  const changes = input.kind === 'plan' ? plannedChanges(findings, input.manifest, live, dir) : [];
  const plan = buildPlan({ kind: input.kind, manifest: input.manifest, tenantId: input.tenantId, findings, incomplete, changes, controls: evaluated.controls, ...(evaluated.inboundPaths ? { inboundPaths: evaluated.inboundPaths } : {}) });
  return { live, dir, findings, incomplete, changes, plan };
}

/** Each finding with a near miss, confirmed by its resource type where the type can; one at a time (the services pace these calls). */
async function confirmed(findings: readonly Finding[], ctx: ConfirmContext): Promise<Finding[]> {
  const out: Finding[] = [];
  for (const f of findings) {
    const type = f.evidence.nearMiss ? resourceType(f.resource.type) : undefined;
    out.push(type && isConfirmable(type) ? await type.confirm(f, ctx) : f);
  }
  return out;
}
