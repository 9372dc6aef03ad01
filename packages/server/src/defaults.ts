/** Address the server binds by default: loopback only. */
export const DEFAULT_HOST = '127.0.0.1';
/** Largest request frame, in bytes (a larger one closes that connection). */
export const DEFAULT_MAX_FRAME_SIZE = 16 * 1024 * 1024;
/** Most open connections; further ones are refused. */
export const DEFAULT_MAX_CONNECTIONS = 10_000;
/** Close a connection idle this long (ms); 0 never does. */
export const DEFAULT_IDLE_TIMEOUT_MS = 0;
/** Longest key (top-level or nested), in UTF-16 code units. */
export const DEFAULT_MAX_KEY_LENGTH = 64 * 1024;
/** Deepest document nesting accepted. */
export const DEFAULT_MAX_DEPTH = 64;
/** Most keys one SCAN or EXPORT returns (a larger limit is clamped, and a cursor says there is more). */
export const DEFAULT_MAX_SCAN = 10_000;
/** SCAN cursors the RESP port keeps (the oldest expire). */
export { DEFAULT_SCAN_CURSORS } from '@triekv/resp';
/** Stop reading from a client whose unsent replies exceed this many bytes (it reads too slowly). */
export const DEFAULT_WRITE_HIGH_WATER = 4 * 1024 * 1024;
/** How long `close()` waits for connections to drain before cutting them (ms). */
export const DEFAULT_CLOSE_TIMEOUT_MS = 5_000;
/** With a token: most connections that have not authenticated yet (a separate, smaller limit). */
export const DEFAULT_MAX_UNAUTHENTICATED = 128;
/** With a token: ms a connection has to authenticate before it is closed. */
export const DEFAULT_AUTH_TIMEOUT_MS = 10_000;
/** With a token: largest frame accepted (or buffered) before HELLO, in bytes. */
export const DEFAULT_PRE_AUTH_MAX_FRAME = 4096;
/** Most keys in one document, at any depth of a record (a larger one is refused with LIMIT). */
export const DEFAULT_MAX_DOC_KEYS = 100_000;
export { DEFAULT_MAX_INT_BYTES, DEFAULT_MAX_ITEMS } from '@triekv/protocol';
/** How far ahead of the server's clock a write's version may be, ms. */
export const DEFAULT_MAX_CLOCK_DRIFT_MS = 60_000;
/** A PUT_BATCH of more records is applied this many at a time, yielding to other connections. */
export const DEFAULT_BATCH_SLICE = 2000;
/** With a data directory: compact once the log is this many times the last snapshot. */
export const DEFAULT_COMPACT_RATIO = 2;
/** With a data directory: the smallest log worth compacting, in bytes. */
export const DEFAULT_MIN_COMPACT_BYTES = 16 * 1024 * 1024;
