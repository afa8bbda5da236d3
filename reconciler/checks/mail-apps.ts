import { MICROSOFT_TENANT_IDS } from '../../policies/catalogue.js';
import { psQuote } from '../core/text.js';
import type { Evaluation, Scope } from '../evaluate/context.js';
import type { DesiredMailApp } from '../manifest/schema.js';
import type { AppPermissions } from '../model/live.js';
import { isMailAppPermission, mailRoles, type MailApiRole } from './mail-app-permissions.js';

type Obj = Record<string, unknown>;

const DAY_MS = 86_400_000;
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A PowerShell single-quoted string: nothing inside is expanded; a quote (straight or typographic) is doubled. */

const appScopes = (name: string, appId: string): Scope[] => [
  { type: 'app', value: name },
  { type: 'app', value: appId },
];

const lc = (v: unknown) => String(v ?? '').toLowerCase();
const list = (items: readonly string[]) => (items.length <= 1 ? items.join('') : `${items.slice(0, -1).join(', ')} and ${items[items.length - 1]}`);

/**
 * MAIL.APPS.1–3: the non-human identities with mail. Reads nothing of its own for the permissions:
 * the application permissions are the section APP.CONSENT.5 reads (appRoleAssignment).
 */
export function checkMailApps(ev: Evaluation): void {
  const desired = ev.manifest.desired.mailApps;
  if (!desired) return;
  const declared = new Map(desired.apps.map((a) => [a.appId.toLowerCase(), a]));
  checkDeclared(ev, declared);
  checkScoped(ev, desired.apps);
  checkCredentials(ev, desired.apps);
}

/** MAIL.APPS.1: every app holding a mail application permission is declared, with no permission beyond its declaration. */
function checkDeclared(ev: Evaluation, declared: ReadonlyMap<string, DesiredMailApp>): void {
  const got = ev.need<[AppPermissions, Obj[], Record<string, Obj[]> | undefined]>('MAIL.APPS.1', ['appRoleAssignment', 'servicePrincipal', 'servicePrincipalOwner']);
  if (!got || !ev.live.appPermissions?.ok) return;
  const [perms, sps, owners] = got;
  const readAt = ev.live.appPermissions.readAt;
  const roles = mailRoles(perms.resources);
  const spById = new Map(sps.map((s) => [lc(s['id']), s]));
  const held = new Map<string, Array<{ role: MailApiRole; assignment: Obj }>>();
  for (const a of perms.assignments) {
    if (String(a['principalType']) !== 'ServicePrincipal') continue;
    const role = roles.get(lc(a['appRoleId']));
    if (!isMailAppPermission(role)) continue;
    const sp = spById.get(lc(a['principalId']));
    if (sp && MICROSOFT_TENANT_IDS.includes(lc(sp['appOwnerOrganizationId']))) continue;
    const id = lc(a['principalId']);
    held.set(id, [...(held.get(id) ?? []), { role, assignment: a }]);
  }
  for (const [spId, holds] of [...held.entries()].sort(([a], [b]) => a.localeCompare(b))) {
    const sp = spById.get(spId);
    const appId = String(sp?.['appId'] ?? '');
    const name = String(sp?.['displayName'] ?? holds[0]!.assignment['principalDisplayName'] ?? spId);
    const app = { id: String(sp?.['id'] ?? spId), appId: sp?.['appId'] ?? null, displayName: sp?.['displayName'] ?? null, publisherName: sp?.['publisherName'] ?? null, appOwnerOrganizationId: sp?.['appOwnerOrganizationId'] ?? null };
    const permission = (h: { role: MailApiRole }) => `${h.role.value} (${h.role.apiName})`;
    const asLive = (h: { role: MailApiRole; assignment: Obj }) => ({ api: h.role.api, permission: h.role.value, assignmentId: h.assignment['id'], resourceId: h.assignment['resourceId'], createdDateTime: h.assignment['createdDateTime'] ?? null });
    const delete_ = (h: { assignment: Obj }) => `DELETE /servicePrincipals/${String(h.assignment['resourceId'])}/appRoleAssignedTo/${String(h.assignment['id'])}`;
    const endpoint = '/servicePrincipals/{id}/appRoleAssignedTo';
    const resource = { type: 'servicePrincipal', id: app.id, name };
    const decl = declared.get(appId.toLowerCase());
    if (!decl) {
      const appOwners = (owners?.[spId] ?? []).map((o) => ({ id: o['id'] ?? null, displayName: o['displayName'] ?? null, userPrincipalName: o['userPrincipalName'] ?? null, mail: o['mail'] ?? null }));
      const ownerNames = appOwners.map((o) => String(o.userPrincipalName ?? o.mail ?? o.displayName ?? o.id));
      ev.add({
        control: 'MAIL.APPS.1', check: 'undeclared-mail-app', resource, key: appId || spId,
        status: 'violation', action: 'none',
        summary:
          `"${name}" (appId ${appId || 'unknown'}) holds the mail application permission${holds.length === 1 ? '' : 's'} ${list(holds.map(permission))} and is not declared; ` +
          (ownerNames.length ? `its owners in Entra ID are ${list(ownerNames)}.` : 'it has no owner in Entra ID.'),
        evidence: { endpoint, readAt, live: { app, permissions: holds.map(asLive), owners: appOwners } },
        remediation: `Declare the app (appId ${appId || spId}) with its owner, the mailboxes it needs and its credentials, or, once its owner agrees, remove its mail permissions: ${holds.map(delete_).join('; ')}.`,
        scopes: appScopes(name, appId),
      });
      continue;
    }
    const extra = holds.filter((h) => !decl.permissions[h.role.api].some((p) => p.toLowerCase() === h.role.value.toLowerCase()));
    if (!extra.length) continue;
    ev.add({
      control: 'MAIL.APPS.1', check: 'undeclared-mail-permission', resource, key: appId,
      status: 'violation', action: 'none', owner: decl.owner,
      summary: `"${decl.displayName}" (appId ${decl.appId}) holds ${list(extra.map(permission))} beyond the mail permissions declared for it.`,
      evidence: { endpoint, readAt, live: { app, permissions: holds.map(asLive), undeclared: extra.map(asLive) } },
      remediation: `Remove what the app does not need (${extra.map(delete_).join('; ')}), or declare ${extra.length === 1 ? 'it' : 'them'} after review.`,
      scopes: appScopes(decl.displayName, decl.appId),
    });
  }
}

