import { startDnsServer, zoneFromRecords, type DnsFault, type DnsQueryLogEntry } from './dns/server.js';
import { serveExchange, type ExchangeService } from './exchange/service.js';
import { serveBatch } from './graph/batch.js';
import { ALL_GRAPH_PERMISSIONS } from './graph/routes.js';
import { authenticate, serveGraph, type GraphService } from './graph/service.js';
import { graphError } from './http/errors.js';
import { Faults, type FaultRule } from './http/faults.js';
import { DEFAULT_LIMITS, Throttler, type Limits, type SlidingWindow } from './http/limits.js';
import { limitsOfSettings } from './http/settings.js';
import { RequestLog } from './http/log.js';
import { SimHttpServer, type Outcome } from './http/server.js';
import { EXCHANGE_AUDIENCE, GRAPH_AUDIENCE, mintToken, ROLE_IDS } from './http/token.js';
import { generateTenant, type GenerateOptions } from './scenario/generate.js';
import { loadScenario, type Scenario } from './scenario/scenario.js';
import { tenantFromScenario } from './tenant/from-scenario.js';
import { startIdentity, type IdentityOptions, type RunningIdentity } from './identity/index.js';
import { mailConfigOf } from './smtp/config.js';
import { eopHostOf, loopbackAddresses, mxHosts, startSmtp, zoneWithListeners, type RunningSmtp } from './smtp/server.js';
import type { Tenant } from './tenant/tenant.js';
import type { JudgedMessage } from './smtp/record.js';

export type { FaultRule, FaultKind } from './http/faults.js';
export type { Limits } from './http/limits.js';
export type { RequestLogEntry } from './http/log.js';
export type { DnsFault } from './dns/server.js';
export { DEFAULT_LIMITS } from './http/limits.js';
export { CLI_FAULT_KINDS, LIMIT_NAMES, parseFault, parseLimit, SettingsError, simulatorSettingsSchema, type SimulatorSettings } from './http/settings.js';
export { mintToken, GRAPH_AUDIENCE, EXCHANGE_AUDIENCE, ROLE_IDS } from './http/token.js';
export { ALL_GRAPH_PERMISSIONS, GRAPH_PERMISSIONS } from './graph/routes.js';
export { loadScenario, BUILT_IN_SCENARIOS, scenarioDrifts } from './scenario/scenario.js';
export type { Scenario } from './scenario/scenario.js';
export * from './identity/index.js';
export { judge, isEopHost, effectiveAntiPhish, type MessageFacts, type MailConfig, type Verdict, type Disposition, type OverrideSource } from './smtp/judge.js';
export { mailConfigOf } from './smtp/config.js';
export { MAX_MESSAGE_BYTES } from './smtp/server.js';
export type { JudgedMessage } from './smtp/record.js';

