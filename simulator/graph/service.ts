import { graphError, HttpError, type SimResponse } from '../http/errors.js';
import type { FaultRule, Faults } from '../http/faults.js';
import type { Throttler } from '../http/limits.js';
import { checkBearer, GRAPH_AUDIENCE, type TokenClaims, type TokenTrust } from '../http/token.js';
import type { Licence, Tenant } from '../tenant/tenant.js';
import { matchRoute } from './routes.js';

export interface GraphService {
  readonly tenant: Tenant;
  readonly faults: Faults;
  readonly throttler: Throttler;
  /** e.g. http://127.0.0.1:4321 */
  baseUrl: string;
  /** The identity endpoint's signing keys, when it runs. */
  trust?: TokenTrust;
}

/** What to do with a request: answer it, or break the connection in one of the ways a fault asks. */
export type { Outcome } from '../http/server.js';
import type { Outcome } from '../http/server.js';

const answer = (response: SimResponse): Outcome => ({ kind: 'answer', response });

/** Checks the bearer token of an HTTP request; a 401 outcome when it does not pass. */
export function authenticate(svc: GraphService, authorization: string | undefined): { claims: TokenClaims } | { outcome: Outcome } {
  const check = checkBearer(authorization, GRAPH_AUDIENCE, svc.tenant.id, Date.now(), svc.trust);
  if (!check.ok) {
    const message = {
      missing: 'Access token is empty.',
      malformed: 'IDX14100: JWT is not well formed.',
      signature: 'IDX10511: Signature validation failed.',
      expired: 'Lifetime validation failed, the token is expired.',
      audience: 'Invalid audience.',
      tenant: 'Access token tenant does not match the tenant of the request.',
    }[check.reason];
    return { outcome: answer(graphError(401, 'InvalidAuthenticationToken', message, { 'WWW-Authenticate': 'Bearer realm="", error="invalid_token"' })) };
  }
  if (!svc.faults.acceptToken(check.claims.uti)) {
    return { outcome: answer(graphError(401, 'InvalidAuthenticationToken', 'Lifetime validation failed, the token is expired.')) };
  }
  return { claims: check.claims };
}

function faultResponse(rule: FaultRule): SimResponse {
  if (rule.kind === 'throttle') return graphError(429, 'TooManyRequests', 'Too many requests.', { 'Retry-After': String(rule.retryAfter ?? 1) });
  const status = rule.status ?? 503;
  return graphError(status, status === 500 ? 'InternalServerError' : 'ServiceUnavailable', 'The service is temporarily unavailable. Please retry later.');
}

/**
 * Serves one Graph request (or one $batch item, with `inBatch`): faults, the per-app limit, routing,
 * the permission check, the route's throttling class, then the handler.
 */
