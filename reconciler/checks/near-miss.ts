import type { DesiredCaPolicy } from '../manifest/schema.js';
import type { Directory } from '../model/live.js';
import type { NearMiss, NearMissCode, NearMissReason } from '../model/finding.js';
import { at, patchFrom } from '../evaluate/normalise.js';
import { project, resolvePolicy } from '../resources/conditional-access-policy.js';

type Obj = Record<string, unknown>;

/** What a live policy is held to besides the declaration: the same as the check's. */
export interface NearMissContext {
  readonly dir: Directory;
  readonly breakGlass: { readonly users: readonly string[]; readonly groups: readonly string[] };
}

const STATE_TEXT: Record<string, string> = { enabled: 'enabled', disabled: 'disabled', enabledforreportingbutnotenforced: 'report-only (enabledForReportingButNotEnforced)' };

const list = (v: unknown): string[] => (Array.isArray(v) ? v.map((x) => (typeof x === 'object' && x !== null ? JSON.stringify(x) : String(x))) : []);
const minus = (a: readonly string[], b: readonly string[]) => {
  const other = new Set(b.map((x) => x.toLowerCase()));
  return a.filter((x) => !other.has(x.toLowerCase()));
};
const quote = (s: string) => `"${s}"`;
const same = (a: unknown, b: unknown) => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);

/** A principal of a users condition, named as people know it. */
function principal(kind: 'user' | 'group' | 'role', id: string, dir: Directory): { type: 'user' | 'group' | 'role'; id: string; name: string } {
  if (kind === 'user') {
    const u = dir.userById(id);
    return { type: 'user', id, name: String(u?.['userPrincipalName'] ?? id) };
  }
  if (kind === 'group') {
    const g = dir.groupById(id);
    return { type: 'group', id, name: String(g?.['displayName'] ?? id) };
  }
  return { type: 'role', id, name: id };
}

const includedText = (users: Obj, dir: Directory): string => {
  const parts = [
    ...list(users['includeUsers']).map((u) => (u.toLowerCase() === 'all' ? 'all users' : u.toLowerCase() === 'none' ? 'no users' : u.toLowerCase() === 'guestsorexternalusers' ? 'guests or external users' : `user ${quote(principal('user', u, dir).name)}`)),
    ...list(users['includeGroups']).map((g) => `group ${quote(principal('group', g, dir).name)}`),
    ...list(users['includeRoles']).map((r) => `role ${r}`),
    ...(users['includeGuestsOrExternalUsers'] ? ['guests or external users of some types'] : []),
  ];
  return parts.length ? parts.join(', ') : 'nobody';
};

const grantText = (g: unknown): string => {
  if (!g || typeof g !== 'object') return 'no grant control';
  const o = g as Obj;
  const controls = list(o['builtInControls']);
  const operator = String(o['operator'] ?? 'or').toUpperCase();
  const extra = Object.keys(o).filter((k) => k !== 'builtInControls' && k !== 'operator' && !k.includes('@odata') && o[k] !== null && !(Array.isArray(o[k]) && (o[k] as unknown[]).length === 0));
  const base = controls.length ? controls.join(` ${operator} `) : 'no built-in control';
  return extra.length ? `${base} (with ${extra.join(', ')})` : base;
};

const frequencyText = (sif: unknown): string => {
  if (!sif || typeof sif !== 'object') return 'no sign-in frequency';
  const o = sif as Obj;
  if (String(o['frequencyInterval']).toLowerCase() === 'everytime') return 'sign-in frequency every time';
  return `sign-in frequency every ${String(o['value'] ?? '?')} ${String(o['type'] ?? '')}`.trim();
};

/** The fields a reason below speaks for; whatever else differs gets a generic reason, so nothing is left out. */
const HANDLED = [
  '/state',
  '/conditions/users',
  '/conditions/applications',
  '/conditions/clientAppTypes',
  '/conditions/userRiskLevels',
  '/conditions/signInRiskLevels',
  '/conditions/platforms',
  '/conditions/locations',
  '/conditions/devices',
  '/grantControls',
  '/sessionControls',
];

/**
 * Why a live policy does not satisfy a declared one, judged by the same criteria as the check: the
 * declaration resolved against that policy (declared exclusions it does not hold are no demand,
 * break-glass exclusions are) and both projected to the governed fields. The display name, which
 * ties a policy to its declaration, is not a reason. No reasons: the policy is what the posture
 * declares, under another name or its own.
 */
