import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { permissionsFor } from '../../reconciler/cli/permissions.js';
import type { PlanDocument } from '../../reconciler/model/plan.js';
import { makeClientCertificate, mintToken, EXCHANGE_AUDIENCE, ROLE_IDS, startSimulator, type AppRegistration, type ClientCertificate, type Grants, type RunningSimulator } from '../../simulator/index.js';
import { ARC_TOKEN_DIRECTORY } from '../../simulator/identity/managed-identity.js';
import { azureDevOpsCredential, githubSubjects } from '../examples/federation.js';
import { cli, synthExamples, target, type CliResult } from './harness.js';

// Every --auth method, through @azure/identity and MSAL as they run in a pipeline, against the
// simulator's identity endpoints: the credential gets real tokens over HTTPS (trusted through
// NODE_EXTRA_CA_CERTS), and Graph and Exchange accept them only for their own audience.

const REPO = 'contoso/email-posture';
const READER = '7d0c6a1e-5b2f-4c3d-9e8a-1f2a3b4c5d01';
const WRITER = '7d0c6a1e-5b2f-4c3d-9e8a-1f2a3b4c5d02';
const SECRET = 'Xq8~simulated.client-secret_9f3kT0pLmN4vRw2zYb6';
const SYSTEM_MI = '5a1b2c3d-0000-4000-8000-00000000a001';
const USER_MI = '5a1b2c3d-0000-4000-8000-00000000a002';
const ADO = { organization: 'contoso', project: 'Posture', connection: { id: '0f4e3d2c-1b0a-4988-8776-655443322110', name: 'email-posture-reader' } };
const ROLE = { 'Global Reader': ROLE_IDS.globalReader, 'Exchange Administrator': ROLE_IDS.exchangeAdministrator } as Record<string, string>;

/** The grants `posture permissions <command>` names: Graph and Exchange application permissions, and the directory role. */
function grantsFor(command: 'plan' | 'apply'): Grants {
  const perms = permissionsFor(command);
  return {
    roles: { graph: perms.filter((p) => p.api === 'graph').map((p) => p.name), exchange: perms.filter((p) => p.api === 'exchange').map((p) => p.name) },
    directoryRoles: perms.filter((p) => p.api === 'entra-role').map((p) => ROLE[p.name]!),
  };
}

const concrete = (subject: string) => subject.replace('ORG/REPO', REPO).replace('ORG/PROJECT/CONNECTION', `${ADO.organization}/${ADO.project}/${ADO.connection.name}`);

let synthDir: string;
let sim: RunningSimulator;
let valid: ClientCertificate;
let expired: ClientCertificate;
let stranger: ClientCertificate;
let work: string;
let kubernetes: { issuer: string; subject: string };

beforeAll(async () => {
  synthDir = synthExamples();
  work = mkdtempSync(join(tmpdir(), 'posture-auth-'));
  const now = Date.now();
  [valid, expired, stranger] = await Promise.all([
    makeClientCertificate({ subject: 'CN=email-posture reader' }),
    makeClientCertificate({ subject: 'CN=email-posture reader (old)', notBefore: new Date(now - 40 * 86_400_000), notAfter: new Date(now - 86_400_000) }),
    makeClientCertificate({ subject: 'CN=someone else' }),
  ]);
  sim = await startSimulator({ scenario: 'compliant', identity: true });
  const id = sim.identity!;
  const sa = await id.federation.serviceAccountToken({ namespace: 'posture', serviceAccount: 'email-posture' });
  kubernetes = { issuer: sa.issuer, subject: sa.subject };
  const ado = await id.federation.azurePipelinesJob({ organization: ADO.organization, project: ADO.project, serviceConnections: [ADO.connection] });
  const documentedAdo = azureDevOpsCredential();
  const fic = (app: 'reader' | 'writer') =>
    githubSubjects()
      .filter((s) => s.app === app)
      .map((s, i) => ({ name: `github-${app}-${i}`, issuer: 'https://token.actions.githubusercontent.com', subject: concrete(s.subject), audiences: ['api://AzureADTokenExchange'] }));
  const reader: AppRegistration = {
    clientId: READER,
    displayName: 'email-posture reader',
    ...grantsFor('plan'),
    secrets: [{ value: SECRET }],
    certificates: [{ certificatePem: valid.certificatePem }, { certificatePem: expired.certificatePem }],
    federatedCredentials: [
      ...fic('reader'),
      { name: 'azure-devops', issuer: ado.issuer, subject: concrete(documentedAdo.subject), audiences: ['api://AzureADTokenExchange'] },
      { name: 'kubernetes', issuer: kubernetes.issuer, subject: kubernetes.subject, audiences: ['api://AzureADTokenExchange'] },
    ],
  };
  id.registerApp(reader);
  id.registerApp({ clientId: WRITER, displayName: 'email-posture writer', ...grantsFor('apply'), federatedCredentials: fic('writer') });
  id.registerManagedIdentity({ kind: 'system', clientId: SYSTEM_MI, displayName: 'posture-runner', ...grantsFor('plan') });
  id.registerManagedIdentity({ kind: 'user', clientId: USER_MI, displayName: 'posture-uami', ...grantsFor('plan') });
});
afterAll(async () => {
  await sim?.stop();
  rmSync(work, { recursive: true, force: true });
});

