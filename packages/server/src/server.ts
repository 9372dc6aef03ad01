import { randomUUID } from 'node:crypto';
import type { AddressInfo, Server, Socket } from 'node:net';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  encodeFrame,
  ErrorCode,
  HybridClock,
  PROTOCOL_VERSION,
  type Stats,
  type Membership,
} from '@triekv/protocol';
import {
  COMMANDS,
  CommandTable,
  DEFAULT_MAX_INLINE_BYTES,
  DEFAULT_SCAN_CURSORS,
  ScanCursors,
} from '@triekv/resp';
import pino, { type Logger } from 'pino';
import { Connection, type ConnectionContext } from './connection.js';
import { RespConnection, type RespConnectionContext } from './resp/connection.js';
import {
  DEFAULT_CLOSE_TIMEOUT_MS,
  DEFAULT_HOST,
  DEFAULT_IDLE_TIMEOUT_MS,
  DEFAULT_MAX_CONNECTIONS,
  DEFAULT_MAX_DEPTH,
  DEFAULT_MAX_FRAME_SIZE,
  DEFAULT_MAX_KEY_LENGTH,
  DEFAULT_MAX_SCAN,
  DEFAULT_WRITE_HIGH_WATER,
  DEFAULT_AUTH_TIMEOUT_MS,
  DEFAULT_BATCH_SLICE,
  DEFAULT_MAX_CLOCK_DRIFT_MS,
  DEFAULT_MAX_DOC_KEYS,
  DEFAULT_MAX_INT_BYTES,
  DEFAULT_MAX_ITEMS,
  DEFAULT_MAX_UNAUTHENTICATED,
  DEFAULT_PRE_AUTH_MAX_FRAME,
} from './defaults.js';
import { ListenError, ServerStateError } from './errors.js';
import { Counters, type RequestObserver } from './stats.js';
import { createListener, reloadListener, type TlsOptions } from './tls.js';
import { Store } from './store.js';
import { DataDir, type FsyncPolicy, type Recovery } from './persistence/data-dir.js';
import { readMembersFile, writeMembersFile } from './persistence/members-file.js';

/** STATS values are numbers: the fsync policy as 0 (off), 1 (batch), 2 (always). */
const FSYNC_CODES: Record<FsyncPolicy, number> = { off: 0, batch: 1, always: 2 };

