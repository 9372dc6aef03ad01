import { readRecordBatches, type KvRecord, type ReadOptions } from '@triekv/record';
import { PutBatchWriter, encodeRecord } from '@triekv/protocol';
import { backoff } from './backoff.js';
import type { ClusterView } from './cluster.js';
import {
  DEFAULT_BATCHES_IN_FLIGHT,
  DEFAULT_BATCH_SIZE,
  DEFAULT_LOAD_RETRY_MAX_MS,
  DEFAULT_LOAD_RETRY_MIN_MS,
  DEFAULT_LOAD_TIMEOUT_MS,
} from './defaults.js';
import { OverloadedError, ServerDownError, TimeoutError, UnavailableError } from './errors.js';
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
   * How long a batch is retried while its server is slow (a timeout), overloaded or unreachable, ms:
   * with backoff (100 ms doubling to 2 s, ±25% jitter, sooner when the server comes back), so a pause
   * of a few seconds costs a few seconds. After it, the batch's records count as under-replicated.
   * It is also how long the load waits for a server to be up when none is. @default 30000
   */
  loadTimeoutMs?: number;
  /** Called when a batch is to be sent again: its server's name and why the last attempt failed. */
  onRetry?: (server: string, error: Error) => void;
  /**
   * Largest PUT_BATCH body sent, in bytes: a batch goes out early rather than grow past it, and a record
   * too large to fit one alone is rejected with its line. Keep it at or below the servers' `--max-frame`.
   * @default the broker's `maxFrameSize` (16 MiB)
   */
  maxFrameSize?: number;
}

/** Lines with repeated keys a load's summary names. */
const DUPLICATE_LINES_KEPT = 5;

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
  /** Batches sent again after their server was slow, overloaded or unreachable. */
  retries: number;
  /** Lines skipped: malformed, too long, or a record too large for a frame. */
  rejected: RejectedLine[];
  /**
   * Keys repeated inside a document, of which the last was kept (with `duplicateKeys: 'error'` such
   * lines are rejected instead): how many, and the first few lines they were on.
   */
  duplicateKeys: { count: number; lines: number[] };
  seconds: number;
  warnings: string[];
}

/**
 * Loads records from a stream of text (one per line), each onto k servers, in pipelined PUT_BATCHes per
 * server. Never holds the whole input: a bounded number of batches is in flight. Malformed lines are
 * reported with their line numbers and skipped.
 */
