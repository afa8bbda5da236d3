import { ACTIONABLE, type Finding, type IncompleteRead } from '../model/finding.js';
import { type ControlResult, type PlanDocument, type PlanSummary, type RestoredFinding } from '../model/plan.js';
import type { PathMap } from '../model/paths.js';
import type { Manifest } from '../manifest/schema.js';
import type { PlannedChange } from '../model/change.js';
import { sha256 } from '../core/hash.js';
import { canonicalJsonV1, wellFormed } from '../core/json.js';
import { redactSecrets } from '../core/redact.js';
import { TOOL_VERSION } from '../version.js';

/**
 * The `desiredHash` of a plan: SHA-256 of the manifest's canonical JSON, without where the code
 * declares each construct (`sources`, `controls[].source`): moving a declaration to another line
 * leaves the desired state, and a reviewed plan, as they were. A manifest without them hashes as it
 * always did.
 */
export const desiredHashOf = (manifest: Manifest): string => sha256(canonicalJsonV1(withoutSources(manifest)));

function withoutSources(manifest: Manifest): Manifest {
  const controls = Array.isArray(manifest.controls) ? manifest.controls : [];
  if (manifest.sources === undefined && !controls.some((c) => c.source !== undefined)) return manifest;
  const copy: Manifest = { ...manifest, controls: controls.map((c) => ({ ...c })) };
  delete copy.sources;
  for (const c of copy.controls) delete c.source;
  return copy;
}

export function summarise(findings: readonly Finding[]): PlanSummary {
  const byStatus: Record<string, number> = {};
  const bySeverity: Record<string, number> = {};
  const byOwner: Record<string, { owner: Finding['owner']; findings: number }> = {};
  const changes = { create: 0, update: 0, delete: 0 };
  for (const f of findings) {
    byStatus[f.status] = (byStatus[f.status] ?? 0) + 1;
    bySeverity[f.severity] = (bySeverity[f.severity] ?? 0) + 1;
    const key = f.owner.contact.toLowerCase();
    byOwner[key] = { owner: f.owner, findings: (byOwner[key]?.findings ?? 0) + 1 };
    if (f.change.automatic && f.change.action !== 'none') changes[f.change.action]++;
  }
  return { findings: findings.length, byStatus, bySeverity, byOwner, changes };
}

export function buildPlan(input: {
  kind: 'plan' | 'drift';
  manifest: Manifest;
  tenantId: string;
  findings: readonly Finding[];
  incomplete: readonly IncompleteRead[];
  changes?: readonly PlannedChange[];
  /** For a rollback plan: the apply run it reverses. */
  rollbackOf?: string;
  /** For a rollback plan: the findings it brings back. */
  restores?: readonly RestoredFinding[];
  /** The inbound path map, when the posture declares inbound paths. */
  inboundPaths?: PathMap;
  /** What the run made of each declared control, passed ones included. */
  controls?: readonly ControlResult[];
  now?: Date;
}): PlanDocument {
  // Redacted before hashing: a token a service echoed into an error, or a secret in a value read,
  // is in no plan file, and the hash covers exactly what the file holds. Strings are made
  // well-formed (a lone surrogate in a name read from the tenant becomes U+FFFD), as RFC 8785 asks.
  const plan: Omit<PlanDocument, 'planHash'> = wellFormed(redactSecrets({
    format: 'email-posture-plan',
    formatVersion: 1,
    createdAt: (input.now ?? new Date()).toISOString(),
    tool: { name: 'email-posture', version: TOOL_VERSION },
    kind: input.kind,
    stack: input.manifest.stack,
    organization: input.manifest.organization.name,
    tenantId: input.tenantId,
    desiredHash: desiredHashOf(input.manifest),
    summary: summarise(input.findings),
    findings: [...input.findings],
    incomplete: [...input.incomplete],
    changes: input.kind === 'plan' ? [...(input.changes ?? [])] : [],
    ...(input.inboundPaths ? { inboundPaths: input.inboundPaths } : {}),
    ...(input.controls ? { controls: [...input.controls] } : {}),
    ...(input.rollbackOf ? { rollbackOf: input.rollbackOf } : {}),
    ...(input.restores?.length ? { restores: input.restores } : {}),
  }));
  return { ...plan, planHash: planHashOf(plan) };
}

/**
 * The hash a plan carries: SHA-256 of its canonical JSON (RFC 8785) without the planHash field.
 * Plans of format version 1 written before strings were made well-formed may hold lone surrogates:
 * {@link canonicalJsonV1} hashes those as they were hashed when written.
 */
export function planHashOf(plan: Omit<PlanDocument, 'planHash'> & { planHash?: string }): string {
  const { planHash: _ignored, ...rest } = plan;
  return sha256(canonicalJsonV1(rest));
}

/** 0: nothing to change; 2: changes or drift; 1: the run is incomplete (a read failed), whatever else it found. */
export function exitCodeOf(plan: PlanDocument): 0 | 1 | 2 {
  if (plan.incomplete.length > 0) return 1;
  return plan.findings.some((f) => ACTIONABLE.includes(f.status)) ? 2 : 0;
}
