import {
  closeSync,
  existsSync,
  fsyncSync,
  ftruncateSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeSync,
} from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { Store } from '../store.js';
import { ensureWritableDir } from './ensure-dir.js';
import {
  MANIFEST,
  checksum,
  manifestBytes,
  readManifest,
  removeLeftovers,
  type Manifest,
} from './manifest.js';
import { DataDirError } from './errors.js';
import {
  FileKind,
  HEADER_BYTES,
  Op,
  checkHeader,
  encodeEntry,
  header,
  scanEntries,
  type LogEntry,
} from './log-format.js';

/** When an acknowledged write is on disk: `always` (an fsync of its own before each reply), `batch` (group commit: one fsync for the writes of a moment), `off` (left to the OS). */
export type FsyncPolicy = 'always' | 'batch' | 'off';

/** Options for a data directory. */
export interface PersistenceOptions {
  /** The directory (created if missing). */
  dir: string;
  /** @default 'batch' */
  fsync?: FsyncPolicy;
  /** Compact when the log is this many times the last snapshot. @default 2 */
  compactRatio?: number;
  /** ... and at least this many bytes. @default 16 MiB */
  minCompactBytes?: number;
  /**
   * Start from what is there when files are missing or damaged (a loud error-level log line says what
   * and how much); without it, opening such a directory fails. @default false
   */
  recover?: boolean;
}

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

const LOG = 'log.bin';
/** The snapshot's name in directories from before manifests. */
const LEGACY_SNAPSHOT = 'snapshot.bin';
const LOCK = 'LOCK';
const EXPORT_PAGE = 10_000;

