import type { Permission } from '../../policies/types.js';
import type { TxtResolver } from '../dns/lookup.js';
import type { Connection } from '../input/connection.js';
import type { Manifest } from '../manifest/schema.js';
import type { PlannedChange, Write } from '../model/change.js';
import type { Finding, FindingResource } from '../model/finding.js';
import type { ChainTarget } from '../model/chain.js';
import type { Directory, LiveState } from '../model/live.js';
import type { ExchangeTransport } from '../transport/exchange.js';
import type { GraphTransport } from '../transport/graph.js';

export type Obj = Record<string, unknown>;

/** What a read needs: the transports, and where to report the mailbox scan's progress. */
export interface ReadContext {
  readonly graph: GraphTransport;
  readonly exchange: ExchangeTransport;
  readonly resolver: TxtResolver & { resolveCname(name: string): Promise<string[]> };
  /** Called as the per-mailbox scan goes (done, total). */
  readonly progress?: (done: number, total: number) => void;
  /** $batch requests in flight at once for the mailbox scan. @default 12 */
  readonly batchConcurrency?: number;
  /** The end of evidence periods (MAIL.PATH.2 reads the days before it). @default now */
  readonly asOf?: Date;
  /** The time taken as now, for the services' retention windows. @default the clock */
  readonly now?: Date;
}

/** How one resource type is read into its section of the live state. */
export type ReadHow =
  /** Every page of a Graph collection (the transport follows `@odata.nextLink` on the Graph endpoint only). */
  | { readonly kind: 'graph-list'; readonly path: string }
  /** One Graph entity (a singleton policy). */
  | { readonly kind: 'graph-get'; readonly path: string }
  /** An Exchange Online cmdlet (the transport follows its paging). */
  | { readonly kind: 'exchange'; readonly cmdlet: string; readonly parameters?: Obj }
  /** Anything else (per-mailbox `$batch`, DNS): the section's value, read by the type itself. */
  | {
      readonly kind: 'custom';
      readonly endpoint: string;
      /** `pages`: the rows of the type named by `alongside`, page by page as they are read (iterating throws when that read failed). */
      run(ctx: ReadContext, live: LiveState, m: Manifest, pages?: AsyncIterable<readonly Obj[]>): Promise<unknown>;
    };

export interface ReadSpec {
  /** The section of the live state it is read into (checks read sections). */
  readonly section: keyof LiveState;
  readonly how: ReadHow;
  /** What reading it needs; the first Graph permission is the one a 403 names. */
  readonly permissions: readonly Permission[];
  /** The plan the tenant needs for the read to succeed (a 403 for a missing licence names it). */
  readonly licence?: string;
  /** Types read first, because this read uses what they hold (inbox rules are read per mailbox). */
  readonly after?: readonly string[];
  /**
   * A type this (custom) read takes page by page as it is read, instead of after it: the inbox rules
   * of each page of mailboxes are read while the next page is. Read with it, never instead of it.
   */
  readonly alongside?: string;
  /** Types read first when the run reads them at all (the rules whose groups a membership read resolves); never read because of this. */
  readonly afterIfRead?: readonly string[];
  /** Read only when this holds of what was read before (the managers of users, only for rules that send to them). */
  readonly when?: (live: LiveState, m: Manifest) => boolean;
  /** How a run that keeps state between runs (`posture drift --incremental`) reads only what changed; absent: read in full every run. */
  readonly incremental?: IncrementalRead;
}

/**
 * How a type's read follows changes between runs (read/incremental/): a Graph delta query, an
 * Exchange list asked for what changed since a watermark, or a per-mailbox read done again only for
 * the mailboxes the audit log, the watermark or the rotation names.
 */
export type IncrementalRead =
  /** The collection's delta function (`…/delta?$select=…`), whose rows replace the full list's, by id. */
  | { readonly kind: 'graph-delta'; readonly path: string }
  /**
   * The cmdlet's rows changed at or after a watermark of the service's clock, by a -Filter on
   * `field`, merged by `key` into the rows kept; `auditOperations` are the audit log's names of
   * the changes of a row (read again anyway by the watermark).
   */
  | {
      readonly kind: 'exchange-changed';
      readonly field: string;
      readonly key: string;
      /** The row's mailbox (the user object id its per-mailbox reads go to), and the addresses audit records name it by. */
      readonly mailboxId: string;
      readonly names: readonly string[];
      readonly auditOperations: readonly string[];
    }
  /**
   * A per-mailbox `$batch` read: `mailboxOf` gives the mailbox (user object id) a request URL reads,
   * undefined for any other; `auditOperations` are the changes that make a mailbox's read worth doing.
   */
  | { readonly kind: 'per-mailbox'; readonly mailboxOf: (url: string) => string | undefined; readonly auditOperations: readonly string[] };

/** One resource type, as a Terraform provider has one per resource: everything about it, in its own module. */
export interface ResourceType {
  /** Stable key stored in plans and the evidence trail: `inboxRule`, `conditionalAccessPolicy`, … */
  readonly key: string;
  /** What it is called in messages: `inbox rules of every mailbox`, `the authorization policy`. */
  readonly title: string;
  /** How it is read; absent for a type that is never read as a section of its own. */
  readonly read?: ReadSpec;
}

/** What a write is computed from. Pure data: the finding, the posture, the live state, the directory. */
export interface WriteContext {
  readonly manifest: Manifest;
  readonly live: LiveState;
  readonly dir: Directory;
}

/** A target read back after a write: its value (`null`: absent), or why it is not clear which one it is. */
export type ReadBack = { readonly value: unknown } | { readonly unclear: string };

