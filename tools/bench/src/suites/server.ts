import type { Redis as RedisClient } from 'ioredis';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import type { Version } from '@triekv/protocol';
import { formatRecord, type KvRecord } from '@triekv/record';
import { generatedRecords } from '../fixtures.js';
import { RawClient, hasOpenssl, makeCertificates, startServerProcess } from '@triekv/test-utils';
import { printTable, writeResults } from '../report.js';

const RECORDS = 10_000;

/** One client connection able to GET and PUT a record, whatever the server. */
interface Client {
  get(key: string): Promise<unknown>;
  put(record: KvRecord): Promise<unknown>;
  close(): Promise<void>;
}

interface Scenario {
  name: string;
  connections: number;
  /** Requests each connection keeps in flight. */
  depth: number;
  ops: number;
}

/** The loads measured over TLS too. */
const TLS_SCENARIOS: Scenario[] = [
  { name: '50 connections', connections: 50, depth: 1, ops: 100_000 },
  { name: '1 connection, pipeline depth 16', connections: 1, depth: 16, ops: 100_000 },
];

const SCENARIOS: Scenario[] = [
  { name: '1 connection, unpipelined', connections: 1, depth: 1, ops: 20_000 },
  { name: '50 connections', connections: 50, depth: 1, ops: 100_000 },
  { name: '1 connection, pipeline depth 16', connections: 1, depth: 16, ops: 100_000 },
];

interface Result {
  opsPerSecond: number;
  p50us: number;
  p99us: number;
}

/** Runs `ops` operations spread over the clients, each keeping `depth` in flight; times every one. */
async function drive(
  clients: Client[],
  depth: number,
  ops: number,
  op: (c: Client, i: number) => Promise<unknown>,
): Promise<Result> {
  const latencies = new Float64Array(ops);
  let next = 0;
  const start = process.hrtime.bigint();
  const lane = async (c: Client): Promise<void> => {
    for (;;) {
      const i = next++;
      if (i >= ops) return;
      const t = process.hrtime.bigint();
      await op(c, i);
      latencies[i] = Number(process.hrtime.bigint() - t) / 1000;
    }
  };
  await Promise.all(clients.flatMap((c) => Array.from({ length: depth }, () => lane(c))));
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  const sorted = latencies.sort();
  return {
    opsPerSecond: ops / seconds,
    p50us: sorted[Math.floor(ops * 0.5)] as number,
    p99us: sorted[Math.floor(ops * 0.99)] as number,
  };
}

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

export async function startRedis(): Promise<{ port: number; child: ChildProcess } | undefined> {
  if (spawnSync('redis-server', ['--version']).error !== undefined) return undefined;
  const port = await freePort();
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  let out = '';
  await new Promise<void>((resolve, reject) => {
    child.stdout?.on('data', (c: Buffer) => {
      out += c.toString();
      if (out.includes('Ready to accept connections')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`redis-server exited (${code}): ${out}`)));
  });
  return { port, child };
}

async function ourClients(port: number, n: number, tls?: { ca: Buffer }): Promise<Client[]> {
  const version: Version = [Date.now(), 0, 'bench'];
  return Promise.all(
    Array.from({ length: n }, async () => {
      const raw =
        tls === undefined ? await RawClient.connect(port) : await RawClient.connectTls(port, tls);
      return {
        get: (key: string) => raw.request({ type: 'GET', key }),
        put: (r: KvRecord) => raw.request({ type: 'PUT', key: r.key, value: r.value, version }),
        close: () => raw.close(),
      };
    }),
  );
}

/**
 * ioredis, loaded only once our rows are measured: loading it subclasses String, which makes V8 run
 * every charCodeAt in the process about twice as slowly (our codec's string writer among them).
 */
export async function loadRedis(): Promise<typeof RedisClient> {
  return (await import('ioredis')).Redis;
}

async function redisClients(port: number, n: number): Promise<Client[]> {
  const Redis = await loadRedis();
  return Promise.all(
    Array.from({ length: n }, async () => {
      const redis = new Redis({
        port,
        host: '127.0.0.1',
        lazyConnect: true,
        maxRetriesPerRequest: 0,
      });
      await redis.connect();
      return {
        get: (key: string) => redis.get(key),
        // The same record, as the text a client would store in Redis.
        put: (r: KvRecord) => redis.set(r.key, formatRecord(r)),
        close: async () => void (await redis.quit()),
      };
    }),
  );
}

