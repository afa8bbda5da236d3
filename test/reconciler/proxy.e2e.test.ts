import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { permissionsFor } from '../../reconciler/cli/permissions.js';
import type { PlanDocument } from '../../reconciler/model/plan.js';
import { ROLE_IDS, startSimulator, type RunningSimulator } from '../../simulator/index.js';
import { GUARD_EXIT_CODE } from '../setup/loopback.js';
import { closedPort, makeTls, startForwardProxy, type ForwardProxy, type TestTls } from './forward-proxy.js';
import { cli, planAgainst, synthExamples, target, tokens } from './harness.js';

// The Graph and Exchange reads of a real `posture plan` with HTTPS_PROXY / HTTP_PROXY naming a real
// forward proxy on loopback. Plain http (the simulator on loopback) always goes direct: a proxy is
// another machine, and plain http through it would show it the bearer token. To show the proxy
// path, a second simulator serves Graph and Exchange over HTTPS as graph.proxy.test and
// outlook.proxy.test: names only the proxy resolves (to 127.0.0.1, where the simulator listens), as
// a proxy resolves names its clients cannot. The client connects to the proxy alone, trusts the
// test's CA through NODE_EXTRA_CA_CERTS, and its TLS runs inside the CONNECT tunnel. NO_PROXY, a
// proxy that refuses connections and a proxy that wants credentials (which never show in the
// output) are tried against those names.

const USER = 'svc-posture';
const PASSWORD = 'pr0xy-Pa55word-9f3kT';
const CREDENTIALS = `${USER}:${PASSWORD}`;
const withCredentials = (proxyUrl: string, credentials = CREDENTIALS) => proxyUrl.replace('http://', `http://${credentials}@`);
const GRAPH_HOST = 'graph.proxy.test';
const EXCHANGE_HOST = 'outlook.proxy.test';
/** What the test's proxy resolves, and nothing else does. */
const PROXY_HOSTS = { [GRAPH_HOST]: '127.0.0.1', [EXCHANGE_HOST]: '127.0.0.1' };

let synthDir: string;
let sim: RunningSimulator;
let tls: TestTls;
let secure: RunningSimulator;
let proxy: ForwardProxy | undefined;

beforeAll(async () => {
  synthDir = synthExamples();
  tls = await makeTls([GRAPH_HOST, EXCHANGE_HOST]);
  [sim, secure] = await Promise.all([
    startSimulator({ scenario: 'compliant' }),
    startSimulator({ scenario: 'compliant', tls: { key: tls.key, cert: tls.cert, graphHost: GRAPH_HOST, exchangeHost: EXCHANGE_HOST } }),
  ]);
});
afterAll(() => Promise.all([sim.stop(), secure.stop()]));
afterEach(async () => {
  await proxy?.stop();
  proxy = undefined;
});

const json = (stdout: string) => JSON.parse(stdout) as PlanDocument;
const hostOf = (url: string) => new URL(url).host;
/** Tokens for the HTTPS simulator, and the CA its certificate chains to. */
const secureEnv = (extra: Record<string, string>) => ({ ...tokens(secure), NODE_EXTRA_CA_CERTS: tls.caFile, ...extra });

/** Nothing of the credentials anywhere in what the run printed: not the password, not the pair, not its Basic form. */
function expectNoCredentials(text: string) {
  expect(text).not.toContain(PASSWORD);
  expect(text).not.toContain(CREDENTIALS);
  expect(text).not.toContain(encodeURIComponent(PASSWORD));
  expect(text).not.toContain(Buffer.from(CREDENTIALS).toString('base64'));
}

/**
 * A run that went direct to graph.proxy.test or outlook.proxy.test: only the proxy resolves them, so
 * the client's own connection is stopped by the loopback guard, naming the host it tried.
 */
function expectWentDirect(r: { code: number | null; stderr: string }, host: RegExp) {
  expect(r.code).toBe(GUARD_EXIT_CODE);
  expect(r.stderr).toMatch(new RegExp(`loopback guard: a (connection to|lookup of) ${host.source}`));
}

