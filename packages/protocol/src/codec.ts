import { Float } from '@triekv/record';
import { Packr, Unpackr, addExtension } from 'msgpackr';
import { FLOAT_EXT } from './defaults.js';
import { scanMsgpack } from './msgpack-scan.js';

// msgpackr's extension registry is process-wide; this entry is keyed by our own Float class, so it
// changes how nothing else is packed. The type code is outside the range msgpackr uses itself.
addExtension({
  Class: Float,
  type: FLOAT_EXT,
  // The raw IEEE 754 bits: msgpackr would write a whole number as an int and lose -0.0's sign.
  pack: (value: Float) => {
    const bytes = Buffer.allocUnsafe(8);
    bytes.writeDoubleBE(value.value, 0);
    return bytes;
  },
  unpack: (bytes: Uint8Array) => {
    if (bytes.length !== 8)
      throw new RangeError(`a float extension holds 8 bytes, not ${bytes.length}`);
    return new Float(Buffer.from(bytes.buffer, bytes.byteOffset, 8).readDoubleBE(0));
  },
});

const OPTIONS = {
  // No structured-clone references (extensions 0x69/0x70): a few bytes could describe a tree of
  // 2^depth nodes. scanMsgpack refuses them first anyway; this is the second lock.
  structuredClone: false,
  // No structure sharing between messages: every frame decodes on its own.
  useRecords: false,
  // Maps stay Maps: document key order, and keys such as "__proto__", survive.
  mapsAsObjects: false,
  // Ints beyond 64 bits use msgpackr's bigint extension; 64-bit ones arrive as bigint and are normalised.
  useBigIntExtension: true,
  int64AsType: 'bigint' as const,
  // Bytes values (bin) are copied out of the frame, not views into a buffer that is reused.
  copyBuffers: true,
};

/** Shared packer: pack() returns a fresh view each call, so results do not alias each other. */
export const packr = new Packr(OPTIONS);
export const unpackr = new Unpackr(OPTIONS);

/** Limits for `unpackChecked`. */
export interface UnpackLimits {
  maxNesting: number;
  maxItems: number;
  maxIntBytes: number;
}

/** Why `unpackChecked` refused: over a limit, or something we never accept, or not msgpack. */
export class UnpackError extends Error {
  constructor(
    readonly kind: 'limit' | 'value' | 'corrupt',
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'UnpackError';
  }
}

const range = { start: 0, end: 0 };

/**
 * The msgpack value in `bytes[start..end)`, decoded by msgpackr only after `scanMsgpack` has checked,
 * in linear time and without building anything, that it stays within `limits` and holds no extension
 * but ours. Throws an `UnpackError`.
 */
export function unpackChecked(
  bytes: Uint8Array,
  start: number,
  end: number,
  limits: UnpackLimits,
): unknown {
  const problem = scanMsgpack(bytes, start, end, limits);
  if (problem !== undefined) throw new UnpackError(problem.kind, problem.reason);
  range.start = start;
  range.end = end;
  try {
    return unpackr.unpack(bytes, range);
  } catch (cause) {
    const reason =
      cause instanceof RangeError && /call stack/i.test(cause.message)
        ? 'nested too deeply'
        : /end of buffer not reached/.test((cause as Error).message)
          ? 'bytes left after the message (one message per frame)'
          : /Unexpected end|end of buffer|outside the bounds/i.test((cause as Error).message)
            ? 'truncated'
            : (cause as Error).message;
    throw new UnpackError('corrupt', reason, { cause });
  }
}
