/**
 * Verification of an evidence trail's text: every record's hash, every link, the sequence, and
 * an expected head; each problem named with its record and line.
 */
import { MAX_JSON_DEPTH, tooDeep } from '../input/json-depth.js';
import { recordHash } from './chain.js';
import { GENESIS_PREV, isHash, shortHash as short, type EvidenceRecord } from './records.js';

/** The ways a trail can fail verification. */
export type ProblemKind = 'edited' | 'removed' | 'inserted' | 'reordered' | 'malformed' | 'truncated';

export interface VerifyProblem {
  /** 1-based line of the file the problem is at (for a removed record: the line where it belongs). */
  readonly line: number;
  /** The record's sequence number (for a removed record: the first missing one), when known. */
  readonly seq?: number;
  readonly kind: ProblemKind;
  /** One sentence, e.g. "record 7 (line 7) was edited: its hash does not match its content". */
  readonly message: string;
}

export interface VerifyResult {
  /** No problem at all. */
  readonly ok: boolean;
  /** Lines that hold a well-formed record, whatever their problems. */
  readonly records: number;
  /** Hash of the chain's last record: the value to keep elsewhere and pass back as `expectHead`. {@link GENESIS_PREV} for an empty trail. */
  readonly head: string;
  /** Sequence number of that record (0 for an empty trail). */
  readonly headSeq: number;
  /** In line order. */
  readonly problems: VerifyProblem[];
}

export interface VerifyOptions {
  /** A head hash recorded earlier (e.g. in a CI log): the trail's head must equal it. */
  readonly expectHead?: string;
}

interface ChainFields {
  readonly seq: number;
  readonly prev: string;
  readonly hash: string;
  readonly [key: string]: unknown;
}

interface Entry {
  /** 1-based line number. */
  readonly line: number;
  /** The parsed record, when the line holds one. */
  readonly rec?: ChainFields;
  /** Its content matches its hash. */
  readonly selfOk: boolean;
  /** Sequence number used to place it: `seq`, or for a record whose content was edited, the one its links give. */
  seq: number;
}

interface ParsedTrail {
  readonly entries: Entry[];
  /** Lines that hold no record (malformed or truncated), with their problem. */
  readonly broken: VerifyProblem[];
  /** Problems of lines that do hold a record (a valid last record without its newline). */
  readonly notes: VerifyProblem[];
}

function parseTrail(text: string): ParsedTrail {
  const entries: Entry[] = [];
  const broken: VerifyProblem[] = [];
  const notes: VerifyProblem[] = [];
  if (text === '') return { entries, broken, notes };
  const endsWithNewline = text.endsWith('\n');
  const lines = text.split('\n');
  if (endsWithNewline) lines.pop();
  lines.forEach((raw, i) => {
    const line = i + 1;
    const incomplete = i === lines.length - 1 && !endsWithNewline;
    if (raw.trim() === '') {
      broken.push({ line, kind: 'malformed', message: `line ${line} is empty` });
      return;
    }
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch {
      if (incomplete) {
        const seq = /"seq":\s*(\d+)/.exec(raw)?.[1];
        broken.push({
          line,
          ...(seq ? { seq: Number(seq) } : {}),
          kind: 'truncated',
          message: `line ${line} is incomplete: the file ends in the middle of a record${seq ? ` (record ${seq})` : ''}, after an interrupted write or a cut`,
        });
      } else {
        broken.push({ line, kind: 'malformed', message: `line ${line} is not valid JSON` });
      }
      return;
    }
    const deep = tooDeep(value);
    if (deep) {
      broken.push({ line, kind: incomplete ? 'truncated' : 'malformed', message: `line ${line} is not an evidence record: it is nested deeper than ${MAX_JSON_DEPTH} levels (at ${deep})` });
      return;
    }
    const v = value as Partial<ChainFields> | null;
    if (!v || typeof v !== 'object' || Array.isArray(v) || !Number.isSafeInteger(v.seq) || (v.seq as number) < 1 || !isHash(v.prev) || !isHash(v.hash)) {
      broken.push({ line, kind: incomplete ? 'truncated' : 'malformed', message: `line ${line} is not an evidence record: it lacks a valid seq, prev or hash` });
      return;
    }
    const rec = v as ChainFields;
    entries.push({ line, rec, selfOk: recordHash(rec) === rec.hash, seq: rec.seq });
    if (incomplete) {
      notes.push({ line, seq: rec.seq, kind: 'truncated', message: `the file does not end with a newline after record ${rec.seq} (line ${line}): the last write may be incomplete` });
    }
  });
  return { entries, broken, notes };
}

/** Longest strictly increasing subsequence of `values`; returns the indexes in it. */
function longestIncreasing(values: readonly number[]): Set<number> {
  const tails: number[] = [];
  const parent: number[] = new Array<number>(values.length).fill(-1);
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    let lo = 0;
    let hi = tails.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (values[tails[mid]!]! < v) lo = mid + 1;
      else hi = mid;
    }
    if (lo > 0) parent[i] = tails[lo - 1]!;
    tails[lo] = i;
  }
  const keep = new Set<number>();
  for (let i = tails.length ? tails[tails.length - 1]! : -1; i >= 0; i = parent[i]!) keep.add(i);
  return keep;
}

