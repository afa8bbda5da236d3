import { canonicalJson } from '../core/json.js';
import { sha256 } from '../core/hash.js';

/**
 * The hash of a response plan: SHA-256 of its canonical JSON without `planHash`. Its own module, so
 * a reader of response plans (the fleet merge) checks one without loading the response engine.
 */
export const responsePlanHashOf = (p: { readonly planHash?: unknown }): string => {
  const { planHash: _ignored, ...rest } = p;
  return sha256(canonicalJson(rest));
};
