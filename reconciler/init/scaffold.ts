/**
 * `posture init`: the files of a new posture repository, as a pure function of the answers. Values
 * go into the generated TypeScript as JSON string literals, so an organisation's name cannot end a
 * string or add code; the answers are checked before that (see {@link checkAnswers}).
 */

/** An accountable owner: the `{ name, team, contact }` every control needs. */
export interface ScaffoldOwner {
  readonly name: string;
  readonly team: string;
  readonly contact: string;
}

export type ScaffoldCi = 'github' | 'azure-devops';

export interface ScaffoldAnswers {
  /** The organisation's display name. */
  readonly organization: string;
  /** Accepted mail domains; the first is the primary domain. */
  readonly domains: readonly string[];
  /** Emergency-access accounts every conditional access policy excludes. */
  readonly breakGlass: readonly string[];
  /** The owner of every control unless a more specific owner is given. */
  readonly owner: ScaffoldOwner;
  /** Owner of the mail controls (sender authentication, inbound, forwarding, exposure). @default owner */
  readonly mailOwner?: ScaffoldOwner;
  /** Owner of the identity controls (risk-based access, authentication strength, consent). @default owner */
  readonly identityOwner?: ScaffoldOwner;
  /** Where aggregate DMARC reports go (`mailto:` addresses). */
  readonly dmarcReports: readonly string[];
  /** The stack's name: its folder under cdktf.out/stacks/. */
  readonly stack: string;
  /** The pipelines to write. */
  readonly ci: readonly ScaffoldCi[];
  /** The npm package name of the repository. */
  readonly packageName: string;
}

/** What the installed package contributes: its version and the versions it pins for a posture repository. */
export interface ScaffoldPackage {
  readonly version: string;
  /** tsx, which runs the TypeScript stacks. */
  readonly tsx: string;
  /** typescript, for `npm run typecheck` and editors. */
  readonly typescript: string;
  /** The files of each pipeline shipped with the package (the pipeline, and the action or template its jobs use), by path in the new repository. */
  readonly pipelines: Readonly<Record<ScaffoldCi, ReadonlyArray<{ readonly path: string; readonly text: string }>>>;
}

const DOMAIN = /^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,61}[a-z0-9]$/;
const ADDRESS = /^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@(?=.{1,253}$)(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z][A-Za-z0-9-]*$/;
const STACK = /^[a-z][a-z0-9-]{0,62}$/;
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]/;

/** An answer that cannot be used, with the option it came from. */
export interface AnswerProblem {
  readonly option: string;
  readonly message: string;
}

const text = (option: string, value: string, what: string, problems: AnswerProblem[]): void => {
  if (!value.trim()) problems.push({ option, message: `${what} is empty` });
  else if (CONTROL.test(value)) problems.push({ option, message: `${what} contains a control or bidirectional formatting character` });
  else if (value.length > 200) problems.push({ option, message: `${what} is longer than 200 characters` });
};

const address = (option: string, value: string, problems: AnswerProblem[]): void => {
  if (!ADDRESS.test(value)) problems.push({ option, message: `${JSON.stringify(value)} is not an email address` });
};

const owner = (option: string, o: ScaffoldOwner | undefined, problems: AnswerProblem[]): void => {
  if (!o) return;
  text(option, o.name, 'the owner\'s name', problems);
  text(option, o.team, 'the owner\'s team', problems);
  address(option, o.contact, problems);
};

/** Every problem of the answers at once; empty when they can be scaffolded. */
export function checkAnswers(a: ScaffoldAnswers): AnswerProblem[] {
  const problems: AnswerProblem[] = [];
  text('organization', a.organization, 'the organisation\'s name', problems);
  if (a.domains.length === 0) problems.push({ option: 'domain', message: 'give at least one mail domain (the first is the primary domain)' });
  for (const d of a.domains) if (!DOMAIN.test(d)) problems.push({ option: 'domain', message: `${JSON.stringify(d)} is not a domain name (lower case, e.g. contoso.com)` });
  if (new Set(a.domains).size !== a.domains.length) problems.push({ option: 'domain', message: 'a domain is given twice' });
  if (a.breakGlass.length === 0) problems.push({ option: 'break-glass', message: 'give the emergency-access accounts conditional access must never lock out (usually two)' });
  for (const b of a.breakGlass) address('break-glass', b, problems);
  owner('owner', a.owner, problems);
  owner('mail-owner', a.mailOwner, problems);
  owner('identity-owner', a.identityOwner, problems);
  if (a.dmarcReports.length === 0) problems.push({ option: 'dmarc-reports', message: 'give the mailto: address aggregate DMARC reports go to' });
  for (const r of a.dmarcReports) {
    if (!/^mailto:/.test(r) || !ADDRESS.test(r.slice('mailto:'.length))) problems.push({ option: 'dmarc-reports', message: `${JSON.stringify(r)} is not a mailto: address` });
  }
  if (!STACK.test(a.stack)) problems.push({ option: 'stack', message: `${JSON.stringify(a.stack)} is not a stack name (lower-case letters, digits and -, starting with a letter)` });
  return problems;
}