interface Run extends CliResult {
  plan?: PlanDocument;
  evidence: string;
  cwd: string;
}

/** `posture plan` with the given --auth, JSON report and evidence in a fresh folder. */
async function plan(auth: string, env: Record<string, string>, extra: string[] = []): Promise<Run> {
  const cwd = mkdtempSync(join(work, 'run-'));
  const r = await cli(['plan', ...target(sim, synthDir), '--auth', auth, '--color', 'false', '--format', 'json', '--out', 'plan.json', ...extra], { ...sim.identity!.env, AZURE_TENANT_ID: sim.tenantId, ...env }, cwd);
  const read = (f: string) => (existsSync(join(cwd, f)) ? readFileSync(join(cwd, f), 'utf8') : '');
  const report = read('plan.json');
  return { ...r, cwd, evidence: read('posture-evidence.jsonl'), ...(report ? { plan: JSON.parse(report) as PlanDocument } : {}) };
}

/** Nothing that authenticates appears in what a run printed or wrote. */
function expectNoSecrets(run: Run, extra: readonly string[] = []): void {
  const id = sim.identity!;
  const secrets = [SECRET, ...extra, ...id.issued.map((t) => t.token), ...id.federation.issued, id.appServiceEnv.IDENTITY_HEADER, ...[valid, expired, stranger].map((c) => c.pem.split('\n')[1]!)];
  const written = readdirSync(run.cwd).map((f) => readFileSync(join(run.cwd, f), 'utf8'));
  for (const text of [run.stdout, run.stderr, run.evidence, ...written]) {
    for (const s of secrets) expect(text.includes(s), `a secret (${s.slice(0, 6)}…) in the output`).toBe(false);
  }
}

/** A clean plan of the compliant tenant, signed in as `clientId`, with both tokens from the identity endpoint. */
function expectCleanRun(run: Run, method: string, clientId: string, since: number): void {
  expect(run.stderr).toContain(`(${method} credential)`);
  expect(run.code, run.stderr).toBe(0);
  expect(run.plan!.findings).toEqual([]);
  expect(run.plan!.incomplete).toEqual([]);
  const got = sim.identity!.issued.slice(since);
  expect(new Set(got.map((t) => t.audience))).toEqual(new Set(['https://graph.microsoft.com', 'https://outlook.office365.com']));
  expect(got.every((t) => t.clientId === clientId)).toBe(true);
  const record = JSON.parse(run.evidence.trim().split('\n').at(-1)!) as { actor: { kind: string; id: string } };
  expect(record.actor).toMatchObject({ kind: 'application', id: clientId });
  expectNoSecrets(run);
}

const issuedSoFar = () => sim.identity!.issued.length;

