import type { Collection } from '../../tenant/collection.js';
import { getOne, graphEntity, list } from '../entity.js';

declare module '../../tenant/tenant.js' {
  interface GraphCollections {
    permissionGrantPolicies: Collection;
  }
}

/** Permission grant policies: which consents a policy lets through (the authorization policy assigns them to users). */
export const permissionGrantPolicies = graphEntity({
  name: 'permissionGrantPolicies',
  collection: { name: 'permissionGrantPolicies' },
  throttle: 'identity',
  permissions: {
    read: ['Policy.Read.PermissionGrant', 'Policy.ReadWrite.PermissionGrant', 'Policy.Read.All'],
  },
  routes: [
    { method: 'GET', pattern: '/policies/permissionGrantPolicies', permission: 'read', cost: 2, handle: list('permissionGrantPolicies', 'policies/permissionGrantPolicies', { typeName: 'microsoft.graph.permissionGrantPolicy' }) },
    { method: 'GET', pattern: '/policies/permissionGrantPolicies/{id}', permission: 'read', cost: 1, handle: getOne('permissionGrantPolicies', 'policies/permissionGrantPolicies') },
  ],
});
