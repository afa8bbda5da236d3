import { z } from 'zod';
import type { Collection, Entity } from '../../tenant/collection.js';
import { listPage } from '../odata.js';
import { ctxUrl, getOne, graphEntity, list, resourceNotFound, slot } from '../entity.js';

declare module '../../tenant/tenant.js' {
  interface GraphScenarioState {
    /** Group id → member object ids. */
    groupMembers: Record<string, string[]>;
  }
  interface GraphCollections {
    groups: Collection;
  }
  interface TenantSlots {
    /** Group id (lower case) → member object ids. */
    readonly groupMembers: Map<string, string[]>;
  }
}

const GROUP_PROPS = ['id', 'displayName', 'mail', 'mailEnabled', 'mailNickname', 'securityEnabled', 'groupTypes', 'description', 'createdDateTime', 'visibility'];

/** Groups and their members (`groupMembers` in a scenario: group id → member object ids). */
export const groups = graphEntity({
  name: 'groups',
  collection: { name: 'groups', indexed: ['displayName', 'mail'] },
  state: slot({
    key: 'groupMembers',
    schema: z.record(z.string(), z.array(z.string())).default(() => ({})),
    property: 'groupMembers',
    init: (value) => new Map(Object.entries(value).map(([g, m]) => [g.toLowerCase(), m])),
  }),
  throttle: 'identity',
  permissions: {
    read: ['Group.Read.All', 'GroupMember.Read.All', 'Group.ReadWrite.All', 'Directory.Read.All'],
  },
  routes: [
    { method: 'GET', pattern: '/groups', permission: 'read', cost: 2, handle: list('groups', 'groups', { typeName: 'microsoft.graph.group', known: GROUP_PROPS, filterable: ['displayName', 'mail', 'securityEnabled', 'mailEnabled', 'id'] }) },
    { method: 'GET', pattern: '/groups/{id}', permission: 'read', cost: 1, handle: getOne('groups', 'groups') },
    {
      method: 'GET', pattern: '/groups/{id}/members', permission: 'read', cost: 2,
      handle: (c) => {
        const group = c.tenant.graph.groups.get(c.params['id']!);
        if (!group) throw resourceNotFound(c.params['id']!);
        const members = (c.tenant.groupMembers.get(group.id.toLowerCase()) ?? []).map((id) => c.tenant.graph.users.get(id) ?? c.tenant.graph.groups.get(id)).filter((x): x is Entity => !!x);
        return listPage(members, c.query, { defaultTop: 100, maxTop: 999, typeName: 'microsoft.graph.directoryObject', requestUrl: c.requestUrl, context: ctxUrl(c, 'directoryObjects'), loopNextLink: c.loopNextLink });
      },
    },
  ],
});
