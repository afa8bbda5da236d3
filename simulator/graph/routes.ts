import { randomBytes } from 'node:crypto';
import { badRequest, graphError, HttpError, notFound, type SimResponse } from '../http/errors.js';
import type { Entity } from '../tenant/collection.js';
import type { GraphCollectionName, Licence, Tenant } from '../tenant/tenant.js';
import { createPolicy, mergePatch, patchPolicy } from './conditional-access.js';
import { listPage, type PageOptions } from './odata.js';
import { GRAPH_PERMISSIONS as P } from './permissions.js';

/** How a route is throttled (see http/limits.ts). */
export type ThrottleClass = 'conditional-access' | 'identity' | 'mailbox';

export interface RouteContext {
  readonly tenant: Tenant;
  readonly params: Record<string, string>;
  readonly query: URLSearchParams;
  readonly body: unknown;
  readonly version: 'v1.0' | 'beta';
  /** The request URL as the client sees it, absolute. */
  readonly requestUrl: URL;
  /** Base URL of the service, e.g. http://127.0.0.1:4321 */
  readonly baseUrl: string;
  readonly loopNextLink: boolean;
}

export interface Route {
  readonly method: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';
  /** Path after the version, `{name}` for a segment parameter. */
  readonly pattern: string;
  readonly permissions: readonly string[];
  readonly throttle: ThrottleClass;
  /** Resource units (identity class), before the $select discount. */
  readonly cost?: number;
  /** The service plan the feature needs; without it the tenant is answered 403. */
  readonly licence?: Licence;
  readonly handle: (ctx: RouteContext) => SimResponse;
}

const USER_PROPS = [
  'id', 'displayName', 'userPrincipalName', 'accountEnabled', 'mail', 'userType', 'givenName', 'surname', 'jobTitle', 'department',
  'createdDateTime', 'onPremisesSyncEnabled', 'signInSessionsValidFromDateTime', 'otherMails', 'proxyAddresses', 'businessPhones', 'mobilePhone', 'officeLocation', 'preferredLanguage',
];
const GROUP_PROPS = ['id', 'displayName', 'mail', 'mailEnabled', 'mailNickname', 'securityEnabled', 'groupTypes', 'description', 'createdDateTime', 'visibility'];

const ctxUrl = (c: RouteContext, fragment: string) => `${c.baseUrl}/${c.version}/$metadata#${fragment}`;

function list(name: GraphCollectionName, fragment: string, o: Partial<PageOptions> & { typeName: string }) {
  return (c: RouteContext): SimResponse =>
    listPage(c.tenant.graph[name], c.query, {
      defaultTop: 100,
      maxTop: 999,
      requestUrl: c.requestUrl,
      context: ctxUrl(c, fragment),
      loopNextLink: c.loopNextLink,
      ...o,
    });
}

function getOne(name: GraphCollectionName, fragment: string, what: string, lookupField?: string, render?: (c: RouteContext, item: Entity) => Record<string, unknown>) {
  return (c: RouteContext): SimResponse => {
    const id = c.params['id']!;
    const item = c.tenant.graph[name].get(id) ?? (lookupField ? c.tenant.graph[name].findBy(lookupField, id)[0] : undefined);
    if (!item) throw notFound(`Resource '${id}' does not exist or one of its queried reference-property objects are not present.`);
    return { status: 200, body: { '@odata.context': ctxUrl(c, `${fragment}/$entity`), ...(render ? render(c, item) : item) } };
  };
}

/**
 * A conditional access policy as Graph shows it: grantControls carries the instance annotation of
 * its authenticationStrength navigation property beside the property itself, on every answer.
 */
function renderCaPolicy(c: RouteContext, p: Entity): Record<string, unknown> {
  const grant = p['grantControls'] as Record<string, unknown> | null | undefined;
  if (!grant || typeof grant !== 'object') return p;
  const { authenticationStrength, ...rest } = grant;
  return {
    ...p,
    grantControls: {
      ...rest,
      'authenticationStrength@odata.context': ctxUrl(c, `identity/conditionalAccess/policies('${p.id}')/grantControls/authenticationStrength/$entity`),
      authenticationStrength: authenticationStrength ?? null,
    },
  };
}