export function nearMissReasons(desired: DesiredCaPolicy, live: Obj, ctx: NearMissContext): NearMissReason[] {
  const resolved = resolvePolicy(desired, ctx.dir, { live, breakGlass: ctx.breakGlass });
  const want = project(resolved.body);
  const have = project(live);
  const reasons: NearMissReason[] = [];
  const add = (code: NearMissCode, field: string, text: string, extra: Partial<NearMissReason> = {}) => reasons.push({ code, field, text, ...extra });
  const w = (p: string) => at(want, p);
  const h = (p: string) => at(have, p);

  // State.
  const ws = String(w('/state') ?? '');
  const hs = String(h('/state') ?? '');
  if (ws !== hs) {
    if (hs === 'enabledforreportingbutnotenforced' && ws === 'enabled') add('report-only', '/state', 'it is report-only (enabledForReportingButNotEnforced), not enforced');
    else if (hs === 'disabled') add('disabled', '/state', 'it is disabled');
    else add('state', '/state', `it is ${STATE_TEXT[hs] ?? (hs || 'in no state')}, not ${STATE_TEXT[ws] ?? ws}`);
  }

  // Users: exclusions first (one reason per principal), then what it includes.
  const wu = (w('/conditions/users') ?? {}) as Obj;
  const hu = (h('/conditions/users') ?? {}) as Obj;
  for (const [key, kind] of [['excludeUsers', 'user'], ['excludeGroups', 'group'], ['excludeRoles', 'role']] as const) {
    const field = `/conditions/users/${key}`;
    for (const id of minus(list(hu[key]), list(wu[key]))) {
      if (kind === 'user' && id.toLowerCase() === 'guestsorexternalusers') {
        add('excludes-guests', field, 'it excludes guests and external users');
        continue;
      }
      const p = principal(kind, id, ctx.dir);
      add(`excludes-${kind}`, field, `it excludes ${kind} ${kind === 'role' ? p.name : quote(p.name)}`, { principal: p });
    }
    for (const id of minus(list(wu[key]), list(hu[key]))) {
      const p = principal(kind, id, ctx.dir);
      add('break-glass-not-excluded', field, `it does not exclude break-glass ${kind === 'user' ? 'account' : kind} ${quote(p.name)}`, { principal: p });
    }
  }
  if (!same(wu['excludeGuestsOrExternalUsers'], hu['excludeGuestsOrExternalUsers'])) {
    add('excludes-guests', '/conditions/users/excludeGuestsOrExternalUsers', hu['excludeGuestsOrExternalUsers'] ? 'it excludes guests or external users' : 'its guest and external user exclusion differs');
  }
  const includes = ['includeUsers', 'includeGroups', 'includeRoles', 'includeGuestsOrExternalUsers'];
  if (includes.some((k) => !same(wu[k], hu[k]))) {
    const wantsAll = list(wu['includeUsers']).some((u) => u.toLowerCase() === 'all');
    const hasAll = list(hu['includeUsers']).some((u) => u.toLowerCase() === 'all');
    if (wantsAll && !hasAll) add('includes-some-users', '/conditions/users', `it includes only ${includedText(hu, ctx.dir)}, not all users`);
    else {
      const lacking = [
        ...minus(list(wu['includeUsers']), list(hu['includeUsers'])).map((u) => (u.toLowerCase() === 'all' ? 'all users' : `user ${quote(principal('user', u, ctx.dir).name)}`)),
        ...minus(list(wu['includeGroups']), list(hu['includeGroups'])).map((g) => `group ${quote(principal('group', g, ctx.dir).name)}`),
        ...minus(list(wu['includeRoles']), list(hu['includeRoles'])).map((r) => `role ${r}`),
      ];
      add('users-differ', '/conditions/users', lacking.length ? `it does not include ${lacking.join(', ')}` : `it includes ${includedText(hu, ctx.dir)}, not ${includedText(wu, ctx.dir)}`);
    }
  }

  // Applications.
  const wa = (w('/conditions/applications') ?? {}) as Obj;
  const ha = (h('/conditions/applications') ?? {}) as Obj;
  for (const app of minus(list(ha['excludeApplications']), list(wa['excludeApplications']))) add('excludes-application', '/conditions/applications/excludeApplications', `it excludes application ${app}`);
  const otherApps = Object.keys({ ...wa, ...ha }).filter((k) => k !== 'excludeApplications');
  if (otherApps.some((k) => !same(wa[k], ha[k])) || minus(list(wa['excludeApplications']), list(ha['excludeApplications'])).length) {
    const wantsAll = list(wa['includeApplications']).some((a) => a.toLowerCase() === 'all');
    const hasAll = list(ha['includeApplications']).some((a) => a.toLowerCase() === 'all');
    const apps = list(ha['includeApplications']);
    if (wantsAll && !hasAll) add('some-apps', '/conditions/applications/includeApplications', apps.length ? `it applies to ${apps.length === 1 ? 'one app' : `${apps.length} apps`} only (${apps.join(', ')}), not All` : 'it applies to user actions or authentication contexts only, not All apps');
    else add('apps-differ', '/conditions/applications', 'its applications condition differs from the declared one');
  }

  // Client app types: "all" when unset (project()).
  const wc = list(w('/conditions/clientAppTypes'));
  const hc = list(h('/conditions/clientAppTypes'));
  if (!same(wc, hc)) {
    const written = list(((live['conditions'] ?? {}) as Obj)['clientAppTypes']);
    const shown = (written.length ? written : hc).join(', ');
    add('client-app-types', '/conditions/clientAppTypes', wc.includes('all') ? `it applies only to client app types ${shown}, not all` : `its client app types are ${shown}, not ${list(((resolved.body['conditions'] ?? {}) as Obj)['clientAppTypes']).join(', ')}`);
  }

  // Risk conditions.
  for (const [key, label, lacks, differs] of [
    ['userRiskLevels', 'user risk', 'lacks-user-risk', 'user-risk-differs'],
    ['signInRiskLevels', 'sign-in risk', 'lacks-sign-in-risk', 'sign-in-risk-differs'],
  ] as const) {
    const field = `/conditions/${key}`;
    const wl = list(w(field));
    const hl = list(h(field));
    const missing = minus(wl, hl);
    const extra = minus(hl, wl);
    if (missing.length) add(lacks, field, hl.length ? `it lacks the ${label} level${missing.length > 1 ? 's' : ''} ${missing.join(', ')} (it has ${hl.join(', ')})` : `it has no ${label} condition (the posture needs ${wl.join(', ')})`, { levels: { declared: wl, live: hl } });
    else if (extra.length) add(differs, field, wl.length ? `it also applies at ${label} ${extra.join(', ')}` : `it applies only at ${label} ${hl.join(', ')}, the posture at any`, { levels: { declared: wl, live: hl } });
  }

  // Conditions that narrow it.
  for (const [key, code, label] of [['platforms', 'platform-condition', 'a platform condition'], ['locations', 'location-condition', 'a location condition'], ['devices', 'device-condition', 'a device filter']] as const) {
    const field = `/conditions/${key}`;
    if (!same(w(field), h(field))) add(code, field, h(field) === undefined ? `it lacks the declared ${label.replace(/^an? /, '')}` : `${label} narrows it`);
  }

  // Grant and session controls.
  // Texts from the policies as written (the projection lower-cases enum values).
  if (!same(w('/grantControls'), h('/grantControls'))) add('grant-differs', '/grantControls', `its grant is ${grantText(h('/grantControls') && live['grantControls'])}, not ${grantText(w('/grantControls') && resolved.body['grantControls'])}`);
  const wsc = (w('/sessionControls') ?? {}) as Obj;
  const hsc = (h('/sessionControls') ?? {}) as Obj;
  for (const k of [...new Set([...Object.keys(wsc), ...Object.keys(hsc)])].sort()) {
    if (same(wsc[k], hsc[k])) continue;
    const field = `/sessionControls/${k}`;
    if (k === 'signInFrequency') {
      add('lacks-session-control', field, wsc[k] === undefined ? `it sets ${frequencyText(hsc[k])}, which the posture does not declare` : hsc[k] === undefined ? `it lacks the session control ${frequencyText(wsc[k])}` : `its ${frequencyText(hsc[k])} is not ${frequencyText(wsc[k])}`);
    } else if (wsc[k] === undefined) add('session-control-differs', field, `it also sets the session control ${k}`);
    else add('lacks-session-control', field, hsc[k] === undefined ? `it lacks the session control ${k}` : `its session control ${k} differs`);
  }

  // Anything else the check compares.
  const rest = new Set<string>();
  for (const op of patchFrom(have, want)) {
    if (op.path === '/displayName' || HANDLED.some((p) => op.path === p || op.path.startsWith(`${p}/`))) continue;
    rest.add(op.path.split('/').slice(0, 3).join('/'));
  }
  for (const field of [...rest].sort()) add('other-condition', field, `its ${field.slice(1).replace(/\//g, '.')} differs`);
  return reasons;
}

