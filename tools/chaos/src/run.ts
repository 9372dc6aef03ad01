import { Broker } from '@triekv/broker';
import { readFileSync, rmSync } from 'node:fs';
import { makeCertificates, seededRandom } from '@triekv/test-utils';
import { check, explain, type CheckResult, type ViolationKind } from './checker.js';
import { ChaosCluster } from './cluster.js';
import type { History, Op } from './history.js';
import { Nemesis, possibleFaults, type FaultKind } from './nemesis.js';
import { LoopbackNetwork, NetnsNetwork, type Network } from './network.js';
import { Workload, type Target } from './workload.js';
import { RespTarget } from './resp-target.js';
import { createGateway, type Gateway } from '@triekv/gateway';

export interface ChaosOptions {
  seed: number;
  /** How long the workload runs under faults, ms (healing and the final reads come after). */
  durationMs: number;
  servers: number;
  k: number;
  /** Servers (the first ones) with a data directory; the others lose everything when killed. */
  durable: number;
  brokers: number;
  clientsPerBroker: number;
  /**
   * How the workload reaches each broker: `broker` calls it in this process; `gateway` puts a RESP
   * gateway in front of it and goes through a Redis connection (triekv's versioned KV.V* commands).
   */
  via?: 'broker' | 'gateway';
  keys: number;
  network: 'loopback' | 'netns';
  /** Kill k durable servers at once now and then (reads must then warn or be right). */
  overload: boolean;
  /**
   * Grow and shrink the cluster now and then: `spares` more servers (default 1) are started outside
   * the membership; the nemesis adds them one at a time (ADD SERVER), then removes members one at a
   * time (REMOVE SERVER) back to `servers`, data moving under load.
   */
  membership?: boolean;
  spares?: number;
  /**
   * TLS between brokers and servers (certificates made with openssl for the run; loopback network only:
   * the server certificate names 127.0.0.1).
   */
  tls?: boolean;
  /** The kind of the first fault (default: the first of a shuffled round). */
  firstFault?: FaultKind;
  /** The single-server faults to make (default: kill, pause and every fault of the network). */
  faults?: FaultKind[];
  /** Progress lines (to stderr in the CLI). */
  log?: (line: string) => void;
  /** Ends the faulty part early (Ctrl-C): faults are healed and the history checked as usual. */
  signal?: AbortSignal;
}

export const DEFAULT_CHAOS: Omit<ChaosOptions, 'seed'> = {
  durationMs: 60_000,
  servers: 5,
  k: 3,
  durable: 3,
  brokers: 2,
  clientsPerBroker: 4,
  keys: 200,
  network: 'loopback',
  overload: true,
  membership: true,
};

export interface ChaosReport {
  seed: number;
  options: Omit<ChaosOptions, 'log' | 'signal'>;
  network: string;
  /** Wall time of the whole run, ms. */
  elapsedMs: number;
  ops: number;
  opsPerSecond: number;
  outcomes: Record<string, number>;
  faults: Record<string, number>;
  /** What the checker saw; `violations` counts them all (the first five are listed below). */
  check: Omit<CheckResult, 'violations'> & { violations: number };
  violations: { kind: ViolationKind; key: string; message: string; history: string[] }[];
  /** Servers that died without being killed. */
  crashes: string[];
  /** Why the run could not go on (a server that never came back), if so. */
  failure?: string;
  history: History;
}

/** Whether a report shows the guarantees held. */
export function passed(report: ChaosReport): boolean {
  return (
    report.check.violations === 0 && report.crashes.length === 0 && report.failure === undefined
  );
}

/**
 * One torture run: a cluster of real kv-server processes, brokers in this process running the workload,
 * the nemesis injecting faults, then every fault healed, every key read once more through every broker,
 * and the history checked.
 */
