import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RequestLog } from '../http/log.js';
import { SimHttpServer, type HttpRequest, type Outcome } from '../http/server.js';
import type { TokenTrust } from '../http/token.js';
import { registerApp, registerManagedIdentity, type AppRegistration, type ManagedIdentityRegistration, type Principal, type RegisteredApp } from './apps.js';
import { makeLoopbackTls } from './certificates.js';
import { Federation } from './federation.js';
import { SigningKey } from './keys.js';
import { APP_SERVICE_PATH, ARC_PATH, ARC_TOKEN_DIRECTORY, serveManagedIdentity, type ManagedIdentityContext } from './managed-identity.js';
import { clientCredentials, OAuthError, type IssuedToken, type TenantInfo } from './token-endpoint.js';

export type { AppRegistration, ManagedIdentityRegistration, FederatedCredential, Grants } from './apps.js';
export { RESOURCES, TOKEN_EXCHANGE_AUDIENCE } from './apps.js';
export { makeClientCertificate, thumbprints, type ClientCertificate } from './certificates.js';
export { GITHUB_ISSUER, githubSubject, azureDevOpsSubject, type GitHubJob, type AzureDevOpsJob } from './federation.js';
export type { IssuedToken } from './token-endpoint.js';

export interface IdentityOptions {
  readonly apps?: readonly AppRegistration[];
  readonly managedIdentities?: readonly ManagedIdentityRegistration[];
  /** Lifetime of issued access tokens. @default 3599, as Entra's default */
  readonly tokenLifetimeSeconds?: number;
  /** Where Azure Arc challenge files are written. @default /var/opt/azcmagent/tokens, where MSAL requires them */
  readonly arcTokenDirectory?: string;
}

export interface RunningIdentity {
  /** The authority host (`https://127.0.0.1:PORT`): what AZURE_AUTHORITY_HOST names. */
  readonly authorityHost: string;
  /** The CA that signed the simulator's HTTPS certificate, as PEM and as a file (for NODE_EXTRA_CA_CERTS). */
  readonly caPem: string;
  readonly caFile: string;
  /** What a process signing in against the simulator needs: AZURE_AUTHORITY_HOST and NODE_EXTRA_CA_CERTS. */
  readonly env: { readonly AZURE_AUTHORITY_HOST: string; readonly NODE_EXTRA_CA_CERTS: string };
  /** App Service's managed identity variables (IDENTITY_ENDPOINT, IDENTITY_HEADER). */
  readonly appServiceEnv: { readonly IDENTITY_ENDPOINT: string; readonly IDENTITY_HEADER: string };
  /** Azure Arc's managed identity variables (IDENTITY_ENDPOINT, IMDS_ENDPOINT). */
  readonly arcEnv: { readonly IDENTITY_ENDPOINT: string; readonly IMDS_ENDPOINT: string };
  /** The stand-in GitHub Actions, Azure DevOps and Kubernetes token issuers. */
  readonly federation: Federation;
  /** Every access token issued, in order. */
  readonly issued: readonly IssuedToken[];
  /** Lifetime of access tokens issued from now on, in seconds. */
  tokenLifetimeSeconds: number;
  registerApp(app: AppRegistration): void;
  registerManagedIdentity(identity: ManagedIdentityRegistration): void;
  /** The signing keys of issued tokens, for the Graph and Exchange endpoints. */
  readonly trust: TokenTrust;
  stop(): Promise<void>;
}

const json = (status: number, body: unknown, headers: Record<string, string> = {}): Outcome => ({
  kind: 'answer',
  response: { status, body, headers: { 'Content-Type': 'application/json; charset=utf-8', 'Cache-Control': 'no-store', ...headers } },
});

const oauth = (err: OAuthError): Outcome => json(err.status, err.body(), err.status === 401 ? { 'WWW-Authenticate': 'Bearer' } : {});

/**
 * Starts the identity endpoints for a tenant: the Microsoft identity platform on HTTPS (OpenID
 * configuration, instance discovery, signing keys, the v2.0 token endpoint, and the stand-in
 * federated issuers), and the managed identity endpoints on HTTP.
 */
