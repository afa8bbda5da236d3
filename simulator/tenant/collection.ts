/** An object the simulator stores, as the API returns it. */
export type Entity = { id: string } & Record<string, unknown>;

/**
 * A collection of entities that can be paged by position. Positions are stable while the
 * collection is paged (deleted items leave a hole that paging skips), as a server-side cursor is.
 */
export interface Collection<T extends Entity = Entity> {
  /** Number of positions, including holes. */
  readonly size: number;
  at(position: number): T | undefined;
  get(id: string): T | undefined;
  /** Items whose `field` equals `value` (case-insensitive for strings), using an index where there is one. */
  findBy(field: string, value: unknown): T[];
  insert(item: T): void;
  replace(id: string, item: T): void;
  remove(id: string): boolean;
  values(): IterableIterator<T>;
}

const key = (v: unknown) => (typeof v === 'string' ? v.toLowerCase() : JSON.stringify(v));

/** A collection held in memory. */
export class ArrayCollection<T extends Entity = Entity> implements Collection<T> {
  private readonly items: Array<T | undefined> = [];
  private readonly positions = new Map<string, number>();
  private readonly indexes = new Map<string, Map<string, number[]>>();

  constructor(items: readonly T[] = [], private readonly indexed: readonly string[] = []) {
    for (const i of items) this.insert(i);
  }

  get size(): number {
    return this.items.length;
  }

  at(position: number): T | undefined {
    return this.items[position];
  }

  get(id: string): T | undefined {
    const p = this.positions.get(id.toLowerCase());
    return p === undefined ? undefined : this.items[p];
  }

  findBy(field: string, value: unknown): T[] {
    if (field === 'id') return typeof value === 'string' && this.get(value) ? [this.get(value)!] : [];
    const index = this.indexes.get(field);
    if (index) return (index.get(key(value)) ?? []).map((p) => this.items[p]).filter((x): x is T => x !== undefined);
    return [...this.values()].filter((i) => key(i[field]) === key(value));
  }

  insert(item: T): void {
    if (this.positions.has(item.id.toLowerCase())) throw new Error(`duplicate id ${item.id}`);
    const p = this.items.length;
    this.items.push(item);
    this.positions.set(item.id.toLowerCase(), p);
    for (const f of this.indexed) {
      let index = this.indexes.get(f);
      if (!index) this.indexes.set(f, (index = new Map()));
      const k = key(item[f]);
      index.set(k, [...(index.get(k) ?? []), p]);
    }
  }

  replace(id: string, item: T): void {
    const p = this.positions.get(id.toLowerCase());
    if (p === undefined) throw new Error(`no item ${id}`);
    for (const f of this.indexed) {
      const index = this.indexes.get(f)!;
      const oldKey = key(this.items[p]![f]);
      index.set(oldKey, (index.get(oldKey) ?? []).filter((x) => x !== p));
      const k = key(item[f]);
      index.set(k, [...(index.get(k) ?? []), p]);
    }
    this.items[p] = item;
  }

  remove(id: string): boolean {
    const p = this.positions.get(id.toLowerCase());
    if (p === undefined) return false;
    for (const f of this.indexed) {
      const index = this.indexes.get(f)!;
      const k = key(this.items[p]![f]);
      index.set(k, (index.get(k) ?? []).filter((x) => x !== p));
    }
    this.items[p] = undefined;
    this.positions.delete(id.toLowerCase());
    return true;
  }

  *values(): IterableIterator<T> {
    for (const i of this.items) if (i !== undefined) yield i;
  }
}

/**
 * A collection whose first `count` items are computed on demand from their position, so a tenant of
 * 100,000 users costs no memory until they are read. Changes are kept in an overlay; items added
 * later live in an ArrayCollection after the generated ones.
 */
export class GeneratedCollection<T extends Entity = Entity> implements Collection<T> {
  private readonly changed = new Map<number, T | null>();
  private readonly extra: ArrayCollection<T>;

  constructor(
    private readonly count: number,
    private readonly make: (position: number) => T,
    /** Position of the generated item with this id or field value, if any (lets lookups avoid a scan). */
    private readonly locate: (field: string, value: unknown) => number | undefined,
    extra: readonly T[] = [],
  ) {
    this.extra = new ArrayCollection(extra);
  }

  get size(): number {
    return this.count + this.extra.size;
  }

  at(position: number): T | undefined {
    if (position >= this.count) return this.extra.at(position - this.count);
    const c = this.changed.get(position);
    if (c === null) return undefined;
    return c ?? this.make(position);
  }

  get(id: string): T | undefined {
    const p = this.locate('id', id);
    if (p !== undefined && p >= 0 && p < this.count) return this.at(p);
    return this.extra.get(id);
  }

  findBy(field: string, value: unknown): T[] {
    const p = this.locate(field, value);
    if (p !== undefined) {
      const item = p >= 0 && p < this.count ? this.at(p) : undefined;
      const key2 = (v: unknown) => (typeof v === 'string' ? v.toLowerCase() : v);
      return [...(item && key2(item[field]) === key2(value) ? [item] : []), ...this.extra.findBy(field, value)];
    }
    return [...this.values()].filter((i) => (typeof value === 'string' ? String(i[field]).toLowerCase() === value.toLowerCase() : i[field] === value));
  }

  insert(item: T): void {
    this.extra.insert(item);
  }

  replace(id: string, item: T): void {
    const p = this.locate('id', id);
    if (p !== undefined && p >= 0 && p < this.count) this.changed.set(p, item);
    else this.extra.replace(id, item);
  }

  remove(id: string): boolean {
    const p = this.locate('id', id);
    if (p !== undefined && p >= 0 && p < this.count) {
      if (this.changed.get(p) === null) return false;
      this.changed.set(p, null);
      return true;
    }
    return this.extra.remove(id);
  }

  *values(): IterableIterator<T> {
    for (let p = 0; p < this.size; p++) {
      const i = this.at(p);
      if (i !== undefined) yield i;
    }
  }
}
