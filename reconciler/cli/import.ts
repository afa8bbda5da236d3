import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';
import type { CommandModule } from 'yargs';
import { AUTH_METHODS, type AuthMethod } from '../auth/tokens.js';
import { connect, DEFAULT_EXCHANGE_URL, DEFAULT_GRAPH_URL, signIn } from '../input/connection.js';
import { InputError } from '../input/synth-output.js';
import { upn } from '../manifest/formats.js';
import { addDays, DEFAULT_EXCEPTION_MAX_DAYS, type Owner } from '../manifest/schema.js';
import { derivePosture } from '../import/derive.js';
import { readForImport } from '../import/read.js';
import { classNameOf, DEFAULT_MODULE, renderStack } from '../import/render.js';
import { fail } from './fail.js';
import { parseOwner } from './init.js';
import { createLogger, printable, type LogFormat } from './log.js';
import { dayOption, wholeNumberOption } from './options.js';

export interface ImportArgs {
  tenant?: string;
  auth: AuthMethod;
  'graph-url': string;
  'exchange-url': string;
  'dns-server'?: string;
  timeout: number;
  'max-retries': number;
  'log-format': LogFormat;
  stack?: string;
  out?: string;
  owner?: string;
  team?: string;
  'mail-owner'?: string;
  'identity-owner'?: string;
  'break-glass'?: string[];
  'break-glass-group'?: string[];
  organization?: string;
  'accept-gaps': boolean;
  expires?: string;
  today?: string;
  module: string;
  force: boolean;
  debug: boolean;
}

const STACK_NAME = /^[a-z0-9][a-z0-9-]{0,62}$/;

/** One owner option, `Name <address>` of `team`: refused when not a mail address or in the .invalid domain. */
function ownerOption(option: string, value: string, team: string): Owner {
  const owner = parseOwner(option, value, team);
  if (!upn.safeParse(owner.contact).success) throw new InputError(`--${option}: ${JSON.stringify(owner.contact)} is not a mail address`);
  if (/\.invalid$/i.test(owner.contact)) throw new InputError(`--${option}: ${JSON.stringify(owner.contact)} is in the .invalid domain, which synth refuses for an owner`);
  return owner;
}

/** The owner the options give, or undefined (a placeholder is written); refused when half given or not an address. */
export function ownerOf(args: Pick<ImportArgs, 'owner' | 'team' | 'mail-owner' | 'identity-owner'>): Owner | undefined {
  // --team alone goes with --mail-owner or --identity-owner; the rest keeps the placeholder.
  if (!args.owner && (!args.team || args['mail-owner'] !== undefined || args['identity-owner'] !== undefined)) return undefined;
  if (!args.owner || !args.team) throw new InputError('--owner and --team go together: the owner of every control, as "Name <address>", and its team');
  return ownerOption('owner', args.owner, args.team);
}

/** The owners of the mail and of the identity areas the options give, each of --team; absent: --owner's. */
export function areaOwnersOf(args: Pick<ImportArgs, 'team' | 'mail-owner' | 'identity-owner'>): { mailOwner?: Owner; identityOwner?: Owner } {
  const given = (['mail-owner', 'identity-owner'] as const).filter((o) => args[o] !== undefined);
  if (given.length && !args.team) throw new InputError(`--${given[0]} needs --team: the team of the owners, as for --owner`);
  return {
    ...(args['mail-owner'] !== undefined ? { mailOwner: ownerOption('mail-owner', args['mail-owner'], args.team!) } : {}),
    ...(args['identity-owner'] !== undefined ? { identityOwner: ownerOption('identity-owner', args['identity-owner'], args.team!) } : {}),
  };
}

/**
 * The line that registers the stack in a `stacks/main.ts` written by `posture init` (its
 * `runSynth((app) => { … })`), or undefined when there is none beside the stack file.
 */
