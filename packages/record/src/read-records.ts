import { StringDecoder } from 'node:string_decoder';
import { DEFAULT_MAX_LINE_LENGTH } from './defaults.js';
import { LineTooLongError, ParseError } from './errors.js';
import { parseRecord, type ParseOptions } from './parse.js';
import { JsonSplitter, piecesToRecords } from './read-json.js';
import type { KvRecord } from './value.js';

/** One line's outcome: a record, or the error that made the reader skip it. */
export type ReadResult = { line: number; record: KvRecord } | { line: number; error: ParseError };

/** What an input holds: `text` (one record per line), `json`, or `auto` (told by its first character). */
export type InputFormat = 'text' | 'json' | 'auto';

/** Options for `readRecords`: the parse limits (the line number is the reader's), and the format. */
export interface ReadOptions extends Omit<ParseOptions, 'line'> {
  /**
   * `text`: one record per line. `json`: JSON Lines (one object per line, each member a record), or
   * one JSON object of records, or one JSON array of such objects, read a record at a time (never
   * whole). `auto`: JSON when the first character that is not blank or in a `#` comment line is `{`
   * or `[` (no text record starts so), else text. `maxLineLength` bounds each record's text in JSON.
   * @default 'auto'
   */
  format?: InputFormat;
}

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
  const decoder = new StringDecoder('utf8');
  const chunks = decoded(source, decoder);
  const format = options?.format ?? 'auto';
  if (format === 'text') {
    yield* textBatches(chunks, options);
    return;
  }
  // What the format is told by is read first, and handed on with the rest.
  const head: string[] = [];
  let json = format === 'json';
  if (format === 'auto') {
    // Read by hand: leaving a for-await loop early would end the generator.
    let seen = '';
    for (;;) {
      const next = await chunks.next();
      if (next.done === true) break;
      head.push(next.value);
      seen += next.value;
      const first = firstSignificant(seen);
      if (first !== undefined) {
        json = first === '{' || first === '[';
        break;
      }
      // Only the last (unfinished) line matters for what follows.
      seen = seen.slice(seen.lastIndexOf('\n') + 1);
    }
  }
  const all = prepend(head, chunks);
  if (json) yield* jsonBatches(all, options);
  else yield* textBatches(all, options);
}

/** The first character that is neither blank nor in a `#` comment line; undefined if none yet. */
function firstSignificant(text: string): string | undefined {
  let i = 0;
  for (;;) {
    while (i < text.length && /\s/.test(text[i] as string)) i++;
    if (i >= text.length) return undefined;
    if (text[i] !== '#') return text[i];
    const newline = text.indexOf('\n', i);
    if (newline < 0) return undefined;
    i = newline + 1;
  }
}

async function* decoded(
  source: AsyncIterable<Uint8Array | string>,
  decoder: StringDecoder,
): AsyncGenerator<string> {
  for await (const chunk of source) yield typeof chunk === 'string' ? chunk : decoder.write(chunk);
  const rest = decoder.end();
  if (rest.length > 0) yield rest;
}

async function* prepend(head: string[], rest: AsyncIterator<string>): AsyncGenerator<string> {
  yield* head;
  for (;;) {
    const next = await rest.next();
    if (next.done === true) return;
    yield next.value;
  }
}

async function* jsonBatches(
  chunks: AsyncIterable<string>,
  options: ReadOptions | undefined,
): AsyncGenerator<ReadResult[], void, undefined> {
  const splitter = new JsonSplitter(options?.maxLineLength ?? DEFAULT_MAX_LINE_LENGTH);
  for await (const text of chunks) {
    const batch = piecesToRecords(splitter.push(text), options);
    if (batch.length > 0) yield batch;
  }
  const last = piecesToRecords(splitter.end(), options);
  if (last.length > 0) yield last;
}

async function* textBatches(
  chunks: AsyncIterable<string>,
  options: ReadOptions | undefined,
): AsyncGenerator<ReadResult[], void, undefined> {
  const limit = options?.maxLineLength ?? DEFAULT_MAX_LINE_LENGTH;
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

  for await (const text of chunks) {
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
  if (pending.length > 0 || overflow) finish(pending);
  if (batch.length > 0) yield batch;
}
