/**
 * Writing TypeScript from values read from a tenant: every string a JSON string literal with the
 * characters JSON leaves raw (C1 controls, bidirectional formatting, line separators) escaped, and
 * every comment our own words, with any tenant text in it neutralised. Pure.
 */
import { jsonSafe, neutralise } from '../core/text.js';

/** Comments written above an object or array (our text; tenant text inside passed through {@link quoted}). */
export const NOTES = Symbol('notes');
/** Comments written above a property of an object, by property name. */
export const PROP_NOTES = Symbol('propNotes');

/** A piece of code written as it is (a variable name): never built from tenant text. */
export class Raw {
  constructor(readonly code: string) {}
}

type Annotated = { [NOTES]?: readonly string[]; [PROP_NOTES]?: Readonly<Record<string, readonly string[]>> };

/** Attaches comments to an object or array, returning it. */
export function noted<T extends object>(value: T, notes: readonly string[], propNotes?: Readonly<Record<string, readonly string[]>>): T {
  const v = value as T & Annotated;
  if (notes.length) v[NOTES] = [...(v[NOTES] ?? []), ...notes];
  if (propNotes && Object.keys(propNotes).length) v[PROP_NOTES] = { ...(v[PROP_NOTES] ?? {}), ...propNotes };
  return value;
}

/** A string as a TypeScript string literal: JSON, with every character that could hide or reorder code escaped. */
export const literal = (s: string): string => jsonSafe(JSON.stringify(s));

/** Tenant text for a comment: a quoted literal, so it cannot end the comment, start a line or reorder what is shown. */
export const quoted = (s: string): string => literal(s).replace(/\*\//g, '*\\/');

/** One comment line: our text, with anything unsafe shown as an escape and no way to end the comment. */
export function commentLine(text: string): string {
  return neutralise(text).replace(/\*\//g, '* /');
}

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;
const key = (k: string) => (IDENTIFIER.test(k) ? k : literal(k));
const isScalar = (v: unknown) => v === null || ['string', 'number', 'boolean'].includes(typeof v) || v instanceof Raw;
const WIDTH = 100;

function scalar(v: unknown): string {
  if (v instanceof Raw) return v.code;
  if (typeof v === 'string') return literal(v);
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw new Error(`${v} is not a number a posture can hold`);
    return String(v);
  }
  return String(v);
}

const isNode = (v: unknown): v is object => typeof v === 'object' && v !== null && !(v instanceof Raw);
/** Whether a value holds comments inside it (its own, above it, are written by its parent). */
const hasInnerNotes = (v: unknown): boolean =>
  isNode(v) && (Object.keys((v as Annotated)[PROP_NOTES] ?? {}).some((k) => k in v) || Object.values(v).some((x) => isNode(x) && (Boolean((x as Annotated)[NOTES]?.length) || hasInnerNotes(x))));

function comments(lines: readonly string[] | undefined, pad: string): string {
  return (lines ?? []).map((l) => `${pad}// ${commentLine(l)}\n`).join('');
}

/** `key: value`, or the shorthand `owner` when the value is the variable of that name. */
const entry = (k: string, x: unknown, indent: string) => (x instanceof Raw && x.code === k ? k : `${key(k)}: ${render(x, indent)}`);

/** A value as TypeScript, formatted: on one line when it fits and has no comments, else one entry a line. */
export function render(v: unknown, indent = ''): string {
  if (isScalar(v)) return scalar(v);
  if (v === undefined) throw new Error('undefined cannot be written');
  const inner = `${indent}  `;
  if (Array.isArray(v)) {
    if (v.length === 0) return '[]';
    const flat = !hasInnerNotes(v) ? `[${v.map((x) => render(x, indent)).join(', ')}]` : undefined;
    if (flat && !flat.includes('\n') && flat.length + indent.length <= WIDTH) return flat;
    return `[\n${v.map((x) => `${comments((x as Annotated | null)?.[NOTES], inner)}${inner}${render(x, inner)},\n`).join('')}${indent}]`;
  }
  const entries = Object.entries(v as Record<string, unknown>).filter(([, x]) => x !== undefined);
  if (entries.length === 0) return '{}';
  const propNotes = (v as Annotated)[PROP_NOTES] ?? {};
  const flat = !hasInnerNotes(v) ? `{ ${entries.map(([k, x]) => entry(k, x, indent)).join(', ')} }` : undefined;
  if (flat && !flat.includes('\n') && flat.length + indent.length <= WIDTH) return flat;
  return `{\n${entries
    .map(([k, x]) => `${comments([...(propNotes[k] ?? []), ...(((x as Annotated | null)?.[NOTES] as string[] | undefined) ?? [])], inner)}${inner}${entry(k, x, inner)},\n`)
    .join('')}${indent}}`;
}
