/** The protocol version this package speaks; sent in HELLO. */
export const PROTOCOL_VERSION = 2;
/** Largest frame body accepted or sent, in bytes. */
export const DEFAULT_MAX_FRAME_SIZE = 16 * 1024 * 1024;
/**
 * How much larger than the request frame limit a reply may be. A reply carries what a request stored
 * plus a little (an EXPORT entry repeats its key as the cursor; keys are at most 64 Ki code units, under
 * 200 KiB of UTF-8), so a record that fits a request frame always fits a reply.
 */
export const REPLY_SLACK = 1024 * 1024;
/** Deepest document nesting accepted in a value (a record's document is depth 1). */
export const DEFAULT_MAX_DEPTH = 64;
/** Bytes in a frame header: the body length, big-endian. */
export const HEADER_BYTES = 4;
/** msgpack ext type carrying a `Float` (a float whose value may be whole, like 17.0). */
export const FLOAT_EXT = 0x46;
/** msgpack ext type of msgpackr's bigint extension (ints beyond 64 bits). */
export const BIGINT_EXT = 0x42;
/** Most array elements and map entries in one frame, at every depth. */
export const DEFAULT_MAX_ITEMS = 1024 * 1024;
/** Largest integer accepted, in bytes (64 bytes: about 154 decimal digits). */
export const DEFAULT_MAX_INT_BYTES = 64;
/**
 * Nesting a message adds around the documents it carries (message array, OK map, entries array, record
 * array): the structural nesting limit is `maxDepth` plus this.
 */
export const ENVELOPE_DEPTH = 4;
