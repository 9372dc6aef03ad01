import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import {
  DEFAULT_MAX_FRAME_SIZE,
  HybridClock,
  compareVersions,
  type Member,
  type Membership,
} from '@triekv/protocol';
import { DEFAULT_K, DEFAULT_MAX_CLOCK_DRIFT_MS, DEFAULT_MEMBERSHIP_POLL_MS } from './defaults.js';
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
  /**
   * How often the cluster's membership record is asked of a server (each time the next live one), ms:
   * a change made by another broker is seen within about this long. @default 500
   */
  membershipPollMs?: number;
  /**
   * Where this process dials a member it learns from a membership record (one not among `servers`):
   * for brokers that reach servers through proxies or NAT, as `servers` do for the seeds. A seed is
   * always dialled at its own address. @default the record's address
   */
  resolveMember?: (member: Member) => ServerAddress;
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
  /** Every server in use: the members, then (while data moves after a change) the previous ones. */
  readonly connections: readonly ServerConnection[];
  readonly clock: HybridClock;
  /** Whether data is moving after a membership change (the previous members are still in use). */
  readonly moving: boolean;
  /** The members (the seeds until a membership record is taken); `connections` less servers leaving. */
  readonly memberConnections: readonly ServerConnection[];
  /**
   * The key's servers in placement order: every member (rendezvous order under `hash`), then, while
   * data moves, the previous members that are not members any more.
   */
  order(key: string): ServerConnection[];
  /** Where a write of `key` goes: the first k live members in its order, or k random live ones. */
  writeTargets(key: string): ServerConnection[];
  /**
   * While data moves: the key's first k live servers under the previous members, less `targets` (a
   * write goes there too, a read asks them too); otherwise none.
   */
  moveTargets(key: string, targets: readonly ServerConnection[]): ServerConnection[];
  /** The key's home: its first k members in placement order, up or not (`hash` only). */
  home(key: string): ServerConnection[];
  /** Warnings that apply to every answer while k or more servers are down. */
  downWarnings(): string[];
  /** Resolves once any server is up, or after `ms` (or when the signal aborts). */
  waitForAnyServer(ms: number, signal?: AbortSignal): Promise<void>;
  /** Throws when the cluster is closed, or when the call's signal has aborted (with its reason). */
  checkOpen(options?: CallOptions): void;
}

/** The servers of one placement (the members, or the previous members) and their rendezvous seeds. */
interface Placed {
  servers: ServerConnection[];
  seeds: number[];
}

const placed = (servers: ServerConnection[]): Placed => ({
  servers,
  seeds: servers.map((c) => hash32(c.name)),
});

const NONE: ServerConnection[] = [];

/** A connection's member entry: its name and address. */
export function memberOf(c: ServerConnection): Member {
  return { name: c.name, host: c.address.host, port: c.address.port };
}

/**
 * The cluster as one process sees it: a connection to every server (each with its own liveness), the
 * placement of keys on them, and the hybrid logical clock that versions this process's writes. The
 * Broker is the user API over it; reads, loads and repairs take it as a `ClusterView`.
 *
 * Membership: the servers given are the seeds. The cluster's own member list is a versioned record the
 * servers keep (MEMBERS); the cluster takes the newest one any server has at start and then asks one
 * live server every `membershipPollMs`, connecting to new members and closing connections to servers
 * that left. A server that holds an older record (or none: a restarted in-memory server) is given the
 * current one. Emits `connection` for every new server connection and `membership` for every record
 * taken.
 */
