import { P } from '../../policies/permissions.js';
import { graphEntity, graphRead } from './graph-entity.js';

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
});
