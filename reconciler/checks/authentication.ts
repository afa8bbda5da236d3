import { HIGHLY_PRIVILEGED_ROLES, PHISHING_RESISTANT_COMBINATIONS, PHISHING_RESISTANT_STRENGTH_ID } from '../../policies/catalogue/authentication.js';
import type { Evaluation } from '../evaluate/context.js';
import type { DesiredAuthentication } from '../manifest/schema.js';
import { methodConfigurations } from '../resources/authentication-methods-policy.js';
import { project } from '../resources/conditional-access-policy.js';

type Obj = Record<string, unknown>;

const lower = (v: unknown) => String(v).toLowerCase();
const list = (v: unknown): string[] => (Array.isArray(v) ? v.map(String) : []);
const obj = (v: unknown): Obj => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Obj) : {});

/** At most this many users are named in the ID.AUTH.2 finding; the count says how many there are. */
export const MAX_LISTED_USERS = 20;

/** "a", "a and b", "a, b and c". */
const sentence = (parts: readonly string[]) => (parts.length <= 1 ? (parts[0] ?? '') : `${parts.slice(0, -1).join(', ')} and ${parts[parts.length - 1]}`);

const roleName = (id: string) => HIGHLY_PRIVILEGED_ROLES[id.toLowerCase()] ?? `role ${id}`;

/** ID.AUTH.1–3: phishing-resistant MFA for privileged roles, MFA registration, weak methods off. */
export function checkAuthentication(ev: Evaluation): void {
  const desired = ev.manifest.desired.authentication;
  if (!desired) return;
  if (ev.entry('ID.AUTH.1')) checkPhishingResistant(ev, desired);
  if (ev.entry('ID.AUTH.2')) checkRegistration(ev);
  if (ev.entry('ID.AUTH.3')) checkWeakMethods(ev, desired);
}

/** What the people a check judges a policy for are: role template ids, and the break-glass accounts' object ids. */
export interface PhishingResistantContext {
  /** Directory role template ids that must be covered. */
  readonly roles: readonly string[];
  /** Object ids (users and groups) whose exclusion is allowed: the break-glass accounts. */
  readonly allowedExclusions: ReadonlySet<string>;
  /** The authentication strengths of the tenant. */
  readonly strengths: readonly Obj[];
  /** How an excluded object id is named in a reason. */
  nameOf(id: string): string;
}

/**
 * Why a conditional access policy does not require phishing-resistant MFA of every privileged role,
 * as short reasons (empty: it does). Pure.
 */