function findUser(c: RouteContext): Entity {
  const key = c.params['user']!;
  const user = c.tenant.graph.users.get(key) ?? c.tenant.graph.users.findBy('userPrincipalName', key)[0];
  if (!user) throw new HttpError(graphError(404, 'ErrorInvalidUser', `The requested user '${key}' is invalid.`));
  return user;
}

function mailboxUser(c: RouteContext): Entity {
  const user = findUser(c);
  if (!c.tenant.mailboxOf(user.id)) {
    throw new HttpError(graphError(404, 'MailboxNotEnabledForRESTAPI', 'The mailbox is either inactive, soft-deleted, or is hosted on-premise.'));
  }
  return user;
}

const obj = (body: unknown): Record<string, unknown> => {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw badRequest('The request body must be a JSON object.', 'BadRequest');
  return body as Record<string, unknown>;
};

/** authorizationPolicy as each API version shows it; v1.0 also keeps the legacy mirror of the grant policies. */
function renderAuthorizationPolicy(c: RouteContext): Record<string, unknown> {
  const p = c.tenant.authorizationPolicy;
  const assigned = (p['permissionGrantPolicyIdsAssignedToDefaultUserRole'] as string[]) ?? [];
  const perms = { ...(p['defaultUserRolePermissions'] as Record<string, unknown>) };
  if (c.version === 'v1.0') perms['permissionGrantPoliciesAssigned'] = assigned;
  return { '@odata.context': ctxUrl(c, 'policies/authorizationPolicy/$entity'), ...p, defaultUserRolePermissions: perms };
}

const AUTHZ_WRITABLE = [
  'allowInvitesFrom', 'allowedToSignUpEmailBasedSubscriptions', 'allowedToUseSSPR', 'allowEmailVerifiedUsersToJoinOrganization',
  'allowUserConsentForRiskyApps', 'blockMsolPowerShell', 'displayName', 'description', 'guestUserRoleId', 'defaultUserRolePermissions',
  'permissionGrantPolicyIdsAssignedToDefaultUserRole',
];
const DEFAULT_ROLE_WRITABLE = ['allowedToCreateApps', 'allowedToCreateSecurityGroups', 'allowedToCreateTenants', 'allowedToReadBitlockerKeysForOwnedDevice', 'allowedToReadOtherUsers', 'permissionGrantPoliciesAssigned'];

function patchAuthorizationPolicy(c: RouteContext): SimResponse {
  const body = obj(c.body);
  for (const k of Object.keys(body)) if (!AUTHZ_WRITABLE.includes(k)) throw badRequest(`Property '${k}' does not exist on type 'microsoft.graph.authorizationPolicy' or is not writable.`);
  const role = body['defaultUserRolePermissions'];
  if (role !== undefined) {
    for (const k of Object.keys(obj(role))) if (!DEFAULT_ROLE_WRITABLE.includes(k)) throw badRequest(`Property '${k}' does not exist on type 'microsoft.graph.defaultUserRolePermissions'.`);
  }
  if (body['allowInvitesFrom'] !== undefined && !['none', 'adminsAndGuestInviters', 'adminsGuestInvitersAndAllMembers', 'everyone'].includes(String(body['allowInvitesFrom']))) {
    throw badRequest(`Requested value '${String(body['allowInvitesFrom'])}' was not found for 'allowInvitesFrom'.`);
  }
  const legacy = (role as Record<string, unknown> | undefined)?.['permissionGrantPoliciesAssigned'];
  const assigned = body['permissionGrantPolicyIdsAssignedToDefaultUserRole'] ?? legacy;
  if (assigned !== undefined) {
    if (!Array.isArray(assigned)) throw badRequest("'permissionGrantPolicyIdsAssignedToDefaultUserRole' must be a collection.");
    for (const a of assigned) {
      const m = /^(ManagePermissionGrantsForSelf|ManagePermissionGrantsForOwnedResource)\.(.+)$/i.exec(String(a));
      if (!m || !c.tenant.graph.permissionGrantPolicies.get(m[2]!)) {
        throw badRequest(`Permission grant policy '${String(a)}' does not exist or is not of the form ManagePermissionGrantsForSelf.{id}.`);
      }
    }
  }
  const next = mergePatch(c.tenant.authorizationPolicy, body);
  if (assigned !== undefined) next['permissionGrantPolicyIdsAssignedToDefaultUserRole'] = assigned;
  delete (next['defaultUserRolePermissions'] as Record<string, unknown>)['permissionGrantPoliciesAssigned'];
  c.tenant.authorizationPolicy = next;
  return { status: 204 };
}

