/**
 * Microsoft's published throttling limits, enforced by the simulator. Defaults are the documented
 * values; tests and benchmarks may change or disable them.
 *
 * - Conditional access and identity protection: 1 request per second per tenant, answered 429
 *   without Retry-After beyond that.
 * - Other identity and access endpoints: a budget of resource units per 10 seconds per app and tenant
 *   (3,500 for a small tenant under 50 users, 5,000 medium, 8,000 large), 429 with Retry-After.
 * - Outlook mailbox resources (messageRules): 4 concurrent requests per mailbox and 10,000 requests
 *   per 10 minutes per mailbox, 429 with Retry-After.
 * - Security detections and incidents (`/security`: alerts): 150 requests per minute per app per
 *   tenant, 429 with Retry-After.
 * - Exchange message trace (`/admin/exchange/tracing`): 100 requests per 5 minutes, 429 with
 *   Retry-After (kept per app, as the security class is).
 * - Any Graph request: 2,000 requests per second per app across tenants, 429 with Retry-After.
 */
export interface Limits {
  /** false turns every limit off (latency still applies). */
  enabled: boolean;
  conditionalAccessPerSecond: number;
  /** Resource units per 10 s; undefined = by tenant size. */
  identityUnitsPer10s?: number;
  mailboxConcurrency: number;
  mailboxPer10Minutes: number;
  securityPerMinute: number;
  messageTracePer5Minutes: number;
  appPerSecond: number;
  /** Added to every HTTP answer: fixed delay plus uniform jitter, in milliseconds. */
  latencyMs: number;
  jitterMs: number;
}

export const DEFAULT_LIMITS: Limits = {
  enabled: true,
  conditionalAccessPerSecond: 1,
  mailboxConcurrency: 4,
  mailboxPer10Minutes: 10_000,
  securityPerMinute: 150,
  messageTracePer5Minutes: 100,
  appPerSecond: 2_000,
  latencyMs: 0,
  jitterMs: 0,
};

export const IDENTITY_UNITS_BY_SIZE = { small: 3_500, medium: 5_000, large: 8_000 } as const;
export type TenantSize = keyof typeof IDENTITY_UNITS_BY_SIZE;

export type Admission = { ok: true; release?: () => void } | { ok: false; retryAfterSeconds?: number; reason: string };

/** Sliding window of the last `limit` admission times. */
export class SlidingWindow {
  private readonly times: number[] = [];
  constructor(
    private readonly limit: number,
    private readonly windowMs: number,
  ) {}

  admit(now: number): { ok: true } | { ok: false; waitMs: number } {
    while (this.times.length && now - this.times[0]! >= this.windowMs) this.times.shift();
    if (this.times.length >= this.limit) return { ok: false, waitMs: this.windowMs - (now - this.times[0]!) };
    this.times.push(now);
    return { ok: true };
  }
}

/** Fixed window budget of units. */
class Budget {
  private start = 0;
  private used = 0;
  constructor(
    private readonly units: number,
    private readonly windowMs: number,
  ) {}

  admit(cost: number, now: number): { ok: true } | { ok: false; waitMs: number } {
    if (now - this.start >= this.windowMs) {
      this.start = now;
      this.used = 0;
    }
    if (this.used + cost > this.units) return { ok: false, waitMs: this.windowMs - (now - this.start) };
    this.used += cost;
    return { ok: true };
  }
}

/** The throttling state of one simulated tenant and its calling apps. */
export class Throttler {
  private readonly ca: SlidingWindow;
  private readonly identity = new Map<string, Budget>();
  private readonly security = new Map<string, SlidingWindow>();
  private readonly messageTrace = new Map<string, SlidingWindow>();
  private readonly mailboxWindows = new Map<string, SlidingWindow>();
  private readonly mailboxInFlight = new Map<string, number>();

  /**
   * `app` holds the per-app request windows: its own by default; one map shared by the throttlers of
   * several tenants served together, since the application limit is per app across tenants.
   */
  constructor(
    readonly limits: Limits,
    private readonly size: TenantSize,
    private readonly app: Map<string, SlidingWindow> = new Map(),
  ) {
    this.ca = new SlidingWindow(limits.conditionalAccessPerSecond, 1000);
  }

