import { randomUUID } from 'node:crypto';
import type { SimResponse } from '../http/errors.js';
import type { Faults } from '../http/faults.js';
import type { Throttler } from '../http/limits.js';
import type { HttpRequest, Outcome } from '../http/server.js';
import { checkBearer, EXCHANGE_AUDIENCE, ROLE_IDS, type TokenTrust } from '../http/token.js';
import type { Entity } from '../tenant/collection.js';
import type { Tenant } from '../tenant/tenant.js';
import { bindParameters, CMDLETS, CmdletError } from './cmdlets.js';
import type { Positions } from './object.js';

export interface ExchangeService {
  readonly tenant: Tenant;
  readonly faults: Faults;
  readonly throttler: Throttler;
  baseUrl: string;
  /** The identity endpoint's signing keys, when it runs. */
  trust?: TokenTrust;
}

const DEFAULT_PAGE = 1000;
const READ_ROLES: readonly string[] = [ROLE_IDS.globalReader, ROLE_IDS.exchangeAdministrator, ROLE_IDS.globalAdministrator];
const WRITE_ROLES: readonly string[] = [ROLE_IDS.exchangeAdministrator, ROLE_IDS.globalAdministrator];

/** Exchange Online's REST error shape: the .NET exception type travels in the message, as `|Type|Text`. */
export function exchangeError(status: number, type: string, message: string, headers: Record<string, string> = {}): SimResponse {
  const code = status === 401 ? 'Unauthorized' : status === 403 ? 'Forbidden' : status === 404 ? 'NotFound' : status === 429 ? 'TooManyRequests' : status >= 500 ? 'InternalServerError' : 'BadRequest';
  return {
    status,
    headers,
    body: {
      error: {
        code,
        message: `|${type}|${message}`,
        details: [{ code: 'Context', target: '', message: `Ex${randomUUID().slice(0, 6).toUpperCase()}|${message}` }],
        innererror: { message, type, '@Microsoft.PowerShell.Cmdlets.Error': 'true', 'request-id': randomUUID() },
      },
    },
  };
}

const answer = (response: SimResponse): Outcome => ({ kind: 'answer', response });

/**
 * POST /adminapi/beta/{tenantId}/InvokeCommand with {CmdletInput:{CmdletName, Parameters}}. Results
 * come as {value:[...]}; a long result is paged with an @odata.nextLink that the client POSTs with
 * the same body, honouring `Prefer: odata.maxpagesize`.
 */
