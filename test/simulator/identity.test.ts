import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Agent } from 'undici';
import { createLocalJWKSet, decodeJwt, jwtVerify, type JWK } from 'jose';
import { makeClientCertificate, ROLE_IDS, startSimulator, type RunningSimulator } from '../../simulator/index.js';

// The identity endpoints on their own, over HTTPS with the simulator's CA: the documents MSAL reads,
// the token endpoint's answers, and the Graph and Exchange endpoints' view of the tokens it issues.

const APP = '3f2e1d0c-aaaa-4bbb-8ccc-0123456789ab';
const SECRET = 'simulated-secret-value';
let sim: RunningSimulator;
let dispatcher: Agent;

beforeAll(async () => {
  sim = await startSimulator({
    identity: { apps: [{ clientId: APP, displayName: 'reader', secrets: [{ value: SECRET }, { value: 'old-secret', endDateTime: '2020-01-01T00:00:00Z' }], roles: { graph: ['User.Read.All'], exchange: ['Exchange.ManageAsApp'] }, directoryRoles: [ROLE_IDS.globalReader] }] },
  });
  dispatcher = new Agent({ connect: { ca: sim.identity!.caPem } });
});
afterAll(async () => {
  await dispatcher?.close();
  await sim?.stop();
});

const get = async (path: string) => {
  const res = await fetch(`${sim.identity!.authorityHost}${path}`, { dispatcher } as unknown as RequestInit);
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
};
const token = async (form: Record<string, string>, tenant = sim.tenantId) => {
  const res = await fetch(`${sim.identity!.authorityHost}/${tenant}/oauth2/v2.0/token`, { method: 'POST', body: new URLSearchParams(form), dispatcher } as unknown as RequestInit);
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
};
const credentials = (o: Record<string, string> = {}) => ({ grant_type: 'client_credentials', client_id: APP, client_secret: SECRET, scope: 'https://graph.microsoft.com/.default', ...o });

