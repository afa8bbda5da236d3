import type { IConstruct } from 'constructs';
import type { z } from 'zod';
import { formatError } from '../../reconciler/manifest/formats.js';

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

  get items(): readonly Problem[] {
    return this.list;
  }
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
