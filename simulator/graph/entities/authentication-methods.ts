import { z } from 'zod';
import { graphError, HttpError, type SimResponse } from '../../http/errors.js';
import type { Entity } from '../../tenant/collection.js';
import { PerUserStore } from '../../tenant/per-user.js';
import { listPage } from '../odata.js';
import { ctxUrl, entitySchema, graphEntity, slot, type RouteContext } from '../entity.js';
import { directoryUser } from './users.js';

declare module '../../tenant/tenant.js' {
  interface GraphScenarioState {
    /** User id → that user's registered authentication methods, each with its @odata.type. */
    authenticationMethods: Record<string, Entity[]>;
  }
  interface TenantSlots {
    /** Authentication methods per user (keyed by user object id). */
    readonly authenticationMethods: PerUserStore;
  }
}

/** The navigation property under /authentication that addresses each method type, and the type it holds. */
const METHOD_PATHS: Readonly<Record<string, string>> = {
  passwordMethods: '#microsoft.graph.passwordAuthenticationMethod',
  microsoftAuthenticatorMethods: '#microsoft.graph.microsoftAuthenticatorAuthenticationMethod',
  phoneMethods: '#microsoft.graph.phoneAuthenticationMethod',
  fido2Methods: '#microsoft.graph.fido2AuthenticationMethod',
  softwareOathMethods: '#microsoft.graph.softwareOathAuthenticationMethod',
  emailMethods: '#microsoft.graph.emailAuthenticationMethod',
  windowsHelloForBusinessMethods: '#microsoft.graph.windowsHelloForBusinessAuthenticationMethod',
  temporaryAccessPassMethods: '#microsoft.graph.temporaryAccessPassAuthenticationMethod',
};

/** The authentication methods service's own error shape: a lower-case code. */
const methodsError = (status: number, code: string, message: string) => new HttpError(graphError(status, code, message));

/** Removes the method `{id}` of the type the `kind` path holds; never the password. */
function deleteMethod(c: RouteContext, kind: string): SimResponse {
  const type = METHOD_PATHS[kind];
  if (!type) throw methodsError(400, 'BadRequest', `Resource not found for the segment '${kind}'.`);
  if (type === METHOD_PATHS['passwordMethods']) throw methodsError(400, 'badRequest', 'The password authentication method cannot be deleted. Reset the password instead.');
  const user = directoryUser(c, 'user');
  const method = c.tenant.authenticationMethods.list(user.id).find((m) => m.id === c.params['id'] && m['@odata.type'] === type);
  if (!method) throw methodsError(404, 'itemNotFound', `The authentication method '${c.params['id']}' was not found for the user.`);
  c.tenant.authenticationMethods.remove(user.id, method.id);
  return { status: 204 };
}

/**
 * A user's authentication methods (`/users/{id}/authentication/methods`), and removing one by its
 * type's path. The password method is listed but cannot be removed. A scenario holds the methods per
 * user id in `authenticationMethods`.
 */
export const authenticationMethods = graphEntity({
  name: 'authenticationMethods',
  state: slot({
    key: 'authenticationMethods',
    schema: z.record(z.string(), z.array(entitySchema.extend({ '@odata.type': z.enum(Object.values(METHOD_PATHS) as [string, ...string[]]) }))).default(() => ({})),
    property: 'authenticationMethods',
    init: (value) => new PerUserStore(value),
  }),
  throttle: 'identity',
  permissions: {
    read: ['UserAuthenticationMethod.Read.All', 'UserAuthenticationMethod.ReadWrite.All'],
    write: ['UserAuthenticationMethod.ReadWrite.All'],
    /** Deleting a FIDO2 key (a passkey): the newer documented permission, or the older one. */
    writePasskey: ['UserAuthenticationMethod.ReadWrite.All', 'UserAuthMethod-Passkey.ReadWrite.All'],
  },
  routes: [
    {
      method: 'GET', pattern: '/users/{user}/authentication/methods', permission: 'read', cost: 1,
      handle: (c) => {
        const user = directoryUser(c, 'user');
        return listPage(c.tenant.authenticationMethods.list(user.id), c.query, {
          defaultTop: 100, maxTop: 999, typeName: 'microsoft.graph.authenticationMethod', requestUrl: c.requestUrl,
          context: ctxUrl(c, `users('${user.id}')/authentication/methods`), loopNextLink: c.loopNextLink,
        });
      },
    },
    // The FIDO2 path first: it accepts the passkey permission too.
    { method: 'DELETE', pattern: '/users/{user}/authentication/fido2Methods/{id}', permission: 'writePasskey', cost: 3, handle: (c) => deleteMethod(c, 'fido2Methods') },
    { method: 'DELETE', pattern: '/users/{user}/authentication/{kind}/{id}', permission: 'write', cost: 3, handle: (c) => deleteMethod(c, c.params['kind']!) },
  ],
});