function fsyncDir(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Writes `parts` to `path` atomically: a temporary file, fsync, rename, fsync of the directory. */
function writeAtomically(dir: string, name: string, parts: Buffer[]): number {
  const temporary = join(dir, `${name}.tmp`);
  const fd = openSync(temporary, 'w');
  let bytes = 0;
  try {
    for (const part of parts) bytes += writeSync(fd, part);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(temporary, join(dir, name));
  fsyncDir(dir);
  return bytes;
}

/**
 * A server's data directory: every applied write is appended to a log before its reply goes out, the log
 * is replayed on restart (after the latest snapshot), and it is compacted into a new snapshot as it grows.
 * One server per directory, enforced with a lock file.
 */
export class DataDir {
  private log: FileHandle | undefined;
  private pending: Buffer[] = [];
  private waiters: (() => void)[] = [];
  private failures: ((error: Error) => void)[] = [];
  private flushing: Promise<void> | undefined;
  private logBytes = HEADER_BYTES;
  private snapshotBytes = 0;
  /** The manifest's generation: the last snapshot's number. */
  private generation = 0;
  /** The live snapshot's file name. */
  private snapshotFile: string | undefined;
  private closed = false;
  readonly policy: FsyncPolicy;
  compactions = 0;

  private constructor(
    private readonly options: PersistenceOptions,
    private readonly store: Store,
    private readonly logger: Logger,
  ) {
    this.policy = options.fsync ?? 'batch';
  }

  /** Locks the directory, rebuilds `store` from its snapshot and log, and opens the log for appending. */
  static async open(
    options: PersistenceOptions,
    store: Store,
    logger: Logger,
  ): Promise<{ dataDir: DataDir; recovery: Recovery }> {
    const dataDir = new DataDir(options, store, logger);
    const started = performance.now();
    dataDir.lock();
    try {
      const recovery = dataDir.recover();
      dataDir.log = await open(join(options.dir, LOG), 'a');
      return { dataDir, recovery: { ...recovery, seconds: (performance.now() - started) / 1000 } };
    } catch (error) {
      dataDir.unlock();
      throw error;
    }
  }

  /** Log size in bytes. */
  get size(): number {
    return this.logBytes;
  }

  /** Queues an applied write; it is durable once a later `sync()` resolves. */
  append(entry: LogEntry): void {
    const bytes = encodeEntry(entry);
    this.pending.push(bytes);
    this.logBytes += bytes.length;
  }

  /**
   * Resolves when everything appended so far is on disk as the fsync policy says. `batch`: a flush starts
   * at once if the disk is idle, and writes that arrive during an fsync share the next one (group commit:
   * an acknowledgement waits for at most one fsync in progress plus its own). `always`: every call gets an
   * fsync of its own, in turn, never shared with later calls. `off`: the write reaches the OS, no fsync.
   */
  sync(): Promise<void> {
    if (this.policy === 'always') {
      const turn = this.ownFsyncs.then(() => this.flush(true));
      this.ownFsyncs = turn.catch(() => undefined);
      return turn;
    }
    if (this.pending.length === 0 && this.flushing === undefined) return Promise.resolve();
    const done = new Promise<void>((resolve, reject) => {
      this.waiters.push(resolve);
      this.failures.push(reject);
    });
    // One flusher at a time takes whatever has queued up since its last round: the callers do not
    // each wait for the flush in progress and then race for the next (which woke all of them, every
    // round, for one to find work).
    this.flushing ??= this.flushRounds();
    return done;
  }

  /** Flushes what is pending, round after round, until nothing more waits. */
  private async flushRounds(): Promise<void> {
    try {
      while (this.pending.length > 0 || this.waiters.length > 0) await this.flushRound();
    } finally {
      this.flushing = undefined;
    }
  }

  private ownFsyncs: Promise<void> = Promise.resolve();

  /** Flushes, fsyncs and releases the lock. */
  async close(): Promise<void> {
    if (this.closed) return;
    await this.flush();
    this.closed = true;
    await this.log?.sync();
    await this.log?.close();
    this.unlock();
  }

  /**
   * Waits for the flusher, then flushes what is left (`close()`, and each sync under `always`, which
   * fsyncs even when there is nothing to write).
   */
  private async flush(fsyncEvenIfEmpty = false): Promise<void> {
    while (this.flushing !== undefined) await this.flushing;
    if (this.pending.length === 0 && this.waiters.length === 0) {
      if (fsyncEvenIfEmpty && this.log !== undefined) await this.log.datasync();
      return;
    }
    this.flushing = this.flushRounds();
    await this.flushing;
  }

  /** Writes the pending entries (fsync as the policy says), settles their waiters, maybe compacts. */
  private async flushRound(): Promise<void> {
    const parts = this.pending;
    const waiters = this.waiters;
    const failures = this.failures;
    this.pending = [];
    this.waiters = [];
    this.failures = [];
    if (parts.length === 0) {
      for (const resolve of waiters) resolve();
      return;
    }
    try {
      await (this.log as FileHandle).writev(parts);
      if (this.policy !== 'off') await (this.log as FileHandle).datasync();
      for (const resolve of waiters) resolve();
    } catch (error) {
      this.logger.error({ err: error }, 'log write failed');
      for (const reject of failures) reject(error as Error);
    }
    try {
      // Inside the flush: no other write can interleave with the switch to a new log.
      await this.maybeCompact();
    } catch (error) {
      this.logger.error({ err: error }, 'compaction failed; the log keeps growing');
    }
  }

  /**
   * Writes a snapshot of the whole store (records and tombstones, with versions) and starts a new log,
   * when the log has outgrown the last snapshot. Runs between flushes, so nothing is half-written.
   */
  private async maybeCompact(): Promise<void> {
    const min = this.options.minCompactBytes ?? 16 * 1024 * 1024;
    const ratio = this.options.compactRatio ?? 2;
    if (this.closed || this.logBytes < Math.max(min, ratio * this.snapshotBytes)) return;
    const started = performance.now();
    const parts: Buffer[] = [header(FileKind.Snapshot)];
    let after: string | undefined;
    let entries = 0;
    for (;;) {
      const page = this.store.export(EXPORT_PAGE, after);
      for (const e of page.entries) {
        parts.push(
          encodeEntry({
            op: e.value === null ? Op.Delete : Op.Put,
            key: e.key,
            value: e.value,
            version: e.version,
          }),
        );
        entries++;
      }
      if (page.cursor === undefined) break;
      after = page.cursor;
    }
    const dir = this.options.dir;
    const generation = this.generation + 1;
    const file = `snapshot-${generation}.bin`;
    const bytes = writeAtomically(dir, file, parts);
    // The manifest's rename is the commit: a crash before it finds the old snapshot (and removes the
    // new file as a leftover), after it the new one. Either way with the old log, which replays
    // harmlessly over either (an entry never overwrites a newer version). Entries appended but not
    // flushed yet are in the snapshot and will go to the new log as well, for the same reason.
    writeAtomically(dir, MANIFEST, [
      manifestBytes({ format: 1, generation, snapshot: { file, bytes, crc32: checksum(parts) } }),
    ]);
    const old = this.snapshotFile;
    this.generation = generation;
    this.snapshotFile = file;
    this.snapshotBytes = bytes;
    if (old !== undefined && old !== file) rmSync(join(dir, old), { force: true });
    await (this.log as FileHandle).close();
    writeAtomically(dir, LOG, [header(FileKind.Log)]);
    this.log = await open(join(dir, LOG), 'a');
    this.logBytes = HEADER_BYTES + this.pending.reduce((n, p) => n + p.length, 0);
    this.compactions++;
    this.logger.info(
      { entries, snapshotBytes: this.snapshotBytes, seconds: (performance.now() - started) / 1000 },
      'compacted the log into a snapshot',
    );
  }

  private lock(): void {
    const dir = this.options.dir;
    try {
      ensureWritableDir(dir);
    } catch (cause) {
      throw new DataDirError(
        `unusable data directory ${dir}: ${(cause as Error).message}`,
        'UNWRITABLE',
        { cause },
      );
    }
    const path = join(dir, LOCK);
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        const fd = openSync(path, 'wx');
        writeSync(fd, lockText());
        closeSync(fd);
        return;
      } catch (cause) {
        const code = (cause as NodeJS.ErrnoException).code;
        if (code !== 'EEXIST') {
          throw new DataDirError(
            `cannot write to the data directory ${dir}: ${(cause as Error).message}`,
            'UNWRITABLE',
            { cause },
          );
        }
        const holder = holderAlive(readFileSync(path, 'utf8'));
        const pid = holder.pid;
        // A live pid holds the lock, this very process included (two servers on one directory in one process).
        if (holder.alive) {
          throw new DataDirError(
            `the data directory ${dir} is in use by another server (pid ${pid})`,
            'LOCKED',
          );
        }
        this.logger.warn({ dir, pid }, 'removing a stale lock left by a server that is gone');
        rmSync(path, { force: true });
      }
    }
    throw new DataDirError(`could not lock the data directory ${dir}`, 'LOCKED');
  }

  private unlock(): void {
    rmSync(join(this.options.dir, LOCK), { force: true });
  }

  private recover(): Omit<Recovery, 'seconds'> {
    const dir = this.options.dir;
    const recover = this.options.recover === true;
    const leftovers = removeLeftovers(dir, undefined, true);
    if (leftovers.length > 0)
      this.logger.warn({ dir, files: leftovers }, 'removed leftovers of an interrupted write');
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
        if (
          snapshot.crc32 >= 0 &&
          (bytes.length !== snapshot.bytes || checksum([bytes]) !== snapshot.crc32)
        )
          problems.push(
            `the snapshot ${snapshot.file} does not match the manifest (${bytes.length} bytes, ${snapshot.bytes} listed, or a different checksum)`,
          );
        const scan = scanEntries(bytes, HEADER_BYTES);
        if (scan.problem !== undefined)
          problems.push(
            `the snapshot ${snapshot.file} is corrupt at byte ${scan.problem.offset} (${scan.problem.reason})`,
          );
        for (const e of scan.entries) this.apply(e);
        snapshotEntries = scan.entries.length;
        this.snapshotBytes = bytes.length;
        snapshotFile = snapshot.file;
      }
    }
    this.generation = manifest?.generation ?? 0;
    const logPath = join(dir, LOG);
    let logEntries = 0;
    let tornBytes = 0;
    let droppedBytes = 0;
    let createLog = false;
    let cutAt: number | undefined;
    const size = existsSync(logPath) ? statSync(logPath).size : -1;
    if (size < HEADER_BYTES) {
      // Without a manifest, a log shorter than its header is one whose creation a crash cut short
      // (nothing was acknowledged from it). With one, the log existed whole: it was lost or cut.
      if (manifest !== undefined)
        problems.push(
          size < 0
            ? `${LOG} is missing`
            : `${LOG} is cut to ${size} bytes (shorter than its header)`,
        );
      createLog = true;
    } else {
      const bytes = readFileSync(logPath);
      const problem = checkHeader(bytes, FileKind.Log);
      if (problem !== undefined) throw headerError(logPath, problem);
      const scan = scanEntries(bytes, HEADER_BYTES);
      for (const e of scan.entries) this.apply(e);
      logEntries = scan.entries.length;
      if (scan.problem !== undefined) {
        const cut = bytes.length - scan.goodEnd;
        // Torn: the last entry is incomplete (a crash mid-write; never acknowledged). Anything else, a
        // complete entry whose checksum fails or entries after a bad one, is damage.
        const torn = scan.problem.incomplete && !scan.problem.laterValidEntry;
        if (torn) {
          tornBytes = cut;
          this.logger.warn(
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
      this.logBytes = scan.goodEnd;
    }
    if (problems.length > 0) {
      if (!recover)
        throw new DataDirError(
          `${dir}: refusing to start without part of the data: ${problems.join('; ')}. Restore the files, or start with --recover to start from what is there`,
          'CORRUPT',
        );
      this.logger.error(
        { dir, problems, keys: this.store.size, snapshotEntries, logEntries, droppedBytes },
        `--recover: started from what is there (${this.store.size} keys from ${snapshotEntries} snapshot and ${logEntries} log entries; ${droppedBytes} log bytes dropped): ${problems.join('; ')}`,
      );
    }
    // Nothing has been changed on disk before this point (but for *.tmp leftovers), so a refused start
    // leaves the directory as it found it.
    if (createLog) writeAtomically(dir, LOG, [header(FileKind.Log)]);
    if (cutAt !== undefined) truncate(logPath, cutAt);
    // The manifest now describes the directory as it is (an older directory gets one here).
    writeAtomically(dir, MANIFEST, [
      manifestBytes({
        format: 1,
        generation: this.generation,
        snapshot:
          snapshotFile === undefined
            ? null
            : {
                file: snapshotFile,
                bytes: this.snapshotBytes,
                crc32: checksum([readFileSync(join(dir, snapshotFile))]),
              },
      }),
    ]);
    removeLeftovers(dir, snapshotFile);
    this.snapshotFile = snapshotFile;
    return { snapshotEntries, logEntries, tornBytes, problems };
  }

  private apply(entry: LogEntry): void {
    if (entry.op === Op.Put)
      this.store.put(entry.key, entry.value as NonNullable<LogEntry['value']>, entry.version);
    else this.store.delete(entry.key, entry.version);
  }
}

/** A directory from before manifests: its snapshot.bin, if any, taken as it is (no checksum to hold it to). */
function legacySnapshot(dir: string): Manifest['snapshot'] {
  const path = join(dir, LEGACY_SNAPSHOT);
  return existsSync(path) ? { file: LEGACY_SNAPSHOT, bytes: statSync(path).size, crc32: -1 } : null;
}

/** Cuts `path` to `length` bytes, durably. */
function truncate(path: string, length: number): void {
  const fd = openSync(path, 'r+');
  try {
    ftruncateSync(fd, length);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

function headerError(path: string, problem: string): DataDirError {
  return new DataDirError(
    `${path}: ${problem}`,
    problem.startsWith('written by a newer') ? 'NEWER_FORMAT' : 'NOT_OURS',
  );
}

/**
 * On Linux, a process's state and start time (in clock ticks since boot) from /proc; undefined when there
 * is no such process (or no /proc).
 */
function procStat(pid: number): { state: string; start: string } | undefined {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ');
    return fields === undefined ? undefined : { state: fields[0] ?? '', start: fields[19] ?? '' };
  } catch {
    return undefined;
  }
}

/** What the lock file says about this process: its pid and, on Linux, its start time. */
function lockText(): string {
  return `${process.pid} ${procStat(process.pid)?.start ?? ''}\n`;
}

/**
 * Whether the server that wrote a lock is still running. A zombie (killed, not yet reaped) is not, and
 * on Linux neither is another process that was given the same pid later (its start time differs).
 */
function holderAlive(text: string): { alive: boolean; pid: number } {
  const [pidText, start] = text.trim().split(/\s+/);
  const pid = Number(pidText);
  if (!Number.isInteger(pid) || pid <= 0) return { alive: false, pid };
  const stat = procStat(pid);
  if (stat !== undefined) {
    const running = stat.state !== 'Z' && stat.state !== 'X';
    return { alive: running && (start === undefined || start === '' || start === stat.start), pid };
  }
  try {
    process.kill(pid, 0);
    return { alive: true, pid };
  } catch (error) {
    return { alive: (error as NodeJS.ErrnoException).code === 'EPERM', pid };
  }
}
