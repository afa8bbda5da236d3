import { P } from '../../policies/permissions.js';
import { graphAction } from './graph-action.js';
import { isObj } from './compare.js';
import { readGraph } from './graph-entity.js';

const subject = (body: unknown) => (isObj(body) && Array.isArray(body['userIds']) && body['userIds'].length === 1 ? String(body['userIds'][0]) : '');
const riskyPath = (id: string) => `/identityProtection/riskyUsers/${encodeURIComponent(id)}`;
const CONFIRMED = 'confirmedcompromised';

/**
 * Identity Protection's risky users: confirming one compromised sets its user risk high, so the
 * posture's risk-based conditional access forces the password change (Entra ID P2). One user per
 * write, so each is verified and recorded on its own.
 */
export const riskyUser = graphAction({
  key: 'riskyUser',
  title: 'risky users (Identity Protection)',
  writes: [['POST', '/identityProtection/riskyUsers/confirmCompromised']],
  writePermissions: [P.riskyUserWrite],
  targetPath: (w) => riskyPath(subject(w.body)),
  took: (after) => (isObj(after) && String(after['riskState']).toLowerCase() === CONFIRMED ? undefined : `riskState is ${isObj(after) ? String(after['riskState']) : 'not readable'}`),
  responds: ['confirmCompromised'],
  async respondWrites(_action, target, conn) {
    const before = await readGraph(conn, riskyPath(target.user.id));
    if (isObj(before) && String(before['riskState']).toLowerCase() === CONFIRMED) return [];
    return [{ resource: { type: 'riskyUser', id: target.user.id, name: target.user.upn }, write: { api: 'graph', method: 'POST', path: '/identityProtection/riskyUsers/confirmCompromised', body: { userIds: [target.user.id] } }, before, action: 'update' }];
  },
});
