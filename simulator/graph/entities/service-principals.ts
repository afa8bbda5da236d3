import type { Collection } from '../../tenant/collection.js';
import { getOne, graphEntity, list } from '../entity.js';

declare module '../../tenant/tenant.js' {
  interface GraphCollections {
    servicePrincipals: Collection;
  }
}

/** The Graph and Exchange Online service principals carry the appRoles that name application permissions. */
export const SERVICE_PRINCIPAL_READ = ['Application.Read.All', 'Application.ReadWrite.All', 'Directory.Read.All'] as const;

/** Service principals: apps in the tenant, and the APIs they call. */
export const servicePrincipals = graphEntity({
  name: 'servicePrincipals',
  collection: { name: 'servicePrincipals', indexed: ['appId'] },
  throttle: 'identity',
  permissions: {
    read: SERVICE_PRINCIPAL_READ,
  },
  routes: [
    { method: 'GET', pattern: '/servicePrincipals', permission: 'read', cost: 2, handle: list('servicePrincipals', 'servicePrincipals', { typeName: 'microsoft.graph.servicePrincipal', filterable: ['appId', 'displayName', 'servicePrincipalType'] }) },
    { method: 'GET', pattern: '/servicePrincipals/{id}', permission: 'read', cost: 1, handle: getOne('servicePrincipals', 'servicePrincipals') },
  ],
});
