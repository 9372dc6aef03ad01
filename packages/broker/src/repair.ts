import { setTimeout as sleep } from 'node:timers/promises';
import { compareVersions, type ExportEntry } from '@triekv/protocol';
import type { ClusterView } from './cluster.js';
import { DEFAULT_REPAIR_PAGE, DEFAULT_REPAIR_WINDOW } from './defaults.js';
import type { CallOptions, ServerConnection } from './server-connection.js';

/** What a repair did, per server. */
export interface RepairSummary {
  keys: number;
  copied: number;
  /**
   * Copies removed from servers outside their keys' replicas (written there while a replica was down)
   * once every replica held the newest version: hinted handoff.
   */
  removed: number;
  servers: { server: string; copied: number }[];
  /** Servers the pass left out, and why (down when it started, or failed during it). */
  skipped: { server: string; reason: string }[];
  warnings: string[];
}

/** Options of `repair`. */
export interface RepairOptions extends CallOptions {
  /** Copies and removals per second at most (a handoff's `rebalanceRate`). @default no limit */
  rate?: number;
  /** Called about every 1,000 keys, and at the end. */
  onProgress?: (progress: RepairProgress) => void;
  /** Servers to read and clean besides the cluster's (one leaving the membership). */
  also?: readonly ServerConnection[];
}

/** How far a repair pass is. */
export interface RepairProgress {
  /** Entries (records and tombstones) read from the servers so far, of about `total`. */
  scanned: number;
  total: number;
  copied: number;
  removed: number;
}

/** Keeps a pass to `rate` operations a second: `wait(done)` sleeps while it is ahead of that. */
class Throttle {
  private readonly started = performance.now();

  constructor(
    private readonly rate: number,
    private readonly signal: AbortSignal | undefined,
  ) {}

  async wait(done: number): Promise<void> {
    const ahead = this.started + (done / this.rate) * 1000 - performance.now();
    // Short waits are saved up: a timer per key would cost more than the copy.
    if (ahead >= 20) await sleep(ahead, undefined, { signal: this.signal }).catch(() => undefined);
  }
}

/** Records and tombstones on `servers` (from STATS), the size of a pass over all of them. */
async function entriesOn(
  servers: readonly ServerConnection[],
  options: CallOptions | undefined,
): Promise<number> {
  const stats = await Promise.allSettled(servers.map((c) => c.request({ type: 'STATS' }, options)));
  let total = 0;
  for (const r of stats)
    if (r.status === 'fulfilled' && r.value.type === 'OK' && r.value.stats !== undefined) {
      const { keys, tombstones } = r.value.stats;
      total +=
        (typeof keys === 'number' ? keys : 0) + (typeof tombstones === 'number' ? tombstones : 0);
    }
  return total;
}

/** Reads one server's EXPORT stream page by page (sorted by key). */
class ExportCursor {
  private page: ExportEntry[] = [];
  private at = 0;
  private after: string | undefined;
  private finished = false;

  constructor(
    readonly server: ServerConnection,
    private readonly options: CallOptions | undefined,
  ) {}

  /** Set when the server failed while being read; its stream is then treated as ended. */
  failure: Error | undefined;

  async head(): Promise<ExportEntry | undefined> {
    if (this.at < this.page.length) return this.page[this.at];
    if (this.finished) return undefined;
    let reply;
    try {
      reply = await this.server.request(
        {
          type: 'EXPORT',
          limit: DEFAULT_REPAIR_PAGE,
          ...(this.after === undefined ? {} : { after: this.after }),
        },
        this.options,
      );
    } catch (error) {
      this.failure = error as Error;
      this.finished = true;
      this.page = [];
      return undefined;
    }
    this.page = reply.type === 'OK' ? (reply.entries ?? []) : [];
    this.at = 0;
    if (reply.type !== 'OK' || reply.cursor === undefined) this.finished = true;
    else this.after = reply.cursor;
    return this.page[0];
  }

