/**
 * The pages of one read as they arrive, for a read that can start on each page instead of waiting
 * for the whole list (the inbox rules of each page of mailboxes). Every consumer sees every page in
 * order; when the read fails, iterating throws its error after the pages that did arrive, so a
 * consumer never takes a partial list for a whole one.
 */
export class PageFeed<T> implements AsyncIterable<readonly T[]> {
  private readonly pages: (readonly T[])[] = [];
  private finished = false;
  private failure: { error: unknown } | undefined;
  private waiting: Array<() => void> = [];

  push(rows: readonly T[]): void {
    if (this.finished) throw new Error('a page after the end of the feed');
    if (rows.length) this.pages.push(rows);
    this.wake();
  }

  /** The read ended: completely, or with `error`. */
  end(error?: unknown): void {
    if (this.finished) return;
    this.finished = true;
    if (error !== undefined) this.failure = { error };
    this.wake();
  }

  private wake(): void {
    const w = this.waiting;
    this.waiting = [];
    for (const f of w) f();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<readonly T[]> {
    for (let i = 0; ; ) {
      if (i < this.pages.length) {
        yield this.pages[i++]!;
        continue;
      }
      if (this.finished) {
        if (this.failure) throw this.failure.error;
        return;
      }
      await new Promise<void>((r) => this.waiting.push(r));
    }
  }
}
