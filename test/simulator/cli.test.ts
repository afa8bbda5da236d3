import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const posture = fileURLToPath(new URL('../../bin/posture.js', import.meta.url));

describe('posture sim', () => {
  it('prints its endpoints as one JSON line, serves them, and stops on SIGTERM', async () => {
    const child = spawn(process.execPath, [posture, 'sim', '--scenario', 'drifted'], { stdio: ['ignore', 'pipe', 'pipe'] });
    const line = await new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes('\n')) resolve(out.split('\n')[0]!);
      });
      child.on('exit', (code) => reject(new Error(`exited ${code}`)));
    });
    const endpoints = JSON.parse(line) as { graphUrl: string; exoUrl: string; dns: { host: string; port: number }; tenantId: string };
    expect(endpoints.graphUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(endpoints.exoUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(endpoints.dns).toEqual({ host: '127.0.0.1', port: expect.any(Number) });
    expect((await fetch(`${endpoints.graphUrl}/v1.0/users`)).status).toBe(401);
    const exit = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    child.kill('SIGTERM');
    expect(await exit).toBe(0);
  });

  it('refuses an unknown scenario and a non-loopback address with one message', async () => {
    for (const args of [['--scenario', 'nope'], ['--host', '0.0.0.0']]) {
      const child = spawn(process.execPath, [posture, 'sim', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
      let err = '';
      child.stderr.on('data', (d: Buffer) => (err += d.toString()));
      const code = await new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
      expect(code).toBe(1);
      expect(err.trim().split('\n')).toHaveLength(1);
      expect(err).toMatch(/^posture sim: /);
    }
  });
});