export async function serveExchange(svc: ExchangeService, req: HttpRequest): Promise<Outcome> {
  const m = /^\/adminapi\/beta\/([^/]+)\/InvokeCommand\/?$/i.exec(req.url.pathname);
  if (!m) return answer(exchangeError(404, 'System.Web.HttpException', `The resource '${req.url.pathname}' was not found.`));
  if (req.method !== 'POST') return answer(exchangeError(405, 'System.Web.HttpException', `The HTTP method '${req.method}' is not allowed; InvokeCommand takes POST.`));
  if (m[1]!.toLowerCase() !== svc.tenant.id.toLowerCase() && m[1]!.toLowerCase() !== svc.tenant.initialDomain.toLowerCase()) {
    return answer(exchangeError(404, 'Microsoft.Exchange.Configuration.Tasks.ManagementObjectNotFoundException', `The tenant '${m[1]}' was not found.`));
  }
  const auth = checkBearer(req.headers.authorization, EXCHANGE_AUDIENCE, svc.tenant.id, Date.now(), svc.trust);
  if (!auth.ok || !svc.faults.acceptToken(auth.claims.uti)) {
    const reason = auth.ok ? 'expired' : auth.reason;
    return answer(exchangeError(401, 'System.UnauthorizedAccessException', reason === 'expired' ? 'The access token has expired.' : `The access token is ${reason === 'missing' ? 'missing' : 'invalid'}.`, { 'WWW-Authenticate': 'Bearer' }));
  }
  if (!auth.claims.roles.includes('Exchange.ManageAsApp')) {
    return answer(exchangeError(403, 'System.UnauthorizedAccessException', 'The application does not have the Exchange.ManageAsApp permission.'));
  }

  const input = (req.body as { CmdletInput?: { CmdletName?: unknown; Parameters?: unknown } } | undefined)?.CmdletInput;
  if (!input || typeof input.CmdletName !== 'string') {
    return answer(exchangeError(400, 'System.ArgumentException', "The request body must be {\"CmdletInput\":{\"CmdletName\":\"...\",\"Parameters\":{...}}}."));
  }
  const name = input.CmdletName;

  const fault = svc.faults.take('exchange', 'POST', name);
  let loop = false;
  switch (fault?.kind) {
    case 'status':
      await svc.throttler.latency();
      return answer(exchangeError(fault.status ?? 503, 'System.Web.HttpException', 'The service is temporarily unavailable.'));
    case 'throttle':
      await svc.throttler.latency();
      return answer(exchangeError(429, 'Microsoft.Exchange.Data.Storage.ThrottlingException', 'Too many concurrent requests.', { 'Retry-After': String(fault.retryAfter ?? 1) }));
    case 'reset':
      return { kind: 'reset' };
    case 'loop-next-link':
      loop = true;
      break;
    case 'redirect':
      return answer({ status: fault.status ?? 302, headers: { Location: fault.url ?? '/' } });
    case 'echo-token':
      return answer(exchangeError(fault.status ?? 400, 'System.ArgumentException', `The request could not be processed with the header 'Authorization: ${req.headers.authorization ?? ''}'.`));
  }

  const cmdlet = CMDLETS.get(name.toLowerCase());
  let response: SimResponse;
  if (!cmdlet) {
    response = exchangeError(400, 'System.Management.Automation.CommandNotFoundException', `The term '${name}' is not recognized as a name of a cmdlet, function, script file, or executable program.`);
  } else if (!(cmdlet.writes ? WRITE_ROLES : READ_ROLES).some((r) => auth.claims.wids.includes(r))) {
    response = exchangeError(403, 'Microsoft.Exchange.Configuration.Tasks.CmdletAccessDeniedException', `The user or application isn't assigned a role that allows '${cmdlet.name}'.`);
  } else {
    const admitted = svc.throttler.admitApp(`exo:${auth.claims.appid}`);
    if (!admitted.ok) {
      response = exchangeError(429, 'Microsoft.Exchange.Data.Storage.ThrottlingException', 'Too many requests.', { 'Retry-After': String(admitted.retryAfterSeconds ?? 1) });
    } else {
      await svc.throttler.latency();
      response = invoke();
    }
  }
  if (fault?.kind === 'drop') return { kind: 'reset' };
  if (fault?.kind === 'hold') await svc.faults.hold();
  if (fault?.kind === 'slow') return { kind: 'slow', delayMs: fault.delayMs ?? 60_000, response };
  if (fault?.kind === 'truncate') return { kind: 'truncate', response };
  if (fault?.kind === 'foreign-next-link' && response.status === 200 && response.body && typeof response.body === 'object') {
    (response.body as Record<string, unknown>)['@odata.nextLink'] = fault.url;
  }
  return answer(response);

  function invoke(): SimResponse {
    const prefer = /odata\.maxpagesize=(\d+)/i.exec(String(req.headers.prefer ?? ''));
    const pageSize = Math.max(1, Math.min(DEFAULT_PAGE, prefer ? Number(prefer[1]) : DEFAULT_PAGE));
    let start = 0;
    let cursor: string | undefined;
    const token = req.url.searchParams.get('$skiptoken');
    if (token !== null) {
      const [at, id] = Buffer.from(token, 'base64url').toString('utf8').split(':');
      start = Number(at);
      cursor = id;
      if (!Number.isInteger(start) || start < 0) return exchangeError(400, 'System.ArgumentException', 'The $skiptoken is invalid.');
    }
    // A continuation reads on from the position the page before stopped at, in the results the
    // first page was cut from, as a server-side cursor does. A long list (every object of a
    // collection) is read by position: each page costs its own size, an object removed before its
    // page is read is not listed, one changed is listed as it is then, and one added is listed at
    // the end. A short result (a cmdlet without positions) is held as the first page computed it.
    // A cursor that has expired (or a body that is not the same cmdlet) is opened again.
    const key = JSON.stringify(input);
    const held = cursor !== undefined ? cursorsOf(svc).get(cursor) : undefined;
    let results: Positions;
    if (held && held.key === key) results = held.results;
    else {
      try {
        const params = bindParameters(cmdlet!, input!.Parameters);
        results = cmdlet!.positions?.(svc.tenant, params) ?? inOrder(cmdlet!.run(svc.tenant, params));
      } catch (err) {
        if (err instanceof CmdletError) return exchangeError(err.status, err.type, err.message);
        throw err;
      }
    }
    const view = cmdlet!.view;
    const page: Record<string, unknown>[] = [];
    let p = start;
    for (; p < results.size && page.length < pageSize; p++) {
      const e = results.at(p);
      if (e) page.push(render(view ? view(e) : e));
    }
    // Past the positions that list nothing, so the last page carries no next link.
    while (p < results.size && !results.at(p)) p++;
    const body: Record<string, unknown> = {
      '@odata.context': `${svc.baseUrl}/adminapi/beta/${svc.tenant.id}/$metadata#Collection(Exchange.GenericHashTable)`,
      value: page,
    };
    if (loop) body['@odata.nextLink'] = req.url.toString();
    else if (p < results.size) {
      const id = cursor !== undefined && held ? cursor : holdCursor(svc, key, results);
      const next = new URL(`${svc.baseUrl}/adminapi/beta/${svc.tenant.id}/InvokeCommand`);
      next.searchParams.set('$skiptoken', Buffer.from(`${p}:${id}`).toString('base64url'));
      body['@odata.nextLink'] = next.toString();
    } else if (cursor !== undefined) cursorsOf(svc).delete(cursor);
    if (prefer) return { status: 200, body, headers: { 'Preference-Applied': `odata.maxpagesize=${pageSize}` } };
    return { status: 200, body };
  }
}

