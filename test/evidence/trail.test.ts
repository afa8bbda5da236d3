import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeEach, describe, expect, expectTypeOf, it } from 'vitest';
import type { ChangeOutcome } from '../../reconciler/apply/apply.js';
import type { PlannedChange, Write } from '../../reconciler/model/change.js';
import { actorFromAccessToken } from '../../reconciler/auth/actor.js';
import { applyRecorder, planEvidence, type RecordableChange, type RecordableOutcome } from '../../reconciler/evidence/recorder.js';
import { canonicalJson } from '../../reconciler/core/json.js';
import { EvidenceTrail } from '../../reconciler/evidence/store.js';
import { GENESIS_PREV, type EvidenceActor, type EvidenceRecord, type RecordedWrite } from '../../reconciler/evidence/records.js';
import { recordHash } from '../../reconciler/evidence/chain.js';
import { trailRecords, verifyTrail } from '../../reconciler/evidence/verify.js';
import { redactSecrets } from '../../reconciler/core/redact.js';
import type { PlanDocument } from '../../reconciler/model/plan.js';

const sha = (s: string) => createHash('sha256').update(s).digest('hex');
const PLAN_HASH = sha('plan-1');
const DESIRED_HASH = sha('manifest-1');
const ACTOR: EvidenceActor = { kind: 'application', id: '7d1e8c44-2f5b-4c1a-9a4e-0b6f3c2d1e0a', name: 'posture-ci' };
const RUN_PLAN = 'b6d4c1f0-0d0e-4a0b-9d5a-1f4e3c2b1a01';
const RUN_APPLY = 'b6d4c1f0-0d0e-4a0b-9d5a-1f4e3c2b1a02';
const RUN_PLAN_AGAIN = 'b6d4c1f0-0d0e-4a0b-9d5a-1f4e3c2b1a03';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'posture-evidence-'));
});

/** A trail of three runs: a plan, an apply of three changes, and a plan after it. Seven records. */
function writeTrail(file = join(dir, 'evidence.jsonl')): { file: string; records: EvidenceRecord[] } {
  const trail = EvidenceTrail.open(file);
  const records: EvidenceRecord[] = [];
  let minute = 0;
  const time = () => `2026-06-01T02:${String(minute++).padStart(2, '0')}:00.000Z`;
  records.push(
    trail.append({
      kind: 'plan', runId: RUN_PLAN, actor: ACTOR, time: time(), command: 'plan', planHash: PLAN_HASH, desiredHash: DESIRED_HASH,
      tenantId: 'contoso.onmicrosoft.com', stack: 'tailspin', summary: { findings: 5, byStatus: { drift: 3, violation: 2 }, changes: { create: 0, update: 3, delete: 0 } }, exitCode: 2,
    }),
  );
  records.push(trail.append({ kind: 'apply-start', runId: RUN_APPLY, actor: ACTOR, time: time(), planHash: PLAN_HASH, desiredHash: DESIRED_HASH, tenantId: 'contoso.onmicrosoft.com', stack: 'tailspin', changes: 3 }));
  const changes = [
    { control: 'MAIL.FWD.1v1', type: 'hostedOutboundSpamFilterPolicy', id: 'Default', before: { AutoForwardingMode: 'On' }, after: { AutoForwardingMode: 'Off' } },
    { control: 'MAIL.FWD.2v1', type: 'remoteDomain', id: 'Default', before: { AutoForwardEnabled: true }, after: { AutoForwardEnabled: false } },
    { control: 'APP.CONSENT.3v1', type: 'authorizationPolicy', id: 'authorizationPolicy', before: { defaultUserRolePermissions: { allowedToCreateApps: true } }, after: { defaultUserRolePermissions: { allowedToCreateApps: false } } },
  ];
  changes.forEach((c, i) => {
    records.push(
      trail.append({
        kind: 'change', runId: RUN_APPLY, actor: ACTOR, time: time(), planHash: PLAN_HASH, findingId: sha(`finding-${i}`).slice(0, 24), control: c.control,
        resource: { type: c.type, id: c.id, name: c.id }, action: 'update', before: c.before, after: c.after, result: 'applied',
      }),
    );
  });
  records.push(trail.append({ kind: 'apply-end', runId: RUN_APPLY, actor: ACTOR, time: time(), planHash: PLAN_HASH, counts: { applied: 3, failed: 0, skipped: 0 }, exitCode: 0 }));
  records.push(
    trail.append({
      kind: 'plan', runId: RUN_PLAN_AGAIN, actor: ACTOR, time: time(), command: 'plan', planHash: sha('plan-2'), desiredHash: DESIRED_HASH,
      tenantId: 'contoso.onmicrosoft.com', stack: 'tailspin', summary: { findings: 2, byStatus: { violation: 2 }, changes: { create: 0, update: 0, delete: 0 } }, exitCode: 2,
    }),
  );
  return { file, records };
}