/** A stack name from a domain: its first label, as a stack name allows. */
export function stackNameFor(domain: string): string {
  const label = (domain.split('.')[0] ?? '').toLowerCase().replace(/[^a-z0-9-]/g, '-').replace(/^[^a-z]+/, '');
  return STACK.test(label) ? label : 'posture';
}

/** An npm package name from a folder name. */
export function packageNameFor(folder: string): string {
  const name = folder.toLowerCase().replace(/[^a-z0-9._-]+/g, '-').replace(/^[._-]+/, '').slice(0, 200);
  return name || 'email-posture-config';
}

const lit = (value: string): string => JSON.stringify(value);
const list = (values: readonly string[]): string => `[${values.map(lit).join(', ')}]`;
const ownerLit = (o: ScaffoldOwner): string => `{ name: ${lit(o.name)}, team: ${lit(o.team)}, contact: ${lit(o.contact)} }`;

function postureSource(a: ScaffoldAnswers): string {
  const mail = a.mailOwner ? 'mailOwner' : 'owner';
  const identity = a.identityOwner ? 'identityOwner' : 'owner';
  const primary = a.domains[0]!;
  const reports = `\n      reportAddresses: ${list(a.dmarcReports)},`;
  return `import { EmailSecurityPosture, ForwardingLockdown, InboundEnforcement, InboundPaths, LocalBackend, RiskBasedAccess, SenderAuthentication, TerraformStack, ThreatProtection, type Construct } from 'email-posture';

/**
 * The email-security posture of ${a.organization.replace(/\*\//g, '* /')}. Every control starts in report mode: \`posture plan\`
 * shows what is out of line and who owns it, and writes nothing. Set \`mode: 'remediate'\` on an area or
 * a control once its plan has been reviewed, and \`mode: 'alert'\` where the owner must hear of it.
 */
export class PostureStack extends TerraformStack {
  constructor(scope: Construct, id: string) {
    super(scope, id);
    new LocalBackend(this, { path: \`terraform.\${id}.tfstate\` });

    const owner = ${ownerLit(a.owner)};${a.mailOwner ? `\n    const mailOwner = ${ownerLit(a.mailOwner)};` : ''}${a.identityOwner ? `\n    const identityOwner = ${ownerLit(a.identityOwner)};` : ''}

    const posture = new EmailSecurityPosture(this, 'Posture', {
      organization: { name: ${lit(a.organization)}, primaryDomain: ${lit(primary)} },
      breakGlass: { users: ${list(a.breakGlass)} },
      ownership: { owner },
    });

    // DMARC p=reject, SPF and DKIM for every domain.
    new SenderAuthentication(posture, 'SenderAuthentication', {
      owner: ${mail},${reports}
      domains: [${a.domains.map((d) => `{ name: ${lit(d)} }`).join(', ')}],
    });

    // Mail that fails authentication is not let through by rules, allow lists or connectors.
    new InboundEnforcement(posture, 'InboundEnforcement', { owner: ${mail} });
    new InboundPaths(posture, 'InboundPaths', { owner: ${mail} });
    new ThreatProtection(posture, 'ThreatProtection', { owner: ${mail} });

    // No mail leaves the organisation by forwarding, at any layer.
    new ForwardingLockdown(posture, 'ForwardingLockdown', { owner: ${mail} });

    // Risky users and sign-ins lose their sessions; the break-glass accounts are always excluded.
    new RiskBasedAccess(posture, 'RiskBasedAccess', {
      owner: ${identity},
      userRisk: { levels: ['high'], response: 'mfaAndPasswordChange' },
      signInRisk: { levels: ['medium', 'high'], response: 'mfa' },
    });
  }
}
`;
}

const MAIN_SOURCE = `import { runSynth } from 'email-posture';
import { PostureStack } from './posture.js';

/** The cdktf app (cdktf.json "app"): \`posture synth\` validates the posture, then writes cdktf.out/; a failure sets the exit code. */
runSynth((app) => {
  new PostureStack(app, STACK);
});
`;

