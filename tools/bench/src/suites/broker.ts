import { Readable } from 'node:stream';
import { createWriteStream, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Broker } from '@triekv/broker';
import { writeDatasetFile } from '@triekv/datagen';
import { SHAPE, fixtureKeys } from '../fixtures.js';
import { formatRecord, parseRecord } from '@triekv/record';
import { startServerProcess } from '@triekv/test-utils';
import { printTable, writeResults } from '../report.js';
import { createGateway } from '@triekv/gateway';
import { loadRedis, startRedis } from './server.js';
import { benchmark, hasRedisBenchmark } from './resp.js';

const RECORDS = Number(process.env.TRIEKV_BENCH_RECORDS ?? 200_000);
const READS = 50_000;
/** GET lines piped into kv-broker (and into redis-cli). */
const SCRIPT_LINES = 50_000;
/** Requests per redis-benchmark test through the gateway (and against redis-server). */
const GATEWAY_REQUESTS = Number(process.env.TRIEKV_BENCH_GATEWAY_REQUESTS ?? 50_000);
const GATEWAY_LOADS: [string, string[]][] = [
  ['-c 50', []],
  ['-c 50 -P 16', ['-P', '16']],
];

/** Runs `ops` calls of `op`, `depth` at a time; returns ops/s. */
async function opsPerSecond(
  ops: number,
  depth: number,
  op: (i: number) => Promise<unknown>,
): Promise<number> {
  let next = 0;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: depth }, async () => {
      for (let i = next++; i < ops; i = next++) await op(i);
    }),
  );
  return ops / ((performance.now() - start) / 1000);
}

/** Seconds `command args < input` takes to run to its end, its output counted and dropped. */
async function pipedSeconds(command: string, args: string[], input: string): Promise<number> {
  const start = performance.now();
  const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'ignore'] });
  let lines = 0;
  child.stdout.on('data', (c: Buffer) => {
    for (const byte of c) if (byte === 0x0a) lines++;
  });
  createReadStream(input).pipe(child.stdin);
  const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
  if (code !== 0 || lines < SCRIPT_LINES)
    throw new Error(`${command} exited ${code} after ${lines} of ${SCRIPT_LINES} lines`);
  return (performance.now() - start) / 1000;
}

