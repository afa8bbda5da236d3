import { badRequest, notFound } from '../../http/errors.js';
import type { Collection, Entity } from '../../tenant/collection.js';
import { getOne, graphEntity, list, obj } from '../entity.js';

declare module '../../tenant/tenant.js' {
  interface GraphCollections {
    riskyUsers: Collection;
  }
}

/** Identity Protection's risky users (Microsoft Entra ID P2), keyed by user id; an admin can confirm one compromised. */
export const riskyUsers = graphEntity({
  name: 'riskyUsers',
  collection: { name: 'riskyUsers' },
  throttle: 'conditional-access',
  licence: 'AAD_PREMIUM_P2',
  permissions: {
    read: ['IdentityRiskyUser.Read.All', 'IdentityRiskyUser.ReadWrite.All'],
    write: ['IdentityRiskyUser.ReadWrite.All'],
  },
  routes: [
    { method: 'GET', pattern: '/identityProtection/riskyUsers', permission: 'read', handle: list('riskyUsers', 'identityProtection/riskyUsers', { typeName: 'microsoft.graph.riskyUser', defaultTop: 20, maxTop: 500, filterable: ['riskLevel', 'riskState', 'userPrincipalName'] }) },
    { method: 'GET', pattern: '/identityProtection/riskyUsers/{id}', permission: 'read', handle: getOne('riskyUsers', 'identityProtection/riskyUsers') },
    {
      method: 'POST', pattern: '/identityProtection/riskyUsers/confirmCompromised', permission: 'write',
      handle: (c) => {
        const ids = obj(c.body)['userIds'];
        if (!Array.isArray(ids) || ids.length === 0) throw badRequest("'userIds' must be a non-empty collection.");
        for (const id of ids as string[]) {
          const user = c.tenant.graph.users.get(String(id));
          if (!user) throw notFound(`User '${String(id)}' was not found.`);
          const existing = c.tenant.graph.riskyUsers.get(user.id);
          const risky: Entity = {
            id: user.id,
            isDeleted: false,
            isProcessing: false,
            riskLastUpdatedDateTime: new Date().toISOString(),
            riskLevel: 'high',
            riskState: 'confirmedCompromised',
            riskDetail: 'adminConfirmedUserCompromised',
            userDisplayName: user['displayName'],
            userPrincipalName: user['userPrincipalName'],
          };
          if (existing) c.tenant.graph.riskyUsers.replace(user.id, risky);
          else c.tenant.graph.riskyUsers.insert(risky);
        }
        return { status: 204 };
      },
    },
  ],
});
