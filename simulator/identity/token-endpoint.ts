import { createPublicKey, randomUUID, timingSafeEqual } from 'node:crypto';
import { createLocalJWKSet, decodeJwt, decodeProtectedHeader, errors, jwtVerify, type JWTPayload } from 'jose';
import { RESOURCES, TOKEN_EXCHANGE_AUDIENCE, type KeyCredential, type Principal, type RegisteredApp, type Resource } from './apps.js';
import type { Federation } from './federation.js';
import type { SigningKey } from './keys.js';

/**
 * The v2.0 token endpoint's client credentials grant, as Entra ID answers it: the client proves
 * who it is with a secret, a certificate-signed assertion or a federated assertion; the token it
 * gets carries, for the one resource its `/.default` scope names, the application permissions
 * granted to its service principal (`roles`) and its directory roles (`wids`).
 */

export const CLIENT_ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

export interface TenantInfo {
  readonly id: string;
  readonly displayName: string;
  /** Does this name (tenant id or one of its domains) refer to the tenant? */
  matches(name: string): boolean;
}

/** One access token the identity endpoint issued (tests count and inspect these). */
export interface IssuedToken {
  readonly clientId: string;
  readonly audience: string;
  /** How the client authenticated: secret, certificate, federated (with the issuer), managed-identity. */
  readonly via: string;
  readonly uti: string;
  readonly expiresOn: number;
  readonly token: string;
}

export interface TokenEndpointContext {
  readonly tenant: TenantInfo;
  readonly apps: ReadonlyMap<string, RegisteredApp>;
  readonly federation: Federation;
  readonly key: SigningKey;
  /** Lifetime of issued access tokens in seconds. */
  readonly lifetimeSeconds: () => number;
  readonly issued: IssuedToken[];
  /** jti → the assertion it came with: a jti may not come back with another assertion. */
  readonly seenAssertions: Map<string, string>;
}

/** An OAuth error answer: `{error, error_description, error_codes, …}` with Entra's AADSTS code. */
export class OAuthError extends Error {
  constructor(
    readonly status: number,
    readonly error: string,
    readonly code: number,
    readonly description: string,
  ) {
    super(`AADSTS${code}: ${description}`);
  }

  body(): Record<string, unknown> {
    const traceId = randomUUID();
    const correlationId = randomUUID();
    const timestamp = new Date().toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z');
    return {
      error: this.error,
      error_description: `AADSTS${this.code}: ${this.description} Trace ID: ${traceId} Correlation ID: ${correlationId} Timestamp: ${timestamp}`,
      error_codes: [this.code],
      timestamp,
      trace_id: traceId,
      correlation_id: correlationId,
      error_uri: `https://login.microsoftonline.com/error?code=${this.code}`,
    };
  }
}

const need = (form: URLSearchParams, name: string): string => {
  const v = form.get(name);
  if (!v) throw new OAuthError(400, 'invalid_request', 900144, `The request body must contain the following parameter: '${name}'.`);
  return v;
};

/** The resource a client credentials scope names: exactly one `<resource>/.default`. */
export function resourceOfScope(scope: string, tenant: TenantInfo): Resource {
  const scopes = scope.split(/\s+/).filter(Boolean);
  const main = scopes.filter((s) => !['openid', 'profile', 'offline_access', 'email'].includes(s));
  const bad = main.find((s) => !s.endsWith('/.default'));
  if (bad || main.length !== 1) {
    throw new OAuthError(400, 'invalid_scope', 1002012, `The provided value for scope ${bad ?? main.join(' ')} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).`);
  }
  const id = main[0]!.slice(0, -'/.default'.length).replace(/\/$/, '');
  const resource = RESOURCES.find((r) => r.uri === id || r.appId === id.toLowerCase());
  if (!resource) {
    throw new OAuthError(400, 'invalid_resource', 500011, `The resource principal named ${id} was not found in the tenant named ${tenant.displayName}. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You might have sent your authentication request to the wrong tenant.`);
  }
  return resource;
}

/** Signs an access token for a principal and resource, as Entra's v1 application tokens look. */
export async function issueAccessToken(ctx: TokenEndpointContext, principal: Principal, resource: Resource, via: string, appidacr: '0' | '1' | '2'): Promise<{ token: string; expiresIn: number; expiresOn: number }> {
  const now = Math.floor(Date.now() / 1000);
  const expiresIn = ctx.lifetimeSeconds();
  const uti = randomUUID().replace(/-/g, '').slice(0, 22);
  const claims: JWTPayload = {
    aud: resource.uri,
    iss: `https://sts.windows.net/${ctx.tenant.id}/`,
    iat: now,
    nbf: now,
    exp: now + expiresIn,
    aio: randomUUID(),
    app_displayname: principal.displayName,
    appid: principal.clientId,
    appidacr,
    idp: `https://sts.windows.net/${ctx.tenant.id}/`,
    idtyp: 'app',
    oid: principal.objectId,
    rh: `0.${randomUUID()}`,
    roles: [...(principal.grants.roles?.[resource.api] ?? [])],
    sub: principal.objectId,
    tid: ctx.tenant.id,
    uti,
    ver: '1.0',
    wids: [...(principal.grants.directoryRoles ?? [])],
  };
  const token = await ctx.key.sign(claims, { x5t: ctx.key.kid });
  ctx.issued.push({ clientId: principal.clientId, audience: resource.uri, via, uti, expiresOn: (now + expiresIn) * 1000, token });
  return { token, expiresIn, expiresOn: now + expiresIn };
}