export class Cluster
  extends EventEmitter<{ connection: [ServerConnection]; membership: [Membership] }>
  implements ClusterView
{
  readonly k: number;
  readonly placement: Placement;
  readonly maxFrameSize: number;
  /** Every server in use: the members, then (while data moves) the previous ones. */
  connections: ServerConnection[];
  readonly clock: HybridClock;
  /** The membership record in use; undefined while the seeds have never been changed. */
  membership: Membership | undefined;
  /** How often the membership is polled, ms. */
  readonly membershipPollMs: number;
  private members: Placed;
  private previous: Placed | undefined;
  /** Scores of the servers `firstLive` has picked so far (k + 1 slots, reused). */
  private readonly scoreScratch: Float64Array;
  private closed = false;
  private readonly options: ClusterOptions;
  private pollTimer: NodeJS.Timeout | undefined;
  private pollNext = 0;
  /** The servers this process was given, by name (always dialled at the addresses given). */
  private readonly seeds: Map<string, ServerAddress>;
  /** Connections kept open although they left the membership (a handoff still reads from them). */
  private readonly held = new Set<ServerConnection>();

  constructor(options: ClusterOptions) {
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
    this.clock = new HybridClock(
      options.nodeId ?? randomBytes(4).toString('hex'),
      Date.now,
      options.maxClockDriftMs ?? DEFAULT_MAX_CLOCK_DRIFT_MS,
    );
    this.options = options;
    this.membershipPollMs = options.membershipPollMs ?? DEFAULT_MEMBERSHIP_POLL_MS;
    this.connections = options.servers.map((address) => new ServerConnection(address, options));
    this.seeds = new Map(this.connections.map((c) => [c.name, c.address]));
    this.members = placed(this.connections);
    this.scoreScratch = new Float64Array(k + 1);
  }

  /** The options every server connection is made with. */
  get connectionOptions(): ConnectionOptions {
    return this.options;
  }

  get moving(): boolean {
    return this.previous !== undefined;
  }

  /** The members (the seeds until a membership record is taken). */
  get memberConnections(): readonly ServerConnection[] {
    return this.members.servers;
  }

  /** The member list in use, as a record's `members` holds it. */
  memberList(): Member[] {
    return this.members.servers.map(memberOf);
  }

  /**
   * Takes `record` as the cluster's membership if it is newer than the one in use (whether it was):
   * connects to its new servers and closes the connections to servers that are in neither its members
   * nor its previous members (unless held).
   */
  adopt(record: Membership): boolean {
    if (this.closed) return false;
    if (
      this.membership !== undefined &&
      compareVersions(record.version, this.membership.version) <= 0
    )
      return false;
    const known = new Map<string, ServerConnection>();
    for (const c of [...this.connections, ...this.held]) known.set(c.name, c);
    const fresh: ServerConnection[] = [];
    const connectionFor = (m: Member): ServerConnection => {
      const have = known.get(m.name);
      // A seed keeps the address this process was given for it (through a proxy, say).
      if (
        have !== undefined &&
        (this.seeds.has(m.name) || (have.address.host === m.host && have.address.port === m.port))
      )
        return have;
      const address = this.seeds.get(m.name) ??
        this.options.resolveMember?.(m) ?? { host: m.host, port: m.port };
      const c = new ServerConnection({ ...address, name: m.name }, this.options);
      known.set(m.name, c);
      fresh.push(c);
      return c;
    };
    const members = record.members.map(connectionFor);
    const previous = record.previous?.map(connectionFor);
    const inUse = [...members, ...(previous ?? []).filter((c) => !members.includes(c))];
    const dropped = this.connections.filter((c) => !inUse.includes(c));
    this.members = placed(members);
    this.previous = previous === undefined ? undefined : placed(previous);
    this.connections = inUse;
    this.membership = record;
    for (const c of fresh) {
      this.emit('connection', c);
      void c.start();
    }
    for (const c of dropped) if (!this.held.has(c)) c.close();
    this.emit('membership', record);
    return true;
  }

  /** Keeps `connections` open even if they leave the membership, until `release` (a handoff's reads). */
  hold(connections: Iterable<ServerConnection>): void {
    for (const c of connections) this.held.add(c);
  }

  /** Ends `hold`: held connections that are not in use any more are closed. */
  release(): void {
    for (const c of this.held) if (!this.connections.includes(c)) c.close();
    this.held.clear();
  }

  /**
   * Asks every live server for its membership record and takes the newest (see `adopt`); resolves with
   * the record in use afterwards.
   */
  async refreshMembership(options?: CallOptions): Promise<Membership | undefined> {
    const live = this.connections.filter((c) => c.up);
    const replies = await Promise.allSettled(
      live.map((c) =>
        c.request(
          {
            type: 'MEMBERS',
            ...(this.membership === undefined ? {} : { known: this.membership.version }),
          },
          options,
        ),
      ),
    );
    let newest: Membership | undefined;
    for (const r of replies)
      if (r.status === 'fulfilled' && r.value.type === 'OK' && r.value.members !== undefined) {
        const m = r.value.members;
        if (newest === undefined || compareVersions(m.version, newest.version) > 0) newest = m;
      }
    if (newest !== undefined && this.adopt(newest)) await this.connected();
    return this.membership;
  }

  /** Resolves once every connection in use has had its first attempt. */
  private async connected(): Promise<void> {
    await Promise.all(this.connections.map((c) => c.start()));
  }

  /** One poll: the next live server is asked for a newer record, or given ours if it has an older one. */
  private poll(): void {
    const live = this.connections.filter((c) => c.up);
    if (live.length === 0) return;
    const c = live[this.pollNext++ % live.length] as ServerConnection;
    const ours = this.membership;
    c.request(
      { type: 'MEMBERS', ...(ours === undefined ? {} : { known: ours.version }) },
      { timeoutMs: Math.max(1000, this.membershipPollMs * 2) },
    ).then(
      (reply) => {
        if (reply.type !== 'OK') return;
        if (reply.members !== undefined) {
          if (this.adopt(reply.members)) void this.connected();
          return;
        }
        // The server is behind (restarted without a data directory, or down while the record changed).
        if (
          ours !== undefined &&
          (reply.version === undefined || compareVersions(reply.version, ours.version) < 0)
        )
          c.request({ type: 'MEMBERS_SET', members: ours }).catch(() => undefined);
      },
      () => undefined,
    );
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /**
   * Connects to every server; resolves once each has had its first attempt and the newest membership
   * record any of them holds has been taken (and its servers tried).
   */
  async start(): Promise<void> {
    await this.connected();
    await this.refreshMembership({ timeoutMs: 2000 });
    if (this.closed || this.pollTimer !== undefined) return;
    this.pollTimer = setInterval(() => this.poll(), this.membershipPollMs);
    this.pollTimer.unref();
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

  /**
   * The key's servers in placement order: every member (rendezvous order under `hash`), then, while
   * data moves, the previous members that are not members any more (in their own order).
   */
  order(key: string): ServerConnection[] {
    const ordered = orderOf(key, this.members);
    if (this.previous === undefined) return ordered;
    for (const c of orderOf(key, this.previous)) if (!ordered.includes(c)) ordered.push(c);
    return ordered;
  }

  home(key: string): ServerConnection[] {
    return orderOf(key, this.members).slice(0, this.k);
  }

  /** Where a write of `key` goes: the first k live members in its order, or k random live ones. */
  writeTargets(key: string): ServerConnection[] {
    if (this.placement === 'random')
      return shuffle(this.members.servers.filter((c) => c.up)).slice(0, this.k);
    return this.firstLive(key, this.members);
  }

  moveTargets(key: string, targets: readonly ServerConnection[]): ServerConnection[] {
    if (this.previous === undefined || this.placement === 'random') return NONE;
    const old = this.firstLive(key, this.previous);
    let extra: ServerConnection[] | undefined;
    for (const c of old) if (!targets.includes(c)) (extra ??= []).push(c);
    return extra ?? NONE;
  }

  /**
   * The servers that may hold `key`: under `hash` those of its order up to its k-th live one (under
   * the previous members too, while data moves), under `random` every server.
   */
  mayHold(key: string): ServerConnection[] {
    if (this.placement === 'random') return [...this.connections];
    const mayHold = upToKthLive(orderOf(key, this.members), this.k);
    if (this.previous !== undefined)
      for (const c of upToKthLive(orderOf(key, this.previous), this.k))
        if (!mayHold.includes(c)) mayHold.push(c);
    return mayHold;
  }

  /**
   * The k best-scoring live servers of `among`, picked without sorting them all (this runs for every
   * record of a load): the same servers, in the same order, as its rendezvous order filtered to live
   * ones.
   */
  private firstLive(key: string, among: Placed): ServerConnection[] {
    const picked: ServerConnection[] = [];
    const scores = this.scoreScratch;
    const servers = among.servers;
    for (let i = 0; i < servers.length; i++) {
      const c = servers[i] as ServerConnection;
      if (!c.up) continue;
      const score = hash32(key, among.seeds[i]);
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
    clearInterval(this.pollTimer);
    for (const c of [...this.connections, ...this.held]) c.close();
  }
}

function orderOf(key: string, among: Placed): ServerConnection[] {
  return rendezvousOrder(key, among.seeds).map((i) => among.servers[i] as ServerConnection);
}

/** The servers of `order` up to and including its k-th live one. */
function upToKthLive(order: ServerConnection[], k: number): ServerConnection[] {
  const out: ServerConnection[] = [];
  let live = 0;
  for (const c of order) {
    out.push(c);
    if (c.up && ++live === k) break;
  }
  return out;
}

function shuffle<T>(items: T[]): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [items[i], items[j]] = [items[j] as T, items[i] as T];
  }
  return items;
}
