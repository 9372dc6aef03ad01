import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AddressInfo, Server, Socket } from 'node:net';
import { versionText, type Broker } from '@triekv/broker';
import {
  COMMANDS,
  CommandTable,
  DEFAULT_MAX_ARGS,
  DEFAULT_MAX_BULK_BYTES,
  DEFAULT_MAX_INLINE_BYTES,
  DEFAULT_SCAN_CURSORS,
  ScanCursors,
  command,
  type CommandSpec,
} from '@triekv/resp';
import {
  Counters,
  Store,
  createListener,
  reloadListener,
  respCommandNames,
  type TlsOptions,
} from '@triekv/server';
import pino, { type Logger } from 'pino';
import { OWN_HANDLERS, type GatewayContext, type GatewayStats } from './commands.js';
import { GatewayConnection } from './connection.js';

/** Options of a gateway; every field but `broker` is optional. */
export interface GatewayOptions {
  /** The cluster it serves (started by the caller; closed by the caller after `close()`). */
  broker: Broker;
  /** @default '127.0.0.1' */
  host?: string;
  /** 0 picks a free port. @default 6380 */
  port?: number;
  /** Clients must AUTH with this token (the servers' token is the broker's, a separate setting). */
  authToken?: string;
  /** Degraded reads (k or more servers down) answer `-DEGRADED ...` instead. @default false */
  strictReads?: boolean;
  /**
   * RESP3 replies to degraded reads carry the warning as an attribute (`|1 warning ...`). Off by
   * default: redis-cli 7.0 (hiredis), node-redis and redis-py 4 fail on a reply with an attribute.
   * @default false
   */
  degradedAttributes?: boolean;
  /** Most client connections; more are refused with `-ERR max number of clients reached`. @default 10000 */
  maxConnections?: number;
  /** Largest bulk string a client may send, bytes. @default 16 MiB */
  maxBulkBytes?: number;
  /** Most arguments in one command. @default 1,048,576 */
  maxArgs?: number;
  /** Longest inline command, bytes. @default 65,536 */
  maxInlineBytes?: number;
  /** With a token: most bytes of one command before AUTH. @default 65,536 */
  preAuthMaxBytes?: number;
  /** Keys asked of each server per page of KEYS, SCAN and DBSIZE. @default 1000 */
  scanPage?: number;
  /**
   * SCAN cursors kept (each stands for the last key of a page and is good on this gateway only; the
   * oldest expire and are then refused with `ERR invalid cursor: this cursor has expired ...`).
   * @default 16384
   */
  scanCursors?: number;
  /** How long `close()` waits for commands in flight before it drops their connections, ms. @default 10000 */
  closeTimeoutMs?: number;
  /**
   * TLS on the RESP port (`redis-cli --tls --cacert ca.crt`), with `ca` mutual TLS; `reloadTls` swaps
   * the certificates without dropping connections. @default undefined
   */
  tls?: TlsOptions;
  /** A pino logger. @default a silent one */
  logger?: Logger;
}

/** Commands of kv-server's RESP port that mean nothing across a cluster, or would be dangerous. */
const LEFT_OUT = new Set(['flushall', 'flushdb']);

/** Commands only the gateway has. */
const GATEWAY_ONLY: CommandSpec[] = [
  command(
    'kv.vread',
    -2,
    ['readonly'],
    [1, 1, 1],
    'triekv',
    'A read with its version: [found, version, JSON, servers, warnings]; the path, if any, is a JSON array of steps.',
    '0.1.0',
    'key:key [path:string]',
  ),
  command(
    'kv.vput',
    3,
    ['write'],
    [1, 1, 1],
    'triekv',
    'Stores a value (triekv or JSON text) at a new version: [version, replicas, servers, warnings].',
    '0.1.0',
    'key:key value:string',
  ),
  command(
    'kv.vdel',
    2,
    ['write'],
    [1, 1, 1],
    'triekv',
    'Deletes a key at a new version: [version, found, servers, warnings].',
    '0.1.0',
    'key:key',
  ),
  command(
    'kv.vscan',
    3,
    ['readonly'],
    [0, 0, 0],
    'triekv',
    'Keys under a prefix with the warnings of the scan: [keys, warnings].',
    '0.1.0',
    'prefix:string limit:integer',
  ),
  command(
    'kv.cluster',
    -2,
    ['admin'],
    [0, 0, 0],
    'triekv',
    "The cluster's membership: `KV.CLUSTER ADD host port [name] [FORCE]`, `KV.CLUSTER REMOVE name|host:port [FORCE]` (data moves with handoff), `KV.CLUSTER REBALANCE`, `KV.CLUSTER INFO`.",
    '0.1.0',
    'subcommand:string [arg:string...]',
  ),
  command(
    'kv.compute',
    -2,
    ['readonly'],
    [0, 0, 0],
    'triekv',
    'Evaluates an arithmetic expression over values read from the cluster: `KV.COMPUTE 2*(x+3) WHERE x = QUERY key1.age`.',
    '0.1.0',
    'expression:string...',
  ),
];

