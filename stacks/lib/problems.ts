import type { IConstruct } from 'constructs';
import { distance } from 'fastest-levenshtein';
import { z } from 'zod';
import { formatError } from '../../reconciler/manifest/formats.js';
import type { PropsSchema } from './prop-schemas.js';

/** One validation error: which property of the construct's props, and what is wrong with it. */
export interface Problem {
  readonly property: string;
  readonly message: string;
}

/** Collects problems for one construct while its props are checked, so all are reported together. */
export class Problems {
  private readonly list: Problem[] = [];

  add(property: string, message: string): void {
    this.list.push({ property, message });
  }

  /** Checks `value` against a shared format; records a problem when it does not match. */
  format(property: string, schema: z.ZodType, value: unknown): boolean {
    const error = formatError(schema, value);
    if (error) this.add(property, `${JSON.stringify(value)} ${error}`);
    return !error;
  }

  /** Records a problem when a required value is missing or blank. */
  required(property: string, value: unknown): boolean {
    const missing = value === undefined || value === null || (typeof value === 'string' && value.trim() === '');
    if (missing) this.add(property, 'is required');
    return !missing;
  }

  /**
   * Checks a construct's props against their schema (unknown properties, enum values, types) and
   * records every problem. Returns whether the construct's own checks can run: false when a value
   * has the wrong type, as those checks rely on the types.
   */
  props(schema: PropsSchema, value: unknown): boolean {
    const shape = checkShape(schema, value);
    for (const problem of shape.problems) this.list.push(problem);
    return shape.wellFormed;
  }

  get items(): readonly Problem[] {
    return this.list;
  }
}

export interface ShapeCheck {
  readonly problems: readonly Problem[];
  /** No value has the wrong type (unknown properties and enum values may still be wrong). */
  readonly wellFormed: boolean;
}

/**
 * The problems of `value` against a props schema, each with the property path (`domains[1].policy`,
 * `controls["MAIL.FWD.3"].mode`) and a message that names what is allowed there.
 */
export function checkShape({ construct, schema }: PropsSchema, value: unknown): ShapeCheck {
  const result = schema.safeParse(value);
  if (result.success) return { problems: [], wellFormed: true };
  const problems: Problem[] = [];
  let wellFormed = true;
  const visit = (issues: readonly z.core.$ZodIssue[], prefix: readonly PropertyKey[]): void => {
    for (const issue of issues) {
      const path = [...prefix, ...issue.path];
      const at = locate(schema, value, path);
      if (!at.property && issue.code !== 'unrecognized_keys') at.property = '(props)';
      if (issue.code === 'unrecognized_keys') {
        const object = at.schema instanceof z.ZodUnion ? (at.schema.options as z.ZodType[]).map(unwrap).find((o) => o instanceof z.ZodObject) : at.schema;
        const known = object instanceof z.ZodObject ? Object.keys(object.shape) : [];
        for (const key of issue.keys) {
          const where = at.property ? 'unknown property' : `unknown property of ${construct}`;
          const near = closest(key, known);
          problems.push({
            property: `${at.property}${keyStep(key, !at.property)}`,
            message: near ? `${where}; did you mean ${near}?` : `${where} (known: ${known.join(', ')})`,
          });
        }
      } else if (issue.code === 'invalid_value') {
        problems.push({ property: at.property, message: `${show(at.value)} is not allowed: use ${orList(issue.values.map(String))}` });
      } else if (issue.code === 'invalid_union') {
        // The branch whose outer type matched (an object for `{ value, type }`) says what is wrong inside.
        const matched = issue.errors.filter((branch) => !branch.some((i) => i.path.length === 0 && (i.code === 'invalid_type' || i.code === 'invalid_value')));
        if (matched.length > 0) visit(matched[0]!, path);
        else {
          wellFormed = false;
          const options = at.schema instanceof z.ZodUnion ? (at.schema.options as z.ZodType[]).map(describeSchema) : [];
          problems.push({ property: at.property, message: `${show(at.value)} is not allowed: use ${orList(options)}` });
        }
      } else if (issue.code === 'invalid_type') {
        wellFormed = false;
        problems.push({ property: at.property, message: `must be ${expected(issue.expected)}, not ${received(at.value)}` });
      } else {
        wellFormed = false;
        problems.push({ property: at.property, message: issue.message });
      }
    }
  };
  visit(result.error.issues, []);
  return { problems, wellFormed };
}

