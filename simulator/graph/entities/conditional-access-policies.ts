import { randomUUID } from 'node:crypto';
import { badRequest, notFound } from '../../http/errors.js';
import type { Collection, Entity } from '../../tenant/collection.js';
import type { Tenant } from '../../tenant/tenant.js';
import { renderStrength, strengthById } from './authentication-strength-policies.js';
import { ctxUrl, getOne, graphEntity, list, mergePatch, obj, type RouteContext } from '../entity.js';

declare module '../../tenant/tenant.js' {
  interface GraphCollections {
    conditionalAccessPolicies: Collection;
  }
}

/*
 * Validation and server-side defaults of conditional access policies, as Microsoft Graph applies
 * them on POST and PATCH. A created policy comes back with read-only fields and nulls/empty arrays
 * the client never sent: the normalisation the reconciler must do is exercised here.
 */
const STATES = ['enabled', 'disabled', 'enabledForReportingButNotEnforced'];
const RISK = ['low', 'medium', 'high', 'hidden', 'none', 'unknownFutureValue'];
const CLIENT_APPS = ['all', 'browser', 'mobileAppsAndDesktopClients', 'exchangeActiveSync', 'easSupported', 'other', 'unknownFutureValue'];
const GRANTS = ['block', 'mfa', 'compliantDevice', 'domainJoinedDevice', 'approvedApplication', 'compliantApplication', 'passwordChange', 'unknownFutureValue'];
const OPERATORS = ['AND', 'OR'];
const SIF_INTERVALS = ['timeBased', 'everyTime', 'unknownFutureValue'];
const SIF_AUTH = ['primaryAndSecondaryAuthentication', 'secondaryAuthentication', 'unknownFutureValue'];
const SIF_TYPES = ['days', 'hours'];

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

function enumList(path: string, v: unknown, allowed: readonly string[]): void {
  if (v === undefined || v === null) return;
  if (!Array.isArray(v)) throw badRequest(`Invalid value for '${path}': expected a collection.`);
  for (const x of v) {
    if (typeof x !== 'string' || !allowed.includes(x)) {
      throw badRequest(`Requested value '${String(x)}' was not found for '${path}'. Allowed values: ${allowed.join(', ')}.`);
    }
  }
}

function enumOne(path: string, v: unknown, allowed: readonly string[]): void {
  if (v === undefined || v === null) return;
  if (typeof v !== 'string' || !allowed.includes(v)) throw badRequest(`Requested value '${String(v)}' was not found for '${path}'.`);
}

/** Applies Graph's defaults to a policy: every property present, nulls and empty arrays where unset. */
function withServerDefaults(p: Obj): Obj {
  const c = isObj(p['conditions']) ? p['conditions'] : {};
  const users = isObj(c['users']) ? c['users'] : {};
  const apps = isObj(c['applications']) ? c['applications'] : {};
  const grant = isObj(p['grantControls']) ? p['grantControls'] : null;
  const session = isObj(p['sessionControls']) ? p['sessionControls'] : null;
  const sif = session && isObj(session['signInFrequency']) ? session['signInFrequency'] : null;
  return {
    id: p['id'],
    templateId: null,
    displayName: p['displayName'],
    createdDateTime: p['createdDateTime'] ?? null,
    modifiedDateTime: p['modifiedDateTime'] ?? null,
    state: p['state'],
    sessionControls: session
      ? {
          disableResilienceDefaults: session['disableResilienceDefaults'] ?? null,
          applicationEnforcedRestrictions: session['applicationEnforcedRestrictions'] ?? null,
          cloudAppSecurity: session['cloudAppSecurity'] ?? null,
          persistentBrowser: session['persistentBrowser'] ?? null,
          continuousAccessEvaluation: session['continuousAccessEvaluation'] ?? null,
          secureSignInSession: session['secureSignInSession'] ?? null,
          signInFrequency: sif
            ? {
                value: sif['value'] ?? null,
                type: sif['type'] ?? null,
                authenticationType: sif['authenticationType'] ?? 'primaryAndSecondaryAuthentication',
                frequencyInterval: sif['frequencyInterval'] ?? 'timeBased',
                isEnabled: sif['isEnabled'] ?? true,
              }
            : null,
        }
      : null,
    conditions: {
      userRiskLevels: c['userRiskLevels'] ?? [],
      signInRiskLevels: c['signInRiskLevels'] ?? [],
      clientAppTypes: c['clientAppTypes'] ?? ['all'],
      servicePrincipalRiskLevels: c['servicePrincipalRiskLevels'] ?? [],
      insiderRiskLevels: c['insiderRiskLevels'] ?? null,
      platforms: c['platforms'] ?? null,
      locations: c['locations'] ?? null,
      devices: c['devices'] ?? null,
      clientApplications: c['clientApplications'] ?? null,
      authenticationFlows: c['authenticationFlows'] ?? null,
      applications: {
        includeApplications: apps['includeApplications'] ?? [],
        excludeApplications: apps['excludeApplications'] ?? [],
        includeUserActions: apps['includeUserActions'] ?? [],
        includeAuthenticationContextClassReferences: apps['includeAuthenticationContextClassReferences'] ?? [],
        applicationFilter: apps['applicationFilter'] ?? null,
      },
      users: {
        includeUsers: users['includeUsers'] ?? [],
        excludeUsers: users['excludeUsers'] ?? [],
        includeGroups: users['includeGroups'] ?? [],
        excludeGroups: users['excludeGroups'] ?? [],
        includeRoles: users['includeRoles'] ?? [],
        excludeRoles: users['excludeRoles'] ?? [],
        includeGuestsOrExternalUsers: users['includeGuestsOrExternalUsers'] ?? null,
        excludeGuestsOrExternalUsers: users['excludeGuestsOrExternalUsers'] ?? null,
      },
    },
    grantControls: grant
      ? {
          operator: grant['operator'] ?? 'OR',
          builtInControls: grant['builtInControls'] ?? [],
          customAuthenticationFactors: grant['customAuthenticationFactors'] ?? [],
          termsOfUse: grant['termsOfUse'] ?? [],
          // Stored as the reference a request makes; answers expand it (renderCaPolicy).
          authenticationStrength: isObj(grant['authenticationStrength']) ? { id: grant['authenticationStrength']['id'] } : null,
        }
      : null,
  };
}