describe('identity endpoints', () => {
  it('serve HTTPS with a certificate only the simulator’s CA vouches for', async () => {
    await expect(fetch(`${sim.identity!.authorityHost}/common/discovery/instance`)).rejects.toThrow();
    expect(sim.identity!.authorityHost).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
  });

  it('publish the tenant’s OpenID configuration (by id or domain) and its signing keys', async () => {
    for (const name of [sim.tenantId, sim.tenant.initialDomain]) {
      const { status, body } = await get(`/${name}/v2.0/.well-known/openid-configuration`);
      expect(status).toBe(200);
      expect(body).toMatchObject({
        issuer: `${sim.identity!.authorityHost}/${sim.tenantId}/v2.0`,
        token_endpoint: `${sim.identity!.authorityHost}/${sim.tenantId}/oauth2/v2.0/token`,
        jwks_uri: `${sim.identity!.authorityHost}/${sim.tenantId}/discovery/v2.0/keys`,
        token_endpoint_auth_methods_supported: ['client_secret_post', 'private_key_jwt', 'client_secret_basic'],
      });
    }
    expect((await get('/not-a-tenant.example/v2.0/.well-known/openid-configuration')).body).toMatchObject({ error: 'invalid_tenant', error_codes: [90002] });
    const keys = (await get(`/${sim.tenantId}/discovery/v2.0/keys`)).body['keys'] as JWK[];
    expect(keys[0]).toMatchObject({ kty: 'RSA', use: 'sig', kid: expect.any(String) });
  });

  it('answer instance discovery for their own host, and invalid_instance for another', async () => {
    const own = await get(`/common/discovery/instance?api-version=1.1&authorization_endpoint=${encodeURIComponent(`${sim.identity!.authorityHost}/${sim.tenantId}/oauth2/v2.0/authorize`)}`);
    const host = new URL(sim.identity!.authorityHost).host;
    expect(own.body).toMatchObject({ 'api-version': '1.1', metadata: [{ preferred_network: host, preferred_cache: host, aliases: [host] }] });
    const other = await get(`/common/discovery/instance?api-version=1.1&authorization_endpoint=${encodeURIComponent('https://login.example/t/oauth2/v2.0/authorize')}`);
    expect(other).toMatchObject({ status: 400, body: { error: 'invalid_instance' } });
  });

  it('issue a signed token with the app’s roles and directory roles for the one resource asked', async () => {
    const graph = await token(credentials());
    expect(graph.status).toBe(200);
    expect(graph.body).toMatchObject({ token_type: 'Bearer', expires_in: 3599, ext_expires_in: 3599 });
    const keys = (await get(`/${sim.tenantId}/discovery/v2.0/keys`)).body as { keys: JWK[] };
    const { payload } = await jwtVerify(String(graph.body['access_token']), createLocalJWKSet(keys), { audience: 'https://graph.microsoft.com', issuer: `https://sts.windows.net/${sim.tenantId}/` });
    expect(payload).toMatchObject({ appid: APP, tid: sim.tenantId, idtyp: 'app', roles: ['User.Read.All'], wids: [ROLE_IDS.globalReader], appidacr: '1' });
    const exchange = decodeJwt(String((await token(credentials({ scope: 'https://outlook.office365.com/.default' }))).body['access_token']));
    expect(exchange).toMatchObject({ aud: 'https://outlook.office365.com', roles: ['Exchange.ManageAsApp'] });
  });

  it.each([
    ['a scope that is not /.default', { scope: 'https://outlook.office365.com/Exchange.ManageAsApp' }, 400, 'invalid_scope', 1002012],
    ['two resources at once', { scope: 'https://graph.microsoft.com/.default https://outlook.office365.com/.default' }, 400, 'invalid_scope', 1002012],
    ['a resource the tenant does not have', { scope: 'https://management.example/.default' }, 400, 'invalid_resource', 500011],
    ['an unknown client', { client_id: '00000000-0000-0000-0000-0000000000ff' }, 400, 'unauthorized_client', 700016],
    ['a wrong secret', { client_secret: 'nope' }, 401, 'invalid_client', 7000215],
    ['an expired secret', { client_secret: 'old-secret' }, 401, 'invalid_client', 7000222],
    ['another grant type', { grant_type: 'password' }, 400, 'unsupported_grant_type', 70003],
  ])('refuse %s with Entra’s error', async (_what, form, status, error, code) => {
    const r = await token(credentials(form));
    expect(r.status).toBe(status);
    expect(r.body).toMatchObject({ error, error_codes: [code] });
    expect(String(r.body['error_description'])).toMatch(new RegExp(`^AADSTS${code}: `));
    expect(r.body['access_token']).toBeUndefined();
  });

  it('refuse a certificate assertion for another audience, and a jti that comes back with another assertion', async () => {
    const cert = await makeClientCertificate();
    sim.identity!.registerApp({ clientId: 'c1c1c1c1-0000-4000-8000-000000000001', certificates: [{ certificatePem: cert.certificatePem }] });
    const { SignJWT, importPKCS8 } = await import('jose');
    const key = await importPKCS8(cert.pem.slice(0, cert.pem.indexOf('-----BEGIN CERTIFICATE-----')), 'PS256');
    const x5t = Buffer.from(cert.thumbprintSha256, 'hex').toString('base64url');
    const assertion = (aud: string, jti: string) =>
      new SignJWT({ jti }).setProtectedHeader({ alg: 'PS256', 'x5t#S256': x5t }).setIssuer('c1c1c1c1-0000-4000-8000-000000000001').setSubject('c1c1c1c1-0000-4000-8000-000000000001').setAudience(aud).setIssuedAt().setNotBefore('0s').setExpirationTime('10m').sign(key);
    const endpoint = `${sim.identity!.authorityHost}/${sim.tenantId}/oauth2/v2.0/token`;
    const form = async (aud: string, jti: string) => ({ grant_type: 'client_credentials', client_id: 'c1c1c1c1-0000-4000-8000-000000000001', scope: 'https://graph.microsoft.com/.default', client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer', client_assertion: await assertion(aud, jti) });
    expect((await token(await form('https://elsewhere.example/token', 'a'))).status).toBe(400);
    const stale = await new SignJWT({ jti: 'c' }).setProtectedHeader({ alg: 'PS256', 'x5t#S256': x5t }).setIssuer('c1c1c1c1-0000-4000-8000-000000000001').setSubject('c1c1c1c1-0000-4000-8000-000000000001').setAudience(endpoint).setIssuedAt(Math.floor(Date.now() / 1000) - 3600).setNotBefore(Math.floor(Date.now() / 1000) - 3600).setExpirationTime(Math.floor(Date.now() / 1000) - 1800).sign(key);
    const expiredAssertion = await token({ ...(await form(endpoint, 'c')), client_assertion: stale });
    expect(expiredAssertion).toMatchObject({ status: 400, body: { error_codes: [700024] } });
    expect((await token(await form(endpoint, 'b'))).status).toBe(200);
    const replay = await token(await form(endpoint, 'b'));
    expect(replay).toMatchObject({ status: 400, body: { error_codes: [50027] } });
  });
});

describe('federated assertions', () => {
  it('are checked against the issuer’s published keys: a token signed by another key under the same issuer is refused', async () => {
    const { SigningKey } = await import('../../simulator/identity/keys.js');
    const id = sim.identity!;
    const job = await id.federation.githubJob({ repository: 'contoso/posture', event: 'pull_request' });
    id.registerApp({ clientId: 'f1f1f1f1-0000-4000-8000-000000000001', federatedCredentials: [{ name: 'pr', issuer: job.issuer, subject: job.subject, audiences: ['api://AzureADTokenExchange'] }] });
    const form = (assertion: string) => ({ grant_type: 'client_credentials', client_id: 'f1f1f1f1-0000-4000-8000-000000000001', scope: 'https://graph.microsoft.com/.default', client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer', client_assertion: assertion });
    const res = await fetch(`${job.env.ACTIONS_ID_TOKEN_REQUEST_URL}&audience=api://AzureADTokenExchange`, { headers: { Authorization: `Bearer ${job.env.ACTIONS_ID_TOKEN_REQUEST_TOKEN}` }, dispatcher } as unknown as RequestInit);
    const genuine = ((await res.json()) as { value: string }).value;
    expect((await token(form(genuine))).status).toBe(200);
    const now = Math.floor(Date.now() / 1000);
    const forged = await (await SigningKey.create()).sign({ ...decodeJwt(genuine), jti: 'forged', iat: now, nbf: now, exp: now + 300 });
    expect(await token(form(forged))).toMatchObject({ status: 401, body: { error_codes: [50013] } });
    // The GitHub stand-in itself: a wrong bearer gets nothing.
    expect((await fetch(job.env.ACTIONS_ID_TOKEN_REQUEST_URL, { headers: { Authorization: 'Bearer nope' }, dispatcher } as unknown as RequestInit)).status).toBe(401);
  });
});

describe('Graph and Exchange accept the identity endpoint’s tokens for their own audience only', () => {
  const call = (url: string, t: string, init: RequestInit = {}) => fetch(url, { ...init, headers: { Authorization: `Bearer ${t}`, 'Content-Type': 'application/json' } });
  const invoke = (t: string) => call(`${sim.exoUrl}/adminapi/beta/${sim.tenantId}/InvokeCommand`, t, { method: 'POST', body: JSON.stringify({ CmdletInput: { CmdletName: 'Get-AcceptedDomain', Parameters: {} } }) });

  it('a Graph token reads Graph and is refused by Exchange; an Exchange token the other way round', async () => {
    const graph = String((await token(credentials())).body['access_token']);
    const exchange = String((await token(credentials({ scope: 'https://outlook.office365.com/.default' }))).body['access_token']);
    expect((await call(`${sim.graphUrl}/v1.0/users?$top=1`, graph)).status).toBe(200);
    expect((await call(`${sim.graphUrl}/v1.0/users?$top=1`, exchange)).status).toBe(401);
    expect((await invoke(exchange)).status).toBe(200);
    expect((await invoke(graph)).status).toBe(401);
  });

  it('a signed token whose claims were changed is refused', async () => {
    const graph = String((await token(credentials())).body['access_token']);
    const [h, p, s] = graph.split('.');
    const claims = JSON.parse(Buffer.from(p!, 'base64url').toString()) as Record<string, unknown>;
    const forged = `${h}.${Buffer.from(JSON.stringify({ ...claims, roles: ['Policy.ReadWrite.ConditionalAccess'] })).toString('base64url')}.${s}`;
    const r = await call(`${sim.graphUrl}/v1.0/users?$top=1`, forged);
    expect(r.status).toBe(401);
    expect(((await r.json()) as { error: { message: string } }).error.message).toBe('IDX10511: Signature validation failed.');
  });
});
