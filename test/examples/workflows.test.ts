import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseDocument } from 'yaml';

// The CI examples under examples/ are checked against the real `posture` command line: every
// invocation must name a command, flags and choices that `posture <command> --help` prints.

const root = fileURLToPath(new URL('../../', import.meta.url));
const postureBin = join(root, 'bin', 'posture.js');

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const obj = (v: unknown): Obj => (isObj(v) ? v : {});
const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const str = (v: unknown): string => (typeof v === 'string' ? v : '');

// ---------------------------------------------------------------------------------------------
// Shell: enough of bash's word splitting to find every command of a script block.
// ---------------------------------------------------------------------------------------------

/** Index of the `)` closing the `(` at `open`, skipping quoted text and nested parentheses. */
function closingParen(src: string, open: number): number {
  let depth = 0;
  for (let i = open; i < src.length; i++) {
    const c = src[i];
    if (c === '\\') i++;
    else if (c === "'") i = src.indexOf("'", i + 1) === -1 ? src.length : src.indexOf("'", i + 1);
    else if (c === '"') {
      for (i++; i < src.length && src[i] !== '"'; i++) {
        if (src[i] === '\\') i++;
        else if (src[i] === '$' && src[i + 1] === '(') i = closingParen(src, i + 1);
      }
    } else if (c === '(') depth++;
    else if (c === ')' && --depth === 0) return i;
  }
  throw new Error(`unbalanced parentheses in: ${src.slice(open, open + 60)}`);
}

const SHELL_KEYWORDS = new Set(['if', 'then', 'else', 'elif', 'fi', 'do', 'done', 'while', 'until', '!', 'time', 'exec', '{', '}']);

/**
 * The simple commands of a shell script, each as its words with quotes removed: line continuations
 * join lines; newlines, `;`, `&&`, `||`, `|`, `&` and parentheses separate commands; `$( … )` is a
 * command of its own; comments and redirection targets are dropped.
 */
export function shellCommands(script: string): string[][] {
  const src = script.replace(/\$\{\{[\s\S]*?\}\}/g, 'EXPR');
  const commands: string[][] = [];
  let words: string[] = [];
  let word: string | undefined;
  let dropNextWord = false;
  const endWord = () => {
    if (word !== undefined) {
      if (dropNextWord) dropNextWord = false;
      else words.push(word);
    }
    word = undefined;
  };
  const endCommand = () => {
    endWord();
    while (words.length && (SHELL_KEYWORDS.has(words[0]!) || /^[A-Za-z_][A-Za-z0-9_]*=/.test(words[0]!))) words.shift();
    if (words.length) commands.push(words);
    words = [];
  };
  const append = (s: string) => (word = (word ?? '') + s);
  let i = 0;
  while (i < src.length) {
    const c = src[i]!;
    if (c === '\\' && src[i + 1] === '\n') {
      i += 2;
    } else if (c === '\\') {
      append(src[i + 1] ?? '');
      i += 2;
    } else if (c === "'") {
      const end = src.indexOf("'", i + 1);
      if (end === -1) throw new Error('unterminated single quote');
      append(src.slice(i + 1, end));
      i = end + 1;
    } else if (c === '"') {
      append('');
      for (i++; i < src.length && src[i] !== '"'; i++) {
        if (src[i] === '\\' && '"\\$`\n'.includes(src[i + 1] ?? '')) append(src[++i]!);
        else if (src[i] === '$' && src[i + 1] === '(') {
          const end = closingParen(src, i + 1);
          commands.push(...shellCommands(src.slice(i + 2, end)));
          append('$(…)');
          i = end;
        } else append(src[i]!);
      }
      if (i >= src.length) throw new Error('unterminated double quote');
      i++;
    } else if (c === '$' && src[i + 1] === '(') {
      const end = closingParen(src, i + 1);
      commands.push(...shellCommands(src.slice(i + 2, end)));
      append('$(…)');
      i = end + 1;
    } else if (c === '#' && word === undefined) {
      while (i < src.length && src[i] !== '\n') i++;
    } else if (c === ' ' || c === '\t') {
      endWord();
      i++;
    } else if (c === '<' || c === '>') {
      if (word !== undefined && /^\d+$/.test(word)) word = undefined;
      endWord();
      while (i < src.length && '<>&'.includes(src[i]!)) i++;
      dropNextWord = true;
    } else if ('\n;&|()`'.includes(c)) {
      endCommand();
      i++;
    } else {
      append(c);
      i++;
    }
  }
  endCommand();
  return commands;
}

/** The arguments after `posture` of each `posture`, `npx posture` or `node bin/posture.js` command. */
export function postureInvocations(script: string): string[][] {
  const found: string[][] = [];
  for (const words of shellCommands(script)) {
    let k = 0;
    if (words[0] === 'npx') {
      k = 1;
      while (k < words.length && words[k]!.startsWith('-')) k++;
      if (words[k] !== 'posture') continue;
    } else if (words[0] === 'node' && /(^|\/)bin\/posture\.js$/.test(words[1] ?? '')) {
      k = 1;
    } else if (words[0] !== 'posture') {
      continue;
    }
    found.push(words.slice(k + 1));
  }
  return found;
}

// ---------------------------------------------------------------------------------------------
// The CLI's own help, read once per command.
// ---------------------------------------------------------------------------------------------

interface OptionHelp {
  boolean: boolean;
  array: boolean;
  choices: string[] | undefined;
}

interface CommandHelp {
  /** False when the help is not the command's own (posture prints its top-level help, exit 0, for an unknown command). */
  exists: boolean;
  options: Map<string, OptionHelp>;
  subcommands: string[];
  positionals: { required: number; max: number };
}

const helpCache = new Map<string, CommandHelp>();

function sections(text: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  let current: string[] | undefined;
  for (const line of text.split('\n')) {
    const header = /^([A-Z][A-Za-z ]*):$/.exec(line);
    if (header) out.set(header[1]!, (current = []));
    else if (current && line.trim() !== '') current.push(line);
    else if (line.trim() === '') current = undefined;
  }
  return out;
}

function commandHelp(path: readonly string[]): CommandHelp {
  const key = path.join(' ');
  const cached = helpCache.get(key);
  if (cached) return cached;
  const r = spawnSync(process.execPath, [postureBin, ...path, '--help'], { cwd: root, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
  const text = r.stdout ?? '';
  const usage = text.split('\n')[0] ?? '';
  const usageRest = usage.startsWith(`posture ${key}`) ? usage.slice(`posture ${key}`.length) : undefined;
  const exists = r.status === 0 && usageRest !== undefined && (usageRest === '' || usageRest.startsWith(' '));
  const secs = sections(text);

  const options = new Map<string, OptionHelp>();
  const blocks: string[][] = [];
  for (const line of secs.get('Options') ?? []) {
    if (/^ {2}-/.test(line)) blocks.push([line]);
    else blocks.at(-1)?.push(line);
  }
  for (const block of blocks) {
    const joined = block.map((l) => l.trim()).join(' ');
    const names = /^(-[\w-]+(?:, -[\w-]+)*)/.exec(joined)![1]!.split(', ');
    const choices = /\[choices: ([^\]]*)\]/.exec(joined)?.[1];
    const info: OptionHelp = {
      boolean: joined.includes('[boolean]'),
      array: joined.includes('[array]'),
      choices: choices === undefined ? undefined : [...choices.matchAll(/"([^"]*)"/g)].map((m) => m[1]!),
    };
    for (const name of names) options.set(name, info);
  }

  const subcommands = (secs.get('Commands') ?? [])
    .map((line) => new RegExp(`^ {2}posture ${key.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} ([\\w-]+)`).exec(line)?.[1])
    .filter((s): s is string => s !== undefined);

  const declared = (usageRest ?? '').trim().split(/\s+/).filter(Boolean);
  const positionals = {
    required: declared.filter((d) => d.startsWith('<')).length,
    max: declared.some((d) => d.includes('..')) ? Infinity : declared.filter((d) => /^[<[]/.test(d)).length,
  };
  const help: CommandHelp = { exists, options, subcommands, positionals };
  helpCache.set(key, help);
  return help;
}

interface CheckedInvocation {
  command: string;
  flags: string[];
  values: Map<string, string[]>;
  positionals: string[];
  problems: string[];
}

const isLiteral = (value: string) => !/[$]|EXPR/.test(value);

/** Checks one invocation (the words after `posture`) against the help of the command it names. */
export function checkInvocation(args: readonly string[]): CheckedInvocation {
  const problems: string[] = [];
  const path: string[] = [];
  const rest = [...args];
  // `posture --version` (or --help) alone: a flag of posture itself, from its top-level help.
  if (rest.length === 1 && ['--version', '--help'].includes(rest[0]!) && commandHelp([]).options.get(rest[0]!)?.boolean) {
    return { command: rest[0]!, flags: [rest[0]!], values: new Map(), positionals: [], problems: [] };
  }
  if (!rest[0] || rest[0].startsWith('-')) return { command: '', flags: [], values: new Map(), positionals: [], problems: ['no command named'] };
  path.push(rest.shift()!);
  let help = commandHelp(path);
  while (help.exists && rest[0] !== undefined && help.subcommands.includes(rest[0])) {
    path.push(rest.shift()!);
    help = commandHelp(path);
  }
  const command = path.join(' ');
  if (!help.exists) return { command, flags: [], values: new Map(), positionals: [], problems: [`posture ${command}: no such command`] };

  const flags: string[] = [];
  const values = new Map<string, string[]>();
  const positionals: string[] = [];
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i]!;
    if (arg === '--') {
      positionals.push(...rest.slice(i + 1));
      break;
    }
    if (!arg.startsWith('-') || arg === '-') {
      positionals.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const name = eq === -1 ? arg : arg.slice(0, eq);
    flags.push(name);
    let option = help.options.get(name);
    if (!option && name.startsWith('--no-') && help.options.get(`--${name.slice(5)}`)?.boolean) option = help.options.get(`--${name.slice(5)}`);
    if (!option) {
      problems.push(`posture ${command}: unknown flag ${name}`);
      if (eq === -1 && rest[i + 1] !== undefined && !rest[i + 1]!.startsWith('-')) i++;
      continue;
    }
    const given: string[] = [];
    if (eq !== -1) given.push(arg.slice(eq + 1));
    else if (option.boolean) {
      if (rest[i + 1] === 'true' || rest[i + 1] === 'false') given.push(rest[++i]!);
    } else if (option.array) {
      while (rest[i + 1] !== undefined && !rest[i + 1]!.startsWith('-')) given.push(rest[++i]!);
    } else if (rest[i + 1] !== undefined) given.push(rest[++i]!);
    if (!option.boolean && given.length === 0) problems.push(`posture ${command}: ${name} has no value`);
    values.set(name, [...(values.get(name) ?? []), ...given]);
    for (const value of given) {
      if (option.choices && isLiteral(value) && !option.choices.includes(value)) {
        problems.push(`posture ${command}: ${name} ${value} is not one of ${option.choices.join(', ')}`);
      }
    }
  }
  if (positionals.length > help.positionals.max) problems.push(`posture ${command}: unexpected argument(s) ${positionals.slice(help.positionals.max).join(' ')}`);
  if (positionals.length < help.positionals.required) problems.push(`posture ${command}: missing a required argument`);
  return { command, flags, values, positionals, problems };
}

// ---------------------------------------------------------------------------------------------
// The example files.
// ---------------------------------------------------------------------------------------------

interface Workflow {
  file: string;
  platform: 'github' | 'azure';
  text: string;
  data: Obj;
  errors: string[];
}

function load(file: string, platform: Workflow['platform']): Workflow {
  const text = readFileSync(join(root, file), 'utf8');
  const doc = parseDocument(text, { prettyErrors: true });
  return { file, platform, text, data: obj(doc.toJS()), errors: [...doc.errors, ...doc.warnings].map((e) => e.message) };
}

const githubFiles = readdirSync(join(root, 'examples', 'github'))
  .filter((f) => /\.ya?ml$/.test(f))
  .sort()
  .map((f) => `examples/github/${f}`);
const azureFiles = ['examples/azure-devops/azure-pipelines.yml'];
const workflows: Workflow[] = [...githubFiles.map((f) => load(f, 'github')), ...azureFiles.map((f) => load(f, 'azure'))];
const github = workflows.filter((w) => w.platform === 'github');
const azure = workflows.find((w) => w.platform === 'azure')!;

const SCRIPT_KEYS = new Set(['run', 'script', 'bash', 'pwsh', 'powershell', 'inlineScript']);

/** Every script block anywhere in a document, with where it is. */
function scriptBlocks(node: unknown, where = ''): Array<{ where: string; script: string }> {
  if (Array.isArray(node)) return node.flatMap((n, i) => scriptBlocks(n, `${where}[${i}]`));
  if (!isObj(node)) return [];
  return Object.entries(node).flatMap(([k, v]) => (SCRIPT_KEYS.has(k) && typeof v === 'string' ? [{ where: `${where}.${k}`, script: v }] : scriptBlocks(v, `${where}.${k}`)));
}

const stepScript = (step: Obj): string => str(step['run']) || str(step['script']) || str(step['bash']) || str(obj(step['inputs'])['script']);

// ---------------------------------------------------------------------------------------------
// What really runs: the posture action's steps in place of `uses: ./.github/actions/posture`, and
// the steps template's in place of `- template: templates/posture-setup.yml`, each with its inputs
// or parameters filled in, so that every check below applies to the action's and the template's own
// steps as well.
// ---------------------------------------------------------------------------------------------

/** The posture action, `uses: ./.github/actions/posture` in a repository (after actions/checkout). */
const ACTION_USES = './.github/actions/posture';
const action = load('examples/github/actions/posture/action.yml', 'github');
/** The steps template, `- template: templates/posture-setup.yml` beside azure-pipelines.yml. */
const TEMPLATE_PATH = 'templates/posture-setup.yml';
const template = load('examples/azure-devops/templates/posture-setup.yml', 'azure');

/** Replaces every string of a value (scripts excepted when `scripts` is false) through `f`. */
function mapStrings(node: unknown, f: (s: string) => string, scripts: boolean, key = ''): unknown {
  if (typeof node === 'string') return !scripts && SCRIPT_KEYS.has(key) ? node : f(node);
  if (Array.isArray(node)) return node.map((n) => mapStrings(n, f, scripts));
  if (isObj(node)) return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, mapStrings(v, f, scripts, k)]));
  return node;
}