/** For each position: the nearest earlier one with a greater value, and the nearest later one with a smaller value (-1: none). */
function nearestOutOfOrder(values: readonly number[]): { previousGreater: number[]; nextSmaller: number[] } {
  const previousGreater = new Array<number>(values.length).fill(-1);
  const nextSmaller = new Array<number>(values.length).fill(-1);
  const stack: number[] = [];
  for (let i = 0; i < values.length; i++) {
    while (stack.length && values[stack[stack.length - 1]!]! <= values[i]!) stack.pop();
    if (stack.length) previousGreater[i] = stack[stack.length - 1]!;
    stack.push(i);
  }
  stack.length = 0;
  for (let i = values.length - 1; i >= 0; i--) {
    while (stack.length && values[stack[stack.length - 1]!]! >= values[i]!) stack.pop();
    if (stack.length) nextSmaller[i] = stack[stack.length - 1]!;
    stack.push(i);
  }
  return { previousGreater, nextSmaller };
}


const range = (from: number, to: number) => (from === to ? `record ${from} is` : `records ${from}–${to} are`);

/**
 * Checks a trail's text and names every problem: which record, on which line, and how it was altered.
 * - `edited`: a record's hash does not match its content; or it matches, but the next record does not
 *   link to it (the hash was recomputed after the edit, so the first broken link points at it);
 * - `removed`: sequence numbers are missing (also from the end, when `expectHead` is given);
 * - `inserted`: a record the chain does not run through (a second record with a taken seq), or
 *   records after the expected head;
 * - `reordered`: a record out of sequence order whose links are otherwise intact;
 * - `malformed`: a line that is not a JSON evidence record;
 * - `truncated`: the last line is incomplete, or the file does not end with a newline.
 */