/** Options for `createServer`; every field is optional. */
export interface ServerOptions {
  /** Address to bind. @default '127.0.0.1' */
  host?: string;
  /** Port to bind; 0 picks a free one (see `address()`). @default 0 */
  port?: number;
  /** When set, a connection must send HELLO with this token before anything else. @default undefined */
  authToken?: string;
  /** Largest request frame in bytes; a larger one closes that connection. @default 16 MiB */
  maxFrameSize?: number;
  /** Most open (authenticated, with a token) connections; more are refused with an ERROR. @default 10000 */
  maxConnections?: number;
  /**
   * With `authToken`: most connections that have not authenticated yet, a limit of their own, so they
   * cannot take the slots of clients that have the token. @default 128
   */
  maxUnauthenticated?: number;
  /** With `authToken`: ms a connection has to authenticate before it is closed; 0 never. @default 10000 */
  authTimeoutMs?: number;
  /** With `authToken`: largest frame accepted before HELLO (a HELLO is tiny). @default 4096 */
  preAuthMaxFrame?: number;
  /** Most array elements and map entries in one request frame. @default 1048576 */
  maxItems?: number;
  /** Largest integer in a value, in bytes of its magnitude (64 bytes: about 154 digits). @default 64 */
  maxIntBytes?: number;
  /** Close connections idle this many ms; 0 never. @default 0 */
  idleTimeoutMs?: number;
  /**
   * How far ahead of this server's clock a write's version may be, ms; a write further ahead is refused
   * (BAD_VALUE), so no client can plant a version that nothing can overwrite. @default 60000
   */
  maxClockDriftMs?: number;
  /**
   * A PUT_BATCH of more records is applied this many at a time, yielding to other connections in
   * between. @default 2000
   */
  batchSlice?: number;
  /** Most keys in one document, at any depth of a record. @default 100000 */
  maxDocKeys?: number;
  /** Longest key, top-level or nested. @default 65536 */
  maxKeyLength?: number;
  /** Deepest document nesting. @default 64 */
  maxDepth?: number;
  /** Most keys per SCAN or EXPORT page. @default 10000 */
  maxScan?: number;
  /**
   * SCAN cursors the RESP port keeps (each stands for the last key of a page; the oldest expire and
   * are then refused with `ERR invalid cursor: this cursor has expired ...`). @default 16384
   */
  scanCursors?: number;
  /** Unsent reply bytes past which a connection stops being read. @default 4 MiB */
  writeHighWater?: number;
  /** How long `close()` lets connections drain before cutting them, in ms. @default 5000 */
  closeTimeoutMs?: number;
  /** A pino logger. @default a silent one */
  logger?: Logger;
  /** Name reported in HELLO and STATS. @default 'triekv' */
  name?: string;
  /**
   * Keep the records in this directory: every acknowledged write is in its log before the reply, and a
   * restart rebuilds the store from it. @default undefined (memory only)
   */
  dataDir?: string;
  /**
   * With `dataDir`: start even when files are missing or damaged, from what is there (logged at error
   * level with the counts); without it such a start fails naming what is wrong. @default false
   */
  recover?: boolean;
  /** With `dataDir`: `always`, `batch` (group commit) or `off`. @default 'batch' */
  fsync?: FsyncPolicy;
  /** With `dataDir`: compact when the log reaches this many times the last snapshot (and `minCompactBytes`). @default 2 */
  compactRatio?: number;
  /** With `dataDir`: the smallest log worth compacting, in bytes. @default 16 MiB */
  minCompactBytes?: number;
  /**
   * Also listen for Redis's protocol (RESP2/RESP3) on this port, on the same store (0 picks a free one;
   * see `respAddress()`). @default undefined (no RESP listener)
   */
  respPort?: number;
  /** Address of the RESP listener. @default the `host` option */
  respHost?: string;
  /**
   * TLS on the native and RESP ports (and mutual TLS with `ca`). A plaintext client is refused with a
   * log line; `reloadTls` swaps the certificates without dropping connections. @default undefined
   */
  tls?: TlsOptions;
}

/** The server package's version, for INFO. */
const VERSION = ((): string => {
  try {
    const manifest = JSON.parse(readFileSync(join(__dirname, '..', 'package.json'), 'utf8')) as {
      version?: unknown;
    };
    return typeof manifest.version === 'string' ? manifest.version : '0.0.0';
  } catch {
    return '0.0.0';
  }
})();

export type ServerStatus = 'new' | 'starting' | 'listening' | 'closing' | 'closed';

function checkOptions(options: ServerOptions): void {
  const counts: (keyof ServerOptions)[] = [
    'port',
    'maxFrameSize',
    'maxConnections',
    'maxUnauthenticated',
    'authTimeoutMs',
    'preAuthMaxFrame',
    'maxItems',
    'maxIntBytes',
    'idleTimeoutMs',
    'maxKeyLength',
    'maxDocKeys',
    'batchSlice',
    'maxClockDriftMs',
    'maxDepth',
    'maxScan',
    'scanCursors',
    'writeHighWater',
    'closeTimeoutMs',
    'respPort',
  ];
  for (const name of counts) {
    const v = options[name];
    if (v !== undefined && (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0)) {
      throw new TypeError(`options.${name} must be a whole number >= 0, got ${JSON.stringify(v)}`);
    }
  }
  if (options.fsync !== undefined && !['always', 'batch', 'off'].includes(options.fsync)) {
    throw new TypeError(
      `options.fsync must be 'always', 'batch' or 'off', got ${JSON.stringify(options.fsync)}`,
    );
  }
  if (options.scanCursors === 0) throw new TypeError('options.scanCursors must be >= 1');
  if (options.port !== undefined && options.port > 65535)
    throw new TypeError('options.port must be <= 65535');
  if (options.respPort !== undefined && options.respPort > 65535)
    throw new TypeError('options.respPort must be <= 65535');
  if (
    options.authToken !== undefined &&
    (typeof options.authToken !== 'string' || options.authToken.length === 0)
  ) {
    throw new TypeError('options.authToken must be a non-empty string');
  }
}

/**
 * A triekv server: a TCP listener speaking the triekv protocol over a trie-indexed record store.
 * `listen()` to start, `close()` to stop gracefully; usable in-process.
 */