  /** Waits the configured latency (fixed plus uniform jitter). */
  latency(): Promise<void> {
    const ms = this.limits.latencyMs + (this.limits.jitterMs > 0 ? Math.random() * this.limits.jitterMs : 0);
    return ms > 0 ? new Promise((r) => setTimeout(r, ms)) : Promise.resolve();
  }

  /** Every Graph request, per app. */
  admitApp(appId: string, now = Date.now()): Admission {
    if (!this.limits.enabled) return { ok: true };
    let w = this.app.get(appId);
    if (!w) this.app.set(appId, (w = new SlidingWindow(this.limits.appPerSecond, 1000)));
    const r = w.admit(now);
    return r.ok ? { ok: true } : { ok: false, retryAfterSeconds: Math.max(1, Math.ceil(r.waitMs / 1000)), reason: 'application request limit' };
  }

  /** The security API (alerts): a one-minute window per app (the tenant is the throttler's own). */
  admitSecurity(appId: string, now = Date.now()): Admission {
    if (!this.limits.enabled) return { ok: true };
    let w = this.security.get(appId);
    if (!w) this.security.set(appId, (w = new SlidingWindow(this.limits.securityPerMinute, 60_000)));
    const r = w.admit(now);
    return r.ok ? { ok: true } : { ok: false, retryAfterSeconds: Math.max(1, Math.ceil(r.waitMs / 1000)), reason: 'security request limit' };
  }

  /** Exchange message trace: a five-minute window per app. */
  admitMessageTrace(appId: string, now = Date.now()): Admission {
    if (!this.limits.enabled) return { ok: true };
    let w = this.messageTrace.get(appId);
    if (!w) this.messageTrace.set(appId, (w = new SlidingWindow(this.limits.messageTracePer5Minutes, 300_000)));
    const r = w.admit(now);
    return r.ok ? { ok: true } : { ok: false, retryAfterSeconds: Math.max(1, Math.ceil(r.waitMs / 1000)), reason: 'message trace request limit' };
  }

  /** Conditional access and identity protection: no Retry-After comes back. */
  admitConditionalAccess(now = Date.now()): Admission {
    if (!this.limits.enabled) return { ok: true };
    return this.ca.admit(now).ok ? { ok: true } : { ok: false, reason: 'conditional access request limit' };
  }

  /** Other identity endpoints: resource units per 10 seconds per app. */
  admitIdentity(appId: string, cost: number, now = Date.now()): Admission {
    if (!this.limits.enabled) return { ok: true };
    let b = this.identity.get(appId);
    if (!b) this.identity.set(appId, (b = new Budget(this.limits.identityUnitsPer10s ?? IDENTITY_UNITS_BY_SIZE[this.size], 10_000)));
    const r = b.admit(cost, now);
    return r.ok ? { ok: true } : { ok: false, retryAfterSeconds: Math.max(1, Math.ceil(r.waitMs / 1000)), reason: 'identity resource unit budget' };
  }

  /** Outlook mailbox resources: concurrency and a 10-minute window per mailbox. Call release when answered. */
  admitMailbox(mailbox: string, now = Date.now()): Admission {
    if (!this.limits.enabled) return { ok: true };
    const key = mailbox.toLowerCase();
    const inFlight = this.mailboxInFlight.get(key) ?? 0;
    if (inFlight >= this.limits.mailboxConcurrency) return { ok: false, retryAfterSeconds: 1, reason: 'mailbox concurrency limit' };
    let w = this.mailboxWindows.get(key);
    if (!w) this.mailboxWindows.set(key, (w = new SlidingWindow(this.limits.mailboxPer10Minutes, 600_000)));
    const r = w.admit(now);
    if (!r.ok) return { ok: false, retryAfterSeconds: Math.max(1, Math.ceil(r.waitMs / 1000)), reason: 'mailbox request limit' };
    this.mailboxInFlight.set(key, inFlight + 1);
    return {
      ok: true,
      release: () => {
        const n = (this.mailboxInFlight.get(key) ?? 1) - 1;
        if (n <= 0) this.mailboxInFlight.delete(key);
        else this.mailboxInFlight.set(key, n);
      },
    };
  }
}
