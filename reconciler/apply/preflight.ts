import { CATALOGUE } from '../../policies/catalogue.js';
import type { Manifest } from '../manifest/schema.js';
import type { PlannedChange, Write } from '../model/change.js';
import type { LiveState } from '../model/live.js';
import { readFailed } from '../read/failed.js';
import { typesToRead } from '../read/live.js';
import { ALWAYS_READ, hasRails, RESOURCES, resourceType } from '../resources/registry.js';
import type { NarrowReadable, Obj, ReadContext, ResourceType } from '../resources/types.js';

/*
 * Apply's preflight reads what the plan's changes touch, not the whole tenant: the sections the
 * changes' controls are computed from (each read whole, as a plan reads it), the sections the rails
 * of the changed types judge by, and the users and groups references resolve in (unless nothing of
 * the plan can resolve a reference: see `typesFor`). A type whose
 * findings are each computed from its own object alone (inbox rules) is read only where the writes
 * act: the rules of the mailboxes they name, not of every mailbox. Everything a change's finding,
 * its write and its rails are computed from is read again, so a stale plan is refused as after a
 * full read; sections no change depends on are not read.
 */

const unversioned = (id: string) => id.replace(/v\d+$/, '');
const isNarrowReadable = (t: ResourceType): t is ResourceType & NarrowReadable => 'readTouched' in t;

/** What the preflight read, and the posture narrowed to the controls it judges. */
export interface TouchedState {
  /** The posture with only the controls the plan's changes come from: evaluated, it gives their findings as a full run does. */
  readonly manifest: Manifest;
  readonly live: LiveState;
  /** Each change's target, as its type's `readTarget` reads it, where the narrow read showed it: read at this preflight. */
  readonly targets: ReadonlyMap<PlannedChange, unknown>;
  /** The types read, by key, and which of them only where the writes act. */
  readonly read: readonly string[];
  readonly narrow: readonly string[];
}

/**
 * Whether a type may be read only where the writes act: every control of the plan that reads it
 * writes only it, so each of that control's findings is about one object of it (and sections read
 * whole), and the findings of the objects the plan writes come out as from a full read.
 */
function narrowable(t: ResourceType, controls: ReadonlySet<string>, changes: readonly PlannedChange[]): boolean {
  if (!isNarrowReadable(t) || !changes.some((c) => c.resource.type === t.key)) return false;
  return CATALOGUE.filter((c) => controls.has(c.id) && c.resources.read.includes(t.key)).every((c) => c.resources.write?.length === 1 && c.resources.write[0] === t.key);
}

/**
 * The types the changes need read: those of their controls, and those of the rails of the changed
 * types, with what each read needs first. The users and groups every plan reads (owners and
 * references resolve in them) are left out when every change is of a type read narrowly, whose
 * findings come from its own objects and the sections its controls name (see {@link NarrowReadable}),
 * and no control of the plan names them.
 */
function typesFor(manifest: Manifest, changes: readonly PlannedChange[], controls: ReadonlySet<string>): ResourceType[] {
  const keys = new Set(typesToRead(manifest).map((t) => t.key));
  const named = new Set(CATALOGUE.filter((c) => controls.has(c.id)).flatMap((c) => c.resources.read));
  const railed = RESOURCES.filter(hasRails).some((t) => changes.some((c) => c.resource.type === t.key));
  if (!railed && changes.every((c) => narrowable(resourceType(c.resource.type), controls, changes))) {
    for (const k of ALWAYS_READ) if (!named.has(k)) keys.delete(k);
  }
  const add = (key: string) => {
    if (keys.has(key)) return;
    keys.add(key);
    const t = resourceType(key);
    for (const dep of [...(t.read?.after ?? []), ...(t.read?.alongside ? [t.read.alongside] : [])]) add(dep);
  };
  for (const t of RESOURCES.filter(hasRails)) if (changes.some((c) => c.resource.type === t.key) && t.read) add(t.key);
  return RESOURCES.filter((t) => keys.has(t.key) && t.read);
}