describe('plain http on loopback never goes through the proxy', () => {
  it('with HTTPS_PROXY and HTTP_PROXY set, the simulator’s plain-http Graph and Exchange are read direct: the proxy carries nothing, the token never reaches it, the plan is clean', async () => {
    proxy = await startForwardProxy({ credentials: CREDENTIALS });
    const before = sim.requests.entries.length;
    const r = await planAgainst(sim, synthDir, ['--format', 'json'], { ...tokens(sim), HTTPS_PROXY: withCredentials(proxy.url), HTTP_PROXY: withCredentials(proxy.url) });
    expect(r.stderr).not.toMatch(/warning|error|fail/i);
    expect(r.code).toBe(0);
    const plan = json(r.stdout);
    expect(plan.findings).toEqual([]);
    expect(plan.incomplete).toEqual([]);
    const served = sim.requests.entries.slice(before);
    expect(served.some((e) => e.api === 'graph')).toBe(true);
    expect(served.some((e) => e.api === 'exchange')).toBe(true);
    expect(proxy.carried).toEqual([]);
    expectNoCredentials(r.stdout + r.stderr);
  });

  it('a proxy that refuses connections does not matter to plain-http loopback reads', async () => {
    const port = await closedPort();
    const r = await planAgainst(sim, synthDir, ['--format', 'json', '--max-retries', '0', '--timeout', '5'], { ...tokens(sim), https_proxy: `http://127.0.0.1:${port}`, http_proxy: `http://127.0.0.1:${port}` });
    expect(r.code, r.stderr).toBe(0);
    expect(json(r.stdout).incomplete).toEqual([]);
  });
});

