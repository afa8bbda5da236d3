import { z } from 'zod';
import { badRequest, notFound, type SimResponse } from '../../http/errors.js';
import { ctxUrl, graphEntity, obj, slot, type RouteContext } from '../entity.js';

type Obj = Record<string, unknown>;

declare module '../../tenant/tenant.js' {
  interface GraphScenarioState {
    authenticationMethodsPolicy: Record<string, unknown>;
  }
  interface TenantSlots {
    /** The tenant's one authentication methods policy, its method configurations inline. */
    authenticationMethodsPolicy: Record<string, unknown>;
  }
}

const allUsers = (extra: Obj = {}) => [{ targetType: 'group', id: 'all_users', isRegistrationRequired: false, ...extra }];
const config = (type: string, id: string, state: 'enabled' | 'disabled', rest: Obj = {}, targets: Obj[] | null = allUsers()): Obj => ({
  '@odata.type': `#microsoft.graph.${type}AuthenticationMethodConfiguration`,
  id,
  state,
  excludeTargets: [],
  ...rest,
  ...(targets ? { includeTargets: targets } : {}),
});

/**
 * The authentication methods policy a tenant starts with: the Authenticator app and email one-time
 * passcodes enabled, everything else (FIDO2, SMS, voice, OATH, Temporary Access Pass, certificates)
 * disabled until an administrator turns it on.
 */
export const DEFAULT_AUTHENTICATION_METHODS_POLICY: Obj = {
  id: 'authenticationMethodsPolicy',
  displayName: 'Authentication Methods Policy',
  description: 'The tenant-wide policy that controls which authentication methods are allowed in the tenant, authentication method registration requirements, and self-service password reset settings',
  lastModifiedDateTime: '2025-01-06T09:00:00Z',
  policyVersion: '1.5',
  policyMigrationState: 'migrationComplete',
  reconfirmationInDays: null,
  registrationEnforcement: {
    authenticationMethodsRegistrationCampaign: {
      snoozeDurationInDays: 1,
      enforceRegistrationAfterAllowedSnoozes: true,
      state: 'default',
      excludeTargets: [],
      includeTargets: [{ id: 'all_users', targetType: 'group', targetedAuthenticationMethod: 'microsoftAuthenticator' }],
    },
  },
  authenticationMethodConfigurations: [
    config('fido2', 'Fido2', 'disabled', { isSelfServiceRegistrationAllowed: true, isAttestationEnforced: false, keyRestrictions: { isEnforced: false, enforcementType: 'block', aaGuids: [] } }),
    config('microsoftAuthenticator', 'MicrosoftAuthenticator', 'enabled', { isSoftwareOathEnabled: false }, allUsers({ authenticationMode: 'any' })),
    config('sms', 'Sms', 'disabled', {}, allUsers({ isUsableForSignIn: true })),
    config('temporaryAccessPass', 'TemporaryAccessPass', 'disabled', { defaultLifetimeInMinutes: 60, defaultLength: 8, minimumLifetimeInMinutes: 60, maximumLifetimeInMinutes: 480, isUsableOnce: false }),
    config('softwareOath', 'SoftwareOath', 'disabled'),
    config('hardwareOath', 'HardwareOath', 'disabled'),
    config('email', 'Email', 'enabled', { allowExternalIdToUseEmailOtp: 'default' }, []),
    config('voice', 'Voice', 'disabled', { isOfficePhoneAllowed: false }),
    config('x509Certificate', 'X509Certificate', 'disabled', { certificateUserBindings: [], authenticationModeConfiguration: { x509CertificateAuthenticationDefaultMode: 'x509CertificateSingleFactor', rules: [] } }),
  ],
};

const FRAGMENT = 'policies/authenticationMethodsPolicy';
const configsOf = (c: RouteContext): Obj[] => (c.tenant.authenticationMethodsPolicy['authenticationMethodConfigurations'] as Obj[] | undefined) ?? [];

function findConfig(c: RouteContext): Obj {
  const id = c.params['id']!;
  const found = configsOf(c).find((m) => String(m['id']).toLowerCase() === id.toLowerCase());
  if (!found) throw notFound(`Authentication method configuration '${id}' was not found.`, 'ResourceNotFound');
  return found;
}

