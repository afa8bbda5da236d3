import { z } from 'zod';
import type { Collection, Entity } from '../../tenant/collection.js';
import { listPage } from '../odata.js';
import { badRequest } from '../../http/errors.js';
import { ctxUrl, getOne, graphEntity, list, obj, resourceNotFound, slot, type RouteContext } from '../entity.js';
import { deltaRoute } from '../delta.js';

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

/** The group an `{id}` segment names, 404 otherwise. */
function findGroup(c: RouteContext): Entity {
  const group = c.tenant.graph.groups.get(c.params['id']!);
  if (!group) throw resourceNotFound(c.params['id']!);
  return group;
}

/** The directory object a `@odata.id` reference names (…/directoryObjects/{id}, …/users/{id}, …/groups/{id}). */
function referenced(c: RouteContext): Entity {
  const ref = obj(c.body)['@odata.id'];
  const m = typeof ref === 'string' ? /\/(?:directoryObjects|users|groups)\/([^/?#]+)\/?$/i.exec(ref) : null;
  if (!m) throw badRequest("Invalid object identifier '" + String(ref ?? '') + "'.", 'Request_BadRequest');
  const id = decodeURIComponent(m[1]!);
  const target = c.tenant.graph.users.get(id) ?? c.tenant.graph.groups.get(id);
  if (!target) throw resourceNotFound(id);
  return target;
}

const GROUP_PROPS = ['id', 'displayName', 'mail', 'mailEnabled', 'mailNickname', 'securityEnabled', 'groupTypes', 'description', 'createdDateTime', 'visibility'];

/** Groups and their members (`groupMembers` in a scenario: group id → member object ids); adding and removing members by reference. */
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
    writeMembers: ['GroupMember.ReadWrite.All', 'Group.ReadWrite.All', 'Directory.ReadWrite.All'],
  },
  routes: [
    { method: 'GET', pattern: '/groups', permission: 'read', cost: 2, handle: list('groups', 'groups', { typeName: 'microsoft.graph.group', known: GROUP_PROPS, filterable: ['displayName', 'mail', 'securityEnabled', 'mailEnabled', 'id'] }) },
    { method: 'GET', pattern: '/groups/delta', permission: 'read', cost: 2, handle: deltaRoute('groups', { typeName: 'microsoft.graph.group', known: GROUP_PROPS, removedReason: 'changed' }) },
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
    {
      // Every member, through nested groups too (each object once; a cycle of groups ends).
      method: 'GET', pattern: '/groups/{id}/transitiveMembers', permission: 'read', cost: 3,
      handle: (c) => {
        const group = findGroup(c);
        const seen = new Set<string>([group.id.toLowerCase()]);
        const out: Entity[] = [];
        const walk = (id: string) => {
          for (const m of c.tenant.groupMembers.get(id.toLowerCase()) ?? []) {
            if (seen.has(m.toLowerCase())) continue;
            seen.add(m.toLowerCase());
            const user = c.tenant.graph.users.get(m);
            const inner = user ? undefined : c.tenant.graph.groups.get(m);
            if (user) out.push({ '@odata.type': '#microsoft.graph.user', ...user });
            if (inner) {
              out.push({ '@odata.type': '#microsoft.graph.group', ...inner });
              walk(inner.id);
            }
          }
        };
        walk(group.id);
        return listPage(out, c.query, { defaultTop: 100, maxTop: 999, typeName: 'microsoft.graph.directoryObject', requestUrl: c.requestUrl, context: ctxUrl(c, 'directoryObjects'), loopNextLink: c.loopNextLink });
      },
    },
    {
      method: 'POST', pattern: '/groups/{id}/members/$ref', permission: 'writeMembers', cost: 3,
      handle: (c) => {
        const group = findGroup(c);
        const target = referenced(c);
        const members = c.tenant.groupMembers.get(group.id.toLowerCase()) ?? [];
        if (members.some((m) => m.toLowerCase() === target.id.toLowerCase())) {
          throw badRequest("One or more added object references already exist for the following modified properties: 'members'.", 'Request_BadRequest');
        }
        c.tenant.groupMembers.set(group.id.toLowerCase(), [...members, target.id]);
        return { status: 204 };
      },
    },
    {
      method: 'DELETE', pattern: '/groups/{id}/members/{member}/$ref', permission: 'writeMembers', cost: 3,
      handle: (c) => {
        const group = findGroup(c);
        const member = c.params['member']!.toLowerCase();
        const members = c.tenant.groupMembers.get(group.id.toLowerCase()) ?? [];
        if (!members.some((m) => m.toLowerCase() === member)) throw resourceNotFound(c.params['member']!);
        c.tenant.groupMembers.set(group.id.toLowerCase(), members.filter((m) => m.toLowerCase() !== member));
        return { status: 204 };
      },
    },
  ],
});
