import { badRequest, graphError, HttpError } from '../../http/errors.js';
import { ROLE_IDS } from '../../http/token.js';
import type { Collection, Entity } from '../../tenant/collection.js';
import { ctxUrl, getOne, graphEntity, list, obj, resourceNotFound, type RouteContext } from '../entity.js';
import { deltaRoute } from '../delta.js';

declare module '../../tenant/tenant.js' {
  interface GraphCollections {
    users: Collection;
  }
}

const USER_PROPS = [
  'id', 'displayName', 'userPrincipalName', 'accountEnabled', 'mail', 'userType', 'givenName', 'surname', 'jobTitle', 'department',
  'createdDateTime', 'onPremisesSyncEnabled', 'signInSessionsValidFromDateTime', 'otherMails', 'proxyAddresses', 'businessPhones', 'mobilePhone', 'officeLocation', 'preferredLanguage',
  'passwordProfile', 'lastPasswordChangeDateTime',
];

/** Properties Graph returns only when `$select` names them. */
const SELECT_ONLY = ['passwordProfile', 'lastPasswordChangeDateTime'];

/**
 * A user as a GET shows it: with `$select`, exactly the properties it names (a selected property
 * the user lacks reads null); without, every property but the $select-only ones.
 */
const shown = (c: RouteContext) => (u: Entity): Record<string, unknown> => {
  const select = c.query.get('$select');
  if (select === null) return Object.fromEntries(Object.entries(u).filter(([k]) => !SELECT_ONLY.includes(k)));
  const wanted = select.split(',').map((x) => x.trim()).filter(Boolean);
  return Object.fromEntries(wanted.map((w) => {
    const key = Object.keys(u).find((k) => k.toLowerCase() === w.toLowerCase()) ?? w;
    return [key, u[key] ?? null];
  }));
};

/** Properties a PATCH may set besides accountEnabled and passwordProfile (the non-sensitive profile). */
const PROFILE_PROPS = ['displayName', 'givenName', 'surname', 'jobTitle', 'department', 'officeLocation', 'preferredLanguage'];

/** The user an `{id}` segment names, by id or userPrincipalName; Graph's directory 404 otherwise. */
export function directoryUser(c: RouteContext, param = 'id'): Entity {
  const key = c.params[param]!;
  const user = c.tenant.graph.users.get(key) ?? c.tenant.graph.users.findBy('userPrincipalName', key)[0];
  if (!user) throw resourceNotFound(key);
  return user;
}

const R = ROLE_IDS;
/** The row of a user who holds no directory role. */
const NO_ROLE = '';

/**
 * Who may reset whose password ("Who can reset passwords?", users.md): target role → the roles an
 * app needs, one of. Roles the table does not list are privileged: only a Privileged Authentication
 * Administrator or a Global Administrator.
 */
const PASSWORD_RESET: Readonly<Record<string, readonly string[]>> = (() => {
  const all = [R.passwordAdministrator, R.helpdeskAdministrator, R.authenticationAdministrator, R.userAdministrator, R.privilegedAuthenticationAdministrator, R.globalAdministrator];
  const top = [R.privilegedAuthenticationAdministrator, R.globalAdministrator];
  const helpdeskUp = [R.helpdeskAdministrator, R.authenticationAdministrator, R.userAdministrator, ...top];
  return {
    [NO_ROLE]: all,
    [R.authenticationAdministrator]: [R.authenticationAdministrator, ...top],
    [R.directoryReaders]: all,
    [R.globalAdministrator]: top,
    [R.groupsAdministrator]: [R.userAdministrator, ...top],
    [R.guestInviter]: all,
    [R.helpdeskAdministrator]: [R.helpdeskAdministrator, R.userAdministrator, ...top],
    [R.messageCenterReader]: helpdeskUp,
    [R.passwordAdministrator]: all,
    [R.privilegedAuthenticationAdministrator]: top,
    [R.privilegedRoleAdministrator]: top,
    [R.reportsReader]: helpdeskUp,
    [R.userAdministrator]: [R.userAdministrator, ...top],
    [R.usageSummaryReportsReader]: helpdeskUp,
  };
})();

