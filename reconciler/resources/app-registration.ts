import { P } from '../../policies/permissions.js';
import type { ResourceType } from './types.js';

/**
 * Application objects (app registrations) with their credentials: passwordCredentials (client
 * secrets; Graph never returns the secret itself) and keyCredentials (certificates). One paged list
 * with `$select`, however many apps are declared. Read-only: removing a credential breaks the
 * integration that uses it, so it is the owner's step.
 */
export const appRegistration: ResourceType = {
  key: 'appRegistration',
  title: 'application registrations and their credentials',
  read: {
    section: 'applications',
    how: { kind: 'graph-list', path: '/applications?$select=id,appId,displayName,passwordCredentials,keyCredentials&$top=999' },
    permissions: [P.applicationRead],
  },
};
