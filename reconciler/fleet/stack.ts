import { parseManifest } from '../manifest/parse.js';
import type { Manifest } from '../manifest/schema.js';
import type { FleetTenant } from './file.js';

/**
 * One tenant's stack: the fleet's baseline manifest with the tenant's overrides (organization,
 * domains, break-glass accounts, control owners, exceptions) and its tenant id, checked again in
 * full as a manifest, so an override can make nothing a synthesized stack could not be. Pure.
 */
export function tenantManifest(baseline: Manifest, tenant: FleetTenant, source: string): { ok: true; manifest: Manifest } | { ok: false; errors: string[] } {
  const o = tenant.overrides ?? {};
  const errors: string[] = [];
  const m = structuredClone(baseline) as { -readonly [K in keyof Manifest]: Manifest[K] };
  m.organization = { ...m.organization, tenantId: tenant.id, ...(o.organization ? { name: o.organization } : {}), ...(o.primaryDomain ? { primaryDomain: o.primaryDomain } : {}) };
  if (o.domains) {
    if (!m.desired.senderAuthentication) errors.push(`${source}.overrides.domains: the baseline stack "${baseline.stack}" declares no sender authentication, so it has no domains to replace`);
    else m.desired = { ...m.desired, senderAuthentication: { ...m.desired.senderAuthentication, domains: o.domains } };
  }
  if (o.breakGlass) m.breakGlass = o.breakGlass;
  if (o.owners) {
    const declared = new Set(m.controls.map((c) => c.id.replace(/v\d+$/, '')));
    for (const id of Object.keys(o.owners)) {
      if (id !== '*' && !declared.has(id)) errors.push(`${source}.overrides.owners["${id}"]: the baseline stack "${baseline.stack}" does not declare ${id}`);
    }
    m.controls = m.controls.map((c) => ({ ...c, owner: o.owners![c.id.replace(/v\d+$/, '')] ?? o.owners!['*'] ?? c.owner }));
  }
  if (o.exceptions) m.exceptions = [...m.exceptions, ...o.exceptions];
  if (errors.length) return { ok: false, errors };
  const parsed = parseManifest(JSON.stringify(m), `${source} (the baseline with its overrides)`);
  return parsed.ok ? { ok: true, manifest: parsed.manifest } : { ok: false, errors: [...parsed.errors] };
}
