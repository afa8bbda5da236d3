import type { Sleep } from './middleware.js';

/**
 * The per-app request rate of Graph, kept by the client. The service counts requests as they
 * arrive in a sliding window: a request is refused (429 with Retry-After) when the window of the
 * last second already holds the limit's number of requests, every `$batch` item counted, the
 * envelope not. The client keeps the same window over what it sends, so it can send at the limit
 * itself instead of below it, with a margin of time for requests that arrive later than they were
 * sent (the one before held up on the way reaches the service closer to the next one).
 */
export interface RateWindow {
  /** Requests admitted in any window. */
  readonly limit: number;
  /** The service's window, in milliseconds. */
  readonly windowMs: number;
  /** Added to the window: how much later than it was sent a request may reach the service. */
  readonly marginMs: number;
}

/** Graph's published per-app rate: 2,000 requests a second, counted over the last second. */
export const GRAPH_APP_RATE: RateWindow = { limit: 2000, windowMs: 1000, marginMs: 20 };

/** One send: when, and how many requests it counted. */
export interface Sent {
  readonly at: number;
  readonly count: number;
}

/**
 * How long `n` more requests must wait at `now`, given what was sent before (oldest first): 0 when
 * the window ending now holds room for them, or until enough of the oldest sends leave it. Sends
 * leave the window `windowMs + marginMs` after they were made. More than the limit at once waits for
 * an empty window.
 */
export function rateWait(sent: readonly Sent[], now: number, n: number, w: RateWindow): number {
  const span = w.windowMs + w.marginMs;
  const need = Math.min(n, w.limit);
  let inWindow = 0;
  for (const s of sent) if (now - s.at < span) inWindow += s.count;
  if (inWindow + need <= w.limit) return 0;
  let freed = 0;
  for (const s of sent) {
    if (now - s.at >= span) continue;
    freed += s.count;
    if (inWindow - freed + need <= w.limit) return s.at + span - now;
  }
  return span;
}

/**
 * The client's window of one application's Graph requests, shared by every transport of that
 * application in a process: requests wait their turn, in order, until {@link rateWait} says 0.
 */
export class RateLimiter {
  private readonly sent: Sent[] = [];
  private queue: Promise<void> = Promise.resolve();
  private readonly window: RateWindow;

  /** `perSecond` requests in any second (Graph's 2,000 by default), or a whole window. */
  constructor(
    rate: number | RateWindow = GRAPH_APP_RATE,
    private readonly wait: Sleep,
    private readonly clock: () => number = Date.now,
  ) {
    this.window = typeof rate === 'number' ? { ...GRAPH_APP_RATE, limit: rate } : rate;
  }

  /** Waits until `n` requests may be sent, and counts them as sent. */
  acquire(n: number): Promise<void> {
    const turn = this.queue.then(async () => {
      for (;;) {
        const now = this.clock();
        const span = this.window.windowMs + this.window.marginMs;
        while (this.sent.length && now - this.sent[0]!.at >= span) this.sent.shift();
        const ms = rateWait(this.sent, now, n, this.window);
        if (ms <= 0) {
          this.sent.push({ at: now, count: n });
          return;
        }
        await this.wait(ms);
      }
    });
    this.queue = turn;
    return turn;
  }
}
