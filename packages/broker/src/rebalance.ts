import { setMaxListeners } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { compareVersions, type Member, type Membership, type Version } from '@triekv/protocol';
import type { Cluster } from './cluster.js';
import { DEFAULT_REBALANCE_RATE } from './defaults.js';
import { MembershipError, UnavailableError } from './errors.js';
import { repair, type RepairProgress } from './repair.js';
import { ServerConnection, type CallOptions } from './server-connection.js';
import type { ServerAddress } from './server-file.js';

/** A change of the member list. */
export type MembershipChange = { add: ServerAddress } | { remove: string };

/** Options of a membership change (and of `rebalance`). */
export interface RebalanceOptions extends CallOptions {
  /**
   * Change even though servers are down (their copies are not handed off; a server being removed may
   * be one of them: its keys are then copied from their other replicas). @default false
   */
  force?: boolean;
  /** Keys copied (and copies removed) per second at most. @default 20000 */
  rate?: number;
  /**
   * How long to wait after each new membership record before moving on, so that every broker has
   * taken it (they ask about every `membershipPollMs`), ms. @default 2 x membershipPollMs + 100
   */
  settleMs?: number;
  /** Called as the handoff goes (about every 1,000 keys, and at the end of each phase). */
  onProgress?: (progress: RebalanceProgress) => void;
}

/** How far a handoff is: copying keys to their new replicas, then removing copies they no longer need. */
export interface RebalanceProgress extends RepairProgress {
  phase: 'copying' | 'cleaning';
  change: string;
}

/** What a membership change (or a finished move) did. */
export interface RebalanceSummary {
  /** The membership record in use at the end (no `previous`: the move is over). */
  membership: Membership;
  change: string;
  /** Keys looked at in the two passes, copies made and copies removed. */
  keys: number;
  copied: number;
  removed: number;
  seconds: number;
  warnings: string[];
}

const describe = (m: Member): string =>
  m.name === `${m.host}:${m.port}` ? m.name : `${m.name} (${m.host}:${m.port})`;

/** The members after `change`, checked: what `changeMembership` would publish. */
function nextMembers(cluster: Cluster, change: MembershipChange): { next: Member[]; text: string } {
  const current = cluster.memberList();
  if ('add' in change) {
    const a = change.add;
    const member: Member = { name: a.name ?? `${a.host}:${a.port}`, host: a.host, port: a.port };
    const clash = current.find(
      (m) => m.name === member.name || (m.host === member.host && m.port === member.port),
    );
    if (clash !== undefined)
      throw new MembershipError(
        'ALREADY_MEMBER',
        `${describe(member)} is a member already (as ${describe(clash)})`,
      );
    return { next: [...current, member], text: `ADD ${describe(member)}` };
  }
  const leaving = current.find(
    (m) => m.name === change.remove || `${m.host}:${m.port}` === change.remove,
  );
  if (leaving === undefined)
    throw new MembershipError(
      'UNKNOWN_MEMBER',
      `no member is ${JSON.stringify(change.remove)} (members: ${current.map((m) => m.name).join(', ')})`,
    );
  const next = current.filter((m) => m !== leaving);
  if (next.length < cluster.k)
    throw new MembershipError(
      'TOO_FEW',
      `removing ${describe(leaving)} would leave ${next.length} server${next.length === 1 ? '' : 's'}, fewer than k=${cluster.k}: add a server first`,
    );
  return { next, text: `REMOVE ${describe(leaving)}` };
}

/**
 * Gives `record` to every live server (and `extra` ones): the newest record wins on each. Throws a
 * SUPERSEDED `MembershipError` (after taking the newer record) when a server holds a newer one.
 */
async function publish(
  cluster: Cluster,
  record: Membership,
  extra: readonly ServerConnection[],
  options: CallOptions | undefined,
  force = false,
): Promise<void> {
  const targets = [...cluster.connections];
  for (const c of extra) if (!targets.includes(c)) targets.push(c);
  const live = targets.filter((c) => c.up);
  const replies = await Promise.allSettled(
    live.map((c) => c.request({ type: 'MEMBERS_SET', members: record }, options)),
  );
  let acked = 0;
  let newer: Membership | undefined;
  const refused: string[] = [];
  replies.forEach((r, i) => {
    if (r.status === 'rejected') {
      refused.push(`${(live[i] as ServerConnection).name}: ${(r.reason as Error).message}`);
      return;
    }
    if (r.value.type !== 'OK') return;
    const kept = r.value.members;
    if (r.value.applied === true || kept === undefined) acked++;
    else if (compareVersions(kept.version, record.version) === 0) acked++;
    else if (newer === undefined || compareVersions(kept.version, newer.version) > 0) newer = kept;
  });
  if (newer !== undefined) {
    cluster.adopt(newer);
    throw superseded(record, newer);
  }
  if (acked === 0) throw new UnavailableError('no server took the membership record');
  // Every live server must keep the record: brokers learn it from whichever they ask.
  if (refused.length > 0 && !force)
    throw new MembershipError(
      'REFUSED',
      `${refused.join('; ')} (a server that does not keep the membership record is older than this broker: upgrade it, or change with FORCE)`,
    );
}

