import { EventEmitter } from 'node:events';
import type { HybridClock, Member, Membership, Reply, Version } from '@triekv/protocol';
import { parsePath, type Path, type Value } from '@triekv/record';
import { Cluster, type ClusterOptions } from './cluster.js';
import { DEFAULT_SCAN_LIMIT } from './defaults.js';
import { DeleteRefusedError, MembershipError, UnavailableError } from './errors.js';
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
import {
  changeMembership,
  rebalance,
  type RebalanceOptions,
  type RebalanceProgress,
  type RebalanceSummary,
} from './rebalance.js';
import type { ServerAddress } from './server-file.js';
import type { CallOptions, ServerConnection } from './server-connection.js';
import type { Placement, ReadResult, ServerStatus, WriteResult } from './types.js';

export type { Placement, ReadResult, ServerStatus, WriteResult } from './types.js';

/** Options for a broker; every field but `servers` is optional. */
export interface BrokerOptions extends ClusterOptions {
  /** Repair a server on its own when it comes back after being down. @default true */
  autoRepair?: boolean;
  /** How COMPUTE's sin, cos and tan read their argument. @default 'degrees' */
  angles?: Angles;
  /** Keys a membership change's handoff copies (and removes) per second at most. @default 20000 */
  rebalanceRate?: number;
}

/**
 * Told of every GET, QUERY, PUT, DELETE and SCAN once it settles: the operation, its outcome (`ok`,
 * `not_found`, `error`), how long it took in seconds, and whether the answer came while k or more servers
 * were down (`degraded`) or a write reached fewer than k replicas (`underReplicated`). For metrics.
 */
export type BrokerObserver = (
  op: string,
  outcome: 'ok' | 'not_found' | 'error',
  seconds: number,
  flags: { degraded: boolean; underReplicated: boolean },
) => void;

