import { badRequest } from '../../http/errors.js';
import type { Collection, Entity } from '../../tenant/collection.js';
import { ctxUrl, graphEntity, list, type RouteContext } from '../entity.js';
import { listPage } from '../odata.js';

declare module '../../tenant/tenant.js' {
  interface GraphCollections {
    roleAssignments: Collection;
  }
}

const TYPE_NAME = 'microsoft.graph.unifiedRoleAssignment';
const FILTERABLE = ['roleDefinitionId', 'principalId', 'directoryScopeId'];

/** The directory object a principalId names, typed as Graph types an expanded navigation property. */
function principalOf(c: RouteContext, id: string): Record<string, unknown> | null {
  const user = c.tenant.graph.users.get(id);
  if (user) return { '@odata.type': '#microsoft.graph.user', ...user };
  const group = c.tenant.graph.groups.get(id);
  if (group) return { '@odata.type': '#microsoft.graph.group', ...group };
  const sp = c.tenant.graph.servicePrincipals.get(id);
  if (sp) return { '@odata.type': '#microsoft.graph.servicePrincipal', ...sp };
  return null;
}

/**
 * Lists a collection of role assignments or eligibilities: `$filter` on the role, principal or scope;
 * `$expand=principal` brings each holder's directory object along, typed.
 */
export function principalList(name: 'roleAssignments' | 'roleEligibilitySchedules', fragment: string, typeName: string, filterable: readonly string[]) {
  return (c: RouteContext) => {
    const expand = c.query.get('$expand');
    if (expand === null) return list(name, fragment, { typeName, filterable })(c);
    if (expand.trim().toLowerCase() !== 'principal') throw badRequest(`Could not find a navigation property named '${expand}' on type '${typeName}' that can be expanded.`, 'BadRequest');
    return listPage(c.tenant.graph[name], c.query, {
      defaultTop: 100, maxTop: 999, typeName, filterable, requestUrl: c.requestUrl, loopNextLink: c.loopNextLink,
      context: ctxUrl(c, `${fragment}(principal())`),
      render: (a: Entity) => ({ ...a, principal: principalOf(c, String(a['principalId'])) }),
    });
  };
}

/**
 * Directory role assignments (unifiedRoleAssignment): who actively holds a privileged role.
 * `$filter=roleDefinitionId eq '…'` finds a role's holders; `$expand=principal` brings each
 * holder's directory object along.
 */
export const roleAssignments = graphEntity({
  name: 'roleAssignments',
  collection: { name: 'roleAssignments', indexed: ['roleDefinitionId', 'principalId'] },
  throttle: 'identity',
  permissions: {
    read: ['RoleManagement.Read.Directory', 'RoleManagement.Read.All', 'RoleManagement.ReadWrite.Directory', 'Directory.Read.All'],
  },
  routes: [
    { method: 'GET', pattern: '/roleManagement/directory/roleAssignments', permission: 'read', cost: 2, handle: principalList('roleAssignments', 'roleManagement/directory/roleAssignments', TYPE_NAME, FILTERABLE) },
  ],
});
