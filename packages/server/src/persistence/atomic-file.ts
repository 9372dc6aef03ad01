import { closeSync, fsyncSync, ftruncateSync, openSync, renameSync, writeSync } from 'node:fs';
import { join } from 'node:path';

/** fsyncs a directory, so that a rename or a new file in it survives a crash. */
export function fsyncDir(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Writes `parts` to `dir/name` atomically: a temporary file, fsync, rename, fsync of the directory. */
export function writeAtomically(dir: string, name: string, parts: Buffer[]): number {
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

/** Writes `bytes` over the file's own bytes at `offset`, durably. */
export function overwrite(path: string, offset: number, bytes: Buffer): void {
  const fd = openSync(path, 'r+');
  try {
    writeSync(fd, bytes, 0, bytes.length, offset);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Cuts `path` to `length` bytes, durably. */
export function truncate(path: string, length: number): void {
  const fd = openSync(path, 'r+');
  try {
    ftruncateSync(fd, length);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