export function phishingResistantProblems(p: Obj, ctx: PhishingResistantContext): string[] {
  const problems: string[] = [];
  const state = lower(p['state']);
  if (state === 'enabledforreportingbutnotenforced') problems.push('it is report-only');
  else if (state !== 'enabled') problems.push('it is disabled');

  const c = obj(p['conditions']);
  const users = obj(c['users']);
  const allUsers = list(users['includeUsers']).some((u) => lower(u) === 'all');
  const included = new Set(list(users['includeRoles']).map(lower));
  const excludedRoles = new Set(list(users['excludeRoles']).map(lower));
  const left = ctx.roles.filter((r) => !allUsers && !included.has(r.toLowerCase()));
  if (left.length) problems.push(`it leaves out ${left.length === ctx.roles.length ? 'the privileged roles' : sentence(left.map(roleName))}`);
  const excluded = ctx.roles.filter((r) => excludedRoles.has(r.toLowerCase()));
  if (excluded.length) problems.push(`it excludes ${sentence(excluded.map(roleName))}`);
  const others = [...list(users['excludeUsers']), ...list(users['excludeGroups'])].filter((x) => lower(x) !== 'guestsorexternalusers' && !ctx.allowedExclusions.has(lower(x)));
  if (others.length) problems.push(`it excludes ${sentence(others.map((x) => ctx.nameOf(x)))}, which ${others.length === 1 ? 'is not a break-glass account' : 'are not break-glass accounts'}`);

  const apps = obj(c['applications']);
  if (!list(apps['includeApplications']).some((a) => lower(a) === 'all')) problems.push('it covers selected apps, not all cloud apps');
  else if (list(apps['excludeApplications']).length) problems.push('it excludes some cloud apps');

  const narrowed: string[] = [];
  if (list(c['userRiskLevels']).length || list(c['signInRiskLevels']).length) narrowed.push('risk levels');
  const clientApps = list(c['clientAppTypes']);
  if (clientApps.length && !clientApps.some((a) => lower(a) === 'all')) narrowed.push('client apps');
  const platforms = obj(c['platforms']);
  if (list(platforms['excludePlatforms']).length || (Object.keys(platforms).length && !list(platforms['includePlatforms']).some((x) => lower(x) === 'all'))) narrowed.push('platforms');
  const locations = obj(c['locations']);
  if (list(locations['excludeLocations']).length || (Object.keys(locations).length && !list(locations['includeLocations']).some((x) => lower(x) === 'all'))) narrowed.push('locations');
  if (Object.keys(obj(c['devices'])).length) narrowed.push('devices');
  // Any other condition Graph sets narrows the policy to some sign-ins (device code flow only, insider risk, an app filter, workload identities).
  const flows = obj(c['authenticationFlows']);
  if (list(flows['transferMethods']).length || (typeof flows['transferMethods'] === 'string' && flows['transferMethods'].trim() !== '')) narrowed.push('authentication flows');
  if (typeof c['insiderRiskLevels'] === 'string' ? c['insiderRiskLevels'].trim() !== '' : list(c['insiderRiskLevels']).length) narrowed.push('insider risk levels');
  if (apps['applicationFilter']) narrowed.push('apps matched by a filter');
  if (c['clientApplications']) narrowed.push('client applications');
  if (narrowed.length) problems.push(`it applies only to some ${sentence(narrowed)}`);

  const grant = p['grantControls'] && typeof p['grantControls'] === 'object' ? obj(p['grantControls']) : undefined;
  const builtIn = list(grant?.['builtInControls']);
  const strength = obj(grant?.['authenticationStrength']);
  const strengthId = typeof strength['id'] === 'string' ? strength['id'] : undefined;
  if (!strengthId) {
    problems.push(builtIn.length ? `it requires ${sentence(builtIn)}, not a phishing-resistant authentication strength` : 'it requires no authentication strength');
  } else if (strengthId.toLowerCase() !== PHISHING_RESISTANT_STRENGTH_ID) {
    const found = ctx.strengths.find((s) => lower(s['id']) === strengthId.toLowerCase());
    if (!found) problems.push('it requires an authentication strength the tenant does not have');
    else {
      const combinations = list(found['allowedCombinations']);
      const weak = combinations.filter((x) => !PHISHING_RESISTANT_COMBINATIONS.includes(x));
      if (weak.length || !combinations.length) {
        const shown = weak.slice(0, 3).map((x) => x.replace(/,/g, ' + ')).join(', ') + (weak.length > 3 ? ', …' : '');
        problems.push(
          weak.length
            ? `its authentication strength "${String(found['displayName'] ?? strengthId)}" also allows ${weak.length} combination${weak.length === 1 ? '' : 's'} that ${weak.length === 1 ? 'is' : 'are'} not phishing-resistant (${shown})`
            : `its authentication strength "${String(found['displayName'] ?? strengthId)}" allows no combination at all`,
        );
      }
    }
  }
  if (strengthId && builtIn.length && lower(grant?.['operator'] ?? 'OR') === 'or') problems.push(`${sentence(builtIn)} satisfies it without the strength (operator OR)`);
  return problems;
}

function checkPhishingResistant(ev: Evaluation, desired: NonNullable<DesiredAuthentication>): void {
  const got = ev.need<[Obj[], Obj[]]>('ID.AUTH.1', ['conditionalAccessPolicy', 'authenticationStrengthPolicy', 'user', 'group']);
  if (!got || !ev.live.caPolicies?.ok) return;
  const [policies, strengths] = got;
  const roles = ev.manifest.desired.conditionalAccess?.privilegedRoles ?? desired.privilegedRoles;
  const allowed = new Set(
    [...ev.manifest.breakGlass.users.map((u) => ev.directory.userByUpn(u)?.['id']), ...ev.manifest.breakGlass.groups.map((g) => ev.directory.groupByName(g)?.['id'])]
      .filter((x): x is string => typeof x === 'string')
      .map(lower),
  );
  const ctx: PhishingResistantContext = {
    roles,
    allowedExclusions: allowed,
    strengths,
    nameOf: (id) => String(ev.directory.userById(id)?.['userPrincipalName'] ?? (ev.directory.groupById(id) ? `group ${String(ev.directory.groupById(id)!['displayName'])}` : id)),
  };
  const judged = policies.map((p) => ({ p, problems: phishingResistantProblems(p, ctx) }));
  if (judged.some((j) => j.problems.length === 0)) return;
  // The closest: fewest reasons; among equals, one that names a strength, then by name.
  const closest = [...judged].sort(
    (a, b) =>
      a.problems.length - b.problems.length ||
      Number(!obj(obj(b.p['grantControls'])['authenticationStrength'])['id']) - Number(!obj(obj(a.p['grantControls'])['authenticationStrength'])['id']) ||
      String(a.p['displayName']).localeCompare(String(b.p['displayName'])),
  )[0];
  const name = closest ? String(closest.p['displayName']) : undefined;
  ev.add({
    control: 'ID.AUTH.1', check: 'auth-privileged-phishing-resistant',
    resource: { type: 'conditionalAccessPolicy', id: closest ? String(closest.p['id']) : null, name: name ?? 'privileged roles' },
    key: 'privileged-roles', status: 'violation', action: 'none',
    summary: closest
      ? `No enforced conditional access policy requires phishing-resistant MFA of every privileged role; the closest, "${name}", does not count: ${sentence(closest.problems)}.`
      : `No conditional access policy requires phishing-resistant MFA of the ${roles.length} privileged roles: the tenant has no policy at all.`,
    evidence: { endpoint: '/identity/conditionalAccess/policies', readAt: ev.live.caPolicies.readAt, live: closest ? project(closest.p) : null },
    remediation:
      'Declare a ConditionalAccessPolicy that includes the privileged roles (excluding only the break-glass accounts), all cloud apps, and ' +
      `authenticationStrength ${PHISHING_RESISTANT_STRENGTH_ID} (Phishing-resistant MFA), enabled after a report-only review.`,
    scopes: name ? [{ type: 'policy', value: name }] : [],
  });
}

