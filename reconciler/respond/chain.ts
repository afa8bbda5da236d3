/**
 * The pure core of a phishing chain: one message, the meeting invites that followed it, and the
 * accounts behind both, as one incident. The readers hand in what the services said (the message's
 * copies as analyzed emails, calendar events found by iCalUId or by a sweep, the directory); these
 * functions decide which invites belong to the chain, who organised each, and what of the chain is
 * still not contained. No I/O: the same facts give the same chain.
 */

import type { ChainInvite, ChainMessage, EventCopy, OrganizerKind } from '../model/chain.js';

export type { ChainInvite, ChainMessage, ChainSource, EventCopy, MessageCopy, OrganizerKind } from '../model/chain.js';

/** An invite looked at and left alone, and why: the report shows what was not touched. */
export interface InviteLeftAlone {
  readonly iCalUId: string;
  readonly subject: string;
  readonly organizer: string;
  /** `mixed-copies`: copies of one meeting disagree on carrying the links; the chain stays open for a person. `after-window`: outside the window around delivery. */
  readonly reason: 'no-shared-link' | 'before-delivery' | 'after-window' | 'organizer-not-in-chain' | 'mixed-copies' | 'no-time';
}

/** What the chain knows of the organisation. */
export interface ChainContext {
  /** The organisation's accepted domains, lower case: an address at one of them is internal. */
  readonly domains: readonly string[];
  /** How long after delivery an invite from an account of the chain still counts. */
  readonly windowHours: number;
  /** Delegates: an organizer's mailbox (address, lower case) → the addresses that can send for it or edit its calendar. */
  readonly delegates?: ReadonlyMap<string, readonly string[]>;
}

/**
 * A link as the chain compares links: scheme and host lower case, the default port, the fragment and
 * the query dropped (a phish link carries a per-recipient token there), the path kept as written.
 * Not a URL, or not http(s): undefined.
 */
