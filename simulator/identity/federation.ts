import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { TOKEN_EXCHANGE_AUDIENCE } from './apps.js';
import { SigningKey, type Jwks } from './keys.js';

/**
 * Stand-ins for the identity providers whose tokens Entra ID accepts as federated credentials:
 * GitHub Actions, Azure DevOps and a Kubernetes cluster (the token file of workload identity).
 * Each signs its tokens with its own key, under its real issuer name, and publishes its discovery
 * document and key set on the simulator; the token endpoint checks a federated assertion against
 * the key set of the issuer it names, as Entra does.
 */

export const GITHUB_ISSUER = 'https://token.actions.githubusercontent.com';

/** An OpenID Connect issuer: its `iss`, its key, and where the simulator publishes its metadata. */
export class Issuer {
  private constructor(
    readonly name: string,
    /** Path of the issuer on the simulator, e.g. `/issuers/github-actions`. */
    readonly path: string,
    readonly key: SigningKey,
  ) {}

  static async create(name: string, slug: string): Promise<Issuer> {
    return new Issuer(name, `/issuers/${slug}`, await SigningKey.create());
  }

  jwks(): Jwks {
    return { keys: [this.key.jwk()] };
  }

  discovery(base: string): Record<string, unknown> {
    return {
      issuer: this.name,
      jwks_uri: `${base}${this.path}/.well-known/jwks`,
      subject_types_supported: ['public', 'pairwise'],
      response_types_supported: ['id_token'],
      id_token_signing_alg_values_supported: ['RS256'],
      claims_supported: ['sub', 'aud', 'exp', 'iat', 'iss', 'jti', 'nbf'],
      scopes_supported: ['openid'],
    };
  }
}

/** A GitHub Actions job, as far as its OIDC token says. */
export interface GitHubJob {
  /** `OWNER/REPO` */
  readonly repository: string;
  readonly event: 'pull_request' | 'push' | 'schedule' | 'workflow_dispatch';
  /** @default refs/heads/main, or refs/pull/1/merge for a pull request */
  readonly ref?: string;
  /** The environment the job deploys to, if any. */
  readonly environment?: string;
  readonly workflow?: string;
}

/**
 * The subject GitHub puts in a job's token: the environment when the job names one, else
 * `pull_request` for pull request events, else the ref.
 */
export function githubSubject(job: GitHubJob): string {
  if (job.environment) return `repo:${job.repository}:environment:${job.environment}`;
  if (job.event === 'pull_request') return `repo:${job.repository}:pull_request`;
  return `repo:${job.repository}:ref:${job.ref ?? 'refs/heads/main'}`;
}

export interface AzureDevOpsJob {
  readonly organization: string;
  readonly project: string;
  /** Service connections the job may use, by id. */
  readonly serviceConnections: ReadonlyArray<{ readonly id: string; readonly name: string }>;
}

/** The issuer of an Azure DevOps organization's tokens. */
export const azureDevOpsIssuer = (organizationId: string) => `https://vstoken.dev.azure.com/${organizationId}`;
/** The subject of a service connection's token. */
export const azureDevOpsSubject = (organization: string, project: string, connection: string) => `sc://${organization}/${project}/${connection}`;

