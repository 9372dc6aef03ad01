import { Float } from '@triekv/record';
import { Packr, Unpackr, addExtension } from 'msgpackr';
import { FLOAT_EXT } from './defaults.js';

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
  // No structure sharing between messages: every frame decodes on its own.
  useRecords: false,
  // Maps stay Maps: document key order, and keys such as "__proto__", survive.
  mapsAsObjects: false,
  // Ints beyond 64 bits use msgpackr's bigint extension; 64-bit ones arrive as bigint and are normalised.
  useBigIntExtension: true,
  int64AsType: 'bigint' as const,
};

/** Shared packer: pack() returns a fresh view each call, so results do not alias each other. */
export const packr = new Packr(OPTIONS);
export const unpackr = new Unpackr(OPTIONS);
