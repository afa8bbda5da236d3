import { withHelp } from './help.js';
import { readFileSync } from 'node:fs';
import type { Argv, CommandModule } from 'yargs';
import { describeHolder, trailLockHolder } from '../apply/lock.js';
import { actorFromAccessToken } from '../auth/actor.js';
import { EvidenceTrail } from '../evidence/store.js';
import { interruptedApplies } from '../evidence/recorder.js';
import { isHash, type EvidenceActor } from '../evidence/records.js';
import { trailRecords, verifyTrail, type VerifyResult } from '../evidence/verify.js';
import type { Connection } from '../input/connection.js';
import { InputError } from '../input/synth-output.js';
import { jsonLine, printable } from './log.js';
import { fail } from './fail.js';
import { terminalSafe } from '../core/text.js';

/** The evidence file plan, drift, apply and rollback append to unless told otherwise. */
export const DEFAULT_EVIDENCE_FILE = 'posture-evidence.jsonl';

/** `--evidence FILE` (default {@link DEFAULT_EVIDENCE_FILE}); `--no-evidence` turns recording off. */
export function evidenceOption<T>(y: Argv<T>) {
  return y.option('evidence', {
    type: 'string',
    default: DEFAULT_EVIDENCE_FILE,
    describe: 'Append-only, hash-chained evidence file this run is recorded in (--no-evidence: record nothing)',
  });
}

/** `--expect-head HASH`: the evidence trail must still end with a head kept from an earlier run. */
export function expectHeadOption<T>(y: Argv<T>) {
  return y.option('expect-head', {
    type: 'string',
    describe: 'A head hash kept from an earlier run (CI log, PR comment): refuse, writing nothing, unless the evidence trail still ends with it',
  });
}

/** The `--expect-head` value, checked: a SHA-256 hex hash, or undefined when not given. */
export function expectedHead(value: unknown): string | undefined {
  if (value === undefined) return undefined;
  const head = typeof value === 'string' ? value.trim().toLowerCase() : '';
  if (!isHash(head)) throw new InputError('--expect-head must be a SHA-256 hash: 64 hexadecimal characters');
  return head;
}

/** The evidence file `--evidence` names, or undefined when recording is off (`--no-evidence`). */
export function evidenceFile(file: unknown): string | undefined {
  if (Array.isArray(file)) throw new InputError('--evidence names one file; it was given more than once');
  if (file === false || file === undefined || file === '' || file === 'false') return undefined;
  return String(file);
}

/** Opens the trail the arguments name (verifying it first, and that it ends with `expectHead` when given), or none when recording is off. */
export function openEvidence(given: string | false | undefined, expectHead?: string): EvidenceTrail | undefined {
  const file = evidenceFile(given);
  if (file === undefined) {
    if (expectHead !== undefined) throw new InputError('--expect-head checks the evidence trail: it cannot be used with --no-evidence');
    return undefined;
  }
  try {
    return EvidenceTrail.open(file, expectHead !== undefined ? { expectHead } : {});
  } catch (err) {
    throw new InputError(`evidence: ${(err as Error).message}`);
  }
}

/** Who runs this command, from the claims of the Graph token (never the token itself). */
export async function actorOf(conn: Connection): Promise<EvidenceActor> {
  try {
    return actorFromAccessToken(await conn.tokens.token('graph'));
  } catch {
    return { kind: 'unknown', id: 'unknown' };
  }
}

interface VerifyArgs {
  file: string;
  format: 'text' | 'json';
  'expect-head'?: string;
  debug?: boolean;
}

function readTrail(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new InputError(`${file}: no such file`);
    if (code === 'EISDIR') throw new InputError(`${file} is a directory, not an evidence file`);
    throw new InputError(`${file}: cannot be read (${code ?? (err as Error).message})`);
  }
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/** An apply run of the trail that began and did not end, as verify reports it. */
interface Unfinished {
  readonly runId: string;
  readonly seq: number;
  readonly started: string;
  /** `interrupted` (nothing is running it) or `running` (a live run holds the trail's lock). */
  readonly state: 'interrupted' | 'running';
  readonly message: string;
}

const what = (r: { resource: { type: string; name: string } }) => `${r.resource.type} "${r.resource.name}"`;

