import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { permissionsFor } from '../../reconciler/cli/permissions.js';
import type { PlanDocument } from '../../reconciler/model/plan.js';
import { ROLE_IDS, startSimulator, type RunningSimulator } from '../../simulator/index.js';
import { closedPort, startForwardProxy, type ForwardProxy } from './forward-proxy.js';
import { cli, planAgainst, synthExamples, target, tokens } from './harness.js';

// The Graph and Exchange reads of a real `posture plan`, through a real forward proxy on loopback
// named by HTTPS_PROXY / HTTP_PROXY (the simulator is plain http on loopback, so HTTP_PROXY is the
// one that routes it), with NO_PROXY bypassing it, a proxy that refuses connections, and a proxy
// that wants credentials, which never show in the output.

const USER = 'svc-posture';
const PASSWORD = 'pr0xy-Pa55word-9f3kT';
const CREDENTIALS = `${USER}:${PASSWORD}`;
const withCredentials = (proxyUrl: string, credentials = CREDENTIALS) => proxyUrl.replace('http://', `http://${credentials}@`);

let synthDir: string;
let sim: RunningSimulator;
let proxy: ForwardProxy | undefined;

beforeAll(async () => {
  synthDir = synthExamples();
  sim = await startSimulator({ scenario: 'compliant' });
});
afterAll(() => sim.stop());
afterEach(async () => {
  await proxy?.stop();
  proxy = undefined;
});

const json = (stdout: string) => JSON.parse(stdout) as PlanDocument;
const hostOf = (url: string) => new URL(url).host;

/** Nothing of the credentials anywhere in what the run printed: not the password, not the pair, not its Basic form. */
function expectNoCredentials(text: string) {
  expect(text).not.toContain(PASSWORD);
  expect(text).not.toContain(CREDENTIALS);
  expect(text).not.toContain(encodeURIComponent(PASSWORD));
  expect(text).not.toContain(Buffer.from(CREDENTIALS).toString('base64'));
}

