import { z } from 'zod';
import type { Entity } from '../../tenant/collection.js';
import { PerUserStore } from '../../tenant/per-user.js';
import { listPage } from '../odata.js';
import { ctxUrl, entitySchema, graphEntity, slot, type RouteContext } from '../entity.js';
import { mailboxUser } from './message-rules.js';

declare module '../../tenant/tenant.js' {
  interface GraphScenarioState {
    /** User id → the permissions on that mailbox's default calendar, beyond the organisation's free/busy entry. */
    calendarPermissions: Record<string, Entity[]>;
  }
  interface TenantSlots {
    readonly calendarPermissions: PerUserStore;
  }
}

/** Every calendar lists the organisation's own entry: free/busy for everyone inside, not removable. */
const MY_ORGANIZATION: Entity = {
  id: 'RGVmYXVsdA==',
  isRemovable: false,
  isInsideOrganization: true,
  role: 'freeBusyRead',
  allowedRoles: ['none', 'freeBusyRead', 'limitedRead', 'read', 'write'],
  emailAddress: { name: 'My Organization' },
};

const permissionsContext = (c: RouteContext) => ctxUrl(c, `users('${c.params['user']}')/calendar/calendarPermissions`);

/**
 * The permissions on a mailbox's default calendar (microsoft.graph.calendarPermission): who may
 * see it, edit it, or act for its owner as a delegate (delegateWithoutPrivateEventAccess,
 * delegateWithPrivateEventAccess). A scenario holds them per user id in `calendarPermissions`.
 */
export const calendarPermissions = graphEntity({
  name: 'calendarPermissions',
  state: slot({
    key: 'calendarPermissions',
    schema: z.record(z.string(), z.array(entitySchema)).default(() => ({})),
    property: 'calendarPermissions',
    init: (value) => new PerUserStore(value),
  }),
  throttle: 'mailbox',
  permissions: {
    read: ['Calendars.ReadBasic', 'Calendars.Read', 'Calendars.ReadWrite'],
  },
  routes: [
    {
      method: 'GET', pattern: '/users/{user}/calendar/calendarPermissions', permission: 'read',
      handle: (c) => {
        const user = mailboxUser(c);
        return listPage([MY_ORGANIZATION, ...c.tenant.calendarPermissions.list(user.id)], c.query, {
          defaultTop: 100, maxTop: 1000, typeName: 'microsoft.graph.calendarPermission', requestUrl: c.requestUrl, context: permissionsContext(c), loopNextLink: c.loopNextLink,
        });
      },
    },
  ],
});