export interface SimulatorOptions {
  /** A built-in scenario name (`compliant`, `drifted`, `incident`), a scenario file path, or a scenario object. @default 'compliant' */
  scenario?: string | Scenario;
  /** Grow the scenario into a large tenant (generated users, mailboxes, rules, policies). */
  generate?: GenerateOptions;
  /** Overrides of Microsoft's published limits, which are on by default (and of the scenario's `simulator` block). */
  limits?: Partial<Limits>;
  /** HTTP fault rules, in place of the scenario's `simulator.faults`; more can be added while running with `faults.add`. */
  faults?: readonly FaultRule[];
  /** DNS faults by query name. */
  dnsFaults?: Record<string, DnsFault>;
  /**
   * Serve the identity endpoints too (the Microsoft identity platform on HTTPS, managed identity,
   * and stand-in GitHub Actions, Azure DevOps and Kubernetes token issuers). Off by default.
   */
  identity?: IdentityOptions | boolean;
  /**
   * Listen for SMTP on each MX exchange the scenario's DNS publishes, each host on a loopback address
   * of its own (127.0.0.2, 127.0.0.3, …) and all on one port; the DNS answers each host's A record
   * with its address. Messages are judged as the tenant's configuration says Exchange Online
   * Protection would, and recorded as message traces and analyzed emails. Off by default.
   */
  smtp?: boolean;
  /**
   * Serve Graph and Exchange over HTTPS with this key and certificate (PEM) instead of plain HTTP.
   * `graphHost` / `exchangeHost` are the names their URLs (and nextLinks) give in place of the
   * listening address: names the certificate holds, which something else resolves (a forward proxy,
   * for instance, to the listening address). @default plain HTTP
   */
  tls?: { key: string; cert: string; graphHost?: string; exchangeHost?: string };
  /**
   * More tenants behind the same Graph, Exchange and identity endpoints, as the real services serve
   * every tenant: a request goes to the tenant its token's `tid` names (a token of one tenant never
   * reads another), each tenant under its own limits and faults, and all under the one per-app
   * limit across tenants (`appPerSecond`). The tenant of `scenario` is served too.
   */
  tenants?: readonly ServedTenantOptions[];
  /** @default 127.0.0.1 */
  host?: string;
  /** @default 0 (any free port) for each */
  ports?: { graph?: number; exchange?: number; dns?: number; smtp?: number };
}

/** One more tenant served by the same endpoints. */
export interface ServedTenantOptions {
  /** The tenant id (GUID): the `tid` of its tokens, and its Exchange URL path. */
  readonly id: string;
  /** @default the scenario's initial domain */
  readonly initialDomain?: string;
  /** @default the scenario's display name */
  readonly displayName?: string;
  /** As {@link SimulatorOptions.scenario}. @default 'compliant' */
  readonly scenario?: string | Scenario;
  readonly generate?: GenerateOptions;
  /** This tenant's limits (the per-app limit across tenants is the simulator's own). */
  readonly limits?: Partial<Limits>;
  readonly faults?: readonly FaultRule[];
}

/** A tenant being served: its state and its faults. */
export interface ServedTenant {
  readonly id: string;
  readonly tenant: Tenant;
  readonly faults: Faults;
}

/** The SMTP listeners, when started with `smtp`. */
export interface RunningSmtpListener {
  /** The one port every host listens on. */
  readonly port: number;
  /** Each MX exchange → the loopback address its listener is on (what the simulator's DNS answers for its A record). */
  readonly hosts: Readonly<Record<string, string>>;
  /** Every message judged, one entry per recipient, in the order received. */
  readonly received: readonly JudgedMessage[];
}

export interface SimulatorClock {
  /** The current time, ISO 8601 (seconds). */
  now(): string;
  /** Sets the time (ISO 8601 or epoch milliseconds) and releases the timeline signals now due. */
  set(at: string | number): void;
  /** Moves the time forward by `ms` and releases the timeline signals now due. */
  advance(ms: number): void;
}

export interface RunningSimulator {
  /** Base URL of Microsoft Graph: append /v1.0/... or /beta/... */
  readonly graphUrl: string;
  /** Base URL of Exchange Online: append /adminapi/beta/{tenantId}/InvokeCommand */
  readonly exoUrl: string;
  readonly dns: { readonly host: string; readonly port: number };
  readonly tenantId: string;
  /** The live tenant state (tests may inspect it). */
  readonly tenant: Tenant;
  /** Every tenant served, by tenant id in lower case: the scenario's and those of `tenants`. */
  readonly tenants: ReadonlyMap<string, ServedTenant>;
  /** Every HTTP request answered (Graph, Exchange, and $batch items). */
  readonly requests: RequestLog;
  /** Every DNS query answered or dropped. */
  readonly dnsQueries: DnsQueryLogEntry[];
  readonly faults: Faults;
  /**
   * The simulated tenant's clock. It follows the wall clock until set; once set it stands still
   * unless advanced. Timeline signals (a scenario's `timeline`) appear once it passes their `at`.
   */
  readonly clock: SimulatorClock;
  /** The identity endpoints, when started with `identity`. */
  readonly identity: RunningIdentity | undefined;
  /** The SMTP listeners, when started with `smtp`. */
  readonly smtp?: RunningSmtpListener;
  setDnsFault(name: string, fault: DnsFault | undefined): void;
  /** A token for this tenant. Graph: every permission unless `roles` says otherwise; Exchange: Exchange.ManageAsApp with the Exchange Administrator role. */
  token(api: 'graph' | 'exchange', options?: { roles?: readonly string[]; wids?: readonly string[]; lifetimeSeconds?: number; tenantId?: string }): string;
  stop(): Promise<void>;
}

