import { badRequest, notFound } from '../../http/errors.js';
import type { Entity } from '../../tenant/collection.js';
import type { Tenant } from '../../tenant/tenant.js';
import { ctxUrl, graphEntity, obj, type RouteContext } from '../entity.js';

/*
 * The What If evaluation of conditional access (POST /identity/conditionalAccess/evaluate): each
 * policy of the tenant, as the policies collection shows it, with `policyApplies` and
 * `analysisReasons` for the sign-in described. Report-only policies are evaluated like enabled ones
 * (the service answers policyApplies true for them); a disabled one is `policyNotEnabled`.
 * `analysisReasons` is a flags enumeration: several reasons are one comma-separated string, in the
 * enumeration's order, and `notSet` when the policy applies.
 *
 * The conditions the simulator's policies carry are evaluated: users (direct group membership and
 * active role assignments), applications, client app types, user and sign-in risk, device platform.
 * Locations, device filters, insider risk and authentication flows are not modelled: a policy that
 * sets one does not apply, for that reason.
 */

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** whatIfAnalysisReasons, in the enumeration's order. */
const REASONS = [
  'notEnoughInformation', 'invalidCondition', 'users', 'workloadIdentities', 'application', 'userActions', 'authenticationContext', 'devicePlatform',
  'devices', 'clientApps', 'location', 'signInRisk', 'emptyPolicy', 'invalidPolicy', 'policyNotEnabled', 'userRisk', 'time', 'insiderRisk', 'authenticationFlow',
] as const;
type Reason = (typeof REASONS)[number];

const RISK = ['low', 'medium', 'high', 'hidden', 'none'];
const CLIENT_APPS = ['all', 'browser', 'mobileAppsAndDesktopClients', 'exchangeActiveSync', 'easSupported', 'other'];
const PLATFORMS = ['android', 'iOS', 'windows', 'windowsPhone', 'macOS', 'linux', 'all'];

const lower = (v: unknown): string[] => (Array.isArray(v) ? v.map((x) => String(x).toLowerCase()) : []);

/** The sign-in the request describes, checked as Graph checks it (400 for what it refuses). */
interface SignIn {
  readonly user: Entity;
  readonly apps?: readonly string[];
  readonly userAction?: string;
  readonly authContext?: string;
  readonly clientAppType: string;
  readonly userRiskLevel: string;
  readonly signInRiskLevel: string;
  readonly devicePlatform?: string;
}

function signInOf(c: RouteContext): SignIn {
  const body = obj(c.body);
  const identity = body['signInIdentity'];
  const context = body['signInContext'];
  const conditions = body['signInConditions'];
  if (!isObj(identity)) throw badRequest("Required parameter 'signInIdentity' is missing.");
  if (!isObj(context)) throw badRequest("Required parameter 'signInContext' is missing.");
  if (!isObj(conditions)) throw badRequest("Required parameter 'signInConditions' is missing.");
  if (identity['@odata.type'] !== '#microsoft.graph.userSignIn') throw badRequest(`Sign-in identity type '${String(identity['@odata.type'])}' is not supported.`);
  const userId = String(identity['userId'] ?? '');
  const user = c.tenant.graph.users.get(userId);
  if (!user) throw notFound(`Resource '${userId}' does not exist or one of its queried reference-property objects are not present.`, 'Request_ResourceNotFound');
  const enumOf = (name: string, allowed: readonly string[], fallback: string | undefined) => {
    const v = conditions[name];
    if (v === undefined || v === null) return fallback;
    if (typeof v !== 'string' || !allowed.some((a) => a.toLowerCase() === v.toLowerCase())) throw badRequest(`Requested value '${String(v)}' was not found for 'signInConditions.${name}'.`);
    return v.toLowerCase();
  };
  const base = {
    user,
    clientAppType: enumOf('clientAppType', CLIENT_APPS, 'all')!,
    userRiskLevel: enumOf('userRiskLevel', RISK, 'none')!,
    signInRiskLevel: enumOf('signInRiskLevel', RISK, 'none')!,
    ...(enumOf('devicePlatform', PLATFORMS, undefined) ? { devicePlatform: enumOf('devicePlatform', PLATFORMS, undefined)! } : {}),
  };
  switch (context['@odata.type']) {
    case '#microsoft.graph.applicationContext':
      if (!Array.isArray(context['includeApplications']) || context['includeApplications'].length === 0) throw badRequest("Required property 'includeApplications' of the application context is missing.");
      return { ...base, apps: context['includeApplications'].map((a) => String(a).toLowerCase()) };
    case '#microsoft.graph.userActionContext':
      return { ...base, userAction: String(context['userAction'] ?? '').toLowerCase() };
    case '#microsoft.graph.authContext':
      return { ...base, authContext: String(context['authenticationContextValue'] ?? '').toLowerCase() };
    default:
      throw badRequest(`Sign-in context type '${String(context['@odata.type'])}' is not supported.`);
  }
}

