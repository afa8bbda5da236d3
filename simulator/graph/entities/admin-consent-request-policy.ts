import { z } from 'zod';
import { badRequest, type SimResponse } from '../../http/errors.js';
import { ctxUrl, graphEntity, obj, slot, type RouteContext } from '../entity.js';

declare module '../../tenant/tenant.js' {
  interface GraphScenarioState {
    adminConsentRequestPolicy: Record<string, unknown>;
  }
  interface TenantSlots {
    /** The tenant's one adminConsentRequestPolicy (the admin consent workflow). */
    adminConsentRequestPolicy: Record<string, unknown>;
  }
}

function putAdminConsentRequestPolicy(c: RouteContext): SimResponse {
  const body = obj(c.body);
  const allowed = ['isEnabled', 'notifyReviewers', 'remindersEnabled', 'requestDurationInDays', 'reviewers'];
  for (const k of Object.keys(body)) if (!allowed.includes(k)) throw badRequest(`Property '${k}' does not exist on type 'microsoft.graph.adminConsentRequestPolicy' or is not writable.`);
  for (const k of ['isEnabled', 'notifyReviewers', 'remindersEnabled']) {
    if (typeof body[k] !== 'boolean') throw badRequest(`Required property '${k}' is missing or not a boolean.`);
  }
  const reviewers = body['reviewers'] ?? [];
  if (!Array.isArray(reviewers)) throw badRequest("'reviewers' must be a collection.");
  for (const r of reviewers as Record<string, unknown>[]) {
    if (typeof r?.['query'] !== 'string' || r['queryType'] !== 'MicrosoftGraph') throw badRequest("Each reviewer needs a 'query' and queryType 'MicrosoftGraph'.");
    const m = /^(?:\/(?:v1\.0|beta))?\/(users|groups)\/([^/]+)/.exec(r['query']);
    if (!m || !c.tenant.graph[m[1] as 'users' | 'groups'].get(m[2]!)) throw badRequest(`Reviewer query '${r['query']}' does not resolve to a user or group.`);
  }
  const days = body['requestDurationInDays'];
  if (body['isEnabled'] === true) {
    if (reviewers.length === 0) throw badRequest('At least one reviewer is required when the admin consent workflow is enabled.');
    if (typeof days !== 'number' || !Number.isInteger(days) || days < 1 || days > 30) throw badRequest("'requestDurationInDays' must be between 1 and 30.");
  }
  const version = Number(c.tenant.adminConsentRequestPolicy['version'] ?? 0) + 1;
  c.tenant.adminConsentRequestPolicy = {
    isEnabled: body['isEnabled'],
    notifyReviewers: body['notifyReviewers'],
    remindersEnabled: body['remindersEnabled'],
    requestDurationInDays: typeof days === 'number' ? days : 0,
    version,
    reviewers: (reviewers as Record<string, unknown>[]).map((r) => ({ query: r['query'], queryType: r['queryType'], queryRoot: r['queryRoot'] ?? null })),
  };
  return { status: 204 };
}

/** The admin consent request policy: whether users can ask an admin for the consent they cannot give, and who reviews. */
export const adminConsentRequestPolicy = graphEntity({
  name: 'adminConsentRequestPolicy',
  state: slot({
    key: 'adminConsentRequestPolicy',
    schema: z.record(z.string(), z.unknown()),
    property: 'adminConsentRequestPolicy',
    init: (value) => value,
  }),
  throttle: 'identity',
  permissions: {
    read: ['Policy.Read.All', 'Policy.ReadWrite.ConsentRequest'],
    write: ['Policy.ReadWrite.ConsentRequest'],
  },
  routes: [
    {
      method: 'GET', pattern: '/policies/adminConsentRequestPolicy', permission: 'read', cost: 1,
      handle: (c) => ({ status: 200, body: { '@odata.context': ctxUrl(c, 'policies/adminConsentRequestPolicy/$entity'), ...c.tenant.adminConsentRequestPolicy } }),
    },
    { method: 'PUT', pattern: '/policies/adminConsentRequestPolicy', permission: 'write', cost: 3, handle: putAdminConsentRequestPolicy },
  ],
});
