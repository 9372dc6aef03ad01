import { DeleteRefusedError, UnavailableError } from '@triekv/broker';
import type { Version } from '@triekv/protocol';
import type { Doc, Path, Value } from '@triekv/record';
import { isWriteKind, type Op, type OpKind } from './history.js';

/** The paths QUERY asks for inside a record; `a.b` exists in about half the documents written. */
const QUERY_PATHS: readonly string[][] = [['n'], ['a', 'b'], ['a'], ['by']];

interface ReadAnswer {
  found: boolean;
  value?: Value;
  version?: Version;
  servers: string[];
  warnings: string[];
}

/**
 * What the workload runs its operations against: a `Broker` in this process, or a gateway reached over
 * RESP (`RespTarget`), answering alike.
 */
export interface Target {
  readonly k: number;
  put(
    key: string,
    value: Doc,
  ): Promise<{ version: Version; replicas: number; servers: string[]; warnings: string[] }>;
  delete(
    key: string,
  ): Promise<{ version: Version; found?: boolean; servers: string[]; warnings: string[] }>;
  scan(prefix: string, limit: number): Promise<{ keys: string[]; warnings: string[] }>;
  get(key: string): Promise<ReadAnswer>;
  query(path: Path): Promise<ReadAnswer>;
}

export interface WorkloadOptions {
  brokers: Target[];
  clientsPerBroker: number;
  keys: readonly string[];
  random: () => number;
  /** ms since the run began. */
  clock: () => number;
  /** Where finished operations go. */
  record: (op: Op) => void;
}

/**
 * Clients that each run one operation at a time, as fast as the cluster answers, over a small key space
 * so that writes and reads of one key overlap: PUT 35%, GET 25%, QUERY 23%, SCAN 2%, DELETE 15%. Every document
 * written is unique (`n` counts writes across the run), so a read names the write it saw.
 */
export class Workload {
  private stopped = false;
  private readonly running: Promise<void>[] = [];
  private nextOp = 1;
  private nextValue = 1;
  /** Start times of the operations in flight. */
  private readonly inFlight = new Set<{ at: number }>();
  completed = 0;

  constructor(private readonly options: WorkloadOptions) {}

  start(): void {
    this.options.brokers.forEach((broker, b) => {
      for (let c = 0; c < this.options.clientsPerBroker; c++)
        this.running.push(this.client(broker, `b${b}c${c}`));
    });
  }

  /** Lets every client finish its current operation, then resolves. */
  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.all(this.running);
  }

  /** The start time of the oldest operation still running (Infinity when none is). */
  oldestInFlight(): number {
    let oldest = Infinity;
    for (const op of this.inFlight) oldest = Math.min(oldest, op.at);
    return oldest;
  }

  /** Runs one operation against `broker` as `client` and records it. */
  async run(
    broker: Target,
    client: string,
    kind: OpKind,
    key: string,
    extra: { value?: Doc; path?: string[] } = {},
  ): Promise<Op> {
    const { clock } = this.options;
    const marker = { at: clock() };
    this.inFlight.add(marker);
    const op: Op = {
      id: this.nextOp++,
      client,
      kind,
      key,
      ...extra,
      invokeAt: marker.at,
      completeAt: 0,
      outcome: 'ok',
      warnings: [],
    };
    try {
      if (kind === 'put') {
        const r = await broker.put(key, extra.value as Doc);
        op.version = r.version;
        op.full = r.replicas >= broker.k;
        op.servers = r.servers;
        op.warnings = r.warnings;
      } else if (kind === 'delete') {
        const r = await broker.delete(key);
        op.version = r.version;
        op.found = r.found === true;
        op.full = !r.warnings.some((w) => w.startsWith('deleted on'));
        op.servers = r.servers;
        op.warnings = r.warnings;
      } else if (kind === 'scan') {
        const r = await broker.scan(key, 10_000);
        op.keys = r.keys;
        op.warnings = r.warnings;
      } else {
        const r =
          kind === 'get' ? await broker.get(key) : await broker.query([key, ...(extra.path ?? [])]);
        op.found = r.found;
        op.servers = r.servers;
        if (r.value !== undefined) op.result = r.value;
        if (r.version !== undefined) op.version = r.version;
        op.warnings = r.warnings;
      }
    } catch (error) {
      op.error = (error as Error).message;
      if (error instanceof UnavailableError && error.version !== undefined) {
        op.outcome = 'unknown';
        op.version = error.version;
      } else if (error instanceof DeleteRefusedError || error instanceof UnavailableError) {
        op.outcome = 'fail';
      } else {
        op.outcome = isWriteKind(kind) ? 'unknown' : 'fail';
      }
    } finally {
      this.inFlight.delete(marker);
    }
    op.completeAt = clock();
    this.completed++;
    this.options.record(op);
    return op;
  }

  private async client(broker: Target, name: string): Promise<void> {
    const { random, keys } = this.options;
    while (!this.stopped) {
      const key = keys[Math.floor(random() * keys.length)] as string;
      const roll = random();
      if (roll < 0.35) await this.run(broker, name, 'put', key, { value: this.document(name) });
      else if (roll < 0.6) await this.run(broker, name, 'get', key);
      else if (roll < 0.83)
        await this.run(broker, name, 'query', key, {
          path: QUERY_PATHS[Math.floor(random() * QUERY_PATHS.length)] as string[],
        });
      else if (roll < 0.85)
        // A prefix that matches about a tenth of the keys (key1, key10..key19, key100..key199).
        await this.run(broker, name, 'scan', `key${1 + Math.floor(random() * 9)}`);
      else await this.run(broker, name, 'delete', key);
      // An operation refused at once (every server down) settles without I/O: without this, clients
      // would spin on microtasks and starve the timers that heal the cluster.
      await new Promise((resolve) => setImmediate(resolve));
    }
  }

  private document(client: string): Doc {
    const n = this.nextValue++;
    const doc = new Map<string, Value>([
      ['n', n],
      ['by', client],
    ]);
    if (this.options.random() < 0.5)
      doc.set(
        'a',
        new Map<string, Value>([
          ['b', n * 2],
          ['c', `v${n}`],
        ]),
      );
    return doc;
  }
}
