import { P } from '../../policies/permissions.js';
import { graphEntity, graphRead } from './graph-entity.js';

/** The permission grant policies that each declared user-consent setting assigns to the default user role. */
export const USER_CONSENT_POLICIES = {
  disabled: [] as string[],
  lowRiskVerifiedPublishers: ['ManagePermissionGrantsForSelf.microsoft-user-default-low'],
};

/** The tenant's authorization policy: what users may consent to, and whether they may register apps. */
export const authorizationPolicy = graphEntity({
  key: 'authorizationPolicy',
  title: 'the authorization policy',
  read: graphRead('authorizationPolicy', 'graph-get', '/policies/authorizationPolicy', [P.policyRead]),
  writes: [['PATCH', '/policies/authorizationPolicy']],
  writePermissions: [P.policyWriteAuthorization],
  writeFor: (f, { manifest, live }) => {
    if (f.control.id === 'APP.CONSENT.3') return { api: 'graph', method: 'PATCH', path: '/policies/authorizationPolicy', body: { defaultUserRolePermissions: { allowedToCreateApps: false } } };
    const current = ((live.authorizationPolicy?.ok ? live.authorizationPolicy.value['permissionGrantPolicyIdsAssignedToDefaultUserRole'] : undefined) as string[] | undefined) ?? [];
    const keep = current.filter((a) => !/^ManagePermissionGrantsForSelf\./i.test(a));
    return { api: 'graph', method: 'PATCH', path: '/policies/authorizationPolicy', body: { permissionGrantPolicyIdsAssignedToDefaultUserRole: [...keep, ...USER_CONSENT_POLICIES[manifest.desired.consent!.userConsent]] } };
  },
});
