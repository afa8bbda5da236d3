import { z } from 'zod';
import type { Collection, Entity } from '../../tenant/collection.js';
import { listPage } from '../odata.js';
import { ctxUrl, getOne, graphEntity, list, resourceNotFound, slot } from '../entity.js';
import { deltaRoute } from '../delta.js';

declare module '../../tenant/tenant.js' {
  interface GraphCollections {
    servicePrincipals: Collection;
  }
  interface GraphScenarioState {
    /** Service principal id → owner object ids (users or service principals). */
    servicePrincipalOwners: Record<string, string[]>;
  }
  interface TenantSlots {
    /** Service principal id (lower case) → owner object ids. */
    readonly servicePrincipalOwners: Map<string, string[]>;
  }
}

/** The Graph and Exchange Online service principals carry the appRoles that name application permissions. */
export const SERVICE_PRINCIPAL_READ = ['Application.Read.All', 'Application.ReadWrite.All', 'Directory.Read.All'] as const;

/** Service principals: apps in the tenant, and the APIs they call; their owners (`servicePrincipalOwners` in a scenario, empty when left out). */
export const servicePrincipals = graphEntity({
  name: 'servicePrincipals',
  collection: { name: 'servicePrincipals', indexed: ['appId'] },
  state: slot({
    key: 'servicePrincipalOwners',
    schema: z.record(z.string(), z.array(z.string())).default(() => ({})),
    property: 'servicePrincipalOwners',
    init: (value) => new Map(Object.entries(value).map(([sp, owners]) => [sp.toLowerCase(), owners])),
  }),
  throttle: 'identity',
  permissions: {
    read: SERVICE_PRINCIPAL_READ,
  },
  routes: [
    { method: 'GET', pattern: '/servicePrincipals', permission: 'read', cost: 2, handle: list('servicePrincipals', 'servicePrincipals', { typeName: 'microsoft.graph.servicePrincipal', filterable: ['appId', 'displayName', 'servicePrincipalType'] }) },
    { method: 'GET', pattern: '/servicePrincipals/delta', permission: 'read', cost: 2, handle: deltaRoute('servicePrincipals', { typeName: 'microsoft.graph.servicePrincipal', removedReason: 'changed' }) },
    { method: 'GET', pattern: '/servicePrincipals/{id}', permission: 'read', cost: 1, handle: getOne('servicePrincipals', 'servicePrincipals') },
    {
      // Owners are directory objects: users or service principals, each with its @odata.type.
      method: 'GET', pattern: '/servicePrincipals/{id}/owners', permission: 'read', cost: 2,
      handle: (c) => {
        const sp = c.tenant.graph.servicePrincipals.get(c.params['id']!);
        if (!sp) throw resourceNotFound(c.params['id']!);
        const owners = (c.tenant.servicePrincipalOwners.get(sp.id.toLowerCase()) ?? []).flatMap((id): Entity[] => {
          const user = c.tenant.graph.users.get(id);
          if (user) return [{ '@odata.type': '#microsoft.graph.user', ...user }];
          const app = c.tenant.graph.servicePrincipals.get(id);
          return app ? [{ '@odata.type': '#microsoft.graph.servicePrincipal', ...app }] : [];
        });
        return listPage(owners, c.query, { defaultTop: 100, maxTop: 999, typeName: 'microsoft.graph.directoryObject', requestUrl: c.requestUrl, context: ctxUrl(c, 'directoryObjects'), loopNextLink: c.loopNextLink });
      },
    },
  ],
});
