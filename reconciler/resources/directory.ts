import { P } from '../../policies/permissions.js';
import type { ResourceType } from './types.js';

/** Users: the directory every posture resolves its references and owners in. Read-only. */
export const user: ResourceType = {
  key: 'user',
  title: 'users',
  read: { section: 'users', how: { kind: 'graph-list', path: '/users?$select=id,userPrincipalName,displayName,accountEnabled,mail&$top=999' }, permissions: [P.userRead], incremental: { kind: 'graph-delta', path: '/users/delta?$select=id,userPrincipalName,displayName,accountEnabled,mail' } },
};

/** Groups, by display name and mail. Read-only. */
export const group: ResourceType = {
  key: 'group',
  title: 'groups',
  read: { section: 'groups', how: { kind: 'graph-list', path: '/groups?$select=id,displayName,mail,mailNickname,securityEnabled,mailEnabled&$top=999' }, permissions: [P.groupRead], incremental: { kind: 'graph-delta', path: '/groups/delta?$select=id,displayName,mail,mailNickname,securityEnabled,mailEnabled' } },
};

/** The tenant's verified domains (Graph). Read-only. */
export const domain: ResourceType = {
  key: 'domain',
  title: 'verified domains of the tenant',
  read: { section: 'domains', how: { kind: 'graph-list', path: '/domains' }, permissions: [P.domainRead] },
};

/** Service principals, for naming the apps of grants. Read-only. */
export const servicePrincipal: ResourceType = {
  key: 'servicePrincipal',
  title: 'service principals',
  read: {
    section: 'servicePrincipals',
    how: { kind: 'graph-list', path: '/servicePrincipals?$select=id,appId,displayName,publisherName,verifiedPublisher,appOwnerOrganizationId,servicePrincipalType&$top=999' },
    permissions: [P.applicationRead],
    incremental: { kind: 'graph-delta', path: '/servicePrincipals/delta?$select=id,appId,displayName,publisherName,verifiedPublisher,appOwnerOrganizationId,servicePrincipalType' },
  },
};
