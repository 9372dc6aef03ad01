import { randomBytes } from 'node:crypto';
import { DEFAULT_MAX_FRAME_SIZE, HybridClock } from '@triekv/protocol';
import { DEFAULT_K, DEFAULT_MAX_CLOCK_DRIFT_MS } from './defaults.js';
import { BrokerClosedError } from './errors.js';
import { hash32, rendezvousOrder } from './rendezvous.js';
import { ServerConnection, type CallOptions, type ConnectionOptions } from './server-connection.js';
import type { ServerAddress } from './server-file.js';
import type { Placement } from './types.js';

/** Options for a cluster view; every field but `servers` is optional. */
export interface ClusterOptions extends ConnectionOptions {
  /** The servers of the cluster. */
  servers: ServerAddress[];
  /** Replicas per record (1 ≤ k ≤ number of servers). @default 2 */
  k?: number;
  /** `hash` (rendezvous: a key's servers are deterministic; reads touch k) or `random` (reads ask all). @default 'hash' */
  placement?: Placement;
  /** This broker's id in versions. @default a random id */
  nodeId?: string;
  /**
   * Versions read that are further ahead of this broker's clock than this (ms) are not taken into its
   * clock, and the read says so in a warning. @default 60000
   */
  maxClockDriftMs?: number;
}

/**
 * What reads, loads and repairs need of a cluster: its servers and their liveness, where a key goes,
 * the clock that stamps writes, and whether it is still open. `Cluster` is the real one; tests may
 * give these functions a fake.
 */
export interface ClusterView {
  readonly k: number;
  readonly placement: Placement;
  /** Largest request frame sent (see `ConnectionOptions.maxFrameSize`). */
  readonly maxFrameSize: number;
  readonly connections: readonly ServerConnection[];
  readonly clock: HybridClock;
  /** The key's servers in placement order (all of them; rendezvous order under `hash`). */
  order(key: string): ServerConnection[];
  /** Where a write of `key` goes: the first k live servers in its order, or k random live ones. */
  writeTargets(key: string): ServerConnection[];
  /** Warnings that apply to every answer while k or more servers are down. */
  downWarnings(): string[];
  /** Resolves once any server is up, or after `ms` (or when the signal aborts). */
  waitForAnyServer(ms: number, signal?: AbortSignal): Promise<void>;
  /** Throws when the cluster is closed, or when the call's signal has aborted (with its reason). */
  checkOpen(options?: CallOptions): void;
}

/**
 * The cluster as one process sees it: a connection to every server (each with its own liveness), the
 * placement of keys on them, and the hybrid logical clock that versions this process's writes. The
 * Broker is the user API over it; reads, loads and repairs take it as a `ClusterView`.
 */
export class Cluster implements ClusterView {
  readonly k: number;
  readonly placement: Placement;
  readonly maxFrameSize: number;
  readonly connections: ServerConnection[];
  readonly clock: HybridClock;
  private readonly seeds: number[];
  /** Scores of the servers `writeTargets` has picked so far (k + 1 slots, reused). */
  private readonly scoreScratch: Float64Array;
  private closed = false;

  constructor(options: ClusterOptions) {
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
    this.clock = new HybridClock(
      options.nodeId ?? randomBytes(4).toString('hex'),
      Date.now,
      options.maxClockDriftMs ?? DEFAULT_MAX_CLOCK_DRIFT_MS,
    );
    this.connections = options.servers.map((address) => new ServerConnection(address, options));
    this.seeds = this.connections.map((c) => hash32(c.name));
    this.scoreScratch = new Float64Array(k + 1);
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Connects to every server; resolves once each has had its first attempt. */
  async start(): Promise<void> {
    await Promise.all(this.connections.map((c) => c.start()));
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

  /** Warnings that apply to every answer while k or more servers are down. */
  downWarnings(): string[] {
    const down = this.down();
    if (down.length < this.k) return [];
    return [
      `${down.length} of ${this.connections.length} servers are down (k=${this.k}): the result may be wrong`,
    ];
  }

  /** Throws when the cluster is closed, or when the call's signal has aborted (with its reason). */
  checkOpen(options?: CallOptions): void {
    if (this.closed) throw new BrokerClosedError();
    options?.signal?.throwIfAborted();
  }

  /** Closes every connection; the cluster cannot be used afterwards. */
  close(): void {
    this.closed = true;
    for (const c of this.connections) c.close();
  }
}

function shuffle<T>(items: T[]): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [items[i], items[j]] = [items[j] as T, items[i] as T];
  }
  return items;
}
