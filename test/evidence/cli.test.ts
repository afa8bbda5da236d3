import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import yargs from 'yargs';
import { evidenceCommand } from '../../reconciler/cli/evidence.js';
import type { EvidenceRecord } from '../../reconciler/evidence/records.js';
import { EvidenceTrail } from '../../reconciler/evidence/store.js';

const sha = (s: string) => createHash('sha256').update(s).digest('hex');
const actor = { kind: 'application' as const, id: '7d1e8c44-2f5b-4c1a-9a4e-0b6f3c2d1e0a' };

let dir: string;
let stdout: string;
let stderr: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'posture-evidence-cli-'));
  stdout = '';
  stderr = '';
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stdout += String(chunk);
    return true;
  });
  vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stderr += String(chunk);
    return true;
  });
});
afterEach(() => {
  vi.restoreAllMocks();
});

/** Runs `posture evidence …` through yargs as the command line does; returns the exit code it set. */
async function run(...args: string[]): Promise<number | undefined> {
  let code: number | undefined;
  const setExit = (c: number) => {
    code = c;
  };
  await yargs(['evidence', ...args])
    .command(evidenceCommand(setExit))
    .strict()
    .exitProcess(false)
    .fail((msg, err) => {
      if (err) throw err;
      stderr += `${msg}\n`;
      setExit(1);
    })
    .parseAsync();
  return code;
}

/** A plan run and an apply run of three changes: six records. */
function writeTrail(): { file: string; records: EvidenceRecord[] } {
  const file = join(dir, 'evidence.jsonl');
  const trail = EvidenceTrail.open(file);
  const planHash = sha('plan');
  const records: EvidenceRecord[] = [
    trail.append({
      kind: 'plan', runId: 'run-1', actor, command: 'plan', planHash, desiredHash: sha('manifest'), tenantId: 'contoso.onmicrosoft.com', stack: 'tailspin',
      summary: { findings: 3, byStatus: { drift: 3 }, changes: { create: 0, update: 3, delete: 0 } }, exitCode: 2,
    }),
    trail.append({ kind: 'apply-start', runId: 'run-2', actor, planHash, desiredHash: sha('manifest'), tenantId: 'contoso.onmicrosoft.com', stack: 'tailspin', changes: 3 }),
  ];
  for (const n of [1, 2, 3]) {
    records.push(
      trail.append({
        kind: 'change', runId: 'run-2', actor, planHash, findingId: `finding-${n}`, control: 'MAIL.FWD.3v1', resource: { type: 'mailbox', id: `user-${n}`, name: `user${n}@contoso.example` },
        action: 'update', before: { ForwardingSmtpAddress: `smtp:out${n}@elsewhere.example` }, after: { ForwardingSmtpAddress: null }, result: 'applied',
      }),
    );
  }
  records.push(trail.append({ kind: 'apply-end', runId: 'run-2', actor, planHash, counts: { applied: 3, failed: 0, skipped: 0 }, exitCode: 0 }));
  return { file, records };
}

const lines = (file: string) => readFileSync(file, 'utf8').split('\n').slice(0, -1);

describe('posture evidence verify', () => {
  it('exits 0 on an intact trail and prints the head hash', async () => {
    const { file, records } = writeTrail();
    expect(await run('verify', file)).toBe(0);
    expect(stdout).toBe(`6 records, chain intact, head ${records[5]!.hash}\n`);
    expect(stderr).toBe('');
  });

  it('accepts the head it printed as --expect-head', async () => {
    const { file, records } = writeTrail();
    expect(await run('verify', file, '--expect-head', records[5]!.hash.toUpperCase())).toBe(0);
  });

  it('exits 1 and lists each problem on its own line', async () => {
    const { file } = writeTrail();
    const l = lines(file);
    const edited = JSON.parse(l[3]!) as Record<string, unknown>;
    edited['after'] = { ForwardingSmtpAddress: 'smtp:attacker@elsewhere.example' };
    l[3] = JSON.stringify(edited);
    l.splice(1, 1);
    writeFileSync(file, `${l.join('\n')}\n`);
    expect(await run('verify', file)).toBe(1);
    expect(stdout.split('\n')).toEqual([
      'record 2 is missing between 1 and 3 (before line 2)',
      'record 4 (line 3) was edited: its hash does not match its content',
      '5 records, 2 problems: the trail has been altered or damaged',
      '',
    ]);
  });

  it('exits 1 when the head is not the expected one (the last records were removed)', async () => {
    const { file, records } = writeTrail();
    // The whole apply run cut off: a valid, shorter chain, which only the kept head shows.
    writeFileSync(file, `${lines(file).slice(0, 1).join('\n')}\n`);
    expect(await run('verify', file)).toBe(0);
    stdout = '';
    expect(await run('verify', file, '--expect-head', records[5]!.hash)).toBe(1);
    expect(stdout).toMatch(/^the expected head [0-9a-f]{12}… is not in the file, whose head is record 1 \(line 1, [0-9a-f]{12}…\): records after 1 were removed, or the trail was rewritten\n1 record, 1 problem: /);
  });

  it('an apply whose end record was removed is reported as interrupted, even without the kept head', async () => {
    const { file, records } = writeTrail();
    writeFileSync(file, `${lines(file).slice(0, -1).join('\n')}\n`);
    expect(await run('verify', file)).toBe(1);
    expect(stdout).toContain(`apply run run-2 (record 2, started ${records[1]!.time}) has no end record: it was interrupted`);
    expect(stdout).toMatch(/5 records, chain intact, head [0-9a-f]{64}; 1 apply run was interrupted and not settled\n$/);
    stdout = '';
    expect(await run('verify', file, '--expect-head', records[5]!.hash)).toBe(1);
    expect(stdout).toMatch(/the expected head [0-9a-f]{12}… is not in the file, whose head is record 5 \(line 5, [0-9a-f]{12}…\): records after 5 were removed, or the trail was rewritten\n/);
  });

  it('--format json gives the result as one document', async () => {
    const { file, records } = writeTrail();
    const l = lines(file);
    [l[2], l[3]] = [l[3]!, l[2]!];
    writeFileSync(file, `${l.join('\n')}\n`);
    expect(await run('verify', file, '--format', 'json')).toBe(1);
    const out = JSON.parse(stdout) as { file: string; ok: boolean; records: number; head: string; headSeq: number; problems: Array<{ line: number; seq: number; kind: string; message: string }> };
    expect(out).toMatchObject({ file, ok: false, records: 6, head: records[5]!.hash, headSeq: 6 });
    expect(out.problems).toEqual([{ line: 3, seq: 4, kind: 'reordered', message: 'record 4 (line 3) is out of order: it comes before record 3 (line 4)' }]);
  });

  it('a missing file: exit 1 with one clear line', async () => {
    const file = join(dir, 'nowhere.jsonl');
    expect(await run('verify', file)).toBe(1);
    expect(stderr).toBe(`posture evidence verify: ${file}: no such file\n`);
    expect(stdout).toBe('');
  });

  it('an --expect-head that is not a hash: exit 1 with one clear line', async () => {
    const { file } = writeTrail();
    expect(await run('verify', file, '--expect-head', 'abc')).toBe(1);
    expect(stderr).toBe('posture evidence verify: --expect-head must be a SHA-256 hash: 64 hexadecimal characters\n');
  });

  it('an empty trail is intact, with the genesis value as its head', async () => {
    const file = join(dir, 'empty.jsonl');
    writeFileSync(file, '');
    expect(await run('verify', file)).toBe(0);
    expect(stdout).toBe(`0 records, chain intact, head ${'0'.repeat(64)}\n`);
  });
});