/** `npm run bench -- broker`: load 200k records with k=2 onto 3 servers; reads through the broker. */
export async function runBrokerBench(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'triekv-bench-broker-'));
  const data = join(dir, 'data.txt');
  const keys = fixtureKeys();
  await writeDatasetFile({ keys, lines: RECORDS, ...SHAPE, seed: 'broker' }, data);
  const servers = await Promise.all(
    [0, 1, 2].map(() => startServerProcess(['--log-level', 'silent'])),
  );
  const broker = new Broker({
    servers: servers.map((s) => ({ host: '127.0.0.1', port: s.port })),
    k: 2,
  });
  const rows: (string | number)[][] = [];
  const results: Record<string, number> = {};
  try {
    await broker.start();
    const summary = await broker.load(createReadStream(data));
    if (summary.underReplicated !== 0 || summary.rejected.length !== 0)
      throw new Error('the load lost records');
    results.loadRecordsPerSecond = summary.records / summary.seconds;
    results.loadReplicaWritesPerSecond = summary.replicaWrites / summary.seconds;
    console.error(`broker: loaded ${summary.records} records in ${summary.seconds.toFixed(2)} s`);
    const sample = readFileSync(data, 'utf8')
      .split('\n', 2000)
      .filter(Boolean)
      .map((l) => parseRecord(l));
    const firstKey = (i: number): [string, string] => {
      const r = sample[i % sample.length]!;
      return [r.key, r.value instanceof Map ? ([...r.value.keys()][0] ?? 'name') : 'name'];
    };
    for (const depth of [1, 64]) {
      results[`get${depth}`] = await opsPerSecond(READS, depth, (i) => broker.get(firstKey(i)[0]));
      results[`query${depth}`] = await opsPerSecond(READS, depth, (i) => broker.query(firstKey(i)));
    }
    // Scripted use: GET lines piped into kv-broker, which keeps many in flight.
    const script = join(dir, 'gets.txt');
    const serverFile = join(dir, 'servers.txt');
    writeFileSync(serverFile, servers.map((s) => `127.0.0.1 ${s.port}\n`).join(''));
    const out = createWriteStream(script);
    for (let i = 0; i < SCRIPT_LINES; i++) out.write(`GET ${firstKey(i)[0]}\n`);
    await new Promise((resolve) => out.end(resolve));
    const kvBroker = join(
      __dirname,
      '..',
      '..',
      '..',
      '..',
      'packages',
      'kv-broker',
      'bin',
      'kv-broker.js',
    );
    results.scriptLinesPerSecond =
      SCRIPT_LINES /
      (await pipedSeconds(process.execPath, [kvBroker, '-s', serverFile, '-k', '2'], script));

    // The service mode: redis-benchmark through one gateway over the same cluster.
    if (hasRedisBenchmark()) {
      const gateway = createGateway({ broker, port: 0 });
      await gateway.listen();
      try {
        for (const [shape, extra] of GATEWAY_LOADS) {
          const rates = await benchmark(gateway.address().port, extra, 'set,get', GATEWAY_REQUESTS);
          results[`gatewaySet ${shape}`] = rates.get('SET') ?? 0;
          results[`gatewayGet ${shape}`] = rates.get('GET') ?? 0;
        }
      } finally {
        await gateway.close();
      }
    } else {
      console.error(
        'broker: redis-benchmark not found on PATH; skipping the gateway rows (install the Debian package redis-tools)',
      );
    }
  } finally {
    await broker.close();
    for (const s of servers) s.kill('SIGTERM');
    await Promise.all(servers.map((s) => s.exited));
  }

  // Baseline: the same records loaded into one redis-server, SET key text, in pipelines of 500.
  const redis = await startRedis();
  if (redis === undefined) {
    console.error(
      'broker: redis-server not found on PATH; skipping the Redis rows (install the Debian package redis-server)',
    );
  } else {
    // Loaded only now, after our rows (see loadRedis).
    const Redis = await loadRedis();
    const client = new Redis({ port: redis.port, host: '127.0.0.1', lazyConnect: true });
    await client.connect();
    try {
      const start = performance.now();
      let pipeline = client.pipeline();
      let queued = 0;
      const flushes: Promise<unknown>[] = [];
      const { readRecords } = await import('@triekv/record');
      for await (const r of readRecords(createReadStream(data))) {
        if (!('record' in r)) continue;
        pipeline.set(r.record.key, formatRecord(r.record));
        if (++queued % 500 === 0) {
          flushes.push(pipeline.exec());
          pipeline = client.pipeline();
          if (flushes.length >= 8) await flushes.shift();
        }
      }
      flushes.push(pipeline.exec());
      await Promise.all(flushes);
      results.redisLoadRecordsPerSecond = queued / ((performance.now() - start) / 1000);
      for (const depth of [1, 64]) {
        results[`redisGet${depth}`] = await opsPerSecond(READS, depth, (i) =>
          client.get(`key${(i % 2000) + 1}`),
        );
      }
      const redisScript = join(dir, 'redis-gets.txt');
      writeFileSync(
        redisScript,
        Array.from({ length: SCRIPT_LINES }, (_, i) => `GET key${(i % 2000) + 1}\n`).join(''),
      );
      try {
        results.redisCliLinesPerSecond =
          SCRIPT_LINES / (await pipedSeconds('redis-cli', ['-p', String(redis.port)], redisScript));
      } catch (error) {
        console.error(`broker: skipping the redis-cli row: ${(error as Error).message}`);
      }
      if (hasRedisBenchmark())
        for (const [shape, extra] of GATEWAY_LOADS) {
          const rates = await benchmark(redis.port, extra, 'set,get', GATEWAY_REQUESTS);
          results[`redisSet ${shape}`] = rates.get('SET') ?? 0;
          results[`redisGet ${shape}`] = rates.get('GET') ?? 0;
        }
    } finally {
      await client.quit();
      redis.child.kill('SIGTERM');
    }
  }
  rmSync(dir, { recursive: true, force: true });

  const ratio = (ours: number | undefined, base: number | undefined): string =>
    ours === undefined || base === undefined ? '' : `${(ours / base).toFixed(2)}x`;
  rows.push([
    'load, records/s',
    results.loadRecordsPerSecond,
    results.redisLoadRecordsPerSecond ?? 'skipped',
    ratio(results.loadRecordsPerSecond, results.redisLoadRecordsPerSecond),
    '>= 100,000',
    results.loadRecordsPerSecond >= 100_000 ? 'yes' : 'NO',
  ]);
  rows.push(['load, replica writes/s', results.loadReplicaWritesPerSecond, '', '', '', '']);
  for (const depth of [1, 64]) {
    const ours = results[`get${depth}`]!;
    const base = results[`redisGet${depth}`];
    rows.push([
      `GET, ${depth} in flight`,
      ours,
      base ?? 'skipped',
      ratio(ours, base),
      '>= 0.5x',
      base === undefined ? '' : ours / base >= 0.5 ? 'yes' : 'NO',
    ]);
    rows.push([`QUERY, ${depth} in flight`, results[`query${depth}`]!, '', '', '', '']);
  }
  rows.push([
    `${SCRIPT_LINES.toLocaleString('en-US')} GET lines piped in, lines/s (vs redis-cli)`,
    results.scriptLinesPerSecond ?? 0,
    results.redisCliLinesPerSecond ?? 'skipped',
    ratio(results.scriptLinesPerSecond, results.redisCliLinesPerSecond),
    '>= 1.5x',
    results.redisCliLinesPerSecond === undefined
      ? ''
      : (results.scriptLinesPerSecond ?? 0) / results.redisCliLinesPerSecond >= 1.5
        ? 'yes'
        : 'NO',
  ]);
  for (const [shape] of GATEWAY_LOADS) {
    for (const test of ['Set', 'Get']) {
      const ours = results[`gateway${test} ${shape}`];
      if (ours === undefined) continue;
      const base = results[`redis${test} ${shape}`];
      const target = test === 'Get' && shape === '-c 50' ? 0.5 : undefined;
      rows.push([
        `gateway ${test.toUpperCase()} (redis-benchmark ${shape})`,
        ours,
        base ?? 'skipped',
        ratio(ours, base),
        target === undefined ? '' : `>= ${target}x`,
        target === undefined || base === undefined ? '' : ours / base >= target ? 'yes' : 'NO',
      ]);
    }
  }
  printTable(
    `Broker: ${RECORDS.toLocaleString('en-US')} generated records (-d 3 -m 5 -l 8), k=2 on 3 kv-servers; baseline: one redis-server (SET/GET of the record text via ioredis)`,
    ['operation', 'triekv', 'redis-server', 'ratio', 'target', 'pass'],
    rows,
  );
  const move = await rebalanceBench();
  Object.assign(results, move);
  printTable(
    `Rebalance: a 4th kv-server joins 3 holding ${REBALANCE_RECORDS.toLocaleString('en-US')} records at k=2 (ADD SERVER, no rate limit); a client broker reads with 64 GETs in flight throughout`,
    ['measure', 'value', 'baseline', 'ratio'],
    [
      [
        'copies made to the new server, per second of the move',
        move.rebalanceKeysPerSecond,
        '',
        '',
      ],
      [
        'copies made and removed (whole move, both passes)',
        move.rebalanceCopies + move.rebalanceRemoved,
        '',
        '',
      ],
      ['move, seconds', move.rebalanceSeconds.toFixed(1), '', ''],
      [
        'GET/s during the move (vs the same client before it)',
        move.getDuringMove,
        move.getBeforeMove,
        ratio(move.getDuringMove, move.getBeforeMove),
      ],
    ],
  );
  console.log(`\nwrote ${writeResults('broker', { records: RECORDS, ...results })}`);
}

