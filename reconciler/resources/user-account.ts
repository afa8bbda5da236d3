import { P } from '../../policies/permissions.js';
import type { Connection } from '../input/connection.js';
import type { Write } from '../model/change.js';
import { isObj } from './compare.js';
import { graphEntity, readGraph } from './graph-entity.js';
import type { Inverse, RecordedChange, Respondable, ResourceType, ResponseTarget, ResponseWrite, Reversible, Writable } from './types.js';

const SELECT = '?$select=id,userPrincipalName,accountEnabled,passwordProfile';
const read = (conn: Connection, w: Write) => readGraph(conn, `${w.api === 'graph' ? w.path : ''}${SELECT}`);

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
    const before = await readGraph(conn, `${path}${SELECT}`);
    if (!isObj(before)) return [];
    const resource = { type: 'userAccount', id: target.user.id, name: target.user.upn };
    if (action === 'disableAccount') {
      if (before['accountEnabled'] === false) return [];
      return [{ resource, write: { api: 'graph', method: 'PATCH', path, body: { accountEnabled: false } }, before, action: 'update' }];
    }
    const profile = isObj(before['passwordProfile']) ? before['passwordProfile'] : {};
    if (profile['forceChangePasswordNextSignIn'] === true) return [];
    return [{ resource, write: { api: 'graph', method: 'PATCH', path, body: { passwordProfile: { forceChangePasswordNextSignIn: true } } }, before, action: 'update' }];
  },
};
