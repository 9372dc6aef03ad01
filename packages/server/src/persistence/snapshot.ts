import { renameSync, rmSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import type { Store } from '../store.js';
import { fsyncDir, writeAtomically } from './atomic-file.js';
import { FileKind, encodeEntry, header } from './log-format.js';
import { MANIFEST, manifestBytes } from './manifest.js';

/** Records and tombstones read from the store at a time (a page of its trie). */
const PAGE = 1000;
/**
 * How long a snapshot works before the event loop gets a turn: pages are written until this much
 * time has passed, so a snapshot keeps pace with writes without delaying a request by more.
 */
const SLICE_MS = 4;

/**
 * Writes the whole store (records and tombstones, packed, with versions) to `snapshot-GENERATION.bin` a
 * slice at a time (pages are read for `SLICE_MS`, then written while requests are served), then commits
 * it by replacing the manifest. Writes go on meanwhile: each slice reads the store as it is then, at least as
 * new as when the snapshot began, and every write since the log was rotated is in the new log, so the
 * snapshot and that log rebuild the store exactly (an entry never overwrites a newer version).
 * On a failure the temporary file is removed and nothing is committed.
 */
export async function writeSnapshot(
  dir: string,
  store: Store,
  generation: number,
): Promise<{ file: string; bytes: number; entries: number }> {
  const file = `snapshot-${generation}.bin`;
  const temporary = join(dir, `${file}.tmp`);
  const out = await open(temporary, 'w');
  let bytes = 0;
  let crc = 0;
  let entries = 0;
  const write = async (parts: Buffer[]): Promise<void> => {
    for (const p of parts) crc = crc32(p, crc);
    const { bytesWritten } = await out.writev(parts);
    bytes += bytesWritten;
  };
  try {
    await write([header(FileKind.Snapshot)]);
    let after: string | undefined;
    let parts: Buffer[] = [];
    let sliceStart = performance.now();
    for (;;) {
      // The records as the store keeps them, packed: a snapshot encodes nothing again.
      const page = store.exportRecords(PAGE, after);
      for (const [key, record] of page.entries) parts.push(encodeEntry({ key, record }));
      entries += page.entries.length;
      if (page.cursor === undefined) break;
      after = page.cursor;
      if (performance.now() - sliceStart >= SLICE_MS) {
        // The write is asynchronous: requests are served while the disk takes the slice.
        await write(parts);
        parts = [];
        sliceStart = performance.now();
      }
    }
    await write(parts);
    await out.sync();
    await out.close();
  } catch (error) {
    await out.close().catch(() => undefined);
    rmSync(temporary, { force: true });
    throw error;
  }
  renameSync(temporary, join(dir, file));
  fsyncDir(dir);
  // The commit: a crash before this finds the old snapshot and both logs; after it, this one.
  writeAtomically(dir, MANIFEST, [
    manifestBytes({ format: 1, generation, snapshot: { file, bytes, crc32: crc } }),
  ]);
  return { file, bytes, entries };
}
