import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { PrintedTable } from './report.js';

/** Suites in report order, with the command that produces each. */
const ORDER = [
  'trie',
  'record',
  'datagen',
  'protocol',
  'server',
  'broker',
  'durability',
  'resp',
  'chaos',
];

interface SuiteResult {
  suite: string;
  date: string;
  machine: Record<string, string | number>;
  tables?: PrintedTable[];
}

/** One bar of the chart: a measured ratio against its target (both in "x"). */
interface Bar {
  label: string;
  ratio: number;
  target: number;
}

const ROOT = join(__dirname, '..', '..', '..');
const RESULTS = join(__dirname, '..', 'results');

function versions(): string {
  const packages = readdirSync(join(ROOT, 'packages'))
    .map((dir) => join(ROOT, 'packages', dir, 'package.json'))
    .filter((file) => existsSync(file))
    .map(
      (file) =>
        JSON.parse(readFileSync(file, 'utf8')) as {
          name: string;
          version: string;
          private?: boolean;
        },
    )
    .filter((m) => m.private !== true);
  return packages.map((m) => `${m.name}@${m.version}`).join(', ');
}

function markdown(table: PrintedTable): string {
  const line = (cells: string[]): string => `| ${cells.join(' | ')} |`;
  return [line(table.header), line(table.header.map(() => '---')), ...table.rows.map(line)].join(
    '\n',
  );
}

/**
 * Bars for every row with a ratio and a ratio target (`>= 0.5x`), from the row's target column or, when
 * one target covers the whole table, from its title (`target >= 0.5x`).
 */
function bars(suite: string, table: PrintedTable): Bar[] {
  const ratioAt = table.header.indexOf('ratio');
  const targetAt = table.header.indexOf('target');
  const tableTarget = /target >= ([\d.]+)x/.exec(table.title)?.[1];
  if (ratioAt < 0 || (targetAt < 0 && tableTarget === undefined)) return [];
  const out: Bar[] = [];
  for (const row of table.rows) {
    const targetText =
      targetAt >= 0 ? /^>=\s*([\d.,]+)x$/.exec((row[targetAt] ?? '').trim())?.[1] : tableTarget;
    const ratio = Number.parseFloat((row[ratioAt] ?? '').replace(/,/g, ''));
    if (targetText === undefined || !Number.isFinite(ratio)) continue;
    // The row's name: its leading cells that are words, not measurements.
    const name = row
      .slice(0, ratioAt)
      .filter((c) => c !== '' && !/^[\d.,]+$/.test(c))
      .slice(0, 2);
    out.push({
      label: `${suite}: ${name.join(', ')}`,
      ratio,
      target: Number(targetText.replace(/,/g, '')),
    });
  }
  return out;
}

/** A horizontal bar chart of measured/target (1 = exactly on target), log-scaled, as SVG. */
function chart(all: Bar[]): string {
  const width = 900;
  const left = 380;
  const row = 22;
  const height = 60 + all.length * row;
  const scale = (ratio: number): number => {
    const x = Math.log10(Math.max(ratio, 0.01));
    return left + ((x + 1) / 3) * (width - left - 40); // 0.1x .. 100x of target
  };
  const esc = (s: string): string =>
    s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="12">`,
    `<text x="10" y="20" font-size="14" font-weight="bold">triekv benchmarks: measured ratio / target ratio (log scale; right of the line = target met)</text>`,
  ];
  for (const tick of [0.1, 0.5, 1, 2, 10, 100]) {
    const x = scale(tick);
    parts.push(
      `<line x1="${x}" y1="35" x2="${x}" y2="${height - 10}" stroke="${tick === 1 ? '#000' : '#ddd'}" stroke-width="${tick === 1 ? 2 : 1}"/>`,
    );
    parts.push(`<text x="${x}" y="32" text-anchor="middle" fill="#666">${tick}x</text>`);
  }
  all.forEach((bar, i) => {
    const y = 45 + i * row;
    const relative = bar.ratio / bar.target;
    const x0 = scale(0.1);
    const x1 = scale(relative);
    const color = relative >= 1 ? '#2e8b57' : '#cc4444';
    parts.push(`<text x="${left - 8}" y="${y + 12}" text-anchor="end">${esc(bar.label)}</text>`);
    parts.push(
      `<rect x="${x0}" y="${y}" width="${Math.max(1, x1 - x0)}" height="${row - 6}" fill="${color}"/>`,
    );
    parts.push(
      `<text x="${x1 + 4}" y="${y + 12}" fill="#333">${bar.ratio}x (target ${bar.target}x)</text>`,
    );
  });
  parts.push('</svg>');
  return parts.join('\n');
}

/** Lays the report's tables out as the repository's prettier does (so `npm run lint` accepts it). */
function formatMarkdown(file: string): void {
  let bin: string;
  try {
    bin = require.resolve('prettier/bin/prettier.cjs');
  } catch {
    console.error('report: prettier not found; docs/benchmarks.md is left unformatted');
    return;
  }
  const run = spawnSync(process.execPath, [bin, '--write', file], { stdio: 'inherit' });
  if (run.status !== 0) console.error(`report: prettier failed on ${file}`);
}

/** `npm run bench -- report`: docs/benchmarks.md and docs/benchmarks.svg from the suites' JSON results. */
export function runReport(): Promise<void> {
  const results = ORDER.map((suite) => join(RESULTS, `${suite}.json`))
    .filter((file) => existsSync(file))
    .map((file) => JSON.parse(readFileSync(file, 'utf8')) as SuiteResult);
  if (results.length === 0) throw new Error('no results yet: run `npm run bench` first');
  const machine = results[0]?.machine ?? {};
  const lines: string[] = [
    '# triekv benchmarks',
    '',
    'Made by `npm run bench` (every suite, each in its own process, then this report; `npm run bench -- report`',
    'renders it again from `tools/bench/results/*.json`). Every suite measures triekv beside a baseline in the',
    'same run and reports ratios. The machine is a shared 2-core VM: timings vary by up to ±30% between runs.',
    '',
    `- Machine: ${String(machine.cpu)}, ${String(machine.cores)} cores, ${String(machine.memoryGiB)} GiB, ${String(machine.platform)}`,
    `- Node: ${String(machine.node)}`,
    `- Packages: ${versions()}`,
    `- Runs: ${results.map((r) => `${r.suite} ${r.date}`).join('; ')}`,
    '',
    '![measured ratio over target ratio](benchmarks.svg)',
    '',
  ];
  const allBars: Bar[] = [];
  for (const r of results) {
    lines.push(`## ${r.suite}`, '', `Command: \`npm run bench -- ${r.suite}\``, '');
    for (const table of r.tables ?? []) {
      lines.push(`**${table.title}**`, '', markdown(table), '');
      allBars.push(...bars(r.suite, table));
    }
  }
  const docs = join(ROOT, 'docs');
  mkdirSync(docs, { recursive: true });
  writeFileSync(join(docs, 'benchmarks.md'), `${lines.join('\n')}\n`);
  formatMarkdown(join(docs, 'benchmarks.md'));
  writeFileSync(join(docs, 'benchmarks.svg'), `${chart(allBars)}\n`);
  console.log(
    `wrote docs/benchmarks.md and docs/benchmarks.svg (${results.length} suites, ${allBars.length} targets)`,
  );
  return Promise.resolve();
}
