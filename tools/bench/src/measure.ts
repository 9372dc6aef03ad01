import { Bench } from 'tinybench';

/** How long one batch may be timed for, and how often, for cheap and for expensive batches. */
export interface BatchPlan {
  /** Timed iterations at least. */
  iterations: number;
  /** Milliseconds to keep iterating for. */
  time: number;
  /** Untimed iterations first, so the JIT has settled. */
  warmupIterations: number;
}

export const QUICK: BatchPlan = { iterations: 10, time: 500, warmupIterations: 3 };
/** For batches of about a second: enough timed runs for a stable mean, without taking minutes. */
export const MEDIUM: BatchPlan = { iterations: 5, time: 0, warmupIterations: 2 };
export const HEAVY: BatchPlan = { iterations: 3, time: 0, warmupIterations: 1 };

/**
 * Times `fn`, which performs `opsPerBatch` operations per call, and returns nanoseconds per operation
 * (mean over the timed batches). `beforeEach` runs untimed before every batch.
 */
export async function nsPerOp(
  fn: () => void,
  opsPerBatch: number,
  plan: BatchPlan,
  beforeEach?: () => void,
): Promise<number> {
  const bench = new Bench({ ...plan, warmupTime: 0, throws: true });
  bench.add('task', fn, beforeEach === undefined ? {} : { beforeEach });
  await bench.run();
  const result = bench.tasks[0]?.result;
  if (result === undefined || !('period' in result))
    throw new Error('benchmark produced no result');
  return (result.period * 1e6) / opsPerBatch;
}

function collect(): void {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) throw new Error('run node with --expose-gc (npm run bench does)');
  gc();
  gc();
}

/** JS heap plus ArrayBuffer memory (typed arrays keep their contents outside the JS heap). */
function retainedBytes(): number {
  const usage = process.memoryUsage();
  return usage.heapUsed + usage.arrayBuffers;
}

/**
 * Bytes retained per key by whatever `build` returns: heap and ArrayBuffer memory after a full GC with
 * the result alive, minus the same before, over `keys`. The result is held until measured, then released.
 */
export function heapBytesPerKey(build: () => unknown, keys: number): number {
  return heapBytesPerKeyOf(build, keys)[0];
}

const held: unknown[] = [];

/** Like `heapBytesPerKey`, but hands back what `build` made (still alive) along with its bytes per key. */
export function heapBytesPerKeyOf<T>(build: () => T, keys: number): [number, T] {
  collect();
  const before = retainedBytes();
  const made = build();
  held.push(made); // held at module level, so the optimiser cannot drop it before the second GC
  collect();
  const after = retainedBytes();
  held.pop();
  return [(after - before) / keys, made];
}

/**
 * Times two tasks (the subject and its baseline) in alternating rounds and returns each one's median
 * ns/op: drift in the machine's state (caches, page tables, other tenants) then hits both alike.
 */
export async function pairedNsPerOp(
  subject: () => void,
  baseline: () => void,
  opsPerBatch: number,
  plan: BatchPlan,
  rounds = 3,
): Promise<[number, number]> {
  const a: number[] = [];
  const b: number[] = [];
  for (let r = 0; r < rounds; r++) {
    a.push(await nsPerOp(subject, opsPerBatch, plan));
    b.push(await nsPerOp(baseline, opsPerBatch, plan));
  }
  return [median(a), median(b)];
}

function median(values: number[]): number {
  const sorted = [...values].sort((x, y) => x - y);
  return sorted[Math.floor(sorted.length / 2)] as number;
}