describe('each --auth method signs in through @azure/identity and reads the tenant', () => {
  it('secret: ClientSecretCredential', async () => {
    const since = issuedSoFar();
    const run = await plan('secret', { AZURE_CLIENT_ID: READER, AZURE_CLIENT_SECRET: SECRET });
    expectCleanRun(run, 'secret', READER, since);
    expect(sim.identity!.issued.slice(since).every((t) => t.via === 'secret')).toBe(true);
    // MSAL found the tenant's endpoints in its OpenID configuration, on the simulator.
    expect(sim.requests.entries.some((e) => e.api === 'identity' && e.path === `/${sim.tenantId}/v2.0/.well-known/openid-configuration`)).toBe(true);
  });

  it('certificate: ClientCertificateCredential signs a client assertion with the registered certificate', async () => {
    writeFileSync(join(work, 'reader.pem'), valid.pem, { mode: 0o600 });
    const since = issuedSoFar();
    const run = await plan('certificate', { AZURE_CLIENT_ID: READER, AZURE_CLIENT_CERTIFICATE_PATH: join(work, 'reader.pem') });
    expectCleanRun(run, 'certificate', READER, since);
    expect(sim.identity!.issued.slice(since).every((t) => t.via === 'certificate')).toBe(true);
  });

  it('workload-identity: WorkloadIdentityCredential with a Kubernetes service account token file', async () => {
    const { token } = await sim.identity!.federation.serviceAccountToken({ namespace: 'posture', serviceAccount: 'email-posture' });
    writeFileSync(join(work, 'sa-token'), token);
    const since = issuedSoFar();
    const run = await plan('workload-identity', { AZURE_CLIENT_ID: READER, AZURE_FEDERATED_TOKEN_FILE: join(work, 'sa-token') });
    expectCleanRun(run, 'workload-identity', READER, since);
    expect(sim.identity!.issued.slice(since).every((t) => t.via === `federated:${kubernetes.issuer}`)).toBe(true);
  });

  it('github-oidc: the job’s OIDC token, exchanged as a federated credential (the plan job of a pull request)', async () => {
    const job = await sim.identity!.federation.githubJob({ repository: REPO, event: 'pull_request' });
    const since = issuedSoFar();
    const run = await plan('github-oidc', { AZURE_CLIENT_ID: READER, ...job.env });
    expectCleanRun(run, 'github-oidc', READER, since);
    expect(sim.identity!.issued.slice(since).every((t) => t.via === 'federated:https://token.actions.githubusercontent.com')).toBe(true);
    expectNoSecrets(run, [job.env.ACTIONS_ID_TOKEN_REQUEST_TOKEN]);
  });

  it('azure-pipelines: AzurePipelinesCredential asks the service connection for its OIDC token', async () => {
    const job = await sim.identity!.federation.azurePipelinesJob({ organization: ADO.organization, project: ADO.project, serviceConnections: [ADO.connection] });
    const since = issuedSoFar();
    const run = await plan('azure-pipelines', { AZURE_CLIENT_ID: READER, AZURESUBSCRIPTION_SERVICE_CONNECTION_ID: ADO.connection.id, ...job.env });
    expectCleanRun(run, 'azure-pipelines', READER, since);
    expect(sim.identity!.issued.slice(since).every((t) => t.via === `federated:${job.issuer}`)).toBe(true);
    expectNoSecrets(run, [job.env.SYSTEM_ACCESSTOKEN]);
  });

  it('managed-identity on App Service: the system-assigned identity, and a user-assigned one by AZURE_CLIENT_ID', async () => {
    const env = sim.identity!.appServiceEnv;
    let since = issuedSoFar();
    expectCleanRun(await plan('managed-identity', { ...env }), 'managed-identity', SYSTEM_MI, since);
    expect(sim.identity!.issued.slice(since).every((t) => t.via === 'managed-identity:app-service')).toBe(true);
    since = issuedSoFar();
    expectCleanRun(await plan('managed-identity', { ...env, AZURE_CLIENT_ID: USER_MI }), 'managed-identity', USER_MI, since);
  });

  // MSAL reads the Arc agent's challenge file only from the agent's own directory. The test makes
  // that directory when it can (as root, on a machine without an Arc agent) and removes it after.
  const arcRoot = '/var/opt/azcmagent';
  const canArc = !existsSync(arcRoot) && process.platform === 'linux' && process.getuid?.() === 0;
  it.skipIf(!canArc)('managed-identity on an Azure Arc-enabled server: the agent’s challenge, answered from its token file', async () => {
    mkdirSync(ARC_TOKEN_DIRECTORY, { recursive: true });
    try {
      const since = issuedSoFar();
      const run = await plan('managed-identity', { ...sim.identity!.arcEnv });
      expectCleanRun(run, 'managed-identity', SYSTEM_MI, since);
      expect(sim.identity!.issued.slice(since).every((t) => t.via === 'managed-identity:arc')).toBe(true);
      expect(readdirSync(ARC_TOKEN_DIRECTORY)).toEqual([]);
    } finally {
      rmSync(arcRoot, { recursive: true, force: true });
    }
  });

  it('managed-identity on Azure Arc refuses a challenge file outside the agent’s directory: one message, exit 1', async () => {
    const other = startSimulator({ scenario: 'compliant', identity: { arcTokenDirectory: work, managedIdentities: [{ kind: 'system', clientId: SYSTEM_MI, ...grantsFor('plan') }] } });
    const s = await other;
    try {
      const cwd = mkdtempSync(join(work, 'run-'));
      const r = await cli(['plan', ...target(s, synthDir), '--auth', 'managed-identity', '--format', 'json', '--out', 'plan.json'], { ...s.identity!.env, ...s.identity!.arcEnv }, cwd);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/^posture plan: could not get a Microsoft Graph token with the managed-identity credential: .*/m);
      expect(r.stderr).not.toMatch(/\n\s+at /);
      expect(s.requests.count((e) => e.api === 'graph')).toBe(0);
    } finally {
      await s.stop();
    }
  });

  it('azure-cli: AzureCliCredential runs `az account get-access-token` (a stand-in az on PATH, logged in as the reader)', async () => {
    const bin = mkdtempSync(join(work, 'bin-'));
    const config = mkdtempSync(join(work, 'azure-'));
    const entry = fileURLToPath(new URL('../fixtures/az/bin.mjs', import.meta.url));
    writeFileSync(join(bin, 'az'), `#!/bin/sh\nexec "${process.execPath}" "${entry}" "$@"\n`);
    chmodSync(join(bin, 'az'), 0o755);
    const env = { ...sim.identity!.env, PATH: `${bin}:${process.env['PATH'] ?? ''}`, AZURE_CONFIG_DIR: config };
    const az = (...args: string[]) => run(join(bin, 'az'), args, env);
    // Not logged in yet: az says so, and so does posture.
    const before = await plan('azure-cli', env);
    expect(before.code).toBe(1);
    expect(before.stderr).toMatch(/^posture plan: could not get a Microsoft Graph token with the azure-cli credential: Please run 'az login'/m);
    expect((await az('cloud', 'register', '--name', 'PostureSimulator', '--endpoint-active-directory', sim.identity!.authorityHost)).code).toBe(0);
    expect((await az('cloud', 'set', '--name', 'PostureSimulator')).code).toBe(0);
    expect((await az('login', '--service-principal', '--username', READER, '--password', SECRET, '--tenant', sim.tenantId, '--allow-no-subscriptions')).code).toBe(0);
    const since = issuedSoFar();
    const after = await plan('azure-cli', env);
    expectCleanRun(after, 'azure-cli', READER, since);
  });

  it('token: pre-issued tokens, used as given', async () => {
    const run = await plan('token', {
      POSTURE_GRAPH_TOKEN: sim.token('graph', { roles: grantsFor('plan').roles!.graph! }),
      POSTURE_EXCHANGE_TOKEN: mintToken({ tenantId: sim.tenantId, audience: EXCHANGE_AUDIENCE, roles: ['Exchange.ManageAsApp'], wids: [ROLE_IDS.globalReader] }),
    });
    expect(run.stderr).toContain('pre-issued access token from the environment');
    expect(run.code).toBe(0);
    expect(run.plan!.findings).toEqual([]);
  });

  it.each([
    ['a client secret', { AZURE_CLIENT_ID: READER, AZURE_CLIENT_SECRET: SECRET }, 'secret'],
    ['an App Service managed identity', {} as Record<string, string>, 'managed-identity'],
  ])('auto: picks the credential the environment holds (%s)', async (_what, vars, method) => {
    const env = method === 'managed-identity' ? { ...sim.identity!.appServiceEnv } : vars;
    const since = issuedSoFar();
    const run = await plan('auto', env);
    expectCleanRun(run, method, method === 'managed-identity' ? SYSTEM_MI : READER, since);
  });

  it('auto: a GitHub Actions job and an Azure Pipelines job are recognised by their variables', async () => {
    const gh = await sim.identity!.federation.githubJob({ repository: REPO, event: 'schedule' });
    let since = issuedSoFar();
    expectCleanRun(await plan('auto', { AZURE_CLIENT_ID: READER, ...gh.env }), 'github-oidc', READER, since);
    const ado = await sim.identity!.federation.azurePipelinesJob({ organization: ADO.organization, project: ADO.project, serviceConnections: [ADO.connection] });
    since = issuedSoFar();
    expectCleanRun(await plan('auto', { AZURE_CLIENT_ID: READER, AZURESUBSCRIPTION_SERVICE_CONNECTION_ID: ADO.connection.id, ...ado.env }), 'azure-pipelines', READER, since);
  });
});

