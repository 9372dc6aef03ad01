/** Replicas per record. */
export const DEFAULT_K = 2;
/** Time to establish a connection (and HELLO), ms. */
export const DEFAULT_CONNECT_TIMEOUT_MS = 2_000;
/** Time for one request's reply, ms. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 5_000;
/** How often an idle server connection is checked with a PING, ms. */
export const DEFAULT_HEARTBEAT_MS = 1_000;
/** Silence from a server with a request waiting after which it is taken as down, ms. */
export const DEFAULT_HEARTBEAT_TIMEOUT_MS = 3_000;
/** How long a load keeps retrying a batch whose server is slow or unreachable, ms. */
export const DEFAULT_LOAD_TIMEOUT_MS = 30_000;
/** First retry delay of a load's batch, ms (doubles up to the max, with ±25% jitter). */
export const DEFAULT_LOAD_RETRY_MIN_MS = 100;
/** Longest retry delay of a load's batch, ms. */
export const DEFAULT_LOAD_RETRY_MAX_MS = 2_000;
/** First reconnect delay, ms (doubles up to the max, with ±25% jitter). */
export const DEFAULT_RECONNECT_MIN_MS = 100;
/** Longest reconnect delay, ms: a server that comes back is seen within about a second. */
export const DEFAULT_RECONNECT_MAX_MS = 800;
/** Requests allowed in flight on one connection before new ones fail fast. */
export const DEFAULT_MAX_PENDING = 10_000;
/** Records per PUT_BATCH during a load. */
export const DEFAULT_BATCH_SIZE = 500;
/** PUT_BATCH requests in flight per server during a load. */
export const DEFAULT_BATCHES_IN_FLIGHT = 4;
/** Entries per EXPORT page during repair. */
export const DEFAULT_REPAIR_PAGE = 1_000;
/** Keys a repair (or handoff) pass works on at once. */
export const DEFAULT_REPAIR_WINDOW = 256;
/** Keys a SCAN returns when no limit is given. */
export const DEFAULT_SCAN_LIMIT = 1_000;
/** How far ahead of the broker's clock a version read may be and still be taken into it, ms. */
export const DEFAULT_MAX_CLOCK_DRIFT_MS = 60_000;

/** Commands of a script (kv-broker's stdin) in flight at once. */
export const DEFAULT_SCRIPT_WINDOW = 64;

/** How often a broker asks a server for the cluster's membership record, ms. */
export const DEFAULT_MEMBERSHIP_POLL_MS = 500;
/** Keys a handoff copies per second at most (after a membership change). */
export const DEFAULT_REBALANCE_RATE = 20_000;
