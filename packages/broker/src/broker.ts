import { EventEmitter } from 'node:events';
import { randomBytes } from 'node:crypto';
import { DEFAULT_MAX_FRAME_SIZE, type Reply, type Version } from '@triekv/protocol';
import { parsePath, type Path, type Value } from '@triekv/record';
import { DEFAULT_K, DEFAULT_MAX_CLOCK_DRIFT_MS, DEFAULT_SCAN_LIMIT } from './defaults.js';
import { BrokerClosedError, DeleteRefusedError, UnavailableError } from './errors.js';
import { HybridClock } from '@triekv/protocol';
import {
  computeWith,
  type Angles,
  type Bindings,
  type ComputeResult,
  type EvaluateOptions,
  type Expr,
} from './compute.js';
import { load, type LoadOptions, type LoadSummary } from './load.js';
import { read } from './read.js';
import { repair, type RepairSummary } from './repair.js';
import { hash32, rendezvousOrder } from './rendezvous.js';
import { ServerConnection, type CallOptions, type ConnectionOptions } from './server-connection.js';
import type { ServerAddress } from './server-file.js';

/** How records are placed on servers. */
export type Placement = 'hash' | 'random';

/** Options for a broker; every field but `servers` is optional. */
export interface BrokerOptions extends ConnectionOptions {
  /** The servers of the cluster. */
  servers: ServerAddress[];
  /** Replicas per record (1 ≤ k ≤ number of servers). @default 2 */
  k?: number;
  /** `hash` (rendezvous: a key's servers are deterministic; reads touch k) or `random` (reads ask all). @default 'hash' */
  placement?: Placement;
  /** This broker's id in versions. @default a random id */
  nodeId?: string;
  /** Repair a server on its own when it comes back after being down. @default true */
  autoRepair?: boolean;
  /**
   * Versions read that are further ahead of this broker's clock than this (ms) are not taken into its
   * clock, and the read says so in a warning. @default 60000
   */
  maxClockDriftMs?: number;
  /** How COMPUTE's sin, cos and tan read their argument. @default 'degrees' */
  angles?: Angles;
}

/** The outcome of a read. */
export interface ReadResult {
  found: boolean;
  value?: Value;
  version?: Version;
  /** Servers that answered. */
  servers: string[];
  warnings: string[];
}

/** The outcome of a write. */
export interface WriteResult {
  /** Replicas that acknowledged (for DELETE: that held a live record, when `found`). */
  replicas: number;
  /** Servers that acknowledged the write (for DELETE: every server that applied or already had it). */
  servers: string[];
  version: Version;
  found?: boolean;
  warnings: string[];
}

/** One server's health. */
export interface ServerStatus {
  server: string;
  up: boolean;
  latencyMs?: number;
  keys?: number;
}

/**
 * A client of a triekv cluster: it places every record on k servers, reads from a key's replicas taking
 * the newest version (and writes it back to stale replicas), refuses deletes it could not apply
 * everywhere, and warns when k or more servers are down (then answers may be wrong).
 */