describe('a credential that does not work: one clear message, exit 1, nothing read, nothing secret printed', () => {
  async function refused(auth: string, env: Record<string, string>, message: RegExp, secrets: string[] = []): Promise<void> {
    const graphBefore = sim.requests.count((e) => e.api === 'graph' || e.api === 'exchange');
    const run = await plan(auth, env);
    expect(run.code).toBe(1);
    const lines = run.stderr.trim().split('\n');
    expect(lines.filter((l) => l.startsWith('posture plan:'))).toHaveLength(1);
    expect(run.stderr).toMatch(message);
    expect(run.stderr).not.toMatch(/\n\s+at |incomplete|run with --debug/);
    expect(run.stdout).toBe('');
    expect(run.plan).toBeUndefined();
    expect(sim.requests.count((e) => e.api === 'graph' || e.api === 'exchange')).toBe(graphBefore);
    expectNoSecrets(run, secrets);
  }

  it("a pre-issued token of another tenant: refused before anything is read, so its tenant's data is never reported as this one's", async () => {
    const other = '0b9c8d7e-6f5a-4b3c-8d2e-1f0a9b8c7d6e';
    const graph = mintToken({ tenantId: other, roles: grantsFor('plan').roles!.graph! });
    await refused('token', {
      POSTURE_GRAPH_TOKEN: graph,
      POSTURE_EXCHANGE_TOKEN: mintToken({ tenantId: sim.tenantId, audience: EXCHANGE_AUDIENCE, roles: ['Exchange.ManageAsApp'], wids: [ROLE_IDS.globalReader] }),
    }, new RegExp(`^posture plan: the Graph token was issued for tenant ${other}, not ${sim.tenantId}: nothing was read$`, 'm'), [graph]);
  });

  it('a wrong client secret', async () => {
    const wrong = 'Yq8~not.the-secret_of-this-app_0000000000000';
    await refused('secret', { AZURE_CLIENT_ID: READER, AZURE_CLIENT_SECRET: wrong }, /^posture plan: could not get a Microsoft Graph token with the secret credential: AADSTS7000215: Invalid client secret provided\./m, [wrong]);
  });

  it('an expired certificate', async () => {
    writeFileSync(join(work, 'expired.pem'), expired.pem, { mode: 0o600 });
    await refused('certificate', { AZURE_CLIENT_ID: READER, AZURE_CLIENT_CERTIFICATE_PATH: join(work, 'expired.pem') }, new RegExp(`AADSTS700027: Client assertion failed signature validation\\. \\[Reason - The key used is expired\\., Thumbprint of key used by client: '${expired.thumbprintSha256}'`));
  });

  it('a certificate the app does not have', async () => {
    writeFileSync(join(work, 'stranger.pem'), stranger.pem, { mode: 0o600 });
    await refused('certificate', { AZURE_CLIENT_ID: READER, AZURE_CLIENT_CERTIFICATE_PATH: join(work, 'stranger.pem') }, /AADSTS700027: The certificate with identifier used to sign the client assertion is not registered on application\./);
  });

  it('a federated subject no credential names: a push to a feature branch', async () => {
    const job = await sim.identity!.federation.githubJob({ repository: REPO, event: 'push', ref: 'refs/heads/feature/x' });
    await refused('github-oidc', { AZURE_CLIENT_ID: READER, ...job.env }, /AADSTS700213: No matching federated identity record found for presented assertion subject 'repo:contoso\/email-posture:ref:refs\/heads\/feature\/x'/, [job.env.ACTIONS_ID_TOKEN_REQUEST_TOKEN]);
  });

  it('a federated token for another audience', async () => {
    const { token } = await sim.identity!.federation.serviceAccountToken({ namespace: 'posture', serviceAccount: 'email-posture', audience: 'https://kubernetes.default.svc' });
    writeFileSync(join(work, 'wrong-audience'), token);
    await refused('workload-identity', { AZURE_CLIENT_ID: READER, AZURE_FEDERATED_TOKEN_FILE: join(work, 'wrong-audience') }, /AADSTS700212: No matching federated identity record found for presented assertion audience 'https:\/\/kubernetes\.default\.svc'/);
  });

  it('the writer’s subject is not the reader’s: a production job signing in as the reader', async () => {
    const job = await sim.identity!.federation.githubJob({ repository: REPO, event: 'push', environment: 'production' });
    await refused('github-oidc', { AZURE_CLIENT_ID: READER, ...job.env }, /AADSTS700213: .*'repo:contoso\/email-posture:environment:production'/, [job.env.ACTIONS_ID_TOKEN_REQUEST_TOKEN]);
  });
});

