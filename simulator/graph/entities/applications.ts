import type { Collection } from '../../tenant/collection.js';
import { getOne, graphEntity, list } from '../entity.js';

declare module '../../tenant/tenant.js' {
  interface GraphCollections {
    applications: Collection;
  }
}

/** What Graph lists of an application: secretText of a password credential is returned only once, when it is added. */
const APPLICATION_PROPS = ['id', 'appId', 'displayName', 'createdDateTime', 'signInAudience', 'publisherDomain', 'passwordCredentials', 'keyCredentials', 'deletedDateTime'];

/**
 * Application objects (app registrations) with their credentials: passwordCredentials (client
 * secrets: keyId, displayName, hint, startDateTime, endDateTime; secretText always null when read)
 * and keyCredentials (certificates: keyId, type, usage, displayName, dates; key null unless selected
 * one by one).
 */
export const applications = graphEntity({
  name: 'applications',
  collection: { name: 'applications', indexed: ['appId'] },
  throttle: 'identity',
  permissions: {
    read: ['Application.Read.All', 'Application.ReadWrite.All', 'Directory.Read.All'],
  },
  routes: [
    { method: 'GET', pattern: '/applications', permission: 'read', cost: 2, handle: list('applications', 'applications', { typeName: 'microsoft.graph.application', known: APPLICATION_PROPS, filterable: ['appId', 'displayName'] }) },
    { method: 'GET', pattern: '/applications/{id}', permission: 'read', cost: 1, handle: getOne('applications', 'applications') },
  ],
});
