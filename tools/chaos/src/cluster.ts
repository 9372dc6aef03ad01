import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ServerAddress } from '@triekv/broker';
import { startServerProcess, type ServerProcess, type SpawnOptions } from '@triekv/test-utils';
import type { Network } from './network.js';

/** One server of a torture run: a real kv-server process, killed, paused and restarted at will. */
export class ChaosNode {
  private process: ServerProcess | undefined;
  private expectedExit = false;
  /** Set when the process ended without being killed: a server must never die of what it was sent. */
  crash: string | undefined;
  paused = false;

  constructor(
    readonly index: number,
    /** What each broker dials (its proxy in front of the server, or the server's own host). */
    private readonly addresses: ServerAddress[],
    private readonly spawn: SpawnOptions,
    /** Kept in a data directory (survives a kill), or in memory only (comes back empty). */
    readonly dataDir: string | undefined,
    /** More kv-server flags (TLS). */
    private readonly extraArgs: string[] = [],
  ) {}

  get name(): string {
    return `s${this.index}`;
  }

  /**
   * What broker `b` dials to reach this server, named `sN` for every broker: brokers dial different
   * proxies, but must place keys alike (placement hashes the name).
   */
  address(b: number): ServerAddress {
    return { ...((this.addresses[b] ?? this.addresses[0]) as ServerAddress), name: this.name };
  }

  get running(): boolean {
    return this.process !== undefined;
  }

  /** Starts the process; resolves with the port it listens on. */
  async start(): Promise<number> {
    const args = [
      ...(this.dataDir === undefined ? [] : ['--data-dir', this.dataDir, '--fsync', 'batch']),
      ...this.extraArgs,
    ];
    // Its own process group: Ctrl-C stops the run (which heals and checks), not the servers under it.
    const proc = await startServerProcess(args, process.env, { ...this.spawn, detached: true });
    this.process = proc;
    this.expectedExit = false;
    this.paused = false;
    void proc.exited.then((code) => {
      if (!this.expectedExit && this.process === proc) {
        const log = proc.stderr().trim().slice(-2000);
        this.crash = `${this.name} exited (${code}) without being killed${log === '' ? ' (no log output)' : `: ${log}`}`;
        this.process = undefined;
      }
    });
    return proc.port;
  }

  /** SIGKILL, and waits until the process is gone. */
  async kill(): Promise<void> {
    const proc = this.process;
    if (proc === undefined) return;
    this.expectedExit = true;
    proc.kill('SIGKILL');
    await proc.exited;
    this.process = undefined;
    this.paused = false;
  }

  pause(): void {
    this.process?.kill('SIGSTOP');
    this.paused = true;
  }

  resume(): void {
    this.process?.kill('SIGCONT');
    this.paused = false;
  }

  /** The server's log so far (warnings and errors only). */
  stderr(): string {
    return this.process?.stderr() ?? '';
  }
}

/** `count` servers, the first `durable` of them with a data directory, on `network`. */
export class ChaosCluster {
  private constructor(
    readonly nodes: ChaosNode[],
    readonly network: Network,
    private readonly root: string,
  ) {}

  static async start(options: {
    count: number;
    durable: number;
    network: Network;
    /** More flags for every kv-server (TLS). */
    serverArgs?: string[];
  }): Promise<ChaosCluster> {
    const root = mkdtempSync(join(tmpdir(), 'triekv-chaos-'));
    const nodes: ChaosNode[] = [];
    const cluster = new ChaosCluster(nodes, options.network, root);
    try {
      for (let i = 0; i < options.count; i++) {
        const { spawn, addresses } = await options.network.add(i);
        const dataDir = i < options.durable ? join(root, `s${i}`) : undefined;
        const node = new ChaosNode(i, addresses, spawn, dataDir, options.serverArgs);
        nodes.push(node);
        options.network.moved(i, await node.start());
      }
    } catch (error) {
      await cluster.close();
      throw error;
    }
    return cluster;
  }

  /** Starts a killed server again (from its data directory when it has one). */
  async revive(node: ChaosNode): Promise<void> {
    this.network.moved(node.index, await node.start());
  }

  /** Servers that ended on their own. */
  crashes(): string[] {
    return this.nodes.flatMap((n) => (n.crash === undefined ? [] : [n.crash]));
  }

  /** Stops every server (resuming paused ones first), the network, and removes the data. */
  async close(): Promise<void> {
    for (const node of this.nodes) {
      if (node.paused) node.resume();
      await node.kill();
    }
    await this.network.close();
    rmSync(this.root, { recursive: true, force: true });
  }
}
