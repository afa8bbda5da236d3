import type { GraphCollectionName } from '../tenant/tenant.js';
import type { GraphEntity, Route, StateSlot } from './entity.js';
import { adminConsentRequestPolicy } from './entities/admin-consent-request-policy.js';
import { analyzedEmails } from './entities/analyzed-emails.js';
import { appRoleAssignments } from './entities/app-role-assignments.js';
import { applications } from './entities/applications.js';
import { auditLogQueries } from './entities/audit-log-queries.js';
import { authenticationMethods } from './entities/authentication-methods.js';
import { authenticationMethodsPolicy } from './entities/authentication-methods-policy.js';
import { authenticationStrengthPolicies } from './entities/authentication-strength-policies.js';
import { authorizationPolicy } from './entities/authorization-policy.js';
import { calendarEvents } from './entities/calendar-events.js';
import { calendarPermissions } from './entities/calendar-permissions.js';
import { conditionalAccessEvaluate } from './entities/conditional-access-evaluate.js';
import { conditionalAccessPolicies } from './entities/conditional-access-policies.js';
import { domains } from './entities/domains.js';
import { groups } from './entities/groups.js';
import { messageRules } from './entities/message-rules.js';
import { messageTraces } from './entities/message-traces.js';
import { namedLocations } from './entities/named-locations.js';
import { oauth2PermissionGrants } from './entities/oauth2-permission-grants.js';
import { permissionGrantPolicies } from './entities/permission-grant-policies.js';
import { riskDetections } from './entities/risk-detections.js';
import { riskyUsers } from './entities/risky-users.js';
import { roleAssignments } from './entities/role-assignments.js';
import { roleEligibilitySchedules } from './entities/role-eligibility.js';
import { securityAlerts } from './entities/security-alerts.js';
import { servicePrincipals } from './entities/service-principals.js';
import { userRegistrationDetails } from './entities/user-registration-details.js';
import { users } from './entities/users.js';

export type { Route, RouteContext, ThrottleClass } from './entity.js';

/** The Graph entities the simulator serves, one line each (graph/entities/<entity>.ts). */
export const GRAPH_ENTITIES = [
  conditionalAccessPolicies,
  conditionalAccessEvaluate,
  authenticationStrengthPolicies,
  namedLocations,
  authorizationPolicy,
  adminConsentRequestPolicy,
  permissionGrantPolicies,
  oauth2PermissionGrants,
  servicePrincipals,
  appRoleAssignments,
  applications,
  domains,
  users,
  groups,
  roleAssignments,
  roleEligibilitySchedules,
  messageRules,
  riskyUsers,
  riskDetections,
  securityAlerts,
  authenticationMethods,
  authenticationMethodsPolicy,
  userRegistrationDetails,
  analyzedEmails,
  messageTraces,
  calendarEvents,
  calendarPermissions,
  auditLogQueries,
] as const;

// Every collection an entity module declares in GraphCollections must be registered above: a module
// left out of the list fails to compile here, naming the collection.
type Registered = (typeof GRAPH_ENTITIES)[number] extends infer E ? (E extends GraphEntity<infer C> ? C : never) : never;
type Unregistered = Exclude<GraphCollectionName, Registered>;
const everyCollectionRegistered: [Unregistered] extends [never] ? true : Unregistered = true;
void everyCollectionRegistered;

/** Graph collections the simulator serves, by scenario key. */
export const GRAPH_COLLECTIONS: readonly GraphCollectionName[] = GRAPH_ENTITIES.flatMap((e: GraphEntity) => (e.collection ? [e.collection.name] : []));

/** Tenant state of the entities that is not a collection (singleton policies, inbox rules, group members). */
export const GRAPH_STATE: readonly StateSlot[] = GRAPH_ENTITIES.flatMap((e: GraphEntity) => (e.state ? [e.state] : []));

/** Application permissions that each entity's routes accept (any one of a list suffices), by entity. */
export const GRAPH_PERMISSIONS: Readonly<Record<string, GraphEntity['permissions']>> = Object.fromEntries(GRAPH_ENTITIES.map((e) => [e.name, e.permissions]));

/** Every permission the simulator knows, for tokens that should be able to do everything. */
export const ALL_GRAPH_PERMISSIONS: string[] = [...new Set(GRAPH_ENTITIES.flatMap((e: GraphEntity) => Object.values(e.permissions).flat()))].sort();

/** The Graph routes the simulator serves. */
export const GRAPH_ROUTES: readonly Route[] = GRAPH_ENTITIES.flatMap((e: GraphEntity) => e.routes);

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
