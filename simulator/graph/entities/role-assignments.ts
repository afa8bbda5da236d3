import type { Collection } from '../../tenant/collection.js';
import { graphEntity, list } from '../entity.js';

declare module '../../tenant/tenant.js' {
  interface GraphCollections {
    roleAssignments: Collection;
  }
}

/** Directory role assignments (unifiedRoleAssignment): who holds a privileged role. */
export const roleAssignments = graphEntity({
  name: 'roleAssignments',
  collection: { name: 'roleAssignments', indexed: ['roleDefinitionId', 'principalId'] },
  throttle: 'identity',
  permissions: {
    read: ['RoleManagement.Read.Directory', 'RoleManagement.Read.All', 'RoleManagement.ReadWrite.Directory', 'Directory.Read.All'],
  },
  routes: [
    { method: 'GET', pattern: '/roleManagement/directory/roleAssignments', permission: 'read', cost: 2, handle: list('roleAssignments', 'roleManagement/directory/roleAssignments', { typeName: 'microsoft.graph.unifiedRoleAssignment', filterable: ['roleDefinitionId', 'principalId', 'directoryScopeId'] }) },
  ],
});
