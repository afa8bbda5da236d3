/** One request the simulator answered; tests and benchmarks count what the client did from these. */
export interface RequestLogEntry {
  readonly api: 'graph' | 'exchange' | 'identity';
  readonly method: string;
  /** Path and query as requested, e.g. `/v1.0/users?$top=999`; for a $batch item, its relative URL. */
  readonly path: string;
  readonly status: number;
  /** Milliseconds since the epoch when the answer was sent. */
  readonly time: number;
  /** Set on items of a `$batch`, with the id of the outer request's log entry. */
  readonly batch?: number;
  /** For Exchange, the cmdlet invoked. */
  readonly cmdlet?: string;
}

/** An append-only request log with simple counters. */
export class RequestLog {
  readonly entries: RequestLogEntry[] = [];
  private limit: number;

  constructor(limit = 1_000_000) {
    this.limit = limit;
  }

  add(entry: RequestLogEntry): number {
    if (this.entries.length >= this.limit) this.entries.shift();
    this.entries.push(entry);
    return this.entries.length - 1;
  }

  count(predicate: (e: RequestLogEntry) => boolean = () => true): number {
    let n = 0;
    for (const e of this.entries) if (predicate(e)) n++;
    return n;
  }

  clear(): void {
    this.entries.length = 0;
  }
}