/** The user's direct groups and active directory roles (template ids). */
function memberships(tenant: Tenant, userId: string): { groups: Set<string>; roles: Set<string> } {
  const id = userId.toLowerCase();
  const groups = new Set<string>();
  for (const [group, members] of tenant.groupMembers) if (members.some((m) => m.toLowerCase() === id)) groups.add(group.toLowerCase());
  const roles = new Set(tenant.graph.roleAssignments.findBy('principalId', userId).map((a) => String(a['roleDefinitionId']).toLowerCase()));
  return { groups, roles };
}

/** Why a policy would not apply to the sign-in; none when it applies. */
export function whyNot(policy: Obj, s: SignIn, m: { groups: Set<string>; roles: Set<string> }): Reason[] {
  const reasons = new Set<Reason>();
  if (policy['state'] === 'disabled') reasons.add('policyNotEnabled');
  const c = isObj(policy['conditions']) ? policy['conditions'] : {};
  const users = isObj(c['users']) ? c['users'] : {};
  const uid = String(s.user.id).toLowerCase();
  const included = lower(users['includeUsers']).some((u) => u === 'all' || u === uid) || lower(users['includeGroups']).some((g) => m.groups.has(g)) || lower(users['includeRoles']).some((r) => m.roles.has(r));
  const excluded = lower(users['excludeUsers']).includes(uid) || lower(users['excludeGroups']).some((g) => m.groups.has(g)) || lower(users['excludeRoles']).some((r) => m.roles.has(r));
  if (!included || excluded) reasons.add('users');

  const apps = isObj(c['applications']) ? c['applications'] : {};
  if (s.apps) {
    const include = lower(apps['includeApplications']);
    const exclude = lower(apps['excludeApplications']);
    const covers = s.apps.every((a) => (include.includes('all') || include.includes(a)) && !exclude.includes(a));
    if (!covers) reasons.add('application');
  } else if (s.userAction !== undefined) {
    if (!lower(apps['includeUserActions']).includes(s.userAction)) reasons.add('userActions');
  } else if (!lower(apps['includeAuthenticationContextClassReferences']).includes(s.authContext ?? '')) reasons.add('authenticationContext');

  const clientApps = lower(c['clientAppTypes']);
  if (clientApps.length && !clientApps.includes('all') && !clientApps.includes(s.clientAppType.toLowerCase())) reasons.add('clientApps');
  const userRisk = lower(c['userRiskLevels']);
  if (userRisk.length && !userRisk.includes(s.userRiskLevel)) reasons.add('userRisk');
  const signInRisk = lower(c['signInRiskLevels']);
  if (signInRisk.length && !signInRisk.includes(s.signInRiskLevel)) reasons.add('signInRisk');

  const platforms = isObj(c['platforms']) ? c['platforms'] : undefined;
  if (platforms) {
    const include = lower(platforms['includePlatforms']);
    const exclude = lower(platforms['excludePlatforms']);
    if (!s.devicePlatform) reasons.add('notEnoughInformation');
    else if (!(include.includes('all') || include.includes(s.devicePlatform)) || exclude.includes(s.devicePlatform)) reasons.add('devicePlatform');
  }
  if (isObj(c['locations'])) reasons.add('location');
  if (isObj(c['devices'])) reasons.add('devices');
  if (c['insiderRiskLevels']) reasons.add('insiderRisk');
  if (isObj(c['authenticationFlows'])) reasons.add('authenticationFlow');
  return REASONS.filter((r) => reasons.has(r));
}

/** Conditional access What If evaluation (Microsoft Entra ID P1). */
export const conditionalAccessEvaluate = graphEntity({
  name: 'conditionalAccessEvaluate',
  throttle: 'conditional-access',
  licence: 'AAD_PREMIUM',
  permissions: {
    read: ['Policy.Read.ConditionalAccess', 'Policy.Read.All', 'Policy.ReadWrite.ConditionalAccess'],
  },
  routes: [
    {
      method: 'POST', pattern: '/identity/conditionalAccess/evaluate', permission: 'read',
      handle: (c) => {
        const s = signInOf(c);
        const appliedOnly = obj(c.body)['appliedPoliciesOnly'] === true;
        const m = memberships(c.tenant, String(s.user.id));
        const value = [...c.tenant.graph.conditionalAccessPolicies.values()].flatMap((p) => {
          const reasons = whyNot(p, s, m);
          if (appliedOnly && reasons.length) return [];
          return [{ ...p, policyApplies: reasons.length === 0, analysisReasons: reasons.length ? reasons.join(',') : 'notSet' }];
        });
        return { status: 200, body: { '@odata.context': ctxUrl(c, 'Collection(microsoft.graph.whatIfAnalysisResult)'), value } };
      },
    },
  ],
});
