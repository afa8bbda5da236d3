import { Agent, fetch as undiciFetch } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type RunningSimulator } from '../../simulator/index.js';

// Many tenants behind one Graph and one Exchange endpoint: the token's tid chooses the tenant.

const A = '0f1e2d3c-0000-4000-8000-0000000000a1';
const B = '0f1e2d3c-0000-4000-8000-0000000000b2';
const CLIENT = '6b1c2d3e-0000-4000-8000-00000000f1ee';
const SECRET = 'fleet.simulated-secret_4kT0pLmN4vRw2zYb6';

let sim: RunningSimulator;

beforeAll(async () => {
  sim = await startSimulator({
    scenario: 'compliant',
    tenants: [
      { id: A, generate: { mailboxes: 3 }, displayName: 'Tenant A' },
      { id: B, generate: { mailboxes: 7 }, displayName: 'Tenant B', limits: { conditionalAccessPerSecond: 1000 } },
    ],
    identity: { apps: [{ clientId: CLIENT, displayName: 'fleet reader', secrets: [{ value: SECRET }], roles: { graph: ['User.Read.All'], exchange: ['Exchange.ManageAsApp'] }, directoryRoles: ['f2ef992c-3afb-46b9-b7cf-a126ee74c451'] }] },
  });
});
afterAll(() => sim?.stop());

const users = async (token: string): Promise<string[]> => {
  const r = await fetch(`${sim.graphUrl}/v1.0/users?$select=userPrincipalName&$top=999`, { headers: { Authorization: `Bearer ${token}` } });
  expect(r.status).toBe(200);
  return ((await r.json()) as { value: Array<{ userPrincipalName: string }> }).value.map((u) => u.userPrincipalName);
};

const invoke = (tenantInPath: string, token: string) =>
  fetch(`${sim.exoUrl}/adminapi/beta/${tenantInPath}/InvokeCommand`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ CmdletInput: { CmdletName: 'Get-Mailbox', Parameters: { ResultSize: 'Unlimited' } } }),
  });

describe('a simulator serving several tenants', () => {
  it('lists every tenant it serves, each with its own state', () => {
    expect([...sim.tenants.keys()].sort()).toEqual([sim.tenantId.toLowerCase(), A, B].sort());
    expect(sim.tenants.get(A)!.tenant).not.toBe(sim.tenants.get(B)!.tenant);
  });

  it("answers Graph from the state of the token's tenant", async () => {
    const base = (await users(sim.token('graph'))).length;
    expect((await users(sim.token('graph', { tenantId: A }))).length).toBe(base + 3);
    expect((await users(sim.token('graph', { tenantId: B }))).length).toBe(base + 7);
  });

  it("a write with one tenant's token changes that tenant only", async () => {
    const user = '7e57a000-0000-4000-8000-000000000000';
    const enabled = async (tenant: string) => {
      const r = await fetch(`${sim.graphUrl}/v1.0/users/${user}?$select=accountEnabled`, { headers: { Authorization: `Bearer ${sim.token('graph', { tenantId: tenant })}` } });
      expect(r.status).toBe(200);
      return ((await r.json()) as { accountEnabled: boolean }).accountEnabled;
    };
    const r = await fetch(`${sim.graphUrl}/v1.0/users/${user}`, {
      method: 'PATCH',
      headers: { Authorization: `Bearer ${sim.token('graph', { tenantId: A, roles: ['User.ReadWrite.All'], wids: ['62e90394-69f5-4237-9190-012177145e10'] })}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ accountEnabled: false }),
    });
    expect(r.status).toBe(204);
    expect(await enabled(A)).toBe(false);
    expect(await enabled(B)).toBe(true);
  });

  it("never reads another tenant's Exchange: a token for A at B's path is refused", async () => {
    const ok = await invoke(A, sim.token('exchange', { tenantId: A }));
    expect(ok.status).toBe(200);
    const other = await invoke(B, sim.token('exchange', { tenantId: A }));
    expect(other.status).toBe(404);
    expect(await other.text()).not.toContain('user0@');
  });

  it("refuses a token naming a tenant it does not serve", async () => {
    const r = await fetch(`${sim.graphUrl}/v1.0/users`, { headers: { Authorization: `Bearer ${sim.token('graph', { tenantId: '0f1e2d3c-0000-4000-8000-0000000000ff' })}` } });
    expect(r.status).toBe(401);
  });

  it('issues tokens for each tenant to one multi-tenant application, with that tenant as tid', async () => {
    const tokenFor = async (tenant: string) => {
      const r = await undiciFetch(`${sim.identity!.authorityHost}/${tenant}/oauth2/v2.0/token`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ grant_type: 'client_credentials', client_id: CLIENT, client_secret: SECRET, scope: 'https://graph.microsoft.com/.default' }).toString(),
        // The identity endpoint is HTTPS under the simulator's own CA.
        dispatcher: caDispatcher(),
      });
      expect(r.status).toBe(200);
      const token = ((await r.json()) as { access_token: string }).access_token;
      return { token, tid: (JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString('utf8')) as { tid: string }).tid };
    };
    const a = await tokenFor(A);
    const b = await tokenFor(B);
    expect(a.tid).toBe(A);
    expect(b.tid).toBe(B);
    expect((await users(a.token)).length).toBe((await users(sim.token('graph', { tenantId: A }))).length);
    const unknown = await undiciFetch(`${sim.identity!.authorityHost}/0f1e2d3c-0000-4000-8000-0000000000ff/oauth2/v2.0/token`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'client_credentials', client_id: CLIENT, client_secret: SECRET, scope: 'https://graph.microsoft.com/.default' }).toString(),
      dispatcher: caDispatcher(),
    });
    expect(unknown.status).toBe(400);
  });
});

describe('the application limit across tenants', () => {
  it("counts one app's Graph requests to every tenant together", async () => {
    const s = await startSimulator({ scenario: 'compliant', limits: { appPerSecond: 3 }, tenants: [{ id: A }, { id: B }] });
    try {
      // Four requests in the same second; the clock is read by the simulator, so all four land in one window only when sent together.
      const codes = await Promise.all([A, B, A, B].map(async (t) => (await fetch(`${s.graphUrl}/v1.0/organization`, { headers: { Authorization: `Bearer ${s.token('graph', { tenantId: t })}` } })).status));
      expect(codes.filter((c) => c === 429).length).toBeGreaterThanOrEqual(1);
    } finally {
      await s.stop();
    }
  });
});

const caDispatcher = () => new Agent({ connect: { ca: sim.identity!.caPem } });