/** A type apply can write (remediate). */
export interface Writable {
  /** Every write of this type, as method and route (`{id}` is one path segment), or cmdlet: nothing else is ever sent for it. */
  readonly writes: { readonly graph?: ReadonlyArray<readonly [method: 'POST' | 'PATCH' | 'PUT' | 'DELETE', route: string]>; readonly exchange?: readonly string[] };
  /** What writing it needs, in addition to the reads. */
  readonly writePermissions: readonly Permission[];
  /** The exact write for a finding (pure); undefined when apply does not write for it. */
  writeFor(f: Finding, ctx: WriteContext): Write | undefined;
  /**
   * The target as the service returns it before a write: `null` when it does not exist; for a write
   * that creates, what already holds the same (so creating it again would duplicate it), if anything.
   */
  readTarget(conn: Connection, w: Write): Promise<unknown>;
  /** The target after a write; `created` is the write's answer, when it had one. */
  readBack(conn: Connection, w: Write, created?: unknown): Promise<ReadBack>;
  /**
   * The one rule for whether a write took: what the target read back still lacks, or undefined when
   * it took. `before` is the target as read before the write, for a write whose effect is a change
   * of a value the service sets (a sign-in session cut-off moving on).
   */
  took(w: Write, after: unknown, before?: unknown): string | undefined;
  /** The resource a write acts on, as one key: several writes on one resource share it. */
  targetKey(w: Write): string;
  /** What a write does to its target: creates it, deletes it, or changes it. */
  effect(w: Write): 'create' | 'update' | 'delete';
  /**
   * What the service limits a write's requests by, as one key (default: {@link targetKey}): apply
   * runs the changes of one key one after another, and changes of different keys at once. Inbox
   * rules are limited per mailbox (4 requests at once), so their key is the mailbox.
   */
  limitScope?(w: Write): string;
}

/** What apply's preflight reads of a type for the writes of a plan: the section, and each write's target. */
export interface TouchedRead {
  /** The section as a full read gives it, holding only the objects the writes touch: their findings are computed from it as from a full read. */
  readonly section: unknown;
  /** Each write's target (in the order of the writes) as its type's `readTarget` reads it; absent when the section does not show it. */
  readonly targets?: readonly unknown[];
}

/**
 * A type apply's preflight can read narrowly: only the objects a plan's writes act on, instead of
 * the whole section (the inbox rules of the mailboxes the writes name, not of every mailbox). Only
 * for a type whose findings, and the writes for them, are each computed from its own object and the
 * sections its controls name in the catalogue (read whole), nothing else: not the directory.
 */
export interface NarrowReadable {
  readTouched(ctx: ReadContext, live: LiveState, writes: readonly Write[]): Promise<TouchedRead>;
}

/** A recorded change, as much of it as an inverse reads. */
export interface RecordedChange {
  readonly resource: FindingResource;
  readonly write: Write;
  readonly before: unknown;
  readonly after: unknown;
}

/** The write that undoes a recorded change. */
export interface Inverse {
  readonly write: Write;
  readonly action: PlannedChange['action'];
  /** The resource as the reverse addresses it (a created policy now has an id). */
  readonly resource?: FindingResource;
}

/** A type whose changes rollback can undo. A type without it is irreversible by construction. */
export interface Reversible {
  /** The inverse of a change (pure); a sentence saying why there is none; undefined when there is nothing to undo. */
  inverse(record: RecordedChange): Inverse | string | undefined;
}

/** What a rail judges the writes by. */
export interface RailContext {
  readonly manifest: Manifest;
  readonly dir: Directory;
  readonly live: LiveState;
}

/** A type with rails of its own: checks every plan's writes to it must pass, whatever the plan file says. */
export interface WithRails {
  /** Why the writes (this type's changes of a plan, in order) are refused, or undefined. */
  rails(changes: readonly PlannedChange[], ctx: RailContext): string | undefined;
}

/** Who a response action acts on, and what the incident knows. */
export interface ResponseTarget {
  readonly user: { readonly id: string; readonly upn: string };
  /** When the incident's first signal was observed: what was granted or created since is suspect. */
  readonly since: string;
  /** The watchlist group's id, when the policy declares one. */
  readonly watchlistGroupId?: string;
  /** Its members as read once for the run (object id, lower case → the member as listed); absent: read per target. */
  readonly watchlistMembers?: ReadonlyMap<string, Obj>;
  /** Delegated scopes a grant must hold one of for `revokeConsents` to remove it. */
  readonly riskyScopes: readonly string[];
  /** For a phishing chain's containment (purgeMessage, removeInvites): what of the chain is to be taken away. */
  readonly chain?: ChainTarget;
}

/** One write a response action makes, with the resource it acts on and that resource as read now. */
export interface ResponseWrite {
  readonly resource: FindingResource;
  readonly write: Write;
  readonly before: unknown;
  readonly action: PlannedChange['action'];
}

/**
 * A type `posture respond` acts on: for the response actions it serves, the writes one action
 * makes to one user, found by reading the tenant now (an empty list: nothing to do, it is done).
 */
export interface Respondable {
  readonly responds: readonly string[];
  respondWrites(action: string, target: ResponseTarget, conn: Connection): Promise<ResponseWrite[]>;
}

/** What a confirmation may use: the Graph transport, and what the run read. */
export interface ConfirmContext {
  readonly graph: GraphTransport;
  readonly manifest: Manifest;
  readonly live: LiveState;
  readonly dir: Directory;
}

/**
 * A type that can ask the service to confirm how a finding explains itself (conditional access: a
 * What If evaluation of the near miss). Optional and never fatal: it resolves to the finding, with
 * the confirmation or why there is none in its data, and never throws.
 */
export interface Confirmable {
  confirm(finding: Finding, ctx: ConfirmContext): Promise<Finding>;
}

/** A type with its own wording of one resource in messages (default: `type "name"`). */
export interface Describable {
  describe(r: FindingResource): string;
}