export class KvServer {
  readonly store = new Store();
  readonly id = randomUUID();
  private readonly options: ServerOptions;
  private readonly counters = new Counters();
  private readonly connections = new Set<Connection>();
  /** Connections that have not authenticated yet (with a token), oldest first. */
  private readonly waiting = new Set<Connection>();
  private get unauthenticated(): number {
    return this.waiting.size;
  }
  private readonly ctx: ConnectionContext;
  private readonly respCtx: RespConnectionContext;
  private readonly respConnections = new Set<RespConnection>();
  private tcp: Server | undefined;
  private resp: Server | undefined;
  private dataDir: DataDir | undefined;
  /** The cluster's membership record as this server keeps it (see MEMBERS_SET). */
  private membership: Membership | undefined;
  private written = 0;
  /** What the last start recovered from the data directory. */
  recovery: Recovery | undefined;
  private state: ServerStatus = 'new';
  private closing: Promise<void> | undefined;
  /** Settles when a `listen()` in progress has finished or given up. */
  private starting: Promise<void> | undefined;
  /** `close()` was called while `listen()` was still in progress: the start is cancelled. */
  private closeRequested = false;

  constructor(options: ServerOptions = {}) {
    checkOptions(options);
    this.options = options;
    const log = options.logger ?? pino({ level: 'silent' });
    this.ctx = {
      store: this.store,
      authToken: options.authToken,
      maxFrameSize: options.maxFrameSize ?? DEFAULT_MAX_FRAME_SIZE,
      maxDepth: options.maxDepth ?? DEFAULT_MAX_DEPTH,
      maxItems: options.maxItems ?? DEFAULT_MAX_ITEMS,
      maxIntBytes: options.maxIntBytes ?? DEFAULT_MAX_INT_BYTES,
      preAuthMaxFrame: options.preAuthMaxFrame ?? DEFAULT_PRE_AUTH_MAX_FRAME,
      authTimeoutMs: options.authTimeoutMs ?? DEFAULT_AUTH_TIMEOUT_MS,
      batchSlice: options.batchSlice ?? DEFAULT_BATCH_SLICE,
      authenticated: (connection) => {
        if (this.connections.size - this.unauthenticated >= this.maxConnections) return false;
        this.waiting.delete(connection);
        return true;
      },
      maxKeyLength: options.maxKeyLength ?? DEFAULT_MAX_KEY_LENGTH,
      maxDocKeys: options.maxDocKeys ?? DEFAULT_MAX_DOC_KEYS,
      maxClockDriftMs: options.maxClockDriftMs ?? DEFAULT_MAX_CLOCK_DRIFT_MS,
      maxScan: options.maxScan ?? DEFAULT_MAX_SCAN,
      writeHighWater: options.writeHighWater ?? DEFAULT_WRITE_HIGH_WATER,
      idleTimeoutMs: options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS,
      counters: this.counters,
      log,
      info: { protocol: PROTOCOL_VERSION, name: options.name ?? 'triekv', id: this.id },
      stats: () => this.stats(),
      members: {
        current: () => this.membership,
        store: (members) => {
          if (this.options.dataDir !== undefined) writeMembersFile(this.options.dataDir, members);
          this.membership = members;
          log.info(
            {
              version: members.version,
              members: members.members.map((m) => m.name),
              ...(members.previous === undefined
                ? {}
                : { previous: members.previous.map((m) => m.name) }),
              ...(members.change === undefined ? {} : { change: members.change }),
            },
            'membership changed',
          );
        },
      },
    };
    const ctx = this.ctx;
    this.respCtx = {
      store: this.store,
      // Writes over RESP are stamped here, as a broker stamps its own: newer than what is stored.
      clock: new HybridClock(`s${this.id.slice(0, 8)}`),
      get journal() {
        return ctx.journal;
      },
      get durability() {
        return ctx.durability;
      },
      table: new CommandTable(COMMANDS),
      authToken: options.authToken,
      maxKeyLength: ctx.maxKeyLength,
      maxScan: ctx.maxScan,
      cursors: new ScanCursors(options.scanCursors ?? DEFAULT_SCAN_CURSORS),
      maxBulkBytes: ctx.maxFrameSize,
      maxArgs: ctx.maxItems,
      maxInlineBytes: DEFAULT_MAX_INLINE_BYTES,
      preAuthMaxBytes: ctx.preAuthMaxFrame,
      authTimeoutMs: ctx.authTimeoutMs,
      writeHighWater: ctx.writeHighWater,
      idleTimeoutMs: ctx.idleTimeoutMs,
      counters: this.counters,
      log,
      ports: () => ({
        resp: this.resp === undefined ? 0 : (this.resp.address() as AddressInfo).port,
        native: this.tcp === undefined ? 0 : (this.tcp.address() as AddressInfo).port,
      }),
      name: ctx.info.name,
      version: VERSION,
      stats: () => this.stats(),
      sessions: () => this.respConnections,
      persistence: () =>
        this.dataDir === undefined
          ? { enabled: false }
          : {
              enabled: true,
              fsync: this.dataDir.policy,
              logBytes: this.dataDir.size,
              compactions: this.dataDir.compactions,
            },
    };
  }

