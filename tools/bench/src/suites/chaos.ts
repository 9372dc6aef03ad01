import { DEFAULT_CHAOS, passed, runChaos, type ChaosReport } from '@triekv/chaos';
import { printTable, writeResults } from '../report.js';

const SECONDS = Number(process.env.TRIEKV_CHAOS_SECONDS ?? 60);
const BASELINE_SECONDS = Math.max(5, Math.round(SECONDS / 4));
const SEED = Number(process.env.TRIEKV_CHAOS_SEED ?? 2026);

/** Operations the cluster answered (`ok`): refused deletes and timeouts are not. */
function answered(report: ChaosReport): number {
  return report.history.ops.filter((op) => op.outcome === 'ok').length;
}

/**
 * Answered operations per second while the workload ran (under faults, for the faulty run): the healing
 * and the final reads afterwards are not counted.
 */
function rate(report: ChaosReport): number {
  const during = report.history.ops.filter(
    (op) => op.outcome === 'ok' && op.invokeAt < report.options.durationMs,
  ).length;
  return during / (report.options.durationMs / 1000);
}

const whole = (n: number): string => n.toLocaleString('en-US');

/**
 * `npm run bench -- chaos`: the long torture run (60 s of faults, every kind, overload windows) beside
 * the same workload with no faults. It reports the throughput kept under faults (a ratio against the
 * fault-free run) and what the checker found; any violation fails the suite.
 */
export async function runChaosBench(): Promise<void> {
  const log = (line: string): void => void process.stderr.write(`${line}\n`);
  const calm = await runChaos({
    ...DEFAULT_CHAOS,
    seed: SEED,
    durationMs: BASELINE_SECONDS * 1000,
    faults: [],
    overload: false,
    log,
  });
  const faulty = await runChaos({ ...DEFAULT_CHAOS, seed: SEED, durationMs: SECONDS * 1000, log });
  const row = (name: string, r: ChaosReport): (string | number)[] => [
    name,
    whole(Math.round(r.elapsedMs / 1000)),
    whole(r.ops),
    `${((answered(r) / Math.max(1, r.ops)) * 100).toFixed(1)}%`,
    rate(r),
    Object.entries(r.faults)
      .map(([k, n]) => `${k} ${n}`)
      .join(', ') || 'none',
    whole(r.check.reads),
    whole(r.check.warned),
    whole(r.check.violations + r.crashes.length + (r.failure === undefined ? 0 : 1)),
    r === calm ? '' : `${(rate(r) / rate(calm)).toFixed(2)}x`,
  ];
  printTable(
    `Torture run: 5 servers (3 durable), k=3, 2 brokers x 4 clients, 200 keys, seed ${SEED}; answered operations per second under faults vs none`,
    [
      'run',
      'seconds',
      'operations',
      'answered',
      'answered/s',
      'faults',
      'reads checked',
      'warned (k+ down)',
      'violations',
      'ratio',
    ],
    [row('no faults (baseline)', calm), row('faults', faulty)],
  );
  const pass = passed(calm) && passed(faulty);
  console.log(`\nno violations, no crashes: ${pass ? 'yes' : 'NO'}`);
  const summary = (r: ChaosReport): Omit<ChaosReport, 'history'> => {
    const { history: _history, ...rest } = r;
    return rest;
  };
  console.log(
    `wrote ${writeResults('chaos', { seed: SEED, calm: summary(calm), faulty: summary(faulty), pass })}`,
  );
  if (!pass) {
    for (const v of [...calm.violations, ...faulty.violations])
      console.error(`${v.kind} on ${v.key}: ${v.message}\n${v.history.join('\n')}`);
    process.exitCode = 1;
  }
}
