import { randomBytes } from 'node:crypto';
import { badRequest, graphError, HttpError } from '../../http/errors.js';
import type { Collection, Entity } from '../../tenant/collection.js';
import { ctxUrl, getOne, graphEntity, list, obj, resourceNotFound } from '../entity.js';
import { deltaRoute } from '../delta.js';

declare module '../../tenant/tenant.js' {
  interface GraphCollections {
    oauth2PermissionGrants: Collection;
  }
}

/** Delegated permission grants: the consents given to apps, for everyone or for one user. */
export const oauth2PermissionGrants = graphEntity({
  name: 'oauth2PermissionGrants',
  collection: { name: 'oauth2PermissionGrants', indexed: ['clientId', 'principalId'] },
  throttle: 'identity',
  permissions: {
    read: ['DelegatedPermissionGrant.Read.All', 'DelegatedPermissionGrant.ReadWrite.All', 'Directory.Read.All', 'Directory.ReadWrite.All'],
    write: ['DelegatedPermissionGrant.ReadWrite.All'],
  },
  routes: [
    { method: 'GET', pattern: '/oauth2PermissionGrants', permission: 'read', cost: 2, handle: list('oauth2PermissionGrants', 'oauth2PermissionGrants', { typeName: 'microsoft.graph.oAuth2PermissionGrant', filterable: ['clientId', 'consentType', 'principalId', 'resourceId'] }) },
    { method: 'GET', pattern: '/oauth2PermissionGrants/delta', permission: 'read', cost: 2, handle: deltaRoute('oauth2PermissionGrants', { typeName: 'microsoft.graph.oAuth2PermissionGrant', removedReason: 'deleted' }) },
    { method: 'GET', pattern: '/oauth2PermissionGrants/{id}', permission: 'read', cost: 1, handle: getOne('oauth2PermissionGrants', 'oauth2PermissionGrants') },
    {
      method: 'POST', pattern: '/oauth2PermissionGrants', permission: 'write', cost: 3,
      handle: (c) => {
        const b = obj(c.body);
        const str = (k: string) => (typeof b[k] === 'string' && b[k] ? (b[k] as string) : undefined);
        for (const k of ['clientId', 'consentType', 'resourceId']) if (!str(k)) throw badRequest(`Property '${k}' is required.`);
        const consentType = str('consentType')!;
        if (consentType !== 'AllPrincipals' && consentType !== 'Principal') throw badRequest(`Invalid value '${consentType}' for property 'consentType'.`);
        if (consentType === 'Principal' && !str('principalId')) throw badRequest("Property 'principalId' is required when consentType is 'Principal'.");
        for (const k of ['clientId', 'resourceId']) if (!c.tenant.graph.servicePrincipals.get(str(k)!)) throw resourceNotFound(String(str(k)));
        if (consentType === 'Principal' && !c.tenant.graph.users.get(str('principalId')!)) throw resourceNotFound(String(str('principalId')));
        const duplicate = c.tenant.graph.oauth2PermissionGrants
          .findBy('clientId', str('clientId'))
          .some((g) => String(g['resourceId']).toLowerCase() === str('resourceId')!.toLowerCase() && String(g['consentType']) === consentType && String(g['principalId'] ?? '').toLowerCase() === (str('principalId') ?? '').toLowerCase());
        if (duplicate) throw new HttpError(graphError(409, 'Request_MultipleObjectsWithSameKeyValue', 'Permission entry already exists.'));
        const grant: Entity = {
          id: randomBytes(32).toString('base64url').slice(0, 43),
          clientId: str('clientId')!,
          consentType,
          principalId: consentType === 'Principal' ? str('principalId')! : null,
          resourceId: str('resourceId')!,
          scope: str('scope') ?? '',
        };
        c.tenant.graph.oauth2PermissionGrants.insert(grant);
        return { status: 201, body: { '@odata.context': ctxUrl(c, 'oauth2PermissionGrants/$entity'), ...grant } };
      },
    },
    {
      method: 'DELETE', pattern: '/oauth2PermissionGrants/{id}', permission: 'write', cost: 3,
      handle: (c) => {
        if (!c.tenant.graph.oauth2PermissionGrants.remove(c.params['id']!)) throw resourceNotFound(c.params['id']!);
        return { status: 204 };
      },
    },
  ],
});