function putAdminConsentRequestPolicy(c: RouteContext): SimResponse {
  const body = obj(c.body);
  const allowed = ['isEnabled', 'notifyReviewers', 'remindersEnabled', 'requestDurationInDays', 'reviewers'];
  for (const k of Object.keys(body)) if (!allowed.includes(k)) throw badRequest(`Property '${k}' does not exist on type 'microsoft.graph.adminConsentRequestPolicy' or is not writable.`);
  for (const k of ['isEnabled', 'notifyReviewers', 'remindersEnabled']) {
    if (typeof body[k] !== 'boolean') throw badRequest(`Required property '${k}' is missing or not a boolean.`);
  }
  const reviewers = body['reviewers'] ?? [];
  if (!Array.isArray(reviewers)) throw badRequest("'reviewers' must be a collection.");
  for (const r of reviewers as Record<string, unknown>[]) {
    if (typeof r?.['query'] !== 'string' || r['queryType'] !== 'MicrosoftGraph') throw badRequest("Each reviewer needs a 'query' and queryType 'MicrosoftGraph'.");
    const m = /^(?:\/(?:v1\.0|beta))?\/(users|groups)\/([^/]+)/.exec(r['query']);
    if (!m || !c.tenant.graph[m[1] as 'users' | 'groups'].get(m[2]!)) throw badRequest(`Reviewer query '${r['query']}' does not resolve to a user or group.`);
  }
  const days = body['requestDurationInDays'];
  if (body['isEnabled'] === true) {
    if (reviewers.length === 0) throw badRequest('At least one reviewer is required when the admin consent workflow is enabled.');
    if (typeof days !== 'number' || !Number.isInteger(days) || days < 1 || days > 30) throw badRequest("'requestDurationInDays' must be between 1 and 30.");
  }
  const version = Number(c.tenant.adminConsentRequestPolicy['version'] ?? 0) + 1;
  c.tenant.adminConsentRequestPolicy = {
    isEnabled: body['isEnabled'],
    notifyReviewers: body['notifyReviewers'],
    remindersEnabled: body['remindersEnabled'],
    requestDurationInDays: typeof days === 'number' ? days : 0,
    version,
    reviewers: (reviewers as Record<string, unknown>[]).map((r) => ({ query: r['query'], queryType: r['queryType'], queryRoot: r['queryRoot'] ?? null })),
  };
  return { status: 204 };
}

