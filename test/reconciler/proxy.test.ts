import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { webcrypto } from 'node:crypto';
import { createServer as createHttpServer } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { TokenProvider } from '../../reconciler/auth/tokens.js';
import { REDACTED, redactText } from '../../reconciler/core/redact.js';
import { GraphTransport } from '../../reconciler/transport/graph.js';
import { describe as describeFailure, NetworkError } from '../../reconciler/transport/middleware.js';
import { describeCause, proxyFetch, proxyFor, proxySettings, ProxyError } from '../../reconciler/transport/proxy.js';
import { postWebhook } from '../../reconciler/transport/webhook.js';
import { closedPort, startForwardProxy, type ForwardProxy } from './forward-proxy.js';

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

const EC = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
const DAY = 86_400_000;

/** An https server on loopback whose certificate, for 127.0.0.1 and expired.proxy.test, expired yesterday. */
async function expiredServer(): Promise<Server> {
  const keys = (await webcrypto.subtle.generateKey(EC, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
  const now = Date.now();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: '0a1b2c3d',
    name: 'CN=127.0.0.1',
    notBefore: new Date(now - 30 * DAY),
    notAfter: new Date(now - DAY),
    keys,
    signingAlgorithm: EC,
    extensions: [
      new x509.SubjectAlternativeNameExtension([
        { type: 'ip', value: '127.0.0.1' },
        { type: 'dns', value: 'expired.proxy.test' },
      ]),
    ],
  });
  const der = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey));
  const key = `-----BEGIN PRIVATE KEY-----\n${der.toString('base64')}\n-----END PRIVATE KEY-----\n`;
  const server = createServer({ cert: cert.toString('pem'), key }, (_req, res) => res.end('{"value":[]}'));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}

const tokens: TokenProvider = { canRefresh: false, description: 'test', token: async () => 'opaque-test-token-0123456789' };
const quick = { maxRetries: 0, baseDelayMs: 1, maxDelayMs: 1 };