export function registration(out: string, stack: string): { main: string; lines: string[]; clash?: string; registered?: string } | undefined {
  const main = join(dirname(out), 'main.ts');
  if (!existsSync(main) || resolve(main) === resolve(out)) return undefined;
  const text = readFileSync(main, 'utf8');
  if (!/runSynth\(\s*\(app\)\s*=>\s*\{/.test(text)) return undefined;
  const className = classNameOf(stack);
  if (text.includes(`new ${className}(`)) return { main, lines: [] };
  const module = `./${basename(out).replace(/\.ts$/, '.js')}`;
  const lines = [`import { ${className} } from ${JSON.stringify(module)};`, `  new ${className}(app, ${JSON.stringify(stack)});`];
  // Another class already builds a stack of this name (init's PostureStack): two would stop synth.
  const clash = new RegExp(`new\\s+(\\w+)\\(\\s*app\\s*,\\s*(['"\`])${stack}\\2`).exec(text)?.[1];
  if (clash) return { main, lines, clash };
  const registered = withRegistration(text, lines);
  return registered === undefined ? { main, lines } : { main, lines, registered };
}

/**
 * `text` (a `stacks/main.ts` in `posture init`'s layout) with the stack registered: the import after
 * the last import line, the instantiation as the last line of `runSynth((app) => { … })`. Undefined
 * when the file has not that layout, so nothing is guessed: the command then says what to add.
 */
export function withRegistration(text: string, lines: readonly string[]): string | undefined {
  const [importLine, newLine] = lines;
  if (importLine === undefined || newLine === undefined) return undefined;
  const open = /runSynth\(\s*\(app\)\s*=>\s*\{[ \t]*\r?\n/.exec(text);
  if (!open) return undefined;
  const body = open.index + open[0].length;
  const close = /^\}\);[ \t]*$/m.exec(text.slice(body));
  if (!close) return undefined;
  const closeAt = body + close.index;
  const imports = [...text.slice(0, open.index).matchAll(/^import [^\n]*;[ \t]*\r?\n/gm)];
  const last = imports.at(-1);
  if (!last) return undefined;
  const importAt = last.index + last[0].length;
  return `${text.slice(0, importAt)}${importLine}\n${text.slice(importAt, closeAt)}${newLine}\n${text.slice(closeAt)}`;
}

/** `posture import`: a stack file declaring the posture a live tenant has, read-only. */
export function importCommand(setExit: (code: number) => void): CommandModule<object, ImportArgs> {
  return {
    command: 'import',
    describe: "Write a posture stack (TypeScript) from a live tenant's sender authentication, inbound, forwarding, threat protection, exposure, consent, conditional access, authentication strength and mail applications; read-only",
    builder: (y) =>
      y
        .option('tenant', { type: 'string', describe: 'Tenant id or initial domain (default: AZURE_TENANT_ID)' })
        .option('auth', { choices: AUTH_METHODS, default: 'auto' as AuthMethod, describe: 'How to get tokens (as for posture plan)' })
        .option('graph-url', { type: 'string', default: DEFAULT_GRAPH_URL, describe: 'Microsoft Graph endpoint (sovereign clouds, the simulator)' })
        .option('exchange-url', { type: 'string', default: DEFAULT_EXCHANGE_URL, describe: 'Exchange Online endpoint' })
        .option('dns-server', { type: 'string', describe: 'DNS server HOST:PORT (default: the system resolvers)' })
        .option('timeout', wholeNumberOption('timeout', { min: 1, max: 3600, unit: 'seconds', default: 30, describe: 'Seconds to wait for one answer' }))
        .option('max-retries', wholeNumberOption('max-retries', { min: 0, max: 20, unit: 'retries', default: 6, describe: 'Retries of a throttled or failed request' }))
        .option('log-format', { choices: ['text', 'json'] as const, default: 'text' as LogFormat, describe: 'Logs on stderr: lines, or JSON lines for pipelines' })
        .option('stack', { type: 'string', requiresArg: true, describe: 'The stack name (lower case, digits, dashes; default: the first label of the primary domain)' })
        .option('out', { type: 'string', requiresArg: true, describe: 'The stack file to write (default: stacks/STACK.ts)' })
        .option('owner', { type: 'string', requiresArg: true, describe: 'The owner of every control, as "Name <address>" (default: a placeholder synth refuses)' })
        .option('team', { type: 'string', requiresArg: true, describe: "The owners' team" })
        .option('mail-owner', { type: 'string', requiresArg: true, describe: 'Owner of the mail areas (sender authentication, inbound, forwarding, threat protection, exposure), as "Name <address>" (default: --owner)' })
        .option('identity-owner', { type: 'string', requiresArg: true, describe: 'Owner of the identity areas (consent, conditional access, authentication strength, mail applications), as "Name <address>" (default: --owner)' })
        .option('break-glass', { type: 'string', array: true, requiresArg: true, describe: 'Confirm an emergency-access account (repeat for each); without it, the accounts every enabled policy excludes are proposed in a comment and synth refuses the stack' })
        .option('break-glass-group', { type: 'string', array: true, requiresArg: true, describe: 'Confirm a group of emergency-access accounts by display name (repeat for each); without it, the groups every enabled policy excludes are proposed in a comment' })
        .option('accept-gaps', { type: 'boolean', default: false, describe: 'Declare the tenant as it is where it is below the catalogue: each gap an exception that expires and that synth refuses until a person approves it' })
        .option('today', dayOption('today', 'Day the expiry of --accept-gaps counts from (YYYY-MM-DD)', true))
        .option('expires', dayOption('expires', `With --accept-gaps: the day the exceptions expire, YYYY-MM-DD (default: ${GAP_DAYS} days from today; at most ${DEFAULT_EXCEPTION_MAX_DAYS})`))
        .option('organization', { type: 'string', requiresArg: true, describe: "The organisation's name (default: the primary domain)" })
        .option('module', { type: 'string', default: DEFAULT_MODULE, requiresArg: true, describe: 'The module the generated stack imports the constructs from' })
        .option('force', { type: 'boolean', default: false, describe: 'Replace the stack file if it exists' }) as never,
    handler: async (args) => {
      const log = createLogger(args['log-format']);
      try {
        if (args.stack !== undefined && !STACK_NAME.test(args.stack)) throw new InputError(`--stack ${JSON.stringify(args.stack)}: use lower-case letters, digits and dashes, starting with a letter or digit`);
        const owner = ownerOf(args);
        const areaOwners = areaOwnersOf(args);
        const breakGlass = (args['break-glass'] ?? []).map((u) => u.trim().toLowerCase());
        for (const u of breakGlass) if (!upn.safeParse(u).success) throw new InputError(`--break-glass ${JSON.stringify(u)} is not a user principal name`);
        const breakGlassGroups = (args['break-glass-group'] ?? []).map((g) => g.trim());
        for (const g of breakGlassGroups) if (g === '' || g.length > 256 || /\p{Cc}/u.test(g)) throw new InputError(`--break-glass-group ${JSON.stringify(g)}: give the group's display name (at most 256 characters, no control characters)`);
        const today = args.today ?? new Date().toISOString().slice(0, 10);
        const acceptGapsUntil = args['accept-gaps'] ? gapExpiry(args.expires, today) : undefined;
        if (!args['accept-gaps'] && args.expires !== undefined) throw new InputError('--expires goes with --accept-gaps: the day the exceptions it declares expire');
        if (args.out !== undefined && !args.out.endsWith('.ts')) throw new InputError(`--out ${JSON.stringify(args.out)}: the stack file is TypeScript, ending in .ts`);
        if (args.out !== undefined && existsSync(args.out) && !args.force) throw new InputError(`${args.out} exists: pass --force to replace it`);

        const conn = connect({
          ...(args.tenant ? { tenant: args.tenant } : {}),
          auth: args.auth,
          graphUrl: args['graph-url'],
          exchangeUrl: args['exchange-url'],
          ...(args['dns-server'] ? { dnsServer: args['dns-server'] } : {}),
          timeoutMs: args.timeout * 1000,
          maxRetries: args['max-retries'],
          env: process.env,
        });
        log.info(`reading tenant ${conn.tenant} for import (${conn.tokens.description})`);
        await signIn(conn);
        const read = await readForImport({ graph: conn.graph, exchange: conn.exchange, resolver: conn.resolver });

        const primary = read.domains[0];
        const stack = args.stack ?? defaultStack(read.live.domains?.ok ? (read.live.domains.value as Record<string, unknown>[]) : [], primary);
        const posture = derivePosture(read, { stack, ...(owner ? { owner } : {}), ...areaOwners, ...(breakGlass.length ? { breakGlass } : {}), ...(breakGlassGroups.length ? { breakGlassGroups } : {}), ...(args.organization ? { organization: args.organization } : {}), ...(acceptGapsUntil ? { judgeGapsOn: today } : {}) });
        const source = renderStack(posture, { tenant: conn.tenant, module: args.module, ...(acceptGapsUntil ? { acceptGapsUntil } : {}) });

        const out = args.out ?? join('stacks', `${stack}.ts`);
        if (existsSync(out) && !args.force) throw new InputError(`${out} exists: pass --force to replace it, or --out another file`);
        mkdirSync(dirname(resolve(out)), { recursive: true });
        writeWhole(out, source);

        for (const w of posture.warnings) log.warn(w);
        const todo = [!owner && 'the owner', !breakGlass.length && 'the break-glass accounts', ...posture.todo, acceptGapsUntil && posture.gaps.length && `the approver of each of the ${posture.gaps.length} exceptions`].filter(Boolean);
        if (acceptGapsUntil) process.stdout.write(posture.gaps.length ? `declared ${posture.gaps.length} gap${posture.gaps.length === 1 ? '' : 's'} of the tenant as exceptions expiring on ${acceptGapsUntil}\n` : 'the tenant has no gap an exception can declare\n');
        process.stdout.write(`wrote ${printable(relative(process.cwd(), resolve(out)) || out)}: stack ${stack}, class ${classNameOf(stack)}\n`);
        if (todo.length) process.stdout.write(`synth refuses it until ${todo.length > 2 ? `${todo.slice(0, -1).join(', ')} and ${todo.at(-1)}` : todo.join(' and ')} are confirmed: see the TODO comments\n`);
        const reg = registration(out, stack);
        const mainName = reg ? printable(relative(process.cwd(), reg.main) || reg.main) : '';
        if (reg?.registered !== undefined) {
          writeWhole(reg.main, reg.registered);
          process.stdout.write(`registered ${classNameOf(stack)} in ${mainName}: posture synth builds stack ${stack}\n`);
        } else if (reg?.clash) {
          process.stdout.write(`${mainName} already builds a stack named ${stack} (${printable(reg.clash)}): replace that line and its import with\n  ${printable(reg.lines[0]!)}\n${printable(reg.lines[1]!)}\n(two stacks of one name stop synth)\n`);
        } else if (reg && reg.lines.length) {
          process.stdout.write(`register the stack in ${mainName}: add\n  ${printable(reg.lines[0]!)}\nbeside its imports, and\n${printable(reg.lines[1]!)}\ninside runSynth((app) => { … })\n`);
        } else if (!reg) {
          process.stdout.write(`instantiate ${classNameOf(stack)} in the cdktf app (cdktf.json "app"): new ${classNameOf(stack)}(app, ${JSON.stringify(stack)})\n`);
        }
        setExit(0);
      } catch (err) {
        fail(err, args.debug, 'import');
        setExit(1);
      }
    },
  };
}

/** Days from today the exceptions of --accept-gaps run by default. */
export const GAP_DAYS = 90;

/** The expiry of the exceptions --accept-gaps declares: --expires, or GAP_DAYS from today; refused when past or beyond the exception limit. */
export function gapExpiry(expires: string | undefined, today: string): string {
  if (expires === undefined) return addDays(today, GAP_DAYS);
  if (expires <= today) throw new InputError(`--expires ${expires}: the day must be after today (${today})`);
  const limit = addDays(today, DEFAULT_EXCEPTION_MAX_DAYS);
  if (expires > limit) throw new InputError(`--expires ${expires}: exceptions run at most ${DEFAULT_EXCEPTION_MAX_DAYS} days (latest allowed: ${limit})`);
  return expires;
}

/** Written beside, then renamed: a file is there whole or not at all. */
function writeWhole(path: string, text: string): void {
  writeFileSync(`${path}.partial`, text);
  renameSync(`${path}.partial`, path);
}

/** The first label of the primary (default) domain, as a stack name. */
function defaultStack(domains: readonly Record<string, unknown>[], fallback: string | undefined): string {
  const primary = String(domains.find((d) => d['isDefault'] === true)?.['id'] ?? fallback ?? 'posture').toLowerCase();
  const label = primary.split('.')[0]!.replace(/[^a-z0-9-]/g, '-').replace(/^-+/, '').slice(0, 63);
  return STACK_NAME.test(label) ? label : 'posture';
}
