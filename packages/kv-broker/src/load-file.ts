import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { SingleBar } from 'cli-progress';
import { type Broker, type LoadOptions, type LoadSummary } from '@triekv/broker';
import { note, type Output } from './output.js';

/** Loads a data file through the broker: a progress bar on a terminal, then a summary, all on stderr. */
export async function loadFile(
  broker: Broker,
  path: string,
  options: Pick<
    LoadOptions,
    'maxLineLength' | 'loadTimeoutMs' | 'onRetry' | 'format' | 'duplicateKeys'
  > = {},
): Promise<LoadSummary> {
  const { size } = await stat(path);
  let bytes = 0;
  const stream = createReadStream(path);
  async function* counted(): AsyncGenerator<Buffer> {
    for await (const chunk of stream) {
      bytes += (chunk as Buffer).length;
      yield chunk as Buffer;
    }
  }
  const bar = process.stderr.isTTY
    ? new SingleBar({
        format:
          'loading |{bar}| {percentage}% | {records} records | {rate} records/s | ETA {eta_formatted}',
        stream: process.stderr,
        hideCursor: true,
        clearOnComplete: true,
      })
    : undefined;
  const started = performance.now();
  bar?.start(size, 0, { records: 0, rate: 0 });
  try {
    const summary = await broker.load(counted(), {
      ...options,
      onProgress: (p) => {
        const seconds = (performance.now() - started) / 1000;
        bar?.update(bytes, {
          records: p.records,
          rate: Math.round(p.records / Math.max(seconds, 0.001)),
        });
      },
    });
    bar?.update(size);
    return summary;
  } finally {
    bar?.stop();
  }
}

/** The load summary, on stderr. */
export function reportLoad(summary: LoadSummary, path: string, out: Pick<Output, 'color'>): void {
  const rate = Math.round(summary.records / Math.max(summary.seconds, 0.001));
  note(
    `loaded ${summary.records} records from ${path} (${summary.replicaWrites} replica writes) in ${summary.seconds.toFixed(2)} s, ${rate} records/s; ${summary.underReplicated} under-replicated; ${summary.rejected.length} rejected lines${summary.retries > 0 ? `; ${summary.retries} batches retried` : ''}`,
    out,
  );
  for (const r of summary.rejected) {
    const where = r.column === undefined ? `line ${r.line}` : `line ${r.line}, col ${r.column}`;
    const hint = r.code === 'LINE_TOO_LONG' ? ' (raise --max-line to load it)' : '';
    note(`  ${where}: ${r.reason}${hint}`, out, 'warn');
  }
  for (const w of summary.warnings) note(`WARNING: ${w}`, out, 'warn');
}
