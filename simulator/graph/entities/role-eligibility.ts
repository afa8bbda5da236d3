import type { Collection } from '../../tenant/collection.js';
import { graphEntity } from '../entity.js';
import { principalList } from './role-assignments.js';

declare module '../../tenant/tenant.js' {
  interface GraphCollections {
    roleEligibilitySchedules: Collection;
  }
}

/**
 * Privileged Identity Management: who is eligible for a directory role (unifiedRoleEligibilitySchedule)
 * and can activate it at will. `$filter=roleDefinitionId eq '…'` finds a role's eligible principals,
 * users or role-assignable groups.
 */
export const roleEligibilitySchedules = graphEntity({
  name: 'roleEligibilitySchedules',
  collection: { name: 'roleEligibilitySchedules', indexed: ['roleDefinitionId', 'principalId'] },
  throttle: 'identity',
  permissions: {
    read: ['RoleEligibilitySchedule.Read.Directory', 'RoleManagement.Read.Directory', 'RoleManagement.Read.All', 'RoleEligibilitySchedule.ReadWrite.Directory', 'RoleManagement.ReadWrite.Directory'],
  },
  routes: [
    {
      method: 'GET', pattern: '/roleManagement/directory/roleEligibilitySchedules', permission: 'read', cost: 2,
      handle: principalList('roleEligibilitySchedules', 'roleManagement/directory/roleEligibilitySchedules', 'microsoft.graph.unifiedRoleEligibilitySchedule', ['roleDefinitionId', 'principalId', 'directoryScopeId', 'status']),
    },
  ],
});