/** The schema and value at `path`, and the path written as a property (`domains[1].policy`). */
function locate(root: z.ZodType, value: unknown, path: readonly PropertyKey[]): { schema: z.ZodType | undefined; value: unknown; property: string } {
  let schema: z.ZodType | undefined = unwrap(root);
  let property = '';
  for (const step of path) {
    const key = String(step);
    if (schema instanceof z.ZodUnion) {
      schema = (schema.options as z.ZodType[]).map(unwrap).find((o) => (typeof step === 'number' ? o instanceof z.ZodArray : o instanceof z.ZodObject || o instanceof z.ZodRecord));
    }
    if (schema instanceof z.ZodArray) {
      property += `[${key}]`;
      schema = unwrap(schema.element as z.ZodType);
    } else if (schema instanceof z.ZodRecord) {
      property += `[${show(key)}]`;
      schema = unwrap(schema.valueType as z.ZodType);
    } else {
      property += keyStep(key, !property);
      const shape: Record<string, z.ZodType> | undefined = schema instanceof z.ZodObject ? schema.shape : undefined;
      schema = shape && Object.hasOwn(shape, key) ? unwrap(shape[key]!) : undefined;
    }
    value = value !== null && typeof value === 'object' ? (value as Record<string, unknown>)[key] : undefined;
  }
  return { schema, value, property };
}

function unwrap(schema: z.ZodType): z.ZodType {
  let s = schema;
  while (s instanceof z.ZodOptional || s instanceof z.ZodNullable) s = s.unwrap() as z.ZodType;
  return s;
}

/** The known property a misspelled one most likely meant, if one is close enough. */
function closest(key: string, known: readonly string[]): string | undefined {
  let best: { name: string; d: number } | undefined;
  for (const name of known) {
    const d = name.toLowerCase() === key.toLowerCase() ? 0 : distance(key, name);
    if (!best || d < best.d) best = { name, d };
  }
  return best && best.d <= Math.max(2, Math.floor(key.length / 4)) ? best.name : undefined;
}

function describeSchema(schema: z.ZodType): string {
  const s = unwrap(schema);
  if (s instanceof z.ZodLiteral) return [...s.values].map(String).join(', ');
  if (s instanceof z.ZodEnum) return s.options.map(String).join(', ');
  if (s instanceof z.ZodObject) return `{ ${Object.keys(s.shape).join(', ')} }`;
  return expected(s.type);
}

function expected(type: string): string {
  switch (type) {
    case 'array':
      return 'an array';
    case 'object':
    case 'record':
      return 'an object';
    case 'boolean':
      return 'true or false';
    default:
      return `a ${type}`;
  }
}

function received(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  if (value === undefined) return 'undefined';
  return `a ${typeof value} (${show(value)})`;
}

/** A value for a message: JSON, with every control and bidirectional character escaped, shortened. */
function show(value: unknown): string {
  let text: string;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    text = String(value);
  }
  text = text.replace(/[\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

/** A property name as written in a path: plain when it is an identifier, quoted otherwise. */
function keyStep(key: string, first: boolean): string {
  return /^[A-Za-z_$][\w$]*$/.test(key) ? `${first ? '' : '.'}${key}` : `[${show(key)}]`;
}

function orList(values: readonly string[]): string {
  return values.length <= 1 ? (values[0] ?? '') : `${values.slice(0, -1).join(', ')} or ${values.at(-1)}`;
}

/** The prefix a validation message carries so the synth runner can split construct path and property. */
export const PROPERTY_SEPARATOR = ': ';

/**
 * Registers a validation on `construct` (the aws-cdk-lib pattern): `check` runs at synth, after
 * every construct exists, and each problem becomes one message naming the property.
 */
export function validateWith(construct: IConstruct, check: (problems: Problems) => void): void {
  construct.node.addValidation({
    validate: () => {
      const problems = new Problems();
      check(problems);
      return problems.items.map((p) => `${p.property}${PROPERTY_SEPARATOR}${p.message}`);
    },
  });
}
