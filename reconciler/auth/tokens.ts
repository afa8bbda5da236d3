import {
  AzureCliCredential,
  AzurePipelinesCredential,
  ClientAssertionCredential,
  ClientCertificateCredential,
  ClientSecretCredential,
  ManagedIdentityCredential,
  WorkloadIdentityCredential,
  type TokenCredential,
} from '@azure/identity';
import { rememberSecret } from '../redact.js';

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

/** A GitHub Actions OIDC token for Entra workload identity federation (`permissions: id-token: write`). */
function githubAssertion(env: NodeJS.ProcessEnv): () => Promise<string> {
  return async () => {
    const [url, bearer] = need(env, 'ACTIONS_ID_TOKEN_REQUEST_URL', 'ACTIONS_ID_TOKEN_REQUEST_TOKEN');
    const res = await fetch(`${url}&audience=api://AzureADTokenExchange`, { headers: { Authorization: `Bearer ${bearer}` } });
    if (!res.ok) throw new CredentialError(`GitHub OIDC token request failed with HTTP ${res.status}`);
    const assertion = ((await res.json()) as { value: string }).value;
    rememberSecret(assertion);
    return assertion;
  };
}

/** The @azure/identity credential for a method, from the usual AZURE_* variables. */
export function credentialFor(method: Exclude<AuthMethod, 'auto' | 'token'>, env: NodeJS.ProcessEnv, tenant: string | undefined): TokenCredential {
  const tenantId = tenant ?? env['AZURE_TENANT_ID'];
  const requireTenant = () => {
    if (!tenantId) throw new CredentialError('no tenant: pass --tenant or set AZURE_TENANT_ID');
    return tenantId;
  };
  switch (method) {
    case 'secret': {
      const [clientId, secret] = need(env, 'AZURE_CLIENT_ID', 'AZURE_CLIENT_SECRET');
      return new ClientSecretCredential(requireTenant(), clientId!, secret!);
    }
    case 'certificate': {
      const [clientId, certificatePath] = need(env, 'AZURE_CLIENT_ID', 'AZURE_CLIENT_CERTIFICATE_PATH');
      rememberSecret(env['AZURE_CLIENT_CERTIFICATE_PASSWORD']);
      return new ClientCertificateCredential(requireTenant(), clientId!, { certificatePath: certificatePath!, ...(env['AZURE_CLIENT_CERTIFICATE_PASSWORD'] ? { certificatePassword: env['AZURE_CLIENT_CERTIFICATE_PASSWORD'] } : {}) });
    }
    case 'workload-identity': {
      const [clientId, tokenFilePath] = need(env, 'AZURE_CLIENT_ID', 'AZURE_FEDERATED_TOKEN_FILE');
      return new WorkloadIdentityCredential({ tenantId: requireTenant(), clientId: clientId!, tokenFilePath: tokenFilePath! });
    }
    case 'github-oidc': {
      const [clientId] = need(env, 'AZURE_CLIENT_ID');
      return new ClientAssertionCredential(requireTenant(), clientId!, githubAssertion(env));
    }
    case 'azure-pipelines': {
      const [clientId, connection, systemToken] = need(env, 'AZURE_CLIENT_ID', 'AZURESUBSCRIPTION_SERVICE_CONNECTION_ID', 'SYSTEM_ACCESSTOKEN');
      return new AzurePipelinesCredential(requireTenant(), clientId!, connection!, systemToken!);
    }
    case 'managed-identity':
      return env['AZURE_CLIENT_ID'] ? new ManagedIdentityCredential({ clientId: env['AZURE_CLIENT_ID'] }) : new ManagedIdentityCredential();
    case 'azure-cli':
      return new AzureCliCredential(tenantId ? { tenantId } : {});
  }
}

/**
 * The token provider for a run. `auto` takes a pre-issued token from the environment when there is
 * one, else a client secret or certificate from AZURE_*, else workload identity (AZURE_FEDERATED_TOKEN_FILE),
 * else GitHub Actions OIDC, else the Azure CLI.
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
  const chosen: Exclude<AuthMethod, 'auto' | 'token'> =
    method !== 'auto'
      ? method
      : env['AZURE_CLIENT_SECRET']
        ? 'secret'
        : env['AZURE_CLIENT_CERTIFICATE_PATH']
          ? 'certificate'
          : env['AZURE_FEDERATED_TOKEN_FILE']
            ? 'workload-identity'
            : env['ACTIONS_ID_TOKEN_REQUEST_URL']
              ? 'github-oidc'
              : 'azure-cli';
  const credential = credentialFor(chosen, env, options.tenant);
  const cache = new Map<Api, { token: string; expires: number }>();
  return {
    canRefresh: true,
    description: `${chosen} credential`,
    token: async (api, refresh = false) => {
      const hit = cache.get(api);
      if (hit && !refresh && hit.expires - Date.now() > 120_000) return hit.token;
      let got;
      try {
        got = await credential.getToken(api === 'graph' ? options.graphScope : options.exchangeScope);
      } catch (err) {
        throw new CredentialError(`could not get a token with the ${chosen} credential: ${firstLine((err as Error).message)}`);
      }
      if (!got) throw new CredentialError(`the ${chosen} credential returned no token`);
      rememberSecret(got.token);
      cache.set(api, { token: got.token, expires: got.expiresOnTimestamp });
      return got.token;
    },
  };
}

const firstLine = (s: string) => s.split('\n')[0]!.slice(0, 300);
