/**
 * An OData annotation rather than a property: `@odata.context`, `@odata.type`, and the instance
 * annotations Graph puts beside a property, such as `authenticationStrength@odata.context` inside
 * every conditional access policy's grantControls. They describe the answer, never the state.
 */
export const isAnnotation = (key: string): boolean => key.startsWith('@odata') || key.includes('@odata.');

/** A copy of `value` without OData annotations at any depth. Every comparison and fingerprint reads values through it. */
export function withoutAnnotations(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutAnnotations);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(Object.entries(value as Record<string, unknown>).filter(([k]) => !isAnnotation(k)).map(([k, v]) => [k, withoutAnnotations(v)]));
}
