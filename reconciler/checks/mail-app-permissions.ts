import { MAIL_APP_APIS, MAIL_APP_PERMISSIONS } from '../../policies/catalogue.js';

type Obj = Record<string, unknown>;

/** An app role of a mail API: which API (as a declaration names it), its value and the API's display name. */
export interface MailApiRole {
  readonly api: 'graph' | 'exchange';
  readonly value: string;
  readonly apiName: string;
}

/** The app roles of the mail APIs' service principals, by role id (lower case). */
export function mailRoles(resources: readonly Obj[]): Map<string, MailApiRole> {
  const out = new Map<string, MailApiRole>();
  for (const r of resources) {
    const appId = String(r['appId'] ?? '').toLowerCase();
    const api = appId === MAIL_APP_APIS.graph ? 'graph' : appId === MAIL_APP_APIS.exchange ? 'exchange' : undefined;
    if (!api) continue;
    for (const role of (Array.isArray(r['appRoles']) ? r['appRoles'] : []) as Obj[]) {
      out.set(String(role['id']).toLowerCase(), { api, value: String(role['value']), apiName: String(r['displayName'] ?? api) });
    }
  }
  return out;
}

/** Whether an app role is a mail application permission (MAIL_APP_PERMISSIONS), compared case-insensitively. */
export function isMailAppPermission(role: MailApiRole | undefined): role is MailApiRole {
  return !!role && MAIL_APP_PERMISSIONS[role.api].some((p) => p.toLowerCase() === role.value.toLowerCase());
}

/**
 * Whether the posture declares this app (MailApplications) with this mail permission: the app is
 * then governed by MAIL.APPS.1 to 3 (owner, scope, credentials) instead of being an unknown holder.
 */
export function declaresMailPermission(apps: ReadonlyArray<{ appId: string; permissions: { graph: readonly string[]; exchange: readonly string[] } }> | undefined, appId: unknown, role: MailApiRole | undefined): boolean {
  if (!apps || !role) return false;
  const app = apps.find((a) => a.appId.toLowerCase() === String(appId ?? '').toLowerCase());
  return !!app && app.permissions[role.api].some((p) => p.toLowerCase() === role.value.toLowerCase());
}