/** A word as bash would read it back: single-quoted, so nothing in it expands. */
const shellQuote = (word: string) => `'${word.replace(/'/g, `'\\''`)}'`;

/**
 * The action's steps for one `uses:` step: inputs from its `with:` or their defaults, put into the
 * env, with, if and working-directory values as the runner evaluates them (never into a script);
 * a step whose `if:` compares an input runs or not accordingly; the calling step's env flows into
 * every step, under the step's own. The command step runs `npx posture "${words[@]}"`, the words of
 * the command input: the expansion puts them in its place, so the invocation is checked as written.
 */
export function expandAction(step: Obj): Obj[] {
  const declared = obj(action.data['inputs']);
  const given = obj(step['with']);
  const unknown = Object.keys(given).filter((k) => !(k in declared));
  if (unknown.length > 0) throw new Error(`${ACTION_USES} has no input ${unknown.join(', ')}`);
  const inputs = new Map(Object.entries(declared).map(([name, spec]) => [name, String(given[name] ?? obj(spec)['default'] ?? '')] as const));
  const input = (name: string) => {
    if (!inputs.has(name)) throw new Error(`${ACTION_USES} reads an input it does not declare: ${name}`);
    return inputs.get(name)!;
  };
  const fill = (s: string) => s.replace(/\$\{\{\s*inputs\.([\w-]+)\s*\}\}/g, (_m, name: string) => input(name));
  const out: Obj[] = [];
  for (const raw of list(obj(action.data['runs'])['steps']).map(obj)) {
    const condition = str(raw['if']);
    let s = obj(mapStrings(raw, fill, false));
    if (condition !== '') {
      const m = /^inputs\.([\w-]+) (==|!=) '([^']*)'$/.exec(condition.trim());
      if (m) {
        if ((input(m[1]!) === m[3]) !== (m[2] === '==')) continue;
        s = Object.fromEntries(Object.entries(s).filter(([k]) => k !== 'if'));
      }
    }
    if (typeof s['run'] === 'string' && s['run'].includes('"${words[@]}"')) {
      const words = str(obj(s['env'])['POSTURE_COMMAND']).split(/\s+/).filter(Boolean);
      s = { ...s, run: s['run'].replace('"${words[@]}"', words.map(shellQuote).join(' ')) };
    }
    if (step['env'] !== undefined || s['env'] !== undefined) s = { ...s, env: { ...obj(step['env']), ...obj(s['env']) } };
    out.push(s);
  }
  return out;
}

/** `eq(parameters.x, v)` / `ne(parameters.x, v)`, the only template expressions the template uses. */
function templateCondition(expression: string, parameters: Map<string, unknown>): boolean {
  const m = /^\$\{\{\s*if (eq|ne)\(parameters\.(\w+), (true|false|'[^']*')\)\s*\}\}$/.exec(expression.trim());
  if (!m) throw new Error(`${TEMPLATE_PATH}: an expression the test does not evaluate: ${expression}`);
  if (!parameters.has(m[2]!)) throw new Error(`${TEMPLATE_PATH} reads a parameter it does not declare: ${m[2]}`);
  const value = m[3] === 'true' ? true : m[3] === 'false' ? false : m[3]!.slice(1, -1);
  return (parameters.get(m[2]!) === value) === (m[1] === 'eq');
}

/**
 * The template's steps for one `- template:` step: parameters from the step or their defaults
 * (each must be one of the parameter's values when it lists them), `${{ parameters.x }}` filled in
 * as Azure Pipelines does when it compiles the pipeline, and `${{ if … }}:` items kept or dropped.
 */
export function expandTemplate(step: Obj): Obj[] {
  if (str(step['template']) !== TEMPLATE_PATH) throw new Error(`no such template: ${str(step['template'])}`);
  const declared = new Map(list(template.data['parameters']).map((p) => [str(obj(p)['name']), obj(p)] as const));
  const given = obj(step['parameters']);
  const unknown = Object.keys(given).filter((k) => !declared.has(k));
  if (unknown.length > 0) throw new Error(`${TEMPLATE_PATH} has no parameter ${unknown.join(', ')}`);
  const parameters = new Map([...declared].map(([name, spec]) => [name, given[name] ?? spec['default']] as const));
  for (const [name, spec] of declared) {
    const values = spec['values'];
    if (Array.isArray(values) && !values.includes(parameters.get(name))) throw new Error(`${TEMPLATE_PATH}: ${name} ${String(parameters.get(name))} is not one of ${values.join(', ')}`);
  }
  const fill = (s: string) =>
    s.replace(/\$\{\{\s*parameters\.(\w+)\s*\}\}/g, (_m, name: string) => {
      if (!parameters.has(name)) throw new Error(`${TEMPLATE_PATH} reads a parameter it does not declare: ${name}`);
      return String(parameters.get(name));
    });
  const expand = (items: unknown[]): Obj[] =>
    items.flatMap((item) => {
      const keys = Object.keys(obj(item));
      if (keys.length === 1 && keys[0]!.startsWith('${{')) return templateCondition(keys[0]!, parameters) ? expand(list(obj(item)[keys[0]!])) : [];
      return [obj(mapStrings(item, fill, true))];
    });
  const steps = expand(list(template.data['steps']));
  const left = JSON.stringify(steps).match(/\$\{\{[^}]*\}\}/g);
  if (left) throw new Error(`${TEMPLATE_PATH}: expressions left after expansion: ${left.join(', ')}`);
  return steps;
}

/** A job's steps as they run: the action and the template expanded in place. */
function expandSteps(steps: Obj[]): Obj[] {
  return steps.flatMap((s) => (str(s['uses']) === ACTION_USES ? expandAction(s) : s['template'] !== undefined ? expandTemplate(s) : [s]));
}

interface Job {
  w: Workflow;
  id: string;
  job: Obj;
  /** The stage, on Azure Pipelines. */
  stage: Obj;
  /** What runs: the steps with the action and the template expanded. */
  steps: Obj[];
  /** The steps as the file writes them. */
  rawSteps: unknown;
}

function githubJobs(w: Workflow): Job[] {
  return Object.entries(obj(w.data['jobs'])).map(([id, j]) => ({ w, id, job: obj(j), stage: {}, steps: expandSteps(list(obj(j)['steps']).map(obj)), rawSteps: obj(j)['steps'] }));
}

function azureJobs(w: Workflow): Job[] {
  return list(w.data['stages']).flatMap((s) =>
    list(obj(s)['jobs']).map((j) => {
      const job = obj(j);
      const rawSteps = job['deployment'] !== undefined ? obj(obj(obj(job['strategy'])['runOnce'])['deploy'])['steps'] : job['steps'];
      return { w, id: str(job['job']) || str(job['deployment']), job, stage: obj(s), steps: expandSteps(list(rawSteps).map(obj)), rawSteps };
    }),
  );
}

const jobsOf = (w: Workflow) => (w.platform === 'github' ? githubJobs(w) : azureJobs(w));
const invocationsOf = (step: Obj) => postureInvocations(stepScript(step)).map(checkInvocation);

let tenantCommands: string[] = [];

beforeAll(() => {
  const r = spawnSync(process.execPath, [postureBin, 'permissions', '--format', 'json'], { cwd: root, encoding: 'utf8' });
  expect(r.status).toBe(0);
  const table = JSON.parse(r.stdout) as Record<string, unknown[]>;
  tenantCommands = Object.entries(table)
    .filter(([, perms]) => perms.length > 0)
    .map(([c]) => c);
}, 60_000);

const touchesTenant = (step: Obj) => invocationsOf(step).some((inv) => tenantCommands.includes(inv.command));

/** The evidence file a plan, drift or apply invocation records in: its --evidence, or the CLI's default. */
const DEFAULT_EVIDENCE = 'posture-evidence.jsonl';
function evidenceFileOf(inv: CheckedInvocation): string {
  expect(inv.flags, `posture ${inv.command} records evidence`).not.toContain('--no-evidence');
  const given = inv.values.get('--evidence');
  return given?.at(-1) ?? DEFAULT_EVIDENCE;
}

/**
 * In a job that runs `posture <command>`: the evidence file it records in, and the index of the
 * first later step that runs `posture evidence verify` on that file (-1 when none does).
 */
function evidenceOfJob(j: Job, command: string): { file: string; step: number; verify: number } {
  const step = j.steps.findIndex((s) => invocationsOf(s).some((i) => i.command === command));
  expect(step, `${j.id} runs posture ${command}`).toBeGreaterThanOrEqual(0);
  const file = evidenceFileOf(invocationsOf(j.steps[step]!).find((i) => i.command === command)!);
  const verify = j.steps.findIndex((s, k) => k > step && invocationsOf(s).some((i) => i.command === 'evidence verify' && i.positionals[0] === file));
  return { file, step, verify };
}

/** Whether a job runs `posture <command>` in one of its steps. */
const runs = (j: Job, command: string) => j.steps.some((s) => invocationsOf(s).some((i) => i.command === command));

/**
 * The jobs that run `posture <command>`. The rollback job also runs `posture apply`, for the plan
 * `posture rollback` saved: it is checked on its own, not as the apply of the reviewed plan.
 */
const jobsRunning = (all: Job[], command: string) => all.filter((j) => runs(j, command) && (command === 'rollback' || !runs(j, 'rollback')));

/** Whether an artifact name matches a glob of `*` and `?`, as gh run download --pattern and itemPattern take them. */
const globMatches = (glob: string, name: string) =>
  new RegExp(`^${glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*').replace(/\?/g, '[^/]')}$`).test(name);

/** The environment a job deploys to. */
const environmentOf = (j: Job) => {
  const environment = j.job['environment'];
  return isObj(environment) ? environment['name'] : environment;
};

/**
 * In a rollback job: `posture rollback` on a trail named with --evidence saves a plan with --out,
 * a later step applies exactly that plan with --auto-approve and the same --evidence, and a step
 * after that verifies the same trail. Nothing in the job makes a plan of its own.
 */
function rollbackSequence(j: Job) {
  const commands = j.steps.flatMap(invocationsOf).map((i) => i.command);
  expect(commands, `${j.id} rolls back a recorded run, it does not plan`).not.toContain('plan');
  expect(commands.filter((c) => c === 'rollback'), `${j.id}: one posture rollback`).toHaveLength(1);
  expect(commands.filter((c) => c === 'apply'), `${j.id}: one posture apply`).toHaveLength(1);
  const synth = j.steps.findIndex((s) => invocationsOf(s).some((i) => i.command === 'synth'));
  const rollback = j.steps.findIndex((s) => invocationsOf(s).some((i) => i.command === 'rollback'));
  expect(synth, `${j.id} synthesizes the posture before the rollback`).toBeGreaterThanOrEqual(0);
  expect(synth).toBeLessThan(rollback);
  const rollbackInv = invocationsOf(j.steps[rollback]!).find((i) => i.command === 'rollback')!;
  expect(rollbackInv.positionals, 'rollback names the run').toHaveLength(1);
  expect(rollbackInv.values.get('--evidence'), 'rollback names the downloaded trail').toHaveLength(1);
  expect(rollbackInv.values.get('--out'), 'rollback saves its plan').toHaveLength(1);
  expect(rollbackInv.flags, 'rollback says it means to undo security fixes').toContain('--restore-insecure');
  const file = evidenceFileOf(rollbackInv);
  const plan = rollbackInv.values.get('--out')![0]!;

  const apply = j.steps.findIndex((s) => invocationsOf(s).some((i) => i.command === 'apply'));
  expect(apply, `${j.id} applies the rollback plan after posture rollback`).toBeGreaterThan(rollback);
  const applyInv = invocationsOf(j.steps[apply]!).find((i) => i.command === 'apply')!;
  expect(applyInv.positionals, 'apply names the rollback plan').toEqual([plan]);
  expect(applyInv.flags).toContain('--auto-approve');
  expect(applyInv.values.get('--evidence'), 'apply records in the trail the rollback was checked against').toEqual([file]);

  const { file: verified, verify } = evidenceOfJob(j, 'apply');
  expect(verified).toBe(file);
  expect(verify, `${j.id}: posture evidence verify ${file} after the apply`).toBeGreaterThan(apply);
  return { rollback, apply, verify, file, rollbackInv };
}

describe('the invocation checker', () => {
  it('splits commands on newlines, operators and command substitution, and joins continued lines', () => {
    const script = [
      'status=0',
      'npx posture plan --stack "$POSTURE_STACK" \\',
      '  --format json --out plan.json || status=$?',
      'echo "posture plan said $status" > /dev/null; npx --yes posture show plan.json',
      'id="$(node bin/posture.js controls --format json)"  # npx posture apply --auto-approve',
      "echo 'npx posture drift'",
    ].join('\n');
    expect(postureInvocations(script)).toEqual([
      ['plan', '--stack', '$POSTURE_STACK', '--format', 'json', '--out', 'plan.json'],
      ['show', 'plan.json'],
      ['controls', '--format', 'json'],
    ]);
  });

  it('finds unknown commands, unknown flags, bad choices and stray arguments', () => {
    const problems = (line: string) => postureInvocations(line).flatMap((args) => checkInvocation(args).problems);
    expect(problems('npx posture plna --stack x')).toEqual(['posture plna: no such command']);
    expect(problems('npx posture plan --stak x --auth oidc --format markdown --out plan.md')).toEqual([
      'posture plan: unknown flag --stak',
      'posture plan: --auth oidc is not one of auto, token, secret, certificate, workload-identity, github-oidc, azure-pipelines, managed-identity, azure-cli',
    ]);
    expect(problems('npx posture drift extra --format pdf --out x')).toEqual([
      'posture drift: --format pdf is not one of json, markdown, sarif, junit, html',
      'posture drift: unexpected argument(s) extra',
    ]);
    expect(problems('npx posture show --format json')).toEqual(['posture show: missing a required argument']);
    expect(problems('npx posture --version')).toEqual([]);
    expect(problems('npx posture --debug')).toEqual(['no command named']);
    expect(problems('npx posture apply plan.json --auto-approve --auth "$AUTH"')).toEqual([]);
  }, 120_000);
});

describe.each(workflows.map((w) => [w.file, w] as const))('%s', (_file, w) => {
  it('parses as YAML without errors or warnings', () => {
    expect(w.errors).toEqual([]);
    expect(Object.keys(w.data).length).toBeGreaterThan(0);
  });

  it('every job has a list of steps, each a mapping', () => {
    const jobs = jobsOf(w);
    expect(jobs.length).toBeGreaterThan(0);
    for (const j of jobs) {
      expect(Array.isArray(j.rawSteps), `${j.id}: steps is not a list`).toBe(true);
      expect(j.steps.length, `${j.id}: no steps`).toBeGreaterThan(0);
      for (const s of list(j.rawSteps)) expect(isObj(s), `${j.id}: a step is not a mapping`).toBe(true);
    }
    // No script block lives outside a job's steps, where the checks below would not see it.
    const inSteps = jobs.flatMap((j) => list(j.rawSteps).map(obj).map(stepScript)).filter(Boolean);
    expect(scriptBlocks(w.data).map((b) => b.script).sort()).toEqual([...inSteps].sort());
  });

  it('every posture invocation names a real command, its real flags and allowed choices', () => {
    // What runs: the workflow's own scripts and those of the action or template its jobs use.
    const blocks = jobsOf(w).flatMap((j) => j.steps.map((s, k) => ({ where: `${j.id}.steps[${k}]`, script: stepScript(s) })));
    const problems: string[] = [];
    const used = new Set<string>();
    for (const block of blocks) {
      for (const args of postureInvocations(block.script)) {
        const inv = checkInvocation(args);
        used.add(inv.command);
        problems.push(...inv.problems.map((p) => `${block.where}: ${p}`));
      }
    }
    expect(problems).toEqual([]);
    // The posture flows live in the main workflow; the respond workflow runs its own.
    const expected = w.file.endsWith('respond.yml') ? ['apply', 'evidence verify', 'respond', 'synth'] : w.file.endsWith('probe.yml') ? ['evidence verify', 'probe', 'synth'] : ['apply', 'drift', 'evidence verify', 'plan', 'rollback', 'synth'];
    expect([...used].sort()).toEqual(expect.arrayContaining(expected));
  }, 120_000);

  it('authenticates by workload identity federation only', () => {
    const expected = w.platform === 'github' ? 'github-oidc' : 'azure-pipelines';
    for (const j of jobsOf(w)) {
      for (const step of j.steps) {
        for (const inv of invocationsOf(step)) {
          if (!tenantCommands.includes(inv.command)) continue;
          expect(inv.values.get('--auth'), `${j.id}: posture ${inv.command} --auth`).toEqual([expected]);
        }
      }
    }
  }, 120_000);

  it('never cuts the Markdown plan: the renderer keeps within the comment limit and says what it left out', () => {
    expect(w.text).not.toMatch(/head -c/);
  });

  it('holds no secret beyond the built-in token, and no client secret or certificate', () => {
    const secretRefs = [...w.text.matchAll(/secrets\.([A-Za-z0-9_]+)/g)].map((m) => m[1]);
    for (const name of secretRefs) expect(name).toBe('GITHUB_TOKEN');
    for (const forbidden of [
      /AZURE_CLIENT_SECRET/i,
      /AZURE_CLIENT_CERTIFICATE/i,
      /client[-_]secret/i,
      /certificate[-_]?path/i,
      /\.(pem|pfx|p12)\b/i,
      /--auth[ =](secret|certificate|token)\b/,
      /POSTURE_(GRAPH|EXCHANGE|ACCESS)_TOKEN/,
      /AzureKeyVault@/,
      /isSecret/,
    ]) {
      expect(w.text, `${w.file} matches ${forbidden}`).not.toMatch(forbidden);
    }
  });
});

describe('GitHub Actions workflow', () => {
  // The flows may live in one workflow file or several; each check looks at the job that runs them.
  // The respond workflow is checked on its own below.
  const jobs = () => github.filter((w) => !w.file.endsWith('respond.yml') && !w.file.endsWith('probe.yml')).flatMap(githubJobs);
  const jobWith = (command: string) => jobsRunning(jobs(), command);
  const envOf = (j: Job, step: Obj = {}) => ({ ...obj(j.w.data['env']), ...obj(j.job['env']), ...obj(step['env']) });
  const on = (j: Job) => obj(j.w.data['on']);

  it('runs on pull requests, pushes to main, a schedule and on demand', () => {
    const events = github.flatMap((w) => Object.keys(obj(w.data['on'])));
    for (const event of ['pull_request', 'push', 'schedule', 'workflow_dispatch']) expect(events).toContain(event);
    for (const w of github) {
      const push = obj(w.data['on'])['push'];
      if (push !== undefined) expect(list(obj(push)['branches'])).toEqual(['main']);
      for (const s of list(obj(w.data['on'])['schedule'])) expect(str(obj(s)['cron'])).toMatch(/^\S+ \S+ \S+ \S+ \S+$/);
    }
    expect(github.flatMap((w) => list(obj(w.data['on'])['schedule'])).length).toBeGreaterThan(0);
  });

  it('asks for id-token: write wherever posture reaches the tenant, with the ids from repository variables', () => {
    const tenantJobs = jobs().filter((j) => j.steps.some(touchesTenant));
    expect(tenantJobs.length).toBeGreaterThanOrEqual(3);
    for (const j of tenantJobs) {
      const permissions = j.job['permissions'] ?? j.w.data['permissions'];
      expect(isObj(permissions), `${j.id}: permissions must be a mapping`).toBe(true);
      expect(obj(permissions)['id-token'], `${j.id}: id-token`).toBe('write');
      for (const step of j.steps.filter(touchesTenant)) {
        const env = envOf(j, step);
        expect(str(env['AZURE_TENANT_ID'])).toMatch(/^\$\{\{\s*vars\.AZURE_TENANT_ID\s*\}\}$/);
        expect(str(env['AZURE_CLIENT_ID'])).toMatch(/^\$\{\{\s*vars\.AZURE_CLIENT_ID\s*\}\}$/);
      }
    }
    // The workflow default grants nothing; each job asks for its own.
    for (const w of github) expect(w.data['permissions']).toEqual({});
  }, 120_000);

  it('passes values to scripts through env, never by ${{ }} inside a script', () => {
    for (const b of [...github, action].flatMap((w) => scriptBlocks(w.data).map((x) => ({ ...x, where: `${w.file}${x.where}` })))) expect(b.script, b.where).not.toContain('${{');
  });

  it('plans on pull requests: comment, SARIF and the plan artifact', () => {
    const [plan] = jobWith('plan');
    expect(plan).toBeDefined();
    expect(on(plan!)['pull_request']).toBeDefined();
    expect(str(plan!.job['if'])).toMatch(/github\.event_name == 'pull_request'|^$/);
    expect(obj(plan!.job['permissions'])).toMatchObject({ 'pull-requests': 'write', 'security-events': 'write', contents: 'read' });
    const inv = plan!.steps.flatMap(invocationsOf).find((i) => i.command === 'plan')!;
    const outs = inv.values.get('--out')!;
    const formats = inv.values.get('--format')!;
    const outFor = (format: string) => outs[formats.indexOf(format)];
    expect(formats).toEqual(expect.arrayContaining(['markdown', 'sarif', 'json']));
    expect(outs).toHaveLength(formats.length);
    const uses = (action: string) => plan!.steps.filter((s) => str(s['uses']).startsWith(`${action}@`));
    expect(str(obj(uses('github/codeql-action/upload-sarif')[0]?.['with'])['sarif_file'])).toBe(outFor('sarif'));
    expect(str(obj(uses('actions/upload-artifact')[0]?.['with'])['path'])).toBe(outFor('json'));
    expect(plan!.steps.some((s) => /gh (api|pr comment)/.test(stepScript(s)) && stepScript(s).includes(outFor('markdown')!))).toBe(true);
    const setup = uses('actions/setup-node')[0];
    expect(obj(setup?.['with'])).toMatchObject({ cache: 'npm' });
    // A line in support (Node 20 reached its end of life on 2026-04-30).
    expect(String(obj(setup?.['with'])['node-version'])).toMatch(/^(22|24|26)/);
  }, 120_000);

  it('applies only on push to main, in the production environment, one at a time, with the downloaded reviewed plan', () => {
    const applyJobs = jobWith('apply');
    expect(applyJobs).toHaveLength(1);
    const [apply] = applyJobs;
    const condition = str(apply!.job['if']);
    expect(list(obj(on(apply!)['push'])['branches'])).toEqual(['main']);
    expect(condition).toContain("github.event_name == 'push'");
    expect(condition).toContain("github.ref == 'refs/heads/main'");
    const environment = apply!.job['environment'];
    expect(isObj(environment) ? environment['name'] : environment).toBe('production');
    const concurrency = obj(apply!.job['concurrency'] ?? apply!.w.data['concurrency']);
    expect(str(concurrency['group'])).not.toBe('');
    expect(concurrency['cancel-in-progress']).toBe(false);
    const permissions = obj(apply!.job['permissions']);
    expect(permissions['actions']).toBe('read');

    const invocations = apply!.steps.flatMap(invocationsOf);
    expect(invocations.map((i) => i.command)).not.toContain('plan');
    for (const inv of invocations.filter((i) => i.command === 'apply')) {
      expect(inv.positionals, 'apply names the saved plan').toHaveLength(1);
      expect(inv.flags).toContain('--auto-approve');
      const [planJob] = jobWith('plan');
      const planInv = planJob!.steps.flatMap(invocationsOf).find((i) => i.command === 'plan')!;
      const planJson = planInv.values.get('--out')![planInv.values.get('--format')!.indexOf('json')]!;
      expect(basename(inv.positionals[0]!)).toBe(basename(planJson));
      // The artifact the pull request uploaded is the one downloaded here.
      const upload = planJob!.steps.find((s) => str(s['uses']).startsWith('actions/upload-artifact@'))!;
      const artifact = str(obj(upload['with'])['name']).replace(/^\$\{\{\s*env\.(\w+)\s*\}\}$/, (_m, v: string) => str(envOf(planJob!)[v]));
      expect(artifact).not.toBe('');
      const download = apply!.steps.map(stepScript).find((s) => /gh run download/.test(s));
      expect(download).toBeDefined();
      const named = /--name\s+"?\$\{?(\w+)\}?"?/.exec(download!)?.[1];
      expect(named ? str(envOf(apply!)[named]) : /--name\s+"?([\w-]+)/.exec(download!)?.[1]).toBe(artifact);
    }
  }, 120_000);

  it('checks drift nightly and keeps the HTML report even when the check fails', () => {
    const [drift] = jobWith('drift');
    expect(drift).toBeDefined();
    expect(on(drift!)['schedule']).toBeDefined();
    expect(str(drift!.job['if'])).not.toMatch(/pull_request|'push'/);
    const inv = drift!.steps.flatMap(invocationsOf).find((i) => i.command === 'drift')!;
    const html = inv.values.get('--out')![inv.values.get('--format')!.indexOf('html')];
    expect(html).toBeDefined();
    const upload = drift!.steps.find((s) => str(s['uses']).startsWith('actions/upload-artifact@') && str(obj(s['with'])['path']).includes(html!));
    expect(upload, 'the HTML report is uploaded').toBeDefined();
    expect(str(upload!['if'])).toContain('always()');
    for (const s of drift!.steps.filter(touchesTenant)) expect(s['continue-on-error']).toBeUndefined();
  }, 120_000);

  it('uploads the SARIF of the plan and of the drift check to code scanning in one category, with upload-sarif pinned to a commit', () => {
    const uploadsOf = (j: Job) => j.steps.filter((s) => str(s['uses']).startsWith('github/codeql-action/upload-sarif@'));
    const categories = new Set<string>();
    for (const command of ['plan', 'drift']) {
      const [j] = jobWith(command);
      const uploads = uploadsOf(j!);
      expect(uploads, `${j!.id} uploads SARIF`).toHaveLength(1);
      const upload = uploads[0]!;
      // A full commit SHA, with the version it is in a comment on the same line.
      const uses = str(upload['uses']);
      expect(uses).toMatch(/@[0-9a-f]{40}$/);
      expect(j!.w.text.split('\n').some((l) => l.trim() === `uses: ${uses} # ${/^v\d+\.\d+\.\d+$/.exec(l.trim().split(' # ')[1] ?? '')?.[0] ?? 'no version'}`), `${uses} has its version in a comment`).toBe(true);
      expect(obj(j!.job['permissions'])['security-events'], `${j!.id}: security-events`).toBe('write');
      const inv = j!.steps.flatMap(invocationsOf).find((i) => i.command === command)!;
      const sarif = inv.values.get('--out')![inv.values.get('--format')!.indexOf('sarif')];
      expect(sarif, `${j!.id}: posture ${command} --format sarif`).toBeDefined();
      expect(str(obj(upload['with'])['sarif_file'])).toBe(sarif);
      categories.add(str(obj(upload['with'])['category']));
    }
    // A pull request's alerts are compared with the base branch's analysis of the same category.
    expect([...categories]).toEqual(['posture-drift']);
    // The drift check's upload runs after drift is found (the step fails with exit 2), never after an incomplete check.
    const [drift] = jobWith('drift');
    const condition = str(uploadsOf(drift!)[0]!['if']);
    expect(condition).toContain('always()');
    expect(condition).toMatch(/outputs\.exit-code == '2'/);
    expect(condition).not.toMatch(/'1'/);
  }, 120_000);

  it('verifies the evidence trail after apply and after the drift check, and keeps it as an artifact even when they fail', () => {
    for (const command of ['apply', 'drift']) {
      const [j] = jobWith(command);
      const { file, verify } = evidenceOfJob(j!, command);
      expect(verify, `${j!.id}: posture evidence verify ${file} after posture ${command}`).toBeGreaterThan(0);
      expect(str(j!.steps[verify]!['if'])).toContain('always()');
      const upload = j!.steps.find((s) => str(s['uses']).startsWith('actions/upload-artifact@') && str(obj(s['with'])['path']).split('\n').map((l) => l.trim()).includes(file));
      expect(upload, `${j!.id}: ${file} is uploaded`).toBeDefined();
      expect(str(upload!['if'])).toContain('always()');
      expect(str(obj(upload!['with'])['name'])).not.toBe('');
    }
  }, 120_000);

  it('rolls back a recorded apply by hand only, in the apply environment: rollback, apply of its plan with the same trail, then verify and upload', () => {
    const rollbackJobs = jobWith('rollback');
    expect(rollbackJobs).toHaveLength(1);
    const [rb] = rollbackJobs;
    const [apply] = jobWith('apply');

    // Started by hand, with the posture run and the workflow run whose apply recorded it.
    const inputs = obj(obj(on(rb!)['workflow_dispatch'])['inputs']);
    for (const name of ['posture_run_id', 'apply_workflow_run']) {
      expect(isObj(inputs[name]), `workflow_dispatch input ${name}`).toBe(true);
      expect(obj(inputs[name])['type'] ?? 'string').toBe('string');
    }
    const condition = str(rb!.job['if']);
    expect(condition).toContain("github.event_name == 'workflow_dispatch'");
    expect(condition).toMatch(/inputs\.posture_run_id != ''/);
    expect(condition).toContain("github.ref == 'refs/heads/main'");
    expect(condition).not.toMatch(/pull_request|'push'|'schedule'/);
    // No other job runs in a rollback's run.
    for (const j of jobs().filter((j) => j.id !== rb!.id)) {
      const c = str(j.job['if']);
      expect(c, `${j.id} says when it runs`).not.toBe('');
      if (c.includes('workflow_dispatch')) expect(c, `${j.id} stays out of a rollback run`).toMatch(/inputs\.posture_run_id == ''/);
    }

    // The apply's environment (its reviewers approve) and concurrency group, and least privilege.
    expect(environmentOf(rb!)).toBe(environmentOf(apply!));
    expect(environmentOf(rb!)).toBe('production');
    expect(obj(rb!.job['concurrency'])['group']).toBe(obj(apply!.job['concurrency'])['group']);
    expect(obj(rb!.job['concurrency'])['cancel-in-progress']).toBe(false);
    expect(obj(rb!.job['permissions'])).toEqual({ contents: 'read', 'id-token': 'write', actions: 'read' });

    const { rollback, apply: applyStep, verify, file, rollbackInv } = rollbackSequence(rb!);
    const variable = (word: string | undefined) => /^\$\{?(\w+)\}?$/.exec(word ?? '')?.[1] ?? '';
    expect(str(envOf(rb!, rb!.steps[rollback]!)[variable(rollbackInv.positionals[0])]), 'the run to roll back is the input').toMatch(/^\$\{\{\s*inputs\.posture_run_id\s*\}\}$/);
    // The rollback plan is shown and applied only when posture rollback saved one (exit 2).
    const id = str(rb!.steps[rollback]!['id']);
    expect(id, 'the rollback step has an id').not.toBe('');
    expect(str(rb!.steps[applyStep]!['if'])).toContain(`steps.${id}.outputs.`);
    for (const k of [rollback, applyStep]) expect(rb!.steps[k]!['continue-on-error']).toBeUndefined();

    // The trail is the apply job's evidence artifact of the workflow run named in the inputs.
    const download = rb!.steps.findIndex((s) => /gh run download/.test(stepScript(s)));
    expect(download, 'gh run download before posture rollback').toBeGreaterThanOrEqual(0);
    expect(download).toBeLessThan(rollback);
    const script = stepScript(rb!.steps[download]!);
    const words = shellCommands(script).find((w) => w.slice(0, 3).join(' ') === 'gh run download')!;
    expect(str(envOf(rb!, rb!.steps[download]!)[variable(words[3])]), 'the workflow run is the input').toMatch(/^\$\{\{\s*inputs\.apply_workflow_run\s*\}\}$/);
    expect(words).toContain('--pattern');
    const pattern = words[words.indexOf('--pattern') + 1]!;
    const applyTrail = evidenceOfJob(apply!, 'apply').file;
    const applyUpload = apply!.steps.find((s) => str(s['uses']).startsWith('actions/upload-artifact@') && str(obj(s['with'])['path']).split('\n').map((l) => l.trim()).includes(applyTrail))!;
    const applyArtifact = str(obj(applyUpload['with'])['name']);
    expect(globMatches(pattern, applyArtifact.replace(/\$\{\{\s*github\.run_attempt\s*\}\}/g, '1')), `${pattern} matches ${applyArtifact}`).toBe(true);
    expect(script, 'the download leaves the trail where posture rollback reads it').toContain(file);

    // The trail, now with the rollback in it, is verified and kept, also when the rollback fails.
    expect(str(rb!.steps[verify]!['if'])).toContain('always()');
    const upload = rb!.steps.find((s) => str(s['uses']).startsWith('actions/upload-artifact@') && str(obj(s['with'])['path']).split('\n').map((l) => l.trim()).includes(file));
    expect(upload, `${rb!.id}: ${file} is uploaded`).toBeDefined();
    expect(str(upload!['if'])).toContain('always()');
    expect(str(obj(upload!['with'])['name'])).not.toBe('');
    expect(str(obj(upload!['with'])['name'])).not.toBe(applyArtifact);
  }, 120_000);
});

describe('setup: the posture action and the steps template', () => {
  /** Each `uses:` line of a file: what it uses and the comment after it. */
  const usesLines = (text: string) =>
    text.split('\n').flatMap((line) => {
      const m = /^\s*(?:-\s+)?uses:\s*(\S+)\s*(?:#\s*(.*))?$/.exec(line);
      return m ? [{ uses: m[1]!, comment: (m[2] ?? '').trim(), line: line.trim() }] : [];
    });
  /** Every `uses:` value of a parsed document. */
  const usesValues = (node: unknown): string[] =>
    Array.isArray(node) ? node.flatMap(usesValues) : isObj(node) ? Object.entries(node).flatMap(([k, v]) => (k === 'uses' && typeof v === 'string' ? [v] : usesValues(v))) : [];
  /** Actions that could not be pinned to a commit, each with the reason. None at present. */
  const UNPINNED: Readonly<Record<string, string>> = {};
  const actionSteps = () => list(obj(action.data['runs'])['steps']).map(obj);

  it('pins every action the workflows and the posture action use to a full commit SHA, its version in a trailing comment', () => {
    const pins = new Map<string, string>();
    for (const f of [...github, action]) {
      const lines = usesLines(f.text);
      // Every uses: of the document is on a line of its own, where its comment is read.
      expect(lines.map((l) => l.uses).sort(), f.file).toEqual(usesValues(f.data).sort());
      for (const { uses, comment, line } of lines) {
        if (uses.startsWith('./')) {
          expect(uses, `${f.file}: the one local action`).toBe(ACTION_USES);
          continue;
        }
        const m = /^([\w.-]+\/[\w.-]+)(?:\/[\w.-]+)*@(.+)$/.exec(uses);
        expect(m, `${f.file}: ${line}`).not.toBeNull();
        const [, repo, ref] = m!;
        if (repo! in UNPINNED) continue;
        expect(ref, `${f.file}: ${line} is pinned to a full commit SHA`).toMatch(/^[0-9a-f]{40}$/);
        expect(comment, `${f.file}: ${line} names its version in a comment`).toMatch(/^v\d+(\.\d+){0,2}$/);
        const pin = `${ref} # ${comment}`;
        expect(pins.get(repo!) ?? pin, `${repo} is pinned to one commit everywhere`).toBe(pin);
        pins.set(repo!, pin);
      }
    }
    for (const [repo, reason] of Object.entries(UNPINNED)) expect(reason, `${repo}: why it is not pinned`).not.toBe('');
    // GitHub's own actions only.
    for (const repo of pins.keys()) expect(repo).toMatch(/^(actions|github)\//);
    expect([...pins.keys()]).toEqual(expect.arrayContaining(['actions/checkout', 'actions/setup-node', 'actions/upload-artifact']));
  });

  it('every job checks out, then sets up through the action or the template: Node.js in support, npm cache, npm ci, then synth before any other posture command', () => {
    const variables = new Map(list(azure.data['variables']).map((v) => [str(obj(v)['name']), str(obj(v)['value'])] as const));
    for (const w of workflows) {
      for (const j of jobsOf(w)) {
        const name = `${w.file} ${j.id}`;
        const raw = list(j.rawSteps).map(obj);
        const checkout = raw.findIndex((s) => (w.platform === 'github' ? str(s['uses']).startsWith('actions/checkout@') : s['checkout'] !== undefined));
        const setup = raw.findIndex((s) => (w.platform === 'github' ? str(s['uses']) === ACTION_USES : s['template'] === TEMPLATE_PATH));
        expect(checkout, `${name} checks the repository out`).toBeGreaterThanOrEqual(0);
        expect(setup, `${name} sets up with ${w.platform === 'github' ? ACTION_USES : TEMPLATE_PATH} after the checkout`).toBeGreaterThan(checkout);
        expect(raw.filter((s) => /^actions\/setup-node@/.test(str(s['uses'])) || /^(UseNode|NodeTool)@/.test(str(s['task']))), `${name}: no Node.js setup of its own`).toEqual([]);

        // What runs.
        const steps = j.steps;
        const node = steps.findIndex((s) => /^actions\/setup-node@/.test(str(s['uses'])) || /^(UseNode|NodeTool)@/.test(str(s['task'])));
        expect(node, `${name} sets up Node.js`).toBeGreaterThanOrEqual(0);
        // A line in support (Node 20 reached its end of life on 2026-04-30).
        if (w.platform === 'github') {
          const inputs = obj(steps[node]!['with']);
          expect(inputs, name).toMatchObject({ cache: 'npm' });
          expect(String(inputs['node-version']), name).toMatch(/^(22|24|26)(\.|$)/);
        } else {
          const inputs = obj(steps[node]!['inputs']);
          expect(str(inputs['version'] ?? inputs['versionSpec']), name).toMatch(/^(22|24|26)\.x$/);
          const cache = steps.findIndex((s) => str(s['task']) === 'Cache@2');
          expect(cache, `${name} caches npm's folder`).toBeGreaterThan(node);
          expect(str(obj(steps[cache]!['inputs'])['key'])).toMatch(/^npm \| "\$\(Agent\.OS\)" \| .*package-lock\.json$/);
          expect(str(obj(steps[cache]!['inputs'])['path'])).toBe('$(npm_config_cache)');
          expect(variables.get('npm_config_cache'), 'npm reads its cache folder from the variable').toBe('$(Pipeline.Workspace)/.npm');
        }
        const ci = steps.findIndex((s) => shellCommands(stepScript(s)).some((words) => words.join(' ') === 'npm ci'));
        expect(ci, `${name} runs npm ci after setting up Node.js`).toBeGreaterThan(node);
        // Then checks the repository's own posture is installed: npx would otherwise fetch and run any package of that name.
        expect(stepScript(steps[ci]!), `${name} checks node_modules/.bin/posture after npm ci`).toMatch(/\[ ! -x node_modules\/\.bin\/posture \]/);
        const synth = steps.findIndex((s) => invocationsOf(s).some((i) => i.command === 'synth'));
        expect(synth, `${name} synthesizes after npm ci`).toBeGreaterThan(ci);
        const other = steps.findIndex((s) => invocationsOf(s).some((i) => !['synth', '--version'].includes(i.command)));
        expect(other, `${name} runs posture after synth`).toBeGreaterThan(synth);
      }
    }
  }, 120_000);

  it('the action: its inputs and defaults, read by its scripts only through env; each output set by the step it names', () => {
    expect(action.errors).toEqual([]);
    const runs = obj(action.data['runs']);
    expect(runs['using']).toBe('composite');
    const inputs = obj(action.data['inputs']);
    expect(Object.fromEntries(Object.entries(inputs).map(([k, v]) => [k, obj(v)['default']]))).toEqual({ 'node-version': '24', 'working-directory': '.', synth: 'true', command: '', 'allowed-exit-codes': '0' });
    const steps = actionSteps();
    expect(scriptBlocks(action.data).map((b) => b.script).sort(), 'no script outside the steps').toEqual(steps.map(stepScript).filter(Boolean).sort());
    const read = new Set<string>();
    for (const [k, s] of steps.entries()) {
      const script = str(s['run']);
      if (script !== '') {
        expect(script, `step ${k}: no expression inside a script`).not.toContain('${{');
        expect(s['shell'], `step ${k} names its shell`).toBe('bash');
        expect(shellCommands(script).map((words) => words[0]), `step ${k}: no eval`).not.toContain('eval');
      }
      for (const [key, value] of Object.entries(s)) {
        const refs = [...JSON.stringify(value).matchAll(/\binputs\.([\w-]+)/g)].map((m) => m[1]!);
        if (refs.length === 0) continue;
        expect(['env', 'with', 'if', 'working-directory'], `step ${k} reads inputs in ${key}`).toContain(key);
        for (const r of refs) read.add(r);
      }
    }
    expect([...read].sort(), 'every input is read, and only those declared').toEqual(Object.keys(inputs).sort());

    // The command: split into words without globbing, quotes or eval.
    const command = steps.find((s) => str(s['id']) === 'command')!;
    expect(str(obj(command['env'])['POSTURE_COMMAND'])).toMatch(/^\$\{\{\s*inputs\.command\s*\}\}$/);
    expect(str(command['run'])).toMatch(/^\s*set -f$/m);
    expect(str(command['run'])).toMatch(/read -ra words\b.*<<< "\$POSTURE_COMMAND"/);
    expect(str(command['run'])).toContain('npx posture "${words[@]}"');

    const outputs = obj(action.data['outputs']);
    expect(Object.keys(outputs).sort()).toEqual(['exit-code', 'synth-dir', 'version']);
    for (const [name, spec] of Object.entries(outputs)) {
      expect(str(obj(spec)['description']), `output ${name} is described`).not.toBe('');
      const m = /^\$\{\{\s*steps\.([\w-]+)\.outputs\.([\w-]+)\s*\}\}$/.exec(str(obj(spec)['value']));
      expect(m, `output ${name} is a step's output`).not.toBeNull();
      const step = steps.find((s) => str(s['id']) === m![1]);
      expect(step, `output ${name}: step ${m![1]}`).toBeDefined();
      expect(str(step!['run']), `output ${name}: step ${m![1]} writes ${m![2]}`).toMatch(new RegExp(`echo "${m![2]}=[^"\\n]*" >> "\\$GITHUB_OUTPUT"`));
    }
  });

  it('expands the action with its inputs: the command is checked as written, synth false leaves synth out, the calling step env flows in', () => {
    const commandLine = 'plan --stack contoso --auth github-oidc --format json --out plan.json';
    const steps = expandAction({ uses: ACTION_USES, env: { AZURE_TENANT_ID: '${{ vars.AZURE_TENANT_ID }}' }, with: { 'node-version': '22', synth: 'false', command: commandLine, 'allowed-exit-codes': '0 2' } });
    const invocations = steps.flatMap(invocationsOf);
    expect(invocations.map((i) => i.command)).toEqual(['--version', 'plan']);
    expect(invocations.flatMap((i) => i.problems)).toEqual([]);
    expect(invocations[1]!.values.get('--out')).toEqual(['plan.json']);
    expect(obj(steps.find((s) => str(s['uses']).startsWith('actions/setup-node@'))!['with'])['node-version']).toBe('22');
    const command = steps.find((s) => str(s['id']) === 'command')!;
    expect(command['if']).toBeUndefined();
    expect(obj(command['env'])).toEqual({ AZURE_TENANT_ID: '${{ vars.AZURE_TENANT_ID }}', POSTURE_COMMAND: commandLine, ALLOWED_EXIT_CODES: '0 2' });
    // By default: synth, and no command.
    const plain = expandAction({ uses: ACTION_USES });
    expect(plain.flatMap(invocationsOf).map((i) => i.command)).toEqual(['--version', 'synth']);
    expect(plain.some((s) => str(s['id']) === 'command')).toBe(false);
    expect(expandAction({ uses: ACTION_USES, with: { command: 'plan --stak x' } }).flatMap(invocationsOf).flatMap((i) => i.problems)).toEqual(['posture plan: unknown flag --stak']);
    expect(() => expandAction({ uses: ACTION_USES, with: { nodeversion: '22' } })).toThrow(/no input nodeversion/);
  }, 120_000);

  it('the template: its parameters and defaults, the supported Node.js lines only, synth left out when asked', () => {
    expect(template.errors).toEqual([]);
    const parameters = new Map(list(template.data['parameters']).map((p) => [str(obj(p)['name']), obj(p)] as const));
    expect([...parameters.keys()].sort()).toEqual(['nodeVersion', 'synth', 'workingDirectory']);
    expect(parameters.get('nodeVersion')).toMatchObject({ type: 'string', default: '24', values: ['22', '24', '26'] });
    expect(parameters.get('synth')).toMatchObject({ type: 'boolean', default: true });
    expect(parameters.get('workingDirectory')).toMatchObject({ type: 'string' });
    const steps = expandTemplate({ template: TEMPLATE_PATH });
    expect(steps.map((s) => str(s['task']) || stepScript(s).split('\n')[0])).toEqual(['UseNode@1', 'Cache@2', 'npm ci', 'npx posture synth']);
    // npx must run the repository's own posture, never fetch a package of that name: the install step checks it is there.
    expect(stepScript(steps[2]!)).toMatch(/\[ ! -x node_modules\/\.bin\/posture \]/);
    for (const s of steps.filter((x) => stepScript(x) !== '')) expect(str(s['workingDirectory']), stepScript(s)).toBe(str(parameters.get('workingDirectory')!['default']));
    const lean = expandTemplate({ template: TEMPLATE_PATH, parameters: { nodeVersion: '22', synth: false } });
    expect(obj(lean[0]!['inputs'])['version']).toBe('22.x');
    expect(lean.flatMap(invocationsOf)).toEqual([]);
    expect(() => expandTemplate({ template: TEMPLATE_PATH, parameters: { nodeVersion: '20' } })).toThrow(/not one of/);
    expect(() => expandTemplate({ template: TEMPLATE_PATH, parameters: { node: '22' } })).toThrow(/no parameter node/);
    // Its scripts hold no expression: a value reaches a script through env, as in the pipeline.
    for (const b of scriptBlocks(template.data)) expect(b.script, b.where).not.toContain('${{');
    expect(template.text.match(/\$\{\{\s*parameters\.(\w+)/g)?.map((m) => m.replace(/^\$\{\{\s*parameters\./, '')).every((p) => parameters.has(p))).toBe(true);
  });
});

describe('GitHub Actions respond workflow', () => {
  const w = () => github.find((x) => x.file.endsWith('respond.yml'))!;
  const job = (id: string) => githubJobs(w()).find((j) => j.id === id)!;

  it('responds on a schedule of minutes, automatically, continuing the trail it keeps in the cache', () => {
    const crons = list(obj(w().data['on'])['schedule']).map((s) => str(obj(s)['cron']));
    expect(crons).toHaveLength(1);
    expect(crons[0]).toMatch(/^\S+\/10 \* \* \* \*$/);
    const j = job('respond');
    const inv = j.steps.flatMap(invocationsOf).find((i) => i.command === 'respond')!;
    expect(inv.values.get('--auto-approve')).toBeDefined();
    expect(inv.values.get('--evidence')).toEqual(['$TRAIL']);
    const uses = j.steps.map((s) => str(s['uses']));
    expect(uses.findIndex((u) => u.startsWith('actions/cache/restore@'))).toBeLessThan(j.steps.findIndex((s) => invocationsOf(s).some((i) => i.command === 'respond')));
    expect(uses.some((u) => u.startsWith('actions/cache/save@'))).toBe(true);
    expect(obj(j.job['concurrency'])['group']).toBe(obj(job('approve').job['concurrency'])['group']);
  });

  it('approves a saved response by hand only, in an environment with reviewers, through posture apply on the same trail', () => {
    const j = job('approve');
    expect(str(j.job['if'])).toMatch(/workflow_dispatch/);
    expect(j.job['environment']).toBe('incident-response');
    const inv = j.steps.flatMap(invocationsOf).find((i) => i.command === 'apply')!;
    expect(inv.positionals).toEqual(['response.json']);
    expect(inv.values.get('--evidence')).toEqual(['$TRAIL']);
  });
});

describe('GitHub Actions probe workflow', () => {
  const w = () => github.find((x) => x.file.endsWith('probe.yml'))!;

  it('probes daily and on demand from a runner that can reach port 25, recording and verifying its trail', () => {
    const crons = list(obj(w().data['on'])['schedule']).map((s) => str(obj(s)['cron']));
    expect(crons).toHaveLength(1);
    const j = githubJobs(w()).find((x) => x.id === 'probe')!;
    // GitHub-hosted runners block outbound port 25: the probe cannot run on them.
    expect(j.job['runs-on']).toEqual(['self-hosted', 'smtp-egress']);
    const inv = j.steps.flatMap(invocationsOf).find((i) => i.command === 'probe')!;
    expect(inv.values.get('--evidence')).toEqual(['$TRAIL']);
    const verify = j.steps.find((s) => invocationsOf(s).some((i) => i.command === 'evidence verify'))!;
    expect(verify['if']).toBe('always()');
  });
});

describe('Azure Pipelines pipeline', () => {
  const jobs = () => azureJobs(azure);
  const jobWith = (command: string) => jobsRunning(jobs(), command);
  const variables = () => new Map(list(azure.data['variables']).map((v) => [str(obj(v)['name']), str(obj(v)['value'])] as const));
  const macro = (value: string) => value.replace(/\$\((\w+)\)/g, (m, name: string) => variables().get(name) ?? m);

  it('has PR validation, a CI trigger on main and a nightly schedule that runs without new commits', () => {
    expect(azure.data['pr']).toBeDefined();
    expect(list(obj(obj(azure.data['trigger'])['branches'])['include'])).toEqual(['main']);
    const schedules = list(azure.data['schedules']).map(obj);
    expect(schedules.length).toBeGreaterThan(0);
    for (const s of schedules) {
      expect(str(s['cron'])).toMatch(/^\S+ \S+ \S+ \S+ \S+$/);
      expect(s['always']).toBe(true);
      expect(list(obj(s['branches'])['include'])).toEqual(['main']);
    }
  });

  it('maps the federation variables and System.AccessToken into every step that reaches the tenant, and nothing else', () => {
    const tenantSteps = jobs().flatMap((j) => j.steps.filter(touchesTenant));
    expect(tenantSteps.length).toBeGreaterThanOrEqual(3);
    for (const step of tenantSteps) {
      expect(obj(step['env'])).toEqual({
        AZURE_CLIENT_ID: '$(AZURE_CLIENT_ID)',
        AZURE_TENANT_ID: '$(AZURE_TENANT_ID)',
        AZURESUBSCRIPTION_SERVICE_CONNECTION_ID: '$(AZURESUBSCRIPTION_SERVICE_CONNECTION_ID)',
        SYSTEM_ACCESSTOKEN: '$(System.AccessToken)',
      });
    }
    const allowed = new Set(['AZURE_CLIENT_ID', 'AZURE_TENANT_ID', 'AZURESUBSCRIPTION_SERVICE_CONNECTION_ID', 'System.AccessToken']);
    for (const j of jobs()) {
      for (const step of j.steps) {
        for (const value of Object.values(obj(step['env']))) {
          for (const m of str(value).matchAll(/\$\(([\w.]+)\)/g)) expect(allowed, `${j.id}: env maps $(${m[1]})`).toContain(m[1]);
        }
      }
    }
    // The ids are pipeline variables set outside the file, never given a value in it.
    for (const name of allowed) expect(variables().has(name)).toBe(false);
  }, 120_000);

  it('plans on pull requests: JUnit results, a summary or comment, and the plan artifact', () => {
    const [plan] = jobWith('plan');
    expect(plan).toBeDefined();
    expect(str(plan!.stage['condition'])).toContain("eq(variables['Build.Reason'], 'PullRequest')");
    const inv = plan!.steps.flatMap(invocationsOf).find((i) => i.command === 'plan')!;
    const formats = inv.values.get('--format')!;
    const outFor = (format: string) => inv.values.get('--out')![formats.indexOf(format)];
    expect(formats).toEqual(expect.arrayContaining(['markdown', 'junit', 'json']));
    const junit = plan!.steps.find((s) => str(s['task']) === 'PublishTestResults@2')!;
    expect(obj(junit['inputs'])).toMatchObject({ testResultsFormat: 'JUnit', testResultsFiles: outFor('junit') });
    expect(plan!.steps.some((s) => stepScript(s).includes('##vso[task.uploadsummary]') || /pullRequests\/.*threads/.test(stepScript(s)))).toBe(true);
    const publish = plan!.steps.find((s) => s['publish'] !== undefined)!;
    expect(str(publish['publish'])).toBe(outFor('json'));
    expect(macro(str(publish['artifact']))).not.toBe('');
  }, 120_000);

  it('applies only on CI builds of main, in a deployment to production, in order, with the downloaded reviewed plan', () => {
    const applyJobs = jobWith('apply');
    expect(applyJobs).toHaveLength(1);
    const [apply] = applyJobs;
    const condition = str(apply!.stage['condition']);
    expect(condition).toContain("eq(variables['Build.SourceBranch'], 'refs/heads/main')");
    expect(condition).toMatch(/IndividualCI|BatchedCI/);
    expect(condition).not.toContain('PullRequest');
    expect(apply!.stage['lockBehavior']).toBe('sequential');
    expect(apply!.job['deployment']).toBeDefined();
    const environment = apply!.job['environment'];
    expect(isObj(environment) ? environment['name'] : environment).toBe('production');

    const invocations = apply!.steps.flatMap(invocationsOf);
    expect(invocations.map((i) => i.command)).not.toContain('plan');
    const [planJob] = jobWith('plan');
    const published = planJob!.steps.find((s) => s['publish'] !== undefined)!;
    const download = apply!.steps.find((s) => str(s['task']) === 'DownloadPipelineArtifact@2');
    expect(download).toBeDefined();
    const inputs = obj(download!['inputs']);
    expect(macro(str(inputs['artifactName'] ?? inputs['artifact']))).toBe(macro(str(published['artifact'])));
    const target = str(inputs['targetPath'] ?? inputs['path']).replace('$(Pipeline.Workspace)', '$PIPELINE_WORKSPACE');
    for (const inv of invocations.filter((i) => i.command === 'apply')) {
      expect(inv.positionals, 'apply names the saved plan').toHaveLength(1);
      expect(inv.flags).toContain('--auto-approve');
      expect(inv.positionals[0]).toBe(`${target}/${basename(str(published['publish']))}`);
    }
  }, 120_000);

  it('checks drift on the schedule and publishes the HTML report even when the check fails', () => {
    const [drift] = jobWith('drift');
    expect(drift).toBeDefined();
    expect(str(drift!.stage['condition'])).toContain("'Schedule'");
    const inv = drift!.steps.flatMap(invocationsOf).find((i) => i.command === 'drift')!;
    const html = inv.values.get('--out')![inv.values.get('--format')!.indexOf('html')]!;
    const publish = drift!.steps.find((s) => s['publish'] !== undefined)!;
    expect(str(publish['condition'])).toBe('always()');
    const published = str(publish['publish']).replace('$(Build.ArtifactStagingDirectory)', '$BUILD_ARTIFACTSTAGINGDIRECTORY');
    expect(html.startsWith(`${published}/`) || html === published).toBe(true);
    for (const s of drift!.steps.filter(touchesTenant)) expect(s['continueOnError']).toBeUndefined();
  }, 120_000);

  it('verifies the evidence trail after apply and after the drift check, and publishes it even when they fail', () => {
    for (const command of ['apply', 'drift']) {
      const [j] = jobWith(command);
      const { file, verify } = evidenceOfJob(j!, command);
      expect(verify, `${j!.id}: posture evidence verify ${file} after posture ${command}`).toBeGreaterThan(0);
      expect(str(j!.steps[verify]!['condition'])).toContain('always()');
      const publish = j!.steps.find((s) => {
        const folder = str(s['publish']).replace('$(Build.ArtifactStagingDirectory)', '$BUILD_ARTIFACTSTAGINGDIRECTORY');
        return folder !== '' && (file === folder || file.startsWith(`${folder}/`));
      });
      expect(publish, `${j!.id}: ${file} is published`).toBeDefined();
      expect(str(publish!['condition'])).toContain('always()');
      expect(macro(str(publish!['artifact']))).not.toBe('');
    }
  }, 120_000);

  it('rolls back a recorded apply only in a manual run with the parameters set, in a deployment to the apply environment: rollback, apply of its plan with the same trail, then verify and publish', () => {
    const rollbackJobs = jobWith('rollback');
    expect(rollbackJobs).toHaveLength(1);
    const [rb] = rollbackJobs;
    const [apply] = jobWith('apply');

    // Runtime parameters, passed on as variables: never pasted into an expression or a script.
    const parameters = new Map(list(azure.data['parameters']).map((p) => [str(obj(p)['name']), obj(p)] as const));
    const variableOf = (parameter: string) => [...variables()].find(([, value]) => new RegExp(`^\\$\\{\\{\\s*parameters\\.${parameter}\\s*\\}\\}$`).test(value))?.[0] ?? '';
    for (const name of ['postureRunId', 'applyPipelineRunId']) {
      expect(parameters.get(name), `parameter ${name}`).toBeDefined();
      expect(parameters.get(name)!['type']).toBe('string');
      expect(variableOf(name), `a variable holds parameters.${name}`).not.toBe('');
    }
    expect(azure.text.match(/\$\{\{\s*parameters\./g)).toHaveLength(parameters.size);
    const runVariable = variableOf('postureRunId');
    const unset = str(parameters.get('postureRunId')!['default']);
    expect(unset, 'a default, so that every other run needs no value').not.toBe('');

    const condition = str(rb!.stage['condition']);
    expect(condition).toContain("eq(variables['Build.Reason'], 'Manual')");
    expect(condition).toContain("eq(variables['Build.SourceBranch'], 'refs/heads/main')");
    expect(condition).toContain(`ne(variables['${runVariable}'], '${unset}')`);
    // No other stage runs in a rollback's run.
    for (const j of jobs().filter((j) => j.id !== rb!.id)) {
      const c = str(j.stage['condition']);
      expect(c, `${j.id} says when it runs`).not.toBe('');
      if (c.includes("'Manual'")) expect(c, `${j.id} stays out of a rollback run`).toContain(`eq(variables['${runVariable}'], '${unset}')`);
    }

    // A deployment to the apply's environment (its approvals and checks), in order.
    expect(rb!.job['deployment']).toBeDefined();
    expect(environmentOf(rb!)).toBe(environmentOf(apply!));
    expect(environmentOf(rb!)).toBe('production');
    expect(rb!.stage['lockBehavior']).toBe('sequential');

    const { rollback, apply: applyStep, verify, file, rollbackInv } = rollbackSequence(rb!);
    expect(rollbackInv.positionals[0], 'the run to roll back is the parameter').toBe(`$${runVariable}`);
    // The rollback plan is shown and applied only when posture rollback saved one (exit 2).
    const saved = /##vso\[task\.setvariable variable=(\w+)\]saved/.exec(stepScript(rb!.steps[rollback]!))?.[1];
    expect(saved, 'the rollback step says when it saved a plan').toBeDefined();
    expect(str(rb!.steps[applyStep]!['condition'])).toContain(`eq(variables['${saved}'], 'saved')`);
    for (const k of [rollback, applyStep]) expect(rb!.steps[k]!['continueOnError']).toBeUndefined();

    // The trail is the apply's evidence artifact of the pipeline run named in the parameters.
    const download = rb!.steps.findIndex((s) => str(s['task']) === 'DownloadPipelineArtifact@2');
    expect(download, 'DownloadPipelineArtifact@2 before posture rollback').toBeGreaterThanOrEqual(0);
    expect(download).toBeLessThan(rollback);
    const inputs = obj(rb!.steps[download]!['inputs']);
    expect(inputs).toMatchObject({ buildType: 'specific', definition: '$(System.DefinitionId)', buildVersionToDownload: 'specific' });
    const runInput = /^\$\((\w+)\)$/.exec(str(inputs['runId'] ?? inputs['pipelineId'] ?? inputs['buildId']))?.[1] ?? '';
    const pipelineVariable = variableOf('applyPipelineRunId');
    expect(
      runInput === pipelineVariable || rb!.steps.slice(0, download).some((s) => stepScript(s).includes(`##vso[task.setvariable variable=${runInput}]$${pipelineVariable}`)),
      `the run downloaded from, $(${runInput}), is the parameter`,
    ).toBe(true);
    const applyTrail = evidenceOfJob(apply!, 'apply').file;
    const inFolder = (step: Obj, f: string) => {
      const folder = str(step['publish']).replace('$(Build.ArtifactStagingDirectory)', '$BUILD_ARTIFACTSTAGINGDIRECTORY');
      return folder !== '' && (f === folder || f.startsWith(`${folder}/`));
    };
    const applyArtifact = str(apply!.steps.find((s) => inFolder(s, applyTrail))!['artifact']);
    const pattern = str(inputs['itemPattern'] ?? inputs['patterns']);
    expect(inputs['artifactName'] ?? inputs['artifact'], 'every attempt of the apply: no single artifact name').toBeUndefined();
    expect(globMatches(pattern.split('/')[0]!, applyArtifact.replace('$(System.JobAttempt)', '1')), `${pattern} selects ${applyArtifact}`).toBe(true);
    expect(rb!.steps.slice(download, rollback).some((s) => stepScript(s).includes(file)), 'a step puts the trail where posture rollback reads it').toBe(true);

    // The trail, now with the rollback in it, is verified and kept, also when the rollback fails.
    expect(str(rb!.steps[verify]!['condition'])).toContain('always()');
    const publish = rb!.steps.find((s) => inFolder(s, file));
    expect(publish, `${rb!.id}: ${file} is published`).toBeDefined();
    expect(str(publish!['condition'])).toContain('always()');
    expect(macro(str(publish!['artifact']))).not.toBe('');
    expect(str(publish!['artifact'])).not.toBe(applyArtifact);
  }, 120_000);
});

// ---------------------------------------------------------------------------------------------
// Exit codes: the plan and drift steps run under bash with a stand-in `npx` that exits as told.
// ---------------------------------------------------------------------------------------------

describe('exit codes of the plan and drift steps', () => {
  const fakeBin = mkdtempSync(join(tmpdir(), 'posture-fake-npx-'));
  writeFileSync(
    join(fakeBin, 'npx'),
    [
      '#!/bin/sh',
      'printf \'%s\\n\' "$*" >> "$FAKE_NPX_LOG"',
      'while [ "$#" -gt 0 ]; do',
      '  if [ "$1" = "--out" ] && [ "$#" -gt 1 ]; then mkdir -p "$(dirname "$2")"; printf \'report\\n\' > "$2"; shift; fi',
      '  shift',
      'done',
      'exit "$FAKE_NPX_EXIT"',
      '',
    ].join('\n'),
  );
  chmodSync(join(fakeBin, 'npx'), 0o755);

  interface Case {
    name: string;
    script: string;
    shell: string[];
    env: Record<string, string>;
  }

  const placeholder = (v: unknown) => (/\$\{\{|\$\(/.test(String(v)) ? 'placeholder' : String(v));
  const stepCases = (command: string): Case[] => {
    const cases: Case[] = [];
    for (const w of github) {
      const defaultShell = str(obj(obj(w.data['defaults'])['run'])['shell']);
      for (const j of githubJobs(w)) {
        for (const step of j.steps.filter((s) => invocationsOf(s).some((i) => i.command === command))) {
          const shell = str(step['shell']) || defaultShell || 'bash';
          expect(shell, 'steps run under bash').toBe('bash');
          const env = Object.fromEntries(Object.entries({ ...obj(w.data['env']), ...obj(j.job['env']), ...obj(step['env']) }).map(([k, v]) => [k, placeholder(v)]));
          cases.push({ name: `${w.file} ${j.id}`, script: stepScript(step), shell: ['--noprofile', '--norc', '-eo', 'pipefail'], env });
        }
      }
    }
    const vars = Object.fromEntries(list(azure.data['variables']).map((v) => [str(obj(v)['name']).toUpperCase().replace(/\./g, '_'), placeholder(obj(v)['value'])]));
    for (const j of azureJobs(azure)) {
      for (const step of j.steps.filter((s) => invocationsOf(s).some((i) => i.command === command))) {
        const env = { ...vars, BUILD_ARTIFACTSTAGINGDIRECTORY: 'staging', PIPELINE_WORKSPACE: 'workspace', ...Object.fromEntries(Object.entries(obj(step['env'])).map(([k, v]) => [k, placeholder(v)])) };
        cases.push({ name: `${azure.file} ${j.id}`, script: stepScript(step), shell: ['--noprofile', '--norc'], env });
      }
    }
    return cases;
  };

  const run = (c: Case, exit: number, prepare?: (work: string) => void) => {
    const dir = mkdtempSync(join(tmpdir(), 'posture-step-'));
    const file = join(dir, 'step.sh');
    writeFileSync(file, c.script);
    const work = join(dir, 'work');
    mkdirSync(work);
    prepare?.(work);
    const log = join(dir, 'npx.log');
    const r = spawnSync('bash', [...c.shell, file], {
      cwd: work,
      encoding: 'utf8',
      env: {
        ...c.env,
        PATH: `${fakeBin}:${process.env['PATH'] ?? ''}`,
        HOME: dir,
        FAKE_NPX_EXIT: String(exit),
        FAKE_NPX_LOG: log,
        GITHUB_OUTPUT: join(dir, 'output'),
        GITHUB_STEP_SUMMARY: join(dir, 'summary'),
        RUNNER_TEMP: dir,
      },
    });
    return { work, status: r.status, calls: existsSync(log) ? readFileSync(log, 'utf8') : '', output: existsSync(join(dir, 'output')) ? readFileSync(join(dir, 'output'), 'utf8') : '', stdout: r.stdout, stderr: r.stderr };
  };

  it('plan: exit 2 (changes to review) passes, exit 1 (error, incomplete) fails', () => {
    const cases = stepCases('plan');
    expect(cases.filter((c) => c.name.startsWith('examples/github/'))).toHaveLength(1);
    expect(cases.filter((c) => c.name.startsWith('examples/azure-devops/'))).toHaveLength(1);
    for (const c of cases) {
      for (const [exit, passes] of [[0, true], [2, true], [1, false]] as const) {
        const r = run(c, exit);
        expect(r.calls, c.name).toMatch(/^posture plan /m);
        expect(r.status === 0, `${c.name}: posture plan exiting ${exit}: ${r.stderr}`).toBe(passes);
        if (passes && c.name.startsWith('examples/github')) expect(r.output).toContain(`exit-code=${exit}`);
      }
    }
  }, 120_000);

  it('drift: both exit 2 (drift found) and exit 1 (error, incomplete) fail', () => {
    const cases = stepCases('drift');
    expect(cases.filter((c) => c.name.startsWith('examples/github/'))).toHaveLength(1);
    expect(cases.filter((c) => c.name.startsWith('examples/azure-devops/'))).toHaveLength(1);
    for (const c of cases) {
      for (const [exit, passes] of [[0, true], [2, false], [1, false]] as const) {
        const r = run(c, exit);
        expect(r.calls, c.name).toMatch(/^posture drift /m);
        expect(r.status === 0, `${c.name}: posture drift exiting ${exit}: ${r.stderr}`).toBe(passes);
      }
    }
  }, 120_000);

  it('rollback: exit 2 (a plan saved) goes on to apply it, exit 0 (nothing to reverse) stops successfully, exit 1 (refused) fails', () => {
    const cases = stepCases('rollback');
    expect(cases.filter((c) => c.name.startsWith('examples/github/'))).toHaveLength(1);
    expect(cases.filter((c) => c.name.startsWith('examples/azure-devops/'))).toHaveLength(1);
    for (const c of cases) {
      for (const [exit, passes, saved] of [[2, true, true], [0, true, false], [1, false, false]] as const) {
        const r = run(c, exit);
        expect(r.calls, c.name).toMatch(/^posture rollback /m);
        expect(r.status === 0, `${c.name}: posture rollback exiting ${exit}: ${r.stderr}`).toBe(passes);
        const signalled = c.name.startsWith('examples/github') ? /=saved$/m.test(r.output) : /^##vso\[task\.setvariable variable=\w+\]saved$/m.test(r.stdout);
        expect(signalled, `${c.name}: posture rollback exiting ${exit} leaves a plan to apply`).toBe(saved);
      }
    }
  }, 120_000);

  it("the action's command: words without globbing or expansion; the allowed exit codes pass, any other fails; its exit code is an output", () => {
    const steps = list(obj(action.data['runs'])['steps']).map(obj);
    const command = steps.find((s) => str(s['id']) === 'command')!;
    const shell = ['--noprofile', '--norc', '-eo', 'pipefail'];
    const commandCase = (env: Record<string, string>): Case => ({ name: `${action.file} command`, script: str(command['run']), shell, env });
    const line = 'plan --stack contoso --format json --out plan.json';
    for (const [allowed, exit, passes] of [['0 2', 0, true], ['0 2', 2, true], ['0 2', 1, false], ['0', 0, true], ['0', 2, false], ['2', 0, false]] as const) {
      const r = run(commandCase({ POSTURE_COMMAND: line, ALLOWED_EXIT_CODES: allowed }), exit);
      expect(r.calls).toBe(`posture ${line}\n`);
      expect(r.status === 0, `exit ${exit}, allowed ${allowed}: ${r.stderr}`).toBe(passes);
      expect(r.output).toBe(`exit-code=${exit}\n`);
    }
    // Words as given, across lines: a glob, a substitution and a variable stay literal text.
    const literal = 'show *.json $(touch pwned) `touch pwned` $HOME';
    const r = run(commandCase({ POSTURE_COMMAND: literal.replace(' $(', '\n  $('), ALLOWED_EXIT_CODES: '0' }), 0, (work) => writeFileSync(join(work, 'plan.json'), '{}'));
    expect(r.status, r.stderr).toBe(0);
    expect(r.calls).toBe(`posture ${literal}\n`);
    expect(existsSync(join(r.work, 'pwned'))).toBe(false);
    expect(run(commandCase({ POSTURE_COMMAND: '  ', ALLOWED_EXIT_CODES: '0' }), 0).status).not.toBe(0);

    // The inputs are checked before anything is set up.
    const check = steps.find((s) => str(s['name']) === 'Check the inputs')!;
    const checkCase = (env: Record<string, string>): Case => ({ name: `${action.file} inputs`, script: str(check['run']), shell, env: { NODE_VERSION: '24', SYNTH: 'true', ALLOWED_EXIT_CODES: '0', ...env } });
    for (const [env, passes] of [
      [{}, true],
      [{ NODE_VERSION: '22' }, true],
      [{ NODE_VERSION: '26.1' }, true],
      [{ NODE_VERSION: '24.x' }, true],
      [{ NODE_VERSION: '20' }, false],
      [{ NODE_VERSION: 'lts/*' }, false],
      [{ NODE_VERSION: '24; touch pwned' }, false],
      [{ SYNTH: 'false' }, true],
      [{ SYNTH: 'yes' }, false],
      [{ ALLOWED_EXIT_CODES: '0 2' }, true],
      [{ ALLOWED_EXIT_CODES: '' }, false],
      [{ ALLOWED_EXIT_CODES: '0,2' }, false],
    ] as const) {
      expect(run(checkCase(env), 0).status === 0, JSON.stringify(env)).toBe(passes);
    }
  }, 120_000);
});
