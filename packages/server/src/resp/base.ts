import type { HybridClock, Stats } from '@triekv/protocol';
import { Float, type Value } from '@triekv/record';
import {
  NOT_INTEGER,
  RespError,
  formatDouble,
  utf8Text,
  type RespSession,
  type RespWriter,
  type ScanCursors,
  type SessionContext,
} from '@triekv/resp';

export { NOT_INTEGER, RespError, SYNTAX, sameSecret, upper, type RespSession } from '@triekv/resp';
import type { Logger } from 'pino';
import type { Counters } from '../stats.js';
import { bytesLength, bytesStart } from '../packed.js';
import type { Store } from '../store.js';

/** What the commands need from the server. */
export interface RespContext extends SessionContext {
  store: Store;
  /** Stamps writes made over RESP, like a broker stamps its own. */
  clock: HybridClock;
  journal?: ((key: string, record: string) => void) | undefined;
  maxKeyLength: number;
  maxScan: number;
  /** SCAN's cursors: the last key of each page, behind a number that fits in 64 bits. */
  cursors: ScanCursors;
  counters: Counters;
  log: Logger;
  /** The RESP port, the native port and the server's name, for INFO. */
  ports: () => { resp: number; native: number };
  stats: () => Stats;
  persistence: () => { enabled: boolean; fsync?: string; logBytes?: number; compactions?: number };
}

/** The RESP command helpers shared by the string, key and JSON commands. */

export const WRONGTYPE = 'WRONGTYPE Operation against a key holding the wrong kind of value';
export const NOT_FLOAT = 'ERR value is not a valid float';
export const INT64_MAX = 2n ** 63n - 1n;
export const INT64_MIN = -(2n ** 63n);

export type Handler = (ctx: RespContext, s: RespSession, args: Buffer[], w: RespWriter) => void;

/** A key as the trie holds it: the client's bytes must be UTF-8 text. */
export function keyOf(ctx: RespContext, bytes: Buffer): string {
  const key = utf8Text(bytes);
  if (key === undefined)
    throw new RespError('ERR triekv keys are text: this key is not valid UTF-8');
  if (key.length > ctx.maxKeyLength)
    throw new RespError(`ERR key longer than ${ctx.maxKeyLength} (maxKeyLength)`);
  return key;
}

/** The bytes a string command sees of a value, or undefined for a value that is not a string. */
export function stringOf(value: Value): Buffer | undefined {
  if (value instanceof Uint8Array) return Buffer.from(value.buffer, value.byteOffset, value.length);
  if (typeof value === 'string') return Buffer.from(value, 'utf8');
  if (typeof value === 'bigint') return Buffer.from(String(value));
  if (typeof value === 'number')
    return Buffer.from(Number.isInteger(value) ? String(value) : formatDouble(value));
  if (value instanceof Float) return Buffer.from(formatDouble(value.value));
  return undefined;
}

/** The string at `key`: bytes, null when there is none, WRONGTYPE for a document or list. */
export function readString(ctx: RespContext, key: string): Buffer | null {
  const value = ctx.store.value(key);
  if (value === undefined) return null;
  const bytes = stringOf(value);
  if (bytes === undefined) throw new RespError(WRONGTYPE);
  return bytes;
}

/**
 * Stores `value` under `key` at a new version, in the log too. The value's bytes are copied into the
 * packed record: a buffer the parser handed over is not kept.
 */
export function writeValue(ctx: RespContext, key: string, value: Value): void {
  const result = ctx.store.putStamped(key, value, ctx.clock);
  if (!result.applied)
    throw new RespError(
      'ERR a newer version of this key is stored (written with a clock ahead of this server): not written',
    );
  ctx.journal?.(key, result.record as string);
}

/** Deletes `key` at a new version; whether a live record was there. */
export function deleteKey(ctx: RespContext, key: string): boolean {
  if (!ctx.store.has(key)) return false;
  const result = ctx.store.deleteStamped(key, ctx.clock);
  if (result.applied) ctx.journal?.(key, result.record as string);
  return result.existed;
}

export function parseInt64(bytes: Buffer | string, error = NOT_INTEGER): bigint {
  const text = typeof bytes === 'string' ? bytes : bytes.toString('latin1');
  if (!/^-?(0|[1-9][0-9]{0,18})$/.test(text)) throw new RespError(error);
  const n = BigInt(text);
  if (n > INT64_MAX || n < INT64_MIN) throw new RespError(error);
  return n;
}

export function parseFloatArg(bytes: Buffer): number {
  const text = bytes.toString('latin1').trim();
  if (text.length === 0 || bytes.length !== text.length) throw new RespError(NOT_FLOAT);
  const n = /^[+-]?inf$/i.test(text) ? (text.startsWith('-') ? -Infinity : Infinity) : Number(text);
  if (Number.isNaN(n)) throw new RespError(NOT_FLOAT);
  return n;
}

/** GET's reply: the string at `key` (bytes copied straight from its record), nil, or WRONGTYPE. */
export function writeString(ctx: RespContext, w: RespWriter, key: string): void {
  const packed = ctx.store.record(key);
  if (packed === undefined) return w.null();
  const start = bytesStart(packed);
  if (start >= 0) return w.bulkUnits(packed, start, bytesLength(packed));
  w.bulk(readString(ctx, key));
}

/** A small decimal int (at most 15 digits: exact in a double) read without a string, or undefined. */
function smallInt(bytes: Buffer): number | undefined {
  const negative = bytes[0] === 0x2d;
  const start = negative ? 1 : 0;
  const length = bytes.length - start;
  if (length < 1 || length > 15 || (bytes[start] === 0x30 && length > 1)) return undefined;
  let n = 0;
  for (let i = start; i < bytes.length; i++) {
    const d = (bytes[i] as number) - 0x30;
    if (d < 0 || d > 9) return undefined;
    n = n * 10 + d;
  }
  return negative ? -n : n;
}

export function incrBy(ctx: RespContext, key: string, by: bigint, w: RespWriter): void {
  const current = readString(ctx, key);
  // Counters are small: their arithmetic stays in doubles, exact below 2^53.
  const small = current === null ? 0 : smallInt(current);
  const step = Number(by);
  if (small !== undefined && Number.isSafeInteger(small + step) && Math.abs(step) < 2 ** 52) {
    const next = small + step;
    writeValue(ctx, key, Buffer.from(String(next), 'latin1'));
    return w.integer(next);
  }
  const n = current === null ? 0n : parseInt64(current);
  const next = n + by;
  if (next > INT64_MAX || next < INT64_MIN)
    throw new RespError('ERR increment or decrement would overflow');
  writeValue(ctx, key, Buffer.from(String(next)));
  w.integer(
    next >= BigInt(Number.MIN_SAFE_INTEGER) && next <= BigInt(Number.MAX_SAFE_INTEGER)
      ? Number(next)
      : next,
  );
}