  get status(): ServerStatus {
    return this.state;
  }

  /**
   * Tells `requests` of every native request once answered (type, reply type, seconds) and `fsyncs`
   * of every log fsync: for metrics (`@triekv/observe`). Nothing is timed until this is called.
   */
  observe(requests: RequestObserver, fsyncs?: (seconds: number) => void): void {
    this.counters.observer = requests;
    this.counters.fsyncObserver = fsyncs;
  }

  /**
   * Binds and starts accepting connections. Rejects with a `ListenError` when the address is unusable,
   * and with a `ServerStateError` when `close()` is called before it has finished (close wins: the
   * server never starts serving).
   */
  listen(): Promise<{ host: string; port: number }> {
    if (this.state !== 'new')
      return Promise.reject(new ServerStateError(`cannot listen: the server is ${this.state}`));
    this.state = 'starting';
    const started = this.start();
    this.starting = started.then(
      () => undefined,
      () => undefined,
    );
    return started;
  }

  /** Gives up a start that `close()` has overtaken: releases what was opened so far. */
  private async cancelStart(): Promise<never> {
    await new Promise<void>((resolve) =>
      this.tcp?.listening === true ? this.tcp.close(() => resolve()) : resolve(),
    );
    await new Promise<void>((resolve) =>
      this.resp?.listening === true ? this.resp.close(() => resolve()) : resolve(),
    );
    await this.dataDir?.close();
    this.state = 'closed';
    throw new ServerStateError('the server was closed before it finished starting');
  }

  private async start(): Promise<{ host: string; port: number }> {
    const host = this.options.host ?? DEFAULT_HOST;
    const port = this.options.port ?? 0;
    if (this.options.dataDir !== undefined) {
      try {
        await this.openDataDir(this.options.dataDir);
      } catch (error) {
        this.state = 'closed';
        throw error;
      }
    }
    if (this.closeRequested) return this.cancelStart();
    const handshake = this.ctx.authTimeoutMs;
    const tcp = createListener(
      this.options.tls,
      (socket) => this.accept(socket),
      this.ctx.log,
      handshake,
    );
    this.tcp = tcp;
    await bind(tcp, host, port).catch(async (error: unknown) => {
      this.state = 'closed';
      await this.dataDir?.close();
      throw error;
    });
    if (this.closeRequested) return this.cancelStart();
    if (this.options.respPort !== undefined) {
      const respHost = this.options.respHost ?? host;
      const resp = createListener(
        this.options.tls,
        (socket) => this.acceptResp(socket),
        this.ctx.log,
        handshake,
      );
      this.resp = resp;
      await bind(resp, respHost, this.options.respPort).catch(async (error: unknown) => {
        this.state = 'closed';
        await new Promise<void>((resolve) => tcp.close(() => resolve()));
        await this.dataDir?.close();
        throw error;
      });
      resp.on('error', (error) => this.ctx.log.error({ err: error }, 'RESP listener error'));
      if (this.closeRequested) return this.cancelStart();
      this.ctx.log.info(this.respAddress(), 'listening for RESP');
    }
    tcp.on('error', (error) => this.ctx.log.error({ err: error }, 'listener error'));
    this.state = 'listening';
    const address = this.address();
    this.ctx.log.info(address, 'listening');
    return address;
  }

