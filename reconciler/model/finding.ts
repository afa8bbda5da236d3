import type { Operation } from 'fast-json-patch';
import type { FrameworkRefs, Severity } from '../../policies/types.js';
import type { ControlMode, Owner } from '../manifest/schema.js';

/**
 * What a finding says about one resource and one check of one control.
 * - `drift`: a managed resource differs from its declared state;
 * - `missing`: a declared resource does not exist in the tenant;
 * - `unmanaged`: something exists that the posture does not declare and a control forbids;
 * - `violation`: an invariant of a control does not hold (whoever made the resource);
 * - `excepted`: a violation or drift covered by a declared exception in force;
 * - `exception-expired`: it would be excepted, but the exception has expired;
 * - `not-evaluated`: the check could not run (licence missing, permission missing, read failed).
 */
export type FindingStatus = 'drift' | 'missing' | 'unmanaged' | 'violation' | 'excepted' | 'exception-expired' | 'not-evaluated';

/** What apply would do about a finding. `none`: nothing (report-only, excepted, not remediable). */
export type ChangeAction = 'create' | 'update' | 'delete' | 'none';

export interface FindingResource {
  /** e.g. `conditionalAccessPolicy`, `domain`, `inboxRule`, `mailbox`, `oauth2PermissionGrant`. */
  readonly type: string;
  /** The tenant's id of the resource, when it exists. */
  readonly id: string | null;
  /** A human name: display name, domain, UPN, rule name. */
  readonly name: string;
}

export interface FindingEvidence {
  /** Where the live value was read: a Graph URL path, an Exchange cmdlet, or a DNS name and type. */
  readonly endpoint: string;
  /** ISO time of the read. */
  readonly readAt: string;
  /** The live values the finding is about (secrets never appear here). */
  readonly live: unknown;
  /**
   * For a declared conditional access policy the tenant does not satisfy: the live policy that comes
   * closest, and why it does not count. Beside `live`, not in it: `live` is what a change's
   * fingerprint and before-value are taken from, and another policy changing is no reason to
   * call a plan stale.
   */
  readonly nearMiss?: NearMiss;
}

/** Why a live conditional access policy does not satisfy a declared one, reason by reason. */
export type NearMissCode =
  | 'report-only'
  | 'disabled'
  | 'state'
  | 'excludes-user'
  | 'excludes-group'
  | 'excludes-role'
  | 'excludes-guests'
  | 'break-glass-not-excluded'
  | 'includes-some-users'
  | 'users-differ'
  | 'excludes-application'
  | 'some-apps'
  | 'apps-differ'
  | 'client-app-types'
  | 'lacks-user-risk'
  | 'user-risk-differs'
  | 'lacks-sign-in-risk'
  | 'sign-in-risk-differs'
  | 'platform-condition'
  | 'location-condition'
  | 'device-condition'
  | 'grant-differs'
  | 'lacks-session-control'
  | 'session-control-differs'
  | 'other-condition';

export interface NearMissReason {
  readonly code: NearMissCode;
  /** One clause a reader understands, e.g. `it excludes group "Sales"`. */
  readonly text: string;
  /** The JSON pointer of the governed field the reason is about. */
  readonly field: string;
  /** The user, group or role an exclusion names. */
  readonly principal?: { readonly type: 'user' | 'group' | 'role'; readonly id: string; readonly name: string };
  /** Risk levels, declared and live. */
  readonly levels?: { readonly declared: readonly string[]; readonly live: readonly string[] };
}

export interface NearMiss {
  /**
   * `closest`: no live policy has the declared name, and this one comes closest of all;
   * `same-name`: the policy of the declared name, which drifted.
   */
  readonly basis: 'closest' | 'same-name';
  readonly policy: { readonly id: string; readonly displayName: string; readonly state: string };
  /** Empty only when the policy matches the declaration in every governed field but its name. */
  readonly reasons: readonly NearMissReason[];
  /** The number of reasons: lower is closer. */
  readonly score: number;
  /** How many live policies were compared. */
  readonly compared: number;
  /** A what-if evaluation of the near miss for one user, when one was asked for. */
  readonly confirmation?: NearMissConfirmation;
}

/** The service's own word on whether the near miss applies, from a what-if evaluation. */
export type NearMissConfirmation =
  | {
      readonly confirmed: true;
      /** The user of the declared policy's population the sign-in was evaluated for. */
      readonly user: string;
      /** The sign-in evaluated: the declared risk levels, client app type and application. */
      readonly signIn: { readonly userRiskLevel: string; readonly signInRiskLevel: string; readonly clientAppType: string; readonly application: string };
      readonly policyApplies: boolean;
      /** whatIfAnalysisReasons of the near miss, e.g. `users`, `signInRisk`, `policyNotEnabled`; empty when it applies. */
      readonly analysisReasons: readonly string[];
    }
  | { readonly confirmed: false; readonly user?: string; readonly error: string };

export interface Finding {
  /** Stable across runs for the same problem: a hash of control, check and resource key. */
  readonly id: string;
  readonly control: { readonly id: string; readonly version: number; readonly versionedId: string; readonly title: string };
  /** The catalogue check that produced it. */
  readonly check: string;
  readonly resource: FindingResource;
  readonly owner: Owner;
  readonly severity: Severity;
  readonly status: FindingStatus;
  readonly mode: ControlMode;
  /** One sentence a reader understands without the rest. */
  readonly summary: string;
  /** JSON Patch from the live state to the desired state; empty when there is nothing to patch. */
  readonly patch: readonly Operation[];
  /** What apply would do, and whether this control allows apply to do it. */
  readonly change: { readonly action: ChangeAction; readonly automatic: boolean };
  readonly evidence: FindingEvidence;
  readonly frameworks: FrameworkRefs;
  /** How to fix it by hand (e.g. the exact TXT record to publish). */
  readonly remediation?: string;
  /** For `excepted` and `exception-expired`. */
  readonly exception?: { readonly id: string; readonly approvedBy: string; readonly expires: string; readonly reason: string; readonly ticket?: string };
  /** The user the finding is about, when there is one (the owner of a forwarding mailbox, the user who consented): what a response acts on. */
  readonly subject?: { readonly id?: string; readonly upn: string };
  /** For `not-evaluated`. */
  readonly notEvaluated?: { readonly reason: 'licence-missing' | 'permission-missing' | 'read-failed'; readonly detail: string; readonly permission?: string };
}

/** A read that failed or came back incomplete: the run cannot say "no drift". */
export interface IncompleteRead {
  /** What could not be read, e.g. "inbox rules of 3 mailboxes" or "Get-TransportRule". */
  readonly what: string;
  readonly endpoint: string;
  readonly error: string;
}

/** Statuses that are problems to act on (they make `drift` exit 2). */
export const ACTIONABLE: readonly FindingStatus[] = ['drift', 'missing', 'unmanaged', 'violation', 'exception-expired'];
