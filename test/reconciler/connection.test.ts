import { describe, expect, it } from 'vitest';
import { connect, isLoopbackHost } from '../../reconciler/input/connection.js';

const env = { POSTURE_ACCESS_TOKEN: 'x.y.z' };
const at = (graphUrl: string, exchangeUrl = 'https://outlook.office365.com') => () => connect({ tenant: 't', auth: 'token', graphUrl, exchangeUrl, timeoutMs: 1000, env });

describe('plain http only on a loopback address', () => {
  it('accepts https anywhere, and http on 127.0.0.0/8, ::1 and localhost', () => {
    for (const url of ['https://graph.microsoft.com', 'https://graph.microsoft.us/', 'http://127.0.0.1:8080', 'http://127.45.6.7', 'http://127.1', 'http://[::1]:4000', 'http://[::ffff:127.0.0.1]', 'http://localhost:3000', 'http://LOCALHOST']) {
      expect(at(url), url).not.toThrow();
    }
  });

  it('refuses a host that only starts like a loopback address, and any other plain http', () => {
    for (const url of ['http://127.evil.example', 'http://127.0.0.1.nip.io', 'http://localhost.evil.example', 'http://128.0.0.1', 'http://[::2]', 'http://10.0.0.1', 'http://graph.example']) {
      expect(at(url), url).toThrow(/only https is allowed, except on loopback/);
      expect(at('https://graph.microsoft.com', url), url).toThrow(/^--exchange-url .*only https is allowed, except on loopback/);
    }
  });

  it('refuses other schemes, and endpoints with credentials, a query or a fragment', () => {
    expect(at('ftp://127.0.0.1')).toThrow(/only https is allowed/);
    expect(at('file:///etc/passwd')).toThrow(/only https is allowed/);
    expect(at('https://user:pass@graph.microsoft.com')).toThrow(/without credentials, query or fragment/);
    expect(at('https://graph.microsoft.com/?x=1')).toThrow(/without credentials, query or fragment/);
  });

  it('parses the forms a URL can give a loopback address in, and refuses the look-alikes', () => {
    // The URL parser normalises these to 127.0.0.1 or ::1 before the check: they are loopback.
    for (const url of ['http://0x7f.1', 'http://2130706433', 'http://127.0.0.1.', 'http://[0:0:0:0:0:0:0:1]', 'HTTP://127.0.0.1:8080', 'http://[::FFFF:127.0.0.1]']) {
      expect(at(url), url).not.toThrow();
    }
    // An IPv4-mapped address outside 127/8, the deprecated IPv4-compatible form, userinfo that names a
    // loopback address before another host, and localhost with its trailing dot (an absolute name a
    // resolver may look up in DNS rather than the hosts file) are not loopback.
    for (const url of ['http://[::ffff:10.0.0.1]', 'http://[::127.0.0.1]', 'http://127.0.0.1@evil.example', 'http://localhost@evil.example', 'http://localhost.', 'http://LOCALHOST.', 'http://sub.localhost', 'http://0.0.0.0', 'http://[::]']) {
      expect(at(url), url).toThrow(/only https is allowed, except on loopback/);
    }
    expect(isLoopbackHost('localhost.')).toBe(false);
    expect(isLoopbackHost('LocalHost')).toBe(true);
    expect(isLoopbackHost('::ffff:127.0.0.1')).toBe(true);
    expect(isLoopbackHost('::ffff:7f00:1')).toBe(true);
    expect(isLoopbackHost('::7f00:1')).toBe(false);
  });

  it('tells a loopback address by parsing it, not by its first characters', () => {
    expect(isLoopbackHost('127.0.0.1')).toBe(true);
    expect(isLoopbackHost('127.255.255.254')).toBe(true);
    expect(isLoopbackHost('::1')).toBe(true);
    expect(isLoopbackHost('[::1]')).toBe(true);
    expect(isLoopbackHost('localhost')).toBe(true);
    expect(isLoopbackHost('127.evil.example')).toBe(false);
    expect(isLoopbackHost('127.0.0.1.evil.example')).toBe(false);
    expect(isLoopbackHost('0.0.0.0')).toBe(false);
    expect(isLoopbackHost('::')).toBe(false);
  });
});

describe('the tenant', () => {
  it('is a tenant id or a domain name: nothing that would change the Exchange URL it goes into', () => {
    const tenant = (t: string) => () => connect({ tenant: t, auth: 'token', graphUrl: 'https://graph.microsoft.com', exchangeUrl: 'https://outlook.office365.com', timeoutMs: 1000, env });
    for (const t of ['6f1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d', 'contoso.onmicrosoft.com', 't']) expect(tenant(t), t).not.toThrow();
    for (const t of ['../../other/InvokeCommand', 'contoso.example?x=1', 'contoso#', 'a b', '@evil.example']) {
      expect(tenant(t), t).toThrow(/is not a tenant id \(GUID\) or initial domain/);
    }
  });
});
