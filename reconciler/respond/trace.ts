import { withoutAnnotations } from '../core/annotations.js';
import type { Connection } from '../input/connection.js';
import type { ChainInvite, ChainMessage, EventCopy, MessageCopy, TraceStep } from '../model/chain.js';
import type { IncompleteRead } from '../model/finding.js';
import { readPerMailbox } from '../read/per-mailbox.js';
import { linksIn, matchInvites, normaliseLink, type InviteLeftAlone } from './chain.js';
import { addressIndex, type Identity } from './decide.js';

type Obj = Record<string, unknown>;

const str = (v: unknown): string | undefined => (typeof v === 'string' && v.trim() !== '' ? v : undefined);
const objOf = (v: unknown): Obj => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Obj) : {});
const quoted = (s: string) => `'${s.replace(/'/g, "''")}'`;

/** Calendar roles that let their holder send and change meetings for the calendar's owner. */
const DELEGATE_ROLES = new Set(['delegateWithoutPrivateEventAccess', 'delegateWithPrivateEventAccess', 'write']);

/** How far back analyzed emails are searched: Defender keeps them 30 days. */
const SEARCH_DAYS = 30;
const EVENT_SELECT = 'id,iCalUId,subject,organizer,attendees,body,createdDateTime,isOrganizer,isCancelled,type,seriesMasterId';

/** A chain as traced: the message, the invites that belong to it, those left alone, and each step with its source. */
export interface TracedChain {
  readonly message: ChainMessage;
  readonly invites: ChainInvite[];
  readonly leftAlone: InviteLeftAlone[];
}

export interface TraceResult {
  readonly chain?: TracedChain;
  /** Calendars that could not be searched because their mailbox is not in Exchange Online (on-premises, inactive): named, never taken as empty. */
  readonly noCloudMailbox?: string[];
  readonly steps: TraceStep[];
  /** Set when the message is not among the analyzed emails of the last 30 days: nothing of it can be traced or purged. */
  readonly notFound?: string;
  readonly incomplete: IncompleteRead[];
}

export interface TraceOptions {
  /** The organisation's accepted domains: an address at one is internal. */
  readonly domains: readonly string[];
  /** How long after delivery an invite from an account of the chain still counts (the policy's window). */
  readonly windowHours: number;
  /** The directory, to find each internal recipient's mailbox. */
  readonly identities: readonly Identity[];
  readonly now: Date;
  /**
   * Search every user's calendar, not only the recipients' (Graph cannot filter events by organizer,
   * so finding invites the attacker sent to people the message did not reach takes a sweep): one
   * request per mailbox, paced by the transport. @default false
   */
  readonly sweep?: boolean;
}

/** The message's copies, as Defender for Office 365 analysed them, as one message. */
function messageOf(networkMessageId: string, emails: readonly Obj[]): ChainMessage {
  const first = emails.slice().sort((a, b) => String(a['loggedDateTime'] ?? '').localeCompare(String(b['loggedDateTime'] ?? '')))[0]!;
  const sender = objOf(first['senderDetail']);
  const auth = objOf(first['authenticationDetails']);
  const links = new Set<string>();
  for (const e of emails) for (const u of Array.isArray(e['urls']) ? e['urls'] : []) {
    const link = normaliseLink(String(objOf(u)['url'] ?? ''));
    if (link) links.add(link);
  }
  const copies: MessageCopy[] = emails
    .filter((e) => str(e['recipientEmailAddress']))
    .map((e) => ({
      recipient: String(e['recipientEmailAddress']).toLowerCase(),
      originalLocation: String(objOf(e['originalDelivery'])['location'] ?? ''),
      latestLocation: String(objOf(e['latestDelivery'])['location'] ?? ''),
      deliveryAction: String(objOf(e['latestDelivery'])['action'] ?? objOf(e['originalDelivery'])['action'] ?? ''),
      ...(str(e['id']) ? { analyzedEmailId: String(e['id']) } : {}),
    }))
    .sort((a, b) => a.recipient.localeCompare(b.recipient));
  const spf = str(auth['senderPolicyFramework']);
  const dkim = str(auth['dkim']);
  const dmarc = str(auth['dmarc']);
  const composite = str(auth['compositeAuthentication']);
  return {
    networkMessageId,
    ...(str(first['internetMessageId']) ? { internetMessageId: String(first['internetMessageId']) } : {}),
    subject: String(first['subject'] ?? ''),
    sender: {
      address: String(sender['fromAddress'] ?? first['returnPath'] ?? '').toLowerCase(),
      ...(str(sender['displayName']) ? { displayName: String(sender['displayName']) } : {}),
      ...(str(sender['ipv4']) ? { ip: String(sender['ipv4']) } : {}),
      ...(str(first['returnPath']) ? { returnPath: String(first['returnPath']) } : {}),
    },
    directionality: String(first['directionality'] ?? 'unknown'),
    authentication: { ...(spf ? { spf } : {}), ...(dkim ? { dkim } : {}), ...(dmarc ? { dmarc } : {}), ...(composite ? { composite } : {}) },
    receivedAt: String(first['loggedDateTime'] ?? ''),
    links: [...links].sort(),
    copies,
    source: 'analyzedEmails',
  };
}