function superseded(ours: Membership, newer: Membership): MembershipError {
  return new MembershipError(
    'SUPERSEDED',
    `the change ${JSON.stringify(ours.change ?? '')} was superseded by a newer membership (${
      newer.change === undefined ? 'version' : JSON.stringify(newer.change)
    } at ${versionText(newer.version)}); the newer one is in use`,
  );
}

/** A version as text, `wall:counter:node`: how STATUS, INFO and the gateway's versioned commands write it. */
export function versionText(v: Version): string {
  return `${v[0]}:${v[1]}:${v[2]}`;
}

/**
 * Runs a membership change: publishes the new member list with the old one as `previous` (from then
 * on every broker writes to both placements and reads from both), copies every key whose replicas
 * changed to its new replicas (throttled to `rate`), publishes the member list alone, then removes the
 * copies on servers that are no longer a key's replicas once its replicas hold the newest version.
 */
export async function changeMembership(
  cluster: Cluster,
  change: MembershipChange,
  options: RebalanceOptions = {},
): Promise<RebalanceSummary> {
  cluster.checkOpen(options);
  await cluster.refreshMembership(options);
  if (cluster.moving) throw inProgress(cluster);
  const { next, text } = nextMembers(cluster, change);
  const down = cluster.memberConnections.filter((c) => !c.up);
  if (options.force !== true && down.length > 0) {
    const one = down.length === 1;
    throw new MembershipError(
      'SERVERS_DOWN',
      `refused: ${down.map((c) => c.name).join(', ')} ${one ? 'is' : 'are'} down, and a change now would move data without ${one ? 'it' : 'them'}; bring ${one ? 'it' : 'them'} back, or change with FORCE (the keys ${one ? 'it holds are' : 'they hold are'} then copied from their other replicas)`,
    );
  }
  // A server to add must answer, and must not belong to another cluster.
  let probe: ServerConnection | undefined;
  if ('add' in change) {
    const a = change.add;
    probe = new ServerConnection(
      { host: a.host, port: a.port, name: a.name ?? `${a.host}:${a.port}` },
      cluster.connectionOptions,
    );
    await probe.start();
    if (!probe.up) {
      probe.close();
      throw new MembershipError(
        'UNREACHABLE',
        `cannot reach ${a.host}:${a.port} to add it (is a kv-server running there?)`,
      );
    }
    const theirs = await probe.request({ type: 'MEMBERS' }, options).catch(() => undefined);
    const record = theirs?.type === 'OK' ? theirs.members : undefined;
    const ours = cluster.membership;
    if (
      record !== undefined &&
      (ours === undefined || compareVersions(record.version, ours.version) > 0)
    ) {
      probe.close();
      throw new MembershipError(
        'OTHER_CLUSTER',
        `${a.host}:${a.port} belongs to another cluster (members ${record.members.map((m) => m.name).join(', ')}): start it empty to add it here`,
      );
    }
  }
  const moving: Membership = {
    version: cluster.clock.tick(),
    members: next,
    previous: cluster.memberList(),
    change: text,
  };
  try {
    await publish(cluster, moving, probe === undefined ? [] : [probe], options, options.force);
  } catch (error) {
    // Refused by a server while others took it: the servers that did are given back the member
    // list as it was (a newer record), so the cluster is not left moving.
    if (error instanceof MembershipError && error.reason === 'REFUSED') {
      const back: Membership = {
        version: cluster.clock.tick(),
        members: moving.previous as Member[],
        change: `${text} (refused)`,
      };
      await publish(cluster, back, probe === undefined ? [] : [probe], options, true).catch(
        () => undefined,
      );
      cluster.adopt(back);
    }
    throw error;
  } finally {
    probe?.close();
  }
  cluster.adopt(moving);
  return finishMove(cluster, moving, options);
}