/** MAIL.APPS.2: an application access policy restricts each declared app to its group or mailboxes. */
function checkScoped(ev: Evaluation, apps: readonly DesiredMailApp[]): void {
  const got = ev.need<[Obj[]]>('MAIL.APPS.2', ['applicationAccessPolicy']);
  if (!got || !ev.live.applicationAccessPolicies?.ok) return;
  const [policies] = got;
  const readAt = ev.live.applicationAccessPolicies.readAt;
  for (const app of apps) {
    const mine = policies.filter((p) => lc(p['AppId']) === app.appId.toLowerCase());
    const restricting = mine.filter((p) => lc(p['AccessRight']) === 'restrictaccess');
    // Each declared scope, with the names Exchange may show it by: ScopeName is the display name, ScopeIdentity the alias or address.
    const targets =
      'group' in app.scope
        ? [{ address: app.scope.group, names: names(app.scope.group, ev.directory.groupByMail(app.scope.group), ['displayName', 'mailNickname', 'mail']) }]
        : app.scope.mailboxes.map((m) => ({ address: m, names: names(m, ev.directory.userByUpn(m), ['displayName', 'mail', 'userPrincipalName']) }));
    const covers = (p: Obj, t: { names: Set<string> }) => t.names.has(lc(p['ScopeName'])) || t.names.has(lc(p['ScopeIdentity']));
    const uncovered = targets.filter((t) => !restricting.some((p) => covers(p, t)));
    const elsewhere = restricting.filter((p) => !targets.some((t) => covers(p, t)));
    if (!uncovered.length && !elsewhere.length) continue;
    const declaredScope = 'group' in app.scope ? `the members of ${app.scope.group}` : list(app.scope.mailboxes);
    const commands = [
      ...uncovered.map((t) => `New-ApplicationAccessPolicy -AppId ${app.appId} -PolicyScopeGroupId ${psQuote(t.address)} -AccessRight RestrictAccess -Description ${psQuote(`Restricts ${app.displayName} to its declared mailboxes`)}`),
      ...elsewhere.map((p) => `Remove-ApplicationAccessPolicy -Identity ${psQuote(String(p['Identity'] ?? ''))}`),
    ];
    const summary = !restricting.length
      ? `"${app.displayName}" (appId ${app.appId}) is restricted by no application access policy: its mail permissions reach every mailbox, not only ${declaredScope}.`
      : `"${app.displayName}" (appId ${app.appId}) is restricted to ${list(restricting.map((p) => String(p['ScopeName'] ?? p['ScopeIdentity'])))}, not ${uncovered.length ? '' : 'only '}${declaredScope} as declared.`;
    ev.add({
      control: 'MAIL.APPS.2', check: 'mail-app-scope', resource: { type: 'applicationAccessPolicy', id: null, name: `${app.displayName} (${app.appId})` }, key: app.appId,
      status: restricting.length ? 'violation' : 'missing', action: 'none', owner: app.owner,
      summary,
      evidence: { endpoint: 'Exchange Get-ApplicationAccessPolicy', readAt, live: mine.map(policyView) },
      remediation: `Run in Exchange Online PowerShell, after checking the app needs no other mailbox: ${commands.join('; ')}. Test-ApplicationAccessPolicy -AppId ${app.appId} -Identity <mailbox> shows the result.`,
      scopes: appScopes(app.displayName, app.appId),
    });
  }
}

function names(address: string, o: Obj | undefined, keys: readonly string[]): Set<string> {
  const out = new Set([address.toLowerCase(), address.toLowerCase().split('@')[0]!]);
  for (const k of keys) if (typeof o?.[k] === 'string' && o[k]) out.add(lc(o[k]));
  return out;
}

