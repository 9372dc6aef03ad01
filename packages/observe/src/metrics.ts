import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Broker } from '@triekv/broker';
import type { Stats } from '@triekv/protocol';
import type { KvServer } from '@triekv/server';

/** Latency buckets, seconds: from 50 µs (an in-memory GET) to 5 s (a request timeout). */
const SECONDS = [
  0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5,
  5,
];

/** A registry with Node's process metrics, named `triekv_process_*`, `triekv_nodejs_*`. */
export function createRegistry(): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'triekv_' });
  return registry;
}

type Reading = number | [Record<string, string>, number][];

/**
 * A counter or gauge whose value is read from the process at scrape time (`read` gives the value, or
 * the value of each label set). A counter is set to the process's own running total.
 */
function readMetric(
  kind: 'counter' | 'gauge',
  registry: Registry,
  name: string,
  help: string,
  read: () => Reading,
  labelNames: string[] = [],
): void {
  const apply = (put: (labels: Record<string, string>, n: number) => void): void => {
    const value = read();
    if (typeof value === 'number') put({}, value);
    else for (const [labels, n] of value) put(labels, n);
  };
  const config = { name, help, labelNames, registers: [registry] };
  if (kind === 'counter')
    new Counter({
      ...config,
      collect() {
        this.reset();
        apply((labels, n) => this.inc(labels, n));
      },
    });
  else
    new Gauge({
      ...config,
      collect() {
        this.reset();
        apply((labels, n) => this.set(labels, n));
      },
    });
}

const readCounter = (...args: Parameters<typeof readGauge>): void => readMetric('counter', ...args);
function readGauge(
  registry: Registry,
  name: string,
  help: string,
  read: () => Reading,
  labelNames?: string[],
): void {
  readMetric('gauge', registry, name, help, read, labelNames);
}

const num = (stats: Stats, name: string): number => {
  const v = stats[name];
  return typeof v === 'number' ? v : 0;
};

/**
 * A kv-server's metrics (`triekv_server_*`) in `registry`: requests by type and outcome with their
 * latency, connections, keys and tombstones, bytes in and out, RESP commands, and for a durable server
 * its log and snapshot sizes, compactions and fsync latency.
 */
export function serverMetrics(registry: Registry, server: KvServer): void {
  const requests = new Counter({
    name: 'triekv_server_requests_total',
    help: 'Native protocol requests answered, by type and outcome (OK, NOT_FOUND, ERROR)',
    labelNames: ['type', 'outcome'],
    registers: [registry],
  });
  const latency = new Histogram({
    name: 'triekv_server_request_duration_seconds',
    help: 'Time the server took over a native request, by type',
    labelNames: ['type'],
    buckets: SECONDS,
    registers: [registry],
  });
  const fsyncs = new Histogram({
    name: 'triekv_server_fsync_duration_seconds',
    help: "Time of each fsync of the data directory's log",
    buckets: SECONDS,
    registers: [registry],
  });
  // One label set object per type and outcome: no object per request.
  const labels = new Map<string, { type: string; outcome: string }>();
  const typeLabels = new Map<string, { type: string }>();
  server.observe(
    (type, outcome, seconds) => {
      const key = `${type} ${outcome}`;
      let l = labels.get(key);
      if (l === undefined) labels.set(key, (l = { type, outcome }));
      requests.inc(l);
      let t = typeLabels.get(type);
      if (t === undefined) typeLabels.set(type, (t = { type }));
      latency.observe(t, seconds);
    },
    (seconds) => fsyncs.observe(seconds),
  );
  // STATS at scrape time (cheap: counters and the store's sizes).
  const stats = (): Stats => server.stats();
  const persistence = (name: string): number => {
    const p = stats().persistence;
    return typeof p === 'object' && typeof p[name] === 'number' ? p[name] : 0;
  };
  readGauge(registry, 'triekv_server_keys', 'Live records', () => num(stats(), 'keys'));
  readGauge(registry, 'triekv_server_tombstones', 'Tombstones kept', () =>
    num(stats(), 'tombstones'),
  );
  readGauge(registry, 'triekv_server_connections', 'Open connections (native and RESP)', () =>
    num(stats(), 'connections'),
  );
  readCounter(registry, 'triekv_server_connections_total', 'Connections accepted', () =>
    num(stats(), 'connectionsTotal'),
  );
  readCounter(
    registry,
    'triekv_server_connections_refused_total',
    'Connections refused (over a limit)',
    () => num(stats(), 'connectionsRefused'),
  );
  readCounter(registry, 'triekv_server_errors_total', 'Error replies and bad frames', () =>
    num(stats(), 'errors'),
  );
  readCounter(registry, 'triekv_server_bytes_in_total', 'Bytes received', () =>
    num(stats(), 'bytesIn'),
  );
  readCounter(registry, 'triekv_server_bytes_out_total', 'Bytes sent', () =>
    num(stats(), 'bytesOut'),
  );
  readCounter(
    registry,
    'triekv_server_resp_commands_total',
    'Commands on the RESP port, by command',
    () => {
      const ops = stats().ops;
      if (typeof ops !== 'object') return [];
      return Object.entries(ops)
        .filter(([type]) => type.startsWith('resp:'))
        .map(([type, n]) => [{ command: type.slice(5) }, n]);
    },
    ['command'],
  );
  readGauge(registry, 'triekv_server_log_bytes', "The data directory's log size", () =>
    persistence('logBytes'),
  );
  readGauge(registry, 'triekv_server_snapshot_bytes', "The data directory's snapshot size", () =>
    persistence('snapshotBytes'),
  );
  readCounter(
    registry,
    'triekv_server_compactions_total',
    'Compactions of the log into a snapshot',
    () => persistence('compactions'),
  );
}