function inProgress(cluster: Cluster): MembershipError {
  const m = cluster.membership as Membership;
  return new MembershipError(
    'IN_PROGRESS',
    `a membership change is in progress (${m.change ?? 'a change'}, since ${new Date(m.version[0]).toISOString()}): wait for it to finish, or run REBALANCE to finish it if the broker that started it has stopped`,
  );
}

/**
 * Finishes the move of `moving` (the record in use): copies, publishes the member list alone, cleans.
 * Stops with a SUPERSEDED `MembershipError` when a newer membership appears meanwhile.
 */
export async function finishMove(
  cluster: Cluster,
  moving: Membership,
  options: RebalanceOptions = {},
): Promise<RebalanceSummary> {
  const started = performance.now();
  const change = moving.change ?? 'REBALANCE';
  const settleMs = options.settleMs ?? cluster.membershipPollMs * 2 + 100;
  const rate = options.rate ?? DEFAULT_REBALANCE_RATE;
  // A newer membership record (another broker's change) stops this one.
  const stop = new AbortController();
  // The newest record this move has made (its own are not a reason to stop).
  let ours = moving.version;
  const watch = (record: Membership): void => {
    if (compareVersions(record.version, ours) > 0) stop.abort(superseded(moving, record));
  };
  cluster.on('membership', watch);
  const signal =
    options.signal === undefined ? stop.signal : AbortSignal.any([options.signal, stop.signal]);
  // Every request of the handoff (hundreds at once) listens to it.
  setMaxListeners(0, signal);
  const report =
    (phase: RebalanceProgress['phase']) =>
    (p: RepairProgress): void =>
      options.onProgress?.({ ...p, phase, change });
  // Connections to servers that leave stay open until their copies are removed.
  const leaving = cluster.connections.filter((c) => !moving.members.some((m) => m.name === c.name));
  cluster.hold(leaving);
  try {
    // Every broker takes the record within a poll; until then some still write to the old replicas
    // only, which the copy pass then finds there.
    await sleep(settleMs, undefined, { signal });
    const copy = await repair(cluster, {
      ...options,
      signal,
      rate,
      onProgress: report('copying'),
    });
    signal.throwIfAborted();
    await cluster.refreshMembership({ signal });
    signal.throwIfAborted();
    const stable: Membership = {
      version: cluster.clock.tick(),
      members: moving.members,
      change,
    };
    ours = stable.version;
    await publish(cluster, stable, leaving, { signal }, options.force);
    cluster.adopt(stable);
    await sleep(settleMs, undefined, { signal });
    const clean = await repair(cluster, {
      ...options,
      signal,
      rate,
      also: leaving,
      onProgress: report('cleaning'),
    });
    return {
      membership: stable,
      change,
      keys: copy.keys + clean.keys,
      copied: copy.copied + clean.copied,
      removed: clean.removed,
      seconds: (performance.now() - started) / 1000,
      warnings: [...new Set([...copy.warnings, ...clean.warnings])],
    };
  } catch (error) {
    // Stopped by a newer membership: that is the error, whatever the stopped request threw.
    throw stop.signal.aborted ? (stop.signal.reason as Error) : error;
  } finally {
    cluster.off('membership', watch);
    cluster.release();
  }
}

/**
 * REBALANCE: finishes a move in progress (one whose broker stopped), or when none is, runs one repair
 * pass that also hands copies made on stand-in servers back (see `repair`).
 */
export async function rebalance(
  cluster: Cluster,
  options: RebalanceOptions = {},
): Promise<RebalanceSummary> {
  cluster.checkOpen(options);
  const record = await cluster.refreshMembership(options);
  if (record !== undefined && record.previous !== undefined)
    return finishMove(cluster, record, options);
  const started = performance.now();
  const pass = await repair(cluster, {
    ...options,
    ...(options.rate === undefined ? {} : { rate: options.rate }),
    onProgress: (p) => options.onProgress?.({ ...p, phase: 'cleaning', change: 'REBALANCE' }),
  });
  return {
    membership: record ?? {
      version: [0, 0, ''],
      members: cluster.memberList(),
    },
    change: 'REBALANCE',
    keys: pass.keys,
    copied: pass.copied,
    removed: pass.removed,
    seconds: (performance.now() - started) / 1000,
    warnings: pass.warnings,
  };
}
