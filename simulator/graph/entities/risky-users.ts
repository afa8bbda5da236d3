import { badRequest, notFound, type SimResponse } from '../../http/errors.js';
import type { Collection, Entity } from '../../tenant/collection.js';
import { getOne, graphEntity, list, obj, type RouteContext } from '../entity.js';

declare module '../../tenant/tenant.js' {
  interface GraphCollections {
    riskyUsers: Collection;
  }
}

/** Sets the risk of every user the body's `userIds` names (all must exist); 204 as confirmCompromised and dismiss answer. */
function setRisk(c: RouteContext, risk: { riskLevel: string; riskState: string; riskDetail: string }): SimResponse {
  const ids = obj(c.body)['userIds'];
  if (!Array.isArray(ids) || ids.length === 0) throw badRequest("'userIds' must be a non-empty collection.");
  const found = ids.map((id) => {
    const user = c.tenant.graph.users.get(String(id));
    if (!user) throw notFound(`User '${String(id)}' was not found.`);
    return user;
  });
  for (const user of found) {
    const risky: Entity = {
      id: user.id,
      isDeleted: false,
      isProcessing: false,
      riskLastUpdatedDateTime: c.tenant.clock.iso(),
      ...risk,
      userDisplayName: user['displayName'],
      userPrincipalName: user['userPrincipalName'],
    };
    if (c.tenant.graph.riskyUsers.get(user.id)) c.tenant.graph.riskyUsers.replace(user.id, risky);
    else c.tenant.graph.riskyUsers.insert(risky);
  }
  return { status: 204 };
}

/** Identity Protection's risky users (Microsoft Entra ID P2), keyed by user id; an admin can confirm one compromised or dismiss its risk. */
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
    { method: 'GET', pattern: '/identityProtection/riskyUsers', permission: 'read', handle: list('riskyUsers', 'identityProtection/riskyUsers', { typeName: 'microsoft.graph.riskyUser', defaultTop: 20, maxTop: 500, filterable: ['riskLevel', 'riskState', 'userPrincipalName', 'riskLastUpdatedDateTime'] }) },
    { method: 'GET', pattern: '/identityProtection/riskyUsers/{id}', permission: 'read', handle: getOne('riskyUsers', 'identityProtection/riskyUsers') },
    { method: 'POST', pattern: '/identityProtection/riskyUsers/confirmCompromised', permission: 'write', handle: (c) => setRisk(c, { riskLevel: 'high', riskState: 'confirmedCompromised', riskDetail: 'adminConfirmedUserCompromised' }) },
    { method: 'POST', pattern: '/identityProtection/riskyUsers/dismiss', permission: 'write', handle: (c) => setRisk(c, { riskLevel: 'none', riskState: 'dismissed', riskDetail: 'adminDismissedAllRiskForUser' }) },
  ],
});