const VERSION = ((): string => {
  try {
    const pkg = JSON.parse(readFileSync(join(__dirname, '..', 'package.json'), 'utf8')) as {
      version: string;
    };
    return pkg.version;
  } catch {
    return '0.0.0';
  }
})();

/** The gateway's command table: kv-server's commands that have a meaning across servers, and its own. */
export function gatewayCommands(): CommandSpec[] {
  const names = new Set(respCommandNames());
  return [
    ...COMMANDS.filter((spec) => names.has(spec.name) && !LEFT_OUT.has(spec.name)),
    ...GATEWAY_ONLY,
  ];
}

/**
 * The replicated cluster behind a Redis-protocol front door: any Redis client talks to it, and it does
 * what `@triekv/broker` does (placement, versions, k-way replication, newest-wins reads with read
 * repair, delete refusal) behind it. Several gateways can serve the same servers at once.
 */
export class Gateway {
  private readonly server: Server;
  private readonly ctx: GatewayContext;
  private readonly connections = new Set<GatewayConnection>();
  private readonly maxConnections: number;
  private readonly host: string;
  private readonly port: number;
  private readonly closeTimeoutMs: number;
  private state: 'new' | 'listening' | 'closing' | 'closed' = 'new';
  private readonly started = Date.now();

  constructor(options: GatewayOptions) {
    this.host = options.host ?? '127.0.0.1';
    this.port = options.port ?? 6380;
    this.maxConnections = options.maxConnections ?? 10_000;
    this.closeTimeoutMs = options.closeTimeoutMs ?? 10_000;
    const log = options.logger ?? pino({ level: 'silent' });
    const counts: GatewayStats = {
      connectionsTotal: 0,
      commands: 0,
      errors: 0,
      bytesIn: 0,
      bytesOut: 0,
      degradedReads: 0,
      underReplicated: 0,
      refusedDeletes: 0,
    };
    const broker = options.broker;
    this.ctx = {
      broker,
      store: new Store(),
      clock: broker.clock,
      journal: undefined,
      table: new CommandTable(gatewayCommands()),
      authToken: options.authToken,
      maxKeyLength: 64 * 1024,
      maxScan: options.scanPage ?? 1000,
      cursors: new ScanCursors(options.scanCursors ?? DEFAULT_SCAN_CURSORS),
      counters: new Counters(),
      log,
      ports: () => ({ resp: this.address().port, native: 0 }),
      name: 'gateway',
      version: VERSION,
      stats: () => ({ uptimeSeconds: Math.floor((Date.now() - this.started) / 1000) }),
      sessions: () => this.connections,
      persistence: () => ({ enabled: false }),
      limits: {
        maxBulkBytes: options.maxBulkBytes ?? DEFAULT_MAX_BULK_BYTES,
        maxArgs: options.maxArgs ?? DEFAULT_MAX_ARGS,
        maxInlineBytes: options.maxInlineBytes ?? DEFAULT_MAX_INLINE_BYTES,
      },
      preAuthMaxBytes: options.preAuthMaxBytes ?? 64 * 1024,
      strictReads: options.strictReads ?? false,
      degradedAttributes: options.degradedAttributes ?? false,
      scanPage: options.scanPage ?? 1000,
      counts,
      own: {
        ...OWN_HANDLERS,
        unlink: OWN_HANDLERS.del as NonNullable<(typeof OWN_HANDLERS)['del']>,
        info: (_ctx, _s, args, w) => w.verbatim(this.info(args.slice(1).map((a) => a.toString()))),
      },
    };
    this.server = createListener(options.tls, (socket) => this.accept(socket), log, 10_000);
    this.server.on('error', (error) => log.error({ err: error }, 'gateway listener error'));
  }

  /** New certificates for the TLS port (open connections keep theirs); throws when unusable. */
  reloadTls(tls: TlsOptions): void {
    reloadListener(this.server, tls);
  }

  /** Counters so far (for INFO and tests). */
  get stats(): Readonly<GatewayStats> {
    return this.ctx.counts;
  }

  /** Listens; rejects when the address cannot be had. */
  listen(): Promise<void> {
    return new Promise((resolve, reject) => {
      const onError = (error: NodeJS.ErrnoException): void => {
        const where = `${this.host}:${this.port}`;
        reject(
          new Error(
            error.code === 'EADDRINUSE'
              ? `${where} is already in use`
              : `cannot listen on ${where}: ${error.message}`,
            { cause: error },
          ),
        );
      };
      this.server.once('error', onError);
      this.server.listen(this.port, this.host, () => {
        this.server.off('error', onError);
        this.state = 'listening';
        this.ctx.log.info(this.address(), 'gateway listening for RESP');
        resolve();
      });
    });
  }

