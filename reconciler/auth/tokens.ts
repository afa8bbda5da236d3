import { createRequire } from 'node:module';
import type * as Identity from '@azure/identity';
import type { TokenCredential } from '@azure/identity';
import { rememberSecret } from '../core/redact.js';
import { describeCause, proxyFetch } from '../transport/proxy.js';

/**
 * @azure/identity, loaded the first time a credential is made: a run with pre-issued tokens (the
 * simulator, a pipeline that signs in elsewhere) never loads it and its MSAL.
 */
let identityModule: typeof Identity | undefined;
const identity = (): typeof Identity => (identityModule ??= createRequire(import.meta.url)('@azure/identity') as typeof Identity);

/** The two APIs the reconciler calls, each with its own token audience. */
export type Api = 'graph' | 'exchange';

export interface TokenProvider {
  /** A bearer token for the API. `refresh` asks for a new one (after a 401). */
  token(api: Api, refresh?: boolean): Promise<string>;
  /** Can a new token be had after a 401? (A pre-issued token cannot.) */
  readonly canRefresh: boolean;
  /** How the tokens are obtained, for logs (never a secret). */
  readonly description: string;
}

export type AuthMethod = 'auto' | 'token' | 'secret' | 'certificate' | 'workload-identity' | 'github-oidc' | 'azure-pipelines' | 'managed-identity' | 'azure-cli';
export const AUTH_METHODS: readonly AuthMethod[] = ['auto', 'token', 'secret', 'certificate', 'workload-identity', 'github-oidc', 'azure-pipelines', 'managed-identity', 'azure-cli'];

export class CredentialError extends Error {}

/** The global service each API stands for: the token audience when its endpoint is the local simulator. */
export const GLOBAL_RESOURCE: Record<Api, string> = { graph: 'https://graph.microsoft.com', exchange: 'https://outlook.office365.com' };

/**
 * The `/.default` scope of an API endpoint. Microsoft's endpoints are their own token audience
 * (each national cloud has its own: graph.microsoft.us, microsoftgraph.chinacloudapi.cn, …). A
 * loopback endpoint is the simulator, which stands for the global service; a token for the global
 * service is never asked for an endpoint elsewhere.
 */
export function scopeFor(api: Api, endpoint: URL, loopback: boolean): string {
  return `${loopback ? GLOBAL_RESOURCE[api] : endpoint.origin}/.default`;
}

/**
 * Hosts of Microsoft's clouds, which MSAL knows and validates through instance discovery: those of
 * @azure/identity's AzureAuthorityHosts (a test keeps the two in step) and MSAL's aliases.
 */
export const MICROSOFT_AUTHORITIES: ReadonlySet<string> = new Set([
  'login.microsoftonline.com',
  'login.chinacloudapi.cn',
  'login.microsoftonline.de',
  'login.microsoftonline.us',
  'login.windows.net',
  'login.microsoft.com',
  'sts.windows.net',
  'login.partner.microsoftonline.cn',
  'login-us.microsoftonline.com',
]);

/**
 * The authority options of every credential: AZURE_AUTHORITY_HOST when set (a sovereign cloud, or
 * the simulator). Instance discovery asks login.microsoftonline.com about the host, so it is kept
 * for Microsoft's clouds and turned off for any other authority, which is then trusted as given.
 */
export function authorityOptions(env: NodeJS.ProcessEnv): { authorityHost?: string; disableInstanceDiscovery?: boolean } {
  const host = env['AZURE_AUTHORITY_HOST'];
  if (!host) return {};
  let url: URL;
  try {
    url = new URL(host);
  } catch {
    throw new CredentialError(`AZURE_AUTHORITY_HOST "${host}" is not a URL`);
  }
  if (url.protocol !== 'https:') throw new CredentialError(`AZURE_AUTHORITY_HOST ${host}: the authority must use https`);
  return { authorityHost: url.origin, ...(MICROSOFT_AUTHORITIES.has(url.host) ? {} : { disableInstanceDiscovery: true }) };
}

/** Pre-issued tokens: POSTURE_GRAPH_TOKEN and POSTURE_EXCHANGE_TOKEN (POSTURE_ACCESS_TOKEN for both). */
export function envTokenProvider(env: NodeJS.ProcessEnv): TokenProvider | undefined {
  const graph = env['POSTURE_GRAPH_TOKEN'] ?? env['POSTURE_ACCESS_TOKEN'];
  const exchange = env['POSTURE_EXCHANGE_TOKEN'] ?? env['POSTURE_ACCESS_TOKEN'];
  if (!graph && !exchange) return undefined;
  rememberSecret(graph);
  rememberSecret(exchange);
  return {
    canRefresh: false,
    description: 'pre-issued access token from the environment',
    token: async (api) => {
      const t = api === 'graph' ? graph : exchange;
      if (!t) throw new CredentialError(`no ${api === 'graph' ? 'POSTURE_GRAPH_TOKEN' : 'POSTURE_EXCHANGE_TOKEN'} (or POSTURE_ACCESS_TOKEN) in the environment`);
      return t;
    },
  };
}

