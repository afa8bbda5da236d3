/**
 * A phishing chain as data: the message and its copies, the meeting invites that followed it and
 * their copies. The respond readers build it from what the services said, the pure core in
 * respond/chain.ts judges it, and the resource types that contain it (analyzed emails, calendar
 * events) read their targets from it.
 */

/** Where a fact of the chain came from, so each step of the trace names its source. */
export type ChainSource = 'analyzedEmails' | 'messageTrace' | 'alertEvidence' | 'signalFile' | 'events' | 'eventsSweep' | 'directory' | 'mailboxPermissions' | 'auditLog';

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
  /** Someone acting for a mailbox through a delegate or folder permission: the delegate is the account to look at. */
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