const policyView = (p: Obj) => ({ Identity: p['Identity'] ?? null, AppId: p['AppId'] ?? null, ScopeName: p['ScopeName'] ?? null, ScopeIdentity: p['ScopeIdentity'] ?? null, AccessRight: p['AccessRight'] ?? null, Description: p['Description'] ?? null });

/** MAIL.APPS.3: no active credential of a kind the declaration does not allow, and no long-lived secret. */
function checkCredentials(ev: Evaluation, apps: readonly DesiredMailApp[]): void {
  const got = ev.need<[Obj[]]>('MAIL.APPS.3', ['appRegistration']);
  if (!got || !ev.live.applications?.ok) return;
  const [registrations] = got;
  const readAt = ev.live.applications.readAt;
  const endpoint = '/applications';
  const today = Date.parse(`${ev.today}T00:00:00Z`);
  for (const app of apps) {
    const reg = registrations.find((r) => lc(r['appId']) === app.appId.toLowerCase());
    const scopes = appScopes(app.displayName, app.appId);
    if (!reg) {
      ev.add({
        control: 'MAIL.APPS.3', check: 'application-not-in-tenant', resource: { type: 'appRegistration', id: null, name: `${app.displayName} (${app.appId})` }, key: app.appId,
        status: 'violation', action: 'none', owner: app.owner,
        summary: `"${app.displayName}" (appId ${app.appId}) has no application registration in this tenant: its credentials are kept by its publisher, so nothing shows they are certificates or federation.`,
        evidence: { endpoint, readAt, live: null },
        remediation: `Ask the publisher how the app signs in, and declare an exception for MAIL.APPS.3 scoped to app ${app.appId} with what it said; or register the app in this tenant.`,
        scopes,
      });
      continue;
    }
    const regView = { id: reg['id'] ?? null, appId: reg['appId'] ?? null, displayName: reg['displayName'] ?? null };
    const credentials = [
      ...((Array.isArray(reg['passwordCredentials']) ? reg['passwordCredentials'] : []) as Obj[]).map((c) => ({ kind: 'secret' as const, c })),
      ...((Array.isArray(reg['keyCredentials']) ? reg['keyCredentials'] : []) as Obj[]).filter((c) => lc(c['usage']) !== 'sign').map((c) => ({ kind: 'certificate' as const, c })),
    ];
    for (const { kind, c } of credentials) {
      const start = Date.parse(String(c['startDateTime'] ?? ''));
      const end = c['endDateTime'] === null || c['endDateTime'] === undefined ? NaN : Date.parse(String(c['endDateTime']));
      if (Number.isFinite(end) && end <= today) continue; // expired: it signs nothing in
      const keyId = String(c['keyId'] ?? '');
      // Never the secret, its hint or the certificate's key: what the credential is and when it lives.
      const view = { kind, keyId: c['keyId'] ?? null, displayName: c['displayName'] ?? null, startDateTime: c['startDateTime'] ?? null, endDateTime: c['endDateTime'] ?? null, ...(kind === 'certificate' ? { type: c['type'] ?? null } : {}) };
      const label = `${kind === 'secret' ? 'client secret' : 'certificate'} ${c['displayName'] ? `"${String(c['displayName'])}" ` : ''}(keyId ${keyId})`;
      const remove = GUID.test(keyId) ? `az ad app credential delete --id ${app.appId} --key-id ${keyId}${kind === 'certificate' ? ' --cert' : ''}` : `remove the ${kind === 'secret' ? 'secret' : 'certificate'} whose keyId the evidence shows`;
      let check: 'credential-not-allowed' | 'long-lived-secret' | undefined;
      let why = '';
      if (!app.credentials.includes(kind)) {
        check = 'credential-not-allowed';
        why = `a ${kind === 'secret' ? 'client secret' : 'certificate'}, which its declaration does not allow (${app.credentials.join(', ')})`;
      } else if (kind === 'secret') {
        const max = app.maxSecretAgeDays;
        const reasons: string[] = [];
        if (!Number.isFinite(end)) reasons.push('never expires');
        else if (Number.isFinite(start) && (end - start) / DAY_MS > max) reasons.push(`lives ${Math.round((end - start) / DAY_MS)} days`);
        if (Number.isFinite(start) && (today - start) / DAY_MS > max) reasons.push(`was created ${Math.floor((today - start) / DAY_MS)} days ago`);
        if (reasons.length) {
          check = 'long-lived-secret';
          why = `a secret that ${list(reasons)}, more than the ${max} days declared`;
        }
      }
      if (!check) continue;
      ev.add({
        control: 'MAIL.APPS.3', check, resource: { type: 'appRegistration', id: String(reg['id'] ?? ''), name: `${app.displayName} ${label}` }, key: `${app.appId}|${keyId}`,
        status: 'violation', action: 'none', owner: app.owner,
        summary: `"${app.displayName}" (appId ${app.appId}) can sign in with its ${label}: ${why}.`,
        evidence: { endpoint, readAt, live: { application: regView, credential: view } },
        remediation: `Give the app a certificate or a federated identity credential, move the integration to it, then remove the ${kind === 'secret' ? 'secret' : 'certificate'}: ${remove}.`,
        scopes,
      });
    }
  }
}