/**
 * Who may update whose sensitive attributes (accountEnabled among them; "Who can update sensitive
 * attributes?"). An app-only caller needs a role only when the target holds an administrator role.
 */
const SENSITIVE_UPDATE: Readonly<Record<string, readonly string[] | null>> = (() => {
  const all = [R.authenticationAdministrator, R.userAdministrator, R.privilegedAuthenticationAdministrator, R.globalAdministrator];
  const top = [R.privilegedAuthenticationAdministrator, R.globalAdministrator];
  return {
    [NO_ROLE]: null,
    [R.authenticationAdministrator]: [R.authenticationAdministrator, ...top],
    [R.directoryReaders]: all,
    [R.globalAdministrator]: top,
    [R.groupsAdministrator]: [R.userAdministrator, ...top],
    [R.guestInviter]: all,
    [R.helpdeskAdministrator]: [R.userAdministrator, ...top],
    [R.messageCenterReader]: all,
    [R.passwordAdministrator]: all,
    [R.privilegedAuthenticationAdministrator]: top,
    [R.privilegedRoleAdministrator]: top,
    [R.reportsReader]: all,
    [R.userAdministrator]: [R.userAdministrator, ...top],
    [R.usageSummaryReportsReader]: all,
  };
})();

const PRIVILEGED_ONLY = [R.privilegedAuthenticationAdministrator, R.globalAdministrator];

/** Whether an app holding `wids` may act on a user holding `targetRoles`, by one of the tables above (null: no role needed). */
function mayAct(table: Readonly<Record<string, readonly string[] | null>>, targetRoles: readonly string[], wids: readonly string[]): boolean {
  const rows = targetRoles.length ? targetRoles : [NO_ROLE];
  return rows.every((role) => {
    const needed = role in table ? table[role]! : PRIVILEGED_ONLY;
    return needed === null || needed.some((r) => wids.includes(r));
  });
}

const denied = () => new HttpError(graphError(403, 'Authorization_RequestDenied', 'Insufficient privileges to complete the operation.'));

/** Applies a PATCH of a user: accountEnabled, passwordProfile and the plain profile, under Entra's role rules. */
function patchUser(c: RouteContext): Entity {
  const user = directoryUser(c);
  const body = obj(c.body);
  const targetRoles = [...new Set(c.tenant.graph.roleAssignments.findBy('principalId', user.id).map((a) => String(a['roleDefinitionId'])))];
  const next: Entity = { ...user };
  for (const [k, v] of Object.entries(body)) {
    if (k === 'accountEnabled') {
      if (typeof v !== 'boolean') throw badRequest("Invalid value specified for property 'accountEnabled' of resource 'User'.", 'Request_BadRequest');
      if (!mayAct(SENSITIVE_UPDATE, targetRoles, c.wids)) throw denied();
      next['accountEnabled'] = v;
    } else if (k === 'passwordProfile') {
      next['passwordProfile'] = passwordProfile(v);
      if (!mayAct(PASSWORD_RESET, targetRoles, c.wids)) throw denied();
      if (typeof (v as Record<string, unknown>)['password'] === 'string') next['lastPasswordChangeDateTime'] = c.tenant.clock.iso();
    } else if (PROFILE_PROPS.includes(k)) {
      if (typeof v !== 'string' && v !== null) throw badRequest(`Invalid value specified for property '${k}' of resource 'User'.`, 'Request_BadRequest');
      next[k] = v;
    } else if (USER_PROPS.includes(k)) {
      throw badRequest(`Property '${k}' is read-only and cannot be set.`, 'Request_BadRequest');
    } else {
      throw badRequest(`Property '${k}' does not exist as a declared property or extension property.`, 'Request_BadRequest');
    }
  }
  return next;
}