export class Broker extends EventEmitter<{
  up: [server: string];
  down: [server: string];
  repaired: [server: string, copied: number];
  repairFailed: [reason: string];
}> {
  readonly k: number;
  readonly placement: Placement;
  /** Largest request frame sent (see `ConnectionOptions.maxFrameSize`). */
  readonly maxFrameSize: number;
  readonly connections: ServerConnection[];
  readonly clock: HybridClock;
  private readonly seeds: number[];
  /** Scores of the servers `writeTargets` has picked so far (k + 1 slots, reused). */
  private readonly scoreScratch: Float64Array;
  private closed = false;
  private readonly autoRepair: boolean;
  /** How COMPUTE reads angles. */
  readonly angles: Angles;
  private repairing: Promise<unknown> | undefined;

  constructor(options: BrokerOptions) {
    super();
    if (!Array.isArray(options.servers) || options.servers.length === 0) {
      throw new TypeError('options.servers must list at least one server');
    }
    const k = options.k ?? DEFAULT_K;
    if (!Number.isInteger(k) || k < 1 || k > options.servers.length) {
      throw new TypeError(
        `options.k must be a whole number from 1 to ${options.servers.length} (the number of servers), got ${k}`,
      );
    }
    if (
      options.placement !== undefined &&
      options.placement !== 'hash' &&
      options.placement !== 'random'
    ) {
      throw new TypeError(
        `options.placement must be 'hash' or 'random', got ${JSON.stringify(options.placement)}`,
      );
    }
    const maxFrameSize = options.maxFrameSize ?? DEFAULT_MAX_FRAME_SIZE;
    if (!Number.isSafeInteger(maxFrameSize) || maxFrameSize < 64)
      throw new TypeError(`options.maxFrameSize must be a whole number >= 64, got ${maxFrameSize}`);
    this.maxFrameSize = maxFrameSize;
    this.k = k;
    this.placement = options.placement ?? 'hash';
    this.autoRepair = options.autoRepair ?? true;
    if (
      options.angles !== undefined &&
      options.angles !== 'degrees' &&
      options.angles !== 'radians'
    )
      throw new TypeError(
        `options.angles must be 'degrees' or 'radians', got ${JSON.stringify(options.angles)}`,
      );
    this.angles = options.angles ?? 'degrees';
    this.clock = new HybridClock(
      options.nodeId ?? randomBytes(4).toString('hex'),
      Date.now,
      options.maxClockDriftMs ?? DEFAULT_MAX_CLOCK_DRIFT_MS,
    );
    this.connections = options.servers.map((address) => new ServerConnection(address, options));
    this.seeds = this.connections.map((c) => hash32(c.name));
    this.scoreScratch = new Float64Array(k + 1);
    for (const connection of this.connections) {
      let wasDown = false;
      connection.on('down', () => {
        wasDown = true;
        this.emit('down', connection.name);
      });
      connection.on('up', () => {
        this.emit('up', connection.name);
        if (wasDown && this.autoRepair && !this.closed) void this.repairSoon();
      });
    }
  }

  /** Connects to every server; resolves once each has had its first attempt, with their status. */
  async start(): Promise<ServerStatus[]> {
    await Promise.all(this.connections.map((c) => c.start()));
    return this.connections.map((c) => ({ server: c.name, up: c.up }));
  }

  /**
   * Resolves once any server is up (at once if one is), or after `ms` (or when the signal aborts):
   * a load that finds every server down waits this long for one to come back.
   */
  async waitForAnyServer(ms: number, signal?: AbortSignal): Promise<void> {
    if (this.connections.some((c) => c.up)) return;
    // Each wait ends at `ms` on its own; the first to end ends the others.
    const done = new AbortController();
    const stop = signal === undefined ? done.signal : AbortSignal.any([signal, done.signal]);
    try {
      await Promise.race(this.connections.map((c) => c.whenUp(ms, stop)));
    } finally {
      done.abort();
    }
  }

  /** Servers that are not up. */
  down(): ServerConnection[] {
    return this.connections.filter((c) => !c.up);
  }

  /** The key's servers in placement order (all of them; rendezvous order under `hash`). */
  order(key: string): ServerConnection[] {
    return rendezvousOrder(key, this.seeds).map((i) => this.connections[i] as ServerConnection);
  }

  /** Where a write of `key` goes: the first k live servers in its order, or k random live ones. */
  writeTargets(key: string): ServerConnection[] {
    if (this.placement === 'random')
      return shuffle(this.connections.filter((c) => c.up)).slice(0, this.k);
    // The k best-scoring live servers, picked without sorting them all (this runs for every record of
    // a load): the same servers, in the same order, as order(key) filtered to live ones.
    const picked: ServerConnection[] = [];
    const scores = this.scoreScratch;
    for (let i = 0; i < this.connections.length; i++) {
      const c = this.connections[i] as ServerConnection;
      if (!c.up) continue;
      const score = hash32(key, this.seeds[i]);
      let at = picked.length;
      // Equal scores keep index order, as in rendezvousOrder.
      while (at > 0 && (scores[at - 1] as number) < score) at--;
      if (at >= this.k) continue;
      picked.splice(at, 0, c);
      scores.copyWithin(at + 1, at, this.k);
      scores[at] = score;
      if (picked.length > this.k) picked.length = this.k;
    }
    return picked;
  }

  /** Stores `value` (a document, or any value) under `key` on k servers, as a new version. */
  async put(key: string, value: Value, options?: CallOptions): Promise<WriteResult> {
    this.checkOpen(options);
    const targets = this.writeTargets(key);
    if (targets.length === 0)
      throw new UnavailableError(`no server is up to write ${JSON.stringify(key)} to`);
    const version = this.clock.tick();
    const request = { type: 'PUT', key, value, version } as const;
    const results = await Promise.allSettled(targets.map((c) => c.request(request, options)));
    // Stopped by the caller: say so (some replicas may have the write, as with any abandoned call).
    options?.signal?.throwIfAborted();
    const servers = targets.filter((_, i) => results[i]?.status === 'fulfilled').map((c) => c.name);
    let replicas = servers.length;
    if (this.placement === 'hash' && replicas < this.k) {
      // Targets that failed (a timeout, a dropped connection) are made up for by the next live servers
      // of the key's order, as reads look there too; repair moves the copies home later.
      const tried = new Set(targets);
      for (const c of this.order(key)) {
        if (replicas >= this.k) break;
        if (!c.up || tried.has(c)) continue;
        tried.add(c);
        const extra = await Promise.allSettled([c.request(request, options)]);
        results.push(...extra);
        if (extra[0]?.status === 'fulfilled') {
          replicas++;
          servers.push(c.name);
        }
      }
    }
    if (replicas === 0) {
      throw new UnavailableError(
        `no replica acknowledged the write: ${reasons(results).join('; ')}`,
        version,
      );
    }
    const warnings = this.downWarnings();
    if (replicas < this.k) warnings.unshift(`written to ${replicas} of ${this.k} replicas`);
    return { replicas, servers, version, warnings };
  }

  /** The whole record under `key`. */
  get(key: string, options?: CallOptions): Promise<ReadResult> {
    return read(this, key, [], options);
  }

  /**
   * The value at `path`: the record's key first, then keys inside it (strings) and list indexes
   * (numbers), as an array (`['person2', 'items', 0]`) or as path text (`'person2.items[0]'`,
   * `'a."b.c"'`).
   */
  query(path: Path | string, options?: CallOptions): Promise<ReadResult> {
    const segments = typeof path === 'string' ? parsePath(path) : path;
    if (
      !Array.isArray(segments) ||
      typeof segments[0] !== 'string' ||
      segments.some(
        (s) =>
          typeof s !== 'string' && !(typeof s === 'number' && Number.isSafeInteger(s) && s >= 0),
      )
    )
      throw new TypeError(
        'path must be an array (the record key, then keys and list indexes) or a path string such as "a.b[0]"',
      );
    return read(this, segments[0], segments.slice(1), options);
  }

  /**
   * Evaluates an arithmetic expression (`parseExpression`'s language) with each variable bound to the
   * number at its path, read as `query` reads: `compute('2*(x+3)', { x: ['key1', 'age'] })`.
   */
  async compute(
    expression: string | Expr,
    bindings: Bindings,
    options?: CallOptions & EvaluateOptions,
  ): Promise<ComputeResult> {
    this.checkOpen(options);
    return computeWith(expression, bindings, (path) => this.query(path, options), {
      angles: options?.angles ?? this.angles,
    });
  }

  /** Loads records from a stream of text: see `load`. */
  load(source: AsyncIterable<Uint8Array | string>, options?: LoadOptions): Promise<LoadSummary> {
    return load(this, source, options);
  }

  /** One repair pass: see `repair`. */
  repair(options?: CallOptions): Promise<RepairSummary> {
    return repair(this, options);
  }

  /**
   * Deletes `key` everywhere it may be. Refused (and nothing deleted) when a server that may hold it is
   * down: under `hash` the servers of its order up to its k-th live one, under `random` every server.
   */
  async delete(key: string, options?: CallOptions): Promise<WriteResult> {
    this.checkOpen(options);
    const mayHold: ServerConnection[] = [];
    if (this.placement === 'hash') {
      let live = 0;
      for (const c of this.order(key)) {
        mayHold.push(c);
        if (c.up && ++live === this.k) break;
      }
    } else {
      mayHold.push(...this.connections);
    }
    const downOnes = mayHold.filter((c) => !c.up);
    if (downOnes.length > 0) throw new DeleteRefusedError(downOnes.map((c) => c.name));
    const version = this.clock.tick();
    const results = await Promise.allSettled(
      mayHold.map((c) => c.request({ type: 'DELETE', key, version }, options)),
    );
    options?.signal?.throwIfAborted();
    const replies = results.filter(
      (r): r is PromiseFulfilledResult<Reply> => r.status === 'fulfilled',
    );
    const servers = mayHold.filter((_, i) => results[i]?.status === 'fulfilled').map((c) => c.name);
    if (replies.length === 0)
      throw new UnavailableError(
        `no replica acknowledged the delete: ${reasons(results).join('; ')}`,
        version,
      );
    const holders = replies.filter((r) => r.value.type === 'OK').length;
    const warnings = this.downWarnings();
    if (replies.length < mayHold.length)
      warnings.unshift(`deleted on ${replies.length} of ${mayHold.length} servers`);
    return { replicas: holders, servers, version, found: holders > 0, warnings };
  }

  /** Live keys starting with `prefix`, sorted, from every live server, at most `limit`. */
  async scan(
    prefix: string,
    limit = DEFAULT_SCAN_LIMIT,
    options?: CallOptions,
  ): Promise<{ keys: string[]; warnings: string[] }> {
    this.checkOpen(options);
    const live = this.connections.filter((c) => c.up);
    if (live.length === 0) throw new UnavailableError('no server is up');
    const pages = await Promise.allSettled(
      live.map((c) => c.request({ type: 'SCAN', prefix, limit }, options)),
    );
    options?.signal?.throwIfAborted();
    // Which servers reported each key (as live: a server hides its tombstones).
    const reporters = new Map<string, ServerConnection[]>();
    pages.forEach((page, i) => {
      if (page.status !== 'fulfilled' || page.value.type !== 'OK') return;
      for (const key of page.value.keys ?? []) {
        const list = reporters.get(key);
        if (list === undefined) reporters.set(key, [live[i] as ServerConnection]);
        else list.push(live[i] as ServerConnection);
      }
    });
    let keys = [...reporters.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    if (this.placement === 'hash') {
      // After servers come and go, a server outside a key's replicas can keep an old copy that a later
      // DELETE never reached (it went to the replicas of the time). A key that all its live replicas
      // report is live; any other is confirmed by a read, which compares versions, tombstones included.
      const doubtful = keys.filter((key) => {
        const from = reporters.get(key) as ServerConnection[];
        return !this.writeTargets(key).every((c) => from.includes(c));
      });
      if (doubtful.length > 0) {
        const reads = await Promise.allSettled(doubtful.map((key) => read(this, key, [], options)));
        const gone = new Set(
          doubtful.filter((_, i) => {
            const r = reads[i] as PromiseSettledResult<ReadResult>;
            return r.status === 'fulfilled' && !r.value.found;
          }),
        );
        if (gone.size > 0) keys = keys.filter((key) => !gone.has(key));
      }
    }
    return { keys: keys.slice(0, limit), warnings: this.downWarnings() };
  }

  /** Each server: up or down, latency, keys (from STATS). */
  async status(options?: CallOptions): Promise<ServerStatus[]> {
    return Promise.all(
      this.connections.map(async (c): Promise<ServerStatus> => {
        if (!c.up) return { server: c.name, up: false };
        try {
          const reply = await c.request({ type: 'STATS' }, options);
          const keys = reply.type === 'OK' ? (reply.stats?.keys as number | undefined) : undefined;
          return {
            server: c.name,
            up: true,
            // Smoothed round trips, to 0.01 ms: more digits would only be noise.
            ...(c.latencyMs === undefined
              ? {}
              : { latencyMs: Math.round(c.latencyMs * 100) / 100 }),
            ...(keys === undefined ? {} : { keys }),
          };
        } catch {
          return { server: c.name, up: c.up };
        }
      }),
    );
  }

  /** Closes every connection; the broker cannot be used afterwards. */
  async close(): Promise<void> {
    this.closed = true;
    for (const c of this.connections) c.close();
    await this.repairing?.catch(() => undefined);
  }

  /** Warnings that apply to every answer while k or more servers are down. */
  downWarnings(): string[] {
    const down = this.down();
    if (down.length < this.k) return [];
    return [
      `${down.length} of ${this.connections.length} servers are down (k=${this.k}): the result may be wrong`,
    ];
  }

  /** Throws when the broker is closed, or when the call's signal has aborted (with its reason). */
  checkOpen(options?: CallOptions): void {
    if (this.closed) throw new BrokerClosedError();
    options?.signal?.throwIfAborted();
  }

  /** Runs the repair (see repair.ts) once a returning server has settled; one at a time. */
  private repairSoon(): Promise<unknown> {
    const run = async (): Promise<void> => {
      const summary = await this.repair();
      for (const s of summary.servers) this.emit('repaired', s.server, s.copied);
    };
    // A background repair must never become an unhandled rejection: its failure is an event.
    this.repairing = (this.repairing ?? Promise.resolve()).then(run).catch((error: unknown) => {
      if (!this.closed) this.emit('repairFailed', (error as Error).message);
    });
    return this.repairing;
  }
}

function shuffle<T>(items: T[]): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [items[i], items[j]] = [items[j] as T, items[i] as T];
  }
  return items;
}

function reasons(results: PromiseSettledResult<unknown>[]): string[] {
  return results
    .filter((r): r is PromiseRejectedResult => r.status === 'rejected')
    .map((r) => (r.reason as Error).message);
}
