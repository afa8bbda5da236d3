/**
 * The least time a run could take behind the simulator's limits, from what it asked (the request
 * log) and the limits in force: for each limit, the requests it charged and the time those need at
 * its rate; for paged reads, the chain of pages each waiting for the one before. The largest is the
 * floor, and the limit it comes from is the binding one.
 *
 * What is charged mirrors the services (graph/service.ts, graph/batch.ts, exchange/service.ts):
 * every Graph request and every `$batch` item counts against the per-app rate, the `$batch` envelope
 * does not; a route's class (conditional access, identity units, mailbox, security, message trace)
 * charges it once more against that class's limit; every Exchange cmdlet counts against the Exchange
 * per-app rate. Answers 429 were refused, not charged, and are left out: the floor is for the
 * requests the run needed. The log does not say which app asked; the floor is for one app.
 */
import { matchRoute } from '../graph/routes.js';
import type { ThrottleClass } from '../graph/entity.js';
import { continuationOf } from '../exchange/service.js';
import { IDENTITY_UNITS_BY_SIZE, type Limits, type TenantSize } from './limits.js';
import type { RequestLogEntry } from './log.js';

/** One limit's floor: how many requests (or units) it charged, at what rate, and the seconds they need. */
export interface LimitFloor {
  readonly limit: string;
  /** Requests, or resource units for the identity budget, or pages for a chain. */
  readonly charged: number;
  /** The limit as configured, in words: `2000 per 1 s`. */
  readonly rate: string;
  readonly seconds: number;
}

export interface Floor {
  readonly seconds: number;
  /** The limit whose floor is the largest. */
  readonly binding: string;
  /** Every limit that charged something, largest first. */
  readonly limits: readonly LimitFloor[];
}

export interface FloorOptions {
  readonly limits: Limits;
  /** The tenant's size, for the identity budget when the limits leave it to the size. */
  readonly size: TenantSize;
  /**
   * A paged Exchange read whose rows other requests are made from (the mailbox list, whose mailboxes'
   * inbox rules are read): those requests start after its last page, so its chain is one round trip longer.
   */
  readonly feeds?: string;
}

/**
 * The least time `n` admissions need through a window admitting `perWindow` in `windowMs`, the last
 * answer included: the (k·perWindow + 1)-th admission comes at least k windows after the first.
 */
const windowed = (n: number, perWindow: number, windowMs: number, latencyMs: number): number =>
  n === 0 ? 0 : (Math.floor((n - 1) / perWindow) * windowMs + latencyMs) / 1000;

const perWindow = (n: number, ms: number) => `${n} per ${ms >= 60_000 ? `${ms / 60_000} min` : `${ms / 1000} s`}`;

/** The path of a Graph request after its version, without the query, and its query. */
function graphTarget(e: RequestLogEntry): { path: string; query: URLSearchParams } {
  const u = new URL(e.path, 'http://graph.invalid');
  const path = e.batch === undefined ? u.pathname.replace(/^\/(v1\.0|beta)(?=\/|$)/i, '') || '/' : u.pathname;
  return { path, query: u.searchParams };
}

const isBatchEnvelope = (e: RequestLogEntry) => e.batch === undefined && /^\/(v1\.0|beta)\/\$batch\/?$/i.test(new URL(e.path, 'http://graph.invalid').pathname);