describe('a failed request names its cause', () => {
  let server: Server;
  let proxy: ForwardProxy;
  let url: string;
  /** The same server by a name only the proxy resolves: a loopback address would go direct. */
  let named: string;
  beforeAll(async () => {
    server = await expiredServer();
    proxy = await startForwardProxy({ hosts: { 'expired.proxy.test': '127.0.0.1' } });
    url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
    named = `https://expired.proxy.test:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await proxy.stop();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('an expired certificate, with Node’s own fetch: "certificate has expired", not "fetch failed"', async () => {
    const t = new GraphTransport({ baseUrl: url, tokens, retry: quick, timeoutMs: 5000 });
    const err = await t.request('GET', '/users').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NetworkError);
    expect((err as Error).message).toBe('certificate has expired (CERT_HAS_EXPIRED)');
  });

  it('an expired certificate behind the proxy: the service’s certificate, named as reached through the proxy', async () => {
    const fetch = proxyFetch({ HTTPS_PROXY: proxy.url });
    const t = new GraphTransport({ baseUrl: named, tokens, retry: quick, timeoutMs: 5000, fetch: fetch! });
    const err = await t.request('GET', '/users').catch((e: unknown) => e);
    expect((err as Error).message).toBe(`certificate has expired (CERT_HAS_EXPIRED) (through proxy 127.0.0.1:${proxy.port})`);
    expect(proxy.carried.map((c) => `${c.kind} ${c.target}`)).toEqual([`connect ${new URL(named).host}`]);
  });

  it('an expired certificate on loopback with a proxy set: sent direct, so the cause is the service’s alone', async () => {
    const carried = proxy.carried.length;
    const fetch = proxyFetch({ HTTPS_PROXY: proxy.url, HTTP_PROXY: proxy.url });
    const t = new GraphTransport({ baseUrl: url, tokens, retry: quick, timeoutMs: 5000, fetch: fetch! });
    const err = await t.request('GET', '/users').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NetworkError);
    expect((err as Error).message).toBe('certificate has expired (CERT_HAS_EXPIRED)');
    expect(proxy.carried.length).toBe(carried);
  });

  it('the shapes of Node’s and undici’s errors: system errors, TLS, AggregateError, wrapped causes', () => {
    const failed = (cause: unknown) => new TypeError('fetch failed', { cause });
    const sys = (code: string, message: string, extra: Record<string, unknown> = {}) => Object.assign(new Error(message), { code, ...extra });
    expect(describeFailure(failed(sys('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:443', { syscall: 'connect', address: '127.0.0.1', port: 443 })))).toBe('ECONNREFUSED 127.0.0.1:443');
    expect(describeFailure(failed(sys('ENOTFOUND', 'getaddrinfo ENOTFOUND graph.example', { syscall: 'getaddrinfo', hostname: 'graph.example' })))).toBe('getaddrinfo ENOTFOUND graph.example');
    expect(describeFailure(failed(sys('UND_ERR_SOCKET', 'other side closed')))).toBe('other side closed (UND_ERR_SOCKET)');
    const both = new AggregateError([
      sys('ECONNREFUSED', 'connect ECONNREFUSED ::1:443', { syscall: 'connect', address: '::1', port: 443 }),
      sys('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:443', { syscall: 'connect', address: '127.0.0.1', port: 443 }),
    ]);
    expect(describeFailure(failed(Object.assign(both, { code: 'ECONNREFUSED' })))).toBe('ECONNREFUSED ::1:443; ECONNREFUSED 127.0.0.1:443');
    // undici's tunnel failure arrives inside a DOMException inside "fetch failed".
    const tunnel = Object.assign(new Error('Request was cancelled.'), { cause: sys('UND_ERR_ABORTED', 'Proxy response (502) !== 200 when HTTP Tunneling') });
    expect(describeCause(failed(tunnel))).toBe('Proxy response (502) !== 200 when HTTP Tunneling (UND_ERR_ABORTED)');
    expect(describeFailure(new ProxyError('proxy 127.0.0.1:3128 refused the connection'))).toBe('proxy 127.0.0.1:3128 refused the connection');
    expect(describeFailure(new Error('plain'))).toBe('plain');
  });
});

describe('the proxy variables, read as undici reads them', () => {
  it('no proxy variable (NO_PROXY alone included): no proxy, Node’s own fetch', () => {
    expect(proxySettings({})).toBeUndefined();
    expect(proxySettings({ NO_PROXY: 'example.com' })).toBeUndefined();
    expect(proxySettings({ HTTPS_PROXY: '' })).toBeUndefined();
    expect(proxyFetch({ no_proxy: '*' })).toBeUndefined();
  });

  it('the lower-case name wins over the upper-case one', () => {
    expect(proxySettings({ https_proxy: 'http://a:1', HTTPS_PROXY: 'http://b:2', HTTP_PROXY: 'http://c:3', NO_PROXY: 'x', no_proxy: 'y' })).toEqual({ httpsProxy: 'http://a:1', httpProxy: 'http://c:3', noProxy: 'y' });
  });

  it('which requests go through which proxy, and which NO_PROXY lets go direct', () => {
    const s = { httpProxy: 'http://plain:3128', httpsProxy: 'http://secure:3128', noProxy: 'internal.example, .corp.example,*.lab.example graph.example:8443 [fd00::1]' };
    const via = (url: string, settings = s) => proxyFor(new URL(url), settings);
    expect(via('https://graph.microsoft.com/v1.0')).toBe('http://secure:3128');
    expect(via('https://graph.microsoft.com/', { ...s, httpsProxy: '' })).toBe('http://plain:3128');
    // Plain http (loopback only, by the connection rules) and loopback hosts never go through a proxy.
    for (const direct of ['http://127.0.0.1:8080/', 'http://localhost/', 'http://[::1]:80/', 'http://plain.example/', 'https://127.0.0.1:8443/', 'https://127.9.8.7/', 'https://localhost:443/', 'https://LOCALHOST/', 'https://[::1]/'])
      expect(via(direct), direct).toBeUndefined();
    for (const proxied of ['https://127.evil.example/', 'https://localhost.example/', 'https://10.0.0.1/']) expect(via(proxied), proxied).toBe('http://secure:3128');
    for (const direct of ['https://internal.example/', 'https://a.internal.example/', 'https://corp.example/', 'https://b.corp.example/', 'https://c.lab.example/', 'https://GRAPH.example:8443/', 'https://[fd00::1]/']) expect(via(direct), direct).toBeUndefined();
    for (const proxied of ['https://notinternal.example/', 'https://graph.example/', 'https://graph.example:443/']) expect(via(proxied), proxied).toBe('http://secure:3128');
    expect(via('https://anything.example/', { ...s, noProxy: '*' })).toBeUndefined();
  });

  it('a proxy variable that is not an http(s) URL is refused, without repeating it', () => {
    for (const value of ['proxy.example:3128', 'socks5://user:pw-0123456789@proxy.example:1080', 'not a url']) {
      const err = (() => {
        try {
          proxyFetch({ HTTPS_PROXY: value });
        } catch (e) {
          return e as Error;
        }
      })();
      expect(err).toBeInstanceOf(ProxyError);
      expect(err!.message).toMatch(/^HTTPS_PROXY /);
      expect(err!.message).not.toContain(value);
    }
  });

  it('proxy credentials are masked wherever they appear', () => {
    proxyFetch({ HTTPS_PROXY: 'http://svc-user:S3cr%40t-proxy-pw@proxy.example:3128' });
    expect(redactText('HTTPS_PROXY=http://svc-user:S3cr%40t-proxy-pw@proxy.example:3128')).toBe(`HTTPS_PROXY=http://${REDACTED}@proxy.example:3128`);
    expect(redactText('the password S3cr@t-proxy-pw, decoded')).toBe(`the password ${REDACTED}, decoded`);
    expect(redactText('Proxy-Authorization: Basic c3ZjLXVzZXI6cHc=')).toBe(`Proxy-Authorization: Basic ${REDACTED}`);
    expect(redactText('Basic authentication is off; see https://learn.microsoft.com/exchange')).toBe('Basic authentication is off; see https://learn.microsoft.com/exchange');
  });
});

