import { parseDocument } from 'yaml';
import { z } from 'zod';
import { sha256 } from '../core/hash.js';
import { canonicalJson } from '../core/json.js';
import { MAX_JSON_DEPTH, tooDeep } from '../input/json-depth.js';
import { domainName, guid, upn } from '../manifest/formats.js';
import { domainSchema, exceptionSchema, ownerSchema } from '../manifest/schema.js';

/**
 * The fleet file: the tenants a managed service provider or a group runs, each with its id, its
 * owners, what of the shared baseline stack differs for it, and how to sign in to it. YAML or JSON;
 * strict at every depth (an unknown property is an error), as the manifest is.
 */
export const FLEET_VERSION = 1;

const text = z.string().trim().min(1, 'must not be empty');
/** A tenant's key names its result file and decides its shard: kept to safe file-name characters. */
export const tenantKey = z.string().regex(/^[a-z0-9][a-z0-9._-]{0,63}$/, 'must be 1 to 64 lower-case letters, digits, dots, underscores or hyphens, starting with a letter or digit');
const variableName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,127}$/, 'must be the name of an environment variable');

/** The variables a credential reads, which a tenant's `from` may take from a variable of its own. */
export const CREDENTIAL_VARIABLES = [
  'AZURE_CLIENT_SECRET',
  'AZURE_CLIENT_CERTIFICATE_PATH',
  'AZURE_CLIENT_CERTIFICATE_PASSWORD',
  'AZURE_FEDERATED_TOKEN_FILE',
  'POSTURE_GRAPH_TOKEN',
  'POSTURE_EXCHANGE_TOKEN',
] as const;

export const FLEET_AUTH_METHODS = ['workload-identity', 'github-oidc', 'azure-pipelines', 'secret', 'certificate', 'managed-identity', 'token'] as const;
/** The methods one multi-tenant application signs in to every tenant with (a managed identity and a pre-issued token are of one tenant). */
export const MULTI_TENANT_METHODS = ['workload-identity', 'github-oidc', 'azure-pipelines', 'secret', 'certificate'] as const;

/**
 * How to sign in. On the fleet: one multi-tenant application, consented in every tenant, signing in
 * to each tenant's own authority (workload identity federation: nothing secret is kept). On a tenant:
 * that tenant's own credentials, whose secret values come from the environment variables `from`
 * names (never from the file).
 */
export const authSchema = z
  .object({
    method: z.enum(FLEET_AUTH_METHODS),
    /** The application (client) id: AZURE_CLIENT_ID for the tenant's run. */
    clientId: guid.optional(),
    /** Credential variable → the environment variable holding it for this tenant. */
    from: z.partialRecord(z.enum(CREDENTIAL_VARIABLES), variableName).optional(),
  })
  .strict();

/** Control id without version (MAIL.DMARC.2), or `*` for every control of the stack. */
const ownerKey = z.string().regex(/^(\*|[A-Z]+\.[A-Z]+\.[0-9]+)$/, 'must be a control id such as MAIL.DMARC.2, or *');

export const overridesSchema = z
  .object({
    organization: text.optional(),
    primaryDomain: domainName.optional(),
    /** The tenant's domains in place of the baseline's (sender authentication). */
    domains: z.array(domainSchema).optional(),
    breakGlass: z.object({ users: z.array(upn).min(1, 'declare at least one break-glass account'), groups: z.array(text) }).strict().optional(),
    /** Control owners: `*` for every control, or by control id. */
    owners: z.record(ownerKey, ownerSchema).optional(),
    /** Exceptions of this tenant, added to the baseline's. */
    exceptions: z.array(exceptionSchema).optional(),
  })
  .strict();

export const fleetTenantSchema = z
  .object({
    key: tenantKey,
    id: guid,
    name: text.optional(),
    /** Who answers for this tenant in the fleet view. */
    owners: z.array(ownerSchema).min(1, 'name at least one owner'),
    overrides: overridesSchema.optional(),
    auth: authSchema.optional(),
  })
  .strict();

