import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { heldByLibrary, RunLocked, takeRunLock } from '../../reconciler/apply/lock.js';

const TENANT = 'b3c1f0e2-7d4a-4e6b-9a58-2c0d1e4f6a7b';
const fresh = () => {
  const dir = mkdtempSync(join(tmpdir(), 'posture-lock-review-'));
  return { dir, lockDir: join(dir, 'locks'), trail: join(dir, 'evidence.jsonl') };
};

describe('the run lock, under attack', () => {
  it('one trail named two ways (a symlink to it, or to its folder) is one lock', async () => {
    const { dir, lockDir, trail } = fresh();
    writeFileSync(trail, '');
    symlinkSync(trail, join(dir, 'alias.jsonl'));
    symlinkSync(dir, join(dir, 'folder'));
    const held = await takeRunLock({ tenant: TENANT, trail, lockDir });
    try {
      await expect(takeRunLock({ tenant: 'other.onmicrosoft.example', trail: join(dir, 'alias.jsonl'), lockDir })).rejects.toThrow(RunLocked);
      await expect(takeRunLock({ tenant: 'other.onmicrosoft.example', trail: join(dir, 'folder', 'evidence.jsonl'), lockDir })).rejects.toThrow(RunLocked);
    } finally {
      await held.release();
    }
  });

  it('a lock taken over by another run is seen as lost at the next write, not only at the next refresh', async () => {
    const { lockDir, trail } = fresh();
    const held = await takeRunLock({ tenant: TENANT, trail, lockDir });
    try {
      held.assertHeld();
      // Another run found the lock stale and took it over: a new lock directory, and its holder beside it.
      const target = join(lockDir, `tenant-${TENANT}`);
      rmSync(`${target}.lock`, { recursive: true, force: true });
      mkdirSync(`${target}.lock`);
      writeFileSync(`${target}.lock.holder.json`, JSON.stringify({ pid: 999_999, host: 'ci-runner-2', started: new Date().toISOString(), command: 'posture apply --auto-approve' }));
      expect(() => held.assertHeld()).toThrow(/the lock on tenant .* was lost while this run held it \(it is now held by pid 999999 on host ci-runner-2/);
      // Releasing leaves the other run's lock alone, and so does this process's exit.
      await held.release();
      expect(existsSync(`${target}.lock`)).toBe(true);
      expect(Object.keys(heldByLibrary() ?? { missing: true })).not.toContain(target);
      expect(heldByLibrary()).toBeDefined();
    } finally {
      await held.release();
    }
  });

  it('a run whose lock was taken over releases nothing of the other run\'s, even when it never wrote since', async () => {
    const { lockDir } = fresh();
    const held = await takeRunLock({ tenant: TENANT, lockDir });
    const target = join(lockDir, `tenant-${TENANT}`);
    rmSync(`${target}.lock`, { recursive: true, force: true });
    mkdirSync(`${target}.lock`);
    const other = JSON.stringify({ pid: 999_999, host: 'ci-runner-2', started: new Date().toISOString(), command: 'posture apply --auto-approve' });
    writeFileSync(`${target}.lock.holder.json`, other);
    await held.release();
    expect(existsSync(`${target}.lock`)).toBe(true);
    expect(readFileSync(`${target}.lock.holder.json`, 'utf8')).toBe(other);
  });

  it('the holder file is written in place of a symlink planted there, never through it', async () => {
    const { dir, lockDir } = fresh();
    const victim = join(dir, 'victim.txt');
    writeFileSync(victim, 'precious\n');
    mkdirSync(lockDir, { recursive: true });
    symlinkSync(victim, join(lockDir, `tenant-${TENANT}.lock.holder.json`));
    const held = await takeRunLock({ tenant: TENANT, lockDir });
    try {
      expect(readFileSync(victim, 'utf8')).toBe('precious\n');
    } finally {
      await held.release();
    }
    expect(readFileSync(victim, 'utf8')).toBe('precious\n');
    expect(existsSync(victim)).toBe(true);
  });

  it('a fresh lock whose holder runs in another process namespace of a host of the same name is not taken over', async () => {
    const { lockDir, trail } = fresh();
    const held = await takeRunLock({ tenant: TENANT, trail, lockDir });
    try {
      // A live run in another container with the same host name (host networking): its pid means nothing here.
      const gone = Number(spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' }).stdout);
      const target = join(lockDir, `tenant-${TENANT}`);
      const mine = JSON.parse(readFileSync(`${target}.lock.holder.json`, 'utf8')) as Record<string, unknown>;
      const other: Record<string, unknown> = { ...mine, pid: gone, host: hostname() };
      for (const k of Object.keys(other)) if (!['pid', 'host', 'started', 'command'].includes(k)) other[k] = `another-${k}`;
      writeFileSync(`${target}.lock.holder.json`, JSON.stringify(other));
      await expect(takeRunLock({ tenant: TENANT, lockDir })).rejects.toThrow(RunLocked);
    } finally {
      await held.release();
    }
  });
});

describe('the trail\'s append lock, under attack', () => {
  it('is one lock however the trail is named: a writer through a symlink waits for the one holding it', async () => {
    const { dir, trail } = fresh();
    const { EvidenceTrail } = await import('../../reconciler/evidence/store.js');
    const { default: lockfile } = await import('proper-lockfile');
    EvidenceTrail.open(trail).append({ kind: 'refusal', runId: 'r1', actor: { kind: 'unknown', id: 'unknown' }, command: 'apply', reason: 'stale', message: 'x', tenantId: TENANT });
    symlinkSync(trail, join(dir, 'alias.jsonl'));
    const viaAlias = EvidenceTrail.open(join(dir, 'alias.jsonl'));
    // Another writer is between reading the head and its fsync, holding the lock under the real name.
    // (Its refresh is shown by a time ahead: this thread is blocked while the other append waits.)
    const release = lockfile.lockSync(`${trail}.append`, { realpath: false, stale: 600_000, update: 300_000, onCompromised: () => {} });
    const ahead = new Date(Date.now() + 120_000);
    utimesSync(`${trail}.append.lock`, ahead, ahead);
    try {
      expect(() => viaAlias.append({ kind: 'refusal', runId: 'r2', actor: { kind: 'unknown', id: 'unknown' }, command: 'apply', reason: 'stale', message: 'y', tenantId: TENANT })).toThrow(/another writer has held its append lock/);
    } finally {
      release();
    }
  });
});

describe('the default lock folder, in a temp folder every user can write to', () => {
  const withTmp = async (fn: (tmp: string) => Promise<void>) => {
    const saved = { TMPDIR: process.env['TMPDIR'], POSTURE_LOCK_DIR: process.env['POSTURE_LOCK_DIR'] };
    const tmp = mkdtempSync(join(tmpdir(), 'posture-shared-tmp-'));
    process.env['TMPDIR'] = tmp;
    delete process.env['POSTURE_LOCK_DIR'];
    try {
      await fn(tmp);
    } finally {
      for (const [k, v] of Object.entries(saved)) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    }
  };
  const planted = (tmp: string) => join(tmp, `email-posture-${process.getuid?.() ?? 'user'}`);

  it('is refused when another user could change it (made before this user did, writable by others)', async () => {
    await withTmp(async (tmp) => {
      mkdirSync(join(planted(tmp), 'locks'), { recursive: true });
      chmodSync(planted(tmp), 0o777);
      await expect(takeRunLock({ tenant: TENANT })).rejects.toThrow(/is not this user's own/);
    });
  });

  it.skipIf(process.getuid?.() !== 0)('is refused when another user owns it', async () => {
    await withTmp(async (tmp) => {
      mkdirSync(join(planted(tmp), 'locks'), { recursive: true, mode: 0o700 });
      chownSync(planted(tmp), 4242, 4242);
      await expect(takeRunLock({ tenant: TENANT })).rejects.toThrow(/is not this user's own/);
    });
  });

  it('is taken when it is this user\'s own', async () => {
    await withTmp(async () => {
      const held = await takeRunLock({ tenant: TENANT });
      await held.release();
    });
  });
});
