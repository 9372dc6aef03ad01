import { isUtf8 } from 'node:buffer';
import { BIGINT_EXT, FLOAT_EXT } from './defaults.js';

/** What one msgpack value may hold, checked before anything is built from it. */
export interface ScanLimits {
  /** Deepest nesting of arrays and maps. */
  maxNesting: number;
  /** Most array elements and map entries in all, at every depth. */
  maxItems: number;
  /** Largest integer, in bytes of its magnitude (msgpack's bigint extension beyond 64 bits). */
  maxIntBytes: number;
}

/**
 * Why a value was refused: `limit` (over a limit), `value` (something we never accept, or nested too
 * deeply) or `corrupt` (not msgpack).
 */
export interface ScanProblem {
  kind: 'limit' | 'value' | 'corrupt';
  reason: string;
}

/**
 * Walks the msgpack value in `bytes[start..end)` without building anything, in time linear in its
 * bytes, and says what is wrong with it, if anything: an extension type other than ours (a Float, and
 * a bigint within `maxIntBytes`), nesting or item counts over the limits. msgpackr's structured-clone
 * references (extensions 0x69/0x70) are refused here, so a small frame can never describe a tree of
 * 2^depth nodes. Truncated or malformed bytes are not judged (undefined): the decoder says what is
 * wrong with them.
 */
export function scanMsgpack(
  bytes: Uint8Array,
  start: number,
  end: number,
  limits: ScanLimits,
): ScanProblem | undefined {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let at = start;
  let items = 0;
  // Values still to read at each open level; the top level has one.
  const pending: number[] = [1];
  const need = (n: number): boolean => at + n <= end;
  while (pending.length > 0) {
    const top = pending.length - 1;
    if (pending[top] === 0) {
      pending.pop();
      continue;
    }
    pending[top] = (pending[top] as number) - 1;
    if (!need(1)) return undefined;
    const b = bytes[at++] as number;
    let children = -1;
    let isMap = false;
    /** A string: its bytes must be UTF-8 (checked once they are known to be there). */
    let str = false;
    let skip = 0;
    if (b <= 0x7f || b >= 0xe0 || b === 0xc0 || b === 0xc2 || b === 0xc3) skip = 0;
    else if (b <= 0x8f) {
      children = (b & 0x0f) * 2;
      isMap = true;
    } else if (b <= 0x9f) children = b & 0x0f;
    else if (b <= 0xbf) {
      skip = b & 0x1f;
      str = true;
    } else {
      switch (b) {
        case 0xc4:
        case 0xd9:
          if (!need(1)) return undefined;
          str = b === 0xd9;
          skip = 1 + (bytes[at] as number);
          break;
        case 0xc5:
        case 0xda:
          if (!need(2)) return undefined;
          str = b === 0xda;
          skip = 2 + view.getUint16(at);
          break;
        case 0xc6:
        case 0xdb:
          if (!need(4)) return undefined;
          str = b === 0xdb;
          skip = 4 + view.getUint32(at);
          break;
        case 0xcc:
        case 0xd0:
          skip = 1;
          break;
        case 0xcd:
        case 0xd1:
          skip = 2;
          break;
        case 0xca:
        case 0xce:
        case 0xd2:
          skip = 4;
          break;
        case 0xcb:
        case 0xcf:
        case 0xd3:
          skip = 8;
          break;
        case 0xdc:
          if (!need(2)) return undefined;
          children = view.getUint16(at);
          at += 2;
          break;
        case 0xdd:
          if (!need(4)) return undefined;
          children = view.getUint32(at);
          at += 4;
          break;
        case 0xde:
          if (!need(2)) return undefined;
          children = view.getUint16(at) * 2;
          isMap = true;
          at += 2;
          break;
        case 0xdf:
          if (!need(4)) return undefined;
          children = view.getUint32(at) * 2;
          isMap = true;
          at += 4;
          break;
        default: {
          // Extensions: fixext 1/2/4/8/16 (0xd4-0xd8), ext 8/16/32 (0xc7-0xc9).
          let length: number;
          if (b >= 0xd4 && b <= 0xd8) length = 1 << (b - 0xd4);
          else if (b === 0xc7) {
            if (!need(1)) return undefined;
            length = bytes[at++] as number;
          } else if (b === 0xc8) {
            if (!need(2)) return undefined;
            length = view.getUint16(at);
            at += 2;
          } else if (b === 0xc9) {
            if (!need(4)) return undefined;
            length = view.getUint32(at);
            at += 4;
          } else return { kind: 'corrupt', reason: `byte 0x${b.toString(16)} is not msgpack` };
          if (!need(1)) return undefined;
          const type = bytes[at++] as number;
          if (type === FLOAT_EXT) {
            if (length !== 8)
              return {
                kind: 'value',
                reason: `a float (extension 0x46) holds 8 bytes, not ${length}`,
              };
            skip = 8;
          } else if (type === BIGINT_EXT) {
            if (length > limits.maxIntBytes) {
              return {
                kind: 'limit',
                reason: `an integer of ${length} bytes exceeds the limit of ${limits.maxIntBytes} bytes`,
              };
            }
            skip = length;
          } else
            return {
              kind: 'value',
              reason: `msgpack extension type 0x${type.toString(16).padStart(2, '0')} is not supported`,
            };
        }
      }
    }
    if (children >= 0) {
      items += isMap ? children / 2 : children;
      if (items > limits.maxItems) {
        return {
          kind: 'limit',
          reason: `more than ${limits.maxItems} items (array elements and map entries) in one message`,
        };
      }
      if (pending.length > limits.maxNesting)
        return {
          kind: 'value',
          reason: `arrays and maps nested deeper than ${limits.maxNesting} levels`,
        };
      pending.push(children);
    } else {
      const from = at;
      at += skip;
      if (at > end) return undefined;
      if (str) {
        const header = b <= 0xbf ? 0 : b === 0xd9 ? 1 : b === 0xda ? 2 : 4;
        if (!isUtf8(bytes.subarray(from + header, at)))
          return { kind: 'value', reason: 'a string is not valid UTF-8' };
      }
    }
  }
  return undefined;
}
