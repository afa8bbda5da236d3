import { CREDENTIAL_VARIABLES, type FleetAuth, type FleetTenant } from './file.js';

/** Variables that say who signs in, or to which tenant: never carried from one tenant's run to another's. */
const SIGN_IN_VARIABLES: readonly string[] = [...CREDENTIAL_VARIABLES, 'POSTURE_ACCESS_TOKEN', 'AZURE_CLIENT_ID', 'AZURE_TENANT_ID'];

/**
 * The environment one tenant's credential reads. Every sign-in variable of the process is dropped
 * first; then, for the fleet's own application, its client id and the credential variables as the
 * process has them (one federated token file or secret for every tenant), or those its `from`
 * renames; for a tenant's own credentials, only the variables its `from` names, so one tenant's
 * secret or pre-issued token never reaches another tenant's run. Pure.
 */
export function tenantEnv(fleetAuth: FleetAuth, tenant: FleetTenant, env: NodeJS.ProcessEnv): { env: NodeJS.ProcessEnv; auth: FleetAuth; missing: string[] } {
  const own = tenant.auth !== undefined;
  const auth = tenant.auth ?? fleetAuth;
  const out: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(env)) if (!SIGN_IN_VARIABLES.includes(k)) out[k] = v;
  const missing: string[] = [];
  if (!own) for (const k of CREDENTIAL_VARIABLES) if (env[k] !== undefined) out[k] = env[k];
  for (const [variable, from] of Object.entries(auth.from ?? {})) {
    const value = env[from];
    if (value === undefined || value === '') missing.push(from);
    else out[variable] = value;
  }
  const clientId = auth.clientId ?? (own ? undefined : env['AZURE_CLIENT_ID']);
  if (clientId) out['AZURE_CLIENT_ID'] = clientId;
  out['AZURE_TENANT_ID'] = tenant.id;
  return { env: out, auth, missing };
}
