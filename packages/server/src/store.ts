import { compareVersions, type ExportEntry, type Version } from '@triekv/protocol';
import type { Doc, Value } from '@triekv/record';
import { Trie } from '@triekv/trie';
import { StoredDoc, lookup, toDoc, toStored, toValue } from './stored-doc.js';

/** What the store keeps under a key: the document, or null for a tombstone, and its version. */
interface Entry {
  doc: StoredDoc | null;
  version: Version;
}

/** The outcome of a write: whether it changed anything, and the version now stored. */
export interface WriteResult {
  applied: boolean;
  version: Version;
  /** For deletes: whether a live record was there. */
  existed: boolean;
}

/** A read: the value and its version, or a miss with the tombstone's version if the key was deleted. */
export type ReadResult =
  { found: true; value: Value; version: Version } | { found: false; version?: Version };

/**
 * The record store: one trie over the top-level keys, and a trie inside every stored document. Every
 * record carries a version; an older write is ignored, and a delete leaves a tombstone with its version,
 * so neither a stale replica nor a late write can bring a record back.
 */
export class Store {
  private readonly records = new Trie<Entry>();
  private liveCount = 0;

  /** Live records (tombstones excluded). */
  get size(): number {
    return this.liveCount;
  }

  /** Tombstones kept. */
  get tombstones(): number {
    return this.records.size - this.liveCount;
  }

  /** Stores `doc` under `key` at `version`, unless a newer (or the same) version is already there. */
  put(key: string, doc: Doc, version: Version): WriteResult {
    const current = this.records.get(key);
    if (current !== undefined && compareVersions(current.version, version) >= 0) {
      return { applied: false, version: current.version, existed: current.doc !== null };
    }
    if (current === undefined || current.doc === null) this.liveCount++;
    this.records.set(key, { doc: toStored(doc), version });
    return { applied: true, version, existed: current?.doc != null };
  }

  /** Deletes `key` at `version`, leaving a tombstone; ignored when a newer version is stored. */
  delete(key: string, version: Version): WriteResult {
    const current = this.records.get(key);
    if (current !== undefined && compareVersions(current.version, version) >= 0) {
      return { applied: false, version: current.version, existed: current.doc !== null };
    }
    const existed = current !== undefined && current.doc !== null;
    if (existed) this.liveCount--;
    this.records.set(key, { doc: null, version });
    return { applied: true, version, existed };
  }

  /** The whole record under `key`. */
  get(key: string): ReadResult {
    return this.query(key, []);
  }

  /** The value at `path` inside the record `key` (the whole document for an empty path). */
  query(key: string, path: readonly string[]): ReadResult {
    const entry = this.records.get(key);
    if (entry === undefined) return { found: false };
    if (entry.doc === null) return { found: false, version: entry.version };
    const value = lookup(entry.doc, path);
    // The record's version still comes back: a broker comparing replicas must see this miss as the
    // answer of that version, newer than an old replica's value at the same path.
    if (value === undefined) return { found: false, version: entry.version };
    return { found: true, value: toValue(value), version: entry.version };
  }

  /** Live keys starting with `prefix`, in order, after `after`, at most `limit`; `cursor` when more may follow. */
  scan(prefix: string, limit: number, after?: string): { keys: string[]; cursor?: string } {
    const keys: string[] = [];
    if (limit === 0) return { keys };
    for (const [key, entry] of this.records.entries(
      prefix,
      after === undefined ? undefined : { after },
    )) {
      if (entry.doc === null) continue;
      if (keys.length === limit) return { keys, cursor: keys[keys.length - 1] };
      keys.push(key);
    }
    return { keys };
  }

  /** Records and tombstones with versions, in key order, for repair; `cursor` when more may follow. */
  export(limit: number, after?: string): { entries: ExportEntry[]; cursor?: string } {
    const entries: ExportEntry[] = [];
    if (limit === 0) return { entries };
    for (const [key, entry] of this.records.entries(
      '',
      after === undefined ? undefined : { after },
    )) {
      if (entries.length === limit)
        return { entries, cursor: (entries[entries.length - 1] as ExportEntry).key };
      entries.push({
        key,
        value: entry.doc === null ? null : toDoc(entry.doc),
        version: entry.version,
      });
    }
    return { entries };
  }
}

export { StoredDoc };