function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d+Z$/, 'Z');

/** POST /{tenant}/oauth2/v2.0/token with grant_type=client_credentials. */
export async function clientCredentials(ctx: TokenEndpointContext, tenantName: string, body: string, endpoint: string): Promise<Record<string, unknown>> {
  const form = new URLSearchParams(body);
  const grant = need(form, 'grant_type');
  if (grant !== 'client_credentials') {
    throw new OAuthError(400, 'unsupported_grant_type', 70003, `The app requested an unsupported grant type '${grant}'.`);
  }
  const clientId = need(form, 'client_id').toLowerCase();
  const scope = need(form, 'scope');
  const app = ctx.apps.get(clientId);
  if (!app) {
    throw new OAuthError(400, 'unauthorized_client', 700016, `Application with identifier '${clientId}' was not found in the directory '${ctx.tenant.displayName}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.`);
  }
  const resource = resourceOfScope(scope, ctx.tenant);

  const secret = form.get('client_secret');
  const assertion = form.get('client_assertion');
  let via: string;
  let acr: '1' | '2';
  if (secret !== null) {
    const now = Date.now();
    const match = (app.registration.secrets ?? []).find((s) => safeEqual(s.value, secret));
    if (!match) {
      throw new OAuthError(401, 'invalid_client', 7000215, `Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '${app.clientId}'.`);
    }
    if (match.endDateTime && Date.parse(match.endDateTime) <= now) {
      throw new OAuthError(401, 'invalid_client', 7000222, `The provided client secret keys for app '${app.clientId}' are expired. Visit the Azure portal to create new keys for your app: https://aka.ms/NewClientSecret, or consider using certificate credentials for added security: https://aka.ms/certCreds.`);
    }
    via = 'secret';
    acr = '1';
  } else if (assertion !== null) {
    const type = need(form, 'client_assertion_type');
    if (type !== CLIENT_ASSERTION_TYPE) {
      throw new OAuthError(400, 'invalid_request', 50027, `JWT token is invalid or malformed: client_assertion_type must be '${CLIENT_ASSERTION_TYPE}'.`);
    }
    let header: Record<string, unknown>;
    let claims: JWTPayload;
    try {
      header = decodeProtectedHeader(assertion) as Record<string, unknown>;
      claims = decodeJwt(assertion);
    } catch {
      throw new OAuthError(400, 'invalid_request', 50027, 'JWT token is invalid or malformed.');
    }
    if (typeof header['x5t#S256'] === 'string' || typeof header['x5t'] === 'string') {
      await certificateAssertion(ctx, app, assertion, header, claims, endpoint, tenantName);
      via = 'certificate';
    } else {
      via = `federated:${await federatedAssertion(ctx, app, assertion, claims)}`;
    }
    acr = '2';
  } else {
    throw new OAuthError(401, 'invalid_client', 7000218, "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.");
  }

  const { token, expiresIn } = await issueAccessToken(ctx, app, resource, via, acr);
  return { token_type: 'Bearer', expires_in: expiresIn, ext_expires_in: expiresIn, access_token: token };
}

/** A client assertion signed with an uploaded certificate: thumbprint, validity, signature, audience, lifetime, jti. */
async function certificateAssertion(ctx: TokenEndpointContext, app: RegisteredApp, assertion: string, header: Record<string, unknown>, claims: JWTPayload, endpoint: string, tenantName: string): Promise<void> {
  const x5tS256 = typeof header['x5t#S256'] === 'string' ? Buffer.from(header['x5t#S256'], 'base64url').toString('hex').toUpperCase() : undefined;
  const x5t = typeof header['x5t'] === 'string' ? Buffer.from(header['x5t'], 'base64url').toString('hex').toUpperCase() : undefined;
  const presented = x5tS256 ?? x5t!;
  const key: KeyCredential | undefined = app.keys.find((k) => (x5tS256 ? k.thumbprintSha256 === x5tS256 : k.thumbprint === x5t));
  if (!key) {
    throw new OAuthError(401, 'invalid_client', 700027, `The certificate with identifier used to sign the client assertion is not registered on application. [Reason - The key was not found., Thumbprint of key used by client: '${presented}', Please visit the Azure Portal, Graph Explorer or directly use MS Graph to see configured keys for app Id '${app.clientId}'. Review the documentation at https://docs.microsoft.com/en-us/graph/deployments#app-registration-and-token-service-root-endpoints to learn more about registering certificates.]`);
  }
  const now = Date.now();
  if (now < key.start || now >= key.end) {
    throw new OAuthError(401, 'invalid_client', 700027, `Client assertion failed signature validation. [Reason - The key used is ${now >= key.end ? 'expired' : 'not yet valid'}., Thumbprint of key used by client: '${presented}', Found key 'Start=${iso(key.start)}, End=${iso(key.end)}', Please visit the Azure Portal, Graph Explorer or directly use MS Graph to see configured keys for app Id '${app.clientId}'.]`);
  }
  if (claims.iss !== claims.sub || String(claims.iss ?? '').toLowerCase() !== app.clientId) {
    throw new OAuthError(401, 'invalid_client', 700021, "Client assertion application identifier doesn't match 'client_id' parameter. Review the documentation at https://docs.microsoft.com/en-us/azure/active-directory/develop/active-directory-certificate-credentials .");
  }
  const audiences = [endpoint, endpoint.replace(`/${tenantName}/`, `/${ctx.tenant.id}/`)];
  try {
    await jwtVerify(assertion, createPublicKey(key.certificatePem), { algorithms: ['RS256', 'PS256'], audience: audiences, clockTolerance: 300, requiredClaims: ['exp', 'nbf', 'jti'] });
  } catch (err) {
    throw assertionFailure(err, 'certificate');
  }
  replayCheck(ctx, claims, assertion);
}

