/** The log's file name. */
export const LOG = 'log.bin';
/** The snapshot's name in directories from before manifests. */
export const LEGACY_SNAPSHOT = 'snapshot.bin';