  /**
   * New certificates (a renewal, on SIGHUP): connections open now keep theirs, new ones get these.
   * Throws when they cannot be used; the old ones stay in use then.
   */
  reloadTls(tls: TlsOptions): void {
    if (this.options.tls === undefined)
      throw new ServerStateError('the server was started without TLS');
    reloadListener(this.tcp, tls);
    reloadListener(this.resp, tls);
    this.ctx.log.info('reloaded the TLS certificates');
  }

  /** Where the RESP listener listens, when there is one. */
  respAddress(): { host: string; port: number } {
    const address = this.resp?.address() as AddressInfo | null | undefined;
    if (address === null || address === undefined)
      throw new ServerStateError('the server has no RESP listener');
    return { host: address.address, port: address.port };
  }

  /** Where the server listens (the real port when 0 was asked for). */
  address(): { host: string; port: number } {
    const address = this.tcp?.address() as AddressInfo | null | undefined;
    if (address === null || address === undefined)
      throw new ServerStateError('the server is not listening');
    return { host: address.address, port: address.port };
  }

  /**
   * Stops gracefully: stops accepting, lets every connection finish what it already received and send
   * the replies, then closes them (cutting any still open after `closeTimeoutMs`). Idempotent.
   */
  close(): Promise<void> {
    if (this.closing !== undefined) return this.closing;
    if (this.state === 'new') {
      this.state = 'closed';
      return (this.closing = Promise.resolve());
    }
    if (this.state === 'starting') {
      // The start in progress sees this and undoes itself; close resolves once it has.
      this.closeRequested = true;
      return (this.closing = (this.starting as Promise<void>).then(() => {
        this.state = 'closed';
      }));
    }
    this.state = 'closing';
    this.closing = (async () => {
      const stopped = Promise.all([
        new Promise<void>((resolve) => this.tcp?.close(() => resolve())),
        new Promise<void>((resolve) =>
          this.resp === undefined ? resolve() : this.resp.close(() => resolve()),
        ),
      ]);
      for (const connection of this.connections) connection.end();
      for (const connection of this.respConnections) connection.end();
      const drained = Promise.all([
        ...[...this.connections].map((c) => c.closed),
        ...[...this.respConnections].map((c) => c.closed),
      ]);
      const timeout = this.options.closeTimeoutMs ?? DEFAULT_CLOSE_TIMEOUT_MS;
      let timer: NodeJS.Timeout | undefined;
      const cut = new Promise<void>((resolve) => {
        timer = setTimeout(() => {
          for (const connection of this.connections) connection.socket.destroy();
          for (const connection of this.respConnections) connection.socket.destroy();
          resolve();
        }, timeout);
      });
      await Promise.race([drained, cut]);
      clearTimeout(timer);
      await stopped;
      await this.dataDir?.close();
      this.state = 'closed';
      this.ctx.log.info('closed');
    })();
    return this.closing;
  }

  /** What STATS reports: keys, tombstones, memory, connections, ops by type, uptime. */
  stats(): Stats {
    const memory = process.memoryUsage();
    const c = this.counters;
    return {
      name: this.ctx.info.name,
      id: this.id,
      keys: this.store.size,
      tombstones: this.store.tombstones,
      connections: c.connections,
      connectionsTotal: c.connectionsTotal,
      connectionsRefused: c.connectionsRefused,
      errors: c.errors,
      bytesIn: c.bytesIn,
      bytesOut: c.bytesOut,
      uptimeSeconds: Math.floor((Date.now() - c.started) / 1000),
      memoryRssBytes: memory.rss,
      memoryHeapUsedBytes: memory.heapUsed,
      memoryExternalBytes: memory.external + memory.arrayBuffers,
      ops: c.opsByType(),
      ...(this.dataDir === undefined
        ? {}
        : {
            persistence: {
              logBytes: this.dataDir.size,
              snapshotBytes: this.dataDir.snapshotSize,
              compactions: this.dataDir.compactions,
              fsync: FSYNC_CODES[this.dataDir.policy],
            },
          }),
    };
  }

