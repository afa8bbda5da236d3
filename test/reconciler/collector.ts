import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A request a hostile host received: what an attacker would learn. */
export interface Collected {
  readonly method: string;
  readonly path: string;
  readonly authorization?: string;
}

export interface Collector {
  /** e.g. http://127.0.0.1:40123: another origin than the simulator's. */
  readonly url: string;
  readonly requests: Collected[];
  stop(): Promise<void>;
}

/**
 * Another host on loopback, standing for an attacker's: it records every request and answers each
 * with `body` (by default a page of made-up tenant data), so a client that trusts it shows it.
 */
export async function startCollector(body: unknown = { value: [{ id: 'planted', displayName: 'planted by another host' }] }): Promise<Collector> {
  const requests: Collected[] = [];
  const server: Server = createServer((req, res) => {
    requests.push({ method: req.method ?? 'GET', path: req.url ?? '/', ...(req.headers.authorization ? { authorization: req.headers.authorization } : {}) });
    req.resume();
    req.on('end', () => {
      const text = JSON.stringify(body);
      res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': String(Buffer.byteLength(text)) });
      res.end(text);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
