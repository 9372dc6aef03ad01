import { renameSync, rmSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import type { Store } from '../store.js';
import { fsyncDir, writeAtomically } from './atomic-file.js';
import { FileKind, Op, encodeEntry, header } from './log-format.js';
import { MANIFEST, manifestBytes } from './manifest.js';

/**
 * Records and tombstones written per slice of a snapshot: one slice encodes and writes in a few
 * milliseconds, then the event loop gets a turn.
 */
const SLICE = 1000;

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * Writes the whole store (records and tombstones, with versions) to `snapshot-GENERATION.bin` a slice at
 * a time, yielding to requests between slices, then commits it by replacing the manifest (with
 * `previousLog: false`). Writes go on meanwhile: each slice reads the store as it is then, at least as
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
    for (;;) {
      const page = store.export(SLICE, after);
      await write(
        page.entries.map((e) =>
          encodeEntry({
            op: e.value === null ? Op.Delete : Op.Put,
            key: e.key,
            value: e.value,
            version: e.version,
          }),
        ),
      );
      entries += page.entries.length;
      if (page.cursor === undefined) break;
      after = page.cursor;
      await nextTurn();
    }
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
