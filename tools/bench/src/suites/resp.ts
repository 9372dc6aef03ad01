import { spawn, spawnSync } from 'node:child_process';
import { startServerProcess } from '@triekv/test-utils';
import { printTable, writeResults } from '../report.js';
import { startRedis } from './server.js';

const REQUESTS = Number(process.env.TRIEKV_BENCH_RESP_REQUESTS ?? 200_000);
const ROUNDS = 2;
const TESTS = ['SET', 'GET', 'INCR', 'MSET'];

/** Whether redis-benchmark (Debian package redis-tools) is on PATH. */
export function hasRedisBenchmark(): boolean {
  return spawnSync('redis-benchmark', ['--version']).error === undefined;
}

/**
 * Requests per second of each test in one redis-benchmark run (its CSV output). Asynchronous, so that
 * a server in this process (the gateway) goes on answering while it runs.
 */
export async function benchmark(
  port: number,
  extra: string[],
  tests = 'set,get,incr,mset',
  requests = REQUESTS,
): Promise<Map<string, number>> {
  const args = [
    '-h',
    '127.0.0.1',
    '-p',
    String(port),
    '-t',
    tests,
    '-c',
    '50',
    '-n',
    String(requests),
    '--csv',
    ...extra,
  ];
  const child = spawn('redis-benchmark', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), 600_000);
  const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
  clearTimeout(timer);
  if (code !== 0) throw new Error(`redis-benchmark ${args.join(' ')} failed (${code}): ${stderr}`);
  const rates = new Map<string, number>();
  for (const line of stdout.split('\n')) {
    const cells = line.split(',').map((c) => c.replace(/"/g, ''));
    const name = (cells[0] ?? '').split(' ')[0] ?? '';
    const rps = Number(cells[1]);
    if (Number.isFinite(rps) && name !== '') rates.set(name, rps);
  }
  return rates;
}

/**
 * `npm run bench -- resp`: redis-benchmark (Redis's own load generator) against kv-server's RESP port
 * and against redis-server in the same run, alternating, at 50 connections with and without a
 * pipeline of 16.
 */
export async function runRespBench(): Promise<void> {
  if (!hasRedisBenchmark()) {
    console.log('resp: skipped: redis-benchmark is not on PATH (Debian package redis-tools)');
    return;
  }
  const redis = await startRedis();
  if (redis === undefined) {
    console.log('resp: skipped: redis-server is not on PATH (Debian package redis-server)');
    return;
  }
  const server = await startServerProcess(['--resp-port', '0', '--log-level', 'silent']);
  const rows: {
    shape: string;
    test: string;
    ours: number;
    redis: number;
    ratio: number;
    target?: number;
  }[] = [];
  try {
    // Both servers take one untimed pass first: V8 compiles kv-server's hot paths in its first
    // hundred thousand commands or so, which a long-running server has long done.
    for (const port of [server.respPort as number, redis.port]) await benchmark(port, ['-P', '16']);
    for (const [shape, extra, target] of [
      ['-c 50', [], 0.8],
      ['-c 50 -P 16', ['-P', '16'], 0.5],
    ] as const) {
      const ours: Map<string, number>[] = [];
      const theirs: Map<string, number>[] = [];
      for (let round = 0; round < ROUNDS; round++) {
        ours.push(await benchmark(server.respPort as number, [...extra]));
        theirs.push(await benchmark(redis.port, [...extra]));
        console.error(`resp: ${shape} round ${round + 1} of ${ROUNDS} done`);
      }
      // The best of the rounds on each side: the machine's noise only ever slows a run down.
      const best = (runs: Map<string, number>[], test: string): number =>
        Math.max(...runs.map((r) => r.get(test) ?? 0));
      for (const test of TESTS) {
        const o = best(ours, test);
        const r = best(theirs, test);
        rows.push({
          shape,
          test,
          ours: o,
          redis: r,
          ratio: o / r,
          ...(test === 'SET' || test === 'GET' ? { target } : {}),
        });
      }
    }
  } finally {
    server.kill('SIGTERM');
    await server.exited;
    redis.child.kill('SIGTERM');
  }
  printTable(
    `redis-benchmark against kv-server --resp-port and redis-server (${REQUESTS.toLocaleString('en-US')} requests per test, 50 connections, best of ${ROUNDS} alternating rounds); ratio = kv-server / redis-server`,
    ['load', 'command', 'kv-server req/s', 'redis-server req/s', 'ratio', 'target', 'pass'],
    rows.map((r) => [
      r.shape,
      r.test,
      r.ours,
      r.redis,
      `${r.ratio.toFixed(2)}x`,
      r.target === undefined ? '' : `>= ${r.target}x`,
      r.target === undefined ? '' : r.ratio >= r.target ? 'yes' : 'NO',
    ]),
  );
  console.log(`\nwrote ${writeResults('resp', { requests: REQUESTS, rounds: ROUNDS, rows })}`);
}
