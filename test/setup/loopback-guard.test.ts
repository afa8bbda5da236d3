import { execFile, spawn, spawnSync } from 'node:child_process';
import dns from 'node:dns';
import dnsPromises from 'node:dns/promises';
import { createServer, get, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import net from 'node:net';
import { promisify } from 'node:util';
import { ManagedIdentityCredential } from '@azure/identity';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectTarget, isLoopbackHost, seen, violations, withUnderlyingConnect } from './loopback-guard.mjs';
import { GUARD_EXIT_CODE, GUARD_NODE_OPTIONS } from './loopback.js';

// The guard's own tests never let a request out even if the guard were broken: a refused hostname
// comes with a lookup that fails, a refused DNS query is made on an object with no resolver behind
// it, and the managed identity run has nothing under the guard but a stub.

/** Runs `fn`, expecting the guard to refuse exactly once, and takes that refusal off the record. */
function refusedOnce(fn: () => unknown): string {
  const before = violations.length;
  expect(fn).toThrow(/^loopback guard: /);
  const got = violations.splice(before);
  expect(got).toHaveLength(1);
  return got[0]!;
}

const failingLookup = (_host: string, _o: unknown, cb: (err: Error) => void) => cb(new Error('no lookup in this test'));

describe('the loopback guard', () => {
  it('knows loopback from the rest', () => {
    for (const h of ['localhost', 'LOCALHOST', '127.0.0.1', '127.12.0.254', '::1', '[::1]', '::ffff:127.0.0.1']) expect(isLoopbackHost(h), h).toBe(true);
    for (const h of ['169.254.169.254', '10.0.0.1', '192.168.1.1', '0.0.0.0', '127.0.0.1.example', '127.evil.example', '128.0.0.1', 'graph.microsoft.com', '::2', '127.256.0.1']) expect(isLoopbackHost(h), h).toBe(false);
  });

  it('reads where a connect call goes, in each form Node accepts', () => {
    expect(connectTarget([{ host: '169.254.169.254', port: 80 }])).toEqual({ host: '169.254.169.254', port: 80 });
    expect(connectTarget([[{ host: 'a.example', port: 443 }, () => undefined]])).toEqual({ host: 'a.example', port: 443 });
    expect(connectTarget([443, 'b.example'])).toEqual({ host: 'b.example', port: 443 });
    expect(connectTarget([443])).toEqual({ host: 'localhost', port: 443 });
    expect(connectTarget([{ port: 80 }])).toEqual({ host: 'localhost', port: 80 });
    expect(connectTarget(['/run/some.sock'])).toBeUndefined();
    expect(connectTarget([{ path: '/run/some.sock' }])).toBeUndefined();
  });

  describe('sees every client the code uses', () => {
    let server: Server;
    let port: number;
    beforeAll(async () => {
      server = createServer((_req, res) => res.end('ok'));
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      port = (server.address() as AddressInfo).port;
    });
    afterAll(() => new Promise<void>((r) => server.close(() => r())));

    it('fetch (undici) and node:http both connect through it', async () => {
      const before = seen.length;
      expect(await (await fetch(`http://127.0.0.1:${port}/`)).text()).toBe('ok');
      await new Promise<void>((resolve, reject) => get(`http://localhost:${port}/`, (res) => res.resume().on('end', resolve)).on('error', reject));
      expect(seen.slice(before)).toEqual(expect.arrayContaining(['127.0.0.1', 'localhost']));
    });
  });

  it('refuses a connection to a host off this machine before anything is sent', () => {
    const message = refusedOnce(() => net.connect({ host: 'outside.invalid', port: 443, lookup: failingLookup as never }));
    expect(message).toMatch(/a connection to outside\.invalid:443/);
  });

  it('refuses lookups of other names and DNS queries to servers off this machine', () => {
    expect(refusedOnce(() => dns.lookup('outside.invalid', () => undefined))).toMatch(/a lookup of outside\.invalid/);
    const offMachine = { getServers: () => ['10.255.255.53'] };
    expect(refusedOnce(() => dns.Resolver.prototype.resolveTxt.call(offMachine as never, '_dmarc.example', () => undefined))).toMatch(/DNS server 10\.255\.255\.53/);
    expect(refusedOnce(() => dnsPromises.Resolver.prototype.resolveTxt.call(offMachine as never, '_dmarc.example'))).toMatch(/DNS server 10\.255\.255\.53/);
    const local = new dns.Resolver();
    local.setServers(['127.0.0.1:9']);
    expect(() => local.cancel()).not.toThrow();
  });

  it('stops a managed identity with no endpoint in its environment before it reaches 169.254.169.254', async () => {
    const before = violations.length;
    const reached: unknown[] = [];
    await withUnderlyingConnect(
      function (this: net.Socket, ...args: unknown[]) {
        reached.push(connectTarget(args));
        process.nextTick(() => this.destroy(new Error('stub')));
        return this;
      },
      async () => {
        const credential = new ManagedIdentityCredential({ retryOptions: { maxRetries: 0 } });
        await expect(credential.getToken('https://graph.microsoft.com/.default')).rejects.toThrow();
      },
    );
    const got = violations.splice(before);
    expect(got.length).toBeGreaterThan(0);
    expect(got.every((m) => m.includes('169.254.169.254'))).toBe(true);
    expect(reached).toEqual([]);
  });

  it('is loaded into the processes the tests start, which it ends with exit code 97', async () => {
    const script = `require('node:net').connect({ host: 'outside.invalid', port: 443, lookup: (h, o, cb) => cb(new Error('no lookup')) }).on('error', () => process.exit(0));`;
    const r = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
      const child = spawn(process.execPath, ['-e', script], { env: { PATH: process.env['PATH'] ?? '', NODE_OPTIONS: GUARD_NODE_OPTIONS }, stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      child.on('close', (code) => resolve({ code, stderr }));
    });
    expect(r.code).toBe(GUARD_EXIT_CODE);
    expect(r.stderr).toMatch(/^loopback guard: a connection to outside\.invalid:443 is not on this machine/);
    expect(process.env['NODE_OPTIONS']).toContain(GUARD_NODE_OPTIONS);
  });

  describe('is passed on to every process a test starts, even one given an environment of its own', () => {
    // Leaves for outside.invalid; its own error handler would exit 0 were the guard not loaded.
    const script = `require('node:net').connect({ host: 'outside.invalid', port: 443, lookup: (h, o, cb) => cb(new Error('no lookup')) }).on('error', () => process.exit(0));`;
    const bare = () => ({ PATH: process.env['PATH'] ?? '' });

    it('spawn', async () => {
      const code = await new Promise<number | null>((resolve) => spawn(process.execPath, ['-e', script], { env: bare(), stdio: 'ignore' }).on('close', resolve));
      expect(code).toBe(GUARD_EXIT_CODE);
    });

    it('spawnSync', () => {
      expect(spawnSync(process.execPath, ['-e', script], { env: bare(), encoding: 'utf8' }).status).toBe(GUARD_EXIT_CODE);
    });

    it('execFile, promisified as the tests use it (its result keeps stdout and stderr)', async () => {
      const run = promisify(execFile);
      const ok = await run(process.execPath, ['-e', 'process.stdout.write("out"); process.stderr.write("err")'], { env: bare() });
      expect(ok).toEqual({ stdout: 'out', stderr: 'err' });
      const refused = await run(process.execPath, ['-e', script], { env: bare() }).catch((e: { code: number; stderr: string }) => e);
      expect(refused).toMatchObject({ code: GUARD_EXIT_CODE, stderr: expect.stringMatching(/^loopback guard: a connection to outside\.invalid:443/) as unknown });
    });

    it('a process that a guarded process starts with a bare environment', async () => {
      const parent = `const r = require('node:child_process').spawnSync(process.execPath, ['-e', ${JSON.stringify(script)}], { env: { PATH: process.env.PATH } }); process.exit(r.status === null ? 1 : r.status);`;
      const code = await new Promise<number | null>((resolve) => spawn(process.execPath, ['-e', parent], { env: { ...bare(), NODE_OPTIONS: GUARD_NODE_OPTIONS }, stdio: 'ignore' }).on('close', resolve));
      expect(code).toBe(GUARD_EXIT_CODE);
    });
  });
});