describe('plain http on loopback with a proxy set', () => {
  it('is sent direct with Node’s fetch: the proxy carries nothing, the service gets the token', async () => {
    const seen: Array<string | undefined> = [];
    const service = createHttpServer((req, res) => {
      seen.push(req.headers.authorization);
      res.writeHead(200, { 'Content-Type': 'application/json' }).end('{"value":[]}');
    });
    await new Promise<void>((resolve) => service.listen(0, '127.0.0.1', resolve));
    const proxy = await startForwardProxy();
    try {
      const fetch = proxyFetch({ HTTP_PROXY: proxy.url, HTTPS_PROXY: proxy.url });
      const t = new GraphTransport({ baseUrl: `http://127.0.0.1:${(service.address() as AddressInfo).port}`, tokens, retry: quick, timeoutMs: 5000, fetch: fetch! });
      expect(await t.request('GET', '/users')).toMatchObject({ status: 200, body: { value: [] } });
      expect(seen).toEqual(['Bearer opaque-test-token-0123456789']);
      expect(proxy.carried).toEqual([]);
    } finally {
      await proxy.stop();
      await new Promise<void>((resolve) => service.close(() => resolve()));
    }
  });
});

describe('a webhook behind the proxy', () => {
  afterEach(() => vi.unstubAllEnvs());
  const policy = { maxRetries: 0, baseDelayMs: 1, maxDelayMs: 1, timeoutMs: 5000 };

  it('on plain http on loopback is posted direct, whatever HTTP_PROXY says: the proxy never sees its path or body', async () => {
    const received: string[] = [];
    const receiver = createHttpServer((req, res) => {
      let body = '';
      req.on('data', (d: Buffer) => (body += d.toString()));
      req.on('end', () => {
        received.push(`${req.url ?? ''} ${body}`);
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    const proxy = await startForwardProxy();
    try {
      const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hooks/secret-path-0123456789`;
      vi.stubEnv('HTTP_PROXY', proxy.url);
      vi.stubEnv('HTTPS_PROXY', proxy.url);
      expect(await postWebhook(url, { text: 'hello' }, policy)).toEqual({ ok: true, attempts: 1, status: 204 });
      // A proxy that refuses connections changes nothing: it is not asked.
      vi.stubEnv('HTTP_PROXY', `http://127.0.0.1:${await closedPort()}`);
      expect(await postWebhook(url, { text: 'again' }, policy)).toEqual({ ok: true, attempts: 1, status: 204 });
      expect(received).toEqual(['/hooks/secret-path-0123456789 {"text":"hello"}', '/hooks/secret-path-0123456789 {"text":"again"}']);
      expect(proxy.carried).toEqual([]);
    } finally {
      await proxy.stop();
      await new Promise<void>((resolve) => receiver.close(() => resolve()));
    }
  });

  it('on https is posted through the proxy, and the proxy’s failure is named without the URL', async () => {
    const refused = await closedPort();
    vi.stubEnv('HTTPS_PROXY', `http://127.0.0.1:${refused}`);
    const failed = await postWebhook('https://hooks.proxy.test/services/secret-path-0123456789', { text: 'hello' }, policy);
    expect(failed).toMatchObject({ ok: false, attempts: 1 });
    expect((failed as { error: string }).error).toBe(`no answer (proxy 127.0.0.1:${refused} refused the connection (ECONNREFUSED 127.0.0.1:${refused}))`);
  });
});
