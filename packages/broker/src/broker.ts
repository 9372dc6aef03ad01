import { EventEmitter } from 'node:events';
import { randomBytes } from 'node:crypto';
import { compareVersions, type Reply, type Version } from '@triekv/protocol';
import { formatPath, type Doc, type Value } from '@triekv/record';
import { DEFAULT_K, DEFAULT_SCAN_LIMIT } from './defaults.js';
import { BrokerClosedError, DeleteRefusedError, UnavailableError } from './errors.js';
import { HybridClock } from './hlc.js';
import { computeWith, type Bindings, type ComputeResult, type Expr } from './compute.js';
import { load, type LoadOptions, type LoadSummary } from './load.js';
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

interface Answer {
  server: ServerConnection;
  reply: Reply;
  /** Asked for the version only (a digest read): an OK reply then carries no value. */
  digest: boolean;
}

/**
 * Newer-first order of read answers: a value or a miss at a version beats anything older; no version is
 * oldest. Of equal versions, a full answer beats a digest (its value needs no fetching).
 */
function newest(answers: Answer[]): Answer | undefined {
  let best: Answer | undefined;
  for (const a of answers) {
    if (a.reply.type === 'ERROR') continue;
    if (best === undefined) {
      best = a;
      continue;
    }
    const av = versionOf(a.reply);
    const bv = versionOf(best.reply);
    if (bv === undefined) {
      if (av !== undefined || (best.digest && !a.digest)) best = a;
      continue;
    }
    if (av === undefined) continue;
    const order = compareVersions(av, bv);
    if (order > 0 || (order === 0 && best.digest && !a.digest)) best = a;
  }
  return best;
}

/** An answer that still lacks its value: an OK to a digest read. */
function valueMissing(a: Answer): boolean {
  return a.digest && a.reply.type === 'OK';
}

