import type { Broker } from '@triekv/broker';
import { waitFor } from '@triekv/test-utils';
import type { ChaosCluster, ChaosNode } from './cluster.js';
import type { NemesisEvent, UnsafeWindow } from './history.js';
import { NETWORK_FAULTS, type NetworkFault } from './network.js';

/** What the nemesis can do to one server. `kill` of a server without a data directory wipes it. */
export type FaultKind = 'kill' | 'pause' | NetworkFault;

/** Every fault the nemesis can make on a kind of network. */
export function possibleFaults(network: keyof typeof NETWORK_FAULTS): FaultKind[] {
  return ['kill', 'pause', ...NETWORK_FAULTS[network]];
}

export interface NemesisOptions {
  cluster: ChaosCluster;
  brokers: Broker[];
  k: number;
  faults: readonly FaultKind[];
  random: () => number;
  clock: () => number;
  /** Also kill k servers at once (only ones with a data directory), now and then. */
  overload: boolean;
  /** The nodes in the membership at the start (the others are spares). */
  members?: readonly ChaosNode[];
  /** Add a spare to the membership, and remove a member, now and then. */
  membership?: boolean;
  /** The start time of the oldest client operation still running. */
  oldestInFlight: () => number;
  /** Longest wait for a healed server to be seen up by every broker, ms. */
  healTimeoutMs?: number;
  /** The kind of the first fault (then shuffled rounds of all of them). */
  firstFault?: FaultKind;
}

interface Active {
  node: ChaosNode;
  kind: FaultKind;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Injects faults while the workload runs, never more than k-1 servers impaired at once (outside the
 * overload windows it records). A server is impaired from the fault until it is healed, every broker
 * sees it up, every operation that began before that has ended, and a repair has copied to it what it
 * should hold.
 */
export class Nemesis {
  readonly events: NemesisEvent[] = [];
  readonly unsafe: UnsafeWindow[] = [];
  readonly counts = new Map<string, number>();
  private readonly active = new Map<ChaosNode, Active>();
  private stopped = false;
  private loop: Promise<void> | undefined;
  private cycle: FaultKind[] = [];
  private lastOverload = -Infinity;
  private lastChange = -Infinity;
  /** Whether membership changes are taking the cluster back down to its starting size. */
  private shrinking = false;
  /** The nodes in the membership now. */
  private readonly members: Set<ChaosNode>;
  /** A heal or fault that failed (a server that never came back): the run cannot go on honestly. */
  failure: Error | undefined;

  constructor(private readonly options: NemesisOptions) {
    this.members = new Set(options.members ?? options.cluster.nodes);
  }

  start(): void {
    this.loop = this.run().catch((error: unknown) => {
      this.failure = error as Error;
    });
  }

  /** Stops making faults and heals every one still active. */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.loop;
    for (const active of [...this.active.values()]) await this.heal(active);
  }

  private note(what: string): void {
    this.events.push({ at: this.options.clock(), what });
  }

  private async run(): Promise<void> {
    const { random, k, cluster } = this.options;
    while (!this.stopped) {
      await sleep(200 + random() * 1000);
      if (this.stopped) break;
      const members = cluster.nodes.filter((n) => this.members.has(n));
      const healthy = members.filter((n) => !this.active.has(n));
      const durable = members.filter((n) => n.dataDir !== undefined);
      const roll = random();
      if (
        this.options.membership === true &&
        this.active.size === 0 &&
        this.options.clock() - this.lastChange > 4_000 &&
        roll >= 0.5
      ) {
        await this.changeMembers();
      } else if (
        this.options.overload &&
        this.active.size === 0 &&
        durable.length >= k &&
        this.options.clock() - this.lastOverload > 10_000 &&
        roll < 0.15
      ) {
        await this.overload(durable.slice(0, k));
      } else if (this.options.faults.length > 0 && this.active.size < k - 1 && roll < 0.65) {
        const node = healthy[Math.floor(random() * healthy.length)] as ChaosNode;
        await this.inject(node, this.nextKind());
      } else if (this.active.size > 0) {
        const list = [...this.active.values()];
        await this.heal(list[Math.floor(random() * list.length)] as Active);
      }
    }
  }

  /**
   * Grows the cluster by a spare at a time until every spare is a member, then shrinks it by a random
   * member at a time (which becomes a spare) back to its starting size, and so on: data moves while
   * the workload runs. Then waits until
   * every broker has the new membership with no move in progress.
   */
  private async changeMembers(): Promise<void> {
    const { cluster, brokers, random, clock } = this.options;
    const admin = brokers[0] as Broker;
    const spare = cluster.nodes.find((n) => !this.members.has(n));
    const startSize = (this.options.members ?? cluster.nodes).length;
    // Up by every spare, one at a time, then back down to the starting size, and again.
    if (spare === undefined) this.shrinking = true;
    else if (this.members.size <= startSize) this.shrinking = false;
    const shrink = this.shrinking;
    const members = [...this.members];
    const node = shrink ? (members[Math.floor(random() * members.length)] as ChaosNode) : spare;
    if (node === undefined || (shrink && this.members.size <= this.options.k)) return;
    const what = shrink ? 'remove server' : 'add server';
    this.note(`${node.name}: ${what}`);
    const done = shrink
      ? await admin.removeServer(node.name)
      : await admin.addServer(node.address(0));
    if (shrink) this.members.delete(node);
    else this.members.add(node);
    this.count(what);
    const version = done.membership.version;
    await waitFor(
      () =>
        brokers.every((b) => {
          const m = b.membership();
          return !m.rebalancing && m.version !== undefined && m.version.join() === version.join();
        }),
      `every broker to take the membership after ${what} ${node.name}`,
      this.options.healTimeoutMs ?? 20_000,
    );
    this.note(`${node.name}: ${what} done (${done.copied} copied, ${done.removed} removed)`);
    this.lastChange = clock();
  }

