import { compareVersions, type ExportEntry } from '@triekv/protocol';
import type { ClusterView } from './cluster.js';
import { DEFAULT_REPAIR_PAGE } from './defaults.js';
import type { CallOptions, ServerConnection } from './server-connection.js';

/** What a repair did, per server. */
export interface RepairSummary {
  keys: number;
  copied: number;
  servers: { server: string; copied: number }[];
  /** Servers the pass left out, and why (down when it started, or failed during it). */
  skipped: { server: string; reason: string }[];
  warnings: string[];
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
export async function repair(cluster: ClusterView, options?: CallOptions): Promise<RepairSummary> {
  cluster.checkOpen();
  const signal = options?.signal;
  // A server that has just come back may not be seen as up yet: each one that is down gets one
  // connection attempt now, so that a repair started right after a restart includes it.
  await Promise.all(cluster.connections.map((c) => c.reconnectNow()));
  signal?.throwIfAborted();
  const live = cluster.connections.filter((c) => c.up);
  const down = cluster.connections.filter((c) => !c.up);
  const cursors = live.map((c) => new ExportCursor(c, options));
  const copiedBy = new Map<ServerConnection, number>(live.map((c) => [c, 0]));
  const failed = new Map<ServerConnection, string>();
  let keys = 0;
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
      }
    });
    let best: ExportEntry | undefined;
    for (const e of holders.values())
      if (best === undefined || compareVersions(e.version, best.version) > 0) best = e;
    const entry = best as ExportEntry;
    const targets = replicasFor(cluster, entry.key, holders);
    await Promise.all(
      targets.map(async (target) => {
        const have = holders.get(target);
        if (have !== undefined && compareVersions(have.version, entry.version) >= 0) return;
        if (failed.has(target)) return;
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
        } catch (error) {
          // A server that fails mid-repair is skipped; the next repair (it runs again when the server
          // comes back) catches it up.
          failed.set(target, (error as Error).message);
        }
      }),
    );
  }
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
    servers,
    skipped,
    warnings: [...warnings, ...cluster.downWarnings()],
  };
}

function replicasFor(
  cluster: ClusterView,
  key: string,
  holders: Map<ServerConnection, ExportEntry>,
): ServerConnection[] {
  // Under hash, the key's first k live servers: where writes go and reads look.
  if (cluster.placement === 'hash') return cluster.writeTargets(key);
  const targets = [...holders.keys()].filter((c) => c.up);
  for (const c of cluster.connections) {
    if (targets.length >= cluster.k) break;
    if (c.up && !targets.includes(c)) targets.push(c);
  }
  return targets;
}
