import { randomUUID } from 'node:crypto';
import { badRequest } from '../../http/errors.js';
import type { Collection, Entity } from '../../tenant/collection.js';
import { listPage } from '../odata.js';
import { ctxUrl, getOne, graphEntity, obj, type RouteContext } from '../entity.js';

declare module '../../tenant/tenant.js' {
  interface GraphCollections {
    /** One item per copy of a message, per recipient: microsoft.graph.security.analyzedEmail. */
    analyzedEmails: Collection;
  }
}

const TYPE = '#microsoft.graph.security.analyzedEmail';

/** The remediation actions the service takes (`moveToQuarantine` is listed but not supported). */
const ACTIONS = ['moveToJunk', 'moveToInbox', 'hardDelete', 'softDelete', 'moveToDeletedItems'] as const;
const SEVERITIES = ['low', 'medium', 'high'];

/** Where each action leaves a message, as `latestDelivery.location` then reads. */
const LOCATION_AFTER: Record<(typeof ACTIONS)[number], string> = {
  moveToJunk: 'junkFolder',
  moveToInbox: 'inbox_folder',
  hardDelete: 'deletedFolder',
  softDelete: 'deletedFolder',
  moveToDeletedItems: 'deletedFolder',
};

const render = (item: Entity): Record<string, unknown> => ({ '@odata.type': TYPE, ...item });

/**
 * Checks `startTime`/`endTime`: dates or date-times, the end after the start. The service searches
 * the last 30 days when they are left out.
 */
function window(c: RouteContext): { from: number; to: number } {
  const now = c.tenant.clock.now();
  const parse = (name: string, fallback: number) => {
    const raw = c.query.get(name);
    if (raw === null) return fallback;
    const t = Date.parse(raw);
    if (!/^\d{4}-\d{2}-\d{2}/.test(raw) || Number.isNaN(t)) throw badRequest(`Invalid value '${raw}' for parameter ${name}.`, 'BadRequest');
    return t;
  };
  const from = parse('startTime', now - 30 * 86_400_000);
  // A date alone means the whole day.
  const rawEnd = c.query.get('endTime');
  const to = parse('endTime', now) + (rawEnd && /^\d{4}-\d{2}-\d{2}$/.test(rawEnd) ? 86_400_000 - 1 : 0);
  if (to < from) throw badRequest('endTime must be later than startTime.', 'BadRequest');
  return { from, to };
}

/**
 * Microsoft Defender for Office 365's analyzed emails (`/security/collaboration/analyzedEmails`):
 * one item per copy of a message per recipient, with its sender, authentication verdicts,
 * delivery as first made and as it is now, and its links; and remediation, which the service
 * answers with 202 and a Location in the action center and which moves each named copy (its
 * `latestDelivery` then says where). Under the security API's limit and Defender's licence.
 */
export const analyzedEmails = graphEntity({
  name: 'analyzedEmails',
  collection: { name: 'analyzedEmails', indexed: ['networkMessageId', 'recipientEmailAddress'] },
  throttle: 'security',
  licence: 'ATP_ENTERPRISE',
  permissions: {
    read: ['SecurityAnalyzedMessage.Read.All', 'SecurityAnalyzedMessage.ReadWrite.All'],
    write: ['SecurityAnalyzedMessage.ReadWrite.All'],
  },
  routes: [
    {
      method: 'GET', pattern: '/security/collaboration/analyzedEmails', permission: 'read',
      handle: (c) => {
        const { from, to } = window(c);
        const inWindow = [...c.tenant.graph.analyzedEmails.values()].filter((e) => {
          const t = Date.parse(String(e['loggedDateTime'] ?? ''));
          return !Number.isNaN(t) && t >= from && t <= to;
        });
        return listPage(inWindow, c.query, {
          typeName: 'microsoft.graph.security.analyzedEmail', defaultTop: 100, maxTop: 1000, render,
          filterable: ['networkMessageId', 'recipientEmailAddress', 'internetMessageId', 'subject', 'directionality'],
          requestUrl: c.requestUrl, context: ctxUrl(c, 'security/collaboration/analyzedEmails'), loopNextLink: c.loopNextLink,
        });
      },
    },
    { method: 'GET', pattern: '/security/collaboration/analyzedEmails/{id}', permission: 'read', handle: getOne('analyzedEmails', 'security/collaboration/analyzedEmails', undefined, (_c, item) => render(item)) },
    {
      method: 'POST', pattern: '/security/collaboration/analyzedEmails/remediate', permission: 'write',
      handle: (c) => {
        const b = obj(c.body);
        const action = b['action'];
        if (typeof action !== 'string' || !(ACTIONS as readonly string[]).includes(action)) {
          throw badRequest(`The action '${String(action)}' is not a supported remediation action.`, 'BadRequest');
        }
        if (typeof b['displayName'] !== 'string' || !b['displayName'].trim()) throw badRequest('The remediation needs a displayName.', 'BadRequest');
        if (b['severity'] !== undefined && !SEVERITIES.includes(String(b['severity']))) throw badRequest(`The severity '${String(b['severity'])}' is not valid.`, 'BadRequest');
        const named = b['analyzedEmails'];
        if (!Array.isArray(named) || named.length === 0) throw badRequest('analyzedEmails must name at least one email.', 'BadRequest');
        const targets = named.map((n) => {
          const e = obj(n);
          if (typeof e['networkMessageId'] !== 'string' || typeof e['recipientEmailAddress'] !== 'string') {
            throw badRequest('Each analyzed email needs its networkMessageId and recipientEmailAddress.', 'BadRequest');
          }
          return { networkMessageId: e['networkMessageId'].toLowerCase(), recipient: e['recipientEmailAddress'].toLowerCase() };
        });
        const remediateSendersCopy = b['remediateSendersCopy'] === true || b['remediateSendersCopy'] === 'true';
        const at = c.tenant.clock.iso();
        for (const t of targets) {
          for (const e of c.tenant.graph.analyzedEmails.findBy('networkMessageId', t.networkMessageId)) {
            const recipient = String(e['recipientEmailAddress'] ?? '').toLowerCase();
            const sender = String(obj(e['senderDetail'] ?? {})['fromAddress'] ?? '').toLowerCase();
            if (recipient !== t.recipient && !(remediateSendersCopy && sender === t.recipient)) continue;
            const latest = obj(e['latestDelivery'] ?? {});
            c.tenant.graph.analyzedEmails.replace(e.id, {
              ...e,
              latestDelivery: { ...latest, location: LOCATION_AFTER[action as (typeof ACTIONS)[number]] },
              timelineEvents: [...(Array.isArray(e['timelineEvents']) ? e['timelineEvents'] : []), { eventDateTime: at, eventType: 'adminAction', eventSource: 'graphApi', eventResult: action }],
            });
          }
        }
        const bulkId = randomUUID();
        return {
          status: 202,
          headers: {
            location: `https://security.microsoft.com/action-center/history?filters=${encodeURIComponent(JSON.stringify({ bulkId: [bulkId] }))}&tid=${c.tenant.id}`,
            'content-type': 'application/json;text/plain',
          },
        };
      },
    },
  ],
});