/** A cmdlet's results as positions. */
const inOrder = (results: readonly Entity[]): Positions => ({ size: results.length, at: (i) => results[i] });

/**
 * The cursor a continuation of a paged cmdlet reads (from its `$skiptoken`), for counting the pages
 * of one read in the request log; undefined for a first page.
 */
export function continuationOf(pathAndQuery: string): string | undefined {
  const token = new URL(pathAndQuery, 'http://exchange.invalid').searchParams.get('$skiptoken');
  if (token === null) return undefined;
  const id = Buffer.from(token, 'base64url').toString('utf8').split(':')[1];
  return id || undefined;
}

/** The results of paged Get- cmdlets still being read, per service: at most CURSORS, the oldest dropped first. */
const CURSORS = 16;
const cursorStore = new WeakMap<ExchangeService, Map<string, { key: string; results: Positions }>>();
function cursorsOf(svc: ExchangeService): Map<string, { key: string; results: Positions }> {
  let m = cursorStore.get(svc);
  if (!m) cursorStore.set(svc, (m = new Map()));
  return m;
}
function holdCursor(svc: ExchangeService, key: string, results: Positions): string {
  const m = cursorsOf(svc);
  const id = randomUUID().replace(/-/g, '');
  m.set(id, { key, results });
  for (const old of m.keys()) {
    if (m.size <= CURSORS) break;
    m.delete(old);
  }
  return id;
}

/** Objects go out without the simulator's own `id` key. */
function render(o: Entity): Record<string, unknown> {
  const { id: _id, ...rest } = o;
  return rest;
}
