import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { ServerAddress } from '@triekv/broker';
import type { SpawnOptions } from '@triekv/test-utils';
import { FaultProxy } from './proxy.js';

const run = promisify(execFile);

/** A fault of the network between the brokers and one server. */
export type NetworkFault = 'delay' | 'drop' | 'blackhole' | 'partition';

/** The link faults each kind of network can make. */
export const NETWORK_FAULTS = {
  loopback: ['delay', 'drop', 'blackhole'],
  netns: ['partition'],
} as const satisfies Record<string, readonly NetworkFault[]>;

/**
 * Where the servers of a torture run live and how their links fail. The brokers always run in this
 * process; `addresses[b]` of server i is what broker b dials to reach it, whatever port it listens on.
 */
export interface Network {
  readonly name: string;
  /** The link faults this network can make. */
  readonly faults: readonly NetworkFault[];
  /** Whether a fault can cut one broker's link to a server and not the others'. */
  readonly asymmetric: boolean;
  /** Prepares server i's place; `spawn` is how to start it there. */
  add(i: number): Promise<{ spawn: SpawnOptions; addresses: ServerAddress[] }>;
  /** Server i now listens on `port` (after a restart). */
  moved(i: number, port: number): void;
  /** Breaks the links of server i: every broker's, or only those of `brokers`. */
  fault(i: number, fault: NetworkFault, delayMs: number, brokers?: number[]): Promise<void>;
  heal(i: number): Promise<void>;
  close(): Promise<void>;
}

/**
 * Every server on 127.0.0.1 behind fault proxies (delay, drop, blackhole): one per broker, so a fault
 * can cut one broker off from a server while another still reaches it.
 */
export class LoopbackNetwork implements Network {
  readonly name = 'loopback';
  readonly faults = NETWORK_FAULTS.loopback;
  readonly asymmetric = true;
  /** proxies[i][b]: broker b's link to server i. */
  private readonly proxies: FaultProxy[][] = [];

  constructor(private readonly brokers = 1) {}

  async add(i: number): Promise<{ spawn: SpawnOptions; addresses: ServerAddress[] }> {
    const links = Array.from({ length: this.brokers }, () => new FaultProxy(0));
    this.proxies[i] = links;
    const ports = await Promise.all(links.map((p) => p.listen()));
    return { spawn: {}, addresses: ports.map((port) => ({ host: '127.0.0.1', port })) };
  }

  moved(i: number, port: number): void {
    for (const proxy of this.links(i)) proxy.setUpstream(port);
  }

  fault(i: number, fault: NetworkFault, delayMs: number, brokers?: number[]): Promise<void> {
    const links = this.links(i).filter((_, b) => brokers === undefined || brokers.includes(b));
    for (const proxy of links) {
      if (fault === 'delay') proxy.setMode({ kind: 'delay', ms: delayMs });
      else if (fault === 'drop') proxy.setMode({ kind: 'drop' });
      else if (fault === 'blackhole') proxy.setMode({ kind: 'blackhole' });
      else throw new Error(`the loopback network cannot make a ${fault}`);
    }
    return Promise.resolve();
  }

  heal(i: number): Promise<void> {
    for (const proxy of this.links(i)) proxy.setMode({ kind: 'pass' });
    return Promise.resolve();
  }

  async close(): Promise<void> {
    await Promise.all(this.proxies.flat().map((p) => p.close()));
  }

  private links(i: number): FaultProxy[] {
    const links = this.proxies[i];
    if (links === undefined) throw new Error(`no server ${i}`);
    return links;
  }
}

/** The port every server listens on inside its own namespace (the namespace is the test's alone). */
const NETNS_PORT = 7000;

/**
 * Every server in its own Linux network namespace (a host of its own), linked to this one by a veth
 * pair on a /24 of its own: this side 10.<net>.<i>.1, the server 10.<net>.<i>.2. A partition takes this
 * side's link down (routes and connections to that host fail) and healing brings it back up. Needs root
 * (CAP_NET_ADMIN and CAP_SYS_ADMIN): see `NetnsNetwork.available()`.
 */
export class NetnsNetwork implements Network {
  readonly name = 'netns';
  readonly faults = NETWORK_FAULTS.netns;
  /** One link per host, shared by every broker in this process. */
  readonly asymmetric = false;
  private readonly hosts: number[] = [];
  private readonly tag: string;
  private readonly net: number;

  constructor(tag = `${process.pid % 10_000}`) {
    this.tag = tag;
    // A second octet from the pid keeps concurrent runs apart (10.64.0.0 – 10.127.0.0).
    this.net = 64 + (process.pid % 64);
  }

  /** Whether this process may make namespaces; the reason when not. */
  static async available(): Promise<{ ok: true } | { ok: false; reason: string }> {
    if (process.platform !== 'linux') return { ok: false, reason: 'network namespaces need Linux' };
    if (process.getuid?.() !== 0)
      return { ok: false, reason: 'creating network namespaces needs root' };
    const probe = `tkv-probe-${process.pid}`;
    try {
      await run('ip', ['netns', 'add', probe]);
      await run('ip', ['netns', 'del', probe]);
      return { ok: true };
    } catch (error) {
      return {
        ok: false,
        reason: `ip netns add failed: ${((error as Error).message.split('\n')[0] ?? '').trim()}`,
      };
    }
  }

  async add(i: number): Promise<{ spawn: SpawnOptions; addresses: ServerAddress[] }> {
    const ns = this.ns(i);
    const outer = this.link(i);
    const inner = `${outer}p`;
    await run('ip', ['netns', 'add', ns]);
    this.hosts.push(i);
    await run('ip', ['link', 'add', outer, 'type', 'veth', 'peer', 'name', inner]);
    await run('ip', ['link', 'set', inner, 'netns', ns]);
    await run('ip', ['addr', 'add', `10.${this.net}.${i}.1/24`, 'dev', outer]);
    await run('ip', ['link', 'set', outer, 'up']);
    const inNs = (...args: string[]): Promise<unknown> => run('ip', ['netns', 'exec', ns, ...args]);
    await inNs('ip', 'addr', 'add', `10.${this.net}.${i}.2/24`, 'dev', inner);
    await inNs('ip', 'link', 'set', inner, 'up');
    await inNs('ip', 'link', 'set', 'lo', 'up');
    const host = `10.${this.net}.${i}.2`;
    return {
      spawn: { address: host, port: NETNS_PORT, prefix: ['ip', 'netns', 'exec', ns] },
      addresses: [{ host, port: NETNS_PORT }],
    };
  }

  moved(): void {
    // Servers listen on the same port of their own host after a restart.
  }

  async fault(i: number, fault: NetworkFault): Promise<void> {
    if (fault !== 'partition') throw new Error(`the netns network cannot make a ${fault}`);
    await run('ip', ['link', 'set', this.link(i), 'down']);
  }

  async heal(i: number): Promise<void> {
    await run('ip', ['link', 'set', this.link(i), 'up']);
  }

  async close(): Promise<void> {
    for (const i of this.hosts.splice(0)) {
      // Deleting the namespace removes its end of the pair, and with it this end.
      await run('ip', ['link', 'del', this.link(i)]).catch(() => undefined);
      await run('ip', ['netns', 'del', this.ns(i)]).catch(() => undefined);
    }
  }

  private ns(i: number): string {
    return `tkv${this.tag}h${i}`;
  }

  private link(i: number): string {
    return `tkv${this.tag}v${i}`;
  }
}