export const fleetSchema = z
  .object({
    fleetVersion: z.literal(FLEET_VERSION),
    kind: z.literal('PostureFleet'),
    name: text,
    /** The shared baseline: a stack of the synthesized output (`--synth-dir`). */
    baseline: z.object({ stack: text }).strict(),
    /** Tenants a shard runs at the same time. @default 4 */
    concurrency: z.number().int().min(1).max(64).optional(),
    auth: authSchema,
    tenants: z.array(fleetTenantSchema).min(1, 'list at least one tenant').max(100_000),
  })
  .strict()
  .superRefine((f, ctx) => {
    if (!MULTI_TENANT_METHODS.includes(f.auth.method as (typeof MULTI_TENANT_METHODS)[number])) {
      ctx.addIssue({ code: 'custom', path: ['auth', 'method'], message: `${f.auth.method} signs in to one tenant only: the fleet's application signs in with ${MULTI_TENANT_METHODS.join(', ')}; give a tenant its own auth for ${f.auth.method}` });
    }
    const keys = new Map<string, number>();
    const ids = new Map<string, number>();
    f.tenants.forEach((t, i) => {
      const k = keys.get(t.key);
      if (k !== undefined) ctx.addIssue({ code: 'custom', path: ['tenants', i, 'key'], message: `"${t.key}" is already the key of tenants[${k}]` });
      else keys.set(t.key, i);
      const id = ids.get(t.id.toLowerCase());
      if (id !== undefined) ctx.addIssue({ code: 'custom', path: ['tenants', i, 'id'], message: `${t.id} is already the id of tenants[${id}]` });
      else ids.set(t.id.toLowerCase(), i);
    });
    // A tenant's own credentials are its own: a variable two tenants name would sign one in as the other.
    const owners = new Map<string, number>();
    f.tenants.forEach((t, i) => {
      for (const [credential, variable] of Object.entries(t.auth?.from ?? {})) {
        const first = owners.get(variable);
        if (first !== undefined && first !== i) ctx.addIssue({ code: 'custom', path: ['tenants', i, 'auth', 'from', credential], message: `${variable} is already a credential of tenants[${first}]: each tenant's credentials come from variables of its own` });
        else owners.set(variable, i);
      }
    });
  });

export type FleetFile = z.infer<typeof fleetSchema>;
export type FleetTenant = FleetFile['tenants'][number];
export type FleetAuth = z.infer<typeof authSchema>;

export interface Fleet extends FleetFile {
  /** SHA-256 of the canonical fleet: results of one revision of the file merge together. */
  readonly hash: string;
}

export type FleetParse = { ok: true; fleet: Fleet } | { ok: false; errors: string[] };

/** Reads a fleet file's text: JSON when `source` ends in .json, else YAML (of which JSON is a part). */
export function parseFleet(textIn: string, source: string): FleetParse {
  let data: unknown;
  if (/\.json$/i.test(source)) {
    try {
      data = JSON.parse(textIn);
    } catch (err) {
      return { ok: false, errors: [`${source}: not valid JSON (${(err as Error).message})`] };
    }
  } else {
    // One document; aliases bounded (the library's default of 100), so a small file cannot expand without end.
    const doc = parseDocument(textIn, { uniqueKeys: true, prettyErrors: false });
    if (doc.errors.length) return { ok: false, errors: doc.errors.slice(0, 5).map((e) => `${source}: not valid YAML (${firstLine(e.message)})`) };
    try {
      data = doc.toJS({ maxAliasCount: 100 });
    } catch (err) {
      return { ok: false, errors: [`${source}: not valid YAML (${firstLine((err as Error).message)})`] };
    }
  }
  const deep = tooDeep(data);
  if (deep) return { ok: false, errors: [`${source}: nested deeper than ${MAX_JSON_DEPTH} levels (at ${deep})`] };
  if (typeof data !== 'object' || data === null || Array.isArray(data)) return { ok: false, errors: [`${source}: expected a mapping (kind: PostureFleet, fleetVersion, name, baseline, auth, tenants)`] };
  const head = data as { kind?: unknown; fleetVersion?: unknown };
  if (head.kind !== 'PostureFleet') return { ok: false, errors: [`${source}: $.kind: not a fleet file (kind is ${JSON.stringify(head.kind) ?? 'missing'}, expected "PostureFleet")`] };
  if (head.fleetVersion !== FLEET_VERSION) return { ok: false, errors: [`${source}: $.fleetVersion: version ${JSON.stringify(head.fleetVersion) ?? 'missing'} is not supported; this version of email-posture reads fleetVersion ${FLEET_VERSION}`] };
  const parsed = fleetSchema.safeParse(data);
  if (!parsed.success) return { ok: false, errors: parsed.error.issues.slice(0, 20).map((i) => `${source}: ${jsonPath(i.path)}: ${i.message}`) };
  return { ok: true, fleet: { ...parsed.data, hash: sha256(canonicalJson(parsed.data)) } };
}

const firstLine = (s: string) => s.split('\n')[0]!.slice(0, 300);

export function jsonPath(path: readonly PropertyKey[]): string {
  return '$' + path.map((p) => (typeof p === 'number' ? `[${p}]` : /^[A-Za-z_][A-Za-z0-9_]*$/.test(String(p)) ? `.${String(p)}` : `[${JSON.stringify(String(p))}]`)).join('');
}
