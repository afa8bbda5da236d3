import { createServer, request as httpRequest, type IncomingHttpHeaders, type Server } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';

/** What a test proxy was asked to carry. */
export interface CarriedRequest {
  /** `connect` for a CONNECT tunnel, `plain` for an absolute-URI request. */
  readonly kind: 'connect' | 'plain';
  /** host:port for a tunnel, the absolute URL for a plain request. */
  readonly target: string;
  readonly headers: IncomingHttpHeaders;
}

export interface ForwardProxy {
  /** http://127.0.0.1:PORT, without credentials. */
  readonly url: string;
  readonly port: number;
  /** Every request it carried (or refused for want of credentials), in order. */
  readonly carried: CarriedRequest[];
  stop(): Promise<void>;
}

/**
 * A small forward proxy on loopback, as an enterprise proxy behaves: CONNECT tunnels (any port) and
 * plain absolute-URI requests, each counted. With `credentials` ("user:password") it answers 407
 * to a request whose Proxy-Authorization does not carry them.
 */
export async function startForwardProxy(o: { credentials?: string } = {}): Promise<ForwardProxy> {
  const carried: CarriedRequest[] = [];
  const sockets = new Set<Socket>();
  const expected = o.credentials === undefined ? undefined : `Basic ${Buffer.from(o.credentials).toString('base64')}`;
  const allowed = (headers: IncomingHttpHeaders) => expected === undefined || headers['proxy-authorization'] === expected;

  const server: Server = createServer((req, res) => {
    carried.push({ kind: 'plain', target: req.url ?? '', headers: req.headers });
    if (!allowed(req.headers)) {
      res.writeHead(407, { 'Proxy-Authenticate': 'Basic realm="proxy"' }).end();
      return;
    }
    let target: URL;
    try {
      target = new URL(req.url ?? '');
    } catch {
      res.writeHead(400).end();
      return;
    }
    const headers = { ...req.headers };
    delete headers['proxy-authorization'];
    delete headers['proxy-connection'];
    const upstream = httpRequest(target, { method: req.method, headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    upstream.on('error', () => res.writeHead(502).end());
    req.pipe(upstream);
  });
  server.on('connect', (req, client: Socket, head: Buffer) => {
    sockets.add(client);
    client.on('close', () => sockets.delete(client));
    client.on('error', () => client.destroy());
    carried.push({ kind: 'connect', target: req.url ?? '', headers: req.headers });
    if (!allowed(req.headers)) {
      client.end('HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm="proxy"\r\n\r\n');
      return;
    }
    const m = /^(.+):(\d+)$/.exec(req.url ?? '');
    if (!m) {
      client.end('HTTP/1.1 400 Bad Request\r\n\r\n');
      return;
    }
    const upstream = connect(Number(m[2]), m[1]!.replace(/^\[|\]$/g, ''), () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length) upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    sockets.add(upstream);
    upstream.on('close', () => sockets.delete(upstream));
    upstream.on('error', () => client.end('HTTP/1.1 502 Bad Gateway\r\n\r\n'));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    carried,
    stop: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A loopback port nothing listens on (bound, then closed). */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
