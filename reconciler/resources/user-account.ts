import { P } from '../../policies/permissions.js';
import type { Connection } from '../input/connection.js';
import type { Write } from '../model/change.js';
import { isObj } from './compare.js';
import { graphEntity, readGraph } from './graph-entity.js';
import type { Inverse, RecordedChange, Respondable, ResourceType, ResponseTarget, ResponseWrite, Reversible, Writable } from './types.js';

/** What a write to the account changes, and so what is read before and after it: the password flags only for a password change. */
const selectFor = (body: Record<string, unknown> | undefined) => `?$select=id,userPrincipalName,accountEnabled${body && 'passwordProfile' in body ? ',passwordProfile' : ''}`;
const read = (conn: Connection, w: Write) => readGraph(conn, w.api === 'graph' ? `${w.path}${selectFor(w.body)}` : '');

const family = graphEntity({
  key: 'userAccount',
  title: 'user accounts',
  writes: [['PATCH', '/users/{id}']],
  writePermissions: [P.userWrite, P.userAdmin],
  writeFor: () => undefined,
});

/**
 * A user account, as respond changes it: disabled (accountEnabled false; a rollback enables it
 * again), or made to change its password at the next sign-in (passwordProfile; not undone: the
 * requirement is met by the next sign-in). Setting another user's passwordProfile needs a directory
 * role as well as User.ReadWrite.All.
 */
export const userAccount: ResourceType & Writable & Reversible & Respondable = {
  ...family,
  readTarget: read,
  readBack: async (conn, w) => ({ value: await read(conn, w) }),
  inverse(record: RecordedChange): Inverse | string | undefined {
    const body = record.write.api === 'graph' ? (record.write.body ?? {}) : {};
    if ('passwordProfile' in body) return 'a required password change is not undone: the next sign-in meets it';
    return family.inverse!(record);
  },
  responds: ['disableAccount', 'requirePasswordChange'],
  async respondWrites(action: string, target: ResponseTarget, conn: Connection): Promise<ResponseWrite[]> {
    const path = `/users/${encodeURIComponent(target.user.id)}`;
    const passwordChange = action === 'requirePasswordChange';
    const before = await readGraph(conn, `${path}${selectFor(passwordChange ? { passwordProfile: {} } : {})}`);
    if (!isObj(before)) return [];
    const resource = { type: 'userAccount', id: target.user.id, name: target.user.upn };
    if (!passwordChange) {
      if (before['accountEnabled'] === false) return [];
      return [{ resource, write: { api: 'graph', method: 'PATCH', path, body: { accountEnabled: false } }, before, action: 'update' }];
    }
    const profile = isObj(before['passwordProfile']) ? before['passwordProfile'] : {};
    if (profile['forceChangePasswordNextSignIn'] === true) return [];
    return [{ resource, write: { api: 'graph', method: 'PATCH', path, body: { passwordProfile: { forceChangePasswordNextSignIn: true } } }, before, action: 'update' }];
  },
};
