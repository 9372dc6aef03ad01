import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { Writable } from 'node:stream';
import { CHUNK_CHARS } from './defaults.js';
import { DatagenError, OutputError } from './errors.js';
import { LineGenerator, type GenerateOptions } from './generate.js';

/** Progress and cancellation for a long write. */
export interface WriteOptions {
  /** Stops the write; the promise rejects with the signal's reason. */
  signal?: AbortSignal;
}

/**
 * Writes the data set to `out`, a line per record, in large chunks and honouring backpressure, so memory
 * stays flat however many lines. Resolves with the number of lines written. Does not end `out`.
 */
export async function writeDataset(
  options: GenerateOptions,
  out: Writable,
  control?: WriteOptions,
): Promise<number> {
  const generator = new LineGenerator(options);
  let lines = 0;
  let chunk = '';
  for (let line = generator.next(); line !== undefined; line = generator.next()) {
    chunk += line;
    chunk += '\n';
    lines++;
    if (chunk.length >= CHUNK_CHARS) {
      control?.signal?.throwIfAborted();
      const ok = out.write(chunk);
      chunk = '';
      if (!ok)
        await once(out, 'drain', control?.signal === undefined ? {} : { signal: control.signal });
    }
  }
  if (chunk.length > 0) out.write(chunk);
  return lines;
}

/**
 * Writes the data set to `path` atomically: into a temporary file beside it, then renamed over `path`
 * once complete. On any failure (or abort) the temporary file is removed and `path` is left untouched.
 */
export async function writeDatasetFile(
  options: GenerateOptions,
  path: string,
  control?: WriteOptions,
): Promise<number> {
  const temporary = join(dirname(path), `.${basename(path)}.${process.pid}.${Date.now()}.tmp`);
  const out = createWriteStream(temporary, { flags: 'wx' });
  try {
    await once(out, 'open');
    const failed = new Promise<never>((_, reject) => out.once('error', reject));
    const lines = await Promise.race([writeDataset(options, out, control), failed]);
    out.end();
    await Promise.race([once(out, 'finish'), failed]);
    await rename(temporary, path);
    return lines;
  } catch (error) {
    out.destroy();
    await unlink(temporary).catch(() => undefined);
    throw outputError(error, path);
  }
}

const REASONS: Record<string, string> = {
  ENOENT: 'its directory does not exist',
  EACCES: 'permission denied',
  ENOTDIR: 'a part of the path is not a directory',
  EISDIR: 'it is a directory',
  EROFS: 'read-only file system',
  ENOSPC: 'no space left on the device',
};

/** A file-system failure as an `OutputError` naming the file asked for (not the temporary one). */
function outputError(error: unknown, path: string): unknown {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === undefined || error instanceof DatagenError) return error;
  return new OutputError(path, REASONS[code] ?? code, { cause: error });
}
