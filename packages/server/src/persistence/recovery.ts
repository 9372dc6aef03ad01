import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { Store } from '../store.js';
import { overwrite, truncate, writeAtomically } from './atomic-file.js';
import { DataDirError } from './errors.js';
import { LEGACY_SNAPSHOT, LOG, PREVIOUS_LOG } from './files.js';
import {
  FileKind,
  FORMAT_VERSION,
  HEADER_BYTES,
  checkHeader,
  header,
  scanEntries,
} from './log-format.js';
import {
  MANIFEST,
  checksum,
  manifestBytes,
  readManifest,
  removeLeftovers,
  type Manifest,
} from './manifest.js';

/** What opening a data directory found. */
export interface Recovery {
  snapshotEntries: number;
  logEntries: number;
  /** Bytes cut from a torn log tail (0 when the log ended cleanly). */
  tornBytes: number;
  /** What was missing or damaged (only with `recover`: otherwise opening fails). */
  problems: string[];
  seconds: number;
}

/** A recovered directory: what was found, and where its log and snapshot stand. */
export interface RecoveredDir {
  recovery: Omit<Recovery, 'seconds'>;
  snapshotBytes: number;
  logBytes: number;
  generation: number;
  snapshotFile: string | undefined;
}

/**
 * Rebuilds `store` from the directory's snapshot and log, after checking them against the manifest.
 * Damage refuses the start (a `DataDirError` naming each problem, nothing changed on disk) unless
 * `recover`; a torn tail is cut. Leaves the directory with a manifest, a log and only its live snapshot.
 */
