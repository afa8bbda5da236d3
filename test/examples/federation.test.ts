import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { permissionsFor } from '../../reconciler/cli/permissions.js';
import { azureDevOpsSubject, githubSubject, type GitHubJob } from '../../simulator/index.js';
import { azureDevOpsCredential, documentedPermissions, githubSubjects, README, tableAfter } from './federation.js';

// The README's sign-in tables against what they describe: the permissions `posture permissions`
// names, and the federated credential subjects the example pipelines' jobs present. The sign-in
// tests (test/reconciler/auth.e2e.test.ts) register exactly these and sign in with them.

const root = fileURLToPath(new URL('../../', import.meta.url));
type Obj = Record<string, unknown>;

/** The GitHub jobs that sign in with --auth github-oidc, as the token GitHub would give each of them. */
function githubJobsSigningIn(): Array<{ id: string; job: GitHubJob }> {
  const workflow = parse(readFileSync(`${root}examples/github/posture.yml`, 'utf8')) as { jobs: Record<string, Obj> };
  return Object.entries(workflow.jobs)
    .filter(([, j]) => ((j['steps'] as Obj[] | undefined) ?? []).some((s) => typeof s['run'] === 'string' && /--auth github-oidc/.test(s['run'])))
    .map(([id, j]) => {
      const condition = String(j['if'] ?? '');
      const events = [...condition.matchAll(/github\.event_name == '([a-z_]+)'/g)].map((m) => m[1]!);
      const ref = /github\.ref == '([^']+)'/.exec(condition)?.[1];
      const environment = typeof j['environment'] === 'string' ? j['environment'] : ((j['environment'] as Obj | undefined)?.['name'] as string | undefined);
      expect(events.length, `job ${id} says which events run it`).toBeGreaterThan(0);
      // Every event a job runs on must present the same subject, or one credential would not do.
      const subjects = new Set(events.map((event) => githubSubject({ repository: 'ORG/REPO', event: event as GitHubJob['event'], ...(ref ? { ref } : {}), ...(environment ? { environment } : {}) })));
      expect(subjects.size, `job ${id} presents one subject`).toBe(1);
      return { id, job: { repository: 'ORG/REPO', event: events[0] as GitHubJob['event'], ...(ref ? { ref } : {}), ...(environment ? { environment } : {}) } };
    });
}

describe('README: signing in', () => {
  it('lists exactly the permissions `posture permissions` names for the reader (plan, drift) and the writer (apply, rollback)', () => {
    const documented = documentedPermissions();
    for (const [app, command] of [['reader', 'plan'], ['writer', 'apply']] as const) {
      const perms = permissionsFor(command);
      expect(documented[app].graph, app).toEqual(perms.filter((p) => p.api === 'graph').map((p) => p.name));
      expect(documented[app].exchange, app).toEqual(perms.filter((p) => p.api === 'exchange').map((p) => p.name));
      expect(documented[app].role, app).toEqual(perms.filter((p) => p.api === 'entra-role').map((p) => p.name));
    }
    expect(permissionsFor('drift')).toEqual(permissionsFor('plan'));
    expect(permissionsFor('rollback')).toEqual(permissionsFor('apply'));
  });

  it('names the subject each GitHub job of the example workflow presents, and the app it signs in as', () => {
    const jobs = githubJobsSigningIn();
    expect(jobs.map((j) => j.id).sort()).toEqual(['apply', 'drift', 'plan', 'rollback']);
    const presented = new Map<string, string[]>();
    for (const { id, job } of jobs) presented.set(githubSubject(job), [...(presented.get(githubSubject(job)) ?? []), id]);
    const documented = githubSubjects();
    expect(documented.map((d) => d.subject).sort()).toEqual([...presented.keys()].sort());
    for (const d of documented) {
      expect(d.jobs.split(/,\s*/).sort(), d.subject).toEqual(presented.get(d.subject)!.sort());
      // Jobs in the production environment take the writer's client id from the environment.
      expect(d.app, d.subject).toBe(d.subject.includes(':environment:') ? 'writer' : 'reader');
    }
    expect(README).toContain('Issuer `https://token.actions.githubusercontent.com`, audience `api://AzureADTokenExchange`');
  });

  it('says the same as the setup guide of examples/', () => {
    const guide = readFileSync(`${root}examples/README.md`, 'utf8');
    const rows = tableAfter(guide, '### 2. GitHub Actions').map(([subject, , app]) => `${/`([^`]+)`/.exec(subject!)![1]} ${app}`);
    expect(rows.sort()).toEqual(githubSubjects().map((d) => `${d.subject} ${d.app}`).sort());
  });

  it('gives the issuer and subject forms of an Azure DevOps service connection', () => {
    const { issuer, subject } = azureDevOpsCredential();
    expect(issuer).toBe('https://vstoken.dev.azure.com/ORGANIZATION_ID');
    expect(subject).toBe(azureDevOpsSubject('ORG', 'PROJECT', 'CONNECTION'));
  });

  it('lists every --auth method the command line takes', async () => {
    const { AUTH_METHODS } = await import('../../reconciler/auth/tokens.js');
    const section = README.slice(README.indexOf('## Signing in'), README.indexOf('### Permissions per pipeline app'));
    const rows = [...section.matchAll(/^\| `([a-z][a-z-]*)`/gm)].map((m) => m[1]!);
    expect(rows.sort()).toEqual([...AUTH_METHODS].sort());
  });
});
