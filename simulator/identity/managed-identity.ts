import { randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { SimResponse } from '../http/errors.js';
import type { HttpRequest, Outcome } from '../http/server.js';
import { RESOURCES, type Principal } from './apps.js';
import { issueAccessToken, OAuthError, type TokenEndpointContext } from './token-endpoint.js';

/**
 * The local managed identity endpoints of a host, over plain HTTP as the real ones are:
 * - App Service (and Functions): `GET {IDENTITY_ENDPOINT}?api-version=2019-08-01&resource=…` with the
 *   `X-IDENTITY-HEADER` secret the platform puts in IDENTITY_HEADER;
 * - Azure Arc (the Hybrid Instance Metadata Service): `GET {IDENTITY_ENDPOINT}?api-version=2020-06-01&resource=…`
 *   with `Metadata: true`, first answered 401 with `WWW-Authenticate: Basic realm=<key file>`; the client
 *   reads the file (which must be in the agent's token directory) and asks again with `Authorization: Basic <its content>`.
 */

export const APP_SERVICE_PATH = '/msi/token';
export const ARC_PATH = '/arc/metadata/identity/oauth2/token';
/** Where the Arc agent writes its challenge files, and where MSAL requires them to be (Linux). */
export const ARC_TOKEN_DIRECTORY = '/var/opt/azcmagent/tokens';

export interface ManagedIdentityContext extends TokenEndpointContext {
  /** The system-assigned identity and user-assigned ones, by client id. */
  readonly managedIdentities: ReadonlyArray<Principal & { readonly kind: 'system' | 'user' }>;
  /** The value of IDENTITY_HEADER for App Service. */
  readonly identityHeader: string;
  readonly arcTokenDirectory: string;
  /** Challenge files written for Arc, removed at stop. */
  readonly arcFiles: Set<string>;
}

const json = (status: number, body: unknown, headers: Record<string, string> = {}): Outcome => ({
  kind: 'answer',
  response: { status, body, headers: { 'Content-Type': 'application/json; charset=utf-8', ...headers } } satisfies SimResponse,
});

function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

function chooseIdentity(ctx: ManagedIdentityContext, q: URLSearchParams): (Principal & { kind: 'system' | 'user' }) | undefined {
  const clientId = q.get('client_id')?.toLowerCase();
  const objectId = (q.get('object_id') ?? q.get('principal_id'))?.toLowerCase();
  if (clientId) return ctx.managedIdentities.find((m) => m.kind === 'user' && m.clientId === clientId);
  if (objectId) return ctx.managedIdentities.find((m) => m.kind === 'user' && m.objectId.toLowerCase() === objectId);
  return ctx.managedIdentities.find((m) => m.kind === 'system');
}

const NO_IDENTITY = 'No User Assigned or Delegated Managed Identity found for specified ClientId/ResourceId/PrincipalId.';

export async function serveManagedIdentity(ctx: ManagedIdentityContext, req: HttpRequest): Promise<Outcome> {
  const path = req.url.pathname;
  const q = req.url.searchParams;
  if (req.method !== 'GET') return json(405, { error: 'method_not_allowed', error_description: 'The managed identity endpoint takes GET.' });
  const resource = RESOURCES.find((r) => r.uri === (q.get('resource') ?? '').replace(/\/$/, '') || r.appId === q.get('resource'));

  if (path === APP_SERVICE_PATH) {
    const header = req.headers['x-identity-header'];
    if (typeof header !== 'string' || !safeEqual(header, ctx.identityHeader)) {
      return json(401, { statusCode: 401, message: 'Unauthorized request: the X-IDENTITY-HEADER header is missing or does not match.', correlationId: randomUUID() });
    }
    if (q.get('api-version') !== '2019-08-01') return json(400, { statusCode: 400, message: `The api-version '${q.get('api-version') ?? ''}' is not supported.`, correlationId: randomUUID() });
    if (!resource) return json(400, { statusCode: 400, message: invalidResource(ctx, q.get('resource')), correlationId: randomUUID() });
    const identity = chooseIdentity(ctx, q);
    if (!identity) return json(400, { statusCode: 400, message: NO_IDENTITY, correlationId: randomUUID() });
    const { token, expiresOn } = await issueAccessToken(ctx, identity, resource, 'managed-identity:app-service', '2');
    return json(200, { access_token: token, expires_on: String(expiresOn), resource: resource.uri, token_type: 'Bearer', client_id: identity.clientId });
  }

  if (path === ARC_PATH) {
    if (req.headers['metadata'] !== 'true') return json(400, { error: 'invalid_request', error_description: 'Required metadata header not specified' });
    if (q.get('api-version') !== '2020-06-01') return json(400, { error: 'invalid_request', error_description: `The api-version '${q.get('api-version') ?? ''}' could not be found.` });
    const auth = req.headers.authorization;
    if (!auth) {
      const file = join(ctx.arcTokenDirectory, `${randomUUID()}.key`);
      try {
        writeFileSync(file, randomBytes(32).toString('hex'), { mode: 0o600 });
      } catch (err) {
        return json(500, { error: 'server_error', error_description: `The agent could not write its token file: ${(err as NodeJS.ErrnoException).code ?? 'error'}` });
      }
      ctx.arcFiles.add(file);
      return json(401, { error: 'unauthorized', error_description: 'Unauthorized' }, { 'WWW-Authenticate': `Basic realm=${file}` });
    }
    const presented = /^Basic\s+(.+)$/i.exec(auth)?.[1]?.trim() ?? '';
    const file = [...ctx.arcFiles].find((f) => existsSync(f) && safeEqual(readFileSync(f, 'utf8'), presented));
    if (!file) return json(401, { error: 'unauthorized', error_description: 'The secret presented does not match a challenge of the agent.' });
    rmSync(file, { force: true });
    ctx.arcFiles.delete(file);
    if (!resource) return json(400, { error: 'invalid_resource', error_description: invalidResource(ctx, q.get('resource')) });
    const identity = chooseIdentity(ctx, q);
    if (!identity) return json(400, { error: 'invalid_request', error_description: NO_IDENTITY });
    const { token, expiresIn, expiresOn } = await issueAccessToken(ctx, identity, resource, 'managed-identity:arc', '2');
    const now = Math.floor(Date.now() / 1000);
    return json(200, {
      access_token: token,
      expires_in: String(expiresIn),
      expires_on: String(expiresOn),
      ext_expires_in: String(expiresIn),
      not_before: String(now),
      resource: resource.uri,
      token_type: 'Bearer',
      ...(identity.kind === 'user' ? { client_id: identity.clientId } : {}),
    });
  }
  return json(404, { error: 'not_found', error_description: `No managed identity endpoint at ${path}.` });
}

function invalidResource(ctx: ManagedIdentityContext, resource: string | null): string {
  return new OAuthError(400, 'invalid_resource', 500011, `The resource principal named ${resource ?? ''} was not found in the tenant named ${ctx.tenant.displayName}.`).message;
}
