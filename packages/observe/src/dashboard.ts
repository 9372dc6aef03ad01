import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ServerResponse } from 'node:http';
import { versionText, type Broker } from '@triekv/broker';
import { formatDisplay, formatJson, parsePath } from '@triekv/record';
import { HttpError, TOKEN_COOKIE, json, readBody, type Route } from './http.js';

/** One server as the dashboard shows it. */
export interface DashboardServer {
  name: string;
  address: string;
  up: boolean;
  latencyMs?: number;
  keys?: number;
  /** Requests the server answered per second over the last interval (all clients). */
  opsPerSecond?: number;
  /** Whether it is a member (not only a previous member while data moves). */
  member: boolean;
}

/** What the dashboard shows, once a second. */
export interface DashboardState {
  time: number;
  k: number;
  placement: string;
  state: 'ok' | 'degraded';
  servers: DashboardServer[];
  /** Requests per second over all servers (once a rate is known). */
  opsPerSecond?: number;
  repairInProgress: boolean;
  membership: {
    version?: string;
    members: number;
    change?: string;
    rebalancing: boolean;
    progress?: { phase: string; scanned: number; total: number; copied: number; removed: number };
  };
}

/** Keys a key-browser page lists at most. */
export const KEY_PAGE = 100;

const ASSETS = join(__dirname, '..', 'assets');

/** A static file read once: its bytes and content type. */
function asset(path: string, type: string): { body: Buffer; type: string } {
  return { body: readFileSync(path), type };
}

function sendAsset(res: ServerResponse, file: { body: Buffer; type: string }): void {
  res.writeHead(200, {
    'content-type': file.type,
    'content-length': file.body.length,
    'cache-control': 'no-cache',
  });
  res.end(file.body);
}

/**
 * The broker's dashboard: its state once a second (servers, traffic, membership), computed only while
 * someone watches, and the routes that serve the page, the state (`/api/state`, and as server-sent
 * events on `/api/events`), the key browser (`/api/keys?prefix=`, `/api/record?key=`) and QUERY
 * (`/api/query?path=`).
 */
export class Dashboard {
  private readonly watchers = new Set<ServerResponse>();
  private timer: NodeJS.Timeout | undefined;
  private last: DashboardState | undefined;
  /** Each server's request total at the last look, for its rate. */
  private readonly totals = new Map<string, { at: number; ops: number }>();

  constructor(
    private readonly broker: Broker,
    private readonly options: { intervalMs?: number; authToken?: string } = {},
  ) {}

  /** The state now (asks every live server for STATS). */
  async state(): Promise<DashboardState> {
    const broker = this.broker;
    const members = new Set(broker.cluster.memberConnections);
    const servers = await Promise.all(
      broker.cluster.connections.map(async (c): Promise<DashboardServer> => {
        const base: DashboardServer = {
          name: c.name,
          address: `${c.address.host}:${c.address.port}`,
          up: c.up,
          member: members.has(c),
          ...(c.latencyMs === undefined ? {} : { latencyMs: Math.round(c.latencyMs * 100) / 100 }),
        };
        if (!c.up) return base;
        try {
          const reply = await c.request({ type: 'STATS' }, { timeoutMs: 1000 });
          const stats = reply.type === 'OK' ? reply.stats : undefined;
          if (stats === undefined) return base;
          const ops =
            typeof stats.ops === 'object' ? Object.values(stats.ops).reduce((a, b) => a + b, 0) : 0;
          const now = performance.now();
          const before = this.totals.get(c.name);
          this.totals.set(c.name, { at: now, ops });
          const rate =
            before === undefined || ops < before.ops
              ? undefined
              : Math.round(((ops - before.ops) * 1000) / Math.max(1, now - before.at));
          return {
            ...base,
            ...(typeof stats.keys === 'number' ? { keys: stats.keys } : {}),
            ...(rate === undefined ? {} : { opsPerSecond: rate }),
          };
        } catch {
          return base;
        }
      }),
    );
    const m = broker.membership();
    const down = servers.filter((s) => !s.up).length;
    return {
      time: Date.now(),
      k: broker.k,
      placement: broker.placement,
      state: down >= broker.k ? 'degraded' : 'ok',
      servers,
      ...(servers.some((s) => s.opsPerSecond !== undefined)
        ? { opsPerSecond: servers.reduce((n, s) => n + (s.opsPerSecond ?? 0), 0) }
        : {}),
      repairInProgress: broker.repairInProgress,
      membership: {
        ...(m.version === undefined ? {} : { version: versionText(m.version) }),
        members: m.members.length,
        ...(m.change === undefined ? {} : { change: m.change }),
        rebalancing: m.rebalancing,
        ...(m.progress === undefined ? {} : { progress: m.progress }),
      },
    };
  }

