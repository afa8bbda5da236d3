import { HIGH_RISK_MAIL_APP_ROLES, MICROSOFT_TENANT_IDS } from '../../policies/catalogue.js';
import type { Evaluation } from '../evaluate/context.js';
import type { AppPermissions } from '../model/live.js';
import { reviewerTarget } from '../resources/admin-consent-request-policy.js';
import { USER_CONSENT_POLICIES } from '../resources/authorization-policy.js';
import { patchFrom } from '../evaluate/normalise.js';
import { declaresMailPermission, mailRoles } from './mail-app-permissions.js';

type Obj = Record<string, unknown>;


export { reviewerTarget } from '../resources/admin-consent-request-policy.js';

/**
 * APP.CONSENT.1–5. Only `ManagePermissionGrantsForSelf.*` entries are user consent; the
 * `ManagePermissionGrantsForOwnedResource.*` entries are Teams resource-specific consent, outside
 * these controls, and are left as they are.
 */
export function checkConsent(ev: Evaluation): void {
  const c = ev.manifest.desired.consent;
  if (!c) return;
  const endpoint = '/policies/authorizationPolicy';

  const authz = ev.need<[Obj]>('APP.CONSENT.1', ['authorizationPolicy']);
  ev.need<[Obj]>('APP.CONSENT.3', ['authorizationPolicy']);
  if (authz && ev.live.authorizationPolicy?.ok) {
    const readAt = ev.live.authorizationPolicy.readAt;
    const [policy] = authz;
    const assigned = ((policy['permissionGrantPolicyIdsAssignedToDefaultUserRole'] as string[] | undefined) ??
      ((policy['defaultUserRolePermissions'] as Obj | undefined)?.['permissionGrantPoliciesAssigned'] as string[] | undefined) ??
      []) as string[];
    const self = assigned.filter((a) => /^ManagePermissionGrantsForSelf\./i.test(a)).map((a) => a.replace(/^managePermissionGrantsForSelf/i, 'ManagePermissionGrantsForSelf')).sort();
    const wanted = [...USER_CONSENT_POLICIES[c.userConsent]].sort();
    if (JSON.stringify(self.map((s) => s.toLowerCase())) !== JSON.stringify(wanted.map((s) => s.toLowerCase()))) {
      const keep = assigned.filter((a) => !/^ManagePermissionGrantsForSelf\./i.test(a));
      ev.add({
        control: 'APP.CONSENT.1', check: 'user-consent-policy', resource: { type: 'authorizationPolicy', id: 'authorizationPolicy', name: 'Authorization Policy' },
        status: 'drift', action: 'update',
        patch: patchFrom({ permissionGrantPolicyIdsAssignedToDefaultUserRole: assigned }, { permissionGrantPolicyIdsAssignedToDefaultUserRole: [...keep, ...wanted] }),
        summary:
          self.length === 0
            ? `Users can consent to nothing, but the posture declares ${c.userConsent}.`
            : `Users can consent apps by themselves under ${self.map((s) => s.split('.').slice(1).join('.')).join(', ')}; the posture declares ${c.userConsent === 'disabled' ? 'no user consent' : 'low-risk permissions from verified publishers only'}.`,
        evidence: { endpoint, readAt, live: { permissionGrantPolicyIdsAssignedToDefaultUserRole: assigned } },
      });
    }
    const createApps = (policy['defaultUserRolePermissions'] as Obj | undefined)?.['allowedToCreateApps'];
    if (createApps !== c.allowUsersToRegisterApps) {
      ev.add({
        control: 'APP.CONSENT.3', check: 'app-registration-admin-only', resource: { type: 'authorizationPolicy', id: 'authorizationPolicy', name: 'Authorization Policy' },
        status: 'drift', action: 'update',
        patch: [{ op: 'replace', path: '/defaultUserRolePermissions/allowedToCreateApps', value: false }],
        summary: 'Any user can register applications; only administrators should.',
        evidence: { endpoint, readAt, live: { defaultUserRolePermissions: { allowedToCreateApps: createApps } } },
      });
    }
  }

  const acrp = ev.need<[Obj, Obj[], Obj[]]>('APP.CONSENT.2', [
    'adminConsentRequestPolicy',
    'user',
    'group',
  ]);
  if (acrp && ev.live.adminConsentRequestPolicy?.ok) {
    const [policy] = acrp;
    const w = c.adminConsentWorkflow;
    const liveReviewers = ((policy['reviewers'] as Obj[] | undefined) ?? [])
      .map((r) => {
        const target = reviewerTarget(String(r['query'] ?? ''));
        if (!target) return String(r['query']);
        const o = target.kind === 'users' ? ev.directory.userById(target.id) : ev.directory.groupById(target.id);
        return target.kind === 'users' ? `user:${String(o?.['userPrincipalName'] ?? target.id).toLowerCase()}` : `group:${String(o?.['displayName'] ?? target.id)}`;
      })
      .sort();
    const liveView = {
      isEnabled: policy['isEnabled'],
      notifyReviewers: policy['notifyReviewers'],
      remindersEnabled: policy['remindersEnabled'],
      requestDurationInDays: policy['requestDurationInDays'],
      reviewers: liveReviewers.map((r) => r.toLowerCase()),
    };
    const desiredView = {
      isEnabled: true,
      notifyReviewers: w.notifyReviewers,
      remindersEnabled: w.remindersEnabled,
      requestDurationInDays: w.requestDurationInDays,
      reviewers: [...w.reviewers].map((r) => r.toLowerCase()).sort(),
    };
    const patch = patchFrom(liveView, desiredView);
    if (patch.length) {
      ev.add({
        control: 'APP.CONSENT.2', check: 'admin-consent-workflow', resource: { type: 'adminConsentRequestPolicy', id: null, name: 'Admin consent request policy' },
        status: 'drift', action: 'update', patch,
        summary: policy['isEnabled'] ? `The admin consent workflow differs from the posture in ${[...new Set(patch.map((p) => p.path.split('/')[1]))].join(', ')}.` : 'The admin consent workflow is off: users have no sanctioned way to ask for an app.',
        evidence: { endpoint: '/policies/adminConsentRequestPolicy', readAt: ev.live.adminConsentRequestPolicy.readAt, live: liveView },
      });
    }
  }

  const grants = ev.need<[Obj[], Obj[], Obj[]]>('APP.CONSENT.4', [
    'oauth2PermissionGrant',
    'servicePrincipal',
    'user',
  ]);
  if (grants && ev.live.grants?.ok) {
    const [list, sps] = grants;
    const high = new Set(c.highRiskScopes.map((s) => s.toLowerCase()));
    const spById = new Map(sps.map((s) => [String(s['id']).toLowerCase(), s]));
    for (const g of list) {
      if (String(g['consentType']) !== 'Principal') continue;
      const scopes = String(g['scope'] ?? '').split(/\s+/).filter(Boolean);
      const risky = scopes.filter((s) => high.has(s.toLowerCase()));
      if (!risky.length) continue;
      const app = spById.get(String(g['clientId']).toLowerCase());
      const user = ev.directory.userById(String(g['principalId'] ?? ''));
      const appName = String(app?.['displayName'] ?? g['clientId']);
      const upn = String(user?.['userPrincipalName'] ?? g['principalId']);
      ev.add({
        control: 'APP.CONSENT.4', check: 'user-grant-high-risk-scope', resource: { type: 'oauth2PermissionGrant', id: String(g['id']), name: `${appName} ← ${upn}` },
        key: String(g['id']), status: 'violation', action: 'delete',
        patch: [{ op: 'remove', path: '' } as never],
        summary: `${upn} consented "${appName}" to ${risky.join(', ')}; the app can read or send that user's mail.`,
        evidence: { endpoint: '/oauth2PermissionGrants', readAt: ev.live.grants.readAt, live: { ...g, app: app ? { appId: app['appId'], displayName: app['displayName'], publisherName: app['publisherName'] } : null } },
        remediation: 'Revoke the grant, review the app, and check the user\'s mailbox for rules and sign-ins since the consent.',
        ...(user ? { subject: { id: String(user['id']), upn } } : {}),
        scopes: [
          { type: 'app', value: appName },
          { type: 'app', value: String(app?.['appId'] ?? '') },
          { type: 'user', value: upn },
        ],
      });
    }
  }

  // APP.CONSENT.5: what a third-party app holds for the whole organisation, with no user consenting.
  const wide = ev.need<[Obj[], Obj[], AppPermissions]>('APP.CONSENT.5', [
    'oauth2PermissionGrant',
    'servicePrincipal',
    'appRoleAssignment',
  ]);
  if (wide && ev.live.grants?.ok && ev.live.appPermissions?.ok) {
    const [list, sps, perms] = wide;
    const high = new Set(c.highRiskScopes.map((s) => s.toLowerCase()));
    const spById = new Map(sps.map((s) => [String(s['id']).toLowerCase(), s]));
    const firstParty = (sp: Obj | undefined) => !!sp && MICROSOFT_TENANT_IDS.includes(String(sp['appOwnerOrganizationId'] ?? '').toLowerCase());
    const appOf = (id: unknown) => spById.get(String(id ?? '').toLowerCase());
    const appScopes = (app: Obj | undefined, id: unknown) => [
      { type: 'app' as const, value: String(app?.['displayName'] ?? id) },
      { type: 'app' as const, value: String(app?.['appId'] ?? '') },
    ];
    const appLive = (app: Obj | undefined) => (app ? { appId: app['appId'], displayName: app['displayName'], publisherName: app['publisherName'], appOwnerOrganizationId: app['appOwnerOrganizationId'] ?? null } : null);
    for (const g of list) {
      if (String(g['consentType']) !== 'AllPrincipals') continue;
      const risky = String(g['scope'] ?? '').split(/\s+/).filter((s) => s && high.has(s.toLowerCase()));
      const app = appOf(g['clientId']);
      if (!risky.length || firstParty(app)) continue;
      const appName = String(app?.['displayName'] ?? g['clientId']);
      ev.add({
        control: 'APP.CONSENT.5', check: 'tenant-wide-grant-high-risk-scope', resource: { type: 'oauth2PermissionGrant', id: String(g['id']), name: `${appName} ← all users` },
        key: String(g['id']), status: 'violation', action: 'delete', patch: [{ op: 'remove', path: '' } as never],
        summary: `"${appName}" was consented for every user of the organisation to ${risky.join(', ')}; it can read or send the mail of anyone who signs in to it.`,
        evidence: { endpoint: '/oauth2PermissionGrants', readAt: ev.live.grants.readAt, live: { ...g, app: appLive(app) } },
        remediation: 'Revoke the grant, review the app and who consented it, and check the audit log for what it accessed.',
        scopes: appScopes(app, g['clientId']),
      });
    }
    const roles = new Map<string, { value: string; api: string }>();
    for (const r of perms.resources) {
      for (const role of (Array.isArray(r['appRoles']) ? r['appRoles'] : []) as Obj[]) roles.set(String(role['id']).toLowerCase(), { value: String(role['value']), api: String(r['displayName']) });
    }
    const riskyRoles = new Set(HIGH_RISK_MAIL_APP_ROLES.map((r) => r.toLowerCase()));
    const mailApiRoles = mailRoles(perms.resources);
    const declaredApps = ev.manifest.desired.mailApps?.apps;
    for (const a of perms.assignments) {
      if (String(a['principalType']) !== 'ServicePrincipal') continue;
      const role = roles.get(String(a['appRoleId']).toLowerCase());
      const app = appOf(a['principalId']);
      if (!role || !riskyRoles.has(role.value.toLowerCase()) || firstParty(app)) continue;
      // A permission the posture declares for the app (MailApplications) is governed by MAIL.APPS.1 to 3.
      if (declaresMailPermission(declaredApps, app?.['appId'], mailApiRoles.get(String(a['appRoleId']).toLowerCase()))) continue;
      const appName = String(app?.['displayName'] ?? a['principalDisplayName'] ?? a['principalId']);
      ev.add({
        control: 'APP.CONSENT.5', check: 'app-permission-high-risk', resource: { type: 'appRoleAssignment', id: String(a['id']), name: `${appName} → ${role.api} ${role.value}` },
        key: String(a['id']), status: 'violation', action: 'delete', patch: [{ op: 'remove', path: '' } as never],
        summary: `"${appName}" holds the application permission ${role.value} of ${role.api}: it can ${/send/i.test(role.value) ? 'send mail as' : 'read the mail of'} every mailbox without any user signing in.`,
        evidence: { endpoint: `/servicePrincipals/${String(a['resourceId'])}/appRoleAssignedTo`, readAt: ev.live.appPermissions.readAt, live: { ...a, permission: role.value, app: appLive(app) } },
        remediation: 'Remove the permission, rotate or remove the app\'s credentials, and review what it accessed in the audit log.',
        scopes: appScopes(app, a['principalId']),
      });
    }
  }

}