/** One section read whole, as a plan reads it; a failure is a failed section, never an empty one. */
async function readWhole(t: ResourceType, ctx: ReadContext, live: LiveState, m: Manifest): Promise<unknown> {
  const spec = t.read!;
  const how = spec.how;
  const endpoint = how.kind === 'exchange' ? `Exchange ${how.cmdlet}` : how.kind === 'custom' ? how.endpoint : how.path;
  try {
    if (how.kind === 'custom') return await how.run(ctx, live, m);
    const value = how.kind === 'graph-list' ? await ctx.graph.list<Obj>(how.path) : how.kind === 'graph-get' ? await ctx.graph.call<Obj>('GET', how.path) : await ctx.exchange.invoke<Obj>(how.cmdlet, how.parameters ?? {});
    return { ok: true, value, endpoint, readAt: new Date().toISOString() };
  } catch (err) {
    return readFailed(endpoint, err, spec);
  }
}

/**
 * Reads what the plan's changes touch (see above). Reads run concurrently; a read that uses
 * another's (inbox rules, the mailbox list) waits for it, and a conditional one reads only when what
 * it depends on calls for it.
 */
export async function readTouched(changes: readonly PlannedChange[], manifest: Manifest, ctx: ReadContext): Promise<TouchedState> {
  const controls = new Set(changes.map((c) => String(c.control)));
  const narrowed: Manifest = { ...manifest, controls: manifest.controls.filter((c) => controls.has(c.id)) };
  const unversionedControls = new Set([...controls].map(unversioned));
  const types = typesFor(narrowed, changes, unversionedControls);
  const live: LiveState = {};
  const targets = new Map<PlannedChange, unknown>();
  const narrow: string[] = [];
  const reads = new Map<string, Promise<void>>();
  for (const t of types) {
    const spec = t.read!;
    // A read taken alongside another (page by page, in a plan) here simply follows it.
    const deps = [...(spec.after ?? []), ...(spec.alongside ? [spec.alongside] : [])].map((k) => reads.get(k)!);
    const optional = (spec.afterIfRead ?? []).flatMap((k) => reads.get(k) ?? []);
    reads.set(
      t.key,
      Promise.all([...deps, ...optional]).then(async () => {
        if (spec.when && !spec.when(live, narrowed)) return;
        const section = spec.section;
        if (isNarrowReadable(t) && narrowable(t, unversionedControls, changes)) {
          narrow.push(t.key);
          const mine = changes.filter((c) => c.resource.type === t.key);
          let got;
          try {
            got = await t.readTouched(ctx, live, mine.map((c) => c.write as Write));
          } catch (err) {
            (live as Record<string, unknown>)[section] = readFailed(spec.how.kind === 'custom' ? spec.how.endpoint : t.title, err, spec);
            return;
          }
          (live as Record<string, unknown>)[section] = got.section;
          got.targets?.forEach((v, i) => {
            if (v !== undefined) targets.set(mine[i]!, v);
          });
          return;
        }
        (live as Record<string, unknown>)[section] = await readWhole(t, ctx, live, narrowed);
      }),
    );
  }
  await Promise.all(reads.values());
  // The checks of the posture's areas run whatever controls are declared, and judge only the declared
  // ones: a section no change depends on is marked not read, so those checks skip it.
  const readAt = new Date().toISOString();
  const sections = live as Record<string, unknown>;
  for (const t of RESOURCES) {
    const section = t.read?.section;
    if (!section || sections[section] !== undefined || types.includes(t)) continue;
    sections[section] = section === 'dns' ? new Map() : { ok: false, endpoint: NOT_READ, readAt, reason: 'read-failed', error: 'not read: no change of the plan depends on it' };
  }
  return { manifest: narrowed, live, targets, read: types.map((t) => t.key), narrow };
}

/** The endpoint of the sections the preflight leaves unread: what evaluating them reports is not a failed read. */
export const NOT_READ = 'not read by the preflight';

/** The failed reads of a preflight's evaluation: every one but the sections it left unread. */
export const failedReads = <T extends { readonly endpoint: string }>(incomplete: readonly T[]): T[] => incomplete.filter((i) => i.endpoint !== NOT_READ);