export function normaliseLink(raw: string): string | undefined {
  let url: URL;
  try {
    url = new URL(raw.trim());
  } catch {
    return undefined;
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return undefined;
  // A wrapped link (Safe Links, a search engine's redirect) is compared by what it wraps.
  const host = url.hostname.toLowerCase();
  const wrapped = host.endsWith('.safelinks.protection.outlook.com') ? url.searchParams.get('url') : /^(www\.)?google\.[a-z.]+$/.test(host) && url.pathname === '/url' ? url.searchParams.get('q') ?? url.searchParams.get('url') : null;
  if (wrapped !== null && wrapped !== raw.trim()) return normaliseLink(wrapped);
  const path = url.pathname.replace(/\/+$/, '') || '/';
  return `${url.protocol}//${url.host.toLowerCase()}${path}`;
}

/**
 * Hosts whose links every meeting carries (join links, meeting options, the mail service's own
 * pages): a phish that copies one shares nothing with the meetings that hold it.
 */
const COMMON_HOSTS = [
  'teams.microsoft.com', 'teams.live.com', 'aka.ms', 'go.microsoft.com', 'microsoft.com', 'www.microsoft.com', 'office.com', 'www.office.com',
  'outlook.office.com', 'outlook.office365.com', 'outlook.live.com', 'login.microsoftonline.com', 'zoom.us', 'meet.google.com', 'webex.com',
];

/**
 * Whether a link says something of the message that holds it: not a host's front page (path `/`),
 * not a link of the organisation's own domains, not a meeting service's or the mail service's own.
 */
export function isDistinctiveLink(link: string, ownDomains: readonly string[]): boolean {
  let url: URL;
  try {
    url = new URL(link);
  } catch {
    return false;
  }
  const host = url.hostname.toLowerCase();
  const under = (d: string) => host === d || host.endsWith(`.${d}`);
  if (url.pathname === '/' || url.pathname === '') return false;
  return !ownDomains.some((d) => under(d.toLowerCase())) && !COMMON_HOSTS.some(under);
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", '#39': "'", '#x27': "'", '#x2f': '/', '#47': '/' };

/**
 * The http(s) links in a message or event body (HTML or text), normalised, each once, in order.
 * The body is hostile text: it is only searched, never rendered or parsed as markup.
 */
export function linksIn(body: string): string[] {
  const decoded = body.replace(/&(#?x?[0-9a-z]+);/gi, (m, e: string) => ENTITIES[e.toLowerCase()] ?? m);
  const out: string[] = [];
  for (const m of decoded.matchAll(/https?:\/\/[^\s"'<>()[\]{}]+/gi)) {
    const link = normaliseLink(m[0].replace(/[.,;:!?]+$/, ''));
    if (link && !out.includes(link)) out.push(link);
  }
  return out;
}

const domainOf = (address: string) => address.slice(address.lastIndexOf('@') + 1).toLowerCase();
const isInternal = (address: string, ctx: ChainContext) => ctx.domains.includes(domainOf(address));

/**
 * Which invites belong to the chain. Copies are grouped by iCalUId (every attendee's copy of one
 * meeting shares it). A meeting belongs when its organizer is the message's sender, or when it
 * carries one of the message's links and was organised, within the window after delivery, by an
 * account of the chain (a recipient of the message, or a mailbox a recipient is a delegate of, the
 * attacker in the recipient's account acting for it) or from outside. A subject
 * that looks alike is never enough: the legitimate invite with a similar subject is left alone.
 */
export function matchInvites(message: ChainMessage, events: readonly EventCopy[], ctx: ChainContext): { invites: ChainInvite[]; leftAlone: InviteLeftAlone[] } {
  const sender = message.sender.address.toLowerCase();
  // The sender decides only when it is an outside address: an internal one may be spoofed, and the
  // organisation's own meetings are never the phisher's by their organizer alone.
  const senderRules = sender.includes('@') && !isInternal(sender, ctx);
  const recipients = new Set(message.copies.map((c) => c.recipient.toLowerCase()));
  const links = new Set(message.links.filter((l) => isDistinctiveLink(l, ctx.domains)));
  const delivered = Date.parse(message.receivedAt);
  const from = delivered - ctx.windowHours * 3_600_000;
  const until = delivered + ctx.windowHours * 3_600_000;
  // One meeting is one iCalUId from one organizer: a copy whose organizer differs is another meeting
  // (a UID copied from a real one does not pull that one in).
  const byMeeting = new Map<string, EventCopy[]>();
  for (const e of events) {
    const key = `${e.iCalUId}\u0000${e.organizer.toLowerCase()}`;
    byMeeting.set(key, [...(byMeeting.get(key) ?? []), e]);
  }
  const invites: ChainInvite[] = [];
  const leftAlone: InviteLeftAlone[] = [];
  for (const copies of byMeeting.values()) {
    // The organizer's own copy says best what it carries; any copy otherwise.
    const first = copies.find((c) => c.isOrganizer) ?? copies[0]!;
    const iCalUId = first.iCalUId;
    const organizer = first.organizer.toLowerCase();
    const times = copies.map((c) => Date.parse(c.createdAt)).filter((t) => !Number.isNaN(t));
    const created = times.length ? Math.min(...times) : NaN;
    const carries = copies.map((c) => c.links.some((l) => links.has(l)));
    const shared = carries.some(Boolean);
    const view = { iCalUId, subject: first.subject, organizer: first.organizer };
    // Copies of one meeting that disagree (some carry the links, some do not) are not one story: a person looks.
    if (shared && !carries.every(Boolean)) {
      leftAlone.push({ ...view, reason: 'mixed-copies' });
      continue;
    }
    const delegateFor = (ctx.delegates?.get(organizer) ?? []).some((d) => recipients.has(d.toLowerCase()));
    const kind: OrganizerKind | undefined = !organizer.includes('@') ? undefined : !isInternal(organizer, ctx) ? 'outside' : recipients.has(organizer) ? 'compromised-internal' : delegateFor ? 'delegate' : undefined;
    const inWindow = !Number.isNaN(created) && created >= from && created <= until;
    if (senderRules && organizer === sender && (shared || inWindow)) {
      invites.push({ ...view, organizerKind: 'outside', matchedBy: shared ? ['sender', 'links'] : ['sender'], copies });
      continue;
    }
    const reason: InviteLeftAlone['reason'] | undefined = !shared
      ? 'no-shared-link'
      : !kind
        ? 'organizer-not-in-chain'
        : Number.isNaN(created)
          ? 'no-time'
          : kind !== 'outside' && created < delivered
            ? 'before-delivery'
            : created > until || (kind === 'outside' && created < from)
              ? 'after-window'
              : undefined;
    if (reason) leftAlone.push({ ...view, reason });
    else invites.push({ ...view, organizerKind: kind!, matchedBy: ['links'], copies });
  }
  const order = (a: { iCalUId: string; organizer: string }, b: { iCalUId: string; organizer: string }) => a.iCalUId.localeCompare(b.iCalUId) || a.organizer.localeCompare(b.organizer);
  invites.sort(order);
  leftAlone.sort(order);
  return { invites, leftAlone };
}

/** The parts of a chain's containment, each verified by a read, still open. */
export interface ChainOpen {
  /** Recipients whose copy of the message is still where a user can open it. */
  readonly messages: readonly string[];
  /** Calendars (UPN) still holding a live copy of an invite of the chain, with the invite. */
  readonly invites: ReadonlyArray<{ readonly upn: string; readonly iCalUId: string }>;
}

/** Where a remediated message may be: nowhere a user reads it. */
const CONTAINED_LOCATIONS = new Set(['deletedfolder', 'quarantine', 'junkfolder', 'dropped', 'failed']);

/**
 * What of a chain is not contained yet, read from the services now: a message copy still in a folder
 * a user reads, an invite copy still on a calendar (a cancelled copy stays there, its link with it,
 * until it is removed). The incident stays open while any is.
 */
export function stillOpen(message: ChainMessage, invites: readonly ChainInvite[]): ChainOpen {
  return {
    messages: message.copies.filter((c) => !CONTAINED_LOCATIONS.has(c.latestLocation.toLowerCase())).map((c) => c.recipient).sort(),
    invites: invites.flatMap((i) => i.copies.map((c) => ({ upn: c.mailbox.upn, iCalUId: i.iCalUId }))).sort((a, b) => a.upn.localeCompare(b.upn) || a.iCalUId.localeCompare(b.iCalUId)),
  };
}

/**
 * How each copy of an invite is taken away: the organizer's copy of a meeting a compromised (or
 * delegate-held) account organised is cancelled, which tells every attendee; every other copy is
 * deleted (only the organizer can cancel, and a cancelled copy keeps its link on the calendar until
 * it is removed). An outside organizer's meeting is deleted everywhere.
 */
export function inviteRemovals(invite: ChainInvite): Array<{ readonly copy: EventCopy; readonly how: 'cancel' | 'delete' }> {
  return invite.copies.map((copy) => ({ copy, how: copy.isOrganizer && !copy.isCancelled && invite.organizerKind !== 'outside' ? ('cancel' as const) : ('delete' as const) }));
}

/** Where a remediated message may be: nowhere a user reads it. */
export const isContainedLocation = (location: string): boolean => CONTAINED_LOCATIONS.has(location.toLowerCase());
