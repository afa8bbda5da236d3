import { describe, expect, it } from 'vitest';
import { PageFeed } from '../../reconciler/read/feed.js';
import { readPerMailbox, type MailboxRead } from '../../reconciler/read/per-mailbox.js';
import type { GraphTransport } from '../../reconciler/transport/graph.js';

type Obj = Record<string, unknown>;

/** A Graph transport whose $batch answers every item with one rule named after its URL, and records each batch's size. */
function fakeGraph(): { graph: GraphTransport; batches: number[] } {
  const batches: number[] = [];
  const graph = {
    batch: async (items: Array<{ id: string; url: string }>) => {
      batches.push(items.length);
      await new Promise((r) => setTimeout(r, 1));
      return new Map(items.map((i) => [i.id, { status: 200, body: { value: [{ displayName: i.url }] } }]));
    },
    list: async () => [],
  } as unknown as GraphTransport;
  return { graph, batches };
}

const reads = (from: number, n: number): MailboxRead[] => Array.from({ length: n }, (_, i) => ({ key: String(from + i), label: `u${from + i}`, url: `/users/u${from + i}/mailFolders/inbox/messageRules` }));

async function* pagesOf(pages: MailboxRead[][], failAfter?: number): AsyncGenerator<MailboxRead[]> {
  for (const [i, p] of pages.entries()) {
    if (failAfter !== undefined && i === failAfter) throw new Error('Get-Mailbox failed on page 2');
    await new Promise((r) => setTimeout(r, 2));
    yield p;
  }
}

describe('PageFeed', () => {
  it('gives every consumer every page in order, then ends; a consumer that starts late still sees the first pages', async () => {
    const feed = new PageFeed<number>();
    const early: number[][] = [];
    const first = (async () => {
      for await (const p of feed) early.push([...p]);
    })();
    feed.push([1, 2]);
    await new Promise((r) => setTimeout(r, 1));
    feed.push([3]);
    feed.push([]);
    feed.end();
    await first;
    const late: number[][] = [];
    for await (const p of feed) late.push([...p]);
    expect(early).toEqual([[1, 2], [3]]);
    expect(late).toEqual(early);
  });

  it('a failed read throws its error after the pages that arrived: a partial list is never a whole one', async () => {
    const feed = new PageFeed<number>();
    feed.push([1]);
    feed.end(new Error('the mailbox list could not be read'));
    const seen: number[] = [];
    await expect((async () => {
      for await (const p of feed) seen.push(...p);
    })()).rejects.toThrow('the mailbox list could not be read');
    expect(seen).toEqual([1]);
    expect(() => feed.push([2])).toThrow();
  });
});

describe('readPerMailbox over pages as they arrive', () => {
  it('reads every mailbox of every page, 20 a batch across page boundaries, the same as from the whole list', async () => {
    const { graph, batches } = fakeGraph();
    const pages = [reads(0, 30), reads(30, 25), reads(55, 7)];
    const r = await readPerMailbox(graph, pagesOf(pages), 'rules', 3);
    expect(r.failures).toEqual([]);
    expect([...r.items.keys()].map(Number).sort((a, b) => a - b)).toEqual(Array.from({ length: 62 }, (_, i) => i));
    expect(r.items.get('61')).toEqual([{ displayName: '/users/u61/mailFolders/inbox/messageRules' } satisfies Obj]);
    expect(batches.reduce((a, b) => a + b, 0)).toBe(62);
    expect(batches.filter((b) => b !== 20)).toEqual([2]);
    const whole = await readPerMailbox(fakeGraph().graph, pages.flat(), 'rules', 3);
    expect(new Map([...whole.items].sort())).toEqual(new Map([...r.items].sort()));
  });

  it('when the pages stop with an error, the read rejects with it, never a clean partial answer', async () => {
    const { graph } = fakeGraph();
    await expect(readPerMailbox(graph, pagesOf([reads(0, 20), reads(20, 20), reads(40, 20)], 2), 'rules', 2)).rejects.toThrow('Get-Mailbox failed on page 2');
  });

  it('no pages at all: nothing read, nothing failed', async () => {
    const { graph, batches } = fakeGraph();
    const r = await readPerMailbox(graph, pagesOf([]), 'rules');
    expect([r.items.size, r.failures, batches]).toEqual([0, [], []]);
  });
});
