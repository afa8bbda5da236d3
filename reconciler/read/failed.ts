import type { Section } from '../model/live.js';
import type { ReadSpec } from '../resources/types.js';
import { ExchangeError } from '../transport/exchange.js';
import { GraphError } from '../transport/graph.js';

/** How Graph says the tenant lacks the plan a feature needs (Entra ID P1 for conditional access, P2 for Identity Protection). */
const LICENCE_MISSING = /^Authentication_RequestFromNonPremiumTenantOrB2CTenant$|premium licen[cs]e|SKU required/i;

/**
 * A read that failed, as a section: a missing licence or permission named from what the resource
 * type declares it needs, anything else as a failed read. Never an empty value.
 */
export function readFailed(endpoint: string, err: unknown, spec?: Pick<ReadSpec, 'permissions' | 'licence'>): Section<never> {
  const readAt = new Date().toISOString();
  if (err instanceof GraphError && err.status === 403 && (LICENCE_MISSING.test(err.code) || LICENCE_MISSING.test(err.message))) {
    const licence = spec?.licence ?? 'a premium licence';
    return { ok: false, endpoint, readAt, reason: 'licence-missing', error: `the tenant has no ${licence} (${err.message})`, licence };
  }
  if (err instanceof GraphError && err.status === 403) {
    const permission = spec?.permissions.find((p) => p.api === 'graph')?.name;
    return { ok: false, endpoint, readAt, reason: 'permission-missing', error: err.message, ...(permission ? { permission } : {}) };
  }
  if (err instanceof ExchangeError && err.status === 403) {
    return { ok: false, endpoint, readAt, reason: 'permission-missing', error: err.message, permission: 'Exchange.ManageAsApp with the Global Reader role' };
  }
  const message = err instanceof Error ? err.message : String(err);
  return { ok: false, endpoint, readAt, reason: 'read-failed', error: message };
}