/** `npm run bench -- server`: kv-server vs redis-server, GET and PUT/SET, three load shapes. */
export async function runServerBench(): Promise<void> {
  const records = generatedRecords(RECORDS, 'server');
  const ours = await startServerProcess(['--log-level', 'silent']);
  // The same server over TLS, when openssl can make its certificate (TLS rows vs plaintext).
  const certs = hasOpenssl() ? makeCertificates() : undefined;
  if (certs === undefined)
    console.error('server: openssl not found on PATH; skipping the TLS rows (install openssl)');
  const secure =
    certs === undefined
      ? undefined
      : await startServerProcess([
          '--log-level',
          'silent',
          '--tls-cert',
          certs.serverCert,
          '--tls-key',
          certs.serverKey,
        ]);
  const redis = await startRedis();
  if (redis === undefined)
    console.error(
      'server: redis-server not found on PATH; skipping the Redis rows (install the Debian package redis-server)',
    );
  const rows: Record<string, string | number>[] = [];
  try {
    const targets: {
      name: string;
      connect: (n: number) => Promise<Client[]>;
      scenarios?: Scenario[];
    }[] = [
      { name: 'kv-server', connect: (n: number) => ourClients(ours.port, n) },
      ...(secure === undefined || certs === undefined
        ? []
        : [
            {
              name: 'kv-server TLS',
              connect: (n: number) => ourClients(secure.port, n, { ca: readFileSync(certs.ca) }),
              scenarios: TLS_SCENARIOS,
            },
          ]),
      ...(redis === undefined
        ? []
        : [{ name: 'redis-server', connect: (n: number) => redisClients(redis.port, n) }]),
    ];
    // Scenario by scenario, every server in turn: a machine that speeds up or slows down during the
    // run skews the ratios less than one server after the other would.
    for (const scenario of SCENARIOS) {
      for (const target of targets) {
        if (
          target.scenarios !== undefined &&
          !target.scenarios.some((x) => x.name === scenario.name)
        )
          continue;
        const clients = await target.connect(scenario.connections);
        const warm = await drive(clients, scenario.depth, 2000, (c, i) =>
          c.put(records[i % RECORDS] as KvRecord),
        );
        void warm;
        const put = await drive(clients, scenario.depth, scenario.ops, (c, i) =>
          c.put(records[i % RECORDS] as KvRecord),
        );
        const get = await drive(clients, scenario.depth, scenario.ops, (c, i) =>
          c.get((records[(i * 7919) % RECORDS] as KvRecord).key),
        );
        await Promise.all(clients.map((c) => c.close()));
        for (const [op, r] of [
          ['PUT', put],
          ['GET', get],
        ] as const) {
          rows.push({
            server: target.name,
            scenario: scenario.name,
            op,
            opsPerSecond: r.opsPerSecond,
            p50us: r.p50us,
            p99us: r.p99us,
          });
        }
        console.error(`server: ${target.name} ${scenario.name} done`);
      }
    }
  } finally {
    ours.kill('SIGTERM');
    await ours.exited;
    secure?.kill('SIGTERM');
    await secure?.exited;
    if (certs !== undefined) rmSync(certs.dir, { recursive: true, force: true });
    redis?.child.kill('SIGTERM');
  }
  type Row = Record<string, string | number>;
  /** The same scenario and op of another server's rows. */
  const of =
    (server: string) =>
    (row: Row): number | undefined =>
      rows.find((r) => r.server === server && r.scenario === row.scenario && r.op === row.op)
        ?.opsPerSecond as number | undefined;
  /** `server`'s rows with the baseline's ops/s beside them, their ratio and whether it meets `target`. */
  const compared = (server: string, baseOf: (row: Row) => number | undefined, target: number) =>
    rows
      .filter((r) => r.server === server)
      .map((r) => {
        const base = baseOf(r);
        const ratio = base === undefined ? undefined : (r.opsPerSecond as number) / base;
        return [
          r.scenario as string,
          r.op as string,
          r.opsPerSecond as number,
          r.p50us as number,
          r.p99us as number,
          base ?? 'skipped',
          ratio === undefined ? '' : `${ratio.toFixed(2)}x`,
          ratio === undefined ? '' : ratio >= target ? 'yes' : 'NO',
        ];
      });
  const table = compared('kv-server', of('redis-server'), 0.5);
  printTable(
    `kv-server vs redis-server (same Node load generator; ${RECORDS.toLocaleString('en-US')} generated records; ratio = ours / Redis ops/s, target >= 0.5x)`,
    ['load', 'op', 'kv-server ops/s', 'p50 µs', 'p99 µs', 'redis ops/s', 'ratio', 'pass'],
    table,
  );
  printTable(
    'redis-server, same runs',
    ['load', 'op', 'ops/s', 'p50 µs', 'p99 µs'],
    rows
      .filter((r) => r.server === 'redis-server')
      .map((r) => [
        r.scenario as string,
        r.op as string,
        r.opsPerSecond as number,
        r.p50us as number,
        r.p99us as number,
      ]),
  );
  if (rows.some((r) => r.server === 'kv-server TLS'))
    printTable(
      'kv-server over TLS vs plaintext, same run (ratio = TLS / plaintext ops/s, target >= 0.6x)',
      ['load', 'op', 'TLS ops/s', 'p50 µs', 'p99 µs', 'plaintext ops/s', 'ratio', 'pass'],
      compared('kv-server TLS', of('kv-server'), 0.6),
    );
  console.log(`\nwrote ${writeResults('server', rows)}`);
}