export async function startIdentity(o: { tenant: TenantInfo; others?: readonly TenantInfo[]; host: string; requests: RequestLog; options: IdentityOptions }): Promise<RunningIdentity> {
  const tls = await makeLoopbackTls();
  const dir = mkdtempSync(join(tmpdir(), 'posture-sim-identity-'));
  const caFile = join(dir, 'ca.pem');
  writeFileSync(caFile, tls.caPem);
  const key = await SigningKey.create();
  let base = '';
  const federation = new Federation(() => base);
  const apps = new Map<string, RegisteredApp>();
  const managedIdentities: Array<Principal & { kind: 'system' | 'user' }> = [];
  const issued: IssuedToken[] = [];
  let lifetime = o.options.tokenLifetimeSeconds ?? 3599;
  const ctx: ManagedIdentityContext = {
    tenant: o.tenant,
    apps,
    federation,
    key,
    lifetimeSeconds: () => lifetime,
    issued,
    seenAssertions: new Map(),
    managedIdentities,
    identityHeader: randomBytes(24).toString('hex'),
    arcTokenDirectory: o.options.arcTokenDirectory ?? ARC_TOKEN_DIRECTORY,
    arcFiles: new Set(),
  };
  for (const app of o.options.apps ?? []) apps.set(app.clientId.toLowerCase(), registerApp(app));
  // One application registration signs in to every tenant served (a multi-tenant app consented in each);
  // a token names the tenant of the path it was asked at. The tenant id is matched before any domain.
  const tenants = [o.tenant, ...(o.others ?? [])];
  const tenantNamed = (name: string): TenantInfo | undefined => tenants.find((t) => t.id.toLowerCase() === name.toLowerCase()) ?? tenants.find((t) => t.matches(name));
  const contextOf = (t: TenantInfo): ManagedIdentityContext => (t === o.tenant ? ctx : { ...ctx, tenant: t });
  for (const mi of o.options.managedIdentities ?? []) managedIdentities.push(registerManagedIdentity(mi));

  const log = (api: 'identity') => (req: { method: string; url: URL }, status: number) => o.requests.add({ api, method: req.method, path: req.url.pathname + req.url.search, status, time: Date.now() });
  const https = new SimHttpServer((req) => serveIdentity(req), log('identity'), { tls: { key: tls.keyPem, cert: tls.certPem }, body: 'text' });
  const mi = new SimHttpServer((req) => serveManagedIdentity(ctx, req), log('identity'), { body: 'text' });

  async function serveIdentity(req: HttpRequest): Promise<Outcome> {
    const path = req.url.pathname;
    const q = req.url.searchParams;
    if (req.method === 'GET' && /^\/common\/discovery\/instance\/?$/i.test(path)) return instanceDiscovery(q.get('authorization_endpoint'));
    const issuer = federation.byPath(path);
    if (issuer && req.method === 'GET') {
      if (path === `${issuer.path}/.well-known/openid-configuration`) return json(200, issuer.discovery(base));
      if (path === `${issuer.path}/.well-known/jwks`) return json(200, issuer.jwks());
    }
    let m = /^\/github-actions\/([0-9a-f-]+)\/idtoken$/.exec(path);
    if (m && req.method === 'GET') {
      const r = await federation.githubToken(m[1]!, req.headers.authorization, q.get('audience'));
      return json(r.status, r.body);
    }
    m = /^\/azure-devops\/[^/]+\/[^/]+\/_apis\/distributedtask\/hubs\/build\/plans\/[^/]+\/jobs\/([0-9a-f-]+)\/oidctoken$/.exec(path);
    if (m && req.method === 'POST') {
      if (q.get('api-version') !== '7.1') return json(400, { $id: '1', message: `The requested REST API version of ${q.get('api-version') ?? ''} is not supported.`, typeKey: 'VssVersionNotSupportedException', errorCode: 0, eventId: 3000 });
      const r = await federation.azureDevOpsToken(m[1]!, req.headers.authorization, q.get('serviceConnectionId'));
      return json(r.status, r.body);
    }
    m = /^\/([^/]+)\/(v2\.0\/)?\.well-known\/openid-configuration$/.exec(path);
    if (m && req.method === 'GET') return openIdConfiguration(m[1]!, Boolean(m[2]));
    m = /^\/([^/]+)\/discovery\/(v2\.0\/)?keys$/.exec(path);
    if (m && req.method === 'GET') return json(200, { keys: [key.jwk({ x5t: key.kid, issuer: `${base}/${(tenantNamed(m[1]!) ?? o.tenant).id}/v2.0` })] });
    m = /^\/([^/]+)\/oauth2\/v2\.0\/token$/.exec(path);
    if (m) {
      if (req.method !== 'POST') return json(405, new OAuthError(405, 'invalid_request', 900561, 'The endpoint only accepts POST requests.').body());
      const named = tenantNamed(m[1]!);
      if (!named) return oauth(tenantNotFound(m[1]!));
      try {
        return json(200, await clientCredentials(contextOf(named), m[1]!, typeof req.body === 'string' ? req.body : '', `${base}${path}`));
      } catch (err) {
        if (err instanceof OAuthError) return oauth(err);
        throw err;
      }
    }
    return json(404, { error: 'not_found', error_description: `No identity endpoint at ${path}.` });
  }

  function tenantNotFound(name: string): OAuthError {
    return new OAuthError(400, 'invalid_tenant', 90002, `Tenant '${name}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud.`);
  }

  /** GET /common/discovery/instance: the clouds' aliases. This host is its own cloud. */
  function instanceDiscovery(authorizationEndpoint: string | null): Outcome {
    const host = new URL(base).host;
    let ok: boolean;
    try {
      ok = authorizationEndpoint !== null && new URL(authorizationEndpoint).host === host;
    } catch {
      ok = false;
    }
    if (!ok) return json(400, { error: 'invalid_instance', error_description: 'AADSTS50049: Unknown or invalid instance.', error_codes: [50049] });
    return json(200, {
      tenant_discovery_endpoint: `${base}/{tenant}/v2.0/.well-known/openid-configuration`,
      'api-version': '1.1',
      metadata: [{ preferred_network: host, preferred_cache: host, aliases: [host] }],
    });
  }

  /** GET /{tenant}/v2.0/.well-known/openid-configuration (and the v1 document without v2.0). */
  function openIdConfiguration(name: string, v2: boolean): Outcome {
    const common = ['common', 'organizations'].includes(name.toLowerCase());
    const named = common ? undefined : tenantNamed(name);
    if (!common && !named) return oauth(tenantNotFound(name));
    const tid = named ? named.id : '{tenantid}';
    const t = named ? named.id : name.toLowerCase();
    const v = v2 ? '/v2.0' : '';
    return json(200, {
      token_endpoint: `${base}/${t}/oauth2${v}/token`,
      token_endpoint_auth_methods_supported: ['client_secret_post', 'private_key_jwt', 'client_secret_basic'],
      jwks_uri: `${base}/${t}/discovery${v}/keys`,
      response_modes_supported: ['query', 'fragment', 'form_post'],
      subject_types_supported: ['pairwise'],
      id_token_signing_alg_values_supported: ['RS256'],
      response_types_supported: ['code', 'id_token', 'code id_token', 'id_token token'],
      scopes_supported: ['openid', 'profile', 'email', 'offline_access'],
      issuer: v2 ? `${base}/${tid}/v2.0` : `${base}/${tid}/`,
      request_uri_parameter_supported: false,
      userinfo_endpoint: 'https://graph.microsoft.com/oidc/userinfo',
      authorization_endpoint: `${base}/${t}/oauth2${v}/authorize`,
      device_authorization_endpoint: `${base}/${t}/oauth2${v}/devicecode`,
      http_logout_supported: true,
      frontchannel_logout_supported: true,
      end_session_endpoint: `${base}/${t}/oauth2${v}/logout`,
      claims_supported: ['sub', 'iss', 'cloud_instance_name', 'cloud_instance_host_name', 'cloud_graph_host_name', 'msgraph_host', 'aud', 'exp', 'iat', 'auth_time', 'acr', 'nonce', 'preferred_username', 'name', 'tid', 'ver', 'at_hash', 'c_hash', 'email'],
      kerberos_endpoint: `${base}/${t}/kerberos`,
      tenant_region_scope: 'EU',
      cloud_instance_name: new URL(base).host,
      cloud_graph_host_name: 'graph.windows.net',
      msgraph_host: 'graph.microsoft.com',
      rbac_url: 'https://pas.windows.net',
    });
  }

  const started: SimHttpServer[] = [];
  try {
    base = await https.listen(o.host, 0);
    started.push(https);
    const miBase = await mi.listen(o.host, 0);
    started.push(mi);
    const running: RunningIdentity = {
      authorityHost: base,
      caPem: tls.caPem,
      caFile,
      env: { AZURE_AUTHORITY_HOST: base, NODE_EXTRA_CA_CERTS: caFile },
      appServiceEnv: { IDENTITY_ENDPOINT: `${miBase}${APP_SERVICE_PATH}`, IDENTITY_HEADER: ctx.identityHeader },
      arcEnv: { IDENTITY_ENDPOINT: `${miBase}${ARC_PATH}`, IMDS_ENDPOINT: miBase },
      federation,
      issued,
      get tokenLifetimeSeconds() {
        return lifetime;
      },
      set tokenLifetimeSeconds(v: number) {
        lifetime = v;
      },
      registerApp: (app) => void apps.set(app.clientId.toLowerCase(), registerApp(app)),
      registerManagedIdentity: (identity) => void managedIdentities.push(registerManagedIdentity(identity)),
      trust: { key: (kid) => (kid === key.kid ? key.publicKey : undefined) },
      stop: async () => {
        await Promise.all(started.map((s) => s.stop()));
        for (const f of ctx.arcFiles) rmSync(f, { force: true });
        rmSync(dir, { recursive: true, force: true });
      },
    };
    return running;
  } catch (err) {
    await Promise.all(started.map((s) => s.stop()));
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}
