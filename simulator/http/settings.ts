/**
 * The simulator's latency, throttling limits and faults as data: the `simulator` block of a scenario
 * file (validated with zod, like the rest of the file) and the `posture sim` options `--latency`,
 * `--jitter`, `--[no-]limits`, `--limit NAME=N` and `--fault SPEC`. Both map onto the code's own
 * types, {@link Limits} (limits.ts) and {@link FaultRule} (faults.ts); the format is in docs/scenarios.md.
 *
 * A fault on the command line is `key=value` pairs separated by commas, e.g.
 * `status=503,path=/v1.0/users,times=3` or `kind=throttle,retryAfter=2,cmdlet=^Get-MessageTrace`:
 *
 * - `kind`: one of {@link CLI_FAULT_KINDS}; left out, `status`.
 * - `path=REGEX` (a Graph path, without the query) or `cmdlet=REGEX` (an Exchange cmdlet name): the
 *   requests it hits, matched case-insensitively. One of the two is required.
 * - `method`: GET, POST, PATCH, PUT or DELETE (Graph only).
 * - `status` (100–599), `retryAfter` (seconds), `delayMs`, `url`: as {@link FaultRule} has them.
 * - `after` (let this many matching requests through first), `times` (hit at most this many).
 *
 * A value cannot hold a comma; a regular expression that needs one, a `body` fault (its JSON body)
 * and every other rule go in the scenario file's `simulator.faults`, which takes FaultRule objects.
 */
import { z } from 'zod';
import type { FaultKind, FaultRule } from './faults.js';
import type { Limits } from './limits.js';

/** A setting that cannot be used as given: the message names the option or field and the bad part. */
export class SettingsError extends Error {}

/** Every fault kind. */
export const FAULT_KINDS = [
  'status', 'throttle', 'reset', 'drop', 'slow', 'hold', 'truncate', 'loop-next-link', 'expire-token', 'foreign-next-link', 'redirect', 'echo-token', 'body',
] as const satisfies readonly FaultKind[];
// Every kind of faults.ts is listed: a kind added there and not here is a compile error.
const everyKind: Record<Exclude<FaultKind, (typeof FAULT_KINDS)[number]>, never> = {};
void everyKind;

/**
 * The kinds a simulator started from the command line or a scenario file can use: not `hold`, whose
 * answers wait for code to release them.
 */
export const SETTABLE_FAULT_KINDS = FAULT_KINDS.filter((k) => k !== 'hold');
/** The kinds `--fault` takes: not `body` either, whose JSON body goes in a scenario file. */
export const CLI_FAULT_KINDS = SETTABLE_FAULT_KINDS.filter((k) => k !== 'body');

const METHODS = ['GET', 'POST', 'PATCH', 'PUT', 'DELETE'] as const;

/** The limits by name, as `--limit` and the file's `simulator.limits` spell them, and the field of {@link Limits} each sets. */
export const LIMIT_NAMES = {
  'graph.perAppPerSecond': 'appPerSecond',
  'conditionalAccess.perSecond': 'conditionalAccessPerSecond',
  'identity.unitsPer10Seconds': 'identityUnitsPer10s',
  'mailbox.concurrent': 'mailboxConcurrency',
  'mailbox.per10Minutes': 'mailboxPer10Minutes',
  'security.perMinute': 'securityPerMinute',
  'messageTrace.per5Minutes': 'messageTracePer5Minutes',
} as const satisfies Record<string, keyof Limits>;
export type LimitName = keyof typeof LIMIT_NAMES;

/** The most any limit may be set to (requests or units per window). */
const MAX_LIMIT = 1_000_000;
/** The most latency or jitter may be, in milliseconds (as `--latency` and `--jitter`). */
const MAX_LATENCY_MS = 60_000;
/** The most a `slow` fault's delay may be, in milliseconds. */
const MAX_DELAY_MS = 600_000;

const count = z.number().int().min(1).max(MAX_LIMIT);
const limitGroups = z
  .object({
    enabled: z.boolean().optional(),
    graph: z.object({ perAppPerSecond: count.optional() }).strict().optional(),
    conditionalAccess: z.object({ perSecond: count.optional() }).strict().optional(),
    identity: z.object({ unitsPer10Seconds: count.optional() }).strict().optional(),
    mailbox: z.object({ concurrent: count.optional(), per10Minutes: count.optional() }).strict().optional(),
    security: z.object({ perMinute: count.optional() }).strict().optional(),
    messageTrace: z.object({ per5Minutes: count.optional() }).strict().optional(),
  })
  .strict();

const regex = z.string().min(1).refine((s) => compiles(s), { message: 'is not a valid regular expression' });

