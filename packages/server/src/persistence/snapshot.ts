import type { Store } from '../store.js';
import { writeAtomically } from './atomic-file.js';
import { FileKind, Op, encodeEntry, header } from './log-format.js';
import { MANIFEST, checksum, manifestBytes } from './manifest.js';

/** Records and tombstones read from the store per page while a snapshot is written. */
const EXPORT_PAGE = 10_000;

/**
 * Writes the whole store (records and tombstones, with versions) to `snapshot-GENERATION.bin`
 * atomically, then commits it by replacing the manifest. A crash before the manifest's rename finds
 * the old snapshot (the new file is removed as a leftover at the next start), after it the new one;
 * either way with the log, which replays harmlessly over both (an entry never overwrites a newer
 * version).
 */
export function writeSnapshot(
  dir: string,
  store: Store,
  generation: number,
): { file: string; bytes: number; entries: number } {
  const parts: Buffer[] = [header(FileKind.Snapshot)];
  let after: string | undefined;
  let entries = 0;
  for (;;) {
    const page = store.export(EXPORT_PAGE, after);
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
  const file = `snapshot-${generation}.bin`;
  const bytes = writeAtomically(dir, file, parts);
  writeAtomically(dir, MANIFEST, [
    manifestBytes({ format: 1, generation, snapshot: { file, bytes, crc32: checksum(parts) } }),
  ]);
  return { file, bytes, entries };
}
