import type { Owner } from '../manifest/schema.js';

/**
 * The inbound path map (docs/inbound-paths.md): per accepted domain, where mail from the internet
 * enters, what skips filtering there and what becomes of mail that fails authentication, with the
 * owners the posture names for it and, when read, what really happened to such mail.
 */

/** The failure kinds a path's disposition is computed for. */
export type FailureKind = 'dmarc-reject' | 'dmarc-quarantine' | 'spf-hardfail' | 'compauth-fail';
export const FAILURE_KINDS: readonly FailureKind[] = ['dmarc-reject', 'dmarc-quarantine', 'spf-hardfail', 'compauth-fail'];

/** What becomes of a message, strongest first: rejected in the SMTP session, quarantined, delivered to Junk, delivered to the inbox. */
export type Outcome = 'reject' | 'quarantine' | 'junk' | 'inbox';
export const OUTCOMES: readonly Outcome[] = ['reject', 'quarantine', 'junk', 'inbox'];

/**
 * The weakest outcome accepted per failure kind, unless the posture says otherwise: mail failing
 * DMARC under p=reject is quarantined at least (InboundEnforcement may declare Quarantine for it),
 * under p=quarantine or failing SPF or composite authentication it goes to Junk at least. Inbox is
 * never accepted by default.
 */
export const DEFAULT_PATH_REQUIREMENT: Readonly<Record<FailureKind, Outcome>> = {
  'dmarc-reject': 'quarantine',
  'dmarc-quarantine': 'junk',
  'spf-hardfail': 'junk',
  'compauth-fail': 'junk',
};

/** Whether `got` is weaker than `required` (inbox is the weakest). */
export const weaker = (got: Outcome, required: Outcome): boolean => OUTCOMES.indexOf(got) > OUTCOMES.indexOf(required);

export interface Disposition {
  readonly outcome: Outcome;
  /** Why, in words a reviewer reads: `anti-phishing policy "Default" honours DMARC p=reject (DmarcRejectAction Reject)`. */
  readonly because: string;
}

export interface Bypass {
  readonly kind: 'scl-minus-one' | 'ip-allow-list' | 'spoof-allow' | 'allowed-sender';
  /** The object: the transport rule's, the connection filter or anti-spam policy's, or the spoof pair's name. */
  readonly name: string;
  readonly detail: string;
  /** `all`: every message on the path skips filtering (a rule with no condition, the path's own servers allow-listed); `some`: only the senders it names. */
  readonly scope: 'all' | 'some';
  /** The declared exception that allows it (MAIL.INBOUND.2 or .3), with its expiry. */
  readonly excepted?: { readonly id: string; readonly expires: string; readonly inForce: boolean };
}

export interface InboundPath {
  /** Stable: `domain/eop`, `domain/gateway:host`, `*\/partner:connector`. */
  readonly key: string;
  /** The accepted domain, or `*` for a partner connector (it receives for every domain). */
  readonly domain: string;
  readonly entry: 'eop' | 'gateway' | 'partner';
  /** The MX exchanges mail arrives through on this path (none for a partner connector). */
  readonly hosts: readonly string[];
  /**
   * On a direct path of a domain whose MX points to a gateway: the domain's own Exchange Online
   * Protection host, which no MX publishes but which takes mail from anyone who sends there.
   */
  readonly unpublished?: true;
  /** The inbound connector the path's mail arrives on, when one is read. */
  readonly connector?: string;
  /** On a gateway path: enhanced filtering for connectors looks past the gateway (`test`: test mode only; `some`: for some recipients). */
  readonly enhancedFiltering: 'on' | 'some' | 'test' | 'off' | 'not-applicable';
  readonly bypasses: readonly Bypass[];
  readonly dispositions: Readonly<Record<FailureKind, Disposition>>;
}

/** What the posture says of a path, and how the live path measures against it. */
export interface MappedPath extends InboundPath {
  /** Who owns the routing decision, the policy decision and the control objective; a missing one is unowned. */
  readonly owners: { readonly routing?: Owner; readonly policy?: Owner; readonly objective: Owner };
  /** The weakest outcome the posture accepts per failure kind. */
  readonly required: Readonly<Record<FailureKind, Outcome>>;
  /** The failure kinds whose computed outcome is weaker than required. */
  readonly short: readonly FailureKind[];
  /** The declared exception that covers the path, if one names it. */
  readonly exception?: {
    readonly id: string;
    readonly approvedBy: string;
    readonly expires: string;
    readonly inForce: boolean;
    readonly compensatingControl?: string;
  };
  /** What happened to mail that failed authentication on this path during the evidence period, when it was read. */
  readonly observed?: PathObservation;
}

/** Failing messages on a path, by final disposition, and those delivered although the path must not deliver them. */
export interface PathObservation {
  readonly failed: number;
  readonly byOutcome: Readonly<Record<Outcome, number>>;
  /** Messages whose final disposition is weaker than the posture requires for their failure kind. */
  readonly deliveredDespiteFailure: number;
}

/** The map a plan carries and the report draws. */
export interface PathMap {
  readonly paths: readonly MappedPath[];
  /** The evidence period, when analyzed emails were read for it. */
  readonly evidence?: {
    readonly from: string;
    readonly to: string;
    /** Inbound messages in the period that failed authentication. */
    readonly failed: number;
    /** Of those, messages no path of the map accounts for (a recipient outside the accepted domains, an unknown connector). */
    readonly unattributed: number;
  };
}