function checkRegistration(ev: Evaluation): void {
  const got = ev.need<[Obj[], Obj[]]>('ID.AUTH.2', ['userRegistrationDetails', 'user']);
  if (!got || !ev.live.registrationDetails?.ok) return;
  const [rows, users] = got;
  const { readAt } = ev.live.registrationDetails;
  const endpoint = '/reports/authenticationMethods/userRegistrationDetails';
  const enabled = new Set(users.filter((u) => u['accountEnabled'] !== false).map((u) => lower(u['id'])));
  const notCapable: Obj[] = [];
  for (const r of rows) {
    if (lower(r['userType']) !== 'member' || r['isMfaCapable'] === true || !enabled.has(lower(r['id']))) continue;
    const upn = String(r['userPrincipalName'] ?? r['id']);
    const scope = { type: 'user', value: upn } as const;
    if (!ev.exceptionInForce('ID.AUTH.2', scope)) {
      notCapable.push(r);
      continue;
    }
    ev.add({
      control: 'ID.AUTH.2', check: 'auth-mfa-capable', resource: { type: 'userRegistrationDetails', id: String(r['id']), name: upn },
      key: `user/${String(r['id'])}`, status: 'violation', action: 'none',
      summary: `${upn} is not MFA-capable: no strong method is registered that the authentication methods policy allows.`,
      evidence: { endpoint, readAt, live: pick(r) },
      scopes: [scope], subject: { id: String(r['id']), upn },
    });
  }
  if (!notCapable.length) return;
  const listed = notCapable.slice(0, MAX_LISTED_USERS).map((r) => String(r['userPrincipalName'] ?? r['id']));
  const more = notCapable.length - listed.length;
  const only = notCapable.length === 1 ? notCapable[0]! : undefined;
  ev.add({
    control: 'ID.AUTH.2', check: 'auth-mfa-capable', resource: { type: 'userRegistrationDetails', id: null, name: 'enabled member users' },
    key: 'not-mfa-capable', status: 'violation', action: 'none',
    summary:
      `${notCapable.length} enabled member user${notCapable.length === 1 ? ' is' : 's are'} not MFA-capable (no strong method registered that the ` +
      `authentication methods policy allows): ${listed.join(', ')}${more ? ` and ${more} more` : ''}.`,
    evidence: { endpoint, readAt, live: { count: notCapable.length, users: notCapable.slice(0, MAX_LISTED_USERS).map(pick) } },
    remediation: 'Have each user register a strong method (a registration campaign, or a Temporary Access Pass to bootstrap one); an exception scoped to a user covers that user.',
    scopes: [],
    ...(only ? { subject: { id: String(only['id']), upn: String(only['userPrincipalName'] ?? only['id']) } } : {}),
  });
}

/** The fields of a registration row a finding shows. */
const pick = (r: Obj) => ({
  id: r['id'] ?? null,
  userPrincipalName: r['userPrincipalName'] ?? null,
  isMfaCapable: r['isMfaCapable'] ?? null,
  isMfaRegistered: r['isMfaRegistered'] ?? null,
  methodsRegistered: list(r['methodsRegistered']),
});

function checkWeakMethods(ev: Evaluation, desired: NonNullable<DesiredAuthentication>): void {
  const got = ev.need<[Obj]>('ID.AUTH.3', ['authenticationMethodsPolicy']);
  if (!got || !ev.live.authMethodsPolicy?.ok) return;
  const { readAt } = ev.live.authMethodsPolicy;
  const configs = methodConfigurations(got[0]);
  for (const method of desired.disabledMethods) {
    const config = configs.find((c) => lower(c['id']) === method.toLowerCase());
    // Stricter is not drift: only an enabled configuration is a finding, and a method the posture does not list is never looked at.
    if (!config || lower(config['state']) !== 'enabled') continue;
    const id = String(config['id']);
    ev.add({
      control: 'ID.AUTH.3', check: 'auth-weak-method-disabled', resource: { type: 'authenticationMethodsPolicy', id, name: `${id} authentication method` },
      key: `method/${method.toLowerCase()}`, status: 'drift', action: 'update',
      patch: [{ op: 'replace', path: '/state', value: 'disabled' }],
      summary: `The ${id} authentication method is enabled in the authentication methods policy; the posture requires it disabled.`,
      evidence: { endpoint: '/policies/authenticationMethodsPolicy', readAt, live: config },
      scopes: [{ type: 'policy', value: method }],
    });
  }
}
