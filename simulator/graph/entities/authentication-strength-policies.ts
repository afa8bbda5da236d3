import type { Collection, Entity } from '../../tenant/collection.js';
import type { Tenant } from '../../tenant/tenant.js';
import { listPage } from '../odata.js';
import { ctxUrl, graphEntity, resourceNotFound, type RouteContext } from '../entity.js';

declare module '../../tenant/tenant.js' {
  interface GraphCollections {
    /** The tenant's custom authentication strengths; the built-in ones are always there besides them. */
    authenticationStrengthPolicies: Collection;
  }
}

const MFA = [
  'windowsHelloForBusiness', 'fido2', 'x509CertificateMultiFactor', 'deviceBasedPush', 'temporaryAccessPassOneTime', 'temporaryAccessPassMultiUse',
  'password,microsoftAuthenticatorPush', 'password,softwareOath', 'password,hardwareOath', 'password,sms', 'password,voice', 'federatedMultiFactor',
  'microsoftAuthenticatorPush,federatedSingleFactor', 'softwareOath,federatedSingleFactor', 'hardwareOath,federatedSingleFactor',
  'sms,federatedSingleFactor', 'voice,federatedSingleFactor',
];

const builtIn = (n: number, displayName: string, description: string, allowedCombinations: string[]): Entity => ({
  id: `00000000-0000-0000-0000-00000000000${n}`,
  createdDateTime: '2021-12-01T00:00:00Z',
  modifiedDateTime: '2021-12-01T00:00:00Z',
  displayName,
  description,
  policyType: 'builtIn',
  requirementsSatisfied: 'mfa',
  allowedCombinations,
  combinationConfigurations: [],
});

/** The three strengths every tenant has, as Graph lists them; they cannot be changed or deleted. */
export const BUILT_IN_STRENGTHS: readonly Entity[] = [
  builtIn(2, 'Multifactor authentication', 'Combinations of methods that satisfy strong authentication, such as a password + SMS', MFA),
  builtIn(3, 'Passwordless MFA', 'Passwordless methods that satisfy strong authentication, such as Passwordless sign-in with the Microsoft Authenticator', ['windowsHelloForBusiness', 'fido2', 'x509CertificateMultiFactor', 'deviceBasedPush']),
  builtIn(4, 'Phishing-resistant MFA', 'Phishing-resistant, Passwordless methods for the strongest authentication, such as a FIDO2 security key', ['windowsHelloForBusiness', 'fido2', 'x509CertificateMultiFactor']),
];

/** Every strength of the tenant: the built-in ones, then the custom ones. */
const strengths = (tenant: Tenant): Entity[] => [...BUILT_IN_STRENGTHS, ...tenant.graph.authenticationStrengthPolicies.values()];

/** A strength of the tenant by id (built-in or custom). */
export const strengthById = (tenant: Tenant, id: string): Entity | undefined => strengths(tenant).find((s) => s.id.toLowerCase() === id.toLowerCase());

const FRAGMENT = 'identity/conditionalAccess/authenticationStrength/policies';

/** A strength as Graph shows it: its combination configurations with their context annotation. */
export const renderStrength = (c: RouteContext, s: Entity): Record<string, unknown> => {
  const { combinationConfigurations, ...rest } = s;
  return { ...rest, 'combinationConfigurations@odata.context': ctxUrl(c, `${FRAGMENT}('${s.id}')/combinationConfigurations`), combinationConfigurations: combinationConfigurations ?? [] };
};

/** Authentication strengths of conditional access (Microsoft Entra ID P1): read-only here. */
export const authenticationStrengthPolicies = graphEntity({
  name: 'authenticationStrengthPolicies',
  collection: { name: 'authenticationStrengthPolicies' },
  throttle: 'identity',
  licence: 'AAD_PREMIUM',
  permissions: {
    read: ['Policy.Read.All', 'Policy.ReadWrite.ConditionalAccess', 'Policy.ReadWrite.AuthenticationMethod'],
  },
  routes: [
    {
      method: 'GET', pattern: `/${FRAGMENT}`, permission: 'read', cost: 1,
      handle: (c) => listPage(strengths(c.tenant), c.query, {
        defaultTop: 100, maxTop: 999, requestUrl: c.requestUrl, context: ctxUrl(c, FRAGMENT), loopNextLink: c.loopNextLink,
        typeName: 'microsoft.graph.authenticationStrengthPolicy', filterable: ['policyType', 'displayName'], render: (s) => renderStrength(c, s),
      }),
    },
    {
      method: 'GET', pattern: `/${FRAGMENT}/{id}`, permission: 'read', cost: 1,
      handle: (c) => {
        const s = strengthById(c.tenant, c.params['id']!);
        if (!s) throw resourceNotFound(c.params['id']!);
        return { status: 200, body: { '@odata.context': ctxUrl(c, `${FRAGMENT}/$entity`), ...renderStrength(c, s) } };
      },
    },
  ],
});
