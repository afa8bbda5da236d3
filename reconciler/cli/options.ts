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

/**
 * Refuses an option given more than once when it takes one value (`--stack a --stack b` would
 * otherwise arrive as a list no command expects). Runs as global middleware, after parsing.
 */
export function refuseRepeats(argv: Record<string, unknown>, y: Argv): void {
  const options = (y as unknown as { getOptions(): { key: Record<string, unknown>; array: string[] } }).getOptions();
  for (const key of Object.keys(options.key)) {
    if (Array.isArray(argv[key]) && !options.array.includes(key)) throw new UsageError(`--${key} was given more than once`);
  }
}
