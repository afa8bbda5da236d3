import { P } from '../../policies/permissions.js';
import { differs } from './compare.js';
import { graphEntity, graphRead } from './graph-entity.js';

type Obj = Record<string, unknown>;

/**
 * The user or group a reviewer query names. The portal and older clients write the query with the
 * API version (`/v1.0/users/{id}`), the API itself with none (`/users/{id}`); both name the same reviewer.
 */
export function reviewerTarget(query: string): { kind: 'users' | 'groups'; id: string } | undefined {
  const m = /^(?:https:\/\/[^/]+)?(?:\/(?:v1\.0|beta))?\/(users|groups)\/([^/?#]+)/i.exec(query.trim());
  return m ? { kind: m[1]!.toLowerCase() as 'users' | 'groups', id: decodeURIComponent(m[2]!) } : undefined;
}

/** The reviewers a list of reviewer scopes names, as `users/<id>` keys: the query's API version is not part of who reviews. */
const reviewersOf = (list: unknown) =>
  (Array.isArray(list) ? (list as Obj[]) : []).map((r) => {
    const t = reviewerTarget(String(r?.['query'] ?? ''));
    return t ? `${t.kind}/${t.id.toLowerCase()}` : String(r?.['query'] ?? '');
  }).sort();

/** The admin consent workflow: who reviews requests for apps users may not consent to themselves. */
export const adminConsentRequestPolicy = graphEntity({
  key: 'adminConsentRequestPolicy',
  title: 'the admin consent request policy',
  read: graphRead('adminConsentRequestPolicy', 'graph-get', '/policies/adminConsentRequestPolicy', [P.policyRead]),
  writes: [['PUT', '/policies/adminConsentRequestPolicy']],
  writePermissions: [P.policyWriteConsentRequest],
  writeFor: (_f, { manifest, dir }) => {
    const w = manifest.desired.consent!.adminConsentWorkflow;
    const reviewers = w.reviewers.map((ref) => {
      if (ref.startsWith('user:')) return { query: `/users/${String(dir.userByUpn(ref.slice(5))?.['id'] ?? ref)}`, queryType: 'MicrosoftGraph', queryRoot: null };
      return { query: `/groups/${String(dir.groupByName(ref.slice(6))?.['id'] ?? ref)}/transitiveMembers/microsoft.graph.user`, queryType: 'MicrosoftGraph', queryRoot: null };
    });
    return { api: 'graph', method: 'PUT', path: '/policies/adminConsentRequestPolicy', body: { isEnabled: true, notifyReviewers: w.notifyReviewers, remindersEnabled: w.remindersEnabled, requestDurationInDays: w.requestDurationInDays, reviewers } };
  },
  // Every value written reads back; reviewers are the same users and groups, however the service writes their queries.
  took: (w, after) => {
    const { reviewers, ...rest } = w.body ?? {};
    const other = differs(rest, after);
    if (other) return other;
    return reviewersOf(reviewers).join() === reviewersOf(after['reviewers']).join() ? undefined : `reviewers are ${JSON.stringify(reviewersOf(after['reviewers']))}`;
  },
});