const READ_ONLY = ['id', 'createdDateTime', 'modifiedDateTime', 'templateId'];

/** Validates a complete policy (after defaults), throwing 400 like Graph for what it would refuse. */
function validatePolicy(p: Obj, tenant: Tenant): void {
  if (typeof p['displayName'] !== 'string' || !p['displayName'].trim()) throw badRequest("Required property 'displayName' is missing or empty.");
  enumOne('state', p['state'], STATES);
  if (!p['state']) throw badRequest("Required property 'state' is missing.");
  const c = p['conditions'] as Obj;
  const users = c['users'] as Obj;
  const apps = c['applications'] as Obj;
  const included = ['includeUsers', 'includeGroups', 'includeRoles'].some((k) => (users[k] as unknown[]).length > 0) || users['includeGuestsOrExternalUsers'];
  if (!included) throw badRequest('1037: Invalid conditions. Users condition must include at least one user, group, role or guest type.');
  if ((apps['includeApplications'] as unknown[]).length === 0 && (apps['includeUserActions'] as unknown[]).length === 0 && (apps['includeAuthenticationContextClassReferences'] as unknown[]).length === 0) {
    throw badRequest('1037: Invalid conditions. Applications condition must include applications, user actions or authentication contexts.');
  }
  enumList('conditions.userRiskLevels', c['userRiskLevels'], RISK);
  enumList('conditions.signInRiskLevels', c['signInRiskLevels'], RISK);
  enumList('conditions.clientAppTypes', c['clientAppTypes'], CLIENT_APPS);
  const grant = p['grantControls'] as Obj | null;
  const session = p['sessionControls'] as Obj | null;
  if (grant) {
    enumOne('grantControls.operator', grant['operator'], OPERATORS);
    enumList('grantControls.builtInControls', grant['builtInControls'], GRANTS);
    const controls = grant['builtInControls'] as string[];
    const strength = grant['authenticationStrength'] as Obj | null;
    if (strength) {
      if (typeof strength['id'] !== 'string' || !strengthById(tenant, strength['id'])) throw badRequest(`1040: Invalid grant controls. Authentication strength policy '${String(strength['id'])}' does not exist.`);
      if (controls.includes('mfa')) throw badRequest('1040: Invalid grant controls. Multifactor authentication and authentication strength cannot be required together.');
      if (controls.includes('block')) throw badRequest('1040: Invalid grant controls. Block cannot be combined with other controls.');
    }
    if (controls.includes('block') && controls.length > 1) throw badRequest('1040: Invalid grant controls. Block cannot be combined with other controls.');
    if (controls.includes('passwordChange')) {
      if ((c['userRiskLevels'] as unknown[]).length === 0) throw badRequest('1040: Invalid grant controls. Password change requires a user risk condition.');
      if (grant['operator'] !== 'AND' || !controls.includes('mfa')) throw badRequest('1040: Invalid grant controls. Password change must be combined with MFA using AND.');
    }
  }
  const sif = session?.['signInFrequency'] as Obj | null | undefined;
  if (sif) {
    enumOne('sessionControls.signInFrequency.frequencyInterval', sif['frequencyInterval'], SIF_INTERVALS);
    enumOne('sessionControls.signInFrequency.authenticationType', sif['authenticationType'], SIF_AUTH);
    enumOne('sessionControls.signInFrequency.type', sif['type'], SIF_TYPES);
    if (sif['frequencyInterval'] === 'everyTime') {
      const risky = (c['userRiskLevels'] as unknown[]).length > 0 || (c['signInRiskLevels'] as unknown[]).length > 0;
      if (!risky) throw badRequest('1046: Invalid session controls. Sign-in frequency every time requires a user risk or sign-in risk condition.');
      if (sif['value'] !== null || sif['type'] !== null) throw badRequest('1046: Invalid session controls. Sign-in frequency every time takes no value or type.');
    } else if (sif['isEnabled'] && (typeof sif['value'] !== 'number' || !sif['type'])) {
      throw badRequest('1046: Invalid session controls. Time-based sign-in frequency needs a value and a type.');
    }
  }
  const controlsSet = grant && ((grant['builtInControls'] as unknown[]).length > 0 || grant['authenticationStrength']);
  const sessionSet = session && Object.values(session).some((v) => v !== null && v !== undefined);
  if (!controlsSet && !sessionSet) throw badRequest('1038: Invalid policy. A policy needs grant controls or session controls.');
}