describe('posture plan behind a forward proxy (Graph and Exchange on HTTPS)', () => {
  it('reads Graph and Exchange through the proxy named by HTTPS_PROXY / HTTP_PROXY, tunnelled, and the plan is clean', async () => {
    proxy = await startForwardProxy({ credentials: CREDENTIALS, hosts: PROXY_HOSTS });
    const before = secure.requests.entries.length;
    const r = await planAgainst(secure, synthDir, ['--format', 'json'], secureEnv({ HTTPS_PROXY: withCredentials(proxy.url), HTTP_PROXY: withCredentials(proxy.url) }));
    expect(r.stderr).not.toMatch(/warning|error|fail/i);
    expect(r.code).toBe(0);
    const plan = json(r.stdout);
    expect(plan.findings).toEqual([]);
    expect(plan.incomplete).toEqual([]);

    // Both services were reached, and only through the proxy: each connection is a CONNECT tunnel to one of them.
    const served = secure.requests.entries.slice(before);
    expect(served.some((e) => e.api === 'graph')).toBe(true);
    expect(served.some((e) => e.api === 'exchange')).toBe(true);
    expect(proxy.carried.length).toBeGreaterThan(0);
    expect(proxy.carried.every((c) => c.kind === 'connect')).toBe(true);
    expect(new Set(proxy.carried.map((c) => c.target))).toEqual(new Set([hostOf(secure.graphUrl), hostOf(secure.exoUrl)]));
    expect(hostOf(secure.graphUrl)).toMatch(/^graph\.proxy\.test:\d+$/);
    // Every request it carried had the proxy's credentials, and none the services' bearer token.
    for (const c of proxy.carried) {
      expect(c.headers['proxy-authorization']).toBe(`Basic ${Buffer.from(CREDENTIALS).toString('base64')}`);
      expect(c.headers['authorization']).toBeUndefined();
    }
    expectNoCredentials(r.stdout + r.stderr);
  });

  it('the lower-case names too: https_proxy / http_proxy, and http_proxy alone for https', async () => {
    proxy = await startForwardProxy({ hosts: PROXY_HOSTS });
    const envs: Array<Record<string, string>> = [{ https_proxy: proxy.url, http_proxy: proxy.url }, { http_proxy: proxy.url }];
    for (const env of envs) {
      const carried = proxy.carried.length;
      const r = await planAgainst(secure, synthDir, ['--format', 'json'], secureEnv(env));
      expect(r.code, r.stderr).toBe(0);
      expect(json(r.stdout).incomplete).toEqual([]);
      expect(proxy.carried.length).toBeGreaterThan(carried);
    }
  });

  it('NO_PROXY naming the hosts (or their domain, or *) sends them direct: the proxy carries nothing', async () => {
    proxy = await startForwardProxy({ hosts: PROXY_HOSTS });
    const envs: Array<Record<string, string>> = [{ NO_PROXY: 'proxy.test' }, { NO_PROXY: '.proxy.test' }, { NO_PROXY: `${GRAPH_HOST}, ${EXCHANGE_HOST}` }, { no_proxy: '*' }];
    for (const env of envs) {
      const r = await planAgainst(secure, synthDir, ['--max-retries', '0', '--timeout', '5'], secureEnv({ HTTPS_PROXY: proxy.url, ...env }));
      expectWentDirect(r, /(graph|outlook)\.proxy\.test/);
    }
    expect(proxy.carried).toEqual([]);
  });

  it('a NO_PROXY entry with a port bypasses the proxy for that port only', async () => {
    proxy = await startForwardProxy({ hosts: PROXY_HOSTS });
    const graphPort = new URL(secure.graphUrl).port;
    const exoPort = new URL(secure.exoUrl).port;
    // Each name with the other's port: neither matches, both go through the proxy.
    const r = await planAgainst(secure, synthDir, ['--format', 'json'], secureEnv({ HTTPS_PROXY: proxy.url, NO_PROXY: `${GRAPH_HOST}:${exoPort},${EXCHANGE_HOST}:${graphPort}` }));
    expect(r.code, r.stderr).toBe(0);
    expect(json(r.stdout).incomplete).toEqual([]);
    expect(new Set(proxy.carried.map((c) => c.target))).toEqual(new Set([hostOf(secure.graphUrl), hostOf(secure.exoUrl)]));
    // Exchange's own port: Exchange goes direct, Graph still through the proxy.
    const carried = proxy.carried.length;
    const direct = await planAgainst(secure, synthDir, ['--max-retries', '0', '--timeout', '5'], secureEnv({ HTTPS_PROXY: proxy.url, NO_PROXY: `${EXCHANGE_HOST}:${exoPort}` }));
    expectWentDirect(direct, /outlook\.proxy\.test/);
    expect(proxy.carried.slice(carried).map((c) => c.target)).not.toContain(hostOf(secure.exoUrl));
  });

  it('a proxy that refuses connections: exit 1, naming the proxy and the cause, nothing reported clean, the credentials never shown', async () => {
    const port = await closedPort();
    const before = secure.requests.entries.length;
    const env = secureEnv({ HTTPS_PROXY: withCredentials(`http://127.0.0.1:${port}`), HTTP_PROXY: withCredentials(`http://127.0.0.1:${port}`) });
    const r = await planAgainst(secure, synthDir, ['--max-retries', '0', '--timeout', '5'], env);
    expect(r.code).toBe(1);
    expect(r.stderr + r.stdout).toMatch(new RegExp(`proxy 127\\.0\\.0\\.1:${port} refused the connection \\(ECONNREFUSED 127\\.0\\.0\\.1:${port}\\)`));
    expect(r.stderr + r.stdout).not.toMatch(/fetch failed/);
    expect(r.stderr).toMatch(/the run is incomplete; this is not a clean result/);
    expect(r.stdout).not.toMatch(/No changes|nothing to change/i);
    expect(secure.requests.entries.length).toBe(before);
    expectNoCredentials(r.stdout + r.stderr);

    // The JSON plan names the cause too; neither it nor the evidence trail holds the credentials.
    const cwd = mkdtempSync(join(tmpdir(), 'posture-proxy-'));
    const j = await cli(['plan', ...target(secure, synthDir), '--max-retries', '0', '--timeout', '5', '--format', 'json'], env, cwd);
    expect(j.code).toBe(1);
    const plan = json(j.stdout);
    expect(plan.incomplete.length).toBeGreaterThan(0);
    expect(JSON.stringify(plan.incomplete)).toMatch(new RegExp(`proxy 127\\.0\\.0\\.1:${port} refused the connection`));
    const evidence = readFileSync(join(cwd, 'posture-evidence.jsonl'), 'utf8');
    expect(evidence).toMatch(/"byStatus":\{"not-evaluated":\d+\}/);
    expectNoCredentials(j.stdout + j.stderr + evidence);
  });

  it('a proxy that refuses the credentials given: exit 1, the proxy named with its 407, the credentials never shown', async () => {
    proxy = await startForwardProxy({ credentials: 'someone:else-entirely', hosts: PROXY_HOSTS });
    const r = await planAgainst(secure, synthDir, ['--max-retries', '0', '--timeout', '5'], secureEnv({ HTTPS_PROXY: withCredentials(proxy.url) }));
    expect(r.code).toBe(1);
    expect(r.stderr + r.stdout).toMatch(new RegExp(`proxy 127\\.0\\.0\\.1:${proxy.port} asked for authentication \\(HTTP 407 to CONNECT (graph|outlook)\\.proxy\\.test:\\d+\\): it refused the user name and password given`));
    expectNoCredentials(r.stdout + r.stderr);
  });

  it('a proxy variable that is not an http(s) URL is refused before anything is sent, without echoing it', async () => {
    const before = secure.requests.entries.length;
    const r = await planAgainst(secure, synthDir, [], secureEnv({ HTTPS_PROXY: `${CREDENTIALS}@proxy.example:3128` }));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/HTTPS_PROXY is not an http:\/\/ or https:\/\/ URL/);
    expect(secure.requests.entries.length).toBe(before);
    expectNoCredentials(r.stdout + r.stderr);
  });
});

