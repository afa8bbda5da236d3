import { existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { createInterface } from 'node:readline/promises';
import type { CommandModule } from 'yargs';
import { checkAnswers, mergePackageJson, packageNameFor, scaffoldFiles, stackNameFor, type ScaffoldAnswers, type ScaffoldCi, type ScaffoldOwner, type ScaffoldPackage } from '../init/scaffold.js';
import { PACKAGE_ROOT, TOOL_VERSION } from '../version.js';
import { printableLine } from './log.js';
import { UsageError } from './options.js';

interface InitArgs {
  dir: string;
  organization?: string;
  domain?: string[];
  'break-glass'?: string[];
  owner?: string;
  team?: string;
  'mail-owner'?: string;
  'identity-owner'?: string;
  'dmarc-reports'?: string[];
  stack?: string;
  ci: string[];
  yes: boolean;
  force: boolean;
}

/** `Name <address>` as an owner of `team`. */
export function parseOwner(option: string, value: string, team: string): ScaffoldOwner {
  const m = /^\s*([^<>]+?)\s*<([^<>\s]+)>\s*$/.exec(value);
  if (!m) throw new UsageError(`--${option} is "Name <address>", for example "Mail Platform Lead <mail-platform@contoso.com>"; ${JSON.stringify(value)} is not`);
  return { name: m[1]!, team, contact: m[2]! };
}

/** The files of each pipeline: the example shipped in this package, and where it goes in the new repository. */
const PIPELINES: Readonly<Record<ScaffoldCi, ReadonlyArray<{ example: string; path: string }>>> = {
  github: [
    { example: 'examples/github/posture.yml', path: '.github/workflows/posture.yml' },
    // The workflow's jobs set up with it: `uses: ./.github/actions/posture`.
    { example: 'examples/github/actions/posture/action.yml', path: '.github/actions/posture/action.yml' },
  ],
  'azure-devops': [
    { example: 'examples/azure-devops/azure-pipelines.yml', path: 'azure-pipelines.yml' },
    // The pipeline's jobs set up with it: `- template: templates/posture-setup.yml`.
    { example: 'examples/azure-devops/templates/posture-setup.yml', path: 'templates/posture-setup.yml' },
  ],
};

/** What this installed package gives a new repository: its version, the pins of tsx and typescript, the pipeline examples. */
function packageContribution(): ScaffoldPackage {
  const own = JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { devDependencies?: Record<string, string> };
  const pin = (name: string): string => own.devDependencies?.[name] ?? 'latest';
  const pipelines = Object.fromEntries(
    Object.entries(PIPELINES).map(([ci, files]) => [ci, files.map((p) => ({ path: p.path, text: readFileSync(join(PACKAGE_ROOT, p.example), 'utf8') }))]),
  ) as unknown as ScaffoldPackage['pipelines'];
  return { version: TOOL_VERSION, tsx: pin('tsx'), typescript: pin('typescript'), pipelines };
}

/** Asks for what the command line did not give, when someone is at a terminal; otherwise says which options are missing. */
async function complete(args: InitArgs): Promise<InitArgs> {
  const missing = [!args.organization && 'organization', !args.domain?.length && 'domain', !args['break-glass']?.length && 'break-glass', !args.owner && 'owner', !args.team && 'team', !args['dmarc-reports']?.length && 'dmarc-reports'].filter(
    (m): m is string => typeof m === 'string',
  );
  if (missing.length === 0) return args;
  if (args.yes || !process.stdin.isTTY || !process.stdout.isTTY) {
    throw new UsageError(`give ${missing.map((m) => `--${m}`).join(', ')} (or run posture init at a terminal to be asked)`);
  }
  const rl = createInterface({ input: process.stdin, output: process.stdout });
  try {
    const ask = async (q: string) => (await rl.question(q)).trim();
    const words = (s: string) => s.split(/[\s,]+/).filter(Boolean);
    const out = { ...args };
    if (!out.organization) out.organization = await ask('Organisation name: ');
    if (!out.domain?.length) out.domain = words(await ask('Mail domains, primary first (space-separated): '));
    if (!out['break-glass']?.length) out['break-glass'] = words(await ask('Break-glass (emergency-access) accounts: '));
    if (!out.owner) out.owner = await ask('Owner of every control, as Name <address>: ');
    if (!out.team) out.team = await ask("Owner's team: ");
    if (!out['dmarc-reports']?.length) out['dmarc-reports'] = words(await ask('Where aggregate DMARC reports go (mailto: addresses): '));
    return out;
  } finally {
    rl.close();
  }
}

/** Writes `text` to `path` whole: a temporary file renamed into place. */
function writeWhole(path: string, text: string): void {
  mkdirSync(dirname(path), { recursive: true });
  const partial = `${path}.${process.pid}.tmp`;
  writeFileSync(partial, text);
  renameSync(partial, path);
}

/**
 * `posture init [DIR]`: a new posture repository in DIR (created if missing): package.json depending
 * on this package, cdktf.json, one stack from the answers, the pipelines, a .gitignore and a README.
 * An existing package.json gets what it lacks; any other file that exists already is left alone and
 * the command refuses (nothing written) unless --force.
 */
export function initCommand(setExit: (code: number) => void): CommandModule<object, InitArgs> {
  return {
    command: 'init [dir]',
    describe: 'Scaffold a posture repository: package.json, cdktf.json, one stack, the pipelines',
    builder: (y) =>
      y
        .positional('dir', { type: 'string', default: '.', describe: 'The folder of the new repository (created if missing)' })
        .option('organization', { type: 'string', requiresArg: true, describe: "The organisation's display name" })
        .option('domain', { type: 'string', array: true, requiresArg: true, describe: 'A mail domain (repeat, or space-separate; the first is the primary domain)' })
        .option('break-glass', { type: 'string', array: true, requiresArg: true, describe: 'An emergency-access account conditional access always excludes (repeat for each)' })
        .option('owner', { type: 'string', requiresArg: true, describe: 'The owner of every control, as "Name <address>"' })
        .option('team', { type: 'string', requiresArg: true, describe: "The owners' team" })
        .option('mail-owner', { type: 'string', requiresArg: true, describe: 'Owner of the mail controls, as "Name <address>" (default: --owner)' })
        .option('identity-owner', { type: 'string', requiresArg: true, describe: 'Owner of the identity controls, as "Name <address>" (default: --owner)' })
        .option('dmarc-reports', { type: 'string', array: true, requiresArg: true, describe: 'A mailto: address for aggregate DMARC reports (repeat for each)' })
        .option('stack', { type: 'string', requiresArg: true, describe: "The stack's name (default: the primary domain's first label)" })
        .option('ci', { type: 'string', array: true, choices: ['github', 'azure-devops', 'none'], default: ['github'], describe: 'The pipelines to write' })
        .option('yes', { type: 'boolean', default: false, describe: 'Never ask: a missing answer is an error' })
        .option('force', { type: 'boolean', default: false, describe: 'Overwrite files that exist already (package.json is always merged, never replaced)' }) as never,
    handler: async (raw) => {
      const args = await complete(raw);
      const dir = resolve(args.dir);
      if (existsSync(dir) && !statSync(dir).isDirectory()) throw new UsageError(`${args.dir} exists and is not a folder`);
      const words = (v: string[] | undefined) => (v ?? []).flatMap((s) => s.split(/[\s,]+/)).filter(Boolean);
      const domains = words(args.domain).map((d) => d.toLowerCase());
      const team = args.team!;
      const ci = args.ci.includes('none') ? [] : ([...new Set(args.ci)] as ScaffoldCi[]);
      const answers: ScaffoldAnswers = {
        organization: args.organization!,
        domains,
        breakGlass: words(args['break-glass']),
        owner: parseOwner('owner', args.owner!, team),
        ...(args['mail-owner'] ? { mailOwner: parseOwner('mail-owner', args['mail-owner'], team) } : {}),
        ...(args['identity-owner'] ? { identityOwner: parseOwner('identity-owner', args['identity-owner'], team) } : {}),
        dmarcReports: words(args['dmarc-reports']),
        stack: args.stack ?? stackNameFor(domains[0] ?? ''),
        ci,
        packageName: packageNameFor(basename(dir)),
      };
      const problems = checkAnswers(answers);
      if (problems.length) throw new UsageError(problems.map((p) => `--${p.option}: ${p.message}`).join('; '));

      const pkg = packageContribution();
      const files = scaffoldFiles(answers, pkg);
      const manifestPath = join(dir, 'package.json');
      if (existsSync(manifestPath)) {
        let existing: unknown;
        try {
          existing = JSON.parse(readFileSync(manifestPath, 'utf8'));
        } catch (err) {
          console.error(printableLine(`posture init: ${join(args.dir, 'package.json')} is not valid JSON (${(err as Error).message}); nothing was written`));
          return setExit(1);
        }
        if (!existing || typeof existing !== 'object' || Array.isArray(existing)) {
          console.error(printableLine(`posture init: ${join(args.dir, 'package.json')} is not a JSON object; nothing was written`));
          return setExit(1);
        }
        files.set('package.json', JSON.stringify(mergePackageJson(existing as Record<string, unknown>, answers, pkg), null, 2) + '\n');
      }
      const clashes = [...files.keys()].filter((f) => f !== 'package.json' && existsSync(join(dir, f)));
      if (clashes.length && !args.force) {
        console.error(printableLine(`posture init: ${clashes.join(', ')} exist${clashes.length === 1 ? 's' : ''} already in ${args.dir}; nothing was written (--force overwrites)`));
        return setExit(1);
      }
      for (const [file, text] of files) writeWhole(join(dir, file), text);
      const shown = relative(process.cwd(), dir) || '.';
      process.stdout.write(
        [
          `Wrote a posture repository for ${answers.organization} in ${shown}:`,
          ...[...files.keys()].map((f) => `  ${f}`),
          '',
          'Next:',
          ...(shown === '.' ? [] : [`  cd ${shown}`]),
          '  npm install',
          '  npx posture synth',
          `  npx posture plan --stack ${answers.stack} ...   (README.md: against the simulator first)`,
          '',
        ]
          .map(printableLine)
          .join('\n'),
      );
      setExit(0);
    },
  };
}