  advance(): void {
    this.at++;
  }
}

/**
 * Brings every live server up to date with what it should hold: merges the sorted EXPORT streams of all
 * live servers key by key (memory stays bounded by one page per server), finds each key's newest version
 * (a record or a tombstone), and copies it to the key's replicas that lack it. Under `hash` the replicas
 * are the key's first k live servers; under `random`, servers are added until k hold it. `timeoutMs`
 * applies to each request; an aborted `signal` stops the pass (it rejects with the signal's reason).
 */
export async function repair(
  cluster: ClusterView,
  options?: RepairOptions,
): Promise<RepairSummary> {
  cluster.checkOpen();
  const signal = options?.signal;
  const passOver = [...cluster.connections];
  for (const c of options?.also ?? []) if (!passOver.includes(c)) passOver.push(c);
  // A server that has just come back may not be seen as up yet: each one that is down gets one
  // connection attempt now, so that a repair started right after a restart includes it.
  await Promise.all(passOver.map((c) => c.reconnectNow()));
  signal?.throwIfAborted();
  const live = passOver.filter((c) => c.up);
  const down = passOver.filter((c) => !c.up);
  const cursors = live.map((c) => new ExportCursor(c, options));
  const throttle = options?.rate === undefined ? undefined : new Throttle(options.rate, signal);
  const onProgress = options?.onProgress;
  const progress = { scanned: 0, total: 0, copied: 0, removed: 0 };
  if (onProgress !== undefined) progress.total = await entriesOn(live, options);
  let reported = 0;
  const copiedBy = new Map<ServerConnection, number>(live.map((c) => [c, 0]));
  const failed = new Map<ServerConnection, string>();
  let keys = 0;
  let removed = 0;
  const inFlight = new Set<Promise<void>>();
  const pass: Pass = { cluster, failed, copiedBy, progress, options };
  for (;;) {
    signal?.throwIfAborted();
    const heads = await Promise.all(cursors.map((c) => c.head()));
    let smallest: string | undefined;
    for (const h of heads)
      if (h !== undefined && (smallest === undefined || h.key < smallest)) smallest = h.key;
    if (smallest === undefined) break;
    keys++;
    const holders = new Map<ServerConnection, ExportEntry>();
    heads.forEach((h, i) => {
      if (h !== undefined && h.key === smallest) {
        const cursor = cursors[i] as ExportCursor;
        holders.set(cursor.server, h);
        cursor.advance();
        progress.scanned++;
      }
    });
    let best: ExportEntry | undefined;
    for (const e of holders.values())
      if (best === undefined || compareVersions(e.version, best.version) > 0) best = e;
    const entry = best as ExportEntry;
    const targets = replicasFor(cluster, entry.key, holders);
    // Keys are independent: their copies (and hand-backs) run many at once, each key's in order.
    const work = settleKey(pass, entry, targets, holders).then((handedBack) => {
      removed += handedBack;
      progress.removed += handedBack;
    });
    inFlight.add(work);
    void work.finally(() => inFlight.delete(work));
    if (inFlight.size >= DEFAULT_REPAIR_WINDOW) await Promise.race(inFlight);
    await throttle?.wait(progress.copied + progress.removed);
    if (onProgress !== undefined && (keys - reported >= 1000 || keys === 1)) {
      reported = keys;
      onProgress({ ...progress });
    }
  }
  await Promise.all(inFlight);
  if (onProgress !== undefined) onProgress({ ...progress, total: progress.scanned });
  // A pass stopped by its caller says so, rather than listing every server as skipped.
  signal?.throwIfAborted();
  for (const cursor of cursors) {
    if (cursor.failure !== undefined) failed.set(cursor.server, cursor.failure.message);
  }
  const servers = [...copiedBy]
    .filter(([c]) => !failed.has(c))
    .map(([c, copied]) => ({ server: c.name, copied }));
  const skipped = [
    ...down.map((c) => ({
      server: c.name,
      reason: 'it is down (no connection when the repair started)',
    })),
    ...[...failed].map(([c, reason]) => ({
      server: c.name,
      reason: `it failed during the repair: ${reason}`,
    })),
  ];
  const warnings = skipped.map((s) => `${s.server} was skipped: ${s.reason}`);
  return {
    keys,
    copied: servers.reduce((n, s) => n + s.copied, 0),
    removed,
    servers,
    skipped,
    warnings: [...warnings, ...cluster.downWarnings()],
  };
}