  /** Fault kinds in shuffled rounds, so that a short run still sees each of them. */
  private nextKind(): FaultKind {
    const first = this.options.firstFault;
    if (first !== undefined && this.counts.size === 0) return first;
    if (this.cycle.length === 0) {
      this.cycle = [...this.options.faults];
      for (let i = this.cycle.length - 1; i > 0; i--) {
        const j = Math.floor(this.options.random() * (i + 1));
        [this.cycle[i], this.cycle[j]] = [this.cycle[j] as FaultKind, this.cycle[i] as FaultKind];
      }
    }
    return this.cycle.pop() as FaultKind;
  }

  private count(what: string): void {
    this.counts.set(what, (this.counts.get(what) ?? 0) + 1);
  }

  private async inject(node: ChaosNode, kind: FaultKind): Promise<void> {
    this.active.set(node, { node, kind });
    if (kind === 'kill' || kind === 'pause') {
      const label = kind === 'kill' && node.dataDir === undefined ? 'kill (wiped)' : kind;
      this.count(label);
      if (kind === 'kill') await node.kill();
      else node.pause();
      this.note(`${node.name}: ${label}`);
      return;
    }
    const { network } = this.options.cluster;
    const brokers = this.options.brokers.length;
    const delayMs = 20 + Math.floor(this.options.random() * 200);
    // A third of the link faults cut one broker off and leave the others (an asymmetric partition).
    const one =
      network.asymmetric && brokers > 1 && this.options.random() < 1 / 3
        ? Math.floor(this.options.random() * brokers)
        : undefined;
    await network.fault(node.index, kind, delayMs, one === undefined ? undefined : [one]);
    this.count(one === undefined ? kind : `${kind} (one broker)`);
    const what = kind === 'delay' ? `delay ${delayMs} ms` : kind;
    this.note(`${node.name}: ${what}${one === undefined ? '' : ` (b${one} only)`}`);
  }

  private async undo(active: Active): Promise<void> {
    const { node, kind } = active;
    if (kind === 'kill') await this.options.cluster.revive(node);
    else if (kind === 'pause') node.resume();
    else await this.options.cluster.network.heal(node.index);
    this.note(`${node.name}: ${kind} ended`);
  }

  private async heal(active: Active): Promise<void> {
    await this.undo(active);
    await this.settle([active.node]);
    this.active.delete(active.node);
  }

  /**
   * Waits until every broker sees `nodes` up and every operation begun before then has ended (so no
   * write still in flight was sent around them), then repairs until a pass reaches all of them.
   */
  private async settle(nodes: ChaosNode[]): Promise<void> {
    const { brokers, clock } = this.options;
    const names = nodes.map((n) => n.name).join(', ');
    const timeout = this.options.healTimeoutMs ?? 20_000;
    const seenUp = (what: string): Promise<unknown> =>
      waitFor(
        () =>
          nodes.every((n) =>
            brokers.every((b) => b.cluster.connections.find((c) => c.name === n.name)?.up === true),
          ),
        `every broker to see ${names} up${what}`,
        timeout,
      );
    await seenUp('');
    const upAt = clock();
    await waitFor(
      () => this.options.oldestInFlight() > upAt,
      `operations begun before ${names} came back to end`,
      timeout,
    );
    for (let pass = 1; ; pass++) {
      const summary = await (brokers[0] as Broker).repair();
      const skipped = summary.warnings.filter((w) => nodes.some((n) => w.startsWith(`${n.name} `)));
      if (skipped.length === 0) {
        this.note(`${names}: repaired (${summary.copied} copied)`);
        return;
      }
      if (pass === 5) throw new Error(`repair kept skipping ${names}: ${skipped.join('; ')}`);
      await seenUp(' again');
    }
  }

  /** Kills k servers with data directories at once, then brings them back: an unsafe window. */
  private async overload(nodes: ChaosNode[]): Promise<void> {
    const start = this.options.clock();
    this.count('overload');
    this.note(`overload: kill ${nodes.map((n) => n.name).join(', ')} (k servers at once)`);
    await Promise.all(nodes.map((n) => n.kill()));
    await sleep(500 + this.options.random() * 1500);
    for (const node of nodes) await this.options.cluster.revive(node);
    this.note(`overload: ${nodes.map((n) => n.name).join(', ')} back`);
    await this.settle(nodes);
    this.lastOverload = this.options.clock();
    this.unsafe.push({ start, end: this.options.clock() });
  }
}
