import type { Collection } from '../../tenant/collection.js';
import { getOne, graphEntity, list } from '../entity.js';

declare module '../../tenant/tenant.js' {
  interface GraphCollections {
    domains: Collection;
  }
}

/** The tenant's domains (id = the domain name). */
export const domains = graphEntity({
  name: 'domains',
  collection: { name: 'domains' },
  throttle: 'identity',
  permissions: {
    read: ['Domain.Read.All', 'Domain.ReadWrite.All', 'Directory.Read.All'],
  },
  routes: [
    { method: 'GET', pattern: '/domains', permission: 'read', cost: 2, handle: list('domains', 'domains', { typeName: 'microsoft.graph.domain', filterable: ['isVerified', 'isDefault'] }) },
    { method: 'GET', pattern: '/domains/{id}', permission: 'read', cost: 1, handle: getOne('domains', 'domains') },
  ],
});
