import { P } from '../../policies/permissions.js';
import type { Connection } from '../input/connection.js';
import type { Write } from '../model/change.js';
import { withoutAnnotations } from '../core/annotations.js';
import { graphWriteOf } from './graph-entity.js';
import type { Obj, Respondable, ResourceType, ResponseTarget, ResponseWrite, Writable } from './types.js';

/** The path segment of each deletable method type (`#microsoft.graph.<type>`): Graph deletes a method at its type's own collection. */
const PATHS: Readonly<Record<string, string>> = {
  microsoftAuthenticatorAuthenticationMethod: 'microsoftAuthenticatorMethods',
  phoneAuthenticationMethod: 'phoneMethods',
  fido2AuthenticationMethod: 'fido2Methods',
  softwareOathAuthenticationMethod: 'softwareOathMethods',
  emailAuthenticationMethod: 'emailMethods',
  windowsHelloForBusinessAuthenticationMethod: 'windowsHelloForBusinessMethods',
  temporaryAccessPassAuthenticationMethod: 'temporaryAccessPassMethods',
};
const SEGMENTS = new Set(Object.values(PATHS));

type GraphWrite = Write & { api: 'graph' };
const graphOnly = (w: Write): GraphWrite => graphWriteOf(w, 'authentication methods');
const parts = (w: GraphWrite) => {
  const m = /^\/users\/([^/]+)\/authentication\/([^/]+)\/([^/]+)$/.exec(w.path);
  return { user: decodeURIComponent(m?.[1] ?? ''), id: decodeURIComponent(m?.[3] ?? '') };
};
const listOf = async (conn: Connection, user: string) => (await conn.graph.list<Obj>(`/users/${encodeURIComponent(user)}/authentication/methods`)).map((m) => ({ type: String(m['@odata.type'] ?? '').replace(/^#microsoft\.graph\./, ''), method: withoutAnnotations(m) as Obj }));

/**
 * A user's registered authentication methods. For respond's requireMfaReregistration every method
 * but the password is deleted, so the user registers MFA again (and an attacker's authenticator is
 * gone). A deleted method cannot be registered back by anyone but the user: not reversible.
 */
export const authenticationMethod: ResourceType & Writable & Respondable = {
  key: 'authenticationMethod',
  title: 'authentication methods of users',
  writes: { graph: Object.values(PATHS).map((seg) => ['DELETE', `/users/{id}/authentication/${seg}/{id}`] as const) },
  writePermissions: [P.authMethodWrite],
  writeFor: () => undefined,
  async readTarget(conn, w) {
    const p = parts(graphOnly(w));
    return (await listOf(conn, p.user)).find((m) => String(m.method['id']) === p.id)?.method ?? null;
  },
  async readBack(conn, w) {
    return { value: await authenticationMethod.readTarget(conn, w) };
  },
  took: (_w, after) => (after === null ? undefined : 'the method is still registered'),
  effect: () => 'delete',
  targetKey: (w) => `graph ${graphOnly(w).path.toLowerCase()}`,
  responds: ['requireMfaReregistration'],
  async respondWrites(_action: string, target: ResponseTarget, conn: Connection): Promise<ResponseWrite[]> {
    const user = encodeURIComponent(target.user.id);
    return (await listOf(conn, target.user.id))
      .filter((m) => SEGMENTS.has(PATHS[m.type] ?? ''))
      .map((m) => ({
        resource: { type: 'authenticationMethod', id: String(m.method['id']), name: `${target.user.upn}: ${m.type.replace(/AuthenticationMethod$/, '')}${typeof m.method['displayName'] === 'string' ? ` "${m.method['displayName']}"` : ''}` },
        write: { api: 'graph', method: 'DELETE', path: `/users/${user}/authentication/${PATHS[m.type]!}/${encodeURIComponent(String(m.method['id']))}` },
        before: m.method,
        action: 'delete',
      }));
  },
};