describe('tokens that run out during a run', () => {
  it('a token about to expire is renewed before it is used, and the run completes', async () => {
    const id = sim.identity!;
    id.tokenLifetimeSeconds = 100; // less than the two minutes a token must have left
    try {
      const since = issuedSoFar();
      const run = await plan('secret', { AZURE_CLIENT_ID: READER, AZURE_CLIENT_SECRET: SECRET });
      expect(run.code, run.stderr).toBe(0);
      expect(run.plan!.findings).toEqual([]);
      const graphTokens = id.issued.slice(since).filter((t) => t.audience === 'https://graph.microsoft.com');
      expect(graphTokens.length).toBeGreaterThan(2);
    } finally {
      id.tokenLifetimeSeconds = 3599;
    }
  });

  it('a token the service stops accepting mid-run is replaced by a new one, not the cached one', async () => {
    const since = issuedSoFar();
    sim.faults.add({ route: '/domains', kind: 'expire-token', times: 1 });
    const run = await plan('secret', { AZURE_CLIENT_ID: READER, AZURE_CLIENT_SECRET: SECRET });
    expect(run.code, run.stderr).toBe(0);
    expect(run.plan!.incomplete).toEqual([]);
    expect(sim.identity!.issued.slice(since).filter((t) => t.audience === 'https://graph.microsoft.com').length).toBeGreaterThanOrEqual(2);
  });
});