function versionOf(reply: Reply): Version | undefined {
  return reply.type === 'ERROR' ? undefined : reply.version;
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
  readonly connections: ServerConnection[];
  readonly clock: HybridClock;
  private readonly seeds: number[];
  /** Scores of the servers `writeTargets` has picked so far (k + 1 slots, reused). */
  private readonly scoreScratch: Float64Array;
  private closed = false;
  private readonly autoRepair: boolean;
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
    this.k = k;
    this.placement = options.placement ?? 'hash';
    this.autoRepair = options.autoRepair ?? true;
    this.clock = new HybridClock(options.nodeId ?? randomBytes(4).toString('hex'));
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

  /** Stores `doc` under `key` on k servers, as a new version. */
  async put(key: string, doc: Doc, options?: CallOptions): Promise<WriteResult> {
    this.checkOpen(options);
    const targets = this.writeTargets(key);
    if (targets.length === 0)
      throw new UnavailableError(`no server is up to write ${JSON.stringify(key)} to`);
    const version = this.clock.tick();
    const request = { type: 'PUT', key, value: doc, version } as const;
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
    return this.read(key, [], options);
  }

  /** The value at `path` (the record's key first, then keys inside it). */
  query(path: string[], options?: CallOptions): Promise<ReadResult> {
    if (path.length === 0) throw new TypeError('path must have at least the record key');
    return this.read(path[0] as string, path.slice(1), options);
  }

  /**
   * Evaluates an arithmetic expression (`parseExpression`'s language) with each variable bound to the
   * number at its path, read as `query` reads: `compute('2*(x+3)', { x: ['key1', 'age'] })`.
   */
  async compute(
    expression: string | Expr,
    bindings: Bindings,
    options?: CallOptions,
  ): Promise<ComputeResult> {
    this.checkOpen(options);
    return computeWith(expression, bindings, (path) => this.query(path, options));
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
        const reads = await Promise.allSettled(doubtful.map((key) => this.read(key, [], options)));
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
            ...(c.latencyMs === undefined ? {} : { latencyMs: c.latencyMs }),
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

  /**
   * Reads from the key's replicas (under `hash` its first k live servers, under `random` every live
   * one) and answers with the newest version. Digest reads: the first server is asked for the value,
   * the others for their versions only, so one value crosses the network instead of k; the value is
   * fetched from another replica only when that one turns out to be newer.
   */
  private async read(key: string, path: string[], options?: CallOptions): Promise<ReadResult> {
    this.checkOpen(options);
    // Under hash, the key's first k live servers (writeTargets picks them without sorting them all).
    const first =
      this.placement === 'hash' ? this.writeTargets(key) : this.connections.filter((c) => c.up);
    if (first.length === 0)
      throw new UnavailableError(
        `no server is up to read ${JSON.stringify(formatPath([key, ...path]))} from`,
      );
    let answers = await this.ask(first, key, path, options, 1);
    if (this.placement === 'hash') {
      // A replica that did not answer (a timeout, a dropped connection) is made up for by the next live
      // servers of the key's order, until k have answered: a write made by a broker that saw some of
      // the key's servers down went further along the order, and this finds it there.
      // (The order is computed only when a replica failed: not on every read.)
      let order: ServerConnection[] | undefined;
      const asked = new Set(first);
      for (;;) {
        const missing = this.k - answers.length;
        if (missing <= 0) break;
        order ??= this.order(key);
        const next = order.filter((c) => c.up && !asked.has(c)).slice(0, missing);
        if (next.length === 0) break;
        for (const c of next) asked.add(c);
        // If no full answer came yet, the first of these is asked for the value.
        const full = answers.some((x) => !x.digest) ? 0 : 1;
        answers = answers.concat(await this.ask(next, key, path, options, full));
      }
    }
    let best = newest(answers);
    if (
      this.placement === 'hash' &&
      (best === undefined || (best.reply.type === 'NOT_FOUND' && best.reply.version === undefined))
    ) {
      // Nothing found where the key should be: after churn it may have been written further along its
      // order, so ask the remaining live servers before saying NOT FOUND.
      const asked = new Set(answers.map((x) => x.server));
      const rest = this.order(key).filter((c) => c.up && !first.includes(c) && !asked.has(c));
      if (rest.length > 0) {
        answers = answers.concat(await this.ask(rest, key, path, options, rest.length));
        best = newest(answers);
      }
    }
    if (best !== undefined && valueMissing(best)) {
      answers = await this.fetchNewest(answers, best, key, path, options);
      best = newest(answers);
    }
    if (best === undefined)
      throw new UnavailableError(
        `no replica answered: ${answers.map((a) => a.server.name).join(', ')}`,
      );
    const version = versionOf(best.reply);
    if (version !== undefined) {
      this.clock.observe(version);
      this.readRepair(key, path, answers, version);
    }
    const servers = answers.filter((a) => a.reply.type !== 'ERROR').map((a) => a.server.name);
    const warnings = this.downWarnings();
    if (best.reply.type === 'OK' && best.reply.value !== undefined) {
      return {
        found: true,
        value: best.reply.value,
        ...(version === undefined ? {} : { version }),
        servers,
        warnings,
      };
    }
    return { found: false, ...(version === undefined ? {} : { version }), servers, warnings };
  }

  /**
   * The newest version was reported by a digest: reads the value from a replica that has that version
   * (the one that reported it first), replacing its digest among the answers. Fails when none of them
   * answers any more.
   */
  private async fetchNewest(
    answers: Answer[],
    best: Answer,
    key: string,
    path: string[],
    options?: CallOptions,
  ): Promise<Answer[]> {
    const version = versionOf(best.reply) as Version;
    const holders = answers.filter((a) => {
      const v = versionOf(a.reply);
      return valueMissing(a) && v !== undefined && compareVersions(v, version) === 0;
    });
    for (const holder of holders) {
      const [fetched] = await this.ask([holder.server], key, path, options, 1);
      // Its state may have moved on since (a newer write, or a delete): any answer at least as new
      // as the digest's is the answer.
      const v = fetched === undefined ? undefined : versionOf(fetched.reply);
      if (fetched !== undefined && v !== undefined && compareVersions(v, version) >= 0)
        return answers.map((a) => (a === holder ? fetched : a));
    }
    throw new UnavailableError(
      `the newest version of ${JSON.stringify(formatPath([key, ...path]))} is on ${holders
        .map((h) => h.server.name)
        .join(', ')}, which did not answer for its value`,
    );
  }

  /** Asks `servers` for the key (or the value at `path`): the first `full` for the value, the rest for the version only. */
  private async ask(
    servers: ServerConnection[],
    key: string,
    path: string[],
    options: CallOptions | undefined,
    full: number,
  ): Promise<Answer[]> {
    const results = await Promise.allSettled(
      servers.map((c, i) => {
        const versionOnly = i >= full;
        const request =
          path.length === 0
            ? ({ type: 'GET', key, ...(versionOnly ? { versionOnly } : {}) } as const)
            : ({ type: 'QUERY', key, path, ...(versionOnly ? { versionOnly } : {}) } as const);
        return c.request(request, options);
      }),
    );
    options?.signal?.throwIfAborted();
    const answers: Answer[] = [];
    results.forEach((r, i) => {
      if (r.status === 'fulfilled')
        answers.push({ server: servers[i] as ServerConnection, reply: r.value, digest: i >= full });
    });
    return answers;
  }

  /** Writes the newest state back to replicas that answered with an older one (in the background). */
  private readRepair(key: string, path: string[], answers: Answer[], version: Version): void {
    const stale = answers.filter((a) => {
      const v = versionOf(a.reply);
      return v === undefined || compareVersions(v, version) < 0;
    });
    if (stale.length === 0) return;
    void (async () => {
      // The newest whole record (a QUERY only saw part of it), then copy it to each stale replica.
      const holders = answers.filter((a) => {
        const v = versionOf(a.reply);
        return v !== undefined && compareVersions(v, version) === 0;
      });
      const holder = holders.find((a) => !a.digest) ?? holders[0];
      if (holder === undefined) return;
      let reply: Reply = holder.reply;
      if (path.length > 0 || valueMissing(holder))
        reply = await holder.server.request({ type: 'GET', key });
      for (const s of stale) {
        if (reply.type === 'OK' && reply.value instanceof Map && reply.version !== undefined) {
          await s.server.request({ type: 'PUT', key, value: reply.value, version: reply.version });
        } else if (reply.type === 'NOT_FOUND' && reply.version !== undefined) {
          await s.server.request({ type: 'DELETE', key, version: reply.version });
        }
      }
    })().catch(() => undefined);
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