/** Starts Graph, the Exchange admin API and DNS on loopback (and, with `smtp`, the MX listeners), serving one tenant. */
export async function startSimulator(options: SimulatorOptions = {}): Promise<RunningSimulator> {
  const scenario = typeof options.scenario === 'object' ? options.scenario : loadScenario(options.scenario ?? 'compliant');
  const tenant = options.generate ? generateTenant(scenario, options.generate) : tenantFromScenario(scenario);
  // The scenario's own settings, then what the caller gives: each overrides the one before.
  const limits: Limits = { ...DEFAULT_LIMITS, ...limitsOfSettings(scenario.simulator), ...options.limits };
  // Graph's application limit is per app across every tenant served.
  const appWindows = new Map<string, SlidingWindow>();
  const throttler = new Throttler(limits, tenant.size, appWindows);
  const faults = new Faults(options.faults ?? (scenario.simulator?.faults as FaultRule[] | undefined));
  const requests = new RequestLog();
  const host = options.host ?? '127.0.0.1';
  const release = () => void tenant.timeline.release(tenant.clock.now(), tenant.graph);
  const clock: SimulatorClock = {
    now: () => tenant.clock.iso(),
    set: (at) => {
      tenant.clock.set(at);
      release();
    },
    advance: (ms) => {
      tenant.clock.advance(ms);
      release();
    },
  };
  release();

  const graphSvc: GraphService = { tenant, faults, throttler, baseUrl: '' };
  const exoSvc: ExchangeService = { tenant, faults, throttler, baseUrl: '' };
  const served = new Map<string, { served: ServedTenant; graph: GraphService; exchange: ExchangeService; displayName: string }>();
  served.set(tenant.id.toLowerCase(), { served: { id: tenant.id, tenant, faults }, graph: graphSvc, exchange: exoSvc, displayName: scenario.tenant.displayName });
  for (const t of options.tenants ?? []) {
    const key = t.id.toLowerCase();
    if (served.has(key)) throw new Error(`simulator: tenant ${t.id} is served twice`);
    const base = typeof t.scenario === 'object' ? t.scenario : loadScenario(t.scenario ?? 'compliant');
    const own: Scenario = { ...base, tenant: { ...base.tenant, id: t.id, ...(t.initialDomain ? { initialDomain: t.initialDomain } : {}), ...(t.displayName ? { displayName: t.displayName } : {}) } };
    const state = t.generate ? generateTenant(own, t.generate) : tenantFromScenario(own);
    const ownThrottler = new Throttler({ ...DEFAULT_LIMITS, ...limitsOfSettings(own.simulator), ...t.limits, appPerSecond: limits.appPerSecond }, state.size, appWindows);
    const ownFaults = new Faults(t.faults ?? (own.simulator?.faults as FaultRule[] | undefined));
    served.set(key, {
      served: { id: state.id, tenant: state, faults: ownFaults },
      graph: { tenant: state, faults: ownFaults, throttler: ownThrottler, baseUrl: '' },
      exchange: { tenant: state, faults: ownFaults, throttler: ownThrottler, baseUrl: '' },
      displayName: own.tenant.displayName,
    });
  }
  // The tenant a request is for is the one its token names; a token naming no tenant served is judged by the first.
  const servedFor = (authorization: string | undefined) => served.get(tokenTenant(authorization) ?? '') ?? served.get(tenant.id.toLowerCase())!;
  let batchSeq = 0;
  const graph = new SimHttpServer(
    async (req): Promise<Outcome> => {
      const graphSvc = servedFor(req.headers.authorization).graph;
      const { faults, throttler } = graphSvc;
      const auth = authenticate(graphSvc, req.headers.authorization);
      if ('outcome' in auth) {
        await throttler.latency();
        return auth.outcome;
      }
      if (/^\/(v1\.0|beta)\/\$batch\/?$/i.test(req.url.pathname)) {
        if (req.method !== 'POST') return { kind: 'answer', response: graphError(405, 'Request_BadRequest', '$batch takes POST.') };
        const fault = faults.take('graph', 'POST', req.url.pathname);
        if (fault?.kind === 'reset') return { kind: 'reset' };
        if (fault?.kind === 'status' || fault?.kind === 'throttle') {
          return { kind: 'answer', response: graphError(fault.kind === 'throttle' ? 429 : (fault.status ?? 503), fault.kind === 'throttle' ? 'TooManyRequests' : 'ServiceUnavailable', 'The service is temporarily unavailable.', fault.kind === 'throttle' ? { 'Retry-After': String(fault.retryAfter ?? 1) } : {}) };
        }
        const response = await serveBatch(graphSvc, requests, { url: req.url, body: req.body, claims: auth.claims, logIndex: ++batchSeq });
        if (fault?.kind === 'drop') return { kind: 'reset' };
        if (fault?.kind === 'hold') await faults.hold();
        if (fault?.kind === 'slow') return { kind: 'slow', delayMs: fault.delayMs ?? 60_000, response };
        if (fault?.kind === 'truncate') return { kind: 'truncate', response };
        return { kind: 'answer', response };
      }
      return serveGraph(graphSvc, { method: req.method, url: req.url, body: req.body, claims: auth.claims, ...(req.headers.authorization ? { authorization: req.headers.authorization } : {}) });
    },
    (req, status) => requests.add({ api: 'graph', method: req.method, path: req.url.pathname + req.url.search, status, time: Date.now() }),
    tlsOf(options),
  );
  const exchange = new SimHttpServer(
    (req) => serveExchange(servedFor(req.headers.authorization).exchange, req),
    (req, status) => {
      const cmdlet = (req.body as { CmdletInput?: { CmdletName?: unknown } } | undefined)?.CmdletInput?.CmdletName;
      requests.add({ api: 'exchange', method: req.method, path: req.url.pathname + req.url.search, status, time: Date.now(), ...(typeof cmdlet === 'string' ? { cmdlet } : {}) });
    },
    tlsOf(options),
  );

  const dnsQueries: DnsQueryLogEntry[] = [];
  const started: Array<{ stop(): Promise<void> }> = [];
  try {
    graphSvc.baseUrl = named(await graph.listen(host, options.ports?.graph ?? 0), options.tls?.graphHost);
    started.push(graph);
    exoSvc.baseUrl = named(await exchange.listen(host, options.ports?.exchange ?? 0), options.tls?.exchangeHost);
    started.push(exchange);
    for (const s of served.values()) {
      s.graph.baseUrl = graphSvc.baseUrl;
      s.exchange.baseUrl = exoSvc.baseUrl;
    }
    let identity: RunningIdentity | undefined;
    if (options.identity) {
      identity = await startIdentity({
        host,
        requests,
        options: options.identity === true ? {} : options.identity,
        tenant: tenantInfo(tenant, scenario.tenant.displayName),
        others: [...served.values()].slice(1).map((s) => tenantInfo(s.served.tenant, s.displayName)),
      });
      started.push(identity);
      for (const s of served.values()) {
        s.graph.trust = identity.trust;
        s.exchange.trust = identity.trust;
      }
    }
    let smtp: RunningSmtp | undefined;
    if (options.smtp) {
      // Exchange Online Protection takes mail for every accepted domain at the domain's own host, whatever its MX says.
      const eopHosts = mailConfigOf(tenant).acceptedDomains.map((d) => eopHostOf(String(d['DomainName'] ?? d['Name'] ?? '')));
      smtp = await startSmtp({ tenant, hosts: loopbackAddresses([...new Set([...mxHosts(tenant.dns), ...eopHosts.filter(Boolean)])], tenant.dns), port: options.ports?.smtp ?? 0 });
      started.push(smtp);
    }
    const dns = await startDnsServer({
      host,
      port: options.ports?.dns ?? 0,
      zone: zoneFromRecords(smtp ? zoneWithListeners(tenant.dns, smtp.hosts) : tenant.dns),
      faults: { ...(options.dnsFaults ?? {}) },
      onQuery: (e) => dnsQueries.push(e),
    });
    started.push(dns);

    return {
      graphUrl: graphSvc.baseUrl,
      exoUrl: exoSvc.baseUrl,
      dns: { host: dns.host, port: dns.port },
      tenantId: tenant.id,
      tenant,
      tenants: new Map([...served].map(([k, s]) => [k, s.served])),
      requests,
      dnsQueries,
      faults,
      clock,
      identity,
      ...(smtp ? { smtp: { port: smtp.port, hosts: smtp.hosts, received: smtp.received } } : {}),
      setDnsFault: (name, fault) => dns.setFault(name, fault),
      token: (api, o = {}) =>
        mintToken({
          audience: api === 'graph' ? GRAPH_AUDIENCE : EXCHANGE_AUDIENCE,
          tenantId: o.tenantId ?? tenant.id,
          roles: o.roles ?? (api === 'graph' ? ALL_GRAPH_PERMISSIONS : ['Exchange.ManageAsApp']),
          wids: o.wids ?? (api === 'exchange' ? [ROLE_IDS.exchangeAdministrator] : []),
          ...(o.lifetimeSeconds !== undefined ? { lifetimeSeconds: o.lifetimeSeconds } : {}),
        }),
      stop: async () => {
        for (const s of served.values()) s.served.faults.release();
        await Promise.all(started.map((s) => s.stop()));
      },
    };
  } catch (err) {
    await Promise.all(started.map((s) => s.stop()));
    throw err;
  }
}