  private async openDataDir(dir: string): Promise<void> {
    const { dataDir, recovery } = await DataDir.open(
      {
        dir,
        fsync: this.options.fsync ?? 'batch',
        ...(this.options.compactRatio === undefined
          ? {}
          : { compactRatio: this.options.compactRatio }),
        ...(this.options.minCompactBytes === undefined
          ? {}
          : { minCompactBytes: this.options.minCompactBytes }),
        recover: this.options.recover === true,
      },
      this.store,
      this.ctx.log,
    );
    this.dataDir = dataDir;
    this.recovery = recovery;
    dataDir.onFsync = (seconds) => this.counters.fsyncObserver?.(seconds);
    this.membership = readMembersFile(dir, this.ctx.log);
    this.ctx.journal = (key, record) => {
      this.written++;
      dataDir.append({ key, record });
    };
    this.ctx.durability = { written: () => this.written, sync: () => dataDir.sync() };
    this.ctx.log.info(
      { dir, ...recovery, keys: this.store.size, tombstones: this.store.tombstones },
      'recovered the data directory',
    );
  }

  private get maxConnections(): number {
    return this.options.maxConnections ?? DEFAULT_MAX_CONNECTIONS;
  }

  private accept(socket: Socket): void {
    const max = this.maxConnections;
    const auth = this.options.authToken !== undefined;
    const maxUnauth = this.options.maxUnauthenticated ?? DEFAULT_MAX_UNAUTHENTICATED;
    // With a token, a new connection counts against the unauthenticated limit until it has sent HELLO,
    // and against maxConnections only from then on. When that limit is reached the oldest connection
    // still waiting makes room: a client with the token sends HELLO at once, so idle sockets cannot
    // lock it out (each of them lasts until authTimeoutMs at most, or until newer ones push it out).
    if (this.state === 'listening' && auth && this.unauthenticated >= maxUnauth) {
      const oldest = this.waiting.values().next().value as Connection;
      this.waiting.delete(oldest);
      this.counters.connectionsRefused++;
      oldest.refuseUnauthenticated(
        `closed to make room: more than ${maxUnauth} connections waiting to authenticate`,
      );
    }
    const full = !auth && this.connections.size >= max;
    if (this.state !== 'listening' || full) {
      this.counters.connectionsRefused++;
      const message =
        this.state === 'listening'
          ? `too many connections (limit ${max})`
          : 'the server is shutting down';
      const code = this.state === 'listening' ? ErrorCode.LIMIT : ErrorCode.SHUTTING_DOWN;
      socket.on('error', () => undefined);
      socket.end(encodeFrame({ type: 'ERROR', id: 0, code, message }));
      return;
    }
    const connection = new Connection(socket, this.ctx);
    this.connections.add(connection);
    if (auth) this.waiting.add(connection);
    this.counters.connections++;
    this.counters.connectionsTotal++;
    void connection.closed.then(() => {
      this.connections.delete(connection);
      this.waiting.delete(connection);
      this.counters.connections--;
    });
  }

  /** A RESP client: the same connection limit as the native port, refused as Redis refuses. */
  private acceptResp(socket: Socket): void {
    const max = this.maxConnections;
    if (this.state !== 'listening' || this.connections.size + this.respConnections.size >= max) {
      this.counters.connectionsRefused++;
      socket.on('error', () => undefined);
      socket.end(
        this.state === 'listening'
          ? '-ERR max number of clients reached\r\n'
          : '-ERR the server is shutting down\r\n',
      );
      return;
    }
    const connection = new RespConnection(socket, this.respCtx);
    this.respConnections.add(connection);
    this.counters.connections++;
    this.counters.connectionsTotal++;
    void connection.closed.then(() => {
      this.respConnections.delete(connection);
      this.counters.connections--;
    });
  }
}

/** Listens on `host:port`, rejecting with a `ListenError` that says why it cannot. */
function bind(server: Server, host: string, port: number): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException): void => {
      const where = `${host}:${port}`;
      const reason =
        error.code === 'EADDRINUSE'
          ? `${where} is already in use`
          : error.code === 'EACCES'
            ? `not permitted to listen on ${where}`
            : error.code === 'EADDRNOTAVAIL'
              ? `${host} is not an address of this machine`
              : `cannot listen on ${where}: ${error.message}`;
      reject(new ListenError(reason, error.code ?? 'UNKNOWN', { cause: error }));
    };
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve();
    });
  });
}

/** Creates a server (not yet listening). */
export function createServer(options?: ServerOptions): KvServer {
  return new KvServer(options);
}
