import { MICROSOFT_TENANT_IDS } from '../../policies/catalogue.js';
import { P } from '../../policies/permissions.js';
import type { Section } from '../model/live.js';
import { readFailed } from '../read/failed.js';
import { isMailAppPermission, mailRoles } from '../checks/mail-app-permissions.js';
import type { Obj, ReadContext, ResourceType } from './types.js';

const now = () => new Date().toISOString();
const ENDPOINT = '/servicePrincipals/{id}/owners';

/**
 * The owners of the apps that hold a mail application permission, as Graph lists them
 * (/servicePrincipals/{id}/owners), by service principal id (lower case). Read after the
 * application permissions, only for the few apps that hold a mail one. Read-only.
 */
export const servicePrincipalOwner: ResourceType = {
  key: 'servicePrincipalOwner',
  title: 'owners of the apps with mail permissions',
  read: {
    section: 'mailAppOwners',
    how: { kind: 'custom', endpoint: ENDPOINT, run: (ctx, live) => readOwners(ctx, live.appPermissions?.ok ? live.appPermissions.value : undefined, live.servicePrincipals?.ok ? live.servicePrincipals.value : []) },
    permissions: [P.applicationRead],
    after: ['appRoleAssignment', 'servicePrincipal'],
    // Without the permissions there is nothing to name owners for; the failed read is already reported.
    when: (live) => !!live.appPermissions?.ok,
  },
};

async function readOwners(ctx: ReadContext, perms: { resources: readonly Obj[]; assignments: readonly Obj[] } | undefined, sps: readonly Obj[]): Promise<Section<Record<string, Obj[]>>> {
  try {
    const roles = mailRoles(perms?.resources ?? []);
    const microsoft = new Set(sps.filter((s) => MICROSOFT_TENANT_IDS.includes(String(s['appOwnerOrganizationId'] ?? '').toLowerCase())).map((s) => String(s['id']).toLowerCase()));
    const holders = [
      ...new Set(
        (perms?.assignments ?? [])
          .filter((a) => String(a['principalType']) === 'ServicePrincipal' && isMailAppPermission(roles.get(String(a['appRoleId']).toLowerCase())))
          .map((a) => String(a['principalId']).toLowerCase())
          .filter((id) => !microsoft.has(id)),
      ),
    ].sort();
    const owners: Record<string, Obj[]> = {};
    await Promise.all(
      holders.map(async (id) => {
        owners[id] = await ctx.graph.list<Obj>(`/servicePrincipals/${encodeURIComponent(id)}/owners?$select=id,displayName,userPrincipalName,mail,appId&$top=999`);
      }),
    );
    return { ok: true, value: owners, endpoint: ENDPOINT, readAt: now() };
  } catch (err) {
    return readFailed(ENDPOINT, err, servicePrincipalOwner.read!);
  }
}
