import { closeSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { ensureWritableDir } from './ensure-dir.js';
import { DataDirError } from './errors.js';

/** The lock file's name: one server per directory. */
const LOCK = 'LOCK';

/**
 * Makes `dir` usable and takes its lock, or throws a `DataDirError` (`UNWRITABLE`, or `LOCKED` when a
 * live server holds it); a lock left by a server that is gone is removed with a warning.
 */
export function lockDir(dir: string, logger: Logger): void {
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
      logger.warn({ dir, pid }, 'removing a stale lock left by a server that is gone');
      rmSync(path, { force: true });
    }
  }
  throw new DataDirError(`could not lock the data directory ${dir}`, 'LOCKED');
}

/** Releases the lock of `dir`. */
export function unlockDir(dir: string): void {
  rmSync(join(dir, LOCK), { force: true });
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
