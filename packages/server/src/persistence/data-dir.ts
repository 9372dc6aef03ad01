import { existsSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { Store } from '../store.js';
import { fsyncDir } from './atomic-file.js';
import { LOG, PREVIOUS_LOG } from './files.js';
import { lockDir, unlockDir } from './lock-file.js';
import { FileKind, HEADER_BYTES, encodeEntry, header, type LogEntry } from './log-format.js';
import { recoverDir, type Recovery } from './recovery.js';
import { writeSnapshot } from './snapshot.js';
import { DEFAULT_COMPACT_RATIO, DEFAULT_MIN_COMPACT_BYTES } from '../defaults.js';

export type { Recovery } from './recovery.js';

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
  /** The compaction in the background, while one runs. */
  private compacting: Promise<void> | undefined;
  /** Set by `close()`: no new compaction starts. */
  private stopping = false;
  readonly policy: FsyncPolicy;
  compactions = 0;
  /** Told of each fsync of the log's writes, in seconds (for metrics). */
  onFsync: ((seconds: number) => void) | undefined;

  /** The live snapshot's size in bytes. */
  get snapshotSize(): number {
    return this.snapshotBytes;
  }

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
    lockDir(options.dir, logger);
    try {
      const recovered = recoverDir(options.dir, options.recover === true, store, logger);
      dataDir.snapshotBytes = recovered.snapshotBytes;
      dataDir.logBytes = recovered.logBytes;
      dataDir.generation = recovered.generation;
      dataDir.snapshotFile = recovered.snapshotFile;
      const recovery = recovered.recovery;
      dataDir.log = await open(join(options.dir, LOG), 'a');
      return { dataDir, recovery: { ...recovery, seconds: (performance.now() - started) / 1000 } };
    } catch (error) {
      unlockDir(options.dir);
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
    // A snapshot being written is finished first (no new one starts): the next start then replays it
    // and a short log, not the whole of both logs.
    this.stopping = true;
    await this.flush();
    await this.compacted();
    this.closed = true;
    await this.log?.sync();
    await this.log?.close();
    unlockDir(this.options.dir);
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
      if (this.policy !== 'off') {
        const started = performance.now();
        await (this.log as FileHandle).datasync();
        this.onFsync?.((performance.now() - started) / 1000);
      }
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
   * Starts a compaction when the log has outgrown the last snapshot: the log is rotated (the current one
   * becomes `log.prev.bin`, a new one takes its place) here, between flushes, so no write interleaves;
   * the snapshot is then written in the background, a slice at a time (`writeSnapshot`), and once its
   * manifest is committed the previous log and snapshot are removed. Requests are served all along.
   *
   * Crash cases: before the rotation, the old snapshot and log; between its two renames, the old
   * snapshot and `log.prev.bin` alone; during the snapshot, the old snapshot and both logs; after the
   * commit, the new snapshot, maybe a `log.prev.bin` not yet removed, and the log. Recovery replays the
   * snapshot, `log.prev.bin` when present, then the log: each case rebuilds the store exactly.
   */
  private async maybeCompact(): Promise<void> {
    const min = this.options.minCompactBytes ?? DEFAULT_MIN_COMPACT_BYTES;
    const ratio = this.options.compactRatio ?? DEFAULT_COMPACT_RATIO;
    if (this.closed || this.stopping || this.compacting !== undefined) return;
    if (this.logBytes < Math.max(min, ratio * this.snapshotBytes)) return;
    const dir = this.options.dir;
    // A previous log left by an interrupted compaction is not rotated over: this snapshot covers it.
    if (!existsSync(join(dir, PREVIOUS_LOG))) {
      await (this.log as FileHandle).close();
      const next = join(dir, `${LOG}.next.tmp`);
      writeFileSync(next, header(FileKind.Log), { flush: true });
      renameSync(join(dir, LOG), join(dir, PREVIOUS_LOG));
      renameSync(next, join(dir, LOG));
      fsyncDir(dir);
      this.log = await open(join(dir, LOG), 'a');
      this.logBytes = HEADER_BYTES + this.pending.reduce((n, p) => n + p.length, 0);
    }
    this.compacting = this.compact().finally(() => {
      this.compacting = undefined;
    });
  }

  /** Writes and commits the snapshot of a compaction, then removes what it replaces. */
  private async compact(): Promise<void> {
    const started = performance.now();
    const dir = this.options.dir;
    const generation = this.generation + 1;
    try {
      const written = await writeSnapshot(dir, this.store, generation);
      const old = this.snapshotFile;
      this.generation = generation;
      this.snapshotFile = written.file;
      this.snapshotBytes = written.bytes;
      if (old !== undefined && old !== written.file) rmSync(join(dir, old), { force: true });
      rmSync(join(dir, PREVIOUS_LOG), { force: true });
      fsyncDir(dir);
      this.compactions++;
      this.logger.info(
        {
          entries: written.entries,
          snapshotBytes: written.bytes,
          seconds: (performance.now() - started) / 1000,
        },
        'compacted the log into a snapshot',
      );
    } catch (error) {
      this.logger.error({ err: error }, 'compaction failed; the log keeps growing');
    }
  }

  /** Resolves when no compaction is running (for tests and tools). */
  async compacted(): Promise<void> {
    while (this.compacting !== undefined) await this.compacting;
  }
}
