import { readRecordBatches, type KvRecord, type ReadOptions } from '@triekv/record';
import { PutBatchWriter, encodeRecord } from '@triekv/protocol';
import type { Broker } from './broker.js';
import { DEFAULT_BATCHES_IN_FLIGHT, DEFAULT_BATCH_SIZE } from './defaults.js';
import { UnavailableError } from './errors.js';
import type { ServerConnection } from './server-connection.js';

/** Progress of a load, reported after each batch is sent. */
export interface LoadProgress {
  records: number;
  replicaWrites: number;
  rejected: number;
  bytes?: number;
}

/** Options for `load`. */
export interface LoadOptions extends ReadOptions {
  /** Called as the load goes. */
  onProgress?: (progress: LoadProgress) => void;
  /** Records per PUT_BATCH. @default 500 */
  batchSize?: number;
  /** Stops the load (it rejects with the signal's reason). */
  signal?: AbortSignal;
  /** Time for each batch's reply, ms. @default the broker's request timeout */
  timeoutMs?: number;
  /**
   * Largest PUT_BATCH body sent, in bytes: a batch goes out early rather than grow past it, and a record
   * too large to fit one alone is rejected with its line. Keep it at or below the servers' `--max-frame`.
   * @default the broker's `maxFrameSize` (16 MiB)
   */
  maxFrameSize?: number;
}

/** A batch being filled for one server: the records' bytes, and their indexes in the input. */
interface Batch {
  server: ServerConnection;
  writer: PutBatchWriter;
  indexes: number[];
}

/** A line a load skipped, and why. */
export interface RejectedLine {
  line: number;
  /** Where in the line the problem is (1-based, in code points), when it is a parse error. */
  column?: number;
  /** `LINE_TOO_LONG`, `TOO_LARGE` (the record does not fit a frame), or the parse error's code. */
  code: string;
  reason: string;
}

/** What a load did. */
export interface LoadSummary {
  records: number;
  replicaWrites: number;
  /** Records that reached fewer than k replicas. */
  underReplicated: number;
  /** Lines skipped: malformed, too long, or a record too large for a frame. */
  rejected: RejectedLine[];
  seconds: number;
  warnings: string[];
}

/**
 * Loads records from a stream of text (one per line), each onto k servers, in pipelined PUT_BATCHes per
 * server. Never holds the whole input: a bounded number of batches is in flight. Malformed lines are
 * reported with their line numbers and skipped.
 */
export async function load(
  broker: Broker,
  source: AsyncIterable<Uint8Array | string>,
  options: LoadOptions = {},
): Promise<LoadSummary> {
  broker.checkOpen(options);
  const started = performance.now();
  const batchSize = options.batchSize ?? DEFAULT_BATCH_SIZE;
  // Only what went wrong is remembered (records placed on fewer than k servers, records in a failed
  // batch), so memory stays flat however long the input.
  const short = new Set<number>();
  // Per server, the batch being filled: each record is encoded once and its bytes copied into the
  // batch of every server it goes to, so no record object outlives its placing.
  const open = new Map<ServerConnection, Batch>();
  const inFlight = new Map<ServerConnection, Set<Promise<void>>>();
  const rejected: RejectedLine[] = [];
  const maxFrameSize = options.maxFrameSize ?? broker.maxFrameSize;
  // A line as long as a frame can hold is read: the line limit is never what stops a large record.
  const readOptions = { ...options, maxLineLength: options.maxLineLength ?? maxFrameSize };
  let records = 0;
  let replicaWrites = 0;
  /** The size of the last full batch: where the next one's buffer starts. */
  let batchBytes = 16 * 1024;

  const send = async ({ server, writer, indexes }: Batch): Promise<void> => {
    let flying = inFlight.get(server);
    if (flying === undefined) inFlight.set(server, (flying = new Set()));
    while (flying.size >= DEFAULT_BATCHES_IN_FLIGHT) await Promise.race(flying);
    if (indexes.length === batchSize) batchBytes = writer.bytes;
    const sent = server
      // The load's own signal and timeoutMs are what each batch request takes.
      .requestFrame((id) => writer.frame(id), options)
      .then(
        () => {
          replicaWrites += indexes.length;
        },
        () => {
          for (const i of indexes) short.add(i);
        },
      )
      .finally(() => flying.delete(sent));
    flying.add(sent);
  };

  /**
   * Adds the record to its servers' batches; returns the batches ready to send (usually none): full
   * ones, and ones that could not take it within the frame limit.
   */
  const place = (record: KvRecord, line: number): Batch[] | undefined => {
    const targets = broker.writeTargets(record.key);
    if (targets.length === 0) throw new UnavailableError('no server is up to load into');
    const bytes = encodeRecord({
      key: record.key,
      value: record.value,
      version: broker.clock.tick(),
    });
    if (!PutBatchWriter.fitsAlone(bytes, maxFrameSize)) {
      rejected.push({
        line,
        code: 'TOO_LARGE',
        reason: `the record takes ${bytes.length} bytes, more than a frame holds (${maxFrameSize})`,
      });
      return undefined;
    }
    const index = records++;
    if (targets.length < broker.k) short.add(index);
    let ready: Batch[] | undefined;
    for (const server of targets) {
      let batch = open.get(server);
      if (batch !== undefined && !batch.writer.fits(bytes)) {
        (ready ??= []).push(batch);
        batch = undefined;
      }
      if (batch === undefined) {
        batch = { server, writer: new PutBatchWriter(batchBytes, maxFrameSize), indexes: [] };
        open.set(server, batch);
      }
      batch.writer.add(bytes);
      batch.indexes.push(index);
      if (batch.indexes.length >= batchSize) {
        (ready ??= []).push(batch);
        open.delete(server);
      }
    }
    return ready;
  };

  // A chunk of the input at a time: no promise per record, only per full batch.
  for await (const batch of readRecordBatches(source, readOptions)) {
    options.signal?.throwIfAborted();
    for (const result of batch) {
      if ('error' in result) {
        const { code, column, detail } = result.error;
        rejected.push(
          code === 'LINE_TOO_LONG'
            ? { line: result.line, code, reason: detail }
            : { line: result.line, column, code, reason: detail },
        );
        continue;
      }
      const ready = place(result.record, result.line);
      if (ready !== undefined) for (const batch of ready) await send(batch);
      if (records % batchSize === 0)
        options.onProgress?.({ records, replicaWrites, rejected: rejected.length });
    }
  }
  for (const batch of [...open.values()]) await send(batch);
  for (const flying of inFlight.values()) await Promise.all(flying);
  options.onProgress?.({ records, replicaWrites, rejected: rejected.length });
  const underReplicated = short.size;
  const warnings = broker.downWarnings();
  if (underReplicated > 0)
    warnings.unshift(`${underReplicated} records reached fewer than ${broker.k} replicas`);
  return {
    records,
    replicaWrites,
    underReplicated,
    rejected,
    seconds: (performance.now() - started) / 1000,
    warnings,
  };
}
