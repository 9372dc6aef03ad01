import { accessSync, constants, mkdirSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

const REASONS: Record<string, string> = {
  ENOENT: 'no such file or directory',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  ENOTDIR: 'a part of the path is not a directory',
  EROFS: 'read-only file system',
  ENOSPC: 'no space left on the device',
  ELOOP: 'too many symbolic links',
  ENAMETOOLONG: 'name too long',
};

const reason = (error: unknown): string => {
  const code = (error as NodeJS.ErrnoException).code;
  return code === undefined ? (error as Error).message : (REASONS[code] ?? code);
};

/**
 * Makes sure `dir` is a directory this process can write to, creating it and its missing parents one
 * at a time. Throws an `Error` that says what is wrong with which path. (Node's own recursive mkdir
 * never returns on some paths, such as one under /proc: it retries for ever.)
 */
export function ensureWritableDir(dir: string): void {
  const target = resolve(dir);
  const missing: string[] = [];
  let existing = target;
  for (;;) {
    try {
      const info = statSync(existing);
      if (!info.isDirectory()) throw new Error(`${existing} is not a directory`);
      break;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === undefined) throw error;
      if (code !== 'ENOENT')
        throw new Error(`cannot use ${existing}: ${reason(error)}`, { cause: error });
      const parent = dirname(existing);
      if (parent === existing)
        throw new Error(`cannot use ${target}: no such path`, { cause: error });
      missing.unshift(existing);
      existing = parent;
    }
  }
  for (const path of missing) {
    try {
      mkdirSync(path);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'EEXIST' && statSync(path).isDirectory()) continue;
      throw new Error(`cannot create ${path}: ${reason(error)}`, {
        cause: error,
      });
    }
  }
  try {
    accessSync(target, constants.W_OK | constants.X_OK);
  } catch (error) {
    throw new Error(`cannot write to ${target}: ${reason(error)}`, {
      cause: error,
    });
  }
}