/** The floor of the requests in `log` under `o.limits`. */
export function floorOf(log: readonly RequestLogEntry[], o: FloorOptions): Floor {
  const l = o.limits;
  const latency = l.latencyMs;
  let graph = 0;
  let exchange = 0;
  let identityUnits = 0;
  const byClass = new Map<ThrottleClass, number>();
  const perMailbox = new Map<string, number>();
  // Paged reads: a Graph list by its URL without the page token, an Exchange one by its cursor.
  const graphChains = new Map<string, { firsts: number; continuations: number }>();
  const exchangeChains = new Map<string, { cmdlet: string; pages: number }>();
  for (const e of log) {
    if (e.status === 429) continue;
    if (e.api === 'exchange') {
      exchange++;
      const cursor = continuationOf(e.path);
      if (cursor !== undefined) {
        const c = exchangeChains.get(cursor) ?? { cmdlet: e.cmdlet ?? '', pages: 1 };
        c.pages++;
        exchangeChains.set(cursor, c);
      }
      continue;
    }
    if (e.api !== 'graph' || isBatchEnvelope(e)) continue;
    graph++;
    const { path, query } = graphTarget(e);
    if (e.method === 'GET') {
      const key = new URL(e.path, 'http://graph.invalid');
      const continued = key.searchParams.has('$skiptoken');
      key.searchParams.delete('$skiptoken');
      const k = `${key.pathname}?${key.searchParams}`;
      const c = graphChains.get(k) ?? { firsts: 0, continuations: 0 };
      if (continued) c.continuations++;
      else c.firsts++;
      graphChains.set(k, c);
    }
    const match = matchRoute(e.method, path);
    if ('error' in match) continue;
    const cls = match.route.throttle;
    byClass.set(cls, (byClass.get(cls) ?? 0) + 1);
    if (cls === 'identity') identityUnits += Math.max(1, (match.route.cost ?? 1) - (query.has('$select') ? 1 : 0));
    if (cls === 'mailbox') {
      const m = (match.params['user'] ?? '').toLowerCase();
      perMailbox.set(m, (perMailbox.get(m) ?? 0) + 1);
    }
  }

  const floors: LimitFloor[] = [];
  const add = (limit: string, charged: number, rate: string, seconds: number) => {
    if (charged > 0) floors.push({ limit, charged, rate, seconds: Number(seconds.toFixed(3)) });
  };
  if (!l.enabled) {
    add('latency (limits off)', graph + exchange > 0 ? 1 : 0, `${latency} ms`, latency / 1000);
  } else {
    add('Graph per-app rate', graph, perWindow(l.appPerSecond, 1000), windowed(graph, l.appPerSecond, 1000, latency));
    add('Exchange per-app rate', exchange, perWindow(l.appPerSecond, 1000), windowed(exchange, l.appPerSecond, 1000, latency));
    const ca = byClass.get('conditional-access') ?? 0;
    add('conditional access and identity protection pace', ca, perWindow(l.conditionalAccessPerSecond, 1000), windowed(ca, l.conditionalAccessPerSecond, 1000, latency));
    const units = l.identityUnitsPer10s ?? IDENTITY_UNITS_BY_SIZE[o.size];
    // A fixed window: every `units` units open a new 10-second window.
    add('identity resource units', identityUnits, `${units} units per 10 s`, identityUnits === 0 ? 0 : ((Math.ceil(identityUnits / units) - 1) * 10_000 + latency) / 1000);
    const security = byClass.get('security') ?? 0;
    add('security API rate', security, perWindow(l.securityPerMinute, 60_000), windowed(security, l.securityPerMinute, 60_000, latency));
    const trace = byClass.get('message-trace') ?? 0;
    add('message trace rate', trace, perWindow(l.messageTracePer5Minutes, 300_000), windowed(trace, l.messageTracePer5Minutes, 300_000, latency));
    // One mailbox's requests: at most `mailboxConcurrency` at a time, each a round trip, and its window.
    let busiest = 0;
    for (const n of perMailbox.values()) busiest = Math.max(busiest, n);
    const mailboxSeconds = Math.max(windowed(busiest, l.mailboxPer10Minutes, 600_000, latency), (Math.ceil(busiest / l.mailboxConcurrency) * latency) / 1000);
    add('mailbox concurrency and rate (busiest mailbox)', busiest, `${l.mailboxConcurrency} at once, ${perWindow(l.mailboxPer10Minutes, 600_000)}`, mailboxSeconds);
  }
  // Pages of one read follow each other: each waits for the one before.
  let chain = { what: '', pages: 0 };
  for (const [k, c] of graphChains) {
    // The same list read more than once is as many chains, each as long as the average.
    const pages = 1 + Math.floor(c.continuations / Math.max(1, c.firsts));
    if (pages > chain.pages) chain = { what: `Graph ${decodeURIComponent(k.replace(/\?$/, ''))}`, pages };
  }
  for (const c of exchangeChains.values()) {
    const pages = c.pages + (o.feeds && c.cmdlet.toLowerCase() === o.feeds.toLowerCase() ? 1 : 0);
    if (pages > chain.pages) chain = { what: `Exchange ${c.cmdlet}${pages > c.pages ? ' and the reads of its last page' : ''}`, pages };
  }
  if (chain.pages > 1) add(`latency × pages in sequence (${chain.what})`, chain.pages, `${latency} ms a round trip`, (chain.pages * latency) / 1000);

  floors.sort((a, b) => b.seconds - a.seconds);
  const top = floors[0];
  return { seconds: top?.seconds ?? 0, binding: top?.limit ?? 'none', limits: floors };
}