/** An event as Graph lists it, as one copy of a meeting in one calendar. */
function copyOf(mailbox: { id: string; upn: string }, e: Obj, source: EventCopy['source']): EventCopy | undefined {
  const id = str(e['id']);
  const uid = str(e['iCalUId']);
  if (!id || !uid) return undefined;
  const address = (r: unknown) => String(objOf(objOf(r)['emailAddress'])['address'] ?? '').toLowerCase();
  return {
    mailbox,
    eventId: id,
    iCalUId: uid,
    subject: String(e['subject'] ?? ''),
    organizer: address(e['organizer']),
    attendees: (Array.isArray(e['attendees']) ? e['attendees'] : []).map(address).filter(Boolean),
    links: linksIn(String(objOf(e['body'])['content'] ?? '')),
    createdAt: String(e['createdDateTime'] ?? ''),
    isOrganizer: e['isOrganizer'] === true,
    isCancelled: e['isCancelled'] === true,
    type: String(e['type'] ?? 'singleInstance'),
    source,
  };
}

/**
 * Traces one phishing chain from its message: every copy of it (analyzed emails), the meetings
 * created around it in its recipients' calendars, which of those belong to it (by sender, or by its
 * links from an account of the chain), and every copy of those in their attendees' calendars (by
 * iCalUId, through `$batch`). Each read is a step with its source; a read that fails makes the trace
 * incomplete, and the run acts on nothing of the chain.
 */
