import { readFileSync } from 'node:fs';
import type { Argv, CommandModule } from 'yargs';
import { actorFromAccessToken, EvidenceTrail, isHash, verifyTrail, type EvidenceActor, type VerifyResult } from '../evidence/trail.js';
import type { Connection } from '../input/connection.js';
import { InputError } from '../input/synth-output.js';
import { jsonLine, printable } from './log.js';
import { fail } from './plan.js';
import { terminalSafe } from '../safe-text.js';

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

/** Opens the trail the arguments name (verifying it first), or none when recording is off. */
export function openEvidence(file: string | false | undefined): EvidenceTrail | undefined {
  if (Array.isArray(file)) throw new InputError('--evidence names one file; it was given more than once');
  if (file === false || file === undefined || file === '' || file === 'false') return undefined;
  try {
    return EvidenceTrail.open(file);
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

function renderText(result: VerifyResult): string {
  if (result.ok) return `${plural(result.records, 'record')}, chain intact, head ${result.head}\n`;
  const lines = result.problems.map((p) => `${terminalSafe(p.message)}\n`);
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
        const result = verifyTrail(readTrail(args.file), expectHead !== undefined ? { expectHead } : {});
        if (args.format === 'json') {
          process.stdout.write(`${jsonLine({ file: args.file, ...result, ...(expectHead !== undefined ? { expectHead } : {}) }, 2)}\n`);
        } else {
          process.stdout.write(printable(renderText(result)));
        }
        setExit(result.ok ? 0 : 1);
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
    builder: (y) => y.command(verifyCommand(setExit)).demandCommand(1, 'Name an evidence command: verify.') as never,
    handler: () => {},
  };
}