const GITIGNORE = `node_modules/
cdktf.out/
*.tfstate
*.tgz
# Reports and plans a local run writes; pipelines keep theirs as artifacts.
plan.json
plan.md
report.html
posture.sarif
posture-evidence.jsonl
# The simulator's tokens (posture sim --print-env).
sim.env
`;

/** A pipeline with the stack it works on: GitHub's `POSTURE_STACK: x` env, Azure's `- name: POSTURE_STACK` / `value: x` variable. */
function withStack(text: string, stack: string): string {
  return text.replace(/^(\s*POSTURE_STACK:\s*)\S+/m, `$1${stack}`).replace(/^(\s*- name: POSTURE_STACK\s*\n\s*value:\s*)\S+/m, `$1${stack}`);
}

/** The files of a new posture repository, by repository-relative path. package.json is whole: merge it yourself with {@link mergePackageJson}. */
export function scaffoldFiles(a: ScaffoldAnswers, pkg: ScaffoldPackage): Map<string, string> {
  const files = new Map<string, string>();
  files.set('package.json', JSON.stringify(packageJson(a, pkg), null, 2) + '\n');
  files.set(
    'cdktf.json',
    JSON.stringify({ language: 'typescript', app: 'node --import tsx stacks/main.ts', output: 'cdktf.out', projectId: a.packageName, sendCrashReports: 'false', terraformProviders: [], terraformModules: [], context: {} }, null, 2) + '\n',
  );
  files.set(
    'tsconfig.json',
    JSON.stringify(
      { compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, skipLibCheck: true, noEmit: true, types: [] }, include: ['stacks/**/*'] },
      null,
      2,
    ) + '\n',
  );
  files.set('stacks/main.ts', MAIN_SOURCE.replace('STACK', lit(a.stack)));
  files.set('stacks/posture.ts', postureSource(a));
  files.set('.gitignore', GITIGNORE);
  for (const ci of a.ci) {
    for (const p of pkg.pipelines[ci]) files.set(p.path, withStack(p.text, a.stack));
  }
  files.set('README.md', readme(a));
  return files;
}

function packageJson(a: ScaffoldAnswers, pkg: ScaffoldPackage): Record<string, unknown> {
  return {
    name: a.packageName,
    private: true,
    type: 'module',
    scripts: SCRIPTS,
    dependencies: { 'email-posture': pkg.version, tsx: pkg.tsx },
    devDependencies: { typescript: pkg.typescript },
    // tsx runs the stacks with esbuild, whose install script fetches its binary.
    allowScripts: { esbuild: true },
  };
}

const SCRIPTS = { synth: 'posture synth', plan: 'posture plan', typecheck: 'tsc --noEmit' } as const;

/**
 * An existing package.json with what a posture repository needs added: the dependencies it lacks
 * (one it has, such as an `email-posture` installed from a file, is kept) and the scripts it lacks.
 */
export function mergePackageJson(existing: Record<string, unknown>, a: ScaffoldAnswers, pkg: ScaffoldPackage): Record<string, unknown> {
  const wanted = packageJson(a, pkg);
  const section = (key: string): Record<string, unknown> => {
    const have = existing[key];
    return have && typeof have === 'object' && !Array.isArray(have) ? (have as Record<string, unknown>) : {};
  };
  const merged: Record<string, unknown> = { ...existing };
  if (merged.type === undefined) merged.type = 'module';
  for (const key of ['scripts', 'dependencies', 'devDependencies', 'allowScripts'] as const) {
    merged[key] = { ...(wanted[key] as Record<string, unknown>), ...section(key) };
  }
  return merged;
}

function readme(a: ScaffoldAnswers): string {
  return `# Email-security posture of ${a.organization.replace(/[<>[\]`*_#|]/g, '')}

The posture is TypeScript in \`stacks/\`, built with the constructs of
[email-posture](https://www.npmjs.com/package/email-posture). Every control starts in report mode.

\`\`\`sh
npm install
npx posture synth                       # validate the posture, write cdktf.out/
npx posture plan --stack ${a.stack} --auth device-code --tenant <tenant-id>
\`\`\`

Try it first against the simulator, which needs no tenant:

\`\`\`sh
npx posture sim --print-env > sim.env &   # its endpoints, then export lines with its tokens
sleep 5; . <(tail -n +2 sim.env)
npx posture plan --stack ${a.stack} --auth token $POSTURE_SIM_ARGS
\`\`\`

\`npx posture controls\` lists every control; \`npx posture permissions plan\` the permissions a
plan needs. The pipelines plan on pull requests, apply the reviewed plan on merge and check for drift
every night.
`;
}
