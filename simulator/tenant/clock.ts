import type { Collection, Entity } from './collection.js';

/**
 * The simulator's clock. It follows the wall clock until a test sets it (or from the start, when the
 * scenario gives a `clock`); from then on it stands still except when moved, so what a scenario's
 * timeline shows is deterministic.
 */
export class SimClock {
  private fixed: number | undefined;

  /** `start` fixes the clock from the outset (a scenario's `clock`). */
  constructor(start?: string) {
    if (start !== undefined) this.set(start);
  }

  /** The current time of the simulated tenant, in milliseconds since the epoch. */
  now(): number {
    return this.fixed ?? Date.now();
  }

  /** Sets the clock to an instant (ISO 8601 or epoch milliseconds); it stays there until moved. */
  set(at: string | number): void {
    const ms = typeof at === 'number' ? at : Date.parse(at);
    if (!Number.isFinite(ms)) throw new Error(`not a time: ${String(at)}`);
    this.fixed = ms;
  }

  /** Moves the clock forward (from the wall clock, the first time) by `ms` milliseconds. */
  advance(ms: number): void {
    if (!Number.isFinite(ms) || ms < 0) throw new Error(`cannot move the clock by ${String(ms)} ms`);
    this.fixed = this.now() + ms;
  }

  /** The current time as Graph writes it, e.g. 2026-09-14T10:51:02Z. */
  iso(): string {
    return new Date(this.now()).toISOString().slice(0, 19) + 'Z';
  }
}

/** One step of a scenario's timeline: Graph objects, by collection, that appear once the clock reaches `at`. */
export interface TimelineEntry {
  readonly at: string;
  readonly collections: Readonly<Record<string, readonly Entity[]>>;
}

/**
 * Signals that arrive over time. Entries are released in order of `at` into the tenant's Graph
 * collections once the clock has reached them; an object whose id is already there replaces it (a
 * risky user's state changing), any other is added.
 */
export class Timeline {
  private readonly pending: TimelineEntry[];

  constructor(entries: readonly TimelineEntry[] = []) {
    this.pending = [...entries].sort((a, b) => Date.parse(a.at) - Date.parse(b.at));
  }

  /** Entries not yet released. */
  get size(): number {
    return this.pending.length;
  }

  /** Releases every entry due at `now` into `graph`; returns how many were released. */
  release(now: number, graph: Readonly<Record<string, Collection>>): number {
    let released = 0;
    while (this.pending.length && Date.parse(this.pending[0]!.at) <= now) {
      const entry = this.pending.shift()!;
      for (const [name, items] of Object.entries(entry.collections)) {
        const collection = graph[name];
        if (!collection) throw new Error(`timeline entry at ${entry.at} names no collection ${name}`);
        for (const item of items) {
          const copy = structuredClone(item);
          if (collection.get(copy.id)) collection.replace(copy.id, copy);
          else collection.insert(copy);
        }
      }
      released++;
    }
    return released;
  }
}
