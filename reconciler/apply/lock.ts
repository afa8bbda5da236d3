/**
 * The run lock: one apply or rollback at a time per tenant and per evidence trail. Each lock is a
 * directory made atomically by proper-lockfile, kept fresh while the run lasts, with a small file
 * beside it naming the holder (pid, host, start time, command) for the message another run gets.
 * A lock left by a killed process is taken over: within seconds when its holder was on this host
 * and its process is gone, otherwise once it has not been refreshed for {@link STALE_MS}.
 */
import { sha256 } from '../core/hash.js';
import { mkdirSync, readFileSync, readlinkSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { hostname, tmpdir, userInfo } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import lockfile from 'proper-lockfile';
import { redactSecrets } from '../core/redact.js';
import { trailTarget } from '../evidence/store.js';
import { InputError } from '../input/synth-output.js';

/** A lock not refreshed for this long is stale: its holder is gone (or hung), and the next run takes it over. */
export const STALE_MS = 30_000;
/** How often a holder refreshes its locks. */
const UPDATE_MS = 5_000;
/** The least staleness proper-lockfile accepts: a lock whose holder is known to be gone is taken over once it is this old. */
const GONE_MS = 2_000;

/** Who holds a lock, as it wrote beside the lock when it took it. */
export interface LockHolder {
  readonly pid: number;
  readonly host: string;
  /** ISO time the holder took the lock. */
  readonly started: string;
  /** The command line it runs, e.g. `posture apply plan.json --auto-approve`. */
  readonly command: string;
  /**
   * Which running system and process namespace its pid belongs to (see {@link thisMachine}):
   * containers that share a host name (host networking) do not share pids.
   */
  readonly machine?: string;
}

/**
 * This system's boot and process namespace, as one hash: two processes whose pids can be compared
 * have the same value. Undefined where the system does not say (no /proc).
 */
export function thisMachine(): string | undefined {
  try {
    const boot = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
    const pids = readlinkSync('/proc/self/ns/pid');
    return sha256(`${boot} ${pids}`).slice(0, 32);
  } catch {
    return undefined;
  }
}

/** Another run holds a lock: nothing was read or written. */
export class RunLocked extends InputError {}

/** The locks of one apply or rollback. */
export interface RunLock {
  /** Throws when a lock was lost while the run held it (taken over by another run): no further write may start. */
  assertHeld(): void;
  /** Releases every lock (idempotent). */
  release(): Promise<void>;
}

export interface RunLockOptions {
  /** The tenant the run writes to. */
  readonly tenant: string;
  /** The evidence file the run appends to, when it records. */
  readonly trail?: string;
  /** Where tenant locks live (default: `POSTURE_LOCK_DIR`, else a folder of this user's under the system temp folder). */
  readonly lockDir?: string;
  /** Told when a lock left by a killed process is taken over. */
  readonly notice?: (message: string) => void;
}

/** The folder tenant locks are kept in. */
export function lockDirectory(env: NodeJS.ProcessEnv = process.env): string {
  const set = env['POSTURE_LOCK_DIR'];
  if (set) return resolve(set);
  let user: string;
  try {
    user = String(userInfo().uid >= 0 ? userInfo().uid : userInfo().username);
  } catch {
    user = 'user';
  }
  return join(tmpdir(), `email-posture-${user}`, 'locks');
}

/**
 * Refuses a lock folder another user could change: not owned by this user, or writable by others.
 * Whoever can change it can remove a run's lock (and let a second apply write at once) or fake one.
 */
function ownFolder(dir: string): void {
  const uid = process.getuid?.();
  if (uid === undefined) return;
  const st = statSync(dir);
  if (st.uid !== uid || (st.mode & 0o022) !== 0) {
    throw new InputError(
      `the lock folder ${printable(dir)} is not this user's own (owner uid ${st.uid}, mode ${(st.mode & 0o777).toString(8)}): another user could remove or fake its locks. Remove it, or set POSTURE_LOCK_DIR to a folder of your own`,
    );
  }
}

/** The file a tenant's lock is named after: the tenant id or domain as it is when safe, else its hash. */
function tenantTarget(dir: string, tenant: string): string {
  const t = tenant.trim().toLowerCase();
  return join(dir, `tenant-${/^[a-z0-9][a-z0-9.-]{0,100}$/.test(t) ? t : sha256(t).slice(0, 32)}`);
}

const lockPathOf = (target: string) => `${target}.lock`;
const holderPathOf = (target: string) => `${target}.lock.holder.json`;

/** Strips what a terminal would act on, and any secret, from a string another process wrote. */
function printable(value: unknown, max = 300): string {
  const s = redactSecrets(String(value ?? '')).replace(/[\p{Cc}\p{Cf}]/gu, '?');
  return s.length > max ? `${s.slice(0, max)}…` : s;
}

/** The holder of a lock, as written beside it; undefined when there is none or it cannot be read. */
export function readHolder(target: string): LockHolder | undefined {
  try {
    const h = JSON.parse(readFileSync(holderPathOf(target), 'utf8')) as Partial<LockHolder>;
    if (!Number.isSafeInteger(h.pid) || (h.pid as number) <= 0) return undefined;
    return {
      pid: h.pid as number,
      host: printable(h.host, 100),
      started: printable(h.started, 40),
      command: printable(h.command),
      ...(typeof h.machine === 'string' ? { machine: printable(h.machine, 64) } : {}),
    };
  } catch {
    return undefined;
  }
}

/** Whether a holder's pid is one of this system and process namespace, so {@link running} can judge it. */
const here = (h: LockHolder) => h.host === hostname() && h.machine === thisMachine();

/** Whether a process of this host is running (one of another user counts as running). */
function running(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export const describeHolder = (h: LockHolder) => `pid ${h.pid} on host ${h.host}, started ${h.started}, running "${h.command}"`;

/** How long ago a lock was last refreshed, or undefined when there is none. */
function ageOf(lockPath: string): number | undefined {
  try {
    return Date.now() - statSync(lockPath).mtimeMs;
  } catch {
    return undefined;
  }
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** This process as a lock holder. */
function me(): LockHolder {
  const argv = process.argv.slice(2).map((a) => (/\s/.test(a) ? JSON.stringify(a) : a));
  const machine = thisMachine();
  return { pid: process.pid, host: hostname(), started: new Date().toISOString(), command: printable(['posture', ...argv].join(' ')), ...(machine ? { machine } : {}) };
}

interface Held {
  release(): Promise<void>;
  lost(): Error | undefined;
}

/** Takes one lock, or throws {@link RunLocked} naming its holder. `what` names the locked thing in messages. */
async function acquire(target: string, what: string, holder: LockHolder, o: RunLockOptions): Promise<Held> {
  const lockPath = lockPathOf(target);
  mkdirSync(dirname(lockPath), { recursive: true });
  let lost: Error | undefined;
  const attempt = (stale: number) =>
    lockfile.lock(target, {
      lockfilePath: lockPath,
      realpath: false,
      stale,
      update: UPDATE_MS,
      onCompromised: (err) => {
        lost = err;
      },
    });
  const held = (h: LockHolder | undefined) =>
    new RunLocked(
      `${what} is locked by another run: ${h ? describeHolder(h) : `one that did not say who it is (${lockPath})`}. Nothing was read or written; run again once it has ended. ` +
        `A lock left by a killed process is taken over: within seconds when its process on this host is gone, otherwise once it is ${STALE_MS / 1000} s old`,
    );
  let release: () => Promise<void>;
  const left = ageOf(lockPath);
  try {
    release = await attempt(STALE_MS);
    if (left !== undefined && left >= STALE_MS) {
      const h = readHolder(target);
      o.notice?.(`took over the lock on ${what} left by ${h ? describeHolder(h) : 'a run that did not say who it is'}: it was not refreshed for ${Math.round(left / 1000)} s`);
    }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ELOCKED') throw new InputError(`cannot lock ${what} (${lockPath}): ${(err as Error).message}`);
    const other = readHolder(target);
    if (!other || !here(other) || running(other.pid)) throw held(other);
    // Its process is gone (killed): wait until the lock is old enough for the library to take it over.
    const age = ageOf(lockPath) ?? GONE_MS;
    if (age < GONE_MS) await sleep(GONE_MS - age + 100);
    try {
      release = await attempt(GONE_MS);
    } catch (again) {
      if ((again as NodeJS.ErrnoException).code === 'ELOCKED') throw held(readHolder(target));
      throw new InputError(`cannot lock ${what} (${lockPath}): ${(again as Error).message}`);
    }
    o.notice?.(`took over the lock on ${what} left by ${describeHolder(other)}: that process is no longer running`);
  }
  // Written beside and renamed over: a symlink planted at the holder's name is replaced, never written through.
  const temp = `${holderPathOf(target)}.${process.pid}.tmp`;
  rmSync(temp, { force: true });
  writeFileSync(temp, `${JSON.stringify(holder)}\n`, { mode: 0o600, flag: 'wx' });
  renameSync(temp, holderPathOf(target));
  let released = false;
  // Taken over by another run since the last refresh: its holder file is there instead of ours.
  const check = (): Error | undefined => {
    if (lost) return lost;
    const now = readHolder(target);
    if (!now || now.pid !== holder.pid || now.host !== printable(holder.host, 100) || now.started !== holder.started) {
      lost = new Error(now ? `it is now held by ${describeHolder(now)}` : 'its holder file is gone');
    }
    return lost;
  };
  return {
    lost: check,
    release: async () => {
      if (released) return;
      released = true;
      // A lock another run holds now is neither removed nor touched again.
      if (check()) {
        forget(target);
        return;
      }
      rmSync(holderPathOf(target), { force: true });
      await release().catch(() => {});
    },
  };
}

type LibraryLocks = Record<string, { updateTimeout?: ReturnType<typeof setTimeout> | null; released?: boolean }>;

/** proper-lockfile's own table of the locks this process holds (its lib module exports it; the package index does not). */
export function heldByLibrary(): LibraryLocks | undefined {
  try {
    return (createRequire(import.meta.url)('proper-lockfile/lib/lockfile.js') as { getLocks?: () => LibraryLocks }).getLocks?.();
  } catch {
    return undefined;
  }
}

/**
 * Makes proper-lockfile forget a lock this run lost without the library noticing (another run's
 * holder file is there): neither its refresh nor its clean-up at exit may touch the lock directory,
 * which is now the other run's.
 */
function forget(target: string): void {
  const locks = heldByLibrary();
  const entry = locks?.[target];
  if (!locks || !entry) return;
  if (entry.updateTimeout) clearTimeout(entry.updateTimeout);
  entry.released = true;
  delete locks[target];
}

/**
 * Takes the tenant's lock, then the evidence trail's (always in that order), or throws
 * {@link RunLocked} naming the run that holds one. Released by {@link RunLock.release}, and by
 * proper-lockfile when the process exits or is interrupted.
 */
export async function takeRunLock(o: RunLockOptions): Promise<RunLock> {
  const holder = me();
  const locks: Array<{ what: string; held: Held }> = [];
  const release = async () => {
    for (const l of locks.splice(0).reverse()) await l.held.release();
  };
  try {
    const lockDir = o.lockDir ?? lockDirectory();
    mkdirSync(lockDir, { recursive: true, mode: 0o700 });
    // The default folder sits in a temp folder every user can write to: another user may have made it first.
    if (o.lockDir === undefined && !process.env['POSTURE_LOCK_DIR']) for (const dir of [dirname(lockDir), lockDir]) ownFolder(dir);
    const tenantWhat = `tenant ${printable(o.tenant, 100)}`;
    locks.push({ what: tenantWhat, held: await acquire(tenantTarget(lockDir, o.tenant), tenantWhat, holder, o) });
    if (o.trail !== undefined) {
      const trail = trailTarget(o.trail);
      const trailWhat = `the evidence trail ${printable(trail)}`;
      locks.push({ what: trailWhat, held: await acquire(trail, trailWhat, holder, o) });
    }
  } catch (err) {
    await release();
    throw err;
  }
  return {
    assertHeld() {
      for (const l of locks) {
        const lost = l.held.lost();
        if (lost) throw new Error(`the lock on ${l.what} was lost while this run held it (${lost.message}): another run may be writing; stopped before the next write`);
      }
    },
    release,
  };
}

/** The holder of an evidence trail's run lock while it is held and fresh; undefined otherwise. */
export function trailLockHolder(trail: string): LockHolder | undefined {
  const target = trailTarget(trail);
  try {
    if (Date.now() - statSync(lockPathOf(target)).mtimeMs >= STALE_MS) return undefined;
  } catch {
    return undefined;
  }
  const h = readHolder(target);
  return h && !(here(h) && !running(h.pid)) ? h : undefined;
}
