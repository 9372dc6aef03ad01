import { Float } from '@triekv/record';
import { Packr, Unpackr, addExtension } from 'msgpackr';

/** msgpack ext type carrying a `Float` (a float whose value may be whole, like 17.0). */
const FLOAT_EXT = 0x46;

// msgpackr's extension registry is process-wide; this entry is keyed by our own Float class, so it
// changes how nothing else is packed. The type code is outside the range msgpackr uses itself.
addExtension({
  Class: Float,
  type: FLOAT_EXT,
  write: (value: Float) => value.value,
  read: (data: unknown) => (typeof data === 'number' ? new Float(data) : data),
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