  address(): { host: string; port: number } {
    const a = this.server.address() as AddressInfo | null;
    return { host: a?.address ?? this.host, port: a?.port ?? this.port };
  }

  /**
   * Graceful stop: no new connections, no more commands read; the commands received are answered
   * (within `closeTimeoutMs`, after which their connections are dropped), then every connection ends.
   */
  async close(): Promise<void> {
    if (this.state === 'closing' || this.state === 'closed') return;
    this.state = 'closing';
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    const drained = Promise.all([...this.connections].map((c) => c.drain()));
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((resolve) => {
      timer = setTimeout(() => resolve('late'), this.closeTimeoutMs);
    });
    if ((await Promise.race([drained, late])) === 'late') {
      this.ctx.log.warn('gateway: commands still running at the close timeout; dropping them');
      for (const c of this.connections) c.socket.destroy();
    }
    clearTimeout(timer);
    await Promise.all([...this.connections].map((c) => c.closed));
    await closed;
    this.state = 'closed';
  }

  private accept(socket: Socket): void {
    if (this.state !== 'listening' || this.connections.size >= this.maxConnections) {
      socket.on('error', () => undefined);
      socket.end(
        this.state === 'listening'
          ? '-ERR max number of clients reached\r\n'
          : '-ERR the gateway is shutting down\r\n',
      );
      return;
    }
    const connection = new GatewayConnection(socket, this.ctx);
    this.connections.add(connection);
    this.ctx.counts.connectionsTotal++;
    void connection.closed.then(() => this.connections.delete(connection));
  }

  /** INFO's text: sections server, clients, stats, cluster (the default: all of them). */
  info(asked: string[]): string {
    const broker = this.ctx.broker;
    const c = this.ctx.counts;
    const servers = broker.cluster.connections;
    const up = servers.filter((s) => s.up).length;
    const membership = broker.membership();
    const uptime = Math.floor((Date.now() - this.started) / 1000);
    const sections: Record<string, [string, string | number][]> = {
      server: [
        ['redis_version', '7.2.0'],
        ['triekv_version', VERSION],
        ['triekv_mode', 'gateway'],
        ['redis_mode', 'standalone'],
        ['os', `${process.platform} ${process.arch}`],
        ['process_id', process.pid],
        [
          'run_id',
          createHash('sha1').update(`gateway ${process.pid} ${this.address().port}`).digest('hex'),
        ],
        ['tcp_port', this.address().port],
        ['uptime_in_seconds', uptime],
      ],
      clients: [['connected_clients', this.connections.size]],
      stats: [
        ['total_connections_received', c.connectionsTotal],
        ['total_commands_processed', c.commands],
        ['total_net_input_bytes', c.bytesIn],
        ['total_net_output_bytes', c.bytesOut],
        ['total_error_replies', c.errors],
      ],
      cluster: [
        ['k', broker.k],
        ['placement', broker.placement],
        ['servers_total', servers.length],
        ['servers_up', up],
        ['servers_down', servers.length - up],
        ['cluster_state', servers.length - up >= broker.k ? 'degraded' : 'ok'],
        ['repair_in_progress', broker.repairInProgress ? 1 : 0],
        [
          'membership_version',
          membership.version === undefined ? 'none' : versionText(membership.version),
        ],
        ['members', membership.members.length],
        ['rebalancing', membership.rebalancing ? 1 : 0],
        ['degraded_reads', c.degradedReads],
        ['under_replicated_writes', c.underReplicated],
        ['refused_deletes', c.refusedDeletes],
        ...servers.map((s, i): [string, string] => [
          `server${i}`,
          `name=${s.name},address=${s.address.host}:${s.address.port},state=${s.up ? 'up' : 'down'}${s.latencyMs === undefined ? '' : `,latency_ms=${s.latencyMs.toFixed(2)}`}`,
        ]),
      ],
    };
    const wanted = asked.map((a) => a.toLowerCase());
    const all =
      wanted.length === 0 || wanted.some((w) => ['all', 'everything', 'default'].includes(w));
    const names = Object.keys(sections).filter((n) => all || wanted.includes(n));
    return `${names
      .map(
        (n) =>
          `# ${n[0]?.toUpperCase()}${n.slice(1)}\r\n${(sections[n] ?? []).map(([k, v]) => `${k}:${v}`).join('\r\n')}\r\n`,
      )
      .join('\r\n')}`;
  }
}

/** A gateway over `options.broker`; call `listen()`. */
export function createGateway(options: GatewayOptions): Gateway {
  return new Gateway(options);
}