/** What every key of one repair pass shares: the cluster, the servers that failed, the copy counts. */
interface Pass {
  cluster: ClusterView;
  failed: Map<ServerConnection, string>;
  copiedBy: Map<ServerConnection, number>;
  progress: RepairProgress;
  options: CallOptions | undefined;
}

/**
 * Copies the key's newest entry to its replicas that lack it, then (when every copy succeeded) hands
 * copies on other servers back (`handBack`); resolves with how many copies that removed.
 */
async function settleKey(
  pass: Pass,
  entry: ExportEntry,
  targets: ServerConnection[],
  holders: Map<ServerConnection, ExportEntry>,
): Promise<number> {
  const { failed, copiedBy, options } = pass;
  let allHold = true;
  await Promise.all(
    targets.map(async (target) => {
      const have = holders.get(target);
      if (have !== undefined && compareVersions(have.version, entry.version) >= 0) return;
      if (failed.has(target)) {
        allHold = false;
        return;
      }
      const request =
        entry.deleted === true
          ? ({ type: 'DELETE', key: entry.key, version: entry.version } as const)
          : ({
              type: 'PUT',
              key: entry.key,
              value: entry.value,
              version: entry.version,
            } as const);
      try {
        await target.request(request, options);
        copiedBy.set(target, (copiedBy.get(target) ?? 0) + 1);
        pass.progress.copied++;
      } catch (error) {
        // A server that fails mid-repair is skipped; the next repair (it runs again when the server
        // comes back) catches it up.
        allHold = false;
        failed.set(target, (error as Error).message);
      }
    }),
  );
  return allHold ? handBack(pass, entry.key, targets, holders) : 0;
}

/**
 * Hinted handoff: once every one of the key's home replicas (its first k members, all up) holds its
 * newest version, the copies on other servers (written there while a replica was down) are removed,
 * each only up to the version seen (a newer write there stays). Not under `random` placement (no
 * home), and not while data moves after a membership change (the move's own cleanup does it then).
 * Returns how many copies were removed.
 */
async function handBack(
  { cluster, failed, options }: Pass,
  key: string,
  targets: ServerConnection[],
  holders: Map<ServerConnection, ExportEntry>,
): Promise<number> {
  if (cluster.placement !== 'hash' || cluster.moving) return 0;
  const extra = [...holders].filter(([c]) => !targets.includes(c) && !failed.has(c));
  if (extra.length === 0) return 0;
  const home = cluster.home(key);
  if (home.length !== targets.length || home.some((c, i) => !c.up || c !== targets[i])) return 0;
  const results = await Promise.allSettled(
    extra.map(([c, e]) => c.request({ type: 'EVICT', key, version: e.version }, options)),
  );
  return results.filter((r) => r.status === 'fulfilled' && r.value.type === 'OK' && r.value.applied)
    .length;
}

function replicasFor(
  cluster: ClusterView,
  key: string,
  holders: Map<ServerConnection, ExportEntry>,
): ServerConnection[] {
  // Under hash, the key's first k live servers: where writes go and reads look.
  if (cluster.placement === 'hash') return cluster.writeTargets(key);
  // Under random, the members that hold it count (a server leaving the membership does not).
  const members = cluster.memberConnections;
  const targets = [...holders.keys()].filter((c) => c.up && members.includes(c));
  for (const c of members) {
    if (targets.length >= cluster.k) break;
    if (c.up && !targets.includes(c)) targets.push(c);
  }
  return targets;
}
