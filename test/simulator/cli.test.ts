import { spawn } from 'node:child_process';
import net from 'node:net';
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

  it('with --smtp also prints the SMTP port and the address of each MX host, where a listener answers', async () => {
    const child = spawn(process.execPath, [posture, 'sim', '--scenario', 'gateway', '--smtp'], { stdio: ['ignore', 'pipe', 'pipe'] });
    const line = await new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes('\n')) resolve(out.split('\n')[0]!);
      });
      child.on('exit', (code) => reject(new Error(`exited ${code}`)));
    });
    const endpoints = JSON.parse(line) as { smtp: { port: number; hosts: Record<string, string> } };
    // The MX hosts first, then each accepted domain's own Exchange Online Protection host.
    expect(endpoints.smtp).toMatchObject({ port: expect.any(Number), hosts: { 'mx1.secure-gateway.example': '127.0.0.2', 'news-tailspintoys-example.mail.protection.outlook.com': '127.0.0.3', 'tailspintoys-example.mail.protection.outlook.com': '127.0.0.4' } });
    const banner = await new Promise<string>((resolve, reject) => {
      const socket = net.connect({ host: '127.0.0.2', port: endpoints.smtp.port });
      socket.once('data', (d: Buffer) => {
        socket.end('QUIT\r\n');
        resolve(d.toString());
      });
      socket.once('error', reject);
    });
    expect(banner).toMatch(/^220 mx1\.secure-gateway\.example /);
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

  /** Runs `posture sim` with these arguments, stopping it if it starts after all. */
  const refused = async (args: string[]): Promise<{ code: number | null; err: string; out: string }> => {
    const child = spawn(process.execPath, [posture, 'sim', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    let out = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const stop = setTimeout(() => child.kill('SIGTERM'), 15_000);
    const code = await new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
    clearTimeout(stop);
    return { code, err, out };
  };

  it('refuses a host that only starts like a loopback address', async () => {
    for (const host of ['127.evil.example', '127.0.0.1.nip.io', 'localhost.evil.example', 'localhost.', '::ffff:10.0.0.1']) {
      const r = await refused(['--host', host]);
      expect(r.code, host).toBe(1);
      expect(r.err).toBe(`posture sim: --host ${host} is not a loopback address; the simulator only listens on loopback\n`);
    }
  });

  it('refuses a number that is not one, or out of range, before starting', async () => {
    for (const [args, message] of [
      [['--port', 'abc'], /^posture sim: --port must be a whole number, 0 or more and at most 65,535; "abc" is not\n/],
      [['--dns-port', '70000'], /^posture sim: --dns-port must be a whole number, 0 or more and at most 65,535; 70000 is not\n/],
      [['--latency', '-5'], /^posture sim: --latency must be a whole number of milliseconds, 0 or more and at most 60,000; -5 is not\n/],
      [['--mailboxes', '1e9'], /^posture sim: --mailboxes must be a whole number of mailboxes, 1 or more and at most 1,000,000; 1000000000 is not\n/],
      [['--mailboxes', '10', '--forwarding-share', '2'], /^posture sim: --forwarding-share must be a number from 0 to 1; 2 is not\n/],
    ] as const) {
      const r = await refused([...args]);
      expect(r.code, args.join(' ')).toBe(1);
      expect(r.err).toMatch(message);
      expect(r.out).toBe('');
    }
  });
});