describe('signing in behind the proxy: github-oidc', () => {
  let idSim: RunningSimulator;
  const READER = '7d0c6a1e-5b2f-4c3d-9e8a-1f2a3b4c5d11';
  beforeAll(async () => {
    idSim = await startSimulator({ scenario: 'compliant', identity: true });
  });
  afterAll(() => idSim.stop());

  // The identity endpoints are HTTPS on 127.0.0.1 only (their certificate names loopback), and the
  // tokens a client credential gets are for Microsoft's own resources, so this run keeps the
  // simulator's plain-http Graph and Exchange. @azure/identity routes its token requests by the proxy
  // variables itself, tunnelled; posture's own requests to loopback (the job's OIDC token request on
  // https://127.0.0.1, the plain-http reads) go direct.
  it('the token requests go through the proxy, tunnelled, without the bearer; the job’s OIDC token request and the loopback reads go direct; the plan is clean', async () => {
    const id = idSim.identity!;
    const job = await id.federation.githubJob({ repository: 'contoso/email-posture', event: 'pull_request' });
    const perms = permissionsFor('plan');
    id.registerApp({
      clientId: READER,
      displayName: 'email-posture reader (behind a proxy)',
      roles: { graph: perms.filter((p) => p.api === 'graph').map((p) => p.name), exchange: perms.filter((p) => p.api === 'exchange').map((p) => p.name) },
      directoryRoles: perms.filter((p) => p.api === 'entra-role').map(() => ROLE_IDS.globalReader),
      federatedCredentials: [{ name: 'github-pr', issuer: job.issuer, subject: job.subject, audiences: ['api://AzureADTokenExchange'] }],
    });
    proxy = await startForwardProxy({ credentials: CREDENTIALS });
    const identityHost = hostOf(id.env.AZURE_AUTHORITY_HOST);
    const r = await cli(['plan', ...target(idSim, synthDir), '--auth', 'github-oidc', '--color', 'false', '--format', 'json'], {
      ...id.env,
      AZURE_TENANT_ID: idSim.tenantId,
      AZURE_CLIENT_ID: READER,
      ...job.env,
      HTTPS_PROXY: withCredentials(proxy.url),
      HTTP_PROXY: withCredentials(proxy.url),
    });
    expect(r.code, r.stderr).toBe(0);
    expect(json(r.stdout).incomplete).toEqual([]);
    expect(new Set(proxy.carried.map((c) => c.target))).toEqual(new Set([identityHost]));
    expect(proxy.carried.every((c) => c.kind === 'connect')).toBe(true);
    for (const c of proxy.carried) expect(c.headers['authorization']).toBeUndefined();
    expect(idSim.requests.entries.some((e) => e.api === 'identity' && e.path.startsWith('/github-actions/'))).toBe(true);
    expectNoCredentials(r.stdout + r.stderr);
    expect(r.stdout + r.stderr).not.toContain(job.env.ACTIONS_ID_TOKEN_REQUEST_TOKEN);
  });
});
