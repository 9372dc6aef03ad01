import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Version, WireRecord } from '@triekv/protocol';
import { RawClient, startServerProcess, type ServerProcess } from '@triekv/test-utils';
import { generatedRecords } from '../fixtures.js';
import { printTable, writeResults } from '../report.js';

const PUTS = 100_000;
const RESTART_RECORDS = Number(process.env.TRIEKV_BENCH_RECORDS ?? 1_000_000);
const CONNECTIONS = 50;
const DEPTH = 16;

/** PUTs/s against a server: CONNECTIONS connections, DEPTH in flight each, generated records. */
async function putRate(server: ServerProcess): Promise<number> {
  const records = generatedRecords(10_000, 'durability');
  const clients = await Promise.all(
    Array.from({ length: CONNECTIONS }, () => RawClient.connect(server.port)),
  );
  let next = 0;
  const start = performance.now();
  await Promise.all(
    clients.flatMap((c) =>
      Array.from({ length: DEPTH }, async () => {
        for (let i = next++; i < PUTS; i = next++) {
          const r = records[i % records.length]!;
          const version: Version = [i + 1, 0, 'bench'];
          const reply = await c.request({ type: 'PUT', key: r.key, value: r.value, version });
          if (reply.type !== 'OK') throw new Error(`PUT failed: ${JSON.stringify(reply)}`);
        }
      }),
    ),
  );
  const rate = PUTS / ((performance.now() - start) / 1000);
  for (const c of clients) c.destroy();
  return rate;
}

/** Loads `count` generated records into the server: PUT_BATCHes of 1000, 8 in flight; seconds taken. */
async function loadRecords(port: number, count: number): Promise<number> {
  const client = await RawClient.connect(port);
  const records = generatedRecords(50_000, 'restart');
  const start = performance.now();
  let sent = 0;
  const inFlight = new Set<Promise<unknown>>();
  while (sent < count) {
    const batch: WireRecord[] = [];
    for (let j = 0; j < 1000 && sent < count; j++, sent++) {
      const r = records[sent % records.length]!;
      batch.push({ key: `key${sent + 1}`, value: r.value, version: [1, 0, 'bench'] });
    }
    const p = client.request({ type: 'PUT_BATCH', records: batch });
    inFlight.add(p);
    void p.finally(() => inFlight.delete(p));
    if (inFlight.size >= 8) await Promise.race(inFlight);
  }
  await Promise.all(inFlight);
  client.destroy();
  return (performance.now() - start) / 1000;
}

/**
 * A GET every 5 ms on a connection of its own while `during` runs: the replies' latencies (ms), to see
 * whether the server ever stops answering (a compaction that blocks it shows as a long one).
 */
async function probeDuring(
  port: number,
  during: Promise<unknown>,
): Promise<{ max: number; p99: number }> {
  const probe = await RawClient.connect(port);
  const latencies: number[] = [];
  let done = false;
  void during.finally(() => (done = true));
  while (!done) {
    const sent = performance.now();
    await probe.request({ type: 'GET', key: 'key1' });
    latencies.push(performance.now() - sent);
    const wait = 5 - (performance.now() - sent);
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
  }
  probe.destroy();
  latencies.sort((a, b) => a - b);
  return {
    max: latencies[latencies.length - 1] ?? 0,
    p99: latencies[Math.floor(latencies.length * 0.99)] ?? 0,
  };
}

async function stop(server: ServerProcess): Promise<void> {
  server.kill('SIGTERM');
  await server.exited;
}

