import { z } from 'zod';
import type { ControlMode, Owner } from '../../reconciler/manifest/schema.js';

/**
 * The shape of every construct's props, checked at synth (`Problems.props`): which properties exist
 * at every depth (an unknown one is an error, never ignored), the allowed values of every enum, and
 * the JavaScript type of every value. Whether a value is required, its format (domain, UPN, GUID,
 * date) and the rules between values stay with each construct's own checks.
 *
 * The helpers here build them; each construct's file holds the schema of its own props, typed
 * against the props interface it checks: a property added to an interface and
 * not here, or listed here and not there, is a compile error, and so is an enum whose values differ
 * from its TypeScript union.
 */

/** A construct's props schema and the construct's name, for messages. */
export interface PropsSchema {
  readonly construct: string;
  readonly schema: z.ZodType;
}

/** One schema per property of T, optional or not: no more, no fewer. */
export type Shape<T> = { [K in keyof T]-?: z.ZodType };

/** A props object whose properties are exactly those of T; every property may be absent here. */
export function props<T>(shape: Shape<T>) {
  return z.strictObject(shape);
}

export function named(construct: string, schema: z.ZodType): PropsSchema {
  return { construct, schema };
}

/** The values of a string union, each listed once: missing or extra values do not compile. */
export function oneOf<T extends string>(values: Record<T, true>) {
  return z.enum(Object.keys(values) as [T, ...T[]]);
}

export const text = z.string().optional();
export const whole = z.number().optional();
export const flag = z.boolean().optional();
export const list = (item: z.ZodType) => z.array(item).optional();
export const texts = list(z.string());

export const controlMode = oneOf<ControlMode>({ report: true, alert: true, remediate: true });

export const ownerProps = props<Owner>({ name: text, team: text, contact: text });
