import { ArrayCollection, type Entity } from './collection.js';

/**
 * Items kept per user (per mailbox), keyed by user object id: inbox rules today, and whatever else
 * lives in a mailbox. Items of users not given are computed on demand by `generate`, so a generated
 * tenant holds only what a client changed.
 */
export class PerUserStore {
  private readonly fixed = new Map<string, ArrayCollection>();
  private readonly removed = new Set<string>();

  constructor(
    items: Record<string, Entity[]> = {},
    /** Items of users not in `items`, computed on demand. */
    private readonly generate?: (userId: string) => Entity[],
    /** The order `list` returns items in. */
    private readonly order?: (a: Entity, b: Entity) => number,
  ) {
    for (const [user, list] of Object.entries(items)) this.fixed.set(user.toLowerCase(), new ArrayCollection(list));
  }

  /** The items of a user, in the store's order. */
  list(userId: string): Entity[] {
    const fixed = this.fixed.get(userId.toLowerCase());
    const all = fixed ? [...fixed.values()] : (this.generate?.(userId) ?? []);
    const kept = all.filter((r) => !this.removed.has(`${userId.toLowerCase()}/${r.id}`));
    return this.order ? kept.sort(this.order) : kept;
  }

  /** Adds an item to a user's items. */
  add(userId: string, item: Entity): void {
    const key = userId.toLowerCase();
    let fixed = this.fixed.get(key);
    if (!fixed) {
      fixed = new ArrayCollection(this.generate?.(userId) ?? []);
      this.fixed.set(key, fixed);
    }
    fixed.insert(item);
  }

  /** Replaces one of a user's items (by id) with what `change` makes of it; false when there is none. */
  update(userId: string, itemId: string, change: (item: Entity) => Entity): boolean {
    const item = this.list(userId).find((r) => r.id === itemId);
    if (!item) return false;
    const key = userId.toLowerCase();
    let fixed = this.fixed.get(key);
    if (!fixed) {
      fixed = new ArrayCollection(this.generate?.(userId) ?? []);
      this.fixed.set(key, fixed);
    }
    fixed.replace(itemId, change(item));
    return true;
  }

  /** The user ids whose items are held (those of `generate` are not listed). */
  users(): string[] {
    return [...this.fixed.keys()];
  }

  remove(userId: string, itemId: string): boolean {
    if (!this.list(userId).some((r) => r.id === itemId)) return false;
    this.removed.add(`${userId.toLowerCase()}/${itemId}`);
    return true;
  }
}