const linesOf = (file: string) => readFileSync(file, 'utf8').split('\n').slice(0, -1);
const textOf = (lines: readonly string[]) => `${lines.join('\n')}\n`;
const brief = (text: string, expectHead?: string) =>
  verifyTrail(text, expectHead ? { expectHead } : {}).problems.map((p) => ({ kind: p.kind, line: p.line, seq: p.seq }));

/** Changes one record's fields; with `rehash`, recomputes its hash as a forger would. */
function editLine(line: string, change: (r: Record<string, unknown>) => void, rehash: boolean): string {
  const r = JSON.parse(line) as Record<string, unknown>;
  change(r);
  if (rehash) r['hash'] = recordHash(r);
  return JSON.stringify(r);
}

describe('appending', () => {
  it('numbers records from 1 and chains each to the previous hash', () => {
    const { file, records } = writeTrail();
    expect(records.map((r) => r.seq)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(records[0]!.prev).toBe(GENESIS_PREV);
    records.forEach((r, i) => {
      if (i > 0) expect(r.prev).toBe(records[i - 1]!.hash);
      expect(r.hash).toBe(createHash('sha256').update(canonicalJson({ ...r, hash: undefined })).digest('hex'));
      expect(r.v).toBe(1);
    });
    const lines = linesOf(file);
    expect(lines).toHaveLength(7);
    expect(lines.map((l) => JSON.parse(l) as EvidenceRecord)).toEqual(records);
    expect(readFileSync(file, 'utf8').endsWith('\n')).toBe(true);
  });

  it('writes a lone surrogate (a name any tenant user can set) as U+FFFD, so the record is RFC 8785 and verifies', () => {
    const file = join(dir, 'evidence.jsonl');
    const r = EvidenceTrail.open(file).append({ kind: 'refusal', runId: RUN_APPLY, actor: ACTOR, command: 'apply', reason: 'stale', message: 'inboxRule "\ud800x" changed', tenantId: 'contoso.onmicrosoft.com' });
    expect(r.kind === 'refusal' && r.message).toBe('inboxRule "\ufffdx" changed');
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual(r);
    expect(r.hash).toBe(createHash('sha256').update(canonicalJson({ ...r, hash: undefined })).digest('hex'));
    expect(verifyTrail(readFileSync(file, 'utf8')).ok).toBe(true);
  });

  it('verifies an intact trail and reports its head', () => {
    const { file, records } = writeTrail();
    const result = verifyTrail(readFileSync(file, 'utf8'));
    expect(result).toEqual({ ok: true, records: 7, head: records[6]!.hash, headSeq: 7, problems: [] });
    expect(verifyTrail(readFileSync(file, 'utf8'), { expectHead: records[6]!.hash }).ok).toBe(true);
    expect(verifyTrail('')).toEqual({ ok: true, records: 0, head: GENESIS_PREV, headSeq: 0, problems: [] });
  });

  it('does not depend on JSON formatting: reordered keys and spaces verify the same', () => {
    const { file } = writeTrail();
    const reformatted = linesOf(file).map((l) => {
      const r = JSON.parse(l) as Record<string, unknown>;
      return JSON.stringify(Object.fromEntries(Object.entries(r).reverse())).replace(/,"/g, ', "');
    });
    expect(verifyTrail(textOf(reformatted)).ok).toBe(true);
  });

  it('continues the chain when the file is opened again', () => {
    const { file, records } = writeTrail();
    const trail = EvidenceTrail.open(file);
    expect(trail.seq).toBe(7);
    expect(trail.head).toBe(records[6]!.hash);
    const next = trail.append({ kind: 'apply-start', runId: 'run-4', actor: ACTOR, planHash: PLAN_HASH, desiredHash: DESIRED_HASH, tenantId: 't', stack: 'tailspin', changes: 0 });
    expect(next.seq).toBe(8);
    expect(next.prev).toBe(records[6]!.hash);
    expect(Date.parse(next.time)).not.toBeNaN();
    expect(verifyTrail(readFileSync(file, 'utf8'))).toMatchObject({ ok: true, records: 8, head: next.hash });
  });

  it('creates the file and its folder on the first append, not on open', () => {
    const file = join(dir, 'nested', 'evidence.jsonl');
    const trail = EvidenceTrail.open(file);
    expect(existsSync(file)).toBe(false);
    trail.append({ kind: 'apply-end', runId: 'r', actor: ACTOR, planHash: PLAN_HASH, counts: { applied: 0, failed: 0, skipped: 0 }, exitCode: 0 });
    expect(verifyTrail(readFileSync(file, 'utf8'))).toMatchObject({ ok: true, records: 1 });
  });

  it('rejects an invalid record and writes nothing', () => {
    const file = join(dir, 'evidence.jsonl');
    const trail = EvidenceTrail.open(file);
    expect(() => trail.append({ kind: 'apply-end', runId: 'r', actor: ACTOR, planHash: 'not-a-hash', counts: { applied: 0, failed: 0, skipped: 0 }, exitCode: 0 })).toThrow(/planHash/);
    expect(() => trail.append({ kind: 'apply-end', runId: '', actor: ACTOR, planHash: PLAN_HASH, counts: { applied: 0, failed: 0, skipped: 0 }, exitCode: 0 })).toThrow(/runId/);
    expect(existsSync(file)).toBe(false);
  });

  it('picks up records another writer appended since the trail was opened', () => {
    const { file } = writeTrail();
    const a = EvidenceTrail.open(file);
    const b = EvidenceTrail.open(file);
    const input = { kind: 'apply-end' as const, runId: 'r', actor: ACTOR, planHash: PLAN_HASH, counts: { applied: 0, failed: 0, skipped: 0 }, exitCode: 0 };
    expect(a.append(input).seq).toBe(8);
    expect(b.append(input).seq).toBe(9);
    expect(verifyTrail(readFileSync(file, 'utf8'))).toMatchObject({ ok: true, records: 9 });
  });
});

describe('tampering: each kind is reported at the record and line it happened', () => {
  it('an edited field, hash left as it was: edited at that record', () => {
    const { file } = writeTrail();
    const lines = linesOf(file);
    lines[3] = editLine(lines[3]!, (r) => (r['after'] = { AutoForwardEnabled: true }), false);
    const result = verifyTrail(textOf(lines));
    expect(result.ok).toBe(false);
    expect(result.problems).toEqual([{ line: 4, seq: 4, kind: 'edited', message: 'record 4 (line 4) was edited: its hash does not match its content' }]);
  });

  it('an edited field with its hash recomputed: edited at that record, found by the next link', () => {
    const { file } = writeTrail();
    const lines = linesOf(file);
    lines[3] = editLine(lines[3]!, (r) => (r['result'] = 'failed'), true);
    const result = verifyTrail(textOf(lines));
    expect(brief(textOf(lines))).toEqual([{ kind: 'edited', line: 4, seq: 4 }]);
    expect(result.problems[0]!.message).toBe('record 4 (line 4) was edited: record 5 (line 5) does not link to it, so its hash was recomputed after a change');
  });

  it('an edited seq or hash field is still placed and named correctly', () => {
    const { file } = writeTrail();
    const lines = linesOf(file);
    lines[2] = editLine(lines[2]!, (r) => (r['seq'] = 9), false);
    expect(brief(textOf(lines))).toEqual([{ kind: 'edited', line: 3, seq: 3 }]);
    const again = linesOf(file);
    again[2] = editLine(again[2]!, (r) => (r['hash'] = sha('forged')), false);
    expect(brief(textOf(again))).toEqual([{ kind: 'edited', line: 3, seq: 3 }]);
  });

  it('an edited first record with its prev changed: edited at record 1', () => {
    const { file } = writeTrail();
    const lines = linesOf(file);
    lines[0] = editLine(lines[0]!, (r) => (r['prev'] = sha('before genesis')), false);
    expect(brief(textOf(lines))).toEqual([{ kind: 'edited', line: 1, seq: 1 }]);
  });

  it('a removed middle record: removed, with the missing seq and the line where it belongs', () => {
    const { file } = writeTrail();
    const lines = linesOf(file);
    lines.splice(3, 1);
    const result = verifyTrail(textOf(lines));
    expect(result.problems).toEqual([{ line: 4, seq: 4, kind: 'removed', message: 'record 4 is missing between 3 and 5 (before line 4)' }]);
    expect(result.records).toBe(6);
  });

  it('several removed records are one problem naming the range', () => {
    const { file } = writeTrail();
    const lines = linesOf(file);
    lines.splice(2, 3);
    expect(verifyTrail(textOf(lines)).problems).toEqual([{ line: 3, seq: 3, kind: 'removed', message: 'records 3–5 are missing between 2 and 6 (before line 3)' }]);
  });

  it('a removed first record: removed at the start', () => {
    const { file } = writeTrail();
    const lines = linesOf(file);
    lines.shift();
    expect(verifyTrail(textOf(lines)).problems).toEqual([{ line: 1, seq: 1, kind: 'removed', message: 'record 1 is missing before record 2 (line 1)' }]);
  });

  it('a removed last record: the chain alone cannot tell, the expected head can', () => {
    const { file, records } = writeTrail();
    const head = records[6]!.hash;
    const lines = linesOf(file);
    lines.pop();
    const text = textOf(lines);
    expect(verifyTrail(text)).toMatchObject({ ok: true, head: records[5]!.hash, headSeq: 6 });
    const result = verifyTrail(text, { expectHead: head });
    expect(result.ok).toBe(false);
    expect(brief(text, head)).toEqual([{ kind: 'removed', line: 7, seq: 7 }]);
    expect(result.problems[0]!.message).toMatch(/^the expected head [0-9a-f]{12}… is not in the file, whose head is record 6 \(line 6, [0-9a-f]{12}…\): records after 6 were removed, or the trail was rewritten$/);
  });

  it('records appended after the expected head are named', () => {
    const { file, records } = writeTrail();
    const text = readFileSync(file, 'utf8');
    const result = verifyTrail(text, { expectHead: records[4]!.hash });
    expect(result.problems).toEqual([{ line: 6, seq: 6, kind: 'inserted', message: 'the expected head is record 5 (line 5), but 2 records follow it, up to record 7: added after the head was recorded' }]);
  });

  it('an inserted forged record, correctly linked and hashed: inserted at its line', () => {
    const { file, records } = writeTrail();
    const lines = linesOf(file);
    const forged = { ...records[3]!, prev: records[2]!.hash, after: { AutoForwardingMode: 'On' }, findingId: 'forged' } as Record<string, unknown>;
    forged['hash'] = recordHash(forged);
    lines.splice(3, 0, JSON.stringify(forged));
    const result = verifyTrail(textOf(lines));
    expect(brief(textOf(lines))).toEqual([{ kind: 'inserted', line: 4, seq: 4 }]);
    expect(result.problems[0]!.message).toBe('line 4 holds an inserted record: it repeats seq 4 of the record at line 5, and the chain does not run through it');
  });

  it('an inserted copy of an earlier record: inserted at the copy, wherever it is', () => {
    const { file } = writeTrail();
    const after = linesOf(file);
    after.splice(5, 0, after[1]!);
    expect(brief(textOf(after))).toEqual([{ kind: 'inserted', line: 6, seq: 2 }]);
    const before = linesOf(file);
    before.splice(1, 0, before[5]!);
    expect(brief(textOf(before))).toEqual([{ kind: 'inserted', line: 2, seq: 6 }]);
  });

  it('two swapped records: reordered', () => {
    const { file } = writeTrail();
    const lines = linesOf(file);
    [lines[3], lines[4]] = [lines[4]!, lines[3]!];
    const result = verifyTrail(textOf(lines));
    expect(result.problems).toEqual([{ line: 4, seq: 5, kind: 'reordered', message: 'record 5 (line 4) is out of order: it comes before record 4 (line 5)' }]);
  });

  it('two records swapped far apart: both are reordered', () => {
    const { file } = writeTrail();
    const lines = linesOf(file);
    [lines[1], lines[5]] = [lines[5]!, lines[1]!];
    expect(brief(textOf(lines))).toEqual([
      { kind: 'reordered', line: 2, seq: 6 },
      { kind: 'reordered', line: 6, seq: 2 },
    ]);
  });

  it('a line that is not JSON, in place of a record or added: malformed, and nothing else', () => {
    const { file } = writeTrail();
    const replaced = linesOf(file);
    replaced[3] = '{"v":1,"seq":4,"kind":"change" oops';
    expect(verifyTrail(textOf(replaced)).problems).toEqual([{ line: 4, kind: 'malformed', message: 'line 4 is not valid JSON' }]);
    const added = linesOf(file);
    added.splice(2, 0, 'hello');
    expect(brief(textOf(added))).toEqual([{ kind: 'malformed', line: 3, seq: undefined }]);
    const blank = linesOf(file);
    blank.splice(2, 0, '');
    expect(verifyTrail(textOf(blank)).problems).toEqual([{ line: 3, kind: 'malformed', message: 'line 3 is empty' }]);
    const notRecord = linesOf(file);
    notRecord.splice(2, 0, '{"seq":"three"}');
    expect(brief(textOf(notRecord))).toEqual([{ kind: 'malformed', line: 3, seq: undefined }]);
  });

  it('a line nested too deep to be a record: malformed, and no stack overflow', () => {
    const { file } = writeTrail();
    const lines = linesOf(file);
    lines.splice(2, 0, `{"seq":3,"x":${'['.repeat(100_000)}${']'.repeat(100_000)}}`);
    const problems = verifyTrail(textOf(lines)).problems;
    expect(problems.filter((p) => p.kind !== 'inserted')).toEqual([{ line: 3, kind: 'malformed', message: 'line 3 is not an evidence record: it is nested deeper than 64 levels (at $.x[0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0…)' }]);
  });

  it('a truncated last line: truncated, and the records before it are intact', () => {
    const { file, records } = writeTrail();
    const text = readFileSync(file, 'utf8');
    const cut = text.slice(0, text.length - 40);
    const result = verifyTrail(cut);
    expect(result.problems).toEqual([{ line: 7, seq: 7, kind: 'truncated', message: 'line 7 is incomplete: the file ends in the middle of a record (record 7), after an interrupted write or a cut' }]);
    expect(result).toMatchObject({ records: 6, head: records[5]!.hash, headSeq: 6 });
  });

  it('a last record without its newline: truncated', () => {
    const { file } = writeTrail();
    const text = readFileSync(file, 'utf8');
    expect(brief(text.slice(0, -1))).toEqual([{ kind: 'truncated', line: 7, seq: 7 }]);
  });
});

describe('tampering at every position of the trail', () => {
  const ops: Array<{ name: string; kind: string; apply: (lines: string[], records: EvidenceRecord[], k: number) => { line: number; seq: number } | undefined }> = [
    {
      name: 'edit',
      kind: 'edited',
      apply: (lines, _r, k) => {
        lines[k] = editLine(lines[k]!, (r) => (r['runId'] = 'forged-run'), false);
        return { line: k + 1, seq: k + 1 };
      },
    },
    {
      name: 'edit and rehash',
      kind: 'edited',
      apply: (lines, _r, k) => {
        if (k === lines.length - 1) return undefined;
        lines[k] = editLine(lines[k]!, (r) => (r['runId'] = 'forged-run'), true);
        return { line: k + 1, seq: k + 1 };
      },
    },
    {
      name: 'remove',
      kind: 'removed',
      apply: (lines, _r, k) => {
        if (k === lines.length - 1) return undefined;
        lines.splice(k, 1);
        return { line: k + 1, seq: k + 1 };
      },
    },
    {
      name: 'insert a forged twin',
      kind: 'inserted',
      apply: (lines, records, k) => {
        const forged = { ...records[k]!, runId: 'forged-run' } as Record<string, unknown>;
        forged['hash'] = recordHash(forged);
        const at = k === lines.length - 1 ? k + 1 : k;
        lines.splice(at, 0, JSON.stringify(forged));
        return { line: at + 1, seq: k + 1 };
      },
    },
    {
      name: 'swap with the next',
      kind: 'reordered',
      apply: (lines, _r, k) => {
        if (k === lines.length - 1) return undefined;
        [lines[k], lines[k + 1]] = [lines[k + 1]!, lines[k]!];
        return { line: k + 1, seq: k + 2 };
      },
    },
  ];
  for (const op of ops) {
    it(`${op.name}: exactly one ${op.kind} problem, wherever it happens`, () => {
      const { file, records } = writeTrail();
      for (let k = 0; k < records.length; k++) {
        const lines = linesOf(file);
        const at = op.apply(lines, records, k);
        if (!at) continue;
        expect({ k, problems: brief(textOf(lines)) }).toEqual({ k, problems: [{ kind: op.kind, ...at }] });
      }
    });
  }
});

describe('redaction', () => {
  const JWT = 'eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJhcHBpZCI6IjEyMyIsInJvbGVzIjpbIlBvbGljeS5SZWFkLkFsbCJdfQ.c2lnbmF0dXJl';

  it('never writes a token or a secret to the file', () => {
    const file = join(dir, 'evidence.jsonl');
    const trail = EvidenceTrail.open(file);
    const record = trail.append({
      kind: 'change', runId: 'r', actor: ACTOR, planHash: PLAN_HASH, findingId: 'f1', control: 'APP.CONSENT.4v1',
      resource: { type: 'servicePrincipal', id: 'sp-1', name: 'Mail Sync' }, action: 'delete',
      before: { displayName: 'Mail Sync', seen: JWT, clientSecret: 'Sup3r-S3cret-Value', passwordCredentials: [{ secretText: 'abc123-secret' }], isPasswordRequired: false },
      after: null, result: 'failed', error: `HTTP 401 from /servicePrincipals: Authorization: Bearer ${JWT}; retried with client_secret=Sup3r-S3cret-Value`,
    });
    const text = readFileSync(file, 'utf8');
    for (const raw of [JWT, 'Sup3r-S3cret-Value', 'abc123-secret', 'eyJ']) expect(text).not.toContain(raw);
    expect(record.kind === 'change' && record.before).toEqual({ displayName: 'Mail Sync', seen: '[redacted]', clientSecret: '[redacted]', passwordCredentials: '[redacted]', isPasswordRequired: false });
    expect(record.kind === 'change' && record.error).toBe('HTTP 401 from /servicePrincipals: Authorization: Bearer [redacted]; retried with client_secret=[redacted]');
    expect(verifyTrail(text).ok).toBe(true);
  });

  it('redactSecrets returns a deep copy and leaves its input alone', () => {
    const input = { a: [{ token: 'abc', nested: { Authorization: 'Basic dXNlcjpwYXNz' } }, `Bearer ${JWT}`, JWT], certificate: { thumbprint: 'AB12' }, count: 3, keep: 'plain text', nothing: null };
    const copy = JSON.parse(JSON.stringify(input)) as typeof input;
    expect(redactSecrets(input)).toEqual({ a: [{ token: '[redacted]', nested: { Authorization: '[redacted]' } }, '[redacted]', '[redacted]'], certificate: '[redacted]', count: 3, keep: 'plain text', nothing: null });
    expect(input).toEqual(copy);
    expect(redactSecrets('key: -----BEGIN PRIVATE KEY-----\nMIIB\n-----END PRIVATE KEY-----')).toBe('key: [redacted]');
  });

  it('reads the actor from a token’s claims, never keeping the token', () => {
    const token = (claims: object) => `eyJhbGciOiJub25lIn0.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.`;
    expect(actorFromAccessToken(token({ idtyp: 'app', appid: 'app-1', app_displayname: 'posture-ci', roles: ['Policy.Read.All'] }))).toEqual({ kind: 'application', id: 'app-1', name: 'posture-ci' });
    expect(actorFromAccessToken(token({ oid: 'user-1', upn: 'admin@contoso.example', scp: 'Policy.Read.All', appid: 'cli' }))).toEqual({ kind: 'user', id: 'user-1', name: 'admin@contoso.example' });
    expect(actorFromAccessToken('not a token')).toEqual({ kind: 'unknown', id: 'unknown' });
  });
});

describe('EvidenceTrail.open on a trail that fails verification', () => {
  it('refuses to append, and leaves the file as it was', () => {
    const { file } = writeTrail();
    const lines = linesOf(file);
    lines[3] = editLine(lines[3]!, (r) => (r['result'] = 'skipped'), true);
    writeFileSync(file, textOf(lines));
    expect(() => EvidenceTrail.open(file)).toThrow(/^refusing to append to .*evidence\.jsonl: the evidence trail fails verification \(1 problem; first: record 4 \(line 4\) was edited/);
    expect(readFileSync(file, 'utf8')).toBe(textOf(lines));
  });

  it('refuses a truncated trail, and a trail altered after it was opened', () => {
    const { file } = writeTrail();
    const text = readFileSync(file, 'utf8');
    writeFileSync(file, text.slice(0, -10));
    expect(() => EvidenceTrail.open(file)).toThrow(/line 7 is incomplete/);
    writeFileSync(file, text);
    const trail = EvidenceTrail.open(file);
    const lines = linesOf(file);
    lines.splice(2, 1);
    writeFileSync(file, textOf(lines));
    expect(() => trail.append({ kind: 'apply-end', runId: 'r', actor: ACTOR, planHash: PLAN_HASH, counts: { applied: 0, failed: 0, skipped: 0 }, exitCode: 0 })).toThrow(/record 3 is missing/);
  });
});

describe('a trail that shrank or vanished since it was opened', () => {
  const end = { kind: 'apply-end' as const, runId: 'r', actor: ACTOR, planHash: PLAN_HASH, counts: { applied: 0, failed: 0, skipped: 0 }, exitCode: 0 };

  it('deleted: refused, and no new chain is started at seq 1', () => {
    const { file } = writeTrail();
    const trail = EvidenceTrail.open(file);
    rmSync(file);
    expect(() => trail.append(end)).toThrow(/^refusing to append to .*evidence\.jsonl: the evidence trail was deleted or moved since this run opened it \(it held 7 records, head [0-9a-f]{12}…\); a new chain would hide the records it held/);
    expect(existsSync(file)).toBe(false);
  });

  it('emptied or shortened to an intact shorter chain: refused, the file left as it is', () => {
    const { file } = writeTrail();
    const trail = EvidenceTrail.open(file);
    writeFileSync(file, '');
    expect(() => trail.append(end)).toThrow(/the evidence trail was emptied since this run opened it \(it held 7 records/);
    expect(readFileSync(file, 'utf8')).toBe('');
    writeTrail();
    const again = EvidenceTrail.open(file);
    const shorter = textOf(linesOf(file).slice(0, 3));
    writeFileSync(file, shorter);
    expect(() => again.append(end)).toThrow(/the evidence trail shrank from \d+ to \d+ bytes since this run opened it/);
    expect(readFileSync(file, 'utf8')).toBe(shorter);
  });

  it('replaced by another intact chain of the same length or longer: refused', () => {
    const { file } = writeTrail();
    const trail = EvidenceTrail.open(file);
    const other = join(dir, 'other.jsonl');
    const replacement = EvidenceTrail.open(other);
    while (replacement.seq < 12) replacement.append({ ...end, runId: `someone-else-${replacement.seq}` });
    expect(readFileSync(other).length).toBeGreaterThan(readFileSync(file).length);
    writeFileSync(file, readFileSync(other));
    expect(() => trail.append(end)).toThrow(/the evidence trail was rewritten since this run opened it/);
  });

  it('opened with the head kept elsewhere: refused unless the trail still ends there', () => {
    const { file, records } = writeTrail();
    expect(EvidenceTrail.open(file, { expectHead: records[6]!.hash }).seq).toBe(7);
    expect(() => EvidenceTrail.open(file, { expectHead: records[5]!.hash })).toThrow(/fails verification \(1 problem; first: the expected head is record 6 \(line 6\), but 1 record follows it/);
    rmSync(file);
    expect(() => EvidenceTrail.open(file, { expectHead: records[6]!.hash })).toThrow(/there is no such file, but its head was expected to be [0-9a-f]{12}…: the trail was deleted or moved/);
  });
});

describe('several writers of one trail at once', () => {
  it('four processes appending at the same time: every record in one intact chain, no seq taken twice', async () => {
    const file = join(dir, 'evidence.jsonl');
    const trailModule = new URL('../../reconciler/evidence/store.ts', import.meta.url).href;
    const writer = (n: number) =>
      new Promise<number | null>((resolvePromise) => {
        const script = `
          const { EvidenceTrail } = await import(${JSON.stringify(trailModule)});
          const trail = EvidenceTrail.open(${JSON.stringify(file)});
          for (let i = 0; i < 40; i++) trail.append({ kind: 'apply-end', runId: 'writer-${n}-' + i, actor: ${JSON.stringify(ACTOR)}, planHash: ${JSON.stringify(PLAN_HASH)}, counts: { applied: 0, failed: 0, skipped: 0 }, exitCode: 0 });
        `;
        const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { stdio: ['ignore', 'ignore', 'inherit'] });
        child.on('close', resolvePromise);
      });
    const codes = await Promise.all([1, 2, 3, 4].map(writer));
    expect(codes).toEqual([0, 0, 0, 0]);
    const result = verifyTrail(readFileSync(file, 'utf8'));
    expect(result.problems).toEqual([]);
    expect(result.headSeq).toBe(160);
    expect(existsSync(`${file}.append.lock`)).toBe(false);
  }, 120_000);
});

/** The change records of one run, in file order: what a rollback undoes (as `trailRecords` gives them). */
const changesOfRun = (text: string, runId: string) => trailRecords(text).filter((r) => r.runId === runId && r.kind === 'change');

describe('trailRecords', () => {
  it('gives the change records of one run, in order', () => {
    const { file, records } = writeTrail();
    const text = readFileSync(file, 'utf8');
    expect(changesOfRun(text, RUN_APPLY)).toEqual(records.slice(2, 5));
    expect(changesOfRun(text, RUN_PLAN)).toEqual([]);
    expect(changesOfRun(text.slice(0, -10), RUN_APPLY)).toHaveLength(3);
  });

  it('refuses a trail that fails verification', () => {
    const { file } = writeTrail();
    const lines = linesOf(file);
    lines.splice(3, 1);
    expect(() => changesOfRun(textOf(lines), RUN_APPLY)).toThrow(/fails verification .*record 4 is missing/);
  });
});

describe('plan and apply records', () => {
  const change = (n: number): PlannedChange => ({
    findingId: `finding-${n}`,
    control: 'MAIL.FWD.3v1',
    resource: { type: 'mailbox', id: `user-${n}`, name: `user${n}@contoso.example` },
    action: 'update',
    fingerprint: sha(`live-${n}`),
    readAt: '2026-06-01T02:00:00.000Z',
    write: { api: 'exchange', cmdlet: 'Set-Mailbox', parameters: { Identity: `user-${n}`, ForwardingSmtpAddress: null } },
    before: { ForwardingSmtpAddress: `smtp:out${n}@elsewhere.example` },
  });
  const plan = {
    kind: 'plan', planHash: PLAN_HASH, desiredHash: DESIRED_HASH, tenantId: 'contoso.onmicrosoft.com', stack: 'tailspin',
    summary: { findings: 3, byStatus: { violation: 3 }, bySeverity: { critical: 3 }, byOwner: {}, changes: { create: 0, update: 3, delete: 0 } },
    changes: [change(1), change(2), change(3)],
  } as unknown as PlanDocument;

  it('planEvidence records the plan hash, desired hash and counts', () => {
    const file = join(dir, 'evidence.jsonl');
    const r = EvidenceTrail.open(file).append(planEvidence(plan, RUN_PLAN, ACTOR, 2));
    expect(r).toMatchObject({ kind: 'plan', command: 'plan', planHash: PLAN_HASH, desiredHash: DESIRED_HASH, summary: { findings: 3, byStatus: { violation: 3 }, changes: { update: 3 } }, exitCode: 2 });
  });

  it('applyRecorder writes apply-start, each change, skipped changes and apply-end', () => {
    const file = join(dir, 'evidence.jsonl');
    const recorder = applyRecorder(EvidenceTrail.open(file), RUN_APPLY, ACTOR);
    recorder.start(plan);
    const outcomes: ChangeOutcome[] = [
      { change: plan.changes[0]!, result: 'applied', after: { ForwardingSmtpAddress: null } },
      { change: plan.changes[1]!, result: 'failed', error: 'Set-Mailbox answered 500' },
    ];
    for (const o of outcomes) recorder.change(o);
    recorder.end(outcomes, 1);
    const text = readFileSync(file, 'utf8');
    expect(verifyTrail(text).ok).toBe(true);
    const written = linesOf(file).map((l) => JSON.parse(l) as EvidenceRecord);
    expect(written.map((r) => [r.kind, r.kind === 'change' ? r.result : ''])).toEqual([
      ['apply-start', ''], ['change', 'applied'], ['change', 'failed'], ['change', 'skipped'], ['apply-end', ''],
    ]);
    expect(written[1]).toMatchObject({ findingId: 'finding-1', control: 'MAIL.FWD.3v1', resource: { type: 'mailbox', id: 'user-1' }, action: 'update', before: { ForwardingSmtpAddress: 'smtp:out1@elsewhere.example' }, after: { ForwardingSmtpAddress: null } });
    expect(written[2]).toMatchObject({ after: null, error: 'Set-Mailbox answered 500' });
    expect(written[4]).toMatchObject({ counts: { applied: 1, failed: 1, skipped: 1 }, exitCode: 1, planHash: PLAN_HASH });
    expect(changesOfRun(text, RUN_APPLY).map((r) => r.kind === 'change' && r.findingId)).toEqual(['finding-1', 'finding-2', 'finding-3']);
  });
});

describe('the record format depends on nothing above it', () => {
  it('a recorded write has exactly the shape of the write apply sends, both ways', () => {
    expectTypeOf<Write>().toExtend<RecordedWrite>();
    expectTypeOf<RecordedWrite>().toExtend<Write>();
    expectTypeOf<PlannedChange>().toExtend<RecordableChange>();
    expectTypeOf<ChangeOutcome>().toExtend<RecordableOutcome<PlannedChange>>();
  });
});