describe('the writer signs in from the production environment and applies', () => {
  it('apply with --auth github-oidc as the writer (subject environment:production)', async () => {
    const drifted = await startSimulator({ scenario: 'drifted', identity: { apps: [{ clientId: WRITER, ...grantsFor('apply'), federatedCredentials: githubSubjects().filter((s) => s.app === 'writer').map((s) => ({ name: 'prod', issuer: 'https://token.actions.githubusercontent.com', subject: concrete(s.subject), audiences: ['api://AzureADTokenExchange'] })) }] } });
    try {
      const job = await drifted.identity!.federation.githubJob({ repository: REPO, event: 'push', environment: 'production' });
      const cwd = mkdtempSync(join(work, 'apply-'));
      const r = await cli(['apply', '--auto-approve', ...target(drifted, synthDir), '--auth', 'github-oidc'], { ...drifted.identity!.env, AZURE_TENANT_ID: drifted.tenantId, AZURE_CLIENT_ID: WRITER, ...job.env }, cwd);
      expect(r.code, r.stderr).toBe(0);
      expect(drifted.requests.count((e) => e.api === 'graph' && ['PATCH', 'POST', 'DELETE'].includes(e.method) && e.status < 300)).toBeGreaterThan(0);
      expect(drifted.identity!.issued.every((t) => t.clientId === WRITER)).toBe(true);
    } finally {
      await drifted.stop();
    }
  });
});

function run(file: string, args: string[], env: Record<string, string>): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = spawn(file, args, { env: { ...env, HOME: process.env['HOME'] ?? '' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}