/** A stable id for a name (an organization id or a cluster id), so issuers are the same in every run. */
export const stableId = (name: string) => {
  const h = createHash('sha256').update(name).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`;
};

interface GitHubJobState {
  readonly job: GitHubJob;
  readonly bearer: string;
}

interface AzureDevOpsJobState {
  readonly job: AzureDevOpsJob;
  readonly bearer: string;
  readonly issuer: Issuer;
}

export class Federation {
  private readonly issuers = new Map<string, Issuer>();
  private readonly githubJobs = new Map<string, GitHubJobState>();
  private readonly azureDevOpsJobs = new Map<string, AzureDevOpsJobState>();
  /** Every federated token handed out (tests check that none is ever printed). */
  readonly issued: string[] = [];
  /** Lifetime of the tokens the stand-ins hand out. @default 300 (GitHub's are valid a few minutes) */
  lifetimeSeconds = 300;

  constructor(private readonly base: () => string) {}

  /** The issuer of this name, if the simulator hosts it. */
  issuer(name: string): Issuer | undefined {
    return this.issuers.get(name);
  }

  /** Issuers by path, for serving their metadata. */
  byPath(path: string): Issuer | undefined {
    return [...this.issuers.values()].find((i) => path === i.path || path.startsWith(`${i.path}/`));
  }

  private async ensure(name: string, slug: string): Promise<Issuer> {
    let issuer = this.issuers.get(name);
    if (!issuer) {
      issuer = await Issuer.create(name, slug);
      this.issuers.set(name, issuer);
    }
    return issuer;
  }

  private async sign(issuer: Issuer, claims: Record<string, unknown>, lifetimeSeconds = this.lifetimeSeconds): Promise<string> {
    const now = Math.floor(Date.now() / 1000);
    const token = await issuer.key.sign({ jti: randomUUID(), iss: issuer.name, nbf: now - 5, iat: now, exp: now + lifetimeSeconds, ...claims });
    this.issued.push(token);
    return token;
  }

  /** A GitHub Actions job: the variables its steps see when it has `permissions: id-token: write`. */
  async githubJob(job: GitHubJob): Promise<{ env: { ACTIONS_ID_TOKEN_REQUEST_URL: string; ACTIONS_ID_TOKEN_REQUEST_TOKEN: string }; issuer: string; subject: string }> {
    await this.ensure(GITHUB_ISSUER, 'github-actions');
    const id = randomUUID();
    const bearer = randomBytes(24).toString('base64url');
    this.githubJobs.set(id, { job, bearer });
    return {
      env: { ACTIONS_ID_TOKEN_REQUEST_URL: `${this.base()}/github-actions/${id}/idtoken?api-version=2.0`, ACTIONS_ID_TOKEN_REQUEST_TOKEN: bearer },
      issuer: GITHUB_ISSUER,
      subject: githubSubject(job),
    };
  }

  /** GET {ACTIONS_ID_TOKEN_REQUEST_URL}&audience=…, as the Actions runtime answers it. */
  async githubToken(jobId: string, authorization: string | undefined, audience: string | null): Promise<{ status: number; body: unknown }> {
    const state = this.githubJobs.get(jobId);
    if (!state || authorization !== `Bearer ${state.bearer}`) return { status: 401, body: { message: 'Unauthorized' } };
    const { job } = state;
    const [owner] = job.repository.split('/');
    const ref = job.ref ?? (job.event === 'pull_request' ? 'refs/pull/1/merge' : 'refs/heads/main');
    const value = await this.sign(this.issuers.get(GITHUB_ISSUER)!, {
      sub: githubSubject({ ...job, ref }),
      aud: audience ?? `https://github.com/${owner}`,
      ref,
      ref_type: 'branch',
      sha: createHash('sha1').update(job.repository + ref).digest('hex'),
      repository: job.repository,
      repository_owner: owner,
      run_id: String(Date.now()),
      run_attempt: '1',
      event_name: job.event,
      workflow: job.workflow ?? 'email-posture',
      job_workflow_ref: `${job.repository}/.github/workflows/posture.yml@${ref}`,
      runner_environment: 'github-hosted',
      ...(job.environment ? { environment: job.environment } : {}),
    });
    return { status: 200, body: { count: 1, value } };
  }

  /** An Azure Pipelines job: the variables a task sees (System.AccessToken mapped as SYSTEM_ACCESSTOKEN). */
  async azurePipelinesJob(job: AzureDevOpsJob): Promise<{ env: { SYSTEM_OIDCREQUESTURI: string; SYSTEM_ACCESSTOKEN: string }; issuer: string; subjects: Record<string, string> }> {
    const organizationId = stableId(`azure-devops:${job.organization}`);
    const issuer = await this.ensure(azureDevOpsIssuer(organizationId), `azure-devops/${job.organization}`);
    const id = randomUUID();
    const bearer = randomBytes(32).toString('base64url');
    this.azureDevOpsJobs.set(id, { job, bearer, issuer });
    const plan = randomUUID();
    return {
      env: {
        SYSTEM_OIDCREQUESTURI: `${this.base()}/azure-devops/${encodeURIComponent(job.organization)}/${stableId(job.project)}/_apis/distributedtask/hubs/build/plans/${plan}/jobs/${id}/oidctoken`,
        SYSTEM_ACCESSTOKEN: bearer,
      },
      issuer: issuer.name,
      subjects: Object.fromEntries(job.serviceConnections.map((c) => [c.id, azureDevOpsSubject(job.organization, job.project, c.name)])),
    };
  }

  /** POST {SYSTEM_OIDCREQUESTURI}?api-version=7.1&serviceConnectionId=…, as Azure DevOps answers it. */
  async azureDevOpsToken(jobId: string, authorization: string | undefined, connectionId: string | null): Promise<{ status: number; body: unknown }> {
    const state = this.azureDevOpsJobs.get(jobId);
    if (!state || authorization !== `Bearer ${state.bearer}`) return { status: 401, body: { $id: '1', message: 'TF400813: The user is not authorized to access this resource.', typeKey: 'UnauthorizedRequestException', errorCode: 0, eventId: 3000 } };
    const connection = state.job.serviceConnections.find((c) => c.id.toLowerCase() === (connectionId ?? '').toLowerCase());
    if (!connection) {
      return { status: 404, body: { $id: '1', message: `Service connection ${connectionId ?? ''} not found, or the pipeline is not authorized to use it.`, typeKey: 'ServiceEndpointNotFoundException', errorCode: 0, eventId: 3000 } };
    }
    const oidcToken = await this.sign(state.issuer, { sub: azureDevOpsSubject(state.job.organization, state.job.project, connection.name), aud: TOKEN_EXCHANGE_AUDIENCE });
    return { status: 200, body: { oidcToken } };
  }

  /**
   * A Kubernetes service account token, as the cluster projects it into a workload identity pod
   * (the file AZURE_FEDERATED_TOKEN_FILE names).
   */
  async serviceAccountToken(o: { namespace: string; serviceAccount: string; cluster?: string; audience?: string; lifetimeSeconds?: number }): Promise<{ token: string; issuer: string; subject: string }> {
    const cluster = o.cluster ?? 'posture-cluster';
    const issuer = await this.ensure(`https://eastus.oic.prod-aks.azure.com/${stableId(`tenant:${cluster}`)}/${stableId(`cluster:${cluster}`)}/`, `kubernetes/${cluster}`);
    const subject = `system:serviceaccount:${o.namespace}:${o.serviceAccount}`;
    const token = await this.sign(issuer, { sub: subject, aud: [o.audience ?? TOKEN_EXCHANGE_AUDIENCE], 'kubernetes.io': { namespace: o.namespace, serviceaccount: { name: o.serviceAccount, uid: stableId(subject) } } }, o.lifetimeSeconds ?? 3600);
    return { token, issuer: issuer.name, subject };
  }
}
