import { graphWriteOf } from './graph-entity.js';
import { P } from '../../policies/permissions.js';
import type { Connection } from '../input/connection.js';
import type { Write } from '../model/change.js';
import { withoutAnnotations } from '../core/annotations.js';
import { isObj } from './compare.js';
import type { Inverse, Obj, RecordedChange, Respondable, ResourceType, ResponseTarget, ResponseWrite, Reversible, Writable } from './types.js';

type GraphWrite = Write & { api: 'graph' };
const graphOnly = (w: Write): GraphWrite => graphWriteOf(w, 'group memberships');
/** The group and member a membership write names: POST /groups/{g}/members/$ref with the member's @odata.id, or DELETE /groups/{g}/members/{m}/$ref. */
function parties(w: GraphWrite): { group: string; member: string } {
  const del = /^\/groups\/([^/]+)\/members\/([^/]+)\/\$ref$/.exec(w.path);
  if (del) return { group: decodeURIComponent(del[1]!), member: decodeURIComponent(del[2]!) };
  const add = /^\/groups\/([^/]+)\/members\/\$ref$/.exec(w.path);
  const ref = isObj(w.body) ? String(w.body['@odata.id'] ?? '') : '';
  return { group: decodeURIComponent(add?.[1] ?? ''), member: /\/directoryObjects\/([^/]+)$/.exec(ref)?.[1] ?? '' };
}

/** The member as the group lists it, or null when it is not one (every page is read). */
async function membership(conn: Connection, group: string, member: string): Promise<Obj | null> {
  const members = await conn.graph.list<Obj>(`/groups/${encodeURIComponent(group)}/members?$select=id,userPrincipalName`);
  const found = members.find((m) => String(m['id']).toLowerCase() === member.toLowerCase());
  return found ? (withoutAnnotations(found) as Obj) : null;
}

const add = (graphRoot: string, group: string, member: string): GraphWrite => ({
  api: 'graph',
  method: 'POST',
  path: `/groups/${encodeURIComponent(group)}/members/$ref`,
  body: { '@odata.id': `${graphRoot}/directoryObjects/${member}` },
});

/**
 * Membership of a group: respond puts a user on the watchlist (a group a conditional access policy
 * of the posture targets) by adding them; a rollback, or the end of the watch, removes them.
 */
export const groupMember: ResourceType & Writable & Reversible & Respondable = {
  key: 'groupMember',
  title: 'group memberships',
  writes: { graph: [['POST', '/groups/{id}/members/$ref'], ['DELETE', '/groups/{id}/members/{id}/$ref']] },
  writePermissions: [P.groupMemberWrite],
  writeFor: () => undefined,
  async readTarget(conn, w) {
    const p = parties(graphOnly(w));
    return membership(conn, p.group, p.member);
  },
  async readBack(conn, w) {
    const p = parties(graphOnly(w));
    return { value: await membership(conn, p.group, p.member) };
  },
  took(w, after) {
    const added = graphOnly(w).method === 'POST';
    if (added) return after !== null ? undefined : 'the user is not a member';
    return after === null ? undefined : 'the user is still a member';
  },
  effect: (w) => (graphOnly(w).method === 'POST' ? 'create' : 'delete'),
  targetKey(w) {
    const p = parties(graphOnly(w));
    return `graph group ${p.group.toLowerCase()} member ${p.member.toLowerCase()}`;
  },
  inverse(record: RecordedChange): Inverse | string | undefined {
    const w = graphOnly(record.write);
    const p = parties(w);
    if (w.method === 'POST') return { write: { api: 'graph', method: 'DELETE', path: `/groups/${encodeURIComponent(p.group)}/members/${encodeURIComponent(p.member)}/$ref` }, action: 'delete' };
    const ref = isObj(w.body) ? String(w.body['@odata.id'] ?? '') : '';
    return { write: add(ref.replace(/\/directoryObjects\/[^/]+$/, '') || 'https://graph.microsoft.com/v1.0', p.group, p.member), action: 'create' };
  },
  // `unwatch` is respond's own: the end of a watch the policy's watchlist.days set.
  responds: ['watchlist', 'unwatch'],
  async respondWrites(action: string, target: ResponseTarget, conn: Connection): Promise<ResponseWrite[]> {
    if (!target.watchlistGroupId) return [];
    const member = target.watchlistMembers ? (target.watchlistMembers.get(target.user.id.toLowerCase()) ?? null) : await membership(conn, target.watchlistGroupId, target.user.id);
    if (action === 'unwatch') {
      if (!member) return [];
      const path = `/groups/${encodeURIComponent(target.watchlistGroupId)}/members/${encodeURIComponent(target.user.id)}/$ref`;
      return [{ resource: { type: 'groupMember', id: target.user.id, name: `${target.user.upn} in the watchlist` }, write: { api: 'graph', method: 'DELETE', path }, before: member, action: 'delete' }];
    }
    if (member) return [];
    return [{ resource: { type: 'groupMember', id: target.user.id, name: `${target.user.upn} in the watchlist` }, write: add(conn.graph.url('').replace(/\/$/, ''), target.watchlistGroupId, target.user.id), before: null, action: 'create' }];
  },
};
