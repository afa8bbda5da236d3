import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { graphError, HttpError } from '../../http/errors.js';
import type { Entity } from '../../tenant/collection.js';
import { PerUserStore } from '../../tenant/per-user.js';
import type { Tenant } from '../../tenant/tenant.js';
import { listPage } from '../odata.js';
import { ctxUrl, entitySchema, graphEntity, obj, slot, type RouteContext } from '../entity.js';
import { mailboxUser } from './message-rules.js';

declare module '../../tenant/tenant.js' {
  interface GraphScenarioState {
    /** User id → the events of that mailbox's calendar, as Graph event objects. */
    events: Record<string, Entity[]>;
  }
  interface TenantSlots {
    /** Calendar events per mailbox (keyed by user object id). */
    readonly calendarEvents: PerUserStore;
  }
}

const itemNotFound = () => new HttpError(graphError(404, 'ErrorItemNotFound', 'The specified object was not found in the store.'));
const eventsContext = (c: RouteContext, entity = '') => ctxUrl(c, `users('${c.params['user']}')/events${entity}`);

/** A new change key, as Exchange issues one on every change of an item. */
const changeKey = () => randomBytes(12).toString('base64');

/** An event as Outlook lists it: its etag beside it. */
const render = (e: Entity): Entity => ({ '@odata.etag': `W/"${String(e['changeKey'] ?? '')}"`, ...e });

const address = (r: unknown): string => String(obj(obj(r ?? {})['emailAddress'] ?? {})['address'] ?? '').toLowerCase();

/** The user (object id) a mail address belongs to, if any. */
function userOf(tenant: Tenant, mail: string): string | undefined {
  const u = tenant.graph.users.findBy('mail', mail)[0] ?? tenant.graph.users.findBy('userPrincipalName', mail)[0];
  return u?.id;
}

/**
 * What the organizer's cancellation (or deletion) of a meeting does to the attendees' calendars:
 * each copy (same iCalUId) is marked cancelled, its subject prefixed, with a new change key. The
 * copy stays on the calendar until its owner removes it.
 */
function cancelForAttendees(tenant: Tenant, organizerCopy: Entity): void {
  for (const attendee of Array.isArray(organizerCopy['attendees']) ? organizerCopy['attendees'] : []) {
    const id = userOf(tenant, address(attendee));
    if (!id || !tenant.mailboxOf(id)) continue;
    for (const copy of tenant.calendarEvents.list(id).filter((e) => e['iCalUId'] === organizerCopy['iCalUId'] && e['isOrganizer'] !== true)) {
      tenant.calendarEvents.update(id, copy.id, (e) => ({
        ...e,
        isCancelled: true,
        subject: String(e['subject'] ?? '').startsWith('Canceled: ') ? e['subject'] : `Canceled: ${String(e['subject'] ?? '')}`,
        changeKey: changeKey(),
        lastModifiedDateTime: tenant.clock.iso(),
      }));
    }
  }
}

/**
 * `$filter` on events: Outlook filters on the event's own properties (iCalUId, createdDateTime,
 * type, isCancelled…), not on the organizer or attendees, which it refuses as an unsupported
 * expression (so a tenant-wide search for one organizer's meetings is a sweep of every calendar).
 */
function refuseRecipientFilter(c: RouteContext): void {
  const filter = c.query.get('$filter');
  if (!filter) return;
  const m = /\b(organizer|attendees)\b[^']*'([^']*)'/i.exec(filter);
  if (m) {
    const prop = m[1]!.toLowerCase() === 'organizer' ? 'i.Organizer.EmailAddress' : 'i.Attendees.EmailAddress';
    throw new HttpError(graphError(400, 'UnsupportedEntityExpression', `'i => (${prop} == "${m[2]}")' is not a supported filter expression.`));
  }
}

/**
 * Calendar events of a mailbox (microsoft.graph.event), under the Outlook service limits: list
 * (with `$filter` on iCalUId and dates, paged by 10), get, delete (the organizer's delete cancels
 * the meeting for every attendee) and cancel (the organizer's only: an attendee gets Outlook's 400).
 * A scenario holds them per user id in `events`.
 */
export const calendarEvents = graphEntity({
  name: 'events',
  state: slot({
    key: 'events',
    schema: z.record(z.string(), z.array(entitySchema)).default(() => ({})),
    property: 'calendarEvents',
    init: (value) => new PerUserStore(value, undefined, (a, b) => String(a['createdDateTime'] ?? '').localeCompare(String(b['createdDateTime'] ?? ''))),
  }),
  throttle: 'mailbox',
  permissions: {
    read: ['Calendars.ReadBasic', 'Calendars.Read', 'Calendars.ReadWrite'],
    write: ['Calendars.ReadWrite'],
  },
  routes: [
    {
      method: 'GET', pattern: '/users/{user}/events', permission: 'read',
      handle: (c) => {
        const user = mailboxUser(c);
        refuseRecipientFilter(c);
        return listPage(c.tenant.calendarEvents.list(user.id).map(render), c.query, {
          defaultTop: 10, maxTop: 1000, typeName: 'microsoft.graph.event', requestUrl: c.requestUrl,
          filterable: ['iCalUId', 'createdDateTime', 'lastModifiedDateTime', 'type', 'isCancelled', 'isOrganizer', 'subject', 'seriesMasterId'],
          context: eventsContext(c), loopNextLink: c.loopNextLink,
        });
      },
    },
    {
      method: 'GET', pattern: '/users/{user}/events/{id}', permission: 'read',
      handle: (c) => {
        const user = mailboxUser(c);
        const event = c.tenant.calendarEvents.list(user.id).find((e) => e.id === c.params['id']);
        if (!event) throw itemNotFound();
        return { status: 200, body: { '@odata.context': eventsContext(c, '/$entity'), ...render(event) } };
      },
    },
    {
      method: 'DELETE', pattern: '/users/{user}/events/{id}', permission: 'write',
      handle: (c) => {
        const user = mailboxUser(c);
        const event = c.tenant.calendarEvents.list(user.id).find((e) => e.id === c.params['id']);
        if (!event) throw itemNotFound();
        c.tenant.calendarEvents.remove(user.id, event.id);
        if (event['isOrganizer'] === true && event['isCancelled'] !== true) cancelForAttendees(c.tenant, event);
        return { status: 204 };
      },
    },
    {
      method: 'POST', pattern: '/users/{user}/events/{id}/cancel', permission: 'write',
      handle: (c) => {
        const user = mailboxUser(c);
        const event = c.tenant.calendarEvents.list(user.id).find((e) => e.id === c.params['id']);
        if (!event) throw itemNotFound();
        const body = c.body === undefined ? {} : obj(c.body);
        const comment = body['comment'] ?? body['Comment'];
        if (comment !== undefined && typeof comment !== 'string') throw new HttpError(graphError(400, 'ErrorInvalidRequest', 'The comment must be a string.'));
        if (event['isOrganizer'] !== true) {
          throw new HttpError(graphError(400, 'ErrorInvalidRequest', "Your request can't be completed. You need to be an organizer to cancel a meeting."));
        }
        // The organizer's copy goes to Deleted Items: the calendar no longer lists it.
        c.tenant.calendarEvents.remove(user.id, event.id);
        cancelForAttendees(c.tenant, event);
        return { status: 202 };
      },
    },
  ],
});
