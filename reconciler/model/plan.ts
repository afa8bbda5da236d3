import type { ControlCheck, Severity } from '../../policies/types.js';
import type { ControlMode, Owner } from '../manifest/schema.js';
import type { PlannedChange } from './change.js';
import type { Finding, FindingResource, FindingStatus, IncompleteRead } from './finding.js';
import type { PathMap } from './paths.js';

export interface PlanSummary {
  readonly findings: number;
  readonly byStatus: Readonly<Partial<Record<FindingStatus, number>>>;
  readonly bySeverity: Readonly<Partial<Record<Severity, number>>>;
  /** Keyed by owner contact. */
  readonly byOwner: Readonly<Record<string, { readonly owner: Owner; readonly findings: number }>>;
  readonly changes: { readonly create: number; readonly update: number; readonly delete: number };
}

/** The result of `posture plan` / `posture drift`: what `--format json` writes and `posture show` reads. */
export interface PlanDocument {
  readonly format: 'email-posture-plan';
  readonly formatVersion: 1;
  readonly createdAt: string;
  readonly tool: { readonly name: 'email-posture'; readonly version: string };
  /** `plan` or `drift` (read-only). */
  readonly kind: 'plan' | 'drift';
  readonly stack: string;
  readonly organization: string;
  readonly tenantId: string;
  /** SHA-256 of the canonical manifest: what the plan was computed against. */
  readonly desiredHash: string;
  readonly summary: PlanSummary;
  readonly findings: readonly Finding[];
  /** Non-empty means the run is incomplete and exits 1, whatever the findings say. */
  readonly incomplete: readonly IncompleteRead[];
  /** What apply would write, each with the fingerprint of the live state it was computed against. */
  readonly changes: readonly PlannedChange[];
  /** The inbound path map (MAIL.PATH.1), when the posture declares inbound paths. */
  readonly inboundPaths?: PathMap;
  /**
   * What the run made of each declared control, passed ones included, in the posture's order.
   * Absent on plans written before it was recorded, and on rollback plans (which evaluate nothing).
   */
  readonly controls?: readonly ControlResult[];
  /** Set on a rollback plan: the apply run whose changes it reverses. */
  readonly rollbackOf?: string;
  /**
   * On a rollback plan: the findings it brings back, one per security fix of the run it undoes.
   * `posture rollback` makes such a plan only with `--restore-insecure`; apply checks the list.
   */
  readonly restores?: readonly RestoredFinding[];
  /** SHA-256 of the canonical plan without this field: apply refuses a plan whose hash does not match. */
  readonly planHash: string;
}

/** A finding a rollback brings back: an apply run fixed it, and undoing that fix makes it true again. */
export interface RestoredFinding {
  readonly findingId: string;
  /** Versioned control id, e.g. `MAIL.FWD.3v1`. */
  readonly control: string;
  /** The control's title, from the catalogue (the id again when the catalogue no longer has it). */
  readonly title: string;
  readonly severity: Severity | 'unknown';
  readonly resource: FindingResource;
}

/**
 * What a run made of one declared control:
 * - `passed`: its checks ran on everything they needed and found nothing;
 * - `failed`: at least one finding to act on;
 * - `excepted`: findings, every one covered by an exception in force;
 * - `not-evaluated`: a read it needs failed, or there was nothing its checks could judge
 *   (`notEvaluated` says why). Never counted as passed.
 */
export type ControlResultKind = 'passed' | 'failed' | 'excepted' | 'not-evaluated';

export interface ControlResult {
  readonly control: { readonly id: string; readonly version: number; readonly versionedId: string; readonly title: string };
  readonly severity: Severity;
  readonly owner: Owner;
  readonly mode: ControlMode;
  readonly result: ControlResultKind;
  /** What was checked: the catalogue's checks of the control. */
  readonly checks: readonly ControlCheck[];
  /** What was read for it: the titles of the resource types its catalogue entry reads. */
  readonly reads: readonly string[];
  /** How many findings of the plan are about it. */
  readonly findings: number;
  /** For `not-evaluated`: why. */
  readonly notEvaluated?: string;
}