/** The cluster's membership as a broker sees it (STATUS, INFO cluster, KV.CLUSTER INFO). */
export interface MembershipInfo {
  /** The membership record's version; undefined while the seed list has never been changed. */
  version?: Version;
  members: Member[];
  /** While data moves after a change: the members before it. */
  previous?: Member[];
  /** The last change (`ADD ...`, `REMOVE ...`). */
  change?: string;
  /** Whether data is moving (here or on another broker). */
  rebalancing: boolean;
  /** Progress of the move this broker runs, when it runs one. */
  progress?: RebalanceProgress;
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
  membership: [record: Membership];
}> {
  /** The servers, placement and clock this broker works over. */
  readonly cluster: Cluster;
  private readonly autoRepair: boolean;
  /** How COMPUTE reads angles. */
  readonly angles: Angles;
  private repairing: Promise<unknown> | undefined;
  private activeRepairs = 0;
  private readonly rebalanceRate: number | undefined;
  private observer: BrokerObserver | undefined;
  /** The membership change (or REBALANCE) this broker runs, and how far it is. */
  private move: { progress?: RebalanceProgress } | undefined;

  constructor(options: BrokerOptions) {
    super();
    this.cluster = new Cluster(options);
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
    if (
      options.rebalanceRate !== undefined &&
      !(Number.isFinite(options.rebalanceRate) && options.rebalanceRate > 0)
    )
      throw new TypeError(
        `options.rebalanceRate must be a number > 0 (keys per second), got ${options.rebalanceRate}`,
      );
    this.rebalanceRate = options.rebalanceRate;
    const watch = (connection: ServerConnection): void => {
      let wasDown = false;
      connection.on('down', () => {
        wasDown = true;
        this.emit('down', connection.name);
      });
      connection.on('up', () => {
        this.emit('up', connection.name);
        if (wasDown && this.autoRepair && !this.cluster.isClosed) void this.repairSoon();
      });
    };
    for (const connection of this.cluster.connections) watch(connection);
    this.cluster.on('connection', watch);
    this.cluster.on('membership', (record) => this.emit('membership', record));
  }

  /** Replicas per record. */
  get k(): number {
    return this.cluster.k;
  }

  get placement(): Placement {
    return this.cluster.placement;
  }

  /** The clock that versions this broker's writes. */
  get clock(): HybridClock {
    return this.cluster.clock;
  }

  /** Connects to every server; resolves once each has had its first attempt, with their status. */
  async start(): Promise<ServerStatus[]> {
    await this.cluster.start();
    return this.cluster.connections.map((c) => ({
      server: c.name,
      up: c.up,
      ...(!c.up && c.lastError !== undefined ? { reason: c.lastError } : {}),
    }));
  }

  /** Resolves once any server is up (at once if one is), or after `ms` (or when the signal aborts). */
  waitForAnyServer(ms: number, signal?: AbortSignal): Promise<void> {
    return this.cluster.waitForAnyServer(ms, signal);
  }

  /** Stores `value` (a document, or any value) under `key` on k servers, as a new version. */
  put(key: string, value: Value, options?: CallOptions): Promise<WriteResult> {
    const work = this.putNow(key, value, options);
    return this.observer === undefined ? work : this.timed('put', work);
  }

  private async putNow(key: string, value: Value, options?: CallOptions): Promise<WriteResult> {
    this.cluster.checkOpen(options);
    const targets = this.cluster.writeTargets(key);
    if (targets.length === 0)
      throw new UnavailableError(`no server is up to write ${JSON.stringify(key)} to`);
    const version = this.cluster.clock.tick();
    const request = { type: 'PUT', key, value, version } as const;
    // While data moves after a membership change, the key's replicas under the previous members get
    // the write too (best effort: the count is of the members' replicas).
    const extra = this.cluster.moveTargets(key, targets);
    for (const c of extra) c.request(request, options).catch(() => undefined);
    const results = await Promise.allSettled(targets.map((c) => c.request(request, options)));
    // Stopped by the caller: say so (some replicas may have the write, as with any abandoned call).
    options?.signal?.throwIfAborted();
    const servers = targets.filter((_, i) => results[i]?.status === 'fulfilled').map((c) => c.name);
    let replicas = servers.length;
    if (this.placement === 'hash' && replicas < this.k) {
      // Targets that failed (a timeout, a dropped connection) are made up for by the next live servers
      // of the key's order, as reads look there too; repair moves the copies home later.
      const tried = new Set(targets);
      for (const c of this.cluster.order(key)) {
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
    const warnings = this.cluster.downWarnings();
    if (replicas < this.k) warnings.unshift(`written to ${replicas} of ${this.k} replicas`);
    return { replicas, servers, version, warnings };
  }

  /** Tells `observer` of every operation from now on (see `BrokerObserver`). */
  observe(observer: BrokerObserver): void {
    this.observer = observer;
  }

  /** `work`, told to the observer when there is one. */
  private timed<T extends ReadResult | WriteResult | { warnings: string[] }>(
    op: string,
    work: Promise<T>,
  ): Promise<T> {
    const observer = this.observer;
    if (observer === undefined) return work;
    const started = performance.now();
    const seconds = (): number => (performance.now() - started) / 1000;
    return work.then(
      (r) => {
        const found = 'found' in r ? r.found !== false : true;
        const replicas = 'replicas' in r && op === 'put' ? r.replicas : this.k;
        observer(op, found ? 'ok' : 'not_found', seconds(), {
          degraded: r.warnings.some((w) => w.includes('servers are down')),
          underReplicated: replicas < this.k,
        });
        return r;
      },
      (error: unknown) => {
        observer(op, 'error', seconds(), { degraded: false, underReplicated: false });
        throw error;
      },
    );
  }

  /** The whole record under `key`. */
  get(key: string, options?: CallOptions): Promise<ReadResult> {
    const work = read(this.cluster, key, [], options);
    return this.observer === undefined ? work : this.timed('get', work);
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
    const work = read(this.cluster, segments[0], segments.slice(1), options);
    return this.observer === undefined ? work : this.timed('query', work);
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
    this.cluster.checkOpen(options);
    return computeWith(expression, bindings, (path) => this.query(path, options), {
      angles: options?.angles ?? this.angles,
    });
  }

  /** Loads records from a stream of text: see `load`. */
  load(source: AsyncIterable<Uint8Array | string>, options?: LoadOptions): Promise<LoadSummary> {
    return load(this.cluster, source, options);
  }

  /** One repair pass: see `repair`. */
  async repair(options?: CallOptions): Promise<RepairSummary> {
    this.activeRepairs++;
    try {
      return await repair(this.cluster, options);
    } finally {
      this.activeRepairs--;
    }
  }

  /**
   * Adds a server to the cluster: publishes the new member list (every broker takes it within about
   * a second), copies to the new server the keys it now holds (throttled to `rebalanceRate`), then
   * removes the copies that are no longer needed elsewhere. Refused while a server is down (unless
   * `force`), while another change is in progress, and when the server is unreachable or another
   * cluster's. Reads and writes go on meanwhile, every read right.
   */
  addServer(address: ServerAddress, options?: RebalanceOptions): Promise<RebalanceSummary> {
    return this.moving((o) => changeMembership(this.cluster, { add: address }, o), options);
  }

  /**
   * Removes a server (`name` or `host:port`) from the cluster: its keys are copied to their new
   * replicas first, then it leaves the membership and its copies are removed; it can be stopped once
   * this resolves, with nothing lost. Refused when fewer than k servers would remain.
   */
  removeServer(server: string, options?: RebalanceOptions): Promise<RebalanceSummary> {
    return this.moving((o) => changeMembership(this.cluster, { remove: server }, o), options);
  }

  /**
   * Finishes a membership change in progress whose broker has stopped, or, when none is in progress,
   * runs one repair pass that also removes copies left on stand-in servers (hinted handoff).
   */
  rebalance(options?: RebalanceOptions): Promise<RebalanceSummary> {
    return this.moving((o) => rebalance(this.cluster, o), options);
  }

  private async moving(
    run: (options: RebalanceOptions) => Promise<RebalanceSummary>,
    options: RebalanceOptions = {},
  ): Promise<RebalanceSummary> {
    this.cluster.checkOpen(options);
    if (this.move !== undefined)
      throw new MembershipError(
        'IN_PROGRESS',
        'this broker is running a membership change already: wait for it to finish',
      );
    const move: { progress?: RebalanceProgress } = {};
    this.move = move;
    try {
      return await run({
        ...options,
        ...(options.rate === undefined && this.rebalanceRate !== undefined
          ? { rate: this.rebalanceRate }
          : {}),
        onProgress: (p) => {
          move.progress = p;
          options.onProgress?.(p);
        },
      });
    } finally {
      this.move = undefined;
    }
  }

  /** The cluster's membership: its version, members, the last change, and whether data is moving. */
  membership(): MembershipInfo {
    const record = this.cluster.membership;
    const progress = this.move?.progress;
    return {
      ...(record === undefined ? {} : { version: record.version }),
      members: this.cluster.memberList(),
      ...(record?.previous === undefined ? {} : { previous: record.previous }),
      ...(record?.change === undefined ? {} : { change: record.change }),
      rebalancing: this.cluster.moving || this.move !== undefined,
      ...(progress === undefined ? {} : { progress }),
    };
  }

  /** Whether a repair pass (asked for, or run on its own after a server came back) is running. */
  get repairInProgress(): boolean {
    return this.activeRepairs > 0;
  }

  /**
   * Deletes `key` everywhere it may be. Refused (and nothing deleted) when a server that may hold it is
   * down: under `hash` the servers of its order up to its k-th live one, under `random` every server.
   */
  delete(key: string, options?: CallOptions): Promise<WriteResult> {
    const work = this.deleteNow(key, options);
    return this.observer === undefined ? work : this.timed('delete', work);
  }

  private async deleteNow(key: string, options?: CallOptions): Promise<WriteResult> {
    this.cluster.checkOpen(options);
    const mayHold = this.cluster.mayHold(key);
    const downOnes = mayHold.filter((c) => !c.up);
    if (downOnes.length > 0) throw new DeleteRefusedError(downOnes.map((c) => c.name));
    const version = this.cluster.clock.tick();
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
    const warnings = this.cluster.downWarnings();
    if (replies.length < mayHold.length)
      warnings.unshift(`deleted on ${replies.length} of ${mayHold.length} servers`);
    return { replicas: holders, servers, version, found: holders > 0, warnings };
  }

  /**
   * The servers that may hold `key` and are down: a `delete` of it now would be refused (an empty
   * list: it would not). For callers deleting several keys that must refuse them all or none.
   */
  deleteBlockers(key: string): string[] {
    return this.cluster
      .mayHold(key)
      .filter((c) => !c.up)
      .map((c) => c.name);
  }

  /**
   * Live keys starting with `prefix`, sorted, from every live server, at most `limit`, after the key
   * `options.after` when given. `cursor` is set when more keys may follow: pass it as `after` to go on
   * (a key present for the whole scan is returned once, however servers come and go meanwhile).
   */
  scan(
    prefix: string,
    limit = DEFAULT_SCAN_LIMIT,
    options?: CallOptions & { after?: string },
  ): Promise<{ keys: string[]; cursor?: string; warnings: string[] }> {
    const work = this.scanNow(prefix, limit, options);
    return this.observer === undefined ? work : this.timed('scan', work);
  }

  private async scanNow(
    prefix: string,
    limit: number,
    options?: CallOptions & { after?: string },
  ): Promise<{ keys: string[]; cursor?: string; warnings: string[] }> {
    this.cluster.checkOpen(options);
    const live = this.cluster.connections.filter((c) => c.up);
    if (live.length === 0) throw new UnavailableError('no server is up');
    const after = options?.after;
    const pages = await Promise.allSettled(
      live.map((c) =>
        c.request(
          { type: 'SCAN', prefix, limit, ...(after === undefined ? {} : { after }) },
          options,
        ),
      ),
    );
    options?.signal?.throwIfAborted();
    // Which servers reported each key (as live: a server hides its tombstones), and how far every
    // server's page is complete: a server that has more stops at its cursor.
    const reporters = new Map<string, ServerConnection[]>();
    let bound: string | undefined;
    pages.forEach((page, i) => {
      if (page.status !== 'fulfilled' || page.value.type !== 'OK') return;
      const cursor = page.value.cursor;
      if (cursor !== undefined && (bound === undefined || cursor < bound)) bound = cursor;
      for (const key of page.value.keys ?? []) {
        const list = reporters.get(key);
        if (list === undefined) reporters.set(key, [live[i] as ServerConnection]);
        else list.push(live[i] as ServerConnection);
      }
    });
    let keys = [...reporters.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    if (bound !== undefined) {
      const end = bound;
      keys = keys.filter((key) => key <= end);
    }
    let cursor = bound;
    if (keys.length > limit) {
      keys = keys.slice(0, limit);
      cursor = keys[keys.length - 1];
    }
    if (this.placement === 'hash') {
      // After servers come and go, a server outside a key's replicas can keep an old copy that a later
      // DELETE never reached (it went to the replicas of the time). A key that all its live replicas
      // report is live; any other is confirmed by a read, which compares versions, tombstones included.
      const doubtful = keys.filter((key) => {
        const from = reporters.get(key) as ServerConnection[];
        return !this.cluster.writeTargets(key).every((c) => from.includes(c));
      });
      if (doubtful.length > 0) {
        const reads = await Promise.allSettled(
          doubtful.map((key) => read(this.cluster, key, [], options)),
        );
        const gone = new Set(
          doubtful.filter((_, i) => {
            const r = reads[i] as PromiseSettledResult<ReadResult>;
            return r.status === 'fulfilled' && !r.value.found;
          }),
        );
        if (gone.size > 0) keys = keys.filter((key) => !gone.has(key));
      }
    }
    return {
      keys,
      ...(cursor === undefined ? {} : { cursor }),
      warnings: this.cluster.downWarnings(),
    };
  }

  /** Each server: up or down, latency, keys (from STATS). */
  async status(options?: CallOptions): Promise<ServerStatus[]> {
    return Promise.all(
      this.cluster.connections.map(async (c): Promise<ServerStatus> => {
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
    this.cluster.close();
    await this.repairing?.catch(() => undefined);
  }

  /** Warnings that apply to every answer while k or more servers are down. */
  downWarnings(): string[] {
    return this.cluster.downWarnings();
  }

  /** Runs the repair (see repair.ts) once a returning server has settled; one at a time. */
  private repairSoon(): Promise<unknown> {
    const run = async (): Promise<void> => {
      const summary = await this.repair();
      for (const s of summary.servers) this.emit('repaired', s.server, s.copied);
    };
    // A background repair must never become an unhandled rejection: its failure is an event.
    this.repairing = (this.repairing ?? Promise.resolve()).then(run).catch((error: unknown) => {
      if (!this.cluster.isClosed) this.emit('repairFailed', (error as Error).message);
    });
    return this.repairing;
  }
}

function reasons(results: PromiseSettledResult<unknown>[]): string[] {
  return results
    .filter((r): r is PromiseRejectedResult => r.status === 'rejected')
    .map((r) => (r.reason as Error).message);
}
