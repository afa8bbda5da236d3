import { P } from '../../policies/permissions.js';
import type { DesiredCaPolicy } from '../manifest/schema.js';
import type { Directory } from '../model/live.js';
import { canonical, patchFrom } from '../evaluate/normalise.js';
import type { PlannedChange } from '../model/change.js';
import { terminalSafe } from '../core/text.js';
import { graphEntity, graphRead } from './graph-entity.js';
import type { Finding, NearMissConfirmation } from '../model/finding.js';
import type { Confirmable, ConfirmContext, RailContext, ResourceType, Reversible, Writable, WithRails } from './types.js';

type Obj = Record<string, unknown>;

/**
 * Conditional access policy handler: desired state (from the manifest, references resolved) and
 * live state (from Graph) are both projected to the fields the posture governs, then put in one
 * canonical form and diffed. Read-only fields and server defaults never show as drift.
 */

const ENUMS = new Set(['state', 'operator', 'clientAppTypes', 'userRiskLevels', 'signInRiskLevels', 'builtInControls', 'frequencyInterval', 'authenticationType', 'type', 'servicePrincipalRiskLevels']);
const READ_ONLY = new Set(['id', 'createdDateTime', 'modifiedDateTime', 'templateId', 'deletedDateTime']);

export interface ResolvedPolicy {
  /** The policy as a Graph request body (ids resolved). */
  readonly body: Obj;
  /** References that could not be resolved in the tenant. */
  readonly unresolved: readonly string[];
}

/** What a live policy may be held to besides its declaration. */
export interface ResolveOptions {
  /**
   * The live policy the declaration is compared with or written over. Declared exclusions are the
   * most a policy may exclude, not a demand: an exclusion the live policy leaves out is left out of
   * the desired state too, so a policy stricter than the posture is no drift and no write loosens it.
   */
  readonly live?: Obj;
  /** Break-glass accounts, whose exclusions are required whatever the live policy holds. */
  readonly breakGlass?: { readonly users: readonly string[]; readonly groups: readonly string[] };
}

/** The exclusion lists a policy declares, and the break-glass references among them that are required. */
const EXCLUSIONS = [
  ['users', 'excludeUsers'],
  ['users', 'excludeGroups'],
  ['users', 'excludeRoles'],
  ['applications', 'excludeApplications'],
] as const;

/**
 * Turns `user:<upn>` and `group:<name>` into object ids; `All`, `None`, `GuestsOrExternalUsers` and
 * role ids pass. With `live`, declared exclusions that the live policy does not hold are dropped,
 * except the break-glass ones.
 */
export function resolvePolicy(p: DesiredCaPolicy, dir: Directory, o: ResolveOptions = {}): ResolvedPolicy {
  const resolved = resolveDeclared(p, dir);
  if (!o.live) return resolved;
  const required = new Set<string>();
  for (const upn of o.breakGlass?.users ?? []) {
    const id = dir.userByUpn(upn)?.['id'];
    if (id) required.add(String(id).toLowerCase());
  }
  for (const name of o.breakGlass?.groups ?? []) {
    const id = dir.groupByName(name)?.['id'];
    if (id) required.add(String(id).toLowerCase());
  }
  const body = structuredClone(resolved.body) as Obj;
  const liveConditions = (o.live['conditions'] ?? {}) as Obj;
  for (const [part, list] of EXCLUSIONS) {
    const desiredPart = (body['conditions'] as Obj)[part] as Obj;
    const held = new Set((((liveConditions[part] ?? {}) as Obj)[list] as unknown[] | undefined ?? []).map((x) => String(x).toLowerCase()));
    desiredPart[list] = ((desiredPart[list] as string[] | undefined) ?? []).filter((x) => required.has(x.toLowerCase()) || held.has(x.toLowerCase()));
  }
  // A strength the live policy requires and the declaration does not name stays: it is stricter than
  // the declaration (phishing-resistant rather than any MFA), and a write never loosens the policy.
  const liveGrant = o.live['grantControls'] as Obj | null | undefined;
  const grant = body['grantControls'] as Obj | null;
  const liveStrength = ((liveGrant?.['authenticationStrength'] ?? null) as Obj | null)?.['id'];
  if (grant && !('authenticationStrength' in grant) && typeof liveStrength === 'string' && liveStrength) grant['authenticationStrength'] = { id: liveStrength };
  return { body, unresolved: resolved.unresolved };
}

