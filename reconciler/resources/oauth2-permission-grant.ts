import { P } from '../../policies/permissions.js';
import { graphEntity, graphRead } from './graph-entity.js';
import type { Connection } from '../input/connection.js';
import { withoutAnnotations } from '../core/annotations.js';
import type { Obj, Respondable, ResponseTarget, ResponseWrite } from './types.js';

const same = (x: unknown, y: unknown) => String(x ?? '').toLowerCase() === String(y ?? '').toLowerCase();

/** Delegated permission grants: a user's (or every user's) consent to an app. Deleted when they give a mail scope away; a rollback grants again. */
const grantFamily = graphEntity({
  key: 'oauth2PermissionGrant',
  title: 'delegated permission grants',
  read: { ...graphRead('grants', 'graph-list', '/oauth2PermissionGrants?$top=999', [P.grantRead]), incremental: { kind: 'graph-delta', path: '/oauth2PermissionGrants/delta' } },
  writes: [
    ['POST', '/oauth2PermissionGrants'],
    ['DELETE', '/oauth2PermissionGrants/{id}'],
  ],
  writePermissions: [P.grantWrite],
  writeFor: (f) => ({ api: 'graph', method: 'DELETE', path: `/oauth2PermissionGrants/${encodeURIComponent(String(f.resource.id))}` }),
  // The grant that already gives the same app the same resource for the same principal.
  findCreated: async (conn, w) => {
    const b = w.body ?? {};
    const grants = await conn.graph.list<Obj>(`/oauth2PermissionGrants?$filter=${encodeURIComponent(`clientId eq '${String(b['clientId'])}'`)}`);
    return grants.filter((g) => same(g['resourceId'], b['resourceId']) && same(g['consentType'], b['consentType']) && same(g['principalId'], b['principalId']));
  },
  recreate: (before) => {
    const grant: Obj = { clientId: before['clientId'], consentType: before['consentType'], resourceId: before['resourceId'], scope: before['scope'] };
    if (before['consentType'] === 'Principal') grant['principalId'] = before['principalId'];
    return { api: 'graph', method: 'POST', path: '/oauth2PermissionGrants', body: grant };
  },
});

/**
 * Delegated permission grants. For `posture respond`'s revokeConsents: the user's own grants that
 * hold a high-risk mail scope are deleted (a rollback grants them again).
 */
export const oauth2PermissionGrant: typeof grantFamily & Respondable = {
  ...grantFamily,
  responds: ['revokeConsents'],
  async respondWrites(_action: string, target: ResponseTarget, conn: Connection): Promise<ResponseWrite[]> {
    const risky = new Set(target.riskyScopes.map((s) => s.toLowerCase()));
    const grants = await conn.graph.list<Obj>(`/oauth2PermissionGrants?$filter=${encodeURIComponent(`principalId eq '${target.user.id.replace(/'/g, "''")}'`)}`);
    return grants
      .map((g) => withoutAnnotations(g) as Obj)
      .filter((g) => String(g['consentType']) === 'Principal' && same(g['principalId'], target.user.id) && String(g['scope'] ?? '').split(/\s+/).some((s) => risky.has(s.toLowerCase())))
      .map((g) => ({
        resource: { type: 'oauth2PermissionGrant', id: String(g['id']), name: `${String(g['scope'] ?? '').trim()} ← ${target.user.upn}` },
        write: { api: 'graph', method: 'DELETE', path: `/oauth2PermissionGrants/${encodeURIComponent(String(g['id']))}` },
        before: g,
        action: 'delete',
      }));
  },
};
