/**
 * A phishing chain as data: the message and its copies, the meeting invites that followed it and
 * their copies. The respond readers build it from what the services said, the pure core in
 * respond/chain.ts judges it, and the resource types that contain it (analyzed emails, calendar
 * events) read their targets from it.
 */

/** Where a fact of the chain came from, so each step of the trace names its source. */
export type ChainSource = 'analyzedEmails' | 'messageTrace' | 'alertEvidence' | 'signalFile' | 'events' | 'eventsSweep' | 'directory' | 'mailboxPermissions' | 'calendarPermissions' | 'auditLog';

/** One copy of the message, in one recipient's mailbox. */
export interface MessageCopy {
  readonly recipient: string;
  /** Delivery as first made, and as it is now (after any remediation): `inbox_folder`, `junkFolder`, `deletedFolder`, `quarantine`… */
  readonly originalLocation: string;
  readonly latestLocation: string;
  readonly deliveryAction: string;
  /** The analyzed email's id, when the copy came from analyzedEmails. */
  readonly analyzedEmailId?: string;
}

/** The message that started the chain, as traced. */
export interface ChainMessage {
  readonly networkMessageId: string;
  readonly internetMessageId?: string;
  readonly subject: string;
  readonly sender: { readonly address: string; readonly displayName?: string; readonly ip?: string; readonly returnPath?: string };
  readonly directionality: string;
  readonly authentication: { readonly spf?: string; readonly dkim?: string; readonly dmarc?: string; readonly composite?: string };
  readonly receivedAt: string;
  readonly links: readonly string[];
  readonly copies: readonly MessageCopy[];
  readonly source: ChainSource;
}

/** One calendar's copy of a meeting, as Graph lists the event. */
export interface EventCopy {
  /** The mailbox (user object id and UPN) whose calendar holds it. */
  readonly mailbox: { readonly id: string; readonly upn: string };
  readonly eventId: string;
  readonly iCalUId: string;
  readonly subject: string;
  readonly organizer: string;
  readonly attendees: readonly string[];
  readonly links: readonly string[];
  readonly createdAt: string;
  readonly isOrganizer: boolean;
  readonly isCancelled: boolean;
  /** singleInstance, occurrence, exception or seriesMaster. */
  readonly type: string;
  readonly source: ChainSource;
}

/** Who organised an invite of the chain. */
export type OrganizerKind =
  /** The message's own sender, or another address outside the organisation. */
  | 'outside'
  /** An internal account the chain touched (a recipient of the message), sending after delivery. */
  | 'compromised-internal'
  /** A mailbox a recipient of the message is a delegate of (calendar permission): the attacker in the recipient's account acting for it; the delegate is the account to look at. */
  | 'delegate';

/** One meeting of the chain: every copy of it found, who organised it, and why it belongs. */
export interface ChainInvite {
  readonly iCalUId: string;
  readonly subject: string;
  readonly organizer: string;
  readonly organizerKind: OrganizerKind;
  /** Why it belongs: the sender organised it, or it carries the message's links. */
  readonly matchedBy: ReadonlyArray<'sender' | 'links'>;
  readonly copies: readonly EventCopy[];
}

/** One copy of an invite of the chain and how it is taken away (the pure core decides). */
export interface InviteRemoval {
  readonly copy: EventCopy;
  readonly iCalUId: string;
  readonly how: 'cancel' | 'delete';
}

/**
 * What the resource types that contain a chain act on, for one run: the copies of the message still
 * where a user reads them, and each invite copy with how it is removed. A type picks the ones in the
 * mailbox of the identity its decision is about.
 */
export interface ChainTarget {
  readonly networkMessageId: string;
  /** The message's subject, for naming what is removed. */
  readonly subject: string;
  /** The copies still where their recipient reads them, each with the object id of the mailbox's user. */
  readonly purge: ReadonlyArray<MessageCopy & { readonly mailboxId: string }>;
  readonly removals: readonly InviteRemoval[];
}

/** One step of a chain's trace: what was read, from where, and what it gave. */
export interface TraceStep {
  readonly source: ChainSource;
  /** The endpoint (path without host) or the signal it came from. */
  readonly from: string;
  readonly found: string;
}

/**
 * A chain as the response plan shows it and the trail keeps it: the message, the invites that
 * belong to it and those left alone, the accounts it touched, each step of the trace with its
 * source, the containment decisions and what is still open.
 */
export interface ChainView<Disposition extends string = string> {
  /** Stable: `CHN-` and a hash of the network message id. */
  readonly id: string;
  readonly networkMessageId: string;
  readonly confidence: 'high' | 'medium' | 'low';
  /** The signals that started it (source:id), or `command-line`. */
  readonly startedBy: readonly string[];
  /** Set when every calendar of the tenant was searched (`--sweep-calendars`): an approval traces it again the same way. */
  readonly swept?: boolean;
  /** Why nothing of it was traced (the message is not among the analyzed emails): it is named, never passed over. */
  readonly notTraced?: string;
  readonly message?: {
    readonly subject: string;
    readonly sender: string;
    readonly senderIp?: string;
    readonly returnPath?: string;
    readonly directionality: string;
    readonly authentication: { readonly spf?: string; readonly dkim?: string; readonly dmarc?: string; readonly composite?: string };
    readonly receivedAt: string;
    readonly links: readonly string[];
    readonly recipients: number;
  };
  readonly invites: ReadonlyArray<{ readonly iCalUId: string; readonly subject: string; readonly organizer: string; readonly organizerKind: OrganizerKind; readonly matchedBy: readonly string[]; readonly copies: number }>;
  readonly leftAlone: ReadonlyArray<{ readonly iCalUId: string; readonly subject: string; readonly organizer: string; readonly reason: string }>;
  /** Internal accounts of the chain: those that organised an invite of it, and those its signals name (the phished user); their identity incidents carry the account actions. */
  readonly accounts: ReadonlyArray<{ readonly upn: string; readonly role: OrganizerKind | 'signal-subject' }>;
  readonly trace: readonly TraceStep[];
  /** Containment, per mailbox and action. */
  readonly actions: ReadonlyArray<{ readonly id: string; readonly upn: string; readonly tier: string; readonly action: string; readonly disposition: Disposition; readonly rule: string; readonly heldBack?: string; readonly decisionId: string; readonly writes: number; readonly owner?: string }>;
  /** Mailboxes the chain reached that are never acted on (break-glass, an address two identities answer to) or cannot be (not in the directory, not in Exchange Online). */
  readonly untouched: ReadonlyArray<{ readonly address: string; readonly reason: 'break-glass' | 'not-in-directory' | 'ambiguous-address' | 'no-cloud-mailbox' }>;
  /** What was still not contained when the run read it (before its writes): the chain stays open while any is. */
  readonly open: {
    readonly messages: readonly string[];
    readonly invites: ReadonlyArray<{ readonly upn: string; readonly iCalUId: string }>;
    /** Evidence not read yet (an audit log query that failed or did not finish in time): read again by the next run. */
    readonly evidence?: readonly string[];
  };
}
