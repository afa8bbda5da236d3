import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { randomUUID } from 'node:crypto';
import type { SimResponse } from './errors.js';

/** What a service decides for one HTTP request. */
export type Outcome =
  | { kind: 'answer'; response: SimResponse }
  | { kind: 'reset' }
  | { kind: 'slow'; delayMs: number; response: SimResponse }
  | { kind: 'truncate'; response: SimResponse };

export interface HttpRequest {
  readonly method: string;
  /** Absolute URL as the client addressed it. */
  readonly url: URL;
  readonly headers: IncomingMessage['headers'];
  /** Parsed JSON body (the text itself for a server made with `body: 'text'`), or undefined when there was none. */
  readonly body: unknown;
}

export interface SimHttpServerOptions {
  /** Serve HTTPS with this key and certificate (PEM) instead of HTTP. */
  readonly tls?: { readonly key: string; readonly cert: string };
  /** `json` (default): bodies must be JSON; `text`: the service gets the body as text, whatever its type. */
  readonly body?: 'json' | 'text';
}

export type Service = (req: HttpRequest) => Promise<Outcome>;

const MAX_BODY = 4 * 1024 * 1024;

/** What the request log is told about an answered request (the body once it was read). */
export interface AnsweredRequest {
  readonly method: string;
  readonly url: URL;
  readonly body?: unknown;
}

/** A loopback HTTP(S) server for one simulated API; tracks sockets so stop() never waits on a client. */
export class SimHttpServer {
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();
  private readonly timers = new Set<NodeJS.Timeout>();
  baseUrl = '';

  constructor(
    private readonly service: Service,
    private readonly onAnswer: (req: AnsweredRequest, status: number) => void,
    private readonly options: SimHttpServerOptions = {},
  ) {
    const handler = (req: IncomingMessage, res: ServerResponse) => void this.handle(req, res);
    this.server = options.tls ? createTlsServer({ key: options.tls.key, cert: options.tls.cert }, handler) : createServer(handler);
    this.server.keepAliveTimeout = 5_000;
    this.server.on('connection', (s: Socket) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
  }

  async listen(host: string, port: number): Promise<string> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => resolve());
    });
    const a = this.server.address() as AddressInfo;
    this.baseUrl = `${this.options.tls ? 'https' : 'http'}://${host.includes(':') ? `[${host}]` : host}:${a.port}`;
    return this.baseUrl;
  }

  async stop(): Promise<void> {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', this.baseUrl);
    const method = (req.method ?? 'GET').toUpperCase();
    let raw: Buffer;
    try {
      raw = await readBody(req);
    } catch {
      return this.send(res, { method, url }, jsonError(413, 'RequestEntityTooLarge', 'The request body is too large.'));
    }
    let body: unknown;
    if (this.options.body === 'text') {
      if (raw.length > 0) body = raw.toString('utf8');
    } else if (raw.length > 0) {
      try {
        body = JSON.parse(raw.toString('utf8'));
      } catch {
        return this.send(res, { method, url }, jsonError(400, 'BadRequest', 'Unable to read JSON request payload. Please ensure Content-Type header is set and payload is of valid JSON format.'));
      }
    }
    let outcome: Outcome;
    try {
      outcome = await this.service({ method, url, headers: req.headers, body });
    } catch (err) {
      outcome = { kind: 'answer', response: jsonError(500, 'InternalServerError', `Simulator error: ${(err as Error).message}`) };
    }
    switch (outcome.kind) {
      case 'answer':
        return this.send(res, { method, url, body }, outcome.response);
      case 'reset':
        this.onAnswer({ method, url, body }, 0);
        req.socket.destroy();
        return;
      case 'slow': {
        const t = setTimeout(() => {
          this.timers.delete(t);
          if (!res.destroyed) this.send(res, { method, url, body }, outcome.response);
        }, outcome.delayMs);
        this.timers.add(t);
        return;
      }
      case 'truncate': {
        const text = JSON.stringify(outcome.response.body ?? {});
        const cut = Buffer.from(text.slice(0, Math.max(1, Math.floor(text.length / 2))));
        res.writeHead(outcome.response.status, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': String(cut.length), 'request-id': randomUUID() });
        res.end(cut);
        this.onAnswer({ method, url, body }, outcome.response.status);
        return;
      }
    }
  }

  private send(res: ServerResponse, req: AnsweredRequest, r: SimResponse): void {
    // The client went away while the answer was held back: the request was carried out, unanswered.
    if (res.destroyed) return this.onAnswer(req, 0);
    const headers: Record<string, string> = { 'request-id': randomUUID(), 'client-request-id': randomUUID(), ...(r.headers ?? {}) };
    if (r.body !== undefined && r.status !== 204) {
      const text = typeof r.body === 'string' ? r.body : JSON.stringify(r.body);
      headers['Content-Type'] ??= 'application/json; odata.metadata=minimal; odata.streaming=true; IEEE754Compatible=false; charset=utf-8';
      headers['Content-Length'] = String(Buffer.byteLength(text));
      res.writeHead(r.status, headers);
      res.end(text);
    } else {
      res.writeHead(r.status, headers);
      res.end();
    }
    this.onAnswer(req, r.status);
  }
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) {
        reject(new Error('too large'));
        req.destroy();
      } else chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function jsonError(status: number, code: string, message: string): SimResponse {
  return { status, body: { error: { code, message, innerError: { 'request-id': randomUUID(), date: new Date().toISOString().slice(0, 19) } } } };
}
