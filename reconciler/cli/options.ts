/**
 * Checked option values. A command line is outside input: a misspelled option, a value that is not
 * a number, or one out of range stops the command with one message, before anything is read or
 * written (see the fail handler in main.ts).
 */
import type { Argv, Options } from 'yargs';

/** A command line that cannot be run as given. */
export class UsageError extends Error {}

const shown = (value: unknown): string => (typeof value === 'string' ? JSON.stringify(value) : String(value));

function single(name: string, value: unknown): unknown {
  if (Array.isArray(value)) throw new UsageError(`--${name} was given more than once`);
  return value;
}

/**
 * A whole-number option within [min, max]. The value is left untyped for the parser so that the
 * message can quote what was given (`"abc"`), not `NaN`.
 */
export function wholeNumberOption(name: string, o: { min: number; max: number; unit?: string; default?: number; describe: string }): Options {
  const rule = `a whole number${o.unit ? ` of ${o.unit}` : ''}, ${o.min} or more and at most ${o.max.toLocaleString('en-US')}`;
  return {
    describe: `${o.describe} (${o.min}–${o.max.toLocaleString('en-US')})`,
    requiresArg: true,
    ...(o.default !== undefined ? { default: o.default } : {}),
    coerce: (raw: unknown) => {
      const value = single(name, raw);
      const n = typeof value === 'number' ? value : typeof value === 'string' && /^\s*-?\d+\s*$/.test(value) ? Number(value) : Number.NaN;
      if (!Number.isInteger(n) || n < o.min || n > o.max) throw new UsageError(`--${name} must be ${rule}; ${shown(value)} is not`);
      return n;
    },
  };
}

/** A number within [min, max], fractions allowed (a share). */
export function numberOption(name: string, o: { min: number; max: number; default?: number; describe: string }): Options {
  return {
    describe: `${o.describe} (${o.min}–${o.max})`,
    requiresArg: true,
    ...(o.default !== undefined ? { default: o.default } : {}),
    coerce: (raw: unknown) => {
      const value = single(name, raw);
      const n = typeof value === 'number' ? value : typeof value === 'string' && value.trim() !== '' ? Number(value) : Number.NaN;
      if (!Number.isFinite(n) || n < o.min || n > o.max) throw new UsageError(`--${name} must be a number from ${o.min} to ${o.max}; ${shown(value)} is not`);
      return n;
    },
  };
}

/** A calendar day, YYYY-MM-DD. */
export function dayOption(name: string, describe: string, hidden = false): Options {
  return {
    type: 'string',
    describe,
    hidden,
    requiresArg: true,
    coerce: (raw: unknown) => {
      const value = single(name, raw);
      const text = String(value);
      const date = new Date(`${text}T00:00:00Z`);
      if (!/^\d{4}-\d{2}-\d{2}$/.test(text) || Number.isNaN(date.getTime()) || date.toISOString().slice(0, 10) !== text) {
        throw new UsageError(`--${name} must be a day as YYYY-MM-DD; ${shown(value)} is not`);
      }
      return text;
    },
  };
}

interface ParserOptions {
  key: Record<string, unknown>;
  array: string[];
  boolean: string[];
}

const optionsOf = (y: Argv): ParserOptions => (y as unknown as { getOptions(): ParserOptions }).getOptions();

/**
 * Refuses an option given more than once when it takes one value (`--stack a --stack b` would
 * otherwise arrive as a list no command expects). Runs as global middleware, after parsing.
 */
export function refuseRepeats(argv: Record<string, unknown>, y: Argv): void {
  const options = optionsOf(y);
  for (const key of Object.keys(options.key)) {
    if (Array.isArray(argv[key]) && !options.array.includes(key)) throw new UsageError(`--${key} was given more than once`);
  }
}

/** Options whose `--no-` form means something: the switches, and `--no-evidence` (record nothing). */
const NEGATABLE_VALUE_OPTIONS = new Set(['evidence']);

/**
 * What the parser would take in silently and the command then misread, refused from the words as
 * given (`raw`): a switch with a value other than true or false (`--auto-approve=yes` is false to
 * the parser, `--limits=off` too), an option left without its value (`--evidence` at the end, or
 * `--dns-server=`, would quietly mean the default or nothing), a `--no-` form of an option that
 * takes a value (`--no-dns-server`), and anything after `--`, which no command reads.
 */
export function refuseMisreadWords(raw: readonly string[]) {
  return (_argv: Record<string, unknown>, y: Argv): void => {
    const options = optionsOf(y);
    const known = new Set(Object.keys(options.key));
    const end = raw.indexOf('--');
    if (end >= 0 && end < raw.length - 1) throw new UsageError(`${JSON.stringify(raw[end + 1])} after "--": no command takes arguments there`);
    for (let i = 0; i < (end >= 0 ? end : raw.length); i++) {
      const m = /^--([^=]+)(=([\s\S]*))?$/.exec(raw[i]!);
      if (!m) continue;
      const [, word, assigned, value] = m as unknown as [string, string, string | undefined, string | undefined];
      const negated = !known.has(word) && word.startsWith('no-') && known.has(word.slice(3));
      const name = negated ? word.slice(3) : word;
      if (!known.has(name)) continue; // strict mode names it
      const shownValue = JSON.stringify(value);
      if (options.boolean.includes(name)) {
        if (assigned !== undefined && (negated || (value !== 'true' && value !== 'false'))) {
          throw new UsageError(`--${word} is a switch: give it alone${negated ? '' : ' (or as --no-' + name + ')'}; ${shownValue} is not a value it takes`);
        }
        continue;
      }
      if (negated) {
        if (!NEGATABLE_VALUE_OPTIONS.has(name) || assigned !== undefined) throw new UsageError(`--${word} is not an option: --${name} takes a value`);
        continue;
      }
      const next = assigned !== undefined ? value : raw[i + 1];
      const missing = next === undefined || (assigned === undefined && (i + 1 === end || /^-/.test(next) && !/^-\d/.test(next)));
      if (missing || next.trim() === '') throw new UsageError(`--${name} needs a value${missing ? '' : '; it was given an empty one'}`);
    }
  };
}

/**
 * Whether output is coloured when no --color is given: never with NO_COLOR (no-color.org) or
 * TERM=dumb, always with FORCE_COLOR (other than 0 or false), else when the stream is a terminal.
 */
export function colourByDefault(env: NodeJS.ProcessEnv = process.env, isTTY: boolean = process.stdout.isTTY === true): boolean {
  if (env['NO_COLOR'] !== undefined && env['NO_COLOR'] !== '') return false;
  const force = env['FORCE_COLOR'];
  if (force !== undefined && force !== '0' && force.toLowerCase() !== 'false') return true;
  if (env['TERM'] === 'dumb') return false;
  return isTTY;
}
