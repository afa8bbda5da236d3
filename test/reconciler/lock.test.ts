import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { lockDirectory, readHolder, RunLocked, takeRunLock, thisMachine } from '../../reconciler/apply/lock.js';

const TENANT = 'b3c1f0e2-7d4a-4e6b-9a58-2c0d1e4f6a7b';
const fresh = () => {
  const dir = mkdtempSync(join(tmpdir(), 'posture-lock-'));
  return { lockDir: join(dir, 'locks'), trail: join(dir, 'evidence.jsonl') };
};
/** Leaves a lock as another run would: its directory, the holder beside it, refreshed `ageMs` ago. */
function leaveLock(target: string, holder: object, ageMs: number): void {
  mkdirSync(`${target}.lock`, { recursive: true });
  writeFileSync(`${target}.lock.holder.json`, JSON.stringify(holder));
  const t = new Date(Date.now() - ageMs);
  utimesSync(`${target}.lock`, t, t);
}

describe('the run lock', () => {
  it('is exclusive per tenant, whatever the letter case, and per trail; released, it can be taken again', async () => {
    const { lockDir, trail } = fresh();
    const held = await takeRunLock({ tenant: TENANT, trail, lockDir });
    expect(readHolder(join(lockDir, `tenant-${TENANT}`))).toMatchObject({ pid: process.pid, host: hostname() });
    await expect(takeRunLock({ tenant: TENANT.toUpperCase(), lockDir })).rejects.toThrow(RunLocked);
    await expect(takeRunLock({ tenant: TENANT, lockDir })).rejects.toThrow(
      new RegExp(`^tenant ${TENANT} is locked by another run: pid ${process.pid} on host .*, started \\d{4}-.*Z, running "posture[^"]*"\\. Nothing was read or written`),
    );
    // Another tenant, the same trail: the trail's lock refuses.
    await expect(takeRunLock({ tenant: 'other.onmicrosoft.example', trail, lockDir })).rejects.toThrow(new RegExp(`^the evidence trail ${trail.replace(/[.]/g, '\\.')} is locked by another run: pid ${process.pid}`));
    // The refused attempt left the other tenant unlocked.
    const other = await takeRunLock({ tenant: 'other.onmicrosoft.example', lockDir });
    await other.release();
    held.assertHeld();
    await held.release();
    expect(existsSync(`${trail}.lock`)).toBe(false);
    expect(existsSync(`${trail}.lock.holder.json`)).toBe(false);
    const again = await takeRunLock({ tenant: TENANT, trail, lockDir });
    await again.release();
  });

  it('a fresh lock of a run on another host is respected, and named; a stale one is taken over, and said so', async () => {
    const { lockDir, trail } = fresh();
    const elsewhere = { pid: 4242, host: 'ci-runner-7', started: '2026-06-01T02:14:05.881Z', command: 'posture apply plan.json --auto-approve' };
    leaveLock(trail, elsewhere, 1_000);
    await expect(takeRunLock({ tenant: TENANT, trail, lockDir })).rejects.toThrow(
      `the evidence trail ${trail} is locked by another run: pid 4242 on host ci-runner-7, started 2026-06-01T02:14:05.881Z, running "posture apply plan.json --auto-approve". Nothing was read or written; run again once it has ended. A lock left by a killed process is taken over: within seconds when its process on this host is gone, otherwise once it is 30 s old`,
    );
    leaveLock(trail, elsewhere, 60_000);
    const notices: string[] = [];
    const held = await takeRunLock({ tenant: TENANT, trail, lockDir, notice: (m) => notices.push(m) });
    expect(notices).toEqual([`took over the lock on the evidence trail ${trail} left by pid 4242 on host ci-runner-7, started 2026-06-01T02:14:05.881Z, running "posture apply plan.json --auto-approve": it was not refreshed for 60 s`]);
    expect(readHolder(trail)).toMatchObject({ pid: process.pid });
    await held.release();
  });

  it('a lock whose process on this host is gone (killed) is taken over within seconds', async () => {
    const { lockDir, trail } = fresh();
    const gone = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
    const pid = Number(gone.stdout);
    // A run of this system and process namespace (its pid can be judged here).
    leaveLock(join(lockDir, `tenant-${TENANT}`), { pid, host: hostname(), started: '2026-06-01T02:14:05.881Z', command: 'posture apply --auto-approve', machine: thisMachine() }, 0);
    const notices: string[] = [];
    const held = await takeRunLock({ tenant: TENANT, trail, lockDir, notice: (m) => notices.push(m) });
    expect(notices).toEqual([`took over the lock on tenant ${TENANT} left by pid ${pid} on host ${hostname()}, started 2026-06-01T02:14:05.881Z, running "posture apply --auto-approve": that process is no longer running`]);
    await held.release();
  });

  it('a holder file written to mislead the terminal is shown without its control characters', async () => {
    const { lockDir, trail } = fresh();
    leaveLock(trail, { pid: 1, host: 'h\u001b[2J', started: 'x', command: 'posture apply\u202e\nforged line' }, 0);
    await expect(takeRunLock({ tenant: TENANT, trail, lockDir })).rejects.toThrow(/pid 1 on host h\?\[2J, started x, running "posture apply\?\?forged line"/);
  });

  it('lives in POSTURE_LOCK_DIR when it is set, else in a folder of the user under the system temp folder', () => {
    expect(lockDirectory({ POSTURE_LOCK_DIR: '/srv/locks' })).toBe('/srv/locks');
    expect(lockDirectory({})).toMatch(new RegExp(`^${tmpdir().replace(/[.]/g, '\\.')}/email-posture-[^/]+/locks$`));
  });
});
