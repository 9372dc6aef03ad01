import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeDatasetFile } from '@triekv/datagen';
import { KEY_FILE, SHAPE, fixtureKeys } from '../fixtures.js';
import { printTable, writeResults } from '../report.js';

const LINES = Number(process.env.TRIEKV_BENCH_LINES ?? 1_000_000);
const ARGS = SHAPE;

interface Row {
  generator: string;
  lines: number;
  seconds: number;
  linesPerSecond: number;
  megabytesPerSecond: number;
}

/** `npm run bench -- datagen`: kv-gen's library vs a typical Python generator, both writing a file. */
export async function runDatagenBench(): Promise<void> {
  const keyFile = KEY_FILE;
  const keys = fixtureKeys();
  const dir = mkdtempSync(join(tmpdir(), 'triekv-bench-'));
  const rows: Row[] = [];
  try {
    const ours = join(dir, 'ours.txt');
    await writeDatasetFile({ keys, lines: Math.min(LINES, 50_000), ...ARGS, seed: 'warm' }, ours);
    const start = process.hrtime.bigint();
    await writeDatasetFile({ keys, lines: LINES, ...ARGS, seed: 'bench' }, ours);
    rows.push(row('@triekv/datagen (kv-gen)', LINES, start, statSync(ours).size));

    const python = spawnSync('python3', ['--version']);
    if (python.error !== undefined || python.status !== 0) {
      console.error('datagen: python3 not found on PATH; skipping the Python baseline row');
    } else {
      const script = join(__dirname, '..', '..', 'baselines', 'create_data.py');
      const out = join(dir, 'python.txt');
      const pyLines = Math.min(LINES, 200_000); // enough for a stable rate, without minutes of waiting
      const t = process.hrtime.bigint();
      const run = spawnSync('python3', [script, keyFile, String(pyLines), '3', '5', '8', out], {
        stdio: 'inherit',
      });
      if (run.status !== 0) throw new Error('the Python baseline failed');
      rows.push(row('typical Python generator (baseline)', pyLines, t, statSync(out).size));
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const baseline = rows[1]?.linesPerSecond;
  printTable(
    `Data generation to a file: -d 3 -m 5 -l 8 (target >= 500,000 lines/s)`,
    ['generator', 'lines', 'seconds', 'lines/s', 'MB/s', 'vs Python'],
    rows.map((r) => [
      r.generator,
      r.lines,
      r.seconds,
      r.linesPerSecond,
      r.megabytesPerSecond,
      baseline === undefined ? '' : `${(r.linesPerSecond / baseline).toFixed(1)}x`,
    ]),
  );
  const pass = (rows[0]?.linesPerSecond ?? 0) >= 500_000;
  console.log(`\ntarget >= 500,000 lines/s: ${pass ? 'yes' : 'NO'}`);
  console.log(`wrote ${writeResults('datagen', { args: ARGS, rows, target: 500_000, pass })}`);
}

function row(generator: string, lines: number, start: bigint, bytes: number): Row {
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  return {
    generator,
    lines,
    seconds,
    linesPerSecond: lines / seconds,
    megabytesPerSecond: bytes / seconds / 1e6,
  };
}