/** A federated assertion: it must match a federated identity credential of the app and verify against its issuer's keys. */
async function federatedAssertion(ctx: TokenEndpointContext, app: RegisteredApp, assertion: string, claims: JWTPayload): Promise<string> {
  const iss = String(claims.iss ?? '');
  const sub = String(claims.sub ?? '');
  const aud = Array.isArray(claims.aud) ? claims.aud : [String(claims.aud ?? '')];
  const credentials = app.registration.federatedCredentials ?? [];
  const byIssuer = credentials.filter((c) => c.issuer === iss);
  const docs = 'Please check your federated identity credential Subject, Audience and Issuer against the presented assertion. https://learn.microsoft.com/entra/workload-id/workload-identity-federation';
  if (!byIssuer.length) throw new OAuthError(400, 'invalid_client', 700211, `No matching federated identity record found for presented assertion issuer '${iss}'. ${docs}`);
  const bySubject = byIssuer.filter((c) => c.subject === sub);
  if (!bySubject.length) throw new OAuthError(400, 'invalid_client', 700213, `No matching federated identity record found for presented assertion subject '${sub}'. ${docs}`);
  if (!bySubject.some((c) => c.audiences.some((a) => aud.includes(a)))) {
    throw new OAuthError(400, 'invalid_client', 700212, `No matching federated identity record found for presented assertion audience '${aud.join(', ')}'. ${docs}`);
  }
  const issuer = ctx.federation.issuer(iss);
  if (!issuer) throw new OAuthError(400, 'invalid_request', 50166, `Request to External OIDC endpoint failed: no OpenID configuration for issuer '${iss}'.`);
  try {
    await jwtVerify(assertion, createLocalJWKSet(issuer.jwks()), { algorithms: ['RS256'], issuer: iss, audience: TOKEN_EXCHANGE_AUDIENCE, clockTolerance: 300, requiredClaims: ['exp'] });
  } catch (err) {
    throw assertionFailure(err, 'federated');
  }
  if (claims.jti) replayCheck(ctx, claims, assertion);
  return iss;
}

function assertionFailure(err: unknown, kind: 'certificate' | 'federated'): OAuthError {
  if (err instanceof errors.JWTExpired || (err instanceof errors.JWTClaimValidationFailed && err.claim === 'nbf')) {
    return new OAuthError(400, 'invalid_client', 700024, `Client assertion is not within its valid time range. Current time: ${iso(Date.now())}.`);
  }
  if (err instanceof errors.JWTClaimValidationFailed && err.claim === 'aud') {
    return new OAuthError(400, 'invalid_client', 700212, kind === 'federated' ? 'The audience of the presented assertion is not api://AzureADTokenExchange.' : 'The audience of the client assertion is not this token endpoint.');
  }
  if (err instanceof errors.JWTClaimValidationFailed) {
    return new OAuthError(400, 'invalid_request', 50027, `JWT token is invalid or malformed: claim '${err.claim}' ${err.reason}.`);
  }
  return new OAuthError(401, 'invalid_client', kind === 'certificate' ? 700027 : 50013, kind === 'certificate'
    ? 'Client assertion failed signature validation. [Reason - The provided signature value did not match the expected signature value.]'
    : 'Assertion failed signature validation. [Reason - Key was found, but use of the key to verify the signature failed.]');
}

function replayCheck(ctx: TokenEndpointContext, claims: JWTPayload, assertion: string): void {
  const jti = String(claims.jti ?? '');
  const seen = ctx.seenAssertions.get(jti);
  if (seen !== undefined && seen !== assertion) {
    throw new OAuthError(400, 'invalid_client', 50027, `JWT token is invalid or malformed: the jti '${jti}' was already used by another assertion.`);
  }
  ctx.seenAssertions.set(jti, assertion);
}