/** A new policy from a POST body: read-only fields refused, defaults applied, validated. */
function createPolicy(body: Obj, tenant: Tenant, now = new Date()): Obj {
  for (const k of READ_ONLY) if (k in body && k !== 'id') throw badRequest(`Property '${k}' is read-only and cannot be set.`);
  if (!isObj(body['conditions'])) throw badRequest("Required property 'conditions' is missing.");
  const stamp = now.toISOString();
  const policy = withServerDefaults({ ...body, id: randomUUID(), createdDateTime: stamp, modifiedDateTime: null });
  validatePolicy(policy, tenant);
  return policy;
}

/** A PATCH: partial update, validated as a whole. */
function patchPolicy(existing: Obj, body: Obj, tenant: Tenant, now = new Date()): Obj {
  for (const k of READ_ONLY) if (k in body) throw badRequest(`Property '${k}' is read-only and cannot be updated.`);
  const merged = withServerDefaults({ ...mergePatch(existing, body), modifiedDateTime: now.toISOString() });
  validatePolicy(merged, tenant);
  return merged;
}

/** The strength a policy references, expanded as Graph answers it (the whole strength, not the reference). */
function expanded(c: RouteContext, ref: unknown): unknown {
  if (!isObj(ref) || typeof ref['id'] !== 'string') return null;
  const s = strengthById(c.tenant, ref['id']);
  return s ? renderStrength(c, s) : { id: ref['id'] };
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
      authenticationStrength: expanded(c, authenticationStrength),
    },
  };
}

/** Conditional access policies (Microsoft Entra ID P1). */
export const conditionalAccessPolicies = graphEntity({
  name: 'conditionalAccessPolicies',
  collection: { name: 'conditionalAccessPolicies' },
  throttle: 'conditional-access',
  licence: 'AAD_PREMIUM',
  permissions: {
    read: ['Policy.Read.All', 'Policy.ReadWrite.ConditionalAccess'],
    write: ['Policy.ReadWrite.ConditionalAccess'],
  },
  routes: [
    { method: 'GET', pattern: '/identity/conditionalAccess/policies', permission: 'read', handle: (c) => list('conditionalAccessPolicies', 'identity/conditionalAccess/policies', { typeName: 'microsoft.graph.conditionalAccessPolicy', filterable: ['displayName', 'state'], render: (p) => renderCaPolicy(c, p) })(c) },
    { method: 'GET', pattern: '/identity/conditionalAccess/policies/{id}', permission: 'read', handle: getOne('conditionalAccessPolicies', 'identity/conditionalAccess/policies', undefined, renderCaPolicy) },
    {
      method: 'POST', pattern: '/identity/conditionalAccess/policies', permission: 'write',
      handle: (c) => {
        const policy = createPolicy(obj(c.body), c.tenant) as Entity;
        c.tenant.graph.conditionalAccessPolicies.insert(policy);
        return { status: 201, headers: { Location: `${c.baseUrl}/${c.version}/identity/conditionalAccess/policies/${policy.id}` }, body: { '@odata.context': ctxUrl(c, 'identity/conditionalAccess/policies/$entity'), ...renderCaPolicy(c, policy) } };
      },
    },
    {
      method: 'PATCH', pattern: '/identity/conditionalAccess/policies/{id}', permission: 'write',
      handle: (c) => {
        const existing = c.tenant.graph.conditionalAccessPolicies.get(c.params['id']!);
        if (!existing) throw notFound(`Policy '${c.params['id']}' was not found.`, 'ResourceNotFound');
        c.tenant.graph.conditionalAccessPolicies.replace(existing.id, patchPolicy(existing, obj(c.body), c.tenant) as Entity);
        return { status: 204 };
      },
    },
    {
      method: 'DELETE', pattern: '/identity/conditionalAccess/policies/{id}', permission: 'write',
      handle: (c) => {
        if (!c.tenant.graph.conditionalAccessPolicies.remove(c.params['id']!)) throw notFound(`Policy '${c.params['id']}' was not found.`, 'ResourceNotFound');
        return { status: 204 };
      },
    },
  ],
});
