import { randomInt } from 'node:crypto';
import { RespError } from './session.js';

/**
 * A cursor that is not one this table made, or one that has aged out of it: an error reply,
 * `ERR invalid cursor`, as Redis answers a cursor it cannot read (a command that throws it answers
 * with it).
 */
export class CursorError extends RespError {
  constructor(why?: string) {
    super(why === undefined ? 'ERR invalid cursor' : `ERR invalid cursor: ${why}`);
    this.name = 'CursorError';
  }
}

/** Cursors a table keeps by default (Kvrocks keeps the same number). */
export const DEFAULT_SCAN_CURSORS = 16_384;
/** Key text a table keeps by default, in UTF-16 code units (about 32 MB at most). */
export const DEFAULT_SCAN_CURSOR_UNITS = 16 * 1024 * 1024;

/** Bits of a cursor's counter; above them sit the table's epoch bits. */
const COUNTER_BITS = 40n;
const COUNTER_MASK = (1n << COUNTER_BITS) - 1n;
/** Epochs are 1..2^22-1: a cursor is below 2^62, so it reads as a signed or unsigned 64-bit number. */
const EPOCHS = 1 << 22;
/** A decimal number below 2^62 has at most 19 digits. */
const MAX_DIGITS = 19;

/**
 * SCAN cursors: each is a number below 2^62 that stands for the last key a page returned, kept in a
 * bounded table on the server (or gateway) that gave it. A scan resumed from one carries on after that
 * key, so a key present for the whole scan is returned exactly once however the set changes meanwhile,
 * and every Redis client can hold the cursor (redis-cli and go-redis read it as an unsigned 64-bit
 * number, Jedis as a signed one).
 *
 * The table keeps the newest `maxCursors` cursors and at most `maxUnits` code units of key text; the
 * oldest go first. A page ending on a key that already has a cursor reuses it (and makes it new again),
 * so many clients scanning the same keys cost one entry per key. The high bits of every cursor are an
 * epoch drawn when the table is made, so a cursor from another table or from before a restart is
 * refused (`ERR invalid cursor: ...`), never read as some other key.
 */
export class ScanCursors {
  private readonly keys = new Map<bigint, string>();
  private readonly ids = new Map<string, bigint>();
  private readonly epoch = BigInt(randomInt(1, EPOCHS)) << COUNTER_BITS;
  private counter = 0n;
  private units = 0;

  constructor(
    readonly maxCursors: number = DEFAULT_SCAN_CURSORS,
    readonly maxUnits: number = DEFAULT_SCAN_CURSOR_UNITS,
  ) {
    if (!Number.isSafeInteger(maxCursors) || maxCursors < 1)
      throw new TypeError(
        `scanCursors (cursors kept) must be a whole number >= 1, got ${String(maxCursors)}`,
      );
    if (!Number.isSafeInteger(maxUnits) || maxUnits < 1)
      throw new TypeError(
        `the key text kept for SCAN cursors must be a whole number >= 1, got ${String(maxUnits)}`,
      );
  }

  /** Cursors kept now. */
  get size(): number {
    return this.keys.size;
  }

  /** The cursor of a page whose last key is `key` (never `0`, which is the start and the end). */
  encode(key: string): string {
    const known = this.ids.get(key);
    if (known !== undefined) {
      // Made new again: the oldest cursors are the ones nobody has resumed from lately.
      this.keys.delete(known);
      this.keys.set(known, key);
      return known.toString();
    }
    this.counter = (this.counter + 1n) & COUNTER_MASK;
    if (this.counter === 0n) this.counter = 1n;
    const id = this.epoch | this.counter;
    // A counter that has wrapped round meets its own oldest cursors: that one goes.
    this.forget(id);
    this.keys.set(id, key);
    this.ids.set(key, id);
    this.units += key.length;
    while (this.keys.size > this.maxCursors || (this.units > this.maxUnits && this.keys.size > 1)) {
      this.forget(this.keys.keys().next().value as bigint);
    }
    return id.toString();
  }

  /** The key a cursor resumes after, or undefined for `0` (the start); throws a `CursorError`. */
  decode(cursor: string): string | undefined {
    if (cursor === '0') return undefined;
    if (!/^[1-9][0-9]*$/.test(cursor) || cursor.length > MAX_DIGITS) throw new CursorError();
    const id = BigInt(cursor);
    if ((id & ~COUNTER_MASK) !== this.epoch) throw new CursorError();
    const key = this.keys.get(id);
    if (key === undefined) {
      throw new CursorError(
        `this cursor has expired (the server keeps its newest ${this.maxCursors} SCAN cursors); start again from 0`,
      );
    }
    return key;
  }

  private forget(id: bigint): void {
    const key = this.keys.get(id);
    if (key === undefined) return;
    this.keys.delete(id);
    this.ids.delete(key);
    this.units -= key.length;
  }
}