export async function runChaos(options: ChaosOptions): Promise<ChaosReport> {
  const log = options.log ?? (() => undefined);
  const began = performance.now();
  const clock = (): number => performance.now() - began;
  const network: Network =
    options.network === 'netns' ? new NetnsNetwork() : new LoopbackNetwork(options.brokers);
  const certs = options.tls === true ? makeCertificates() : undefined;
  const cluster = await ChaosCluster.start({
    count: options.servers + (options.membership === true ? (options.spares ?? 1) : 0),
    durable: options.durable,
    network,
    ...(certs === undefined
      ? {}
      : { serverArgs: ['--tls-cert', certs.serverCert, '--tls-key', certs.serverKey] }),
  });
  // The spare (the last node, when membership changes are on) starts outside the membership.
  const seeds = cluster.nodes.slice(0, options.servers);
  const brokers: Broker[] = [];
  const gateways: Gateway[] = [];
  const targets: Target[] = [];
  const ops: Op[] = [];
  let nemesis: Nemesis | undefined;
  let failure: string | undefined;
  try {
    for (let b = 0; b < options.brokers; b++) {
      const broker = new Broker({
        servers: seeds.map((n) => n.address(b)),
        // A member learnt from the membership record is dialled through this broker's own proxy.
        resolveMember: (m) => cluster.nodes.find((n) => n.name === m.name)?.address(b) ?? m,
        membershipPollMs: 250,
        ...(certs === undefined ? {} : { tls: { ca: readFileSync(certs.ca) } }),
        k: options.k,
        nodeId: `b${b}`,
        requestTimeoutMs: 1_000,
        // A paused or cut-off server is taken as down within about 1.5 s (a timeout alone does not).
        heartbeatMs: 250,
        heartbeatTimeoutMs: 1_000,
        connectTimeoutMs: 500,
        reconnectMinMs: 50,
        reconnectMaxMs: 500,
      });
      broker.on('repairFailed', () => undefined);
      brokers.push(broker);
      await broker.start();
    }
    // Through gateways: each broker serves RESP, and the workload's clients reach it over a socket.
    if (options.via === 'gateway')
      for (const broker of brokers) {
        const gateway = createGateway({ broker, port: 0 });
        await gateway.listen();
        gateways.push(gateway);
        targets.push(await RespTarget.connect(gateway.address().port, broker.k));
      }
    else targets.push(...brokers);
    const keys = Array.from({ length: options.keys }, (_, i) => `key${i}`);
    const workload = new Workload({
      brokers: targets,
      clientsPerBroker: options.clientsPerBroker,
      keys,
      random: seededRandom(options.seed),
      clock,
      record: (op) => ops.push(op),
    });
    const possible = possibleFaults(options.network);
    const faults: FaultKind[] = options.faults ?? possible;
    const unsupported = faults.filter((f) => !possible.includes(f));
    if (unsupported.length > 0)
      throw new Error(
        `the ${network.name} network cannot make ${unsupported.join(', ')} (it makes ${network.faults.join(', ')})`,
      );
    nemesis = new Nemesis({
      cluster,
      brokers,
      k: options.k,
      faults,
      random: seededRandom(options.seed ^ 0x5bd1e995),
      clock,
      overload: options.overload,
      members: seeds,
      membership: options.membership === true,
      oldestInFlight: () => workload.oldestInFlight(),
      ...(options.firstFault === undefined ? {} : { firstFault: options.firstFault }),
    });
    log(
      `chaos: seed ${options.seed}, ${options.servers} servers (${options.durable} with a data directory) on ${network.name}, k=${options.k}, ${options.brokers} brokers × ${options.clientsPerBroker} clients, ${options.keys} keys, ${Math.round(options.durationMs / 1000)} s; ${options.tls === true ? 'TLS; ' : ''}faults: ${[...faults, ...(options.overload ? ['overload'] : []), ...(options.membership === true ? ['add/remove server'] : [])].join(', ') || 'none'}`,
    );
    workload.start();
    nemesis.start();
    const deadline = began + options.durationMs;
    let lastLog = performance.now();
    while (
      performance.now() < deadline &&
      nemesis.failure === undefined &&
      options.signal?.aborted !== true
    ) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      if (cluster.crashes().length > 0) break;
      if (performance.now() - lastLog >= 5_000) {
        lastLog = performance.now();
        log(
          `chaos: ${Math.round(clock() / 1000)} s, ${workload.completed} operations, faults so far: ${describe(nemesis.counts)}`,
        );
      }
    }
    await workload.stop();
    await nemesis.stop();
    if (nemesis.failure !== undefined) throw nemesis.failure;
    log('chaos: all faults healed; reading every key through every broker');
    for (const [b, target] of targets.entries())
      for (const key of keys) await workload.run(target, `b${b}`, 'get', key);
  } catch (error) {
    failure = (error as Error).message;
  } finally {
    for (const t of targets) if (t instanceof RespTarget) t.close();
    await Promise.all(gateways.map((g) => g.close()));
    await Promise.all(brokers.map((b) => b.close()));
  }
  const crashes = cluster.crashes();
  await cluster.close();
  if (certs !== undefined) rmSync(certs.dir, { recursive: true, force: true });
  const history: History = {
    k: options.k,
    ops,
    events: nemesis?.events ?? [],
    unsafe: nemesis?.unsafe ?? [],
  };
  const result = check(history);
  const outcomes: Record<string, number> = {};
  for (const op of ops) {
    const label = `${op.kind} ${op.outcome}`;
    outcomes[label] = (outcomes[label] ?? 0) + 1;
  }
  const elapsedMs = performance.now() - began;
  const { log: _log, signal: _signal, ...plain } = options;
  return {
    seed: options.seed,
    options: plain,
    network: network.name,
    elapsedMs,
    ops: ops.length,
    opsPerSecond: ops.length / (elapsedMs / 1000),
    outcomes,
    faults: Object.fromEntries(nemesis?.counts ?? []),
    check: {
      reads: result.reads,
      scans: result.scans,
      strict: result.strict,
      warned: result.warned,
      writes: result.writes,
      violations: result.violations.length,
    },
    violations: result.violations.slice(0, 5).map((v) => ({
      kind: v.kind,
      key: v.key,
      message: v.message,
      history: explain(history, v),
    })),
    crashes,
    ...(failure === undefined ? {} : { failure }),
    history,
  };
}

function describe(counts: Map<string, number>): string {
  if (counts.size === 0) return 'none';
  return [...counts].map(([k, n]) => `${k} ${n}`).join(', ');
}