/** Environment variables that hold a secret: masked wherever their value would appear. */
const SECRET_VARIABLES = new Set(['AZURE_CLIENT_SECRET', 'AZURE_CLIENT_CERTIFICATE_PASSWORD', 'SYSTEM_ACCESSTOKEN', 'ACTIONS_ID_TOKEN_REQUEST_TOKEN']);

function need(env: NodeJS.ProcessEnv, ...names: string[]): string[] {
  const missing = names.filter((n) => !env[n]);
  if (missing.length) throw new CredentialError(`missing environment variable${missing.length > 1 ? 's' : ''} ${missing.join(', ')}`);
  for (const n of names) if (SECRET_VARIABLES.has(n)) rememberSecret(env[n]);
  return names.map((n) => env[n]!);
}

/** The audience Entra ID accepts in a federated assertion. */
export const TOKEN_EXCHANGE_AUDIENCE = 'api://AzureADTokenExchange';

/** A GitHub Actions OIDC token for Entra workload identity federation (`permissions: id-token: write`). */
function githubAssertion(env: NodeJS.ProcessEnv): () => Promise<string> {
  return async () => {
    const [requestUrl, bearer] = need(env, 'ACTIONS_ID_TOKEN_REQUEST_URL', 'ACTIONS_ID_TOKEN_REQUEST_TOKEN');
    let url: URL;
    try {
      url = new URL(requestUrl!);
    } catch {
      throw new CredentialError('ACTIONS_ID_TOKEN_REQUEST_URL is not a URL');
    }
    url.searchParams.set('audience', TOKEN_EXCHANGE_AUDIENCE);
    let res: Response;
    try {
      // The bearer goes to this URL only: a redirect is refused, not followed. Through HTTPS_PROXY when one is set (not to a loopback host).
      res = await (proxyFetch(env) ?? fetch)(url.href, { headers: { Authorization: `Bearer ${bearer}`, Accept: 'application/json' }, redirect: 'error' });
    } catch (err) {
      throw new CredentialError(`GitHub OIDC token request to ${url.origin} failed: ${describeCause(err)}`);
    }
    if (!res.ok) throw new CredentialError(`GitHub OIDC token request failed with HTTP ${res.status}`);
    const value = ((await res.json().catch(() => undefined)) as { value?: unknown } | undefined)?.value;
    if (typeof value !== 'string' || !value) throw new CredentialError('the GitHub OIDC token response holds no token');
    rememberSecret(value);
    return value;
  };
}

/** The @azure/identity credential for a method, from the usual AZURE_* variables. */
export function credentialFor(method: Exclude<AuthMethod, 'auto' | 'token'>, env: NodeJS.ProcessEnv, tenant: string | undefined): TokenCredential {
  const tenantId = tenant ?? env['AZURE_TENANT_ID'];
  const requireTenant = () => {
    if (!tenantId) throw new CredentialError('no tenant: pass --tenant or set AZURE_TENANT_ID');
    return tenantId;
  };
  const authority = authorityOptions(env);
  switch (method) {
    case 'secret': {
      const [clientId, secret] = need(env, 'AZURE_CLIENT_ID', 'AZURE_CLIENT_SECRET');
      return new (identity().ClientSecretCredential)(requireTenant(), clientId!, secret!, authority);
    }
    case 'certificate': {
      const [clientId, certificatePath] = need(env, 'AZURE_CLIENT_ID', 'AZURE_CLIENT_CERTIFICATE_PATH');
      rememberSecret(env['AZURE_CLIENT_CERTIFICATE_PASSWORD']);
      return new (identity().ClientCertificateCredential)(requireTenant(), clientId!, { certificatePath: certificatePath!, ...(env['AZURE_CLIENT_CERTIFICATE_PASSWORD'] ? { certificatePassword: env['AZURE_CLIENT_CERTIFICATE_PASSWORD'] } : {}) }, authority);
    }
    case 'workload-identity': {
      const [clientId, tokenFilePath] = need(env, 'AZURE_CLIENT_ID', 'AZURE_FEDERATED_TOKEN_FILE');
      return new (identity().WorkloadIdentityCredential)({ tenantId: requireTenant(), clientId: clientId!, tokenFilePath: tokenFilePath!, ...authority });
    }
    case 'github-oidc': {
      const [clientId] = need(env, 'AZURE_CLIENT_ID');
      return new (identity().ClientAssertionCredential)(requireTenant(), clientId!, githubAssertion(env), authority);
    }
    case 'azure-pipelines': {
      const [clientId, connection, systemToken] = need(env, 'AZURE_CLIENT_ID', 'AZURESUBSCRIPTION_SERVICE_CONNECTION_ID', 'SYSTEM_ACCESSTOKEN');
      need(env, 'SYSTEM_OIDCREQUESTURI');
      return new (identity().AzurePipelinesCredential)(requireTenant(), clientId!, connection!, systemToken!, authority);
    }
    case 'managed-identity':
      return env['AZURE_CLIENT_ID'] ? new (identity().ManagedIdentityCredential)({ clientId: env['AZURE_CLIENT_ID'] }) : new (identity().ManagedIdentityCredential)();
    case 'azure-cli':
      return new (identity().AzureCliCredential)(tenantId ? { tenantId } : {});
  }
}

