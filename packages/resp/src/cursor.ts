import { utf8Text } from './bytes.js';
import { RespError } from './session.js';

/**
 * SCAN cursors that are keys: the decimal number of the bytes 0x01 + the UTF-8 of the last key
 * returned (a cursor is a number to Redis clients, and `0` is the start and the end). A scan resumed
 * from one carries on after that key, so a key present for the whole scan is returned exactly once
 * however the set changes meanwhile.
 */
export function encodeCursor(key: string): string {
  return BigInt(`0x01${Buffer.from(key, 'utf8').toString('hex')}`).toString(10);
}

/**
 * A cursor that is not one `encodeCursor` made: an error reply, `ERR invalid cursor`, as Redis
 * answers it (a command that throws it answers with it).
 */
export class CursorError extends RespError {
  constructor() {
    super('ERR invalid cursor');
    this.name = 'CursorError';
  }
}

/** Longest cursor read, in digits: a key of about 1.7 KB (longer cursors are refused). */
const MAX_CURSOR_DIGITS = 4096;

/** The key a cursor resumes after, or undefined for `0` (the start); throws a `CursorError`. */
export function decodeCursor(cursor: string): string | undefined {
  if (cursor === '0') return undefined;
  if (!/^[1-9][0-9]*$/.test(cursor) || cursor.length > MAX_CURSOR_DIGITS) throw new CursorError();
  let hex = BigInt(cursor).toString(16);
  if (hex.length % 2 !== 0) hex = `0${hex}`;
  if (!hex.startsWith('01')) throw new CursorError();
  const key = utf8Text(Buffer.from(hex.slice(2), 'hex'));
  if (key === undefined) throw new CursorError();
  return key;
}