export async function load(
  cluster: ClusterView,
  source: AsyncIterable<Uint8Array | string>,
  options: LoadOptions = {},
): Promise<LoadSummary> {
  cluster.checkOpen(options);
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
  const maxFrameSize = options.maxFrameSize ?? cluster.maxFrameSize;
  const duplicateKeys = { count: 0, lines: [] as number[] };
  // A line as long as a frame can hold is read: the line limit is never what stops a large record.
  const readOptions = {
    ...options,
    maxLineLength: options.maxLineLength ?? maxFrameSize,
    onDuplicateKey: (key: string, at: { line: number; column: number }) => {
      duplicateKeys.count++;
      const lines = duplicateKeys.lines;
      if (lines.length < DUPLICATE_LINES_KEPT && lines[lines.length - 1] !== at.line)
        lines.push(at.line);
      options.onDuplicateKey?.(key, at);
    },
  };
  let records = 0;
  let replicaWrites = 0;
  /** The size of the last full batch: where the next one's buffer starts. */
  let batchBytes = 16 * 1024;

  const loadTimeoutMs = options.loadTimeoutMs ?? DEFAULT_LOAD_TIMEOUT_MS;
  let retries = 0;
  /** Why batches failed for good (a few are named in the warning). */
  const failures = new Set<string>();

  const send = async ({ server, writer, indexes }: Batch): Promise<void> => {
    let flying = inFlight.get(server);
    if (flying === undefined) inFlight.set(server, (flying = new Set()));
    while (flying.size >= DEFAULT_BATCHES_IN_FLIGHT) await Promise.race(flying);
    if (indexes.length === batchSize) batchBytes = writer.bytes;
    const sent = sendBatch(server, writer, options, loadTimeoutMs, (error) => {
      retries++;
      options.onRetry?.(server.name, error);
    })
      .then(
        () => {
          replicaWrites += indexes.length;
        },
        (error: unknown) => {
          // A load stopped by its signal rejects with the signal's reason, below.
          if (options.signal?.aborted === true) return;
          for (const i of indexes) short.add(i);
          failures.add((error as Error).message);
        },
      )
      .finally(() => flying.delete(sent));
    flying.add(sent);
  };

  /**
   * Adds the record to its servers' batches; returns the batches ready to send (usually none): full
   * ones, and ones that could not take it within the frame limit.
   */
  const place = async (record: KvRecord, line: number): Promise<Batch[] | undefined> => {
    let targets = cluster.writeTargets(record.key);
    if (targets.length === 0) {
      await cluster.waitForAnyServer(loadTimeoutMs, options.signal);
      targets = cluster.writeTargets(record.key);
      if (targets.length === 0)
        throw new UnavailableError(`no server is up to load into (waited ${loadTimeoutMs} ms)`);
    }
    const bytes = encodeRecord({
      key: record.key,
      value: record.value,
      version: cluster.clock.tick(),
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
    if (targets.length < cluster.k) short.add(index);
    // While data moves after a membership change, the previous members' replicas get it too.
    if (cluster.moving) targets = targets.concat(cluster.moveTargets(record.key, targets));
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
      const ready = await place(result.record, result.line);
      if (ready !== undefined) for (const batch of ready) await send(batch);
      if (records % batchSize === 0)
        options.onProgress?.({ records, replicaWrites, rejected: rejected.length });
    }
  }
  for (const batch of [...open.values()]) await send(batch);
  for (const flying of inFlight.values()) await Promise.all(flying);
  options.signal?.throwIfAborted();
  options.onProgress?.({ records, replicaWrites, rejected: rejected.length });
  const underReplicated = short.size;
  const warnings = cluster.downWarnings();
  if (duplicateKeys.count > 0)
    warnings.unshift(
      `${duplicateKeys.count} repeated ${duplicateKeys.count === 1 ? 'key' : 'keys'} inside documents: the last of each was kept (lines ${duplicateKeys.lines.join(', ')}${duplicateKeys.count > duplicateKeys.lines.length ? ', ...' : ''}; --strict refuses them)`,
    );
  if (underReplicated > 0)
    warnings.unshift(
      `${underReplicated} records reached fewer than ${cluster.k} replicas${failures.size > 0 ? ` (${[...failures].slice(0, 3).join('; ')})` : ''}`,
    );
  return {
    records,
    replicaWrites,
    underReplicated,
    retries,
    rejected,
    duplicateKeys,
    seconds: (performance.now() - started) / 1000,
    warnings,
  };
}

/** Failures a batch is sent again after: the server may be back, or less busy, in a moment. */
function retryable(error: unknown): boolean {
  return (
    error instanceof TimeoutError ||
    error instanceof ServerDownError ||
    error instanceof OverloadedError
  );
}

/**
 * Sends one batch, retrying with backoff while its server is slow, overloaded or down, until
 * `loadTimeoutMs` after the first attempt. Versions make a batch that did arrive the first time harmless
 * to send again. A retry sends a copy of the frame: the first may still sit in the socket's queue.
 */
async function sendBatch(
  server: ServerConnection,
  writer: PutBatchWriter,
  options: LoadOptions,
  loadTimeoutMs: number,
  onRetry: (error: Error) => void,
): Promise<void> {
  const deadline = performance.now() + loadTimeoutMs;
  for (let attempt = 0; ; attempt++) {
    try {
      // The load's own signal and timeoutMs are what each batch request takes.
      await server.requestFrame(
        (id) => (attempt === 0 ? writer.frame(id) : Buffer.from(writer.frame(id))),
        options,
      );
      return;
    } catch (error) {
      options.signal?.throwIfAborted();
      const wait = backoff(attempt, DEFAULT_LOAD_RETRY_MIN_MS, DEFAULT_LOAD_RETRY_MAX_MS);
      if (!retryable(error) || performance.now() + wait > deadline) throw error;
      onRetry(error as Error);
      await server.whenUp(wait, options.signal);
    }
  }
}