/** Records held by the three servers when the fourth joins (the figure: 1M). */
const REBALANCE_RECORDS = Number(process.env.TRIEKV_BENCH_REBALANCE_RECORDS ?? 1_000_000);

/** Reads `key0..key{n-1}` with 64 in flight until `done` resolves; resolves with reads per second. */
async function readUntil(broker: Broker, n: number, done: Promise<unknown>): Promise<number> {
  let running = true;
  void done.finally(() => {
    running = false;
  });
  let reads = 0;
  let next = 0;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: 64 }, async () => {
      while (running) {
        const r = await broker.get(`key${(next++ * 7919) % n}`);
        if (!r.found) throw new Error('a read missed during the rebalance bench');
        reads++;
      }
    }),
  );
  return reads / ((performance.now() - start) / 1000);
}

/** A fourth server joins three holding REBALANCE_RECORDS records: how fast the keys move, and reads meanwhile. */
async function rebalanceBench(): Promise<{
  rebalanceKeysPerSecond: number;
  rebalanceCopies: number;
  rebalanceRemoved: number;
  rebalanceSeconds: number;
  getBeforeMove: number;
  getDuringMove: number;
}> {
  const servers = await Promise.all(
    [0, 1, 2, 3].map(() => startServerProcess(['--log-level', 'silent'])),
  );
  const three = servers.slice(0, 3).map((s) => ({ host: '127.0.0.1', port: s.port }));
  const admin = new Broker({ servers: three, k: 2 });
  const client = new Broker({ servers: three, k: 2 });
  try {
    await admin.start();
    await client.start();
    const lines = function* (): Generator<string> {
      for (let i = 0; i < REBALANCE_RECORDS; i += 1000) {
        let chunk = '';
        for (let j = i; j < Math.min(i + 1000, REBALANCE_RECORDS); j++)
          chunk += `"key${j}" : { "i" : ${j} ; "name" : "n${j % 977}" }\n`;
        yield chunk;
      }
    };
    const loaded = await admin.load(Readable.from(lines()));
    console.error(
      `broker: rebalance: loaded ${loaded.records} records in ${loaded.seconds.toFixed(1)} s`,
    );
    const before = await readUntil(
      client,
      REBALANCE_RECORDS,
      new Promise((resolve) => setTimeout(resolve, 5_000)),
    );
    const fourth = servers[3] as (typeof servers)[number];
    let copyStarted = 0;
    let copyEnded = 0;
    let copied = 0;
    const adding = admin.addServer(
      { host: '127.0.0.1', port: fourth.port },
      {
        rate: Number.MAX_SAFE_INTEGER,
        onProgress: (p) => {
          if (p.phase !== 'copying') return;
          if (copyStarted === 0) copyStarted = performance.now();
          copyEnded = performance.now();
          copied = p.copied;
        },
      },
    );
    const during = await readUntil(client, REBALANCE_RECORDS, adding);
    const summary = await adding;
    console.error(
      `broker: rebalance: ${summary.copied} copied, ${summary.removed} removed in ${summary.seconds.toFixed(1)} s`,
    );
    return {
      rebalanceKeysPerSecond: copied / Math.max(0.001, (copyEnded - copyStarted) / 1000),
      rebalanceCopies: summary.copied,
      rebalanceRemoved: summary.removed,
      rebalanceSeconds: summary.seconds,
      getBeforeMove: before,
      getDuringMove: during,
    };
  } finally {
    await client.close();
    await admin.close();
    for (const s of servers) s.kill('SIGTERM');
    await Promise.all(servers.map((s) => s.exited));
  }
}