function resolveDeclared(p: DesiredCaPolicy, dir: Directory): ResolvedPolicy {
  const unresolved: string[] = [];
  const ids = (refs: readonly string[]) =>
    refs.map((r) => {
      if (r.startsWith('user:')) {
        const u = dir.userByUpn(r.slice(5));
        if (!u) unresolved.push(r);
        return u ? String(u['id']) : r;
      }
      if (r.startsWith('group:')) {
        const g = dir.groupByName(r.slice(6));
        if (!g) unresolved.push(r);
        return g ? String(g['id']) : r;
      }
      return r;
    });
  const u = p.conditions.users;
  const body: Obj = {
    displayName: p.displayName,
    state: p.state,
    conditions: {
      users: {
        includeUsers: ids(u.includeUsers),
        excludeUsers: ids(u.excludeUsers),
        includeGroups: ids(u.includeGroups),
        excludeGroups: ids(u.excludeGroups),
        includeRoles: [...u.includeRoles],
        excludeRoles: [...u.excludeRoles],
      },
      applications: { includeApplications: [...p.conditions.applications.includeApplications], excludeApplications: [...p.conditions.applications.excludeApplications] },
      clientAppTypes: [...p.conditions.clientAppTypes],
      userRiskLevels: [...p.conditions.userRiskLevels],
      signInRiskLevels: [...p.conditions.signInRiskLevels],
    },
    grantControls: p.grantControls
      ? {
          operator: p.grantControls.operator,
          builtInControls: [...p.grantControls.builtInControls],
          ...(p.grantControls.authenticationStrength ? { authenticationStrength: { id: p.grantControls.authenticationStrength.id } } : {}),
        }
      : null,
    sessionControls: p.sessionControls?.signInFrequency
      ? {
          signInFrequency: {
            isEnabled: p.sessionControls.signInFrequency.isEnabled,
            frequencyInterval: p.sessionControls.signInFrequency.frequencyInterval,
            authenticationType: p.sessionControls.signInFrequency.authenticationType,
            ...(p.sessionControls.signInFrequency.value !== null ? { value: p.sessionControls.signInFrequency.value, type: p.sessionControls.signInFrequency.type } : {}),
          },
        }
      : null,
  };
  return { body, unresolved };
}

/**
 * Grant controls with the authentication strength as its id alone: Graph answers with the whole
 * strength expanded (name, combinations, times), a request names it by id, and ids are dropped
 * from the canonical form at every depth.
 */
function grantOf(grant: unknown): unknown {
  if (!grant || typeof grant !== 'object' || Array.isArray(grant)) return grant;
  const { authenticationStrength: strength, ...rest } = grant as Obj;
  const id = strength && typeof strength === 'object' ? (strength as Obj)['id'] : undefined;
  return { ...rest, authenticationStrength: typeof id === 'string' && id ? id.toLowerCase() : null };
}

/** The governed fields of a policy, in canonical form. Live and desired go through the same function. */
export function project(policy: Obj): Obj {
  const c = (policy['conditions'] ?? {}) as Obj;
  const sif = ((policy['sessionControls'] ?? {}) as Obj)['signInFrequency'] as Obj | null | undefined;
  // disableResilienceDefaults is not governed: false is the service default (Graph answers false or
  // null alike), and true only refuses to extend sessions during an outage, which is stricter.
  const { disableResilienceDefaults: _resilience, ...session } = (policy['sessionControls'] ?? {}) as Obj;
  const projected = {
    displayName: policy['displayName'],
    state: policy['state'],
    conditions: {
      users: c['users'],
      applications: c['applications'],
      clientAppTypes: c['clientAppTypes'] ?? ['all'],
      userRiskLevels: c['userRiskLevels'],
      signInRiskLevels: c['signInRiskLevels'],
      servicePrincipalRiskLevels: c['servicePrincipalRiskLevels'],
      platforms: c['platforms'],
      locations: c['locations'],
      devices: c['devices'],
      clientApplications: c['clientApplications'],
      authenticationFlows: c['authenticationFlows'],
      insiderRiskLevels: c['insiderRiskLevels'],
    },
    grantControls: grantOf(policy['grantControls']),
    sessionControls: {
      ...session,
      signInFrequency:
        sif && sif['isEnabled'] !== false
          ? {
              isEnabled: true,
              frequencyInterval: sif['frequencyInterval'] ?? 'timeBased',
              authenticationType: sif['authenticationType'] ?? 'primaryAndSecondaryAuthentication',
              value: sif['frequencyInterval'] === 'everyTime' ? null : sif['value'],
              type: sif['frequencyInterval'] === 'everyTime' ? null : sif['type'],
            }
          : null,
    },
  };
  return (canonical(projected, { enums: ENUMS, drop: READ_ONLY }) ?? {}) as Obj;
}

/** JSON Patch from the live policy to the desired one, over the governed fields. */
export function diffPolicy(desired: ResolvedPolicy, live: Obj): ReturnType<typeof patchFrom> {
  return patchFrom(project(live), project(desired.body));
}