  /** Streams the state to `res` as server-sent events until it closes. */
  private watch(res: ServerResponse): void {
    res.writeHead(200, {
      'content-type': 'text/event-stream',
      'cache-control': 'no-store',
      connection: 'keep-alive',
    });
    this.watchers.add(res);
    res.on('close', () => {
      this.watchers.delete(res);
      if (this.watchers.size === 0) this.stop();
    });
    if (this.last !== undefined) res.write(`data: ${JSON.stringify(this.last)}\n\n`);
    this.timer ??= setInterval(() => void this.tick(), this.options.intervalMs ?? 1000);
    void this.tick();
  }

  private ticking = false;

  private async tick(): Promise<void> {
    if (this.ticking) return;
    this.ticking = true;
    try {
      const state = await this.state();
      this.last = state;
      const line = `data: ${JSON.stringify(state)}\n\n`;
      for (const res of this.watchers) res.write(line);
    } finally {
      this.ticking = false;
    }
  }

  /** Stops the once-a-second state (the streams end with their connections). */
  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** The dashboard's routes, for an `HttpService`. */
  routes(): Route[] {
    const uplot = join(require.resolve('uplot'), '..');
    const files: Record<string, { body: Buffer; type: string }> = {
      '/': asset(join(ASSETS, 'index.html'), 'text/html; charset=utf-8'),
      '/assets/dashboard.js': asset(join(ASSETS, 'dashboard.js'), 'text/javascript; charset=utf-8'),
      '/assets/dashboard.css': asset(join(ASSETS, 'dashboard.css'), 'text/css; charset=utf-8'),
      '/assets/uPlot.iife.min.js': asset(
        join(uplot, 'uPlot.iife.min.js'),
        'text/javascript; charset=utf-8',
      ),
      '/assets/uPlot.min.css': asset(join(uplot, 'uPlot.min.css'), 'text/css; charset=utf-8'),
    };
    const login = asset(join(ASSETS, 'login.html'), 'text/html; charset=utf-8');
    const broker = this.broker;
    const token = this.options.authToken;
    const param = (url: URL, name: string): string => {
      const v = url.searchParams.get(name);
      if (v === null) throw new HttpError(400, `missing the ${name} parameter`);
      return v;
    };
    return [
      ...Object.entries(files).map(([path, file]): Route => ({
        method: 'GET',
        path,
        handler: ({ res }) => sendAsset(res, file),
      })),
      { method: 'GET', path: '/login', open: true, handler: ({ res }) => sendAsset(res, login) },
      {
        method: 'POST',
        path: '/login',
        open: true,
        handler: async ({ req, res }) => {
          const given = new URLSearchParams(await readBody(req)).get('token') ?? '';
          if (token !== undefined && given !== token) {
            res.writeHead(303, { location: '/login?wrong=1', 'cache-control': 'no-store' });
            res.end();
            return;
          }
          res.writeHead(303, {
            location: '/',
            'set-cookie': `${TOKEN_COOKIE}=${encodeURIComponent(given)}; HttpOnly; SameSite=Strict; Path=/`,
            'cache-control': 'no-store',
          });
          res.end();
        },
      },
      {
        method: 'GET',
        path: '/api/state',
        handler: async ({ res }) => json(res, 200, await this.state()),
      },
      { method: 'GET', path: '/api/events', handler: ({ res }) => this.watch(res) },
      {
        method: 'GET',
        path: '/api/keys',
        handler: async ({ url, res }) => {
          const prefix = url.searchParams.get('prefix') ?? '';
          const limitText = url.searchParams.get('limit') ?? String(KEY_PAGE);
          const limit = Number(limitText);
          if (!/^\d+$/.test(limitText) || limit < 1 || limit > 1000)
            throw new HttpError(
              400,
              `limit must be a whole number from 1 to 1000, got ${JSON.stringify(limitText)}`,
            );
          const page = await broker.scan(prefix, limit, {
            ...(url.searchParams.has('after')
              ? { after: url.searchParams.get('after') as string }
              : {}),
          });
          json(res, 200, page);
        },
      },
      {
        method: 'GET',
        path: '/api/record',
        handler: async ({ url, res }) => {
          const key = param(url, 'key');
          const r = await broker.get(key);
          json(res, 200, {
            key,
            found: r.found,
            ...(r.found && r.value !== undefined
              ? { text: formatDisplay([key], r.value), json: formatJson(r.value) }
              : {}),
            ...(r.version === undefined ? {} : { version: versionText(r.version) }),
            servers: r.servers,
            warnings: r.warnings,
          });
        },
      },
      {
        method: 'GET',
        path: '/api/query',
        handler: async ({ url, res }) => {
          const text = param(url, 'path');
          let path;
          try {
            path = parsePath(text);
          } catch (error) {
            throw new HttpError(400, `bad path: ${(error as Error).message}`);
          }
          const r = await broker.query(path);
          json(res, 200, {
            path: text,
            found: r.found,
            ...(r.found && r.value !== undefined ? { text: formatDisplay(path, r.value) } : {}),
            ...(r.version === undefined ? {} : { version: versionText(r.version) }),
            servers: r.servers,
            warnings: r.warnings,
          });
        },
      },
    ];
  }
}
