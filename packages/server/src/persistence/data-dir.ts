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
}

/** What opening a data directory found. */
export interface Recovery {
  snapshotEntries: number;
  logEntries: number;
  /** Bytes cut from a torn log tail (0 when the log ended cleanly). */
  tornBytes: number;
  seconds: number;
}

const LOG = 'log.bin';
const SNAPSHOT = 'snapshot.bin';
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
    this.snapshotBytes = writeAtomically(dir, SNAPSHOT, parts);
    // A crash from here on finds the new snapshot and the old log: replaying the log over it is harmless,
    // since an entry never overwrites a newer version. Entries appended but not flushed yet are in the
    // snapshot and will go to the new log as well, for the same reason.
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
    let snapshotEntries = 0;
    const snapshotPath = join(dir, SNAPSHOT);
    if (existsSync(snapshotPath)) {
      const bytes = readFileSync(snapshotPath);
      const problem = checkHeader(bytes, FileKind.Snapshot);
      if (problem !== undefined) throw headerError(snapshotPath, problem);
      const scan = scanEntries(bytes, HEADER_BYTES);
      if (scan.problem !== undefined) {
        throw new DataDirError(
          `${snapshotPath} is corrupt at byte ${scan.problem.offset} (${scan.problem.reason})`,
          'CORRUPT',
        );
      }
      for (const e of scan.entries) this.apply(e);
      snapshotEntries = scan.entries.length;
      this.snapshotBytes = bytes.length;
    }
    const logPath = join(dir, LOG);
    let logEntries = 0;
    let tornBytes = 0;
    if (!existsSync(logPath) || statSync(logPath).size === 0) {
      writeAtomically(dir, LOG, [header(FileKind.Log)]);
    } else {
      const bytes = readFileSync(logPath);
      if (bytes.length < HEADER_BYTES) {
        // A crash while the log was being created: nothing was acknowledged from it.
        tornBytes = bytes.length;
        writeAtomically(dir, LOG, [header(FileKind.Log)]);
      } else {
        const problem = checkHeader(bytes, FileKind.Log);
        if (problem !== undefined) throw headerError(logPath, problem);
        const scan = scanEntries(bytes, HEADER_BYTES);
        for (const e of scan.entries) this.apply(e);
        logEntries = scan.entries.length;
        if (scan.problem !== undefined) {
          if (scan.problem.laterValidEntry) {
            throw new DataDirError(
              `${logPath} is corrupt at byte ${scan.problem.offset} (${scan.problem.reason}) and valid entries follow: refusing to start. Restore the file, or move it away to start from the snapshot alone`,
              'CORRUPT',
            );
          }
          tornBytes = bytes.length - scan.goodEnd;
          const fd = openSync(logPath, 'r+');
          try {
            // Cut the torn tail (a crash mid-write): it was never acknowledged.
            ftruncateSync(fd, scan.goodEnd);
            fsyncSync(fd);
          } finally {
            closeSync(fd);
          }
          this.logger.warn(
            {
              file: logPath,
              offset: scan.goodEnd,
              droppedBytes: tornBytes,
              droppedEntries: 1,
              reason: scan.problem.reason,
            },
            `cut a torn log tail: ${tornBytes} bytes (1 incomplete entry) at byte ${scan.goodEnd}`,
          );
        }
        this.logBytes = scan.goodEnd;
      }
    }
    return { snapshotEntries, logEntries, tornBytes };
  }

  private apply(entry: LogEntry): void {
    if (entry.op === Op.Put)
      this.store.put(entry.key, entry.value as NonNullable<LogEntry['value']>, entry.version);
    else this.store.delete(entry.key, entry.version);
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