export async function traceChain(conn: Pick<Connection, 'graph'>, networkMessageId: string, o: TraceOptions): Promise<TraceResult> {
  const steps: TraceStep[] = [];
  const incomplete: IncompleteRead[] = [];
  const noCloudMailbox: string[] = [];
  const start = new Date(o.now.getTime() - SEARCH_DAYS * 86_400_000).toISOString().slice(0, 19) + 'Z';
  const end = o.now.toISOString().slice(0, 19) + 'Z';
  const emailsPath = `/security/collaboration/analyzedEmails?startTime=${start}&endTime=${end}&$filter=${encodeURIComponent(`networkMessageId eq ${quoted(networkMessageId)}`)}`;
  let emails: Obj[];
  try {
    emails = (await conn.graph.list<Obj>(emailsPath)).map((e) => withoutAnnotations(e) as Obj);
  } catch (err) {
    incomplete.push({ what: `the copies of message ${networkMessageId}`, endpoint: '/security/collaboration/analyzedEmails', error: (err as Error).message });
    return { steps, incomplete };
  }
  const mine = emails.filter((e) => String(e['networkMessageId'] ?? '').toLowerCase() === networkMessageId.toLowerCase());
  if (mine.length === 0) {
    steps.push({ source: 'analyzedEmails', from: '/security/collaboration/analyzedEmails', found: `no copy of the message in the last ${SEARCH_DAYS} days` });
    return { steps, incomplete, notFound: `message ${networkMessageId} is not among the analyzed emails of the last ${SEARCH_DAYS} days: nothing of it can be traced or removed` };
  }
  const message = messageOf(networkMessageId, mine);
  const a = message.authentication;
  steps.push({
    source: 'analyzedEmails',
    from: '/security/collaboration/analyzedEmails',
    found: `${message.copies.length} copies from ${message.sender.address}${message.sender.ip ? ` (${message.sender.ip})` : ''}, ${message.directionality}; SPF ${a.spf ?? '?'}, DKIM ${a.dkim ?? '?'}, DMARC ${a.dmarc ?? '?'}, composite ${a.composite ?? '?'}; ${message.links.length} link${message.links.length === 1 ? '' : 's'}`,
  });

  // The calendars of the internal recipients: meetings created from a window before delivery to a window after it.
  // An address two identities answer to (one's mail, another's UPN) names neither: it is not searched or acted on.
  const byAddress = addressIndex(o.identities);
  const delivered = Date.parse(message.receivedAt);
  if (Number.isNaN(delivered)) {
    incomplete.push({ what: `the delivery time of message ${networkMessageId}`, endpoint: '/security/collaboration/analyzedEmails', error: `loggedDateTime ${JSON.stringify(message.receivedAt)} is not a time: the meetings around delivery cannot be searched` });
    return { steps, incomplete };
  }
  const windowMs = o.windowHours * 3_600_000;
  const from = new Date(delivered - windowMs).toISOString().slice(0, 19) + 'Z';
  const to = new Date(delivered + windowMs).toISOString().slice(0, 19) + 'Z';
  const calendars = new Map<string, { id: string; upn: string }>();
  for (const c of message.copies) {
    const who = byAddress.get(c.recipient);
    if (who) calendars.set(who.id.toLowerCase(), { id: who.id, upn: who.upn });
  }
  if (o.sweep) for (const i of o.identities) calendars.set(i.id.toLowerCase(), { id: i.id, upn: i.upn });
  const eventsQuery = `$filter=${encodeURIComponent(`createdDateTime ge ${from} and createdDateTime le ${to}`)}&$select=${EVENT_SELECT}&$top=100`;
  const around = await readPerMailbox(conn.graph, [...calendars.values()].map((m) => ({ key: m.id.toLowerCase(), label: m.upn, url: `/users/${encodeURIComponent(m.id)}/events?${eventsQuery}` })), 'events', o.sweep ? 12 : 4);
  if (around.failures.length) {
    incomplete.push({ what: `the calendars of ${around.failures.length} of ${calendars.size} ${o.sweep ? 'users (the sweep)' : 'recipients'} of message ${networkMessageId}`, endpoint: '/users/{id}/events ($batch)', error: `first: ${around.failures[0]}` });
    return { steps, incomplete };
  }
  for (const key of around.notEnabled) noCloudMailbox.push(calendars.get(key)!.upn);
  const events: EventCopy[] = [];
  for (const [key, items] of around.items) for (const e of items) {
    const copy = copyOf(calendars.get(key)!, e, o.sweep ? 'eventsSweep' : 'events');
    if (copy) events.push(copy);
  }
  steps.push({ source: o.sweep ? 'eventsSweep' : 'events', from: '/users/{id}/events ($batch)', found: `${events.length} meetings created ${from} – ${to} in ${calendars.size} ${o.sweep ? "users' calendars (a sweep of every calendar)" : "recipients' calendars"}` });

  const base = { domains: o.domains.map((d) => d.toLowerCase()), windowHours: o.windowHours };
  // A meeting with the message's links organised by an internal mailbox outside the chain may have
  // been sent by a recipient acting for it as a delegate: that mailbox's calendar permissions say.
  const unplaced = [...new Set(matchInvites(message, events, base).leftAlone.filter((l) => l.reason === 'organizer-not-in-chain').map((l) => l.organizer.toLowerCase()))]
    .map((address) => byAddress.get(address))
    .filter((i): i is Identity => !!i);
  const delegates = new Map<string, string[]>();
  if (unplaced.length) {
    const perms = await readPerMailbox(conn.graph, unplaced.map((i) => ({ key: i.id.toLowerCase(), label: i.upn, url: `/users/${encodeURIComponent(i.id)}/calendar/calendarPermissions` })), 'calendar permissions');
    if (perms.failures.length) {
      incomplete.push({ what: `the calendar permissions of ${perms.failures.length} of ${unplaced.length} organizers of meetings with the links of message ${networkMessageId}`, endpoint: '/users/{id}/calendar/calendarPermissions ($batch)', error: `first: ${perms.failures[0]}` });
      return { steps, incomplete };
    }
    for (const i of unplaced) {
      const who = (perms.items.get(i.id.toLowerCase()) ?? [])
        .filter((p) => DELEGATE_ROLES.has(String(p['role'] ?? '')))
        .map((p) => String(objOf(p['emailAddress'])['address'] ?? '').toLowerCase())
        .filter(Boolean);
      for (const address of [i.upn, ...(i.mail ? [i.mail] : [])]) delegates.set(address.toLowerCase(), who);
    }
    steps.push({ source: 'calendarPermissions', from: '/users/{id}/calendar/calendarPermissions ($batch)', found: `calendar delegates of organizers outside the chain: ${unplaced.map((i) => `${i.upn} (${delegates.get(i.upn.toLowerCase())?.length ?? 0})`).join(', ')}` });
  }
  const ctx = { ...base, delegates };
  const first = matchInvites(message, events, ctx);
  // Every attendee's copy of a meeting of the chain, by iCalUId, in calendars not read above.
  const wanted = new Map<string, { mailbox: { id: string; upn: string }; uid: string }>();
  for (const inv of first.invites) {
    const attendees = new Set(inv.copies.flatMap((c) => [c.organizer, ...c.attendees]));
    for (const address of attendees) {
      const who = byAddress.get(address);
      if (!who) continue;
      if (inv.copies.some((c) => c.mailbox.id.toLowerCase() === who.id.toLowerCase())) continue;
      wanted.set(`${who.id.toLowerCase()}|${inv.iCalUId}`, { mailbox: { id: who.id, upn: who.upn }, uid: inv.iCalUId });
    }
  }
  const copies = await readPerMailbox(
    conn.graph,
    [...wanted.entries()].map(([key, w]) => ({ key, label: w.mailbox.upn, url: `/users/${encodeURIComponent(w.mailbox.id)}/events?$filter=${encodeURIComponent(`iCalUId eq ${quoted(w.uid)}`)}&$select=${EVENT_SELECT}` })),
    'events',
  );
  if (copies.failures.length) {
    incomplete.push({ what: `the attendees' copies of ${first.invites.length} invites of message ${networkMessageId}`, endpoint: "/users/{id}/events?$filter=iCalUId eq '…' ($batch)", error: `${copies.failures.length} calendars; first: ${copies.failures[0]}` });
    return { steps, incomplete };
  }
  for (const key of copies.notEnabled) noCloudMailbox.push(wanted.get(key)!.mailbox.upn);
  const more: EventCopy[] = [];
  for (const [key, items] of copies.items) for (const e of items) {
    const copy = copyOf(wanted.get(key)!.mailbox, e, 'events');
    if (copy && copy.iCalUId === wanted.get(key)!.uid) more.push(copy);
  }
  if (wanted.size) steps.push({ source: 'events', from: "/users/{id}/events?$filter=iCalUId eq '…' ($batch)", found: `${more.length} more copies in ${wanted.size} attendees' calendars` });
  const { invites, leftAlone } = matchInvites(message, [...events, ...more], ctx);
  for (const inv of invites) steps.push({ source: 'events', from: inv.iCalUId, found: `invite "${inv.subject}" by ${inv.organizer} (${inv.organizerKind}), matched by ${inv.matchedBy.join(' and ')}, ${inv.copies.length} copies` });
  for (const l of leftAlone) steps.push({ source: 'events', from: l.iCalUId, found: `left alone: "${l.subject}" by ${l.organizer} (${l.reason})` });
  if (noCloudMailbox.length && !o.sweep) steps.push({ source: 'events', from: '/users/{id}/events ($batch)', found: `${noCloudMailbox.length} calendars not searched: their mailbox is not in Exchange Online` });
  return { chain: { message, invites, leftAlone }, steps, incomplete, ...(noCloudMailbox.length && !o.sweep ? { noCloudMailbox: [...new Set(noCloudMailbox)].sort() } : {}) };
}

