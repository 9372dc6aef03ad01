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

    // Restart: load RESTART_RECORDS over the network (PUT_BATCH of 1000, 8 in flight), then restart.
    const dir = fresh();
    const server = await startServerProcess(['--log-level', 'silent', '--data-dir', dir]);
    const client = await RawClient.connect(server.port);
    const records = generatedRecords(50_000, 'restart');
    const loadStart = performance.now();
    let sent = 0;
    const inFlight = new Set<Promise<unknown>>();
    while (sent < RESTART_RECORDS) {
      const batch: WireRecord[] = [];
      for (let j = 0; j < 1000 && sent < RESTART_RECORDS; j++, sent++) {
        const r = records[sent % records.length]!;
        batch.push({ key: `key${sent + 1}`, value: r.value, version: [1, 0, 'bench'] });
      }
      const p = client.request({ type: 'PUT_BATCH', records: batch });
      inFlight.add(p);
      void p.finally(() => inFlight.delete(p));
      if (inFlight.size >= 8) await Promise.race(inFlight);
    }
    await Promise.all(inFlight);
    const loadSeconds = (performance.now() - loadStart) / 1000;
    client.destroy();
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
    console.log(
      `\nwrote ${writeResults('durability', { rates, restartRecords: RESTART_RECORDS, loadSeconds, restartSeconds })}`,
    );
  } finally {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  }
}
