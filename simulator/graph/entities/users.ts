import { graphError, HttpError } from '../../http/errors.js';
import type { Collection, Entity } from '../../tenant/collection.js';
import { ctxUrl, getOne, graphEntity, list, type RouteContext } from '../entity.js';

declare module '../../tenant/tenant.js' {
  interface GraphCollections {
    users: Collection;
  }
}

const USER_PROPS = [
  'id', 'displayName', 'userPrincipalName', 'accountEnabled', 'mail', 'userType', 'givenName', 'surname', 'jobTitle', 'department',
  'createdDateTime', 'onPremisesSyncEnabled', 'signInSessionsValidFromDateTime', 'otherMails', 'proxyAddresses', 'businessPhones', 'mobilePhone', 'officeLocation', 'preferredLanguage',
];

/** The user a `{user}` segment names, by id or userPrincipalName; 404 ErrorInvalidUser as the mailbox APIs answer. */
export function findUser(c: RouteContext): Entity {
  const key = c.params['user']!;
  const user = c.tenant.graph.users.get(key) ?? c.tenant.graph.users.findBy('userPrincipalName', key)[0];
  if (!user) throw new HttpError(graphError(404, 'ErrorInvalidUser', `The requested user '${key}' is invalid.`));
  return user;
}

/** Users of the directory; revoking a user's sign-in sessions. */
export const users = graphEntity({
  name: 'users',
  collection: { name: 'users', indexed: ['userPrincipalName', 'mail'] },
  throttle: 'identity',
  permissions: {
    read: ['User.Read.All', 'User.ReadWrite.All', 'Directory.Read.All', 'Directory.ReadWrite.All'],
    revokeSessions: ['User.RevokeSessions.All', 'User.ReadWrite.All', 'Directory.ReadWrite.All'],
  },
  routes: [
    { method: 'GET', pattern: '/users', permission: 'read', cost: 2, handle: list('users', 'users', { typeName: 'microsoft.graph.user', known: USER_PROPS, filterable: ['userPrincipalName', 'accountEnabled', 'mail', 'displayName', 'userType', 'id'] }) },
    { method: 'GET', pattern: '/users/{id}', permission: 'read', cost: 1, handle: getOne('users', 'users', 'userPrincipalName') },
    {
      method: 'POST', pattern: '/users/{user}/revokeSignInSessions', permission: 'revokeSessions', cost: 3,
      handle: (c) => {
        const user = findUser(c);
        c.tenant.graph.users.replace(user.id, { ...user, signInSessionsValidFromDateTime: new Date().toISOString().slice(0, 19) + 'Z' });
        return { status: 200, body: { '@odata.context': ctxUrl(c, 'Edm.Boolean'), value: true } };
      },
    },
  ],
});