/** A fault rule of the file: {@link FaultRule} as it is, checked. */
export const faultRuleSchema = z
  .object({
    api: z.enum(['graph', 'exchange']).optional(),
    route: regex,
    method: z.enum(METHODS).optional(),
    kind: z.enum(SETTABLE_FAULT_KINDS as unknown as [string, ...string[]], { message: `must be one of ${SETTABLE_FAULT_KINDS.join(', ')}` }),
    status: z.number().int().min(100).max(599).optional(),
    retryAfter: z.number().int().min(0).max(3600).optional(),
    delayMs: z.number().int().min(0).max(MAX_DELAY_MS).optional(),
    url: z.url().optional(),
    body: z.unknown().optional(),
    after: z.number().int().min(0).optional(),
    times: z.number().int().min(1).optional(),
  })
  .strict()
  .superRefine((rule, ctx) => {
    const problem = ruleProblem(rule as FaultRule);
    if (problem) ctx.addIssue({ code: 'custom', message: problem.message, path: [problem.field] });
  });

/** The `simulator` block of a scenario file. Every field may be left out; the command line overrides each. */
export const simulatorSettingsSchema = z
  .object({
    /** Added to every HTTP answer, in milliseconds. */
    latencyMs: z.number().int().min(0).max(MAX_LATENCY_MS).optional(),
    /** Uniform random extra latency up to this many milliseconds. */
    jitterMs: z.number().int().min(0).max(MAX_LATENCY_MS).optional(),
    /** `false` turns every limit off; an object changes some (the others keep Microsoft's published values). */
    limits: z.union([z.literal(false), limitGroups]).optional(),
    /** Fault rules, as {@link FaultRule} (not `hold`). */
    faults: z.array(faultRuleSchema).optional(),
  })
  .strict();

export type SimulatorSettings = z.infer<typeof simulatorSettingsSchema>;

/** The {@link Limits} fields a file's `simulator` block sets (latency, jitter and the limits). */
export function limitsOfSettings(settings: SimulatorSettings | undefined): Partial<Limits> {
  if (!settings) return {};
  const out: Partial<Limits> = {};
  if (settings.latencyMs !== undefined) out.latencyMs = settings.latencyMs;
  if (settings.jitterMs !== undefined) out.jitterMs = settings.jitterMs;
  const limits = settings.limits;
  if (limits === false) out.enabled = false;
  else if (limits) {
    if (limits.enabled !== undefined) out.enabled = limits.enabled;
    for (const [name, field] of Object.entries(LIMIT_NAMES) as Array<[LimitName, keyof Limits]>) {
      const [group, key] = name.split('.') as [string, string];
      const value = (limits as Record<string, Record<string, number | undefined> | undefined>)[group]?.[key];
      if (value !== undefined) (out as Record<string, unknown>)[field] = value;
    }
  }
  return out;
}

/** `--limit NAME=N`: the field it sets and the value. */
export function parseLimit(text: string): { field: keyof Limits; value: number } {
  const at = text.indexOf('=');
  const name = (at < 0 ? text : text.slice(0, at)).trim();
  if (!Object.hasOwn(LIMIT_NAMES, name)) {
    throw new SettingsError(`--limit ${JSON.stringify(text)}: ${JSON.stringify(name)} is not a limit; give one of ${Object.keys(LIMIT_NAMES).join(', ')} as NAME=N`);
  }
  if (at < 0) throw new SettingsError(`--limit ${JSON.stringify(text)}: give the limit as ${name}=N`);
  const raw = text.slice(at + 1).trim();
  const value = /^\d+$/.test(raw) ? Number(raw) : Number.NaN;
  if (!Number.isInteger(value) || value < 1 || value > MAX_LIMIT) {
    throw new SettingsError(`--limit ${JSON.stringify(text)}: ${name} must be a whole number from 1 to ${MAX_LIMIT.toLocaleString('en-US')}; ${JSON.stringify(raw)} is not`);
  }
  return { field: LIMIT_NAMES[name as LimitName], value };
}

const FAULT_KEYS = ['kind', 'path', 'cmdlet', 'method', 'status', 'retryAfter', 'delayMs', 'url', 'after', 'times'] as const;
type FaultKey = (typeof FAULT_KEYS)[number];

