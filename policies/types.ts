/**
 * The shape of one control in the catalogue. A control is the unit of accountability: it has one
 * owner in a posture, one mode, and every finding the reconciler reports names exactly one control.
 */

/** How bad it is when the control fails. */
export type Severity = 'critical' | 'high' | 'medium' | 'low';

/** The area of the posture that declares a control; one construct per area in stacks/. */
export type ControlArea =
  | 'sender-authentication'
  | 'inbound'
  | 'forwarding'
  | 'conditional-access'
  | 'consent'
  | 'authentication'
  | 'exposure'
  | 'mail-apps'
  | 'ownership'
  | 'threat'
  | 'inbound-paths';

/** What an exception may be scoped to. */
export type ExceptionScopeType = 'domain' | 'user' | 'app' | 'policy' | 'rule' | 'path';

/**
 * A permission the reconciler's application identity needs.
 * - `graph`: a Microsoft Graph application permission (app role).
 * - `exchange`: an Exchange Online application permission (Office 365 Exchange Online app role).
 * - `entra-role`: a directory role the application's service principal must hold (Exchange Online
 *   app-only access is authorised by role, not by app permission alone).
 */
export interface Permission {
  readonly api: 'graph' | 'exchange' | 'entra-role';
  readonly name: string;
}

/** One check the reconciler performs for a control; `id` is stable and names the check in findings. */
export interface ControlCheck {
  readonly id: string;
  readonly description: string;
}

export interface FrameworkRefs {
  /** NIST Cybersecurity Framework 2.0 subcategory ids, e.g. `PR.AA-05`. */
  readonly nistCsf: readonly string[];
  /** CISA SCuBA Microsoft 365 baseline policy ids, e.g. `MS.EXO.4.2v1`, where one matches. */
  readonly scuba?: readonly string[];
  /** OWASP Non-Human Identities Top 10 (2025) ids, e.g. `NHI5`, where relevant. */
  readonly owaspNhi?: readonly string[];
}

export interface Control {
  /** Stable id without version: `AREA.TOPIC.N`, e.g. `MAIL.DMARC.2`. Never reused. */
  readonly id: string;
  /** Bumped when the meaning of the control changes; findings carry `${id}v${version}`. */
  readonly version: number;
  readonly area: ControlArea;
  readonly title: string;
  readonly rationale: string;
  readonly severity: Severity;
  readonly frameworks: FrameworkRefs;
  /** What the reconciler reads and verifies. */
  readonly checks: readonly ControlCheck[];
  /**
   * The resource types (keys of reconciler/resources/registry.ts) the control reads, and those apply
   * writes for it. The sections a run reads, the permissions each command needs, and the licences
   * come from these: read permissions are the union of the read types' own, remediate permissions
   * that of the written types'.
   */
  readonly resources: {
    readonly read: readonly string[];
    readonly write?: readonly string[];
  };
  readonly remediation: {
    /** Whether `apply` may change the tenant for this control (only in remediate mode). */
    readonly automatic: boolean;
    /** What apply does, or what the owner must do by hand. */
    readonly description: string;
  };
  /** What an exception to this control may be scoped to. */
  readonly exceptionScopes: readonly ExceptionScopeType[];
  /**
   * Whether the control's findings have a destination (an address mail goes to), so an exception
   * may pin the destinations it allows (`scope.destinations`).
   */
  readonly exceptionDestinations?: boolean;
  /** Whether an exception to the control must name its compensating control (synth fails without one). */
  readonly exceptionNeedsCompensatingControl?: boolean;
}