/**
 * A broker's metrics (`triekv_broker_*`) in `registry`: operations by type and outcome with their
 * latency, degraded reads and under-replicated writes, each server's up/down and latency, and repair
 * and rebalance progress.
 */
export function brokerMetrics(registry: Registry, broker: Broker): void {
  const operations = new Counter({
    name: 'triekv_broker_operations_total',
    help: 'Operations through the broker, by type (get, query, put, delete, scan) and outcome (ok, not_found, error)',
    labelNames: ['op', 'outcome'],
    registers: [registry],
  });
  const latency = new Histogram({
    name: 'triekv_broker_operation_duration_seconds',
    help: 'Time of an operation through the broker, by type',
    labelNames: ['op'],
    buckets: SECONDS,
    registers: [registry],
  });
  const degraded = new Counter({
    name: 'triekv_broker_degraded_reads_total',
    help: 'Answers given while k or more servers were down (they may be wrong)',
    registers: [registry],
  });
  const short = new Counter({
    name: 'triekv_broker_under_replicated_writes_total',
    help: 'Writes acknowledged by fewer than k replicas',
    registers: [registry],
  });
  const labels = new Map<string, { op: string; outcome: string }>();
  const opLabels = new Map<string, { op: string }>();
  broker.observe((op, outcome, seconds, flags) => {
    const key = `${op} ${outcome}`;
    let l = labels.get(key);
    if (l === undefined) labels.set(key, (l = { op, outcome }));
    operations.inc(l);
    let o = opLabels.get(op);
    if (o === undefined) opLabels.set(op, (o = { op }));
    latency.observe(o, seconds);
    if (flags.degraded) degraded.inc();
    if (flags.underReplicated) short.inc();
  });
  const servers = (): { name: string; up: boolean; latencyMs: number | undefined }[] =>
    broker.cluster.connections.map((c) => ({ name: c.name, up: c.up, latencyMs: c.latencyMs }));
  readGauge(registry, 'triekv_broker_k', 'Replicas per record', () => broker.k);
  readGauge(
    registry,
    'triekv_broker_server_up',
    'Whether the broker has a working connection to the server (1) or not (0)',
    () => servers().map((s) => [{ server: s.name }, s.up ? 1 : 0]),
    ['server'],
  );
  readGauge(
    registry,
    'triekv_broker_server_latency_seconds',
    'Smoothed round trip of recent requests to the server',
    () =>
      servers()
        .filter((s) => s.latencyMs !== undefined)
        .map((s) => [{ server: s.name }, (s.latencyMs as number) / 1000]),
    ['server'],
  );
  readGauge(
    registry,
    'triekv_broker_members',
    'Servers in the membership',
    () => broker.cluster.memberConnections.length,
  );
  readGauge(
    registry,
    'triekv_broker_repair_in_progress',
    'Whether a repair pass is running (1)',
    () => (broker.repairInProgress ? 1 : 0),
  );
  readGauge(
    registry,
    'triekv_broker_rebalancing',
    'Whether data is moving after a membership change (1)',
    () => (broker.membership().rebalancing ? 1 : 0),
  );
  readGauge(
    registry,
    'triekv_broker_rebalance_entries',
    'The move this broker runs: entries read (scanned) of about how many (total), copies made and removed',
    () => {
      const p = broker.membership().progress;
      if (p === undefined) return [];
      return [
        [{ what: 'scanned' }, p.scanned],
        [{ what: 'total' }, p.total],
        [{ what: 'copied' }, p.copied],
        [{ what: 'removed' }, p.removed],
      ];
    },
    ['what'],
  );
}