const renderConfig = (c: RouteContext, m: Obj): Obj => ({ ...m, ...(m['includeTargets'] ? { 'includeTargets@odata.context': ctxUrl(c, `${FRAGMENT}/authenticationMethodConfigurations('${String(m['id'])}')/microsoft.graph.${String(m['@odata.type']).replace(/^#microsoft\.graph\./, '')}/includeTargets`) } : {}) });

/** A PATCH of one method configuration: its derived type named, state enabled or disabled, only properties it has. */
function patchConfig(c: RouteContext): SimResponse {
  const existing = findConfig(c);
  const body = obj(c.body);
  if (body['@odata.type'] === undefined) throw badRequest("A type named '@odata.type' must be given for the derived type of authenticationMethodConfiguration.", 'badRequest');
  if (String(body['@odata.type']).replace(/^#/, '').toLowerCase() !== String(existing['@odata.type']).replace(/^#/, '').toLowerCase()) {
    throw badRequest(`The type '${String(body['@odata.type'])}' is not the type of authentication method configuration '${String(existing['id'])}'.`, 'badRequest');
  }
  for (const k of Object.keys(body)) {
    if (k === '@odata.type') continue;
    if (k === 'id') throw badRequest("Property 'id' is read-only and cannot be updated.", 'badRequest');
    if (!(k in existing)) throw badRequest(`Property '${k}' does not exist on type '${String(existing['@odata.type']).replace(/^#/, '')}'.`, 'badRequest');
  }
  if (body['state'] !== undefined && body['state'] !== 'enabled' && body['state'] !== 'disabled') throw badRequest(`Requested value '${String(body['state'])}' was not found for 'state'.`, 'badRequest');
  const { '@odata.type': _type, ...changes } = body;
  const next = { ...existing, ...changes };
  c.tenant.authenticationMethodsPolicy = {
    ...c.tenant.authenticationMethodsPolicy,
    lastModifiedDateTime: c.tenant.clock.iso(),
    authenticationMethodConfigurations: configsOf(c).map((m) => (m === existing ? next : m)),
  };
  return { status: 204 };
}

/** The authentication methods policy: which methods users may register and sign in with. */
export const authenticationMethodsPolicy = graphEntity({
  name: 'authenticationMethodsPolicy',
  state: slot({
    key: 'authenticationMethodsPolicy',
    schema: z.record(z.string(), z.unknown()).default(() => structuredClone(DEFAULT_AUTHENTICATION_METHODS_POLICY)),
    property: 'authenticationMethodsPolicy',
    init: (value) => value,
  }),
  throttle: 'identity',
  permissions: {
    read: ['Policy.Read.AuthenticationMethod', 'Policy.ReadWrite.AuthenticationMethod'],
    write: ['Policy.ReadWrite.AuthenticationMethod'],
  },
  routes: [
    {
      method: 'GET', pattern: `/${FRAGMENT}`, permission: 'read', cost: 1,
      handle: (c) => ({
        status: 200,
        body: {
          '@odata.context': ctxUrl(c, 'authenticationMethodsPolicy'),
          ...c.tenant.authenticationMethodsPolicy,
          'authenticationMethodConfigurations@odata.context': ctxUrl(c, `${FRAGMENT}/authenticationMethodConfigurations`),
          authenticationMethodConfigurations: configsOf(c).map((m) => renderConfig(c, m)),
        },
      }),
    },
    {
      method: 'GET', pattern: `/${FRAGMENT}/authenticationMethodConfigurations/{id}`, permission: 'read', cost: 1,
      handle: (c) => ({ status: 200, body: { '@odata.context': ctxUrl(c, `${FRAGMENT}/authenticationMethodConfigurations/$entity`), ...renderConfig(c, findConfig(c)) } }),
    },
    { method: 'PATCH', pattern: `/${FRAGMENT}/authenticationMethodConfigurations/{id}`, permission: 'write', cost: 3, handle: patchConfig },
  ],
});
