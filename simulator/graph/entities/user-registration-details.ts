import type { Collection } from '../../tenant/collection.js';
import { getOne, graphEntity, list } from '../entity.js';

declare module '../../tenant/tenant.js' {
  interface GraphCollections {
    /** The authentication methods registration report: one row per user, keyed by the user's object id. */
    userRegistrationDetails: Collection;
  }
}

/** The properties of a row (v1.0 userRegistrationDetails). */
export const REGISTRATION_PROPS = [
  'id', 'userPrincipalName', 'userDisplayName', 'userType', 'isAdmin', 'isSsprRegistered', 'isSsprEnabled', 'isSsprCapable', 'isMfaRegistered',
  'isMfaCapable', 'isPasswordlessCapable', 'methodsRegistered', 'isSystemPreferredAuthenticationMethodEnabled', 'systemPreferredAuthenticationMethods',
  'userPreferredMethodForSecondaryAuthentication', 'lastUpdatedDateTime',
];

const FRAGMENT = 'reports/authenticationMethods/userRegistrationDetails';

/**
 * The authentication methods registration report (Entra ID P1 or P2, AuditLog.Read.All). Listed 100
 * rows a page unless `$top` asks for up to 999.
 */
export const userRegistrationDetails = graphEntity({
  name: 'userRegistrationDetails',
  collection: { name: 'userRegistrationDetails' },
  throttle: 'identity',
  licence: 'AAD_PREMIUM',
  permissions: { read: ['AuditLog.Read.All'] },
  routes: [
    {
      method: 'GET', pattern: `/${FRAGMENT}`, permission: 'read', cost: 2,
      handle: list('userRegistrationDetails', FRAGMENT, {
        typeName: 'microsoft.graph.userRegistrationDetails', known: REGISTRATION_PROPS,
        filterable: ['isMfaCapable', 'isMfaRegistered', 'isAdmin', 'userType', 'userPrincipalName', 'isSsprRegistered', 'isPasswordlessCapable'],
      }),
    },
    { method: 'GET', pattern: `/${FRAGMENT}/{id}`, permission: 'read', cost: 1, handle: getOne('userRegistrationDetails', FRAGMENT) },
  ],
});