/** `--fault SPEC`: the rule it describes (see the syntax at the top of this file). */
export function parseFault(spec: string): FaultRule {
  const bad = (part: string, why: string): never => {
    throw new SettingsError(`--fault ${JSON.stringify(spec)}: ${part === '' ? '' : `${part}: `}${why}`);
  };
  const given = new Map<FaultKey, string>();
  for (const part of spec.split(',')) {
    const item = part.trim();
    if (item === '') bad('', 'an empty part (two commas, or one at an end); give key=value pairs separated by commas');
    const at = item.indexOf('=');
    if (at <= 0) bad(JSON.stringify(item), `not key=value; the keys are ${FAULT_KEYS.join(', ')}`);
    const key = item.slice(0, at).trim();
    const value = item.slice(at + 1).trim();
    if (!(FAULT_KEYS as readonly string[]).includes(key)) bad(JSON.stringify(key), `not a key of a fault; the keys are ${FAULT_KEYS.join(', ')}`);
    if (given.has(key as FaultKey)) bad(JSON.stringify(key), 'given twice');
    if (value === '') bad(JSON.stringify(key), 'has no value');
    given.set(key as FaultKey, value);
  }
  const kind = given.get('kind') ?? 'status';
  if (!(CLI_FAULT_KINDS as readonly string[]).includes(kind)) {
    bad(
      `kind=${kind}`,
      kind === 'body' ? "a body fault needs a JSON body: declare it in a scenario file's simulator.faults"
        : kind === 'hold' ? 'a held answer waits for code to release it: use startSimulator() and faults.release()'
        : `not a kind of fault; give one of ${CLI_FAULT_KINDS.join(', ')}`,
    );
  }
  const path = given.get('path');
  const cmdlet = given.get('cmdlet');
  if (path !== undefined && cmdlet !== undefined) bad('path and cmdlet', 'give one: path= hits Graph requests, cmdlet= Exchange cmdlets');
  const route = path ?? cmdlet;
  if (route === undefined) bad('', 'name the requests it hits with path=REGEX (a Graph path such as /v1.0/users) or cmdlet=REGEX (an Exchange cmdlet such as ^Set-TransportConfig$)');
  if (!compiles(route!)) bad(`${path !== undefined ? 'path' : 'cmdlet'}=${route}`, 'not a valid regular expression');
  const whole = (key: 'status' | 'retryAfter' | 'delayMs' | 'after' | 'times', min: number, max: number): number | undefined => {
    const raw = given.get(key);
    if (raw === undefined) return undefined;
    const n = /^\d+$/.test(raw) ? Number(raw) : Number.NaN;
    const range = max === Number.MAX_SAFE_INTEGER ? `${min} or more` : `from ${min} to ${max.toLocaleString('en-US')}`;
    if (!Number.isSafeInteger(n) || n < min || n > max) bad(`${key}=${raw}`, `${key} must be a whole number ${range}`);
    return n;
  };
  const rule: FaultRule = { api: cmdlet !== undefined ? 'exchange' : 'graph', route: route!, kind: kind as FaultKind };
  const method = given.get('method');
  if (method !== undefined) {
    if (!(METHODS as readonly string[]).includes(method.toUpperCase())) bad(`method=${method}`, `give one of ${METHODS.join(', ')}`);
    rule.method = method.toUpperCase();
  }
  const status = whole('status', 100, 599);
  if (status !== undefined) rule.status = status;
  const retryAfter = whole('retryAfter', 0, 3600);
  if (retryAfter !== undefined) rule.retryAfter = retryAfter;
  const delayMs = whole('delayMs', 0, MAX_DELAY_MS);
  if (delayMs !== undefined) rule.delayMs = delayMs;
  const after = whole('after', 0, Number.MAX_SAFE_INTEGER);
  if (after !== undefined) rule.after = after;
  const times = whole('times', 1, Number.MAX_SAFE_INTEGER);
  if (times !== undefined) rule.times = times;
  const url = given.get('url');
  if (url !== undefined) {
    if (!URL.canParse(url)) bad(`url=${url}`, 'not an absolute URL');
    rule.url = url;
  }
  const problem = ruleProblem(rule);
  if (problem) bad(`${problem.field}${given.has(problem.field as FaultKey) ? `=${given.get(problem.field as FaultKey)}` : ''}`, problem.message);
  return rule;
}

/** What is wrong between the fields of a rule: a field its kind does not use, or one it needs. */
function ruleProblem(rule: FaultRule): { field: string; message: string } | undefined {
  const uses: Partial<Record<FaultKind, readonly string[]>> = {
    status: ['status'],
    throttle: ['retryAfter'],
    slow: ['delayMs'],
    redirect: ['status', 'url'],
    'foreign-next-link': ['url'],
    'echo-token': ['status'],
    body: ['body'],
  };
  const used = uses[rule.kind] ?? [];
  for (const field of ['status', 'retryAfter', 'delayMs', 'url', 'body'] as const) {
    if (rule[field] !== undefined && !used.includes(field)) return { field, message: `a ${rule.kind} fault takes no ${field}` };
  }
  if ((rule.kind === 'redirect' || rule.kind === 'foreign-next-link') && rule.url === undefined) return { field: 'url', message: `a ${rule.kind} fault needs the url it points to` };
  if (rule.kind === 'body' && !('body' in rule)) return { field: 'body', message: 'a body fault needs the body to answer with' };
  if (rule.method !== undefined && rule.api === 'exchange') return { field: 'method', message: 'an Exchange cmdlet has no HTTP method' };
  return undefined;
}

function compiles(source: string): boolean {
  try {
    new RegExp(source, 'i');
    return true;
  } catch {
    return false;
  }
}