/**
 * The live policy closest to satisfying a declaration: fewest reasons first, ties by display name,
 * then id (code-unit order, the same on every machine). Undefined when there is no live policy.
 */
export function closestPolicy(desired: DesiredCaPolicy, policies: readonly Obj[], ctx: NearMissContext): NearMiss | undefined {
  const scored = policies.map((p) => ({
    policy: { id: String(p['id'] ?? ''), displayName: String(p['displayName'] ?? ''), state: String(p['state'] ?? '') },
    reasons: nearMissReasons(desired, p, ctx),
  }));
  const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
  scored.sort((a, b) => a.reasons.length - b.reasons.length || cmp(a.policy.displayName, b.policy.displayName) || cmp(a.policy.id, b.policy.id));
  const best = scored[0];
  return best ? { basis: 'closest', ...best, score: best.reasons.length, compared: scored.length } : undefined;
}

/** One sentence for a finding's summary: which policy comes closest, and why it does not count. */
export function nearMissSentence(n: NearMiss): string {
  if (n.basis === 'same-name') return `It does not count because ${n.reasons.map((r) => r.text).join('; ')}.`;
  if (!n.reasons.length) return `The live policy "${n.policy.displayName}" matches the declaration in every governed field but its name, which is what ties a policy to the posture.`;
  return `The closest live policy, "${n.policy.displayName}", does not count because ${n.reasons.map((r) => r.text).join('; ')}.`;
}