/** The identity endpoint's view of a tenant: its id, and the names (id, initial domain, domains) that refer to it. */
const tenantInfo = (t: Tenant, displayName: string) => ({
  id: t.id,
  displayName,
  matches: (name: string) => [t.id, t.initialDomain].some((n) => n.toLowerCase() === name.toLowerCase()) || t.graph.domains.get(name.toLowerCase()) !== undefined,
});

/**
 * The tenant id a bearer token names (`tid`, lower case), read without checking anything: only to
 * choose whose state judges the request, which then checks the token in full.
 */
function tokenTenant(authorization: string | undefined): string | undefined {
  const payload = /^Bearer\s+[^.\s]*\.([^.\s]+)\./i.exec(authorization ?? '')?.[1];
  if (!payload) return undefined;
  try {
    const tid = (JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { tid?: unknown } | null)?.tid;
    return typeof tid === 'string' ? tid.toLowerCase() : undefined;
  } catch {
    return undefined;
  }
}

/** The HTTPS options of Graph's and Exchange's servers, when the simulator serves HTTPS. */
const tlsOf = (o: SimulatorOptions) => (o.tls ? { tls: { key: o.tls.key, cert: o.tls.cert } } : {});

/** A base URL with its host replaced by `name`, when one is given. */
function named(baseUrl: string, name: string | undefined): string {
  if (!name) return baseUrl;
  const u = new URL(baseUrl);
  u.hostname = name;
  return u.origin;
}
