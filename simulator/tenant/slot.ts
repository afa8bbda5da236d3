import type { z } from 'zod';
import type { TenantSlots } from './tenant.js';

/**
 * Tenant state of a resource type that is not a collection (a singleton policy, items per mailbox, a
 * relation): where it sits in a scenario's `graph` or `exchange` section and in the tenant, and how
 * the tenant's copy is built from the scenario's value.
 */
export interface StateSlot {
  /** Its key under `graph` or `exchange` in a scenario. */
  readonly key: string;
  /** Its schema there; with a default when a scenario may leave it out. */
  readonly schema: z.ZodType;
  /** The tenant property holding it, declared by the resource module in TenantSlots. */
  readonly property: keyof TenantSlots & string;
  /** The tenant's state from the scenario's value (a copy the tenant may keep). */
  init(value: unknown): unknown;
}

/** A slot whose builder is typed by its schema and the tenant property it fills. */
export function slot<K extends keyof TenantSlots & string, S extends z.ZodType>(def: {
  key: string;
  schema: S;
  property: K;
  init: (value: z.output<S>) => TenantSlots[K];
}): StateSlot {
  return { key: def.key, schema: def.schema, property: def.property, init: (value) => def.init(value as z.output<S>) };
}
