import { randomUUID, X509Certificate } from 'node:crypto';
import { thumbprints } from './certificates.js';

/**
 * What the identity endpoint knows about the principals that sign in: application registrations
 * (with their secrets, certificates and federated identity credentials) and managed identities,
 * each with the application permissions granted to its service principal per API and the directory
 * roles assigned to it. These are the simulator's sign-in side only; the Graph directory of the
 * scenario is not changed by them.
 */

/** The APIs tokens are issued for, by the resource identifier a `/.default` scope names. */
export const RESOURCES = [
  { api: 'graph', uri: 'https://graph.microsoft.com', appId: '00000003-0000-0000-c000-000000000000', displayName: 'Microsoft Graph' },
  { api: 'exchange', uri: 'https://outlook.office365.com', appId: '00000002-0000-0ff1-ce00-000000000000', displayName: 'Office 365 Exchange Online' },
] as const;
export type Resource = (typeof RESOURCES)[number];
export type ApiName = Resource['api'];

/** The audience Entra ID expects in a federated assertion. */
export const TOKEN_EXCHANGE_AUDIENCE = 'api://AzureADTokenExchange';

/** Application permissions per API, and directory roles (template ids, the `wids` claim). */
export interface Grants {
  readonly roles?: { readonly graph?: readonly string[]; readonly exchange?: readonly string[] };
  readonly directoryRoles?: readonly string[];
}

export interface FederatedCredential {
  readonly name: string;
  readonly issuer: string;
  readonly subject: string;
  readonly audiences: readonly string[];
}

export interface AppRegistration extends Grants {
  /** The application (client) id. */
  readonly clientId: string;
  readonly displayName?: string;
  /** Object id of the app's service principal (the token's `oid`). */
  readonly servicePrincipalId?: string;
  /** Client secrets; `endDateTime` (ISO) makes one expire. */
  readonly secrets?: ReadonlyArray<{ readonly value: string; readonly endDateTime?: string }>;
  /** Uploaded certificates (PEM); valid for the certificate's own validity unless the dates say otherwise. */
  readonly certificates?: ReadonlyArray<{ readonly certificatePem: string; readonly startDateTime?: string; readonly endDateTime?: string }>;
  readonly federatedCredentials?: readonly FederatedCredential[];
}

export interface ManagedIdentityRegistration extends Grants {
  /** `system`: the hosting resource's own identity; `user`: a user-assigned identity, chosen by client id. */
  readonly kind: 'system' | 'user';
  readonly clientId: string;
  readonly principalId?: string;
  readonly displayName?: string;
}

export interface KeyCredential {
  readonly thumbprint: string;
  readonly thumbprintSha256: string;
  readonly certificatePem: string;
  readonly start: number;
  readonly end: number;
}

/** A principal that can be issued tokens. */
export interface Principal {
  readonly clientId: string;
  readonly objectId: string;
  readonly displayName: string;
  readonly grants: Grants;
}

export interface RegisteredApp extends Principal {
  readonly registration: AppRegistration;
  readonly keys: readonly KeyCredential[];
}

export function registerApp(app: AppRegistration): RegisteredApp {
  const keys = (app.certificates ?? []).map((c) => {
    const x = new X509Certificate(c.certificatePem);
    return {
      ...thumbprints(c.certificatePem),
      certificatePem: c.certificatePem,
      start: c.startDateTime ? Date.parse(c.startDateTime) : Date.parse(x.validFrom),
      end: c.endDateTime ? Date.parse(c.endDateTime) : Date.parse(x.validTo),
    };
  });
  return {
    clientId: app.clientId.toLowerCase(),
    objectId: app.servicePrincipalId ?? randomUUID(),
    displayName: app.displayName ?? 'email-posture',
    grants: app,
    registration: app,
    keys,
  };
}

export function registerManagedIdentity(mi: ManagedIdentityRegistration): Principal & { readonly kind: 'system' | 'user' } {
  return { kind: mi.kind, clientId: mi.clientId.toLowerCase(), objectId: mi.principalId ?? randomUUID(), displayName: mi.displayName ?? 'managed identity', grants: mi };
}
