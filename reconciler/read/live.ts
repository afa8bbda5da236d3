import { CATALOGUE } from '../../policies/catalogue.js';
import type { Manifest } from '../manifest/schema.js';
import type { LiveState, Section } from '../model/live.js';
import { ALWAYS_READ, RESOURCES, resourceType } from '../resources/registry.js';
import type { Obj, ReadContext, ResourceType } from '../resources/types.js';
import { PageFeed } from './feed.js';
import { readFailed } from './failed.js';

export type { AppPermissions, InboxRules, LiveState, MailboxRef, Section } from '../model/live.js';
export type { ReadContext } from '../resources/types.js';
export { readInboxRules } from '../resources/inbox-rule.js';

const now = () => new Date().toISOString();

/** The resource types the declared controls read (users and groups always: owners and references resolve in them), with what their reads need first. */
export function typesToRead(m: Manifest): ResourceType[] {
  const keys = new Set<string>(ALWAYS_READ);
  const declared = new Set(m.controls.map((c) => c.id.replace(/v\d+$/, '')));
  for (const c of CATALOGUE) if (declared.has(c.id)) for (const k of c.resources.read) keys.add(k);
  const out = new Map<string, ResourceType>();
  const add = (key: string) => {
    if (out.has(key)) return;
    const t = resourceType(key);
    for (const dep of [...(t.read?.after ?? []), ...(t.read?.alongside ? [t.read.alongside] : [])]) add(dep);
    out.set(key, t);
  };
  for (const k of keys) add(k);
  // In registry order, whatever order the catalogue names them in; a type read after another follows it.
  return RESOURCES.filter((t) => out.has(t.key) && t.read);
}

/**
 * Rows of a long Exchange list repeat the same short string lists (a mailbox's audited actions,
 * its address types) and the same strings: equal lists are held once, so 60,000 mailboxes do not
 * hold 60,000 copies.
 * Pages are shared as they arrive, so the copies of one page are garbage before the next is read,
 * never the whole list's. The rows are read-only from here on; nothing downstream changes a list in place.
 */
function listSharer(): (rows: readonly Obj[]) => void {
  const seen = new Map<string, readonly unknown[]>();
  // Most rows hold the same list as the row before: compared in place, no key is built for them.
  const last = new Map<string, readonly unknown[]>();
  const same = (a: readonly unknown[], b: readonly unknown[]) => {
    if (a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
    return true;
  };
  // Strings too: a value equal to the row before's under the same key (a type, a retention), or to
  // another value of the same row (a mailbox's address is its user name), is held once.
  const lastText = new Map<string, string>();
  return (rows) => {
    for (const row of rows) {
      const inRow = new Map<string, string>();
      for (const k in row) {
        const v = row[k];
        if (typeof v === 'string') {
          const same = lastText.get(k) === v ? lastText.get(k)! : inRow.get(v);
          if (same !== undefined) row[k] = same;
          else inRow.set(v, v);
          lastText.set(k, same ?? v);
          continue;
        }
        if (!Array.isArray(v) || v.length === 0 || v.length > 32) continue;
        const previous = last.get(k);
        if (previous && previous !== v && same(previous, v)) {
          row[k] = previous;
          continue;
        }
        if (!v.every((x) => typeof x === 'string')) continue;
        const key = `${k}\u0000${v.join('\u0000')}`;
        const shared = seen.get(key);
        if (shared) row[k] = shared;
        else if (seen.size < 10_000) seen.set(key, v);
        last.set(k, shared ?? v);
      }
    }
  };
}

/** What an Exchange read does with each page as it arrives: its equal lists shared, then the page given to the read that takes it alongside. */
function pageByPage(feed: PageFeed<Obj> | undefined): (rows: readonly Obj[]) => void {
  const share = listSharer();
  return (rows) => {
    share(rows);
    feed?.push(rows);
  };
}

/**
 * Reads one type into its section's value; a failure is a failed section, never an empty one.
 * `feed`, when another read takes this one alongside, gets its rows page by page (an Exchange
 * cmdlet's as each page arrives, anything else's at once) and then its end, or its failure.
 */
async function readOne(t: ResourceType, ctx: ReadContext, live: LiveState, m: Manifest, feed?: PageFeed<Obj>, pages?: AsyncIterable<readonly Obj[]>): Promise<unknown> {
  const spec = t.read!;
  const how = spec.how;
  const endpoint = how.kind === 'exchange' ? `Exchange ${how.cmdlet}` : how.kind === 'custom' ? how.endpoint : how.path;
  try {
    if (how.kind === 'custom') {
      const section = (await how.run(ctx, live, m, pages)) as Section<unknown> | undefined;
      // A custom read that another takes alongside gives its rows at its end, or its failure.
      if (feed) {
        if (section?.ok && Array.isArray(section.value)) {
          feed.push(section.value as Obj[]);
          feed.end();
        } else feed.end(new Error(`${endpoint} could not be read`));
      }
      return section;
    }
    const value =
      how.kind === 'graph-list' ? await ctx.graph.list<Obj>(how.path)
      : how.kind === 'graph-get' ? await ctx.graph.call<Obj>('GET', how.path)
      : await ctx.exchange.invoke<Obj>(how.cmdlet, how.parameters ?? {}, pageByPage(feed));
    if (feed && how.kind !== 'exchange') feed.push(Array.isArray(value) ? (value as Obj[]) : [value as Obj]);
    feed?.end();
    return { ok: true, value, endpoint, readAt: now() } satisfies Section<unknown>;
  } catch (err) {
    feed?.end(err ?? new Error(`${endpoint} could not be read`));
    return readFailed(endpoint, err, spec);
  }
}

/**
 * Reads exactly the resource types the declared controls need, each collection once, with
 * `$select` where the API has it, as each type declares. Reads run concurrently; a read that uses
 * another type's (inbox rules per mailbox) waits for it, and a conditional one (managers) reads
 * only when what it depends on calls for it. The paced endpoints pace themselves in the transport.
 */
export async function readTenant(m: Manifest, ctx: ReadContext): Promise<LiveState> {
  const live: LiveState = {};
  const reads = new Map<string, Promise<void>>();
  const types = typesToRead(m);
  // The reads another one takes alongside publish their pages as they come.
  const feeds = new Map<string, PageFeed<Obj>>();
  for (const t of types) if (t.read?.alongside) feeds.set(t.read.alongside, feeds.get(t.read.alongside) ?? new PageFeed<Obj>());
  for (const t of types) {
    const spec = t.read!;
    const deps = [...(spec.after ?? []).map((k) => reads.get(k)!), ...(spec.afterIfRead ?? []).flatMap((k) => reads.get(k) ?? [])];
    reads.set(
      t.key,
      Promise.all(deps).then(async () => {
        if (spec.when && !spec.when(live, m)) return feeds.get(t.key)?.end(new Error(`${t.title} were not read`));
        (live as Record<string, unknown>)[spec.section] = await readOne(t, ctx, live, m, feeds.get(t.key), spec.alongside ? feeds.get(spec.alongside) : undefined);
      }),
    );
  }
  await Promise.all(reads.values());
  return live;
}
