import type { Owner } from '../manifest/schema.js';
import type { PlanDocument } from './plan.js';

/**
 * What one tenant's run of a fleet shard came to: the file `posture fleet plan|drift` writes per
 * tenant, and `posture fleet merge` reads. A run that failed before it had a plan still writes its
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
  readonly kind: 'plan' | 'drift';
  readonly startedAt: string;
  readonly finishedAt: string;
  /**
   * - `clean`: read in full, nothing to act on;
   * - `findings`: read in full, findings to act on;
   * - `incomplete`: something could not be read (the plan says what): never clean;
   * - `error`: the run stopped before a plan (sign-in refused, the tenant's stack invalid, …).
   */
  readonly outcome: FleetOutcome;
  /** The exit code `posture plan` (or drift) would have given this tenant: 0, 1 or 2. */
  readonly exitCode: 0 | 1 | 2;
  /** For `error`: what stopped the run, one line, secrets redacted. */
  readonly error?: string;
  readonly plan?: PlanDocument;
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

/** The merged fleet view: `posture fleet merge --out-dir` writes it as fleet.json. */
export interface FleetReport {
  readonly format: 'email-posture-fleet-report';
  readonly formatVersion: 1;
  readonly createdAt: string;
  readonly fleet: { readonly name: string; readonly hash: string };
  readonly kind: 'plan' | 'drift' | 'mixed';
  readonly summary: Readonly<Record<FleetOutcome | 'missing', number>> & { readonly tenants: number };
  /** The controls of every tenant's stack, as columns: id and title. */
  readonly controls: ReadonlyArray<{ readonly id: string; readonly title: string }>;
  /** Worst first. */
  readonly tenants: readonly FleetTenantRow[];
  /** 0: every tenant clean; 1: a tenant incomplete, failed or missing; 2: findings to act on. */
  readonly exitCode: 0 | 1 | 2;
}
