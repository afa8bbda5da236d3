import { MAIL_API_APP_IDS } from '../../policies/catalogue.js';
import { P } from '../../policies/permissions.js';
import type { AppPermissions, Section } from '../model/live.js';
import { readFailed } from '../read/failed.js';
import { graphEntity } from './graph-entity.js';
import type { Obj, ReadContext } from './types.js';

const now = () => new Date().toISOString();
const ENDPOINT = '/servicePrincipals/{id}/appRoleAssignedTo';

/**
 * Application permissions to the mail APIs: an app role of Microsoft Graph or Exchange Online
 * assigned to an app. Deleted when a non-Microsoft app holds a high-risk one. Irreversible by
 * construction: granting an application permission again is an admin's decision, never a rollback's.
 */
export const appRoleAssignment = graphEntity({
  key: 'appRoleAssignment',
  title: 'application permissions to the mail APIs',
  read: { section: 'appPermissions', how: { kind: 'custom', endpoint: ENDPOINT, run: (ctx) => readAppPermissions(ctx) }, permissions: [P.applicationRead] },
  writes: [['DELETE', '/servicePrincipals/{id}/appRoleAssignedTo/{id}']],
  writePermissions: [P.appRoleAssignmentWrite],
  writeFor: (f) => {
    const resourceId = (f.evidence.live as Obj | null)?.['resourceId'];
    return typeof resourceId === 'string' ? { api: 'graph', method: 'DELETE', path: `/servicePrincipals/${encodeURIComponent(resourceId)}/appRoleAssignedTo/${encodeURIComponent(String(f.resource.id))}` } : undefined;
  },
  reversible: false,
});

/**
 * The application permissions granted for the mail APIs (Microsoft Graph, Office 365 Exchange
 * Online): each API's service principal with its app roles, and every app role assignment for it.
 */
async function readAppPermissions(ctx: ReadContext): Promise<Section<AppPermissions>> {
  const endpoint = ENDPOINT;
  try {
    const resources: Obj[] = [];
    const assignments: Obj[] = [];
    for (const appId of MAIL_API_APP_IDS) {
      const found = await ctx.graph.list<Obj>(`/servicePrincipals?$filter=${encodeURIComponent(`appId eq '${appId}'`)}&$select=id,appId,displayName,appRoles`);
      for (const sp of found) {
        resources.push(sp);
        assignments.push(...(await ctx.graph.list<Obj>(`/servicePrincipals/${encodeURIComponent(String(sp['id']))}/appRoleAssignedTo?$top=999`)));
      }
    }
    return { ok: true, value: { resources, assignments }, endpoint, readAt: now() };
  } catch (err) {
    return readFailed(endpoint, err, appRoleAssignment.read!);
  }
}