/** Live policies by display name (case-insensitive), the key that ties them to the posture. */
export function matchLive(desired: readonly DesiredCaPolicy[], live: readonly Obj[]): Map<string, Obj | undefined> {
  const byName = new Map<string, Obj>();
  for (const p of live) byName.set(String(p['displayName'] ?? '').toLowerCase(), p);
  return new Map(desired.map((d) => [d.key, byName.get(d.displayName.toLowerCase())]));
}

const COLLECTION = '/identity/conditionalAccess/policies';

/**
 * The break-glass rail: no conditional access write may leave a policy that applies to a declared
 * break-glass account, whatever the plan file says. Each policy is judged as it would be after all
 * the plan's writes to it so far.
 */
function breakGlassRail(changes: readonly PlannedChange[], { manifest: m, dir, live }: RailContext): string | undefined {
  const after = new Map<string, Obj>();
  for (const c of changes) {
    if (c.write.api !== 'graph' || c.write.method === 'DELETE') continue;
    const path = c.write.path.toLowerCase().replace(/\/+$/, '');
    const existing =
      after.get(path) ??
      (c.write.method === 'PATCH' && live.caPolicies?.ok ? live.caPolicies.value.find((p) => path.endsWith(`/${encodeURIComponent(String(p['id'])).toLowerCase()}`)) : undefined);
    const result = { ...(existing ?? {}), ...(c.write.body ?? {}) } as Obj;
    if (c.write.method === 'PATCH') after.set(path, result);
    if (result['state'] === 'disabled') continue;
    const users = (((result['conditions'] as Obj | undefined)?.['users'] ?? {}) as Obj);
    const excluded = new Set(((users['excludeUsers'] as string[] | undefined) ?? []).map((x) => String(x).toLowerCase()));
    const excludedGroups = new Set(((users['excludeGroups'] as string[] | undefined) ?? []).map((x) => String(x).toLowerCase()));
    for (const upn of m.breakGlass.users) {
      const id = dir.userByUpn(upn)?.['id'];
      if (!id || !excluded.has(String(id).toLowerCase())) return `refusing to write conditional access policy "${terminalSafe(String(c.resource.name))}": it would apply to break-glass account ${upn}`;
    }
    for (const g of m.breakGlass.groups) {
      const id = dir.groupByName(g)?.['id'];
      if (!id || !excludedGroups.has(String(id).toLowerCase())) return `refusing to write conditional access policy "${terminalSafe(String(c.resource.name))}": it would apply to break-glass group ${g}`;
    }
  }
  return undefined;
}

const EVALUATE = '/identity/conditionalAccess/evaluate';
/** Office 365 Exchange Online, the application a policy for all apps is evaluated for. */
const EXCHANGE_ONLINE_APP = '00000002-0000-0ff1-ce00-000000000000';
const RISK_ORDER = ['high', 'medium', 'low'];

/**
 * The sign-in the declared policy is about, for one user of its population: the first enabled user
 * (by user principal name) it includes by id or as All and does not exclude. A declaration that
 * names only groups or roles has no such user in what the run read.
 */
function whatIfSignIn(desired: DesiredCaPolicy, ctx: ConfirmContext) {
  const users = (((resolvePolicy(desired, ctx.dir).body['conditions'] as Obj)['users'] ?? {}) as Obj);
  const lower = (v: unknown) => ((v as string[] | undefined) ?? []).map((x) => String(x).toLowerCase());
  const include = lower(users['includeUsers']);
  const exclude = new Set(lower(users['excludeUsers']));
  const population = (ctx.live.users?.ok ? ctx.live.users.value : [])
    .filter((u) => typeof u['id'] === 'string' && u['accountEnabled'] !== false && !exclude.has(String(u['id']).toLowerCase()))
    .filter((u) => include.includes('all') || include.includes(String(u['id']).toLowerCase()))
    .sort((a, b) => (String(a['userPrincipalName']) < String(b['userPrincipalName']) ? -1 : String(a['userPrincipalName']) > String(b['userPrincipalName']) ? 1 : 0));
  const user = population[0];
  if (!user) return undefined;
  const highest = (levels: readonly string[]) => RISK_ORDER.find((l) => levels.some((x) => x.toLowerCase() === l)) ?? 'none';
  const c = desired.conditions;
  const signIn = {
    userRiskLevel: highest(c.userRiskLevels),
    signInRiskLevel: highest(c.signInRiskLevels),
    clientAppType: c.clientAppTypes.find((t) => t.toLowerCase() !== 'all') ?? 'browser',
    application: c.applications.includeApplications.some((a) => a.toLowerCase() === 'all') ? EXCHANGE_ONLINE_APP : (c.applications.includeApplications[0] ?? EXCHANGE_ONLINE_APP),
  };
  return { user: { id: String(user['id']), upn: String(user['userPrincipalName'] ?? user['id']) }, signIn };
}

