import { sha256 } from '../core/hash.js';

/** Most shards a fleet is split into: GitHub Actions runs at most 256 jobs of one matrix. */
export const MAX_SHARDS = 256;

export interface Shard {
  /** From 0. */
  readonly index: number;
  readonly count: number;
}

/** Bad shard options or engine variables: one message. */
export class ShardError extends Error {}

/**
 * The shard a tenant belongs to, of `count`: rendezvous (highest random weight) hashing of its key.
 * Each shard's weight for the key is the SHA-256 of key and shard, and the tenant goes to the
 * heaviest. It depends on the key and the count only, so adding or removing a tenant moves no other
 * tenant; going from N to N+1 shards moves only the tenants the new shard wins (about 1 in N+1).
 */
export function shardOf(key: string, count: number): number {
  let best = 0;
  let bestWeight = '';
  for (let i = 0; i < count; i++) {
    const w = sha256(`${key}\u0000${i}`);
    if (w > bestWeight) {
      bestWeight = w;
      best = i;
    }
  }
  return best;
}

/** The tenants of one shard, in the fleet's order. */
export function tenantsOfShard<T extends { readonly key: string }>(tenants: readonly T[], shard: Shard): T[] {
  return tenants.filter((t) => shardOf(t.key, shard.count) === shard.index);
}

const whole = (s: string | undefined): number | undefined => (s !== undefined && /^\d{1,4}$/.test(s.trim()) ? Number(s.trim()) : undefined);

/**
 * The shard this process runs, from `--shard I/N` (I from 1, as a matrix of 1..N gives it), else
 * from the engine: a Kubernetes Indexed Job's JOB_COMPLETION_INDEX (from 0) with `--shards N`, an
 * Azure DevOps parallel job's SYSTEM_JOBPOSITIONINPHASE (from 1) and SYSTEM_TOTALJOBSINPHASE.
 * Without any: the one shard of everything. Refused when they disagree or are out of range.
 */
export function resolveShard(o: { flag?: string | undefined; shards?: number | undefined; env: NodeJS.ProcessEnv }): Shard & { source: string } {
  const check = (index: number, count: number, source: string) => {
    if (!Number.isInteger(count) || count < 1 || count > MAX_SHARDS) throw new ShardError(`${source}: the number of shards must be 1 to ${MAX_SHARDS}, not ${count}`);
    if (!Number.isInteger(index) || index < 0 || index >= count) throw new ShardError(`${source}: shard ${index + 1} is not one of 1 to ${count}`);
    if (o.shards !== undefined && o.shards !== count) throw new ShardError(`${source} says ${count} shards, --shards says ${o.shards}`);
    return { index, count, source };
  };
  if (o.flag !== undefined) {
    const m = /^\s*(\d{1,4})\s*\/\s*(\d{1,4})\s*$/.exec(o.flag);
    if (!m) throw new ShardError(`--shard ${JSON.stringify(o.flag)} is not I/N, such as 1/4 (shard 1 of 4)`);
    return check(Number(m[1]) - 1, Number(m[2]), `--shard ${o.flag.trim()}`);
  }
  const k8s = o.env['JOB_COMPLETION_INDEX'];
  if (k8s !== undefined && k8s !== '') {
    const index = whole(k8s);
    if (index === undefined) throw new ShardError(`JOB_COMPLETION_INDEX ${JSON.stringify(k8s)} is not a whole number`);
    if (o.shards === undefined) throw new ShardError('JOB_COMPLETION_INDEX is set (a Kubernetes Indexed Job): give the number of shards, the Job\'s completions, with --shards N');
    return check(index, o.shards, `JOB_COMPLETION_INDEX=${index}`);
  }
  const position = o.env['SYSTEM_JOBPOSITIONINPHASE'];
  const total = o.env['SYSTEM_TOTALJOBSINPHASE'];
  if (position !== undefined && position !== '' && total !== undefined && total !== '') {
    const p = whole(position);
    const n = whole(total);
    if (p === undefined || n === undefined) throw new ShardError(`SYSTEM_JOBPOSITIONINPHASE ${JSON.stringify(position)} and SYSTEM_TOTALJOBSINPHASE ${JSON.stringify(total)} are not whole numbers`);
    return check(p - 1, n, `SYSTEM_JOBPOSITIONINPHASE=${p} of SYSTEM_TOTALJOBSINPHASE=${n}`);
  }
  // Running shard 1 of N for want of an index would leave the others' tenants unread without a word.
  if (o.shards !== undefined && o.shards > 1) throw new ShardError(`--shards ${o.shards} without a shard index: give --shard I/${o.shards}, or run where JOB_COMPLETION_INDEX or SYSTEM_JOBPOSITIONINPHASE is set`);
  return check(0, 1, 'the whole fleet');
}
