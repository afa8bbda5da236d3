import { P } from '../../policies/permissions.js';
import { graphAction } from './graph-action.js';
import { isObj } from './compare.js';
import { readGraph } from './graph-entity.js';

const userId = (path: string) => /^\/users\/([^/?]+)\//.exec(path)?.[1] ?? '';
const selectOf = (id: string) => `/users/${id}?$select=id,userPrincipalName,signInSessionsValidFromDateTime`;
const validFrom = (v: unknown) => (isObj(v) && typeof v['signInSessionsValidFromDateTime'] === 'string' ? v['signInSessionsValidFromDateTime'] : undefined);

/**
 * A user's sign-in sessions: revoking them (POST /users/{id}/revokeSignInSessions) ends every
 * refresh token and session cookie. It took when signInSessionsValidFromDateTime moved on.
 */
export const signInSessions = graphAction({
  key: 'signInSessions',
  title: 'sign-in sessions of users',
  writes: [['POST', '/users/{id}/revokeSignInSessions']],
  writePermissions: [P.revokeSessions],
  targetPath: (w) => selectOf(userId(w.path)),
  took(after, before) {
    const now = validFrom(after);
    if (!now) return 'signInSessionsValidFromDateTime cannot be read back';
    const then = validFrom(before);
    return then === undefined || Date.parse(now) > Date.parse(then) ? undefined : `signInSessionsValidFromDateTime is still ${now}`;
  },
  responds: ['revokeSessions'],
  async respondWrites(_action, target, conn) {
    const id = encodeURIComponent(target.user.id);
    const before = await readGraph(conn, selectOf(id));
    if (before === null) return [];
    return [{ resource: { type: 'signInSessions', id: target.user.id, name: target.user.upn }, write: { api: 'graph', method: 'POST', path: `/users/${id}/revokeSignInSessions` }, before, action: 'update' }];
  },
});
