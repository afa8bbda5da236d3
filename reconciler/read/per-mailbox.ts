import type { GraphTransport } from '../transport/graph.js';
import { nextLinkFormProblem } from '../transport/middleware.js';

type Obj = Record<string, unknown>;

/** One collection to read in one mailbox: `url` relative to the Graph version, `key` how the caller knows it. */
export interface MailboxRead {
  readonly key: string;
  /** Who it is, for messages. */
  readonly label: string;
  readonly url: string;
}

/**
 * One page of a collection from a `$batch` item answered 200: a `value` array of objects, and maybe
 * an `@odata.nextLink` to the rest. Anything else is a malformed answer, never "nothing there".
 */
export function collectionPage(body: unknown, what: string): { value: Obj[]; next?: string } | { error: string } {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return { error: `the answer is ${body === null ? 'null' : Array.isArray(body) ? 'an array' : typeof body}, not a collection of ${what}` };
  const b = body as Obj;
  if (!Array.isArray(b['value'])) return { error: 'the answer has no value array' };
  if (!b['value'].every((r) => r !== null && typeof r === 'object' && !Array.isArray(r))) return { error: `the value array holds something that is not one of the ${what}` };
  const next = b['@odata.nextLink'];
  if (next !== undefined && typeof next !== 'string') return { error: 'the answer has an @odata.nextLink that is not a URL' };
  // Followed through the Graph transport, which resolves a path against its own root: only an
  // absolute link is a link (`//other.example/…` is another host, not a path on Graph).
  const problem = next === undefined ? undefined : nextLinkFormProblem(next);
  if (problem) return { error: problem };
  return { value: b['value'] as Obj[], ...(next !== undefined ? { next } : {}) };
}

/**
 * Reads one collection in each of many mailboxes through Graph `$batch`, 20 a batch, a few batches in
 * flight (the transport paces and retries; Outlook's per-mailbox limits hold per item). A mailbox
 * whose answer has a next link has the rest read through the transport. Every mailbox is read or
 * named among the failures: a partial read is never an empty one. `items` holds the mailboxes that
 * have something (a mailbox read and not among the failures has nothing). A mailbox that is not
 * enabled for REST (inactive, on-premises) has nothing to read: it is named in `notEnabled`.
 */
export async function readPerMailbox(
  graph: GraphTransport,
  /** The mailboxes: a list, or pages of them as another read yields them (its failure rejects this read, after what is in flight). */
  reads: readonly MailboxRead[] | AsyncIterable<readonly MailboxRead[]>,
  what: string,
  concurrency = 4,
  /** Called after each batch (done, total so far). */
  progress?: (done: number, total: number) => void,
): Promise<{ items: Map<string, Obj[]>; failures: string[]; denied: boolean; notEnabled: string[] }> {
  const items = new Map<string, Obj[]>();
  const notEnabled: string[] = [];
  const failures: string[] = [];
  let denied = false;
  // Batches waiting to be read; a batch taken is let go, so a long scan does not hold every mailbox's read.
  const chunks: Array<MailboxRead[] | undefined> = [];
  let total = 0;
  // Batches are filled to 20 across pages; the last one takes what is left.
  const pending: MailboxRead[] = [];
  let fed = false;
  let feedFailure: { error: unknown } | undefined;
  let wake: Array<() => void> = [];
  const signal = () => {
    const w = wake;
    wake = [];
    for (const f of w) f();
  };
  const take = (list: readonly MailboxRead[], final: boolean) => {
    pending.push(...list);
    total += list.length;
    while (pending.length >= 20 || (final && pending.length)) chunks.push(pending.splice(0, 20));
    signal();
  };
  const feeding = (async () => {
    try {
      if (Array.isArray(reads)) take(reads as readonly MailboxRead[], true);
      else {
        for await (const page of reads as AsyncIterable<readonly MailboxRead[]>) take(page, false);
        take([], true);
      }
    } catch (error) {
      feedFailure = { error };
    } finally {
      fed = true;
      signal();
    }
  })();
  let next = 0;
  let done = 0;
  /** The next batch, waiting for one while the feed goes on; undefined at its end (a failed feed's batches are still read: the answer is the same whenever it fails). */
  const nextChunk = async (): Promise<MailboxRead[] | undefined> => {
    for (;;) {
      if (next < chunks.length) {
        const chunk = chunks[next];
        chunks[next++] = undefined;
        return chunk;
      }
      if (fed) return undefined;
      await new Promise<void>((r) => wake.push(r));
    }
  };
  const worker = async () => {
    for (let chunk = await nextChunk(); chunk; chunk = await nextChunk()) {
      const more: Array<{ read: MailboxRead; link: string }> = [];
      try {
        const replies = await graph.batch(chunk.map((r, i) => ({ id: String(i), method: 'GET', url: r.url })));
        chunk.forEach((read, i) => {
          const r = replies.get(String(i));
          const code = (r?.body as { error?: { code?: string } } | undefined)?.error?.code;
          if (r && r.status === 200) {
            const page = collectionPage(r.body, what);
            if ('error' in page) return void failures.push(`${read.label}: malformed answer: ${page.error}`);
            // Only a mailbox that has something is kept: most have nothing, and a long scan would hold an empty list for each.
            const earlier = items.get(read.key);
            if (page.value.length) items.set(read.key, earlier ? [...earlier, ...page.value] : page.value);
            if (page.next !== undefined) more.push({ read, link: page.next });
          } else if (r && r.status === 404 && code === 'MailboxNotEnabledForRESTAPI') {
            notEnabled.push(read.key);
          } else {
            if (r?.status === 403) denied = true;
            failures.push(`${read.label}: HTTP ${r?.status ?? 0} ${code ?? ''}`.trim());
          }
        });
      } catch (err) {
        if ((err as { status?: number }).status === 403) denied = true;
        for (const r of chunk) failures.push(`${r.label}: ${(err as Error).message}`);
      }
      for (const { read, link } of more) {
        try {
          const rest = await graph.list<unknown>(link);
          const page = collectionPage({ value: rest }, what);
          if ('error' in page) failures.push(`${read.label}: malformed answer: ${page.error}`);
          else if (page.value.length) items.set(read.key, [...(items.get(read.key) ?? []), ...page.value]);
        } catch (err) {
          if ((err as { status?: number }).status === 403) denied = true;
          failures.push(`${read.label}: ${(err as Error).message}`);
        }
      }
      done += chunk.length;
      progress?.(done, total);
    }
  };
  await Promise.all([feeding, ...Array.from({ length: concurrency }, worker)]);
  if (feedFailure) throw feedFailure.error;
  return { items, failures, denied, notEnabled };
}