/** Asks Graph's What If evaluation whether a finding's near miss applies to one user of the declared population. */
async function confirmNearMiss(f: Finding, ctx: ConfirmContext): Promise<Finding> {
  const nearMiss = f.evidence.nearMiss;
  if (!nearMiss) return f;
  const done = (confirmation: NearMissConfirmation): Finding => ({ ...f, evidence: { ...f.evidence, nearMiss: { ...nearMiss, confirmation } } });
  const desired = ctx.manifest.desired.conditionalAccess?.policies.find((p) => p.displayName === f.resource.name);
  const subject = desired && whatIfSignIn(desired, ctx);
  if (!subject) return done({ confirmed: false, error: 'no user of the declared policy\'s population is known from the directory read (it names only groups or roles, or excludes everyone read)' });
  const { user, signIn } = subject;
  try {
    const reply = await ctx.graph.request<{ value?: Obj[]; error?: { code?: string; message?: string } }>(
      'POST',
      EVALUATE,
      {
        signInIdentity: { '@odata.type': '#microsoft.graph.userSignIn', userId: user.id },
        signInContext: { '@odata.type': '#microsoft.graph.applicationContext', includeApplications: [signIn.application] },
        signInConditions: { userRiskLevel: signIn.userRiskLevel, signInRiskLevel: signIn.signInRiskLevel, clientAppType: signIn.clientAppType },
        appliedPoliciesOnly: false,
      },
      true,
    );
    if (reply.status >= 400) {
      const e = reply.body?.error;
      return done({ confirmed: false, user: user.upn, error: `the What If evaluation answered ${reply.status}${e?.code ? ` ${e.code}` : ''}${e?.message ? `: ${e.message}` : ''}` });
    }
    const result = Array.isArray(reply.body?.value) ? reply.body.value.find((p) => String(p['id']) === nearMiss.policy.id) : undefined;
    if (!result || typeof result['policyApplies'] !== 'boolean') return done({ confirmed: false, user: user.upn, error: 'the What If evaluation did not answer for the policy' });
    const reasons = String(result['analysisReasons'] ?? '').split(',').map((r) => r.trim()).filter((r) => r && r !== 'notSet');
    return done({ confirmed: true, user: user.upn, signIn, policyApplies: result['policyApplies'], analysisReasons: reasons });
  } catch (err) {
    return done({ confirmed: false, user: user.upn, error: `the What If evaluation failed: ${(err as Error).message}` });
  }
}

/** Conditional access policies: created and updated to the declaration, never loosened; the break-glass rail is theirs. */
export const conditionalAccessPolicy: ResourceType & Writable & Reversible & WithRails & Confirmable = {
  ...(graphEntity({
    key: 'conditionalAccessPolicy',
    title: 'conditional access policies',
    read: graphRead('caPolicies', 'graph-list', COLLECTION, [P.policyRead], 'Microsoft Entra ID P1'),
    writes: [
      ['POST', COLLECTION],
      ['PATCH', `${COLLECTION}/{id}`],
      ['DELETE', `${COLLECTION}/{id}`],
    ],
    writePermissions: [P.policyRead, P.policyWriteConditionalAccess],
    writeFor: (f, { manifest: m, live, dir }) => {
      const r = f.resource;
      const desired = m.desired.conditionalAccess?.policies.find((p) => p.displayName === r.name);
      if (!desired) return undefined;
      if (f.change.action === 'create') return { api: 'graph', method: 'POST', path: COLLECTION, body: resolvePolicy(desired, dir).body };
      // Written over the live policy: declared exclusions it does not hold stay out, so the write never loosens it.
      const current = live.caPolicies?.ok ? live.caPolicies.value.find((p) => String(p['id']) === String(r.id)) : undefined;
      const body = resolvePolicy(desired, dir, { ...(current ? { live: current } : {}), breakGlass: m.breakGlass }).body;
      const changed = new Set(f.patch.map((op) => op.path.split('/')[1]!).filter(Boolean));
      const partial = Object.fromEntries(Object.entries(body).filter(([k]) => changed.has(k)));
      return { api: 'graph', method: 'PATCH', path: `${COLLECTION}/${encodeURIComponent(String(r.id))}`, body: partial };
    },
    // Policies are tied to the posture by display name: the one a lost create made has it.
    findCreated: async (conn, w) => (await conn.graph.list<Obj>(COLLECTION)).filter((p) => p['displayName'] === (w.body ?? {})['displayName']),
    // What was written reads back, in the canonical form of the governed fields (server defaults and read-only fields never count).
    took: (w, after) => {
      const left = patchFrom(project(after), project({ ...after, ...(w.body ?? {}) }));
      return left.length ? `${left.length} differences remain` : undefined;
    },
  }) as ResourceType & Writable & Reversible),
  rails: breakGlassRail,
  confirm: confirmNearMiss,
};