export function recoverDir(
  dir: string,
  recover: boolean,
  store: Store,
  logger: Logger,
): RecoveredDir {
  // Records go back as the log holds them, packed: nothing is decoded. An entry never overwrites a
  // newer version, so replaying the snapshot and then both logs rebuilds the store exactly.
  const apply = (key: string, record: string): void => {
    store.restore(key, record);
  };
  let snapshotBytes = 0;
  let snapshotCrc = 0;
  let logBytes = HEADER_BYTES;
  const leftovers = removeLeftovers(dir, undefined, true);
  if (leftovers.length > 0)
    logger.warn({ dir, files: leftovers }, 'removed leftovers of an interrupted write');
  const manifest = readManifest(dir);
  // What is wrong with the directory: with --recover the server starts from what is there, else not.
  const problems: string[] = [];
  let snapshotEntries = 0;
  let snapshotFile: string | undefined;
  const snapshot = manifest === undefined ? legacySnapshot(dir) : manifest.snapshot;
  if (snapshot !== null) {
    const path = join(dir, snapshot.file);
    if (!existsSync(path)) {
      problems.push(
        `the snapshot ${snapshot.file} is missing (the manifest lists ${snapshot.bytes} bytes)`,
      );
    } else {
      const bytes = readFileSync(path);
      const problem = checkHeader(bytes, FileKind.Snapshot);
      if (problem !== undefined) throw headerError(path, problem);
      snapshotCrc = checksum([bytes]);
      if (
        snapshot.crc32 >= 0 &&
        (bytes.length !== snapshot.bytes || snapshotCrc !== snapshot.crc32)
      )
        problems.push(
          `the snapshot ${snapshot.file} does not match the manifest (${bytes.length} bytes, ${snapshot.bytes} listed, or a different checksum)`,
        );
      const scan = scanEntries(bytes, HEADER_BYTES, apply);
      if (scan.problem !== undefined)
        problems.push(
          `the snapshot ${snapshot.file} is corrupt at byte ${scan.problem.offset} (${scan.problem.reason})`,
        );
      snapshotEntries = scan.count;
      snapshotBytes = bytes.length;
      snapshotFile = snapshot.file;
    }
  }
  const generation = manifest?.generation ?? 0;
  const logPath = join(dir, LOG);
  let logEntries = 0;
  // A compaction that had rotated the log but not committed its snapshot: the previous log, whole
  // (it was flushed before the rotation), comes before the current one.
  const previousPath = join(dir, PREVIOUS_LOG);
  const hasPrevious = existsSync(previousPath);
  if (hasPrevious) {
    const bytes = readFileSync(previousPath);
    const problem = checkHeader(bytes, FileKind.Log);
    if (problem !== undefined) throw headerError(previousPath, problem);
    const scan = scanEntries(bytes, HEADER_BYTES, apply);
    logEntries += scan.count;
    if (scan.problem !== undefined)
      problems.push(
        `${PREVIOUS_LOG} is damaged at byte ${scan.problem.offset} (${scan.problem.reason})`,
      );
  }
  let tornBytes = 0;
  let droppedBytes = 0;
  let createLog = false;
  let cutAt: number | undefined;
  let olderFormat = false;
  const size = existsSync(logPath) ? statSync(logPath).size : -1;
  if (size < HEADER_BYTES) {
    // Without a manifest, a log shorter than its header is one whose creation a crash cut short
    // (nothing was acknowledged from it). With one, the log existed whole: it was lost or cut.
    // A crash between the rotation's two renames leaves no log.bin beside log.prev.bin: nothing lost.
    if (manifest !== undefined && !hasPrevious)
      problems.push(
        size < 0 ? `${LOG} is missing` : `${LOG} is cut to ${size} bytes (shorter than its header)`,
      );
    createLog = true;
  } else {
    const bytes = readFileSync(logPath);
    const problem = checkHeader(bytes, FileKind.Log);
    if (problem !== undefined) throw headerError(logPath, problem);
    olderFormat = (bytes[3] as number) < FORMAT_VERSION;
    const scan = scanEntries(bytes, HEADER_BYTES, apply);
    logEntries += scan.count;
    if (scan.problem !== undefined) {
      const cut = bytes.length - scan.goodEnd;
      // Torn: the last entry is incomplete (a crash mid-write; never acknowledged). Anything else, a
      // complete entry whose checksum fails or entries after a bad one, is damage.
      const torn = scan.problem.incomplete && !scan.problem.laterValidEntry;
      if (torn) {
        tornBytes = cut;
        logger.warn(
          {
            file: logPath,
            offset: scan.goodEnd,
            droppedBytes: cut,
            droppedEntries: 1,
            reason: scan.problem.reason,
          },
          `cut a torn log tail: ${cut} bytes (1 incomplete entry) at byte ${scan.goodEnd}`,
        );
      } else {
        droppedBytes = cut;
        problems.push(
          `${LOG} is corrupt at byte ${scan.problem.offset} (${scan.problem.reason}${scan.problem.incomplete ? '' : ' in a complete entry'}${scan.problem.laterValidEntry ? ', and valid entries follow' : ''})`,
        );
      }
      if (torn || recover) cutAt = scan.goodEnd;
    }
    logBytes = scan.goodEnd;
  }
  if (problems.length > 0) {
    if (!recover)
      throw new DataDirError(
        `${dir}: refusing to start without part of the data: ${problems.join('; ')}. Restore the files, or start with --recover to start from what is there`,
        'CORRUPT',
      );
    logger.error(
      { dir, problems, keys: store.size, snapshotEntries, logEntries, droppedBytes },
      `--recover: started from what is there (${store.size} keys from ${snapshotEntries} snapshot and ${logEntries} log entries; ${droppedBytes} log bytes dropped): ${problems.join('; ')}`,
    );
  }
  // Nothing has been changed on disk before this point (but for *.tmp leftovers), so a refused start
  // leaves the directory as it found it.
  if (createLog) writeAtomically(dir, LOG, [header(FileKind.Log)]);
  if (cutAt !== undefined) truncate(logPath, cutAt);
  // A log of an older format gets entries of this one appended: its header says so, so that an older
  // server refuses it as newer rather than misread it (this server reads both kinds of entry).
  if (olderFormat) overwrite(logPath, 3, Buffer.from([FORMAT_VERSION]));
  // The manifest now describes the directory as it is (an older directory gets one here).
  writeAtomically(dir, MANIFEST, [
    manifestBytes({
      format: 1,
      generation,
      snapshot:
        snapshotFile === undefined
          ? null
          : {
              file: snapshotFile,
              bytes: snapshotBytes,
              crc32: snapshotCrc,
            },
    }),
  ]);
  removeLeftovers(dir, snapshotFile);
  return {
    recovery: { snapshotEntries, logEntries, tornBytes, problems },
    snapshotBytes,
    logBytes,
    generation,
    snapshotFile,
  };
}

/** A directory from before manifests: its snapshot.bin, if any, taken as it is (no checksum to hold it to). */
function legacySnapshot(dir: string): Manifest['snapshot'] {
  const path = join(dir, LEGACY_SNAPSHOT);
  return existsSync(path) ? { file: LEGACY_SNAPSHOT, bytes: statSync(path).size, crc32: -1 } : null;
}

function headerError(path: string, problem: string): DataDirError {
  return new DataDirError(
    `${path}: ${problem}`,
    problem.startsWith('written by a newer') ? 'NEWER_FORMAT' : 'NOT_OURS',
  );
}
