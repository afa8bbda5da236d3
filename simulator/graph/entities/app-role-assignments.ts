import type { Collection } from '../../tenant/collection.js';
import { listPage } from '../odata.js';
import { ctxUrl, graphEntity, resourceNotFound, type RouteContext } from '../entity.js';
import { SERVICE_PRINCIPAL_READ } from './service-principals.js';

declare module '../../tenant/tenant.js' {
  interface GraphCollections {
    appRoleAssignments: Collection;
  }
}

/** An assignment granted for the resource service principal of the `{id}` parameter, or 404. */
function assignmentOf(c: RouteContext) {
  const a = c.tenant.graph.appRoleAssignments.get(c.params['assignment']!);
  if (!a || String(a['resourceId']).toLowerCase() !== c.params['id']!.toLowerCase()) throw resourceNotFound(c.params['assignment']!);
  return a;
}

/** Application permissions: app role assignments granted for a resource service principal (its API). */
export const appRoleAssignments = graphEntity({
  name: 'appRoleAssignments',
  collection: { name: 'appRoleAssignments', indexed: ['resourceId', 'principalId'] },
  throttle: 'identity',
  permissions: {
    /** Read through the resource service principal. */
    read: SERVICE_PRINCIPAL_READ,
    write: ['AppRoleAssignment.ReadWrite.All'],
  },
  routes: [
    {
      method: 'GET', pattern: '/servicePrincipals/{id}/appRoleAssignedTo', permission: 'read', cost: 2,
      handle: (c) => {
        const sp = c.tenant.graph.servicePrincipals.get(c.params['id']!);
        if (!sp) throw resourceNotFound(c.params['id']!);
        return listPage(c.tenant.graph.appRoleAssignments.findBy('resourceId', sp.id), c.query, {
          defaultTop: 100, maxTop: 999, typeName: 'microsoft.graph.appRoleAssignment', requestUrl: c.requestUrl,
          context: ctxUrl(c, `servicePrincipals('${sp.id}')/appRoleAssignedTo`), loopNextLink: c.loopNextLink,
        });
      },
    },
    {
      method: 'GET', pattern: '/servicePrincipals/{id}/appRoleAssignedTo/{assignment}', permission: 'read', cost: 1,
      handle: (c) => ({ status: 200, body: { '@odata.context': ctxUrl(c, `servicePrincipals('${c.params['id']}')/appRoleAssignedTo/$entity`), ...assignmentOf(c) } }),
    },
    {
      method: 'DELETE', pattern: '/servicePrincipals/{id}/appRoleAssignedTo/{assignment}', permission: 'write', cost: 3,
      handle: (c) => {
        c.tenant.graph.appRoleAssignments.remove(assignmentOf(c).id);
        return { status: 204 };
      },
    },
  ],
});
