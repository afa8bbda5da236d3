import { P } from '../../policies/permissions.js';
import type { Write } from '../model/change.js';
import { readGraph, graphWriteOf } from './graph-entity.js';
import type { Obj, Respondable, ResourceType, ResponseTarget, ResponseWrite, Writable } from './types.js';

type GraphWrite = Write & { api: 'graph' };
const graphOnly = (w: Write): GraphWrite => graphWriteOf(w, 'calendar events');
const parts = (w: GraphWrite) => {
  const m = /^\/users\/([^/]+)\/events\/([^/]+)(\/cancel)?$/.exec(w.path);
  if (!m) throw new Error(`not a write to a calendar event: ${w.path}`);
  return { user: m[1]!, event: m[2]! };
};
const SELECT = '$select=id,iCalUId,subject,organizer,isOrganizer,isCancelled,type';
const eventPath = (user: string, event: string) => `/users/${user}/events/${event}?${SELECT}`;

/** The comment attendees get with the cancellation. */
const CANCEL_COMMENT = 'This meeting was cancelled by security operations: it is part of a phishing attack. Do not open its links.';

/**
 * Copies of meetings on users' calendars. For a phishing chain's removeInvites, the organizer's
 * copy of a meeting a compromised account sent is cancelled (POST …/cancel: only the organizer
 * can, and it tells every attendee); every other copy is deleted (DELETE …/events/{id}). Either
 * took when the copy is gone from the calendar. Not reversible: a cancelled meeting cannot be
 * restored, and restoring a phishing invite would be the attack again.
 */
export const calendarEvent: ResourceType & Writable & Respondable = {
  key: 'calendarEvent',
  title: 'meetings on calendars',
  writes: { graph: [['DELETE', '/users/{id}/events/{id}'], ['POST', '/users/{id}/events/{id}/cancel']] },
  writePermissions: [P.calendarWrite],
  writeFor: () => undefined,
  async readTarget(conn, w) {
    const p = parts(graphOnly(w));
    return readGraph(conn, eventPath(p.user, p.event));
  },
  async readBack(conn, w) {
    return { value: await calendarEvent.readTarget(conn, w) };
  },
  // A cancel took when the organizer's copy is gone or reads cancelled (Outlook moves it to Deleted
  // Items, where a read by id may still find it); a delete when the copy is gone.
  took: (w, after) => (after === null || (graphOnly(w).path.endsWith('/cancel') && (after as Obj)['isCancelled'] === true) ? undefined : (after as Obj)['isCancelled'] === true ? 'the cancelled meeting is still on the calendar' : 'the meeting is still on the calendar'),
  effect: () => 'delete',
  targetKey: (w) => {
    const p = parts(graphOnly(w));
    return `graph /users/${p.user.toLowerCase()}/events/${p.event}`;
  },
  responds: ['removeInvites'],
  async respondWrites(_action: string, target: ResponseTarget, conn): Promise<ResponseWrite[]> {
    const chain = target.chain;
    if (!chain) return [];
    const out: ResponseWrite[] = [];
    for (const r of chain.removals.filter((x) => x.copy.mailbox.id.toLowerCase() === target.user.id.toLowerCase())) {
      const user = encodeURIComponent(target.user.id);
      const event = encodeURIComponent(r.copy.eventId);
      const before = await readGraph(conn, eventPath(user, event));
      if (before === null) continue;
      out.push({
        resource: { type: 'calendarEvent', id: r.copy.eventId, name: `${target.user.upn}: "${r.copy.subject}"` },
        write: r.how === 'cancel' ? { api: 'graph', method: 'POST', path: `/users/${user}/events/${event}/cancel`, body: { comment: CANCEL_COMMENT } } : { api: 'graph', method: 'DELETE', path: `/users/${user}/events/${event}` },
        before,
        action: 'delete',
      });
    }
    return out;
  },
};
