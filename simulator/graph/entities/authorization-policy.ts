import { z } from 'zod';
import { badRequest, type SimResponse } from '../../http/errors.js';
import { ctxUrl, graphEntity, mergePatch, obj, slot, type RouteContext } from '../entity.js';

declare module '../../tenant/tenant.js' {
  interface GraphScenarioState {
    authorizationPolicy: Record<string, unknown>;
  }
  interface TenantSlots {
    /** The tenant's one authorizationPolicy, as stored (without the v1.0 mirror of the grant policies). */
    authorizationPolicy: Record<string, unknown>;
  }
}

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

/** The authorization policy: what users may do by default, user consent (the grant policies assigned) included. */
export const authorizationPolicy = graphEntity({
  name: 'authorizationPolicy',
  state: slot({
    key: 'authorizationPolicy',
    schema: z.record(z.string(), z.unknown()),
    property: 'authorizationPolicy',
    init: (value) => value,
  }),
  throttle: 'identity',
  permissions: {
    read: ['Policy.Read.All', 'Policy.ReadWrite.Authorization'],
    write: ['Policy.ReadWrite.Authorization'],
  },
  routes: [
    { method: 'GET', pattern: '/policies/authorizationPolicy', permission: 'read', cost: 1, handle: (c) => ({ status: 200, body: renderAuthorizationPolicy(c) }) },
    { method: 'PATCH', pattern: '/policies/authorizationPolicy', permission: 'write', cost: 3, handle: patchAuthorizationPolicy },
  ],
});
