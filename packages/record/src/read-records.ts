import { StringDecoder } from 'node:string_decoder';
import { DEFAULT_MAX_LINE_LENGTH } from './defaults.js';
import { LineTooLongError, ParseError } from './errors.js';
import { parseRecord, type ParseOptions } from './parse.js';
import type { KvRecord } from './value.js';

/** One line's outcome: a record, or the error that made the reader skip it. */
export type ReadResult = { line: number; record: KvRecord } | { line: number; error: ParseError };

/** Options for `readRecords`: the parse limits (the line number is the reader's). */
export type ReadOptions = Omit<ParseOptions, 'line'>;

/** Lines that hold no record: blank, whitespace only, or a `#` comment. */
function isSkippable(line: string): boolean {
  const trimmed = line.trimStart();
  return trimmed.length === 0 || trimmed.charCodeAt(0) === 0x23;
}

/**
 * Reads records from a stream of UTF-8 bytes (a file, a socket, stdin), one per line, yielding each
 * record or the error for a malformed line, with its line number, and going on after errors. Blank lines
 * and `#` comments are skipped. Memory stays bounded by `maxLineLength`: a longer line is dropped while
 * it streams past and reported as `LINE_TOO_LONG`.
 */
export async function* readRecords(
  source: AsyncIterable<Uint8Array | string>,
  options?: ReadOptions,
): AsyncGenerator<ReadResult, void, undefined> {
  for await (const batch of readRecordBatches(source, options)) yield* batch;
}

/**
 * `readRecords` a chunk of the stream at a time: each batch holds the results of the lines completed by
 * one chunk, in order (often hundreds). For bulk consumers (a load), it saves a promise and a generator
 * step per record.
 */
export async function* readRecordBatches(
  source: AsyncIterable<Uint8Array | string>,
  options?: ReadOptions,
): AsyncGenerator<ReadResult[], void, undefined> {
  const limit = options?.maxLineLength ?? DEFAULT_MAX_LINE_LENGTH;
  const decoder = new StringDecoder('utf8');
  // One options object for every line: parseRecord reads it and keeps nothing of it.
  const parseOptions: ParseOptions = { ...options, line: 0 };
  let pending = '';
  let overflow = false;
  let lineNumber = 0;
  let batch: ReadResult[] = [];

  const finish = (line: string): void => {
    lineNumber++;
    if (overflow) {
      overflow = false;
      batch.push({ line: lineNumber, error: new LineTooLongError(limit, lineNumber) });
      return;
    }
    if (line.endsWith('\r')) line = line.slice(0, -1);
    if (isSkippable(line)) return;
    parseOptions.line = lineNumber;
    try {
      batch.push({ line: lineNumber, record: parseRecord(line, parseOptions) });
    } catch (error) {
      if (!(error instanceof ParseError)) throw error;
      batch.push({ line: lineNumber, error });
    }
  };

  for await (const chunk of source) {
    const text = typeof chunk === 'string' ? chunk : decoder.write(chunk);
    let start = 0;
    for (;;) {
      const newline = text.indexOf('\n', start);
      if (newline < 0) break;
      const piece = text.slice(start, newline);
      finish(pending.length > 0 ? pending + piece : piece);
      pending = '';
      start = newline + 1;
    }
    if (batch.length > 0) {
      yield batch;
      batch = [];
    }
    if (overflow) continue;
    pending += text.slice(start);
    if (pending.length > limit) {
      overflow = true;
      pending = '';
    }
  }
  pending += decoder.end();
  if (pending.length > 0 || overflow) finish(pending);
  if (batch.length > 0) yield batch;
}