/**
 * The method `auto` picks from the environment: a client secret or certificate from AZURE_*, else
 * workload identity (AZURE_FEDERATED_TOKEN_FILE), else GitHub Actions OIDC, else Azure Pipelines
 * (a service connection with SYSTEM_OIDCREQUESTURI), else a managed identity whose endpoint the
 * host announces (IDENTITY_ENDPOINT: App Service, Azure Arc), else the Azure CLI.
 */
export function autoMethod(env: NodeJS.ProcessEnv): Exclude<AuthMethod, 'auto' | 'token'> {
  if (env['AZURE_CLIENT_SECRET']) return 'secret';
  if (env['AZURE_CLIENT_CERTIFICATE_PATH']) return 'certificate';
  if (env['AZURE_FEDERATED_TOKEN_FILE']) return 'workload-identity';
  if (env['ACTIONS_ID_TOKEN_REQUEST_URL']) return 'github-oidc';
  if (env['AZURESUBSCRIPTION_SERVICE_CONNECTION_ID'] && env['SYSTEM_OIDCREQUESTURI']) return 'azure-pipelines';
  if (env['IDENTITY_ENDPOINT']) return 'managed-identity';
  return 'azure-cli';
}

/**
 * The token provider for a run. `auto` takes a pre-issued token from the environment when there is
 * one, else the credential {@link autoMethod} picks. Tokens are kept until two minutes before they
 * expire; one request per API is in flight at a time; a refresh (after a 401) starts a new
 * credential, so no cached token comes back.
 */
export function tokenProvider(
  method: AuthMethod,
  options: { env: NodeJS.ProcessEnv; tenant?: string; graphScope: string; exchangeScope: string },
): TokenProvider {
  const { env } = options;
  if (method === 'token' || (method === 'auto' && envTokenProvider(env))) {
    const p = envTokenProvider(env);
    if (!p) throw new CredentialError('--auth token needs POSTURE_GRAPH_TOKEN and POSTURE_EXCHANGE_TOKEN (or POSTURE_ACCESS_TOKEN)');
    return p;
  }
  const chosen = method !== 'auto' ? method : autoMethod(env);
  let credential = credentialFor(chosen, env, options.tenant);
  const cache = new Map<Api, { token: string; expires: number }>();
  const inFlight = new Map<Api, Promise<string>>();
  const fetchToken = async (api: Api, refresh: boolean): Promise<string> => {
    if (refresh) credential = credentialFor(chosen, env, options.tenant);
    let got;
    try {
      got = await credential.getToken(api === 'graph' ? options.graphScope : options.exchangeScope);
    } catch (err) {
      throw new CredentialError(`could not get a ${api === 'graph' ? 'Microsoft Graph' : 'Exchange Online'} token with the ${chosen} credential: ${credentialMessage(err)}`);
    }
    if (!got) throw new CredentialError(`the ${chosen} credential returned no token`);
    rememberSecret(got.token);
    cache.set(api, { token: got.token, expires: got.expiresOnTimestamp });
    return got.token;
  };
  return {
    canRefresh: true,
    description: `${chosen} credential`,
    token: (api, refresh = false) => {
      const hit = cache.get(api);
      if (hit && !refresh && hit.expires - Date.now() > 120_000) return Promise.resolve(hit.token);
      const pending = inFlight.get(api);
      if (pending && !refresh) return pending;
      const p = fetchToken(api, refresh).finally(() => {
        if (inFlight.get(api) === p) inFlight.delete(api);
      });
      inFlight.set(api, p);
      return p;
    },
  };
}

/**
 * The part of a credential's error a person needs: Entra's AADSTS message when there is one (without
 * its trace, correlation and timestamp lines), else the first line.
 */
export function credentialMessage(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  const aadsts = /AADSTS\d+:[^\r\n]*?(?=\s*(?:Trace ID:|Correlation ID:|Timestamp:|\r|\n|$))/.exec(text)?.[0];
  return (aadsts ?? text.split(/\r?\n/)[0]!).trim().slice(0, 400);
}
