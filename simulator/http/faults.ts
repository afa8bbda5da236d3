/**
 * Fault injection by route. A rule matches requests of one API whose path (Graph: the path without
 * query, e.g. `/v1.0/users`; Exchange: the cmdlet name) matches `route`, a regular expression.
 */
export type FaultKind =
  /** Answer with `status` (default 503) and a service error body. */
  | 'status'
  /** Answer 429 with Retry-After `retryAfter` seconds (default 1): a throttling storm. */
  | 'throttle'
  /** Destroy the connection without an answer, before the request is carried out. */
  | 'reset'
  /** Carry the request out, then destroy the connection: the write took, its answer is lost. */
  | 'drop'
  /** Answer after `delayMs` (default 60 s), longer than a client's timeout. */
  | 'slow'
  /**
   * Carry the request out, then keep the answer back until {@link Faults.release}: a write that took
   * and whose answer has not come yet. {@link Faults.held} says when a request is held, so a test can
   * act at that moment (kill the client, damage its files) without guessing at timing.
   */
  | 'hold'
  /** Answer 200 with the body cut in half: invalid JSON. */
  | 'truncate'
  /** Answer normally, but with an @odata.nextLink that leads back to the same page. */
  | 'loop-next-link'
  /** Every token issued before this moment is now expired: 401 until the client gets a new one. */
  | 'expire-token'
  /** A hostile answer: the page as usual, with an @odata.nextLink to `url` (another host). */
  | 'foreign-next-link'
  /** A hostile answer: `status` (default 302) with `Location: url`. */
  | 'redirect'
  /** A hostile or broken service: `status` (default 400) with an error message that repeats the request's Authorization header. */
  | 'echo-token'
  /** Answer 200 with `body` in place of the real answer: a malformed or hostile answer (in $batch, the item's body). */
  | 'body';

export interface FaultRule {
  api?: 'graph' | 'exchange';
  /** Regular expression source, matched case-insensitively. */
  route: string;
  method?: string;
  kind: FaultKind;
  status?: number;
  retryAfter?: number;
  delayMs?: number;
  /** Where `foreign-next-link` and `redirect` point. */
  url?: string;
  /** For `body`: the JSON body to answer with (null included). */
  body?: unknown;
  /** Let this many matching requests through first. @default 0 */
  after?: number;
  /** Affect at most this many matching requests. @default unlimited */
  times?: number;
}

interface ActiveRule {
  rule: FaultRule;
  regex: RegExp;
  seen: number;
  fired: number;
}

/** The fault rules of a running simulator; rules can be added and cleared while it runs. */
export class Faults {
  private rules: ActiveRule[] = [];
  private readonly liveTokens = new Set<string>();
  private readonly expiredTokens = new Set<string>();
  private holding: Array<() => void> = [];
  private holdWaiters: Array<() => void> = [];

  constructor(rules: readonly FaultRule[] = []) {
    for (const r of rules) this.add(r);
  }

  add(rule: FaultRule): void {
    this.rules.push({ rule, regex: new RegExp(rule.route, 'i'), seen: 0, fired: 0 });
  }

  clear(): void {
    this.rules = [];
    this.expiredTokens.clear();
  }

  /** Keeps a `hold` fault's answer back: resolves when {@link release} is called. */
  hold(): Promise<void> {
    return new Promise((resolve) => {
      this.holding.push(resolve);
      for (const w of this.holdWaiters.splice(0)) w();
    });
  }

  /** Resolves as soon as a request is held by a `hold` fault (at once when one is held already). */
  held(): Promise<void> {
    return this.holding.length ? Promise.resolve() : new Promise((resolve) => this.holdWaiters.push(resolve));
  }

  /** Lets every held answer go (to a client that may be gone by now). */
  release(): void {
    for (const r of this.holding.splice(0)) r();
  }

  /** Records a token in use; false when an `expire-token` fault has expired it. */
  acceptToken(tokenId: string): boolean {
    if (this.expiredTokens.has(tokenId)) return false;
    this.liveTokens.add(tokenId);
    return true;
  }

  /** The fault to apply to this request, if any; counts the request against matching rules. */
  take(api: 'graph' | 'exchange', method: string, route: string): FaultRule | undefined {
    for (const a of this.rules) {
      if (a.rule.api && a.rule.api !== api) continue;
      if (a.rule.method && a.rule.method.toUpperCase() !== method.toUpperCase()) continue;
      if (!a.regex.test(route)) continue;
      a.seen++;
      if (a.seen <= (a.rule.after ?? 0)) continue;
      if (a.fired >= (a.rule.times ?? Infinity)) continue;
      a.fired++;
      if (a.rule.kind === 'expire-token') {
        for (const t of this.liveTokens) this.expiredTokens.add(t);
        this.liveTokens.clear();
        continue;
      }
      return a.rule;
    }
    return undefined;
  }

}