/** A passwordProfile as Entra keeps it: the flags, never the password (which is write-only). */
function passwordProfile(v: unknown): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw badRequest("Invalid value specified for property 'passwordProfile' of resource 'User'.", 'Request_BadRequest');
  const p = v as Record<string, unknown>;
  for (const k of Object.keys(p)) {
    if (!['forceChangePasswordNextSignIn', 'forceChangePasswordNextSignInWithMfa', 'password'].includes(k)) throw badRequest(`Property '${k}' does not exist as a declared property or extension property.`, 'Request_BadRequest');
  }
  for (const k of ['forceChangePasswordNextSignIn', 'forceChangePasswordNextSignInWithMfa']) {
    if (p[k] !== undefined && typeof p[k] !== 'boolean') throw badRequest(`Invalid value specified for property '${k}' of resource 'PasswordProfile'.`, 'Request_BadRequest');
  }
  if (p['password'] !== undefined && (typeof p['password'] !== 'string' || p['password'].length < 8)) {
    throw badRequest('The specified password does not comply with password complexity requirements. Please provide a different password.', 'Request_BadRequest');
  }
  return { forceChangePasswordNextSignIn: p['forceChangePasswordNextSignIn'] ?? false, forceChangePasswordNextSignInWithMfa: p['forceChangePasswordNextSignInWithMfa'] ?? false, password: null };
}

/** The user a `{user}` segment names, by id or userPrincipalName; 404 ErrorInvalidUser as the mailbox APIs answer. */
export function findUser(c: RouteContext): Entity {
  const key = c.params['user']!;
  const user = c.tenant.graph.users.get(key) ?? c.tenant.graph.users.findBy('userPrincipalName', key)[0];
  if (!user) throw new HttpError(graphError(404, 'ErrorInvalidUser', `The requested user '${key}' is invalid.`));
  return user;
}

/**
 * Users of the directory; updating one (enabling or disabling it, forcing a password change) and
 * revoking its sign-in sessions. Entra bounds the sensitive updates by the directory roles of the
 * calling app as well as by permission: the roles come from the token's `wids` claim, the target's
 * from its active role assignments.
 */
export const users = graphEntity({
  name: 'users',
  collection: { name: 'users', indexed: ['userPrincipalName', 'mail'] },
  throttle: 'identity',
  permissions: {
    read: ['User.Read.All', 'User.ReadWrite.All', 'Directory.Read.All', 'Directory.ReadWrite.All'],
    revokeSessions: ['User.RevokeSessions.All', 'User.ReadWrite.All', 'Directory.ReadWrite.All'],
    write: ['User.ReadWrite.All', 'Directory.ReadWrite.All'],
  },
  routes: [
    { method: 'GET', pattern: '/users', permission: 'read', cost: 2, handle: (c) => list('users', 'users', { typeName: 'microsoft.graph.user', known: USER_PROPS, filterable: ['userPrincipalName', 'accountEnabled', 'mail', 'displayName', 'userType', 'id'], render: shown(c) })(c) },
    { method: 'GET', pattern: '/users/delta', permission: 'read', cost: 2, handle: deltaRoute('users', { typeName: 'microsoft.graph.user', known: USER_PROPS, render: shown, removedReason: 'changed' }) },
    { method: 'GET', pattern: '/users/{id}', permission: 'read', cost: 1, handle: getOne('users', 'users', 'userPrincipalName', (c, u) => shown(c)(u)) },
    {
      method: 'PATCH', pattern: '/users/{id}', permission: 'write', cost: 3,
      handle: (c) => {
        const next = patchUser(c);
        c.tenant.graph.users.replace(next.id, next);
        return { status: 204 };
      },
    },
    {
      method: 'POST', pattern: '/users/{user}/revokeSignInSessions', permission: 'revokeSessions', cost: 3,
      handle: (c) => {
        const user = directoryUser(c, 'user');
        c.tenant.graph.users.replace(user.id, { ...user, signInSessionsValidFromDateTime: c.tenant.clock.iso() });
        return { status: 200, body: { '@odata.context': ctxUrl(c, 'Edm.Boolean'), value: true } };
      },
    },
  ],
});
