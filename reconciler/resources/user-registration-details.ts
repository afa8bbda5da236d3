import { P } from '../../policies/permissions.js';
import type { ResourceType } from './types.js';

/**
 * The authentication methods registration report: per user, whether it is MFA-capable (a strong
 * method registered that the methods policy allows) and what it registered. Read-only, paged at
 * 999 rows; it needs AuditLog.Read.All and Entra ID P1 or P2.
 */
export const userRegistrationDetails: ResourceType = {
  key: 'userRegistrationDetails',
  title: 'the authentication methods registration report',
  read: {
    section: 'registrationDetails',
    how: {
      kind: 'graph-list',
      path: '/reports/authenticationMethods/userRegistrationDetails?$select=id,userPrincipalName,userDisplayName,userType,isAdmin,isMfaCapable,isMfaRegistered,methodsRegistered&$top=999',
    },
    permissions: [P.auditLogRead],
    licence: 'Microsoft Entra ID P1 or P2',
  },
};