export function verifyTrail(text: string, options: VerifyOptions = {}): VerifyResult {
  const { entries, broken, notes } = parseTrail(text);
  const problems: VerifyProblem[] = [...broken, ...notes];
  const reported = new Set<number>();
  const report = (p: VerifyProblem) => {
    if (reported.has(p.line) && p.kind !== 'removed') return;
    if (p.kind !== 'removed') reported.add(p.line);
    problems.push(p);
  };

  // A record whose content no longer matches its hash may have had its seq edited too: place it by its links.
  const bySelfHash = new Map<string, Entry>();
  const byPrev = new Map<string, Entry>();
  for (const e of entries) {
    if (!e.selfOk) continue;
    if (!bySelfHash.has(e.rec!.hash)) bySelfHash.set(e.rec!.hash, e);
    if (!byPrev.has(e.rec!.prev)) byPrev.set(e.rec!.prev, e);
  }
  for (const e of entries) {
    if (e.selfOk) continue;
    const next = byPrev.get(e.rec!.hash);
    const before = bySelfHash.get(e.rec!.prev);
    if (next && next !== e) e.seq = next.seq - 1;
    else if (before && before !== e) e.seq = before.seq + 1;
    else if (e.rec!.prev === GENESIS_PREV) e.seq = 1;
  }

  // The genuine record of each seq: the one the chain runs through.
  const candidates = new Map<number, Entry[]>();
  for (const e of entries) candidates.set(e.seq, [...(candidates.get(e.seq) ?? []), e]);
  const linkedFromSeq = new Map<string, Set<number>>();
  for (const e of entries) {
    if (!e.selfOk) continue;
    const set = linkedFromSeq.get(e.rec!.prev) ?? new Set<number>();
    set.add(e.seq);
    linkedFromSeq.set(e.rec!.prev, set);
  }
  const genuine = new Map<number, Entry>();
  const seqs = [...candidates.keys()].sort((a, b) => a - b);
  for (const s of seqs) {
    const list = candidates.get(s)!;
    const before = genuine.get(s - 1);
    const expectedPrev = s === 1 ? GENESIS_PREV : before?.rec!.hash;
    const score = (e: Entry) =>
      (linkedFromSeq.get(e.rec!.hash)?.has(s + 1) ? 8 : 0) + (e.rec!.prev === expectedPrev ? 4 : 0) + (e.selfOk ? 2 : 0) + (before && e.line > before.line ? 1 : 0);
    const best = list.reduce((a, b) => (score(b) > score(a) ? b : a));
    genuine.set(s, best);
    for (const other of list) {
      if (other === best) continue;
      report({
        line: other.line,
        seq: other.rec!.seq,
        kind: 'inserted',
        message: `line ${other.line} holds an inserted record: it repeats seq ${s} of the record at line ${best.line}, and the chain does not run through it`,
      });
    }
  }

  // Edited: content that does not match its hash, or a recomputed hash the next record does not link to.
  for (const s of seqs) {
    const e = genuine.get(s)!;
    if (!e.selfOk) {
      report({ line: e.line, seq: s, kind: 'edited', message: `record ${s} (line ${e.line}) was edited: its hash does not match its content` });
      continue;
    }
    if (s === 1 && e.rec!.prev !== GENESIS_PREV) {
      report({ line: e.line, seq: s, kind: 'edited', message: `record 1 (line ${e.line}) was edited: its prev is not the genesis value (64 zeros)` });
      continue;
    }
    const next = genuine.get(s + 1);
    if (next && next.selfOk && next.rec!.prev !== e.rec!.hash) {
      report({
        line: e.line,
        seq: s,
        kind: 'edited',
        message: `record ${s} (line ${e.line}) was edited: record ${s + 1} (line ${next.line}) does not link to it, so its hash was recomputed after a change`,
      });
    }
  }

  // Removed: gaps in the sequence that no malformed line accounts for.
  const brokenLines = broken.map((p) => p.line);
  let last = 0;
  let lastLine = 0;
  for (const s of seqs) {
    const e = genuine.get(s)!;
    const missing = s - last - 1;
    if (missing > 0) {
      const lo = Math.min(lastLine, e.line);
      const hi = Math.max(lastLine, e.line);
      const explained = brokenLines.filter((l) => l > lo && l < hi).length;
      if (explained < missing) {
        report({
          line: e.line,
          seq: last + 1,
          kind: 'removed',
          message: last === 0 ? `${range(1, s - 1)} missing before record ${s} (line ${e.line})` : `${range(last + 1, s - 1)} missing between ${last} and ${s} (before line ${e.line})`,
        });
      }
    }
    last = s;
    lastLine = e.line;
  }

  // Reordered: genuine records out of sequence order.
  const inLineOrder = [...genuine.values()].sort((a, b) => a.line - b.line);
  const order = inLineOrder.map((e) => e.seq);
  if (order.some((s, i) => i > 0 && s <= order[i - 1]!)) {
    const keep = longestIncreasing(order);
    const { previousGreater, nextSmaller } = nearestOutOfOrder(order);
    inLineOrder.forEach((e, i) => {
      if (keep.has(i)) return;
      const after = inLineOrder[previousGreater[i]!];
      const before = inLineOrder[nextSmaller[i]!];
      const where = after ? `it comes after record ${after.seq} (line ${after.line})` : before ? `it comes before record ${before.seq} (line ${before.line})` : 'it is not in sequence order';
      report({ line: e.line, seq: e.seq, kind: 'reordered', message: `record ${e.seq} (line ${e.line}) is out of order: ${where}` });
    });
  }

  const headEntry = seqs.length ? genuine.get(seqs[seqs.length - 1]!)! : undefined;
  const head = headEntry?.rec!.hash ?? GENESIS_PREV;
  const headSeq = headEntry?.seq ?? 0;

  if (options.expectHead !== undefined) {
    const expected = options.expectHead.trim().toLowerCase();
    if (expected !== head) {
      const at = [...genuine.values()].find((e) => e.rec!.hash === expected) ?? entries.find((e) => e.rec!.hash === expected);
      const endLine = Math.max(entries[entries.length - 1]?.line ?? 0, broken[broken.length - 1]?.line ?? 0);
      if (at) {
        const n = headSeq - at.seq;
        problems.push({
          line: at.line + 1,
          seq: at.seq + 1,
          kind: 'inserted',
          message: `the expected head is record ${at.seq} (line ${at.line}), but ${n} record${n === 1 ? '' : 's'} follow${n === 1 ? 's' : ''} it, up to record ${headSeq}: added after the head was recorded`,
        });
      } else {
        problems.push({
          line: endLine + 1,
          seq: headSeq + 1,
          kind: 'removed',
          message:
            headSeq === 0
              ? `the expected head ${short(expected)} is not in the file, which holds no record: the trail was emptied or replaced`
              : `the expected head ${short(expected)} is not in the file, whose head is record ${headSeq} (line ${headEntry!.line}, ${short(head)}): records after ${headSeq} were removed, or the trail was rewritten`,
        });
      }
    }
  }

  problems.sort((a, b) => a.line - b.line);
  return { ok: problems.length === 0, records: entries.length, head, headSeq, problems };
}

/**
 * The `change` records of one run, in file order: what a rollback undoes.
 * Throws when the trail fails verification (an incomplete last line, as an interrupted apply
 * leaves, is tolerated: the records before it are intact).

/**
 * Every record of a trail, in file order. Throws when the trail fails verification (an incomplete
 * last line, as an interrupted apply leaves, is tolerated: the records before it are intact). With `tolerateProblems`, every line that holds a record, whatever verification says (for reports
 * about a trail whose problems are reported separately).
 */
export function trailRecords(text: string, options: { tolerateProblems?: boolean } = {}): EvidenceRecord[] {
  if (options.tolerateProblems) return parseTrail(text).entries.map((e) => e.rec as unknown as EvidenceRecord);
  const result = verifyTrail(text);
  const serious = result.problems.filter((p) => p.kind !== 'truncated');
  if (serious.length) {
    throw new Error(`the evidence trail fails verification (${serious.length} problem${serious.length === 1 ? '' : 's'}; first: ${serious[0]!.message}); it cannot be trusted for a rollback`);
  }
  return parseTrail(text).entries.map((e) => e.rec as unknown as EvidenceRecord);
}