/** The apply runs without an end record: interrupted (a killed process), or still running. */
function unfinishedRuns(file: string, text: string): Unfinished[] {
  const runs = interruptedApplies(trailRecords(text, { tolerateProblems: true }));
  const holder = runs.length ? trailLockHolder(file) : undefined;
  return runs.map((run, i) => {
    const { start } = run;
    const head = `apply run ${start.runId} (record ${start.seq}, started ${start.time})`;
    if (holder && i === runs.length - 1) {
      return { runId: start.runId, seq: start.seq, started: start.time, state: 'running' as const, message: `${head} has no end record yet: it is running (${describeHolder(holder)})` };
    }
    const doing = run.pending.length
      ? `it was writing ${run.pending.map((p) => `${what(p)} (intent, record ${p.seq})`).join(', ')}, and whether that write took is not recorded`
      : run.recordsIntents
        ? `${run.changes.length} of its ${start.changes} changes are recorded, and no write was under way`
        : `${run.changes.length} of its ${start.changes} changes are recorded; it recorded no intents (an earlier version), so a write after its last record may be missing`;
    return {
      runId: start.runId,
      seq: start.seq,
      started: start.time,
      state: 'interrupted' as const,
      message: `${head} has no end record: it was interrupted (a killed process?); ${doing}. The next posture apply or rollback with this trail reads the tenant to settle it, and records what it finds`,
    };
  });
}

function renderText(result: VerifyResult, unfinished: readonly Unfinished[]): string {
  const notes = unfinished.map((u) => `${terminalSafe(u.message)}\n`).join('');
  const interrupted = unfinished.filter((u) => u.state === 'interrupted').length;
  if (result.ok) {
    return `${notes}${plural(result.records, 'record')}, chain intact, head ${result.head}${interrupted ? `; ${interrupted === 1 ? '1 apply run was' : `${interrupted} apply runs were`} interrupted and not settled` : ''}\n`;
  }
  const lines = result.problems.map((p) => `${terminalSafe(p.message)}\n`);
  lines.push(notes);
  lines.push(`${plural(result.records, 'record')}, ${plural(result.problems.length, 'problem')}: the trail has been altered or damaged\n`);
  return lines.join('');
}

/** `posture evidence verify FILE`: checks the evidence trail's hash chain and names every altered record. */
function verifyCommand(setExit: (code: number) => void): CommandModule<object, VerifyArgs> {
  return {
    command: 'verify <file>',
    describe: 'Check an evidence file: exit 0 and print the head hash when intact, exit 1 and list each edited, removed, inserted or reordered record otherwise',
    builder: (y) =>
      y
        .positional('file', { type: 'string', demandOption: true, describe: 'The evidence file (JSON Lines)' })
        .option('format', { choices: ['text', 'json'] as const, default: 'text' as const, describe: 'Output: one line per problem, or one JSON document' })
        .option('expect-head', { type: 'string', describe: 'A head hash recorded earlier (CI log, PR comment): the file must still end with it' }) as never,
    handler: (args) => {
      try {
        const expectHead = args['expect-head']?.trim().toLowerCase();
        if (expectHead !== undefined && !isHash(expectHead)) throw new InputError('--expect-head must be a SHA-256 hash: 64 hexadecimal characters');
        const text = readTrail(args.file);
        const result = verifyTrail(text, expectHead !== undefined ? { expectHead } : {});
        const unfinished = unfinishedRuns(args.file, text);
        if (args.format === 'json') {
          process.stdout.write(`${jsonLine({ file: args.file, ...result, ...(expectHead !== undefined ? { expectHead } : {}), unfinished }, 2)}\n`);
        } else {
          process.stdout.write(printable(renderText(result, unfinished)));
        }
        setExit(result.ok && !unfinished.some((u) => u.state === 'interrupted') ? 0 : 1);
      } catch (err) {
        fail(err, args.debug === true, 'evidence verify');
        setExit(1);
      }
    },
  };
}

/** `posture evidence <command>`: the tamper-evident evidence trail of plan and apply. */
export function evidenceCommand(setExit: (code: number) => void): CommandModule<object, object> {
  return {
    command: 'evidence',
    describe: 'Work with the evidence trail that plan and apply append to',
    builder: (y) => y.command(withHelp(verifyCommand(setExit), 'evidence')).demandCommand(1, 'Name an evidence command: verify.') as never,
    handler: () => {},
  };
}
