import { timingSafeEqual } from 'node:crypto';
import {
  createServer,
  type IncomingMessage,
  type RequestListener,
  type Server,
  type ServerResponse,
} from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { MIN_TLS_VERSION, reloadListener, type TlsOptions } from '@triekv/server';
import type { AddressInfo, Socket } from 'node:net';
import type { Registry } from 'prom-client';

/** A request as a route sees it: the parsed URL, and the raw request and response. */
export interface HttpRequest {
  url: URL;
  req: IncomingMessage;
  res: ServerResponse;
  /** Whether the request carried the token (always true when no token is set). */
  authorized: boolean;
}

/** A route's handler: it writes the response itself (`send`, `json`, or streaming). */
export type Handler = (request: HttpRequest) => void | Promise<void>;

/** One route: a method and an exact path. `open` routes need no token. */
export interface Route {
  method: 'GET' | 'POST';
  path: string;
  handler: Handler;
  open?: boolean;
}

/** Options of an HTTP listener. */
export interface HttpOptions {
  /** @default '127.0.0.1' */
  host?: string;
  /** 0: any free port. */
  port: number;
  /**
   * When set, every route but the open ones (`/healthz`, the login page) wants it: as
   * `Authorization: Bearer TOKEN`, or the cookie the login form sets.
   */
  authToken?: string;
  /** HTTPS (and with `ca`, client certificates required). @default undefined (plain HTTP) */
  tls?: TlsOptions;
  /** The registry `/metrics` answers with. */
  registry: Registry;
  /** More routes (the dashboard's). */
  routes?: Route[];
  /**
   * What an unauthorized GET of a page (not an API path) gets instead of 401: a redirect to a login
   * form (the dashboard). @default undefined (401)
   */
  loginPath?: string;
}

/** The cookie the login form sets. */
export const TOKEN_COOKIE = 'triekv_token';
/** Largest request body read (the login form's), bytes. */
export const MAX_BODY_BYTES = 4096;

/** Writes a plain-text response. */
export function send(
  res: ServerResponse,
  status: number,
  body: string,
  type = 'text/plain; charset=utf-8',
): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  res.writeHead(status, {
    'content-type': type,
    'content-length': Buffer.byteLength(body),
    'cache-control': 'no-store',
  });
  res.end(body);
}

/** Writes a JSON response. */
export function json(res: ServerResponse, status: number, body: unknown): void {
  send(res, status, JSON.stringify(body), 'application/json; charset=utf-8');
}

/** A client error the handler throws: answered with its status and message. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

function equalSecrets(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

function cookie(req: IncomingMessage, name: string): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const at = part.indexOf('=');
    if (at > 0 && part.slice(0, at).trim() === name)
      return decodeURIComponent(part.slice(at + 1).trim());
  }
  return undefined;
}

/** Whether `req` carries `token` (as a bearer token or the login cookie). */
export function carriesToken(req: IncomingMessage, token: string): boolean {
  const header = req.headers.authorization;
  if (header !== undefined && /^Bearer /i.test(header))
    return equalSecrets(header.slice(7).trim(), token);
  const value = cookie(req, TOKEN_COOKIE);
  return value !== undefined && equalSecrets(value, token);
}

/** Reads a request body of at most `MAX_BODY_BYTES` (413 beyond). */
export function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let size = 0;
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => {
      if (size > MAX_BODY_BYTES) return;
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        // The rest is read and dropped; the reply closes the connection.
        reject(new HttpError(413, `request body over ${MAX_BODY_BYTES} bytes`));
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/**
 * An HTTP listener for a long-running process: `/metrics` (Prometheus text format, from `registry`),
 * `/healthz` (200 `ok` while the process serves), and any routes given. Unknown paths answer 404, a
 * wrong method 405 (with `Allow`), a missing or wrong token 401; a handler that fails answers 500 and
 * the listener goes on.
 */
export class HttpService {
  private readonly server: Server;
  private readonly routes = new Map<string, Route[]>();
  private readonly sockets = new Set<Socket>();
  /** Called when a handler fails unexpectedly (the process logs it). */
  onError: ((error: unknown, path: string) => void) | undefined;

  constructor(private readonly options: HttpOptions) {
    const routes: Route[] = [
      {
        method: 'GET',
        path: '/metrics',
        handler: async ({ res }) => {
          const text = await options.registry.metrics();
          send(res, 200, text, options.registry.contentType);
        },
      },
      { method: 'GET', path: '/healthz', open: true, handler: ({ res }) => send(res, 200, 'ok\n') },
      ...(options.routes ?? []),
    ];
    for (const r of routes) this.routes.set(r.path, [...(this.routes.get(r.path) ?? []), r]);
    const listener: RequestListener = (req, res) => void this.serve(req, res);
    const tls = options.tls;
    this.server =
      tls === undefined
        ? createServer(listener)
        : createHttpsServer(
            {
              cert: tls.cert,
              key: tls.key,
              ...(tls.ca === undefined ? {} : { ca: tls.ca, requestCert: true }),
              minVersion: MIN_TLS_VERSION,
            },
            listener,
          );
    this.server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
    // A malformed request line or header gets 400 from Node; nothing else happens.
    this.server.on('clientError', (_error, socket) => {
      if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nconnection: close\r\n\r\n');
      else socket.destroy();
    });
  }

  private async serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://localhost');
    } catch {
      return send(res, 400, 'bad request URL\n');
    }
    const candidates = this.routes.get(url.pathname);
    if (candidates === undefined) return send(res, 404, `no such page: ${url.pathname}\n`);
    const route = candidates.find((r) => r.method === req.method);
    if (route === undefined) {
      res.setHeader('allow', candidates.map((r) => r.method).join(', '));
      return send(res, 405, `${req.method ?? '?'} is not allowed on ${url.pathname}\n`);
    }
    const token = this.options.authToken;
    const authorized = token === undefined || carriesToken(req, token);
    if (!authorized && route.open !== true) {
      const login = this.options.loginPath;
      if (login !== undefined && req.method === 'GET' && !url.pathname.startsWith('/api/')) {
        res.writeHead(303, { location: login, 'cache-control': 'no-store' });
        res.end();
        return;
      }
      res.setHeader('www-authenticate', 'Bearer realm="triekv"');
      return send(res, 401, 'authentication required: Authorization: Bearer TOKEN\n');
    }
    try {
      await route.handler({ url, req, res, authorized });
    } catch (error) {
      if (error instanceof HttpError) {
        if (error.status === 413) res.setHeader('connection', 'close');
        return send(res, error.status, `${error.message}\n`);
      }
      this.onError?.(error, url.pathname);
      send(res, 500, 'internal error (see the log)\n');
    }
  }

  /** New certificates for an HTTPS listener (open connections keep theirs); throws when unusable. */
  reloadTls(tls: TlsOptions): void {
    reloadListener(this.server, tls);
  }

  /** Binds; resolves with the address. */
  listen(): Promise<{ host: string; port: number }> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.options.port, this.options.host ?? '127.0.0.1', () => {
        this.server.off('error', reject);
        resolve(this.address());
      });
    });
  }

  address(): { host: string; port: number } {
    const a = this.server.address() as AddressInfo;
    return { host: a.address, port: a.port };
  }

  /** Stops listening and ends every connection (event streams included). */
  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      for (const socket of this.sockets) socket.destroy();
    });
  }
}
