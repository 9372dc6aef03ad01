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
}

/** What a load did. */
export interface LoadSummary {
  records: number;
  replicaWrites: number;
  /** Records that reached fewer than k replicas. */
  underReplicated: number;
  /** Malformed lines, skipped: line number and reason. */
  rejected: { line: number; reason: string }[];
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
  broker.checkOpen();
  const started = performance.now();
  const batchSize = options.batchSize ?? DEFAULT_BATCH_SIZE;
  const call = {
    ...(options.signal === undefined ? {} : { signal: options.signal }),
    ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
  };
  // Only what went wrong is remembered (records placed on fewer than k servers, records in a failed
  // batch), so memory stays flat however long the input.
  const short = new Set<number>();
  // Per server, the batch being filled: each record is encoded once and its bytes copied into the
  // batch of every server it goes to, so no record object outlives its placing.
  const buffers = new Map<ServerConnection, { writer: PutBatchWriter; indexes: number[] }>();
  const inFlight = new Map<ServerConnection, Set<Promise<void>>>();
  const rejected: { line: number; reason: string }[] = [];
  let records = 0;
  let replicaWrites = 0;
  /** The size of the last full batch: where the next one's buffer starts. */
  let batchBytes = 16 * 1024;

  const flush = async (server: ServerConnection): Promise<void> => {
    const buffer = buffers.get(server);
    if (buffer === undefined || buffer.indexes.length === 0) return;
    buffers.delete(server);
    let flying = inFlight.get(server);
    if (flying === undefined) inFlight.set(server, (flying = new Set()));
    while (flying.size >= DEFAULT_BATCHES_IN_FLIGHT) await Promise.race(flying);
    const { writer, indexes } = buffer;
    if (indexes.length === batchSize) batchBytes = writer.bytes;
    const sent = server
      .requestFrame((id) => writer.frame(id), call)
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

  /** Adds the record to its servers' batches; says which batches are full (usually none). */
  const place = (record: KvRecord): ServerConnection[] | undefined => {
    const index = records++;
    const targets = broker.writeTargets(record.key);
    if (targets.length === 0) throw new UnavailableError('no server is up to load into');
    if (targets.length < broker.k) short.add(index);
    const bytes = encodeRecord({
      key: record.key,
      value: record.value,
      version: broker.clock.tick(),
    });
    let full: ServerConnection[] | undefined;
    for (const server of targets) {
      let buffer = buffers.get(server);
      if (buffer === undefined)
        buffers.set(server, (buffer = { writer: new PutBatchWriter(batchBytes), indexes: [] }));
      buffer.writer.add(bytes);
      buffer.indexes.push(index);
      if (buffer.indexes.length >= batchSize) (full ??= []).push(server);
    }
    return full;
  };

  // A chunk of the input at a time: no promise per record, only per full batch.
  for await (const batch of readRecordBatches(source, options)) {
    options.signal?.throwIfAborted();
    for (const result of batch) {
      if ('error' in result) {
        rejected.push({ line: result.line, reason: result.error.detail });
        continue;
      }
      const full = place(result.record);
      if (full !== undefined) for (const server of full) await flush(server);
      if (records % batchSize === 0)
        options.onProgress?.({ records, replicaWrites, rejected: rejected.length });
    }
  }
  for (const server of [...buffers.keys()]) await flush(server);
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