export async function serveGraph(
  svc: GraphService,
  req: { method: string; url: URL; body: unknown; claims: TokenClaims; inBatch?: boolean; authorization?: string },
): Promise<Outcome> {
  const m = /^\/(v1\.0|beta)(\/.*)?$/i.exec(req.url.pathname);
  if (!m) return answer(graphError(400, 'BadRequest', `Invalid version: ${req.url.pathname.split('/')[1] ?? ''}`));
  const version = m[1]!.toLowerCase() === 'beta' ? 'beta' : 'v1.0';
  const path = m[2] ?? '/';

  // Faults that break the connection apply to whole HTTP requests, not to $batch items.
  let loopNextLink = false;
  const fault = svc.faults.take('graph', req.method, req.url.pathname);
  switch (fault?.kind) {
    case 'loop-next-link':
      loopNextLink = true;
      break;
    case 'status':
    case 'throttle':
      await svc.throttler.latency();
      return answer(faultResponse(fault));
    case 'body':
      await svc.throttler.latency();
      return answer({ status: 200, body: 'body' in fault ? fault.body : null });
    case 'reset':
      if (!req.inBatch) return { kind: 'reset' };
      break;
    case 'drop':
      if (!req.inBatch) {
        await run();
        return { kind: 'reset' };
      }
      break;
    case 'slow':
      if (!req.inBatch) return { kind: 'slow', delayMs: fault.delayMs ?? 60_000, response: await run() };
      break;
    case 'hold':
      if (!req.inBatch) {
        const response = await run();
        await svc.faults.hold();
        return answer(response);
      }
      break;
    case 'truncate':
      if (!req.inBatch) return { kind: 'truncate', response: await run() };
      break;
    case 'redirect':
      return answer({ status: fault.status ?? 302, headers: { Location: fault.url ?? '/' } });
    case 'echo-token':
      return answer(graphError(fault.status ?? 400, 'BadRequest', `Invalid request: the header 'Authorization: ${req.authorization ?? ''}' could not be processed.`));
    case 'foreign-next-link': {
      const response = await run();
      const body = response.body as Record<string, unknown> | undefined;
      if (response.status === 200 && body && Array.isArray(body['value'])) body['@odata.nextLink'] = fault.url;
      return answer(response);
    }
  }

  const admitted = req.inBatch ? { ok: true as const } : svc.throttler.admitApp(req.claims.appid);
  if (!admitted.ok) return answer(throttled(admitted.retryAfterSeconds));
  return answer(await run());

  async function run(): Promise<SimResponse> {
    const match = matchRoute(req.method, path);
    if ('error' in match) {
      if (match.error === 'method') return graphError(405, 'Request_BadRequest', `The HTTP method '${req.method}' is not allowed for this resource.`);
      const segment = path.split('/').filter(Boolean).pop() ?? '';
      return graphError(400, 'BadRequest', `Resource not found for the segment '${segment}'.`);
    }
    const { route, params } = match;
    if (!route.permissions.some((p) => req.claims.roles.includes(p))) {
      return graphError(403, 'Authorization_RequestDenied', 'Insufficient privileges to complete the operation.');
    }
    if (route.licence && !svc.tenant.licences.has(route.licence)) {
      const refusal = LICENCE_REFUSAL[route.licence];
      return graphError(403, refusal.code, refusal.message);
    }
    svc.tenant.timeline.release(svc.tenant.clock.now(), svc.tenant.graph);
    const selectDiscount = req.url.searchParams.has('$select') ? 1 : 0;
    const cost = Math.max(1, (route.cost ?? 1) - selectDiscount);
    const admission =
      route.throttle === 'conditional-access'
        ? svc.throttler.admitConditionalAccess()
        : route.throttle === 'identity'
          ? svc.throttler.admitIdentity(req.claims.appid, cost)
          : route.throttle === 'security'
            ? svc.throttler.admitSecurity(req.claims.appid)
            : route.throttle === 'message-trace'
              ? svc.throttler.admitMessageTrace(req.claims.appid)
              : svc.throttler.admitMailbox(params['user'] ?? '');
    if (!admission.ok) return throttled(admission.retryAfterSeconds);
    const release = admission.release;
    try {
      await svc.throttler.latency();
      const response = route.handle({
        tenant: svc.tenant,
        params,
        query: req.url.searchParams,
        body: req.body,
        version,
        requestUrl: req.url,
        baseUrl: svc.baseUrl,
        loopNextLink,
        wids: req.claims.wids,
      });
      if (route.throttle === 'identity') response.headers = { ...response.headers, 'x-ms-resource-unit': String(cost) };
      return response;
    } catch (err) {
      if (err instanceof HttpError) return err.response;
      throw err;
    } finally {
      release?.();
    }
  }
}

/** How Graph refuses a feature the tenant holds no licence for. */
const LICENCE_REFUSAL: Record<Licence, { code: string; message: string }> = {
  AAD_PREMIUM: { code: 'Authentication_RequestFromNonPremiumTenantOrB2CTenant', message: "Neither tenant is B2C or tenant doesn't have premium license" },
  AAD_PREMIUM_P2: { code: 'Authentication_RequestFromNonPremiumTenantOrB2CTenant', message: "Neither tenant is B2C or tenant doesn't have premium license" },
  ATP_ENTERPRISE: { code: 'Forbidden', message: 'The tenant does not have a Microsoft Defender license that includes the security API.' },
};

function throttled(retryAfterSeconds: number | undefined): SimResponse {
  return graphError(
    429,
    'TooManyRequests',
    'Too many requests. Please retry later.',
    retryAfterSeconds === undefined ? {} : { 'Retry-After': String(retryAfterSeconds) },
  );
}