/** The Graph routes the simulator serves. */
export const GRAPH_ROUTES: readonly Route[] = [
  // Conditional access
  { method: 'GET', pattern: '/identity/conditionalAccess/policies', permissions: P.caRead, throttle: 'conditional-access', licence: 'AAD_PREMIUM', handle: (c) => list('conditionalAccessPolicies', 'identity/conditionalAccess/policies', { typeName: 'microsoft.graph.conditionalAccessPolicy', filterable: ['displayName', 'state'], render: (p) => renderCaPolicy(c, p) })(c) },
  { method: 'GET', pattern: '/identity/conditionalAccess/policies/{id}', permissions: P.caRead, throttle: 'conditional-access', licence: 'AAD_PREMIUM', handle: getOne('conditionalAccessPolicies', 'identity/conditionalAccess/policies', 'policy', undefined, renderCaPolicy) },
  {
    method: 'POST', pattern: '/identity/conditionalAccess/policies', permissions: P.caWrite, throttle: 'conditional-access', licence: 'AAD_PREMIUM',
    handle: (c) => {
      const policy = createPolicy(obj(c.body)) as Entity;
      c.tenant.graph.conditionalAccessPolicies.insert(policy);
      return { status: 201, headers: { Location: `${c.baseUrl}/${c.version}/identity/conditionalAccess/policies/${policy.id}` }, body: { '@odata.context': ctxUrl(c, 'identity/conditionalAccess/policies/$entity'), ...renderCaPolicy(c, policy) } };
    },
  },
  {
    method: 'PATCH', pattern: '/identity/conditionalAccess/policies/{id}', permissions: P.caWrite, throttle: 'conditional-access', licence: 'AAD_PREMIUM',
    handle: (c) => {
      const existing = c.tenant.graph.conditionalAccessPolicies.get(c.params['id']!);
      if (!existing) throw notFound(`Policy '${c.params['id']}' was not found.`, 'ResourceNotFound');
      c.tenant.graph.conditionalAccessPolicies.replace(existing.id, patchPolicy(existing, obj(c.body)) as Entity);
      return { status: 204 };
    },
  },
  {
    method: 'DELETE', pattern: '/identity/conditionalAccess/policies/{id}', permissions: P.caWrite, throttle: 'conditional-access', licence: 'AAD_PREMIUM',
    handle: (c) => {
      if (!c.tenant.graph.conditionalAccessPolicies.remove(c.params['id']!)) throw notFound(`Policy '${c.params['id']}' was not found.`, 'ResourceNotFound');
      return { status: 204 };
    },
  },
  { method: 'GET', pattern: '/identity/conditionalAccess/namedLocations', permissions: P.caRead, throttle: 'conditional-access', licence: 'AAD_PREMIUM', handle: list('namedLocations', 'identity/conditionalAccess/namedLocations', { typeName: 'microsoft.graph.namedLocation', filterable: ['displayName'] }) },
  { method: 'GET', pattern: '/identity/conditionalAccess/namedLocations/{id}', permissions: P.caRead, throttle: 'conditional-access', licence: 'AAD_PREMIUM', handle: getOne('namedLocations', 'identity/conditionalAccess/namedLocations', 'namedLocation') },

  // Consent and authorization policies
  { method: 'GET', pattern: '/policies/authorizationPolicy', permissions: P.authorizationRead, throttle: 'identity', cost: 1, handle: (c) => ({ status: 200, body: renderAuthorizationPolicy(c) }) },
  { method: 'PATCH', pattern: '/policies/authorizationPolicy', permissions: P.authorizationWrite, throttle: 'identity', cost: 3, handle: patchAuthorizationPolicy },
  {
    method: 'GET', pattern: '/policies/adminConsentRequestPolicy', permissions: P.consentRequestRead, throttle: 'identity', cost: 1,
    handle: (c) => ({ status: 200, body: { '@odata.context': ctxUrl(c, 'policies/adminConsentRequestPolicy/$entity'), ...c.tenant.adminConsentRequestPolicy } }),
  },
  { method: 'PUT', pattern: '/policies/adminConsentRequestPolicy', permissions: P.consentRequestWrite, throttle: 'identity', cost: 3, handle: putAdminConsentRequestPolicy },
  { method: 'GET', pattern: '/policies/permissionGrantPolicies', permissions: P.permissionGrantPolicyRead, throttle: 'identity', cost: 2, handle: list('permissionGrantPolicies', 'policies/permissionGrantPolicies', { typeName: 'microsoft.graph.permissionGrantPolicy' }) },
  { method: 'GET', pattern: '/policies/permissionGrantPolicies/{id}', permissions: P.permissionGrantPolicyRead, throttle: 'identity', cost: 1, handle: getOne('permissionGrantPolicies', 'policies/permissionGrantPolicies', 'policy') },

  // Delegated permission grants and the apps they belong to
  { method: 'GET', pattern: '/oauth2PermissionGrants', permissions: P.grantRead, throttle: 'identity', cost: 2, handle: list('oauth2PermissionGrants', 'oauth2PermissionGrants', { typeName: 'microsoft.graph.oAuth2PermissionGrant', filterable: ['clientId', 'consentType', 'principalId', 'resourceId'] }) },
  { method: 'GET', pattern: '/oauth2PermissionGrants/{id}', permissions: P.grantRead, throttle: 'identity', cost: 1, handle: getOne('oauth2PermissionGrants', 'oauth2PermissionGrants', 'grant') },
  {
    method: 'POST', pattern: '/oauth2PermissionGrants', permissions: P.grantWrite, throttle: 'identity', cost: 3,
    handle: (c) => {
      const b = obj(c.body);
      const str = (k: string) => (typeof b[k] === 'string' && b[k] ? (b[k] as string) : undefined);
      for (const k of ['clientId', 'consentType', 'resourceId']) if (!str(k)) throw badRequest(`Property '${k}' is required.`);
      const consentType = str('consentType')!;
      if (consentType !== 'AllPrincipals' && consentType !== 'Principal') throw badRequest(`Invalid value '${consentType}' for property 'consentType'.`);
      if (consentType === 'Principal' && !str('principalId')) throw badRequest("Property 'principalId' is required when consentType is 'Principal'.");
      for (const k of ['clientId', 'resourceId']) if (!c.tenant.graph.servicePrincipals.get(str(k)!)) throw notFound(`Resource '${str(k)}' does not exist or one of its queried reference-property objects are not present.`);
      if (consentType === 'Principal' && !c.tenant.graph.users.get(str('principalId')!)) throw notFound(`Resource '${str('principalId')}' does not exist or one of its queried reference-property objects are not present.`);
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
    method: 'DELETE', pattern: '/oauth2PermissionGrants/{id}', permissions: P.grantWrite, throttle: 'identity', cost: 3,
    handle: (c) => {
      if (!c.tenant.graph.oauth2PermissionGrants.remove(c.params['id']!)) throw notFound(`Resource '${c.params['id']}' does not exist or one of its queried reference-property objects are not present.`);
      return { status: 204 };
    },
  },
  { method: 'GET', pattern: '/servicePrincipals', permissions: P.servicePrincipalRead, throttle: 'identity', cost: 2, handle: list('servicePrincipals', 'servicePrincipals', { typeName: 'microsoft.graph.servicePrincipal', filterable: ['appId', 'displayName', 'servicePrincipalType'] }) },
  { method: 'GET', pattern: '/servicePrincipals/{id}', permissions: P.servicePrincipalRead, throttle: 'identity', cost: 1, handle: getOne('servicePrincipals', 'servicePrincipals', 'servicePrincipal') },

  // Application permissions: app role assignments granted for a resource service principal (its API)
  {
    method: 'GET', pattern: '/servicePrincipals/{id}/appRoleAssignedTo', permissions: P.servicePrincipalRead, throttle: 'identity', cost: 2,
    handle: (c) => {
      const sp = c.tenant.graph.servicePrincipals.get(c.params['id']!);
      if (!sp) throw notFound(`Resource '${c.params['id']}' does not exist or one of its queried reference-property objects are not present.`);
      return listPage(c.tenant.graph.appRoleAssignments.findBy('resourceId', sp.id), c.query, {
        defaultTop: 100, maxTop: 999, typeName: 'microsoft.graph.appRoleAssignment', requestUrl: c.requestUrl,
        context: ctxUrl(c, `servicePrincipals('${sp.id}')/appRoleAssignedTo`), loopNextLink: c.loopNextLink,
      });
    },
  },
  {
    method: 'GET', pattern: '/servicePrincipals/{id}/appRoleAssignedTo/{assignment}', permissions: P.servicePrincipalRead, throttle: 'identity', cost: 1,
    handle: (c) => {
      const a = c.tenant.graph.appRoleAssignments.get(c.params['assignment']!);
      if (!a || String(a['resourceId']).toLowerCase() !== c.params['id']!.toLowerCase()) throw notFound(`Resource '${c.params['assignment']}' does not exist or one of its queried reference-property objects are not present.`);
      return { status: 200, body: { '@odata.context': ctxUrl(c, `servicePrincipals('${c.params['id']}')/appRoleAssignedTo/$entity`), ...a } };
    },
  },
  {
    method: 'DELETE', pattern: '/servicePrincipals/{id}/appRoleAssignedTo/{assignment}', permissions: P.appRoleAssignmentWrite, throttle: 'identity', cost: 3,
    handle: (c) => {
      const a = c.tenant.graph.appRoleAssignments.get(c.params['assignment']!);
      if (!a || String(a['resourceId']).toLowerCase() !== c.params['id']!.toLowerCase()) throw notFound(`Resource '${c.params['assignment']}' does not exist or one of its queried reference-property objects are not present.`);
      c.tenant.graph.appRoleAssignments.remove(a.id);
      return { status: 204 };
    },
  },

  // Directory
  { method: 'GET', pattern: '/domains', permissions: P.domainRead, throttle: 'identity', cost: 2, handle: list('domains', 'domains', { typeName: 'microsoft.graph.domain', filterable: ['isVerified', 'isDefault'] }) },
  { method: 'GET', pattern: '/domains/{id}', permissions: P.domainRead, throttle: 'identity', cost: 1, handle: getOne('domains', 'domains', 'domain') },
  { method: 'GET', pattern: '/users', permissions: P.userRead, throttle: 'identity', cost: 2, handle: list('users', 'users', { typeName: 'microsoft.graph.user', known: USER_PROPS, filterable: ['userPrincipalName', 'accountEnabled', 'mail', 'displayName', 'userType', 'id'] }) },
  { method: 'GET', pattern: '/users/{id}', permissions: P.userRead, throttle: 'identity', cost: 1, handle: getOne('users', 'users', 'user', 'userPrincipalName') },
  { method: 'GET', pattern: '/groups', permissions: P.groupRead, throttle: 'identity', cost: 2, handle: list('groups', 'groups', { typeName: 'microsoft.graph.group', known: GROUP_PROPS, filterable: ['displayName', 'mail', 'securityEnabled', 'mailEnabled', 'id'] }) },
  { method: 'GET', pattern: '/groups/{id}', permissions: P.groupRead, throttle: 'identity', cost: 1, handle: getOne('groups', 'groups', 'group') },
  {
    method: 'GET', pattern: '/groups/{id}/members', permissions: P.groupRead, throttle: 'identity', cost: 2,
    handle: (c) => {
      const group = c.tenant.graph.groups.get(c.params['id']!);
      if (!group) throw notFound(`Resource '${c.params['id']}' does not exist or one of its queried reference-property objects are not present.`);
      const members = (c.tenant.groupMembers.get(group.id.toLowerCase()) ?? []).map((id) => c.tenant.graph.users.get(id) ?? c.tenant.graph.groups.get(id)).filter((x): x is Entity => !!x);
      return listPage(members, c.query, { defaultTop: 100, maxTop: 999, typeName: 'microsoft.graph.directoryObject', requestUrl: c.requestUrl, context: ctxUrl(c, 'directoryObjects'), loopNextLink: c.loopNextLink });
    },
  },
  { method: 'GET', pattern: '/roleManagement/directory/roleAssignments', permissions: P.roleRead, throttle: 'identity', cost: 2, handle: list('roleAssignments', 'roleManagement/directory/roleAssignments', { typeName: 'microsoft.graph.unifiedRoleAssignment', filterable: ['roleDefinitionId', 'principalId', 'directoryScopeId'] }) },

  // Mailbox rules (Outlook service limits)
  {
    method: 'GET', pattern: '/users/{user}/mailFolders/inbox/messageRules', permissions: P.mailboxSettingsRead, throttle: 'mailbox',
    handle: (c) => {
      const user = mailboxUser(c);
      // Outlook pages collections: 10 rules a page unless $top says otherwise, the rest behind @odata.nextLink.
      return listPage(c.tenant.inboxRules.list(user.id), c.query, {
        defaultTop: 10, maxTop: 1000, typeName: 'microsoft.graph.messageRule', requestUrl: c.requestUrl,
        context: ctxUrl(c, `users('${c.params['user']}')/mailFolders('inbox')/messageRules`), loopNextLink: c.loopNextLink,
      });
    },
  },
  {
    method: 'GET', pattern: '/users/{user}/mailFolders/inbox/messageRules/{id}', permissions: P.mailboxSettingsRead, throttle: 'mailbox',
    handle: (c) => {
      const user = mailboxUser(c);
      const rule = c.tenant.inboxRules.list(user.id).find((r) => r.id === c.params['id']);
      if (!rule) throw new HttpError(graphError(404, 'ErrorItemNotFound', 'The specified object was not found in the store.'));
      return { status: 200, body: { '@odata.context': ctxUrl(c, `users('${c.params['user']}')/mailFolders('inbox')/messageRules/$entity`), ...rule } };
    },
  },
  {
    method: 'POST', pattern: '/users/{user}/mailFolders/inbox/messageRules', permissions: P.mailboxSettingsWrite, throttle: 'mailbox',
    handle: (c) => {
      const user = mailboxUser(c);
      const b = obj(c.body);
      if (typeof b['displayName'] !== 'string' || !b['displayName']) throw new HttpError(graphError(400, 'ErrorInvalidRequest', "The rule's displayName is required."));
      if (typeof b['sequence'] !== 'number' || !Number.isInteger(b['sequence']) || b['sequence'] < 1) throw new HttpError(graphError(400, 'ErrorInvalidRequest', "The rule's sequence must be a positive integer."));
      const { id: _id, hasError: _hasError, isReadOnly: _readOnly, ...fields } = Object.fromEntries(Object.entries(b).filter(([k]) => !k.startsWith('@odata.')));
      const rule: Entity = { id: `AQAAA${randomBytes(5).toString('base64')}`, isEnabled: true, ...fields, hasError: false, isReadOnly: false };
      c.tenant.inboxRules.add(user.id, rule);
      return { status: 201, body: { '@odata.context': ctxUrl(c, `users('${c.params['user']}')/mailFolders('inbox')/messageRules/$entity`), ...rule } };
    },
  },
  {
    method: 'DELETE', pattern: '/users/{user}/mailFolders/inbox/messageRules/{id}', permissions: P.mailboxSettingsWrite, throttle: 'mailbox',
    handle: (c) => {
      const user = mailboxUser(c);
      if (!c.tenant.inboxRules.remove(user.id, c.params['id']!)) throw new HttpError(graphError(404, 'ErrorItemNotFound', 'The specified object was not found in the store.'));
      return { status: 204 };
    },
  },
  {
    method: 'POST', pattern: '/users/{user}/revokeSignInSessions', permissions: P.revokeSessions, throttle: 'identity', cost: 3,
    handle: (c) => {
      const user = findUser(c);
      c.tenant.graph.users.replace(user.id, { ...user, signInSessionsValidFromDateTime: new Date().toISOString().slice(0, 19) + 'Z' });
      return { status: 200, body: { '@odata.context': ctxUrl(c, 'Edm.Boolean'), value: true } };
    },
  },

  // Identity protection
  { method: 'GET', pattern: '/identityProtection/riskyUsers', permissions: P.riskyUserRead, throttle: 'conditional-access', licence: 'AAD_PREMIUM_P2', handle: list('riskyUsers', 'identityProtection/riskyUsers', { typeName: 'microsoft.graph.riskyUser', defaultTop: 20, maxTop: 500, filterable: ['riskLevel', 'riskState', 'userPrincipalName'] }) },
  { method: 'GET', pattern: '/identityProtection/riskyUsers/{id}', permissions: P.riskyUserRead, throttle: 'conditional-access', licence: 'AAD_PREMIUM_P2', handle: getOne('riskyUsers', 'identityProtection/riskyUsers', 'riskyUser') },
  {
    method: 'POST', pattern: '/identityProtection/riskyUsers/confirmCompromised', permissions: P.riskyUserWrite, throttle: 'conditional-access', licence: 'AAD_PREMIUM_P2',
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
  { method: 'GET', pattern: '/identityProtection/riskDetections', permissions: P.riskDetectionRead, throttle: 'conditional-access', licence: 'AAD_PREMIUM_P2', handle: list('riskDetections', 'identityProtection/riskDetections', { typeName: 'microsoft.graph.riskDetection', defaultTop: 20, maxTop: 500, filterable: ['userId', 'riskLevel', 'riskEventType'] }) },
];

interface CompiledRoute {
  route: Route;
  regex: RegExp;
  names: string[];
}

const compiled: CompiledRoute[] = GRAPH_ROUTES.map((route) => {
  const names: string[] = [];
  const source = route.pattern.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\\?\{(\w+)\\?\}/g, (_m, n: string) => {
    names.push(n);
    return '([^/]+)';
  });
  return { route, regex: new RegExp(`^${source}/?$`, 'i'), names };
});

export type RouteMatch = { route: Route; params: Record<string, string> } | { error: 'not-found' | 'method' };

/** Finds the route for a method and path (the path after the version segment). */
export function matchRoute(method: string, path: string): RouteMatch {
  let pathMatched = false;
  for (const c of compiled) {
    const m = c.regex.exec(path);
    if (!m) continue;
    pathMatched = true;
    if (c.route.method !== method.toUpperCase()) continue;
    const params: Record<string, string> = {};
    c.names.forEach((n, i) => (params[n] = decodeURIComponent(m[i + 1]!)));
    return { route: c.route, params };
  }
  return { error: pathMatched ? 'method' : 'not-found' };
}

