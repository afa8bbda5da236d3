/**
 * The evidence file: opened after verifying it, appended to one fsynced line at a time under an
 * append lock, and never continued once it was deleted, emptied, shortened or rewritten.
 */
import { appendFileSync, closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import lockfile from 'proper-lockfile';
import { sha256 } from '../core/hash.js';
import { nextRecord } from './chain.js';
import { GENESIS_PREV, shortHash as short, validateInput, type EvidenceInput, type EvidenceRecord } from './records.js';
import { verifyTrail } from './verify.js';

/** What a trail was when it was last read or written by this process. */
interface TrailState {
  readonly seq: number;
  readonly hash: string;
  /** Bytes in the file. */
  readonly size: number;
  /** SHA-256 of those bytes: the file must still start with exactly them. */
  readonly digest: string;
}

/** Options of {@link EvidenceTrail.open}. */
export interface OpenOptions {
  /** A head hash kept elsewhere (a CI log): the trail must end with it, or nothing is appended. */
  readonly expectHead?: string;
}

/**
 * An evidence file opened for appending. Each {@link append} writes one line with a single
 * append-mode write and fsyncs it before returning, so a record is either entirely in the file or
 * (after a crash mid-write) an incomplete last line that verification reports.
 * Before each append the file must still start with every byte this run saw: a trail deleted,
 * emptied, shortened or rewritten since it was opened is never continued (a new chain at seq 1
 * would verify, and hide what the old one held). Records another writer appended are picked up.
 */
export class EvidenceTrail {
  private state: TrailState;

  private constructor(
    /** The file's absolute path. */
    readonly path: string,
    state: TrailState,
  ) {
    this.state = state;
  }

  /**
   * Opens a trail, verifying the whole file first. A missing file is an empty trail (created on the
   * first append). Throws an Error naming the first problem when the file fails verification, or
   * when it does not end with `expectHead`: appending to an altered trail would make the alteration
   * look legitimate.
   */
  static open(path: string, options: OpenOptions = {}): EvidenceTrail {
    const abs = resolve(path);
    const state = EvidenceTrail.load(abs, readTrailBytes(abs), options.expectHead);
    return new EvidenceTrail(abs, state);
  }

  private static load(path: string, bytes: Buffer | undefined, expectHead?: string): TrailState {
    if (!bytes) {
      if (expectHead !== undefined && expectHead !== GENESIS_PREV) {
        throw new Error(`refusing to append to ${path}: there is no such file, but its head was expected to be ${short(expectHead)}: the trail was deleted or moved`);
      }
      return { seq: 0, hash: GENESIS_PREV, size: 0, digest: sha256Bytes(Buffer.alloc(0)) };
    }
    const result = verifyTrail(bytes.toString('utf8'), expectHead !== undefined ? { expectHead } : {});
    if (!result.ok) {
      const n = result.problems.length;
      throw new Error(
        `refusing to append to ${path}: the evidence trail fails verification (${n} problem${n === 1 ? '' : 's'}; first: ${result.problems[0]!.message}). ` +
          'Keep the file as it is, investigate with `posture evidence verify`, and start a new trail file.',
      );
    }
    return { seq: result.headSeq, hash: result.head, size: bytes.length, digest: sha256Bytes(bytes) };
  }

  /** Sequence number of the last record (0 when the trail is empty). */
  get seq(): number {
    return this.state.seq;
  }

  /** Hash of the last record ({@link GENESIS_PREV} when the trail is empty). */
  get head(): string {
    return this.state.hash;
  }

  /**
   * The file as it is now, checked against what this run saw: still starting with the same bytes
   * (records appended by another writer are verified and taken in), never deleted, emptied,
   * shortened or rewritten. Throws, naming what happened, otherwise.
   */
  private current(): Buffer | undefined {
    const bytes = readTrailBytes(this.path);
    const known = this.state;
    const held = `it held ${known.seq} record${known.seq === 1 ? '' : 's'}, head ${short(known.hash)}`;
    const refuse = (what: string) =>
      new Error(`refusing to append to ${this.path}: ${what} since this run opened it (${held}); a new chain would hide the records it held. Keep what is left as it is, restore the file from a copy, and investigate`);
    if (!bytes) {
      if (known.size > 0) throw refuse('the evidence trail was deleted or moved');
      return undefined;
    }
    if (bytes.length === known.size && sha256Bytes(bytes) === known.digest) return bytes;
    // Changed: what verification says comes first (it names edited and removed records).
    const state = EvidenceTrail.load(this.path, bytes);
    if (bytes.length < known.size) throw refuse(bytes.length === 0 ? 'the evidence trail was emptied' : `the evidence trail shrank from ${known.size} to ${bytes.length} bytes`);
    if (sha256Bytes(bytes.subarray(0, known.size)) !== known.digest) throw refuse('the evidence trail was rewritten');
    this.state = state;
    return bytes;
  }

  /**
   * Appends one record: redacts secrets, sets `v`, `seq`, `time` (unless given), `prev` and `hash`,
   * writes the line and fsyncs it. Returns the record as written. Throws on an invalid record, and
   * when the file was altered since it was opened. Writers of one trail (an apply and a nightly
   * drift check, say) take turns: each append holds the trail's append lock from reading the head
   * to the fsync, so two records never claim the same seq.
   */
  append(input: EvidenceInput): EvidenceRecord {
    validateInput(input);
    return withAppendLock(this.path, () => this.appendLocked(input));
  }

  private appendLocked(input: EvidenceInput): EvidenceRecord {
    const bytes = this.current();
    const record = nextRecord(input, this.state);
    const line = Buffer.from(`${JSON.stringify(record)}\n`, 'utf8');

    const created = !bytes;
    if (created) mkdirSync(dirname(this.path), { recursive: true });
    const fd = openSync(this.path, 'a');
    try {
      appendFileSync(fd, line);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    if (created) syncDirectory(dirname(this.path));
    const written = Buffer.concat([bytes ?? Buffer.alloc(0), line]);
    this.state = { seq: record.seq, hash: record.hash, size: written.length, digest: sha256Bytes(written) };
    return record;
  }
}

/**
 * The one name of an evidence file, however it is given (relative, through a symlink to it or to a
 * folder above it): its real path, or for a file not made yet its real folder and its name. Locks
 * on a trail are named after it, so two writers naming one file two ways still take turns.
 */
export function trailTarget(trail: string): string {
  const abs = resolve(trail);
  try {
    return realpathSync(abs);
  } catch {
    try {
      return join(realpathSync(dirname(abs)), basename(abs));
    } catch {
      return abs;
    }
  }
}

/** How long an append waits for another writer's append, and when a writer's append lock counts as left behind. */
const APPEND_WAIT_MS = 15_000;
const APPEND_STALE_MS = 10_000;

/**
 * Runs `fn` holding the trail's append lock (`<file>.append.lock`, made atomically by
 * proper-lockfile): held for one record only, so another writer waits milliseconds. A lock left by
 * a process killed mid-append is taken over once it is {@link APPEND_STALE_MS} old.
 */
function withAppendLock<T>(path: string, fn: () => T): T {
  mkdirSync(dirname(path), { recursive: true });
  const deadline = Date.now() + APPEND_WAIT_MS;
  for (;;) {
    let release: () => void;
    try {
      // Its own name (not the trail's): proper-lockfile keeps one lock per name, and the run lock has the trail's.
      release = lockfile.lockSync(`${trailTarget(path)}.append`, { realpath: false, stale: APPEND_STALE_MS, onCompromised: () => {} });
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'ELOCKED') throw new Error(`cannot lock ${path} for appending (${(err as Error).message})`, { cause: err });
      if (Date.now() > deadline) throw new Error(`cannot append to ${path}: another writer has held its append lock (${path}.append.lock) for more than ${APPEND_WAIT_MS / 1000} s`, { cause: err });
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10);
      continue;
    }
    try {
      return fn();
    } finally {
      release();
    }
  }
}

/** The file's bytes, or undefined when there is no such file. */
function readTrailBytes(path: string): Buffer | undefined {
  if (!existsSync(path)) return undefined;
  if (statSync(path).isDirectory()) throw new Error(`${path} is a directory, not an evidence file`);
  return readFileSync(path);
}

const sha256Bytes = (bytes: Buffer) => sha256(bytes);

/** Makes a new file's directory entry durable (not possible on every platform; best effort). */
function syncDirectory(dir: string): void {
  try {
    const fd = openSync(dir, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch {
    // Directories cannot be opened for fsync on some platforms.
  }
}
