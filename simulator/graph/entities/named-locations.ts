import type { Collection } from '../../tenant/collection.js';
import { getOne, graphEntity, list } from '../entity.js';

declare module '../../tenant/tenant.js' {
  interface GraphCollections {
    namedLocations: Collection;
  }
}

/** Named locations of conditional access (Microsoft Entra ID P1). */
export const namedLocations = graphEntity({
  name: 'namedLocations',
  collection: { name: 'namedLocations' },
  throttle: 'conditional-access',
  licence: 'AAD_PREMIUM',
  permissions: {
    read: ['Policy.Read.All', 'Policy.ReadWrite.ConditionalAccess'],
  },
  routes: [
    { method: 'GET', pattern: '/identity/conditionalAccess/namedLocations', permission: 'read', handle: list('namedLocations', 'identity/conditionalAccess/namedLocations', { typeName: 'microsoft.graph.namedLocation', filterable: ['displayName'] }) },
    { method: 'GET', pattern: '/identity/conditionalAccess/namedLocations/{id}', permission: 'read', handle: getOne('namedLocations', 'identity/conditionalAccess/namedLocations') },
  ],
});