/** `npm run bench -- durability`: PUT throughput by fsync policy; restart time for 1M records. */
export async function runDurabilityBench(): Promise<void> {
  const dirs: string[] = [];
  const fresh = (): string => {
    const d = mkdtempSync(join(tmpdir(), 'triekv-bench-dur-'));
    dirs.push(d);
    return d;
  };
  const rates: Record<string, number> = {};
  try {
    for (const mode of ['memory', 'off', 'batch', 'always']) {
      const args = [
        '--log-level',
        'silent',
        ...(mode === 'memory' ? [] : ['--data-dir', fresh(), '--fsync', mode]),
      ];
      const server = await startServerProcess(args);
      rates[mode] = await putRate(server);
      await stop(server);
      console.error(`durability: PUT with ${mode} done`);
    }

    // A GET probe every 5 ms while RESTART_RECORDS load, in memory and into a data directory (which
    // compacts several times on the way): the durable server must go on answering.
    const probes: Record<string, { max: number; p99: number }> = {};
    for (const mode of ['memory', 'durable']) {
      const args = ['--log-level', 'silent', ...(mode === 'memory' ? [] : ['--data-dir', fresh()])];
      const server = await startServerProcess(args);
      const load = loadRecords(server.port, RESTART_RECORDS);
      probes[mode] = await probeDuring(server.port, load);
      await load;
      await stop(server);
      console.error(`durability: GET probe during a load (${mode}) done`);
    }

    // Restart: load RESTART_RECORDS over the network (PUT_BATCH of 1000, 8 in flight), then restart.
    const dir = fresh();
    const server = await startServerProcess(['--log-level', 'silent', '--data-dir', dir]);
    const loadSeconds = await loadRecords(server.port, RESTART_RECORDS);
    await stop(server);
    const restartStart = performance.now();
    const restarted = await startServerProcess(['--log-level', 'silent', '--data-dir', dir]);
    const restartSeconds = (performance.now() - restartStart) / 1000;
    const check = await RawClient.connect(restarted.port);
    const stats = await check.request({ type: 'STATS' });
    const keys = stats.type === 'OK' ? (stats.stats?.keys as number) : -1;
    check.destroy();
    await stop(restarted);
    if (keys !== RESTART_RECORDS)
      throw new Error(`restart recovered ${keys} of ${RESTART_RECORDS} records`);

    const memory = rates.memory!;
    printTable(
      `Durability: PUT throughput by --fsync policy (${CONNECTIONS} connections x ${DEPTH} in flight, ${PUTS.toLocaleString('en-US')} PUTs); ratio = policy / in-memory`,
      ['server', 'PUTs/s', 'ratio', 'target', 'pass'],
      ['memory', 'off', 'batch', 'always'].map((m) => [
        m === 'memory' ? 'in memory' : `--data-dir --fsync ${m}`,
        rates[m]!,
        `${(rates[m]! / memory).toFixed(2)}x`,
        m === 'batch' ? '>= 0.5x' : '',
        m === 'batch' ? (rates[m]! / memory >= 0.5 ? 'yes' : 'NO') : '',
      ]),
    );
    printTable(
      `Restart of a data directory with ${RESTART_RECORDS.toLocaleString('en-US')} records vs loading them over the network (PUT_BATCH)`,
      ['what', 'seconds', 'records/s', 'target', 'pass'],
      [
        ['load over the network', loadSeconds, RESTART_RECORDS / loadSeconds, '', ''],
        [
          'restart (replay until listening)',
          restartSeconds,
          RESTART_RECORDS / restartSeconds,
          'faster than the load',
          restartSeconds < loadSeconds ? 'yes' : 'NO',
        ],
      ],
    );
    const ratio = probes.durable!.max / Math.max(probes.memory!.max, 1e-9);
    printTable(
      `GET latency (ms) of a probe every 5 ms while ${RESTART_RECORDS.toLocaleString('en-US')} records load (PUT_BATCH of 1000, 8 in flight); ratio = durable / in-memory`,
      ['server', 'max ms', 'p99 ms', 'max ratio', 'target', 'pass'],
      [
        ['in memory', probes.memory!.max, probes.memory!.p99, '', '', ''],
        [
          '--data-dir (compacting in the background)',
          probes.durable!.max,
          probes.durable!.p99,
          `${ratio.toFixed(2)}x`,
          '<= 2x',
          ratio <= 2 ? 'yes' : 'NO',
        ],
      ],
    );
    console.log(
      `\nwrote ${writeResults('durability', { rates, probes, restartRecords: RESTART_RECORDS, loadSeconds, restartSeconds })}`,
    );
  } finally {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  }
}