describe('posture plan behind a forward proxy', () => {
  it('reads Graph and Exchange through the proxy named by HTTPS_PROXY / HTTP_PROXY, tunnelled, and the plan is clean', async () => {
    proxy = await startForwardProxy({ credentials: CREDENTIALS });
    const before = sim.requests.entries.length;
    const r = await planAgainst(sim, synthDir, ['--format', 'json'], { ...tokens(sim), HTTPS_PROXY: withCredentials(proxy.url), HTTP_PROXY: withCredentials(proxy.url) });
    expect(r.stderr).not.toMatch(/warning|error|fail/i);
    expect(r.code).toBe(0);
    const plan = json(r.stdout);
    expect(plan.findings).toEqual([]);
    expect(plan.incomplete).toEqual([]);

    // Both services were reached, and only through the proxy: each connection is a CONNECT tunnel to one of them.
    const served = sim.requests.entries.slice(before);
    expect(served.some((e) => e.api === 'graph')).toBe(true);
    expect(served.some((e) => e.api === 'exchange')).toBe(true);
    const tunnels = proxy.carried.filter((c) => c.kind === 'connect');
    expect(tunnels.length).toBeGreaterThan(0);
    expect(new Set(tunnels.map((c) => c.target))).toEqual(new Set([hostOf(sim.graphUrl), hostOf(sim.exoUrl)]));
    // Every request it carried had the proxy's credentials, and none the services' bearer token.
    for (const c of proxy.carried) {
      expect(c.headers['proxy-authorization']).toBe(`Basic ${Buffer.from(CREDENTIALS).toString('base64')}`);
      expect(c.headers['authorization']).toBeUndefined();
    }
    expectNoCredentials(r.stdout + r.stderr);
  });

  it('the lower-case names too: https_proxy / http_proxy', async () => {
    proxy = await startForwardProxy();
    const r = await planAgainst(sim, synthDir, ['--format', 'json'], { ...tokens(sim), https_proxy: proxy.url, http_proxy: proxy.url });
    expect(r.code).toBe(0);
    expect(json(r.stdout).incomplete).toEqual([]);
    expect(proxy.carried.length).toBeGreaterThan(0);
  });

  it('NO_PROXY naming the simulator host bypasses the proxy: it carries nothing', async () => {
    proxy = await startForwardProxy();
    for (const noProxy of ['127.0.0.1', `localhost, 127.0.0.1`]) {
      const r = await planAgainst(sim, synthDir, ['--format', 'json'], { ...tokens(sim), HTTPS_PROXY: proxy.url, HTTP_PROXY: proxy.url, NO_PROXY: noProxy });
      expect(r.code).toBe(0);
      expect(json(r.stdout).incomplete).toEqual([]);
    }
    const r = await planAgainst(sim, synthDir, ['--format', 'json'], { ...tokens(sim), http_proxy: proxy.url, no_proxy: '*' });
    expect(r.code).toBe(0);
    expect(proxy.carried).toEqual([]);
  });

  it('a NO_PROXY entry with a port bypasses the proxy for that port only', async () => {
    proxy = await startForwardProxy();
    const r = await planAgainst(sim, synthDir, ['--format', 'json'], { ...tokens(sim), HTTP_PROXY: proxy.url, NO_PROXY: hostOf(sim.graphUrl) });
    expect(r.code).toBe(0);
    expect(json(r.stdout).incomplete).toEqual([]);
    expect(new Set(proxy.carried.map((c) => c.target))).toEqual(new Set([hostOf(sim.exoUrl)]));
  });

  it('a proxy that refuses connections: exit 1, naming the proxy and the cause, nothing reported clean, the credentials never shown', async () => {
    const port = await closedPort();
    const before = sim.requests.entries.length;
    const env = { ...tokens(sim), HTTPS_PROXY: withCredentials(`http://127.0.0.1:${port}`), HTTP_PROXY: withCredentials(`http://127.0.0.1:${port}`) };
    const r = await planAgainst(sim, synthDir, ['--max-retries', '0', '--timeout', '5'], env);
    expect(r.code).toBe(1);
    expect(r.stderr + r.stdout).toMatch(new RegExp(`proxy 127\\.0\\.0\\.1:${port} refused the connection \\(ECONNREFUSED 127\\.0\\.0\\.1:${port}\\)`));
    expect(r.stderr + r.stdout).not.toMatch(/fetch failed/);
    expect(r.stderr).toMatch(/the run is incomplete; this is not a clean result/);
    expect(r.stdout).not.toMatch(/No changes|nothing to change/i);
    expect(sim.requests.entries.length).toBe(before);
    expectNoCredentials(r.stdout + r.stderr);

    // The JSON plan names the cause too; neither it nor the evidence trail holds the credentials.
    const cwd = mkdtempSync(join(tmpdir(), 'posture-proxy-'));
    const j = await cli(['plan', ...target(sim, synthDir), '--max-retries', '0', '--timeout', '5', '--format', 'json'], env, cwd);
    expect(j.code).toBe(1);
    const plan = json(j.stdout);
    expect(plan.incomplete.length).toBeGreaterThan(0);
    expect(JSON.stringify(plan.incomplete)).toMatch(new RegExp(`proxy 127\\.0\\.0\\.1:${port} refused the connection`));
    const evidence = readFileSync(join(cwd, 'posture-evidence.jsonl'), 'utf8');
    expect(evidence).toMatch(/"byStatus":\{"not-evaluated":\d+\}/);
    expectNoCredentials(j.stdout + j.stderr + evidence);
  });

  it('a proxy that refuses the credentials given: exit 1, the proxy named with its 407, the credentials never shown', async () => {
    proxy = await startForwardProxy({ credentials: 'someone:else-entirely' });
    const r = await planAgainst(sim, synthDir, ['--max-retries', '0', '--timeout', '5'], { ...tokens(sim), HTTP_PROXY: withCredentials(proxy.url) });
    expect(r.code).toBe(1);
    expect(r.stderr + r.stdout).toMatch(new RegExp(`proxy 127\\.0\\.0\\.1:${proxy.port} asked for authentication \\(HTTP 407 to CONNECT 127\\.0\\.0\\.1:\\d+\\)`));
    expectNoCredentials(r.stdout + r.stderr);
  });

  it('a proxy variable that is not an http(s) URL is refused before anything is sent, without echoing it', async () => {
    const before = sim.requests.entries.length;
    const r = await planAgainst(sim, synthDir, [], { ...tokens(sim), HTTPS_PROXY: `${CREDENTIALS}@proxy.example:3128` });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/HTTPS_PROXY is not an http:\/\/ or https:\/\/ URL/);
    expect(sim.requests.entries.length).toBe(before);
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

  it('the job’s OIDC token request, the token requests and the reads all go through the proxy, and the plan is clean', async () => {
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
    const targets = new Set(proxy.carried.map((c) => c.target));
    expect(targets).toEqual(new Set([identityHost, hostOf(idSim.graphUrl), hostOf(idSim.exoUrl)]));
    for (const c of proxy.carried) expect(c.headers['authorization']).toBeUndefined();
    expectNoCredentials(r.stdout + r.stderr);
    expect(r.stdout + r.stderr).not.toContain(job.env.ACTIONS_ID_TOKEN_REQUEST_TOKEN);
  });
});
