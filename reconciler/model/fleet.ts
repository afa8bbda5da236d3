import type { Owner } from '../manifest/schema.js';
import type { IncompleteRead } from './finding.js';
import type { IncidentView } from './incident.js';
import type { PlanDocument } from './plan.js';

/**
 * What one tenant's run of a fleet shard came to: the file `posture fleet plan|drift|respond` writes
 * per tenant, and `posture fleet merge` reads. A run that failed before it had a plan still writes its
 * result (`outcome: 'error'`, with `error`), so one failing tenant is named rather than missing.
 */
export interface FleetResult {
  readonly format: 'email-posture-fleet-result';
  readonly formatVersion: 1;
  /** The fleet file's name, and the SHA-256 of its canonical content: results of one fleet revision merge together. */
  readonly fleet: { readonly name: string; readonly hash: string };
  readonly tenant: { readonly key: string; readonly tenantId: string; readonly name?: string; readonly owners: readonly Owner[] };
  /** The shard that ran it: `index` from 0, of `count`. */
  readonly shard: { readonly index: number; readonly count: number };
  readonly kind: FleetKind;
  /** The engine's run the shard belonged to (`--run-id`, or GITHUB_RUN_ID, BUILD_BUILDID): a merge given one takes no result of another run. */
  readonly run?: string;
  readonly startedAt: string;
  readonly finishedAt: string;
  /**
   * - `clean`: read in full, nothing to act on (respond: no incident);
   * - `findings`: read in full, findings to act on (respond: incidents found);
   * - `incomplete`: something could not be read (the plan says what): never clean;
   * - `error`: the run stopped before a plan (sign-in refused, the tenant's stack invalid, …).
   */
  readonly outcome: FleetOutcome;
  /** The exit code `posture plan` (or drift, or respond) would have given this tenant: 0, 1 or 2. */
  readonly exitCode: 0 | 1 | 2;
  /** For `error`: what stopped the run, one line, secrets redacted. */
  readonly error?: string;
  /** Of `plan` and `drift`. */
  readonly plan?: PlanDocument;
  /** Of `respond`: the tenant's response plan, as `posture respond --out` saves it (with its hash). */
  readonly response?: FleetResponsePlan;
  /** Of `respond`: what was done with the plan's automatic writes. */
  readonly respond?: FleetRespondRun;
}

export type FleetKind = 'plan' | 'drift' | 'respond';

/** What the fleet reads of a response plan (the file carries all of it). */
export interface FleetResponsePlan {
  readonly format: 'email-posture-response';
  readonly formatVersion: 1;
  readonly tenantId: string;
  readonly stack: string;
  readonly window: { readonly since: string; readonly until: string };
  readonly incidents: readonly IncidentView[];
  readonly protected: readonly IncidentView[];
  readonly chains?: readonly unknown[];
  readonly circuitBreaker?: string;
  readonly changes: readonly unknown[];
  readonly approvals: readonly unknown[];
  readonly incomplete: readonly IncompleteRead[];
  readonly planHash: string;
}

/** A respond run's automatic writes: approved (only with `--auto-approve`) or not, and how many took. */
export interface FleetRespondRun {
  readonly approved: boolean;
  /** Automatic writes applied and verified. */
  readonly applied: number;
  /** Automatic writes that failed (the run is `error`). */
  readonly failed: number;
}

export type FleetOutcome = 'clean' | 'findings' | 'incomplete' | 'error';

export const FLEET_RESULT_FORMAT = 'email-posture-fleet-result' as const;
export const FLEET_REPORT_FORMAT = 'email-posture-fleet-report' as const;

/** Worst first: a tenant without a result at all is as bad as one whose run failed. */
export const OUTCOME_RANK: Readonly<Record<FleetOutcome | 'missing', number>> = { missing: 0, error: 0, incomplete: 1, findings: 2, clean: 3 };

/** One tenant's row of the fleet view. */
export interface FleetTenantRow {
  readonly key: string;
  readonly tenantId: string;
  readonly name?: string;
  readonly owners: readonly Owner[];
  /** `missing`: the fleet names the tenant and no result came for it. */
  readonly outcome: FleetOutcome | 'missing';
  readonly exitCode: 0 | 1 | 2;
  readonly shard?: { readonly index: number; readonly count: number };
  readonly error?: string;
  /** Findings to act on, by severity. */
  readonly bySeverity: Readonly<Record<'critical' | 'high' | 'medium' | 'low', number>>;
  readonly findings: number;
  /** What couldn't be read: `what (endpoint): error`. */
  readonly incomplete: readonly string[];
  /** Each control's result, by unversioned control id. */
  readonly controls: Readonly<Record<string, string>>;
  readonly finishedAt?: string;
}

/** One tenant of a respond run in the fleet view. */
export interface FleetRespondRow {
  readonly key: string;
  readonly tenantId: string;
  readonly name?: string;
  readonly outcome: FleetOutcome;
  readonly error?: string;
  readonly incidents: ReadonlyArray<{ readonly id: string; readonly upn: string; readonly tier: string; readonly confidence: string; readonly actions: ReadonlyArray<{ readonly action: string; readonly disposition: string; readonly writes: number; readonly heldBack?: string }> }>;
  /** Incidents about a break-glass account: never acted on. */
  readonly protected: number;
  readonly chains: number;
  readonly circuitBreaker?: string;
  /** Automatic writes: taken (applied and verified), failed, planned and not run (not approved). */
  readonly taken: number;
  readonly failed: number;
  readonly planned: number;
  /** Writes that wait for a person's approval (`posture apply` of the response plan). */
  readonly awaitingApproval: number;
  readonly incomplete: readonly string[];
}

/** The merged fleet view: `posture fleet merge --out-dir` writes it as fleet.json. */
export interface FleetReport {
  readonly format: 'email-posture-fleet-report';
  readonly formatVersion: 1;
  readonly createdAt: string;
  readonly fleet: { readonly name: string; readonly hash: string };
  readonly kind: FleetKind | 'mixed';
  readonly summary: Readonly<Record<FleetOutcome | 'missing', number>> & { readonly tenants: number };
  /** The controls of every tenant's stack, as columns: id and title. */
  readonly controls: ReadonlyArray<{ readonly id: string; readonly title: string }>;
  /** Worst first. */
  readonly tenants: readonly FleetTenantRow[];
  /** The tenants of respond results, worst first (failed and incomplete, then by incidents): absent when no result is of respond. */
  readonly respond?: readonly FleetRespondRow[];
  /** 0: every tenant clean; 1: a tenant incomplete, failed or missing; 2: findings to act on. */
  readonly exitCode: 0 | 1 | 2;
}
