/** The log's file name. */
export const LOG = 'log.bin';
/**
 * The log a compaction in progress rotated away from: replayed before `LOG` when present (a crash
 * during a compaction leaves it), removed once a snapshot that holds its writes is committed.
 */
export const PREVIOUS_LOG = 'log.prev.bin';
/** The snapshot's name in directories from before manifests. */
export const LEGACY_SNAPSHOT = 'snapshot.bin';
