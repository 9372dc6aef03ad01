import { existsSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { DataDirError } from './errors.js';

/** The manifest's file name: which snapshot is live, and that the directory has a log. */
export const MANIFEST = 'MANIFEST';

/**
 * What a data directory holds: the live snapshot (its file, size and checksum) or none. Written
 * atomically after every change of snapshot, so a missing, swapped or damaged file is noticed at start
 * instead of the server starting silently without part of its data. The log's presence is implied: a
 * directory with a manifest has a log.
 */
export interface Manifest {
  format: 1;
  /** Bumped by each snapshot; names the next one's file. */
  generation: number;
  snapshot: { file: string; bytes: number; crc32: number } | null;
}

/** The manifest of `dir`, or undefined when there is none (a new directory, or one from before manifests). */
export function readManifest(dir: string): Manifest | undefined {
  const path = join(dir, MANIFEST);
  if (!existsSync(path)) return undefined;
  let m: Manifest;
  try {
    m = JSON.parse(readFileSync(path, 'utf8')) as Manifest;
  } catch (cause) {
    throw new DataDirError(
      `${path} is damaged (not JSON): restore it, or start with --recover`,
      'CORRUPT',
      {
        cause,
      },
    );
  }
  const s = m.snapshot;
  const snapshotOk =
    s === null ||
    (typeof s === 'object' &&
      typeof s.file === 'string' &&
      /^snapshot[-.\w]*\.bin$/.test(s.file) &&
      Number.isSafeInteger(s.bytes) &&
      Number.isSafeInteger(s.crc32));
  if (m.format !== 1 || !Number.isSafeInteger(m.generation) || !snapshotOk)
    throw new DataDirError(`${path} is not a manifest this server reads`, 'CORRUPT');
  return m;
}

/** The manifest's bytes. */
export function manifestBytes(m: Manifest): Buffer {
  return Buffer.from(`${JSON.stringify(m, null, 2)}\n`);
}

/** The CRC-32 of a file's parts, as the manifest records it. */
export function checksum(parts: readonly Uint8Array[]): number {
  let crc = 0;
  for (const part of parts) crc = crc32(part, crc);
  return crc;
}

/**
 * Removes leftovers of a crash (`*.tmp`) and, unless `tmpOnly`, snapshot files other than `keep`;
 * returns what it removed.
 */
export function removeLeftovers(dir: string, keep: string | undefined, tmpOnly = false): string[] {
  const removed: string[] = [];
  for (const name of readdirSync(dir)) {
    const stale =
      name.endsWith('.tmp') || (!tmpOnly && /^snapshot[-.\w]*\.bin$/.test(name) && name !== keep);
    if (!stale) continue;
    rmSync(join(dir, name), { force: true });
    removed.push(name);
  }
  return removed;
}
