import type { ExportEntry, HybridClock, Version } from '@triekv/protocol';
import type { Path, Value } from '@triekv/record';
import { Trie } from '@triekv/trie';
import {
  compareToPacked,
  find,
  isEviction,
  isLive,
  packEviction,
  packRecord,
  packTombstone,
  packedVersion,
  unpackValue,
  valueAt,
} from './packed.js';

/** The outcome of a write: whether it changed anything, and the version now stored. */
export interface WriteResult {
  applied: boolean;
  version: Version;
  /** For deletes: whether a live record was there. */
  existed: boolean;
  /** The packed record now stored, when the write was applied (what the log keeps). */
  record?: string;
}

/** A read: the value and its version, or a miss with the tombstone's version if the key was deleted. */
export type ReadResult =
  { found: true; value: Value; version: Version } | { found: false; version?: Version };

/** `locate`'s position for an empty path (the whole document), and `find`'s for a miss. */
const WHOLE = -2;
const MISSING = -1;

/** The refusal of a write whose version is not newer than the stored record's, if it is not. */
function notNewer(current: string | undefined, version: Version): WriteResult | undefined {
  if (current === undefined || compareToPacked(current, version) < 0) return undefined;
  return { applied: false, version: packedVersion(current), existed: isLive(current) };
}

/**
 * A version from `clock` newer than the packed record `current` (if any), or undefined when the record
 * is too far ahead for the clock to observe. The clock observes the record's version only when it is
 * ahead of everything the clock has issued or seen, which a record the clock stamped itself never is
 * (no version is decoded on that path).
 */
function stampAfter(clock: HybridClock, current: string | undefined): Version | undefined {
  if (current !== undefined && compareToPacked(current, clock.latest()) > 0)
    if (!clock.observe(packedVersion(current))) return undefined;
  return clock.tick();
}

/** The refusal of a stamped write over `current`, whose version the clock could not get past. */
function aheadOfClock(current: string): WriteResult {
  return { applied: false, version: packedVersion(current), existed: isLive(current) };
}

/**
 * The record store: one trie over the top-level keys, and a trie inside every stored document (each
 * record packed into one string with the tries of its documents: see `packRecord`). Every record
 * carries a version; an older write is ignored, and a delete leaves a tombstone with its version, so
 * neither a stale replica nor a late write can bring a record back.
 */
export class Store {
  /** Packed records (documents and tombstones), by key. */
  private readonly records = new Trie<string>();
  private liveCount = 0;

  /** Live records (tombstones excluded). */
  get size(): number {
    return this.liveCount;
  }

  /** Tombstones kept. */
  get tombstones(): number {
    return this.records.size - this.liveCount;
  }

  /** Stores `value` under `key` at `version`, unless a newer (or the same) version is already there. */
  put(key: string, value: Value, version: Version): WriteResult {
    return this.write(key, value, version, this.records.get(key));
  }

  /**
   * Stores `value` under `key` at a version `clock` issues, newer than the stored one (record or
   * tombstone, which the clock observes first when it is ahead of it): for writers that stamp their own
   * writes (the RESP port), with one lookup. Refused as `put` refuses an older version when the stored
   * one is too far ahead for the clock to observe.
   */
  putStamped(key: string, value: Value, clock: HybridClock): WriteResult {
    const current = this.records.get(key);
    const version = stampAfter(clock, current);
    if (version === undefined) return aheadOfClock(current as string);
    return this.write(key, value, version, current, true);
  }

  private write(
    key: string,
    value: Value,
    version: Version,
    current: string | undefined,
    /** The version is known to be newer than `current`'s (stamped after it). */
    newer = false,
  ): WriteResult {
    const refused = newer ? undefined : notNewer(current, version);
    if (refused !== undefined) return refused;
    const existed = current !== undefined && isLive(current);
    if (!existed) this.liveCount++;
    const record = packRecord(value, version);
    this.records.set(key, record);
    return { applied: true, version, existed, record };
  }

  /** Deletes `key` at `version`, leaving a tombstone; ignored when a newer version is stored. */
  delete(key: string, version: Version): WriteResult {
    return this.remove(key, version, this.records.get(key));
  }

  /** `delete` at a version `clock` issues, newer than the stored one (see `putStamped`). */
  deleteStamped(key: string, clock: HybridClock): WriteResult {
    const current = this.records.get(key);
    const version = stampAfter(clock, current);
    if (version === undefined) return aheadOfClock(current as string);
    return this.remove(key, version, current, true);
  }

  private remove(
    key: string,
    version: Version,
    current: string | undefined,
    newer = false,
  ): WriteResult {
    const refused = newer ? undefined : notNewer(current, version);
    if (refused !== undefined) return refused;
    const existed = current !== undefined && isLive(current);
    if (existed) this.liveCount--;
    const record = packTombstone(version);
    this.records.set(key, record);
    return { applied: true, version, existed, record };
  }

  /**
   * Removes `key`'s record or tombstone, leaving nothing, when its version is at most `version` (a
   * newer write stays): a copy handed off to the key's replicas. `record` is the log's marker of it.
   */
  evict(key: string, version: Version): { applied: boolean; record?: string } {
    const current = this.records.get(key);
    if (current === undefined || compareToPacked(current, version) > 0) return { applied: false };
    if (isLive(current)) this.liveCount--;
    this.records.delete(key);
    return { applied: true, record: packEviction(version) };
  }

  /**
   * Puts back a packed record (a document or a tombstone) as a log or snapshot holds it, unless a newer
   * (or the same) version is stored; whether it was applied. For recovery: nothing is unpacked. An
   * eviction marker removes the key as `evict` did.
   */
  restore(key: string, record: string): boolean {
    if (isEviction(record)) return this.evict(key, packedVersion(record)).applied;
    const current = this.records.get(key);
    if (current !== undefined && compareToPacked(current, packedVersion(record)) >= 0) return false;
    const wasLive = current !== undefined && isLive(current);
    const live = isLive(record);
    if (live !== wasLive) this.liveCount += live ? 1 : -1;
    this.records.set(key, record);
    return true;
  }

  /** The packed record of a live `key`, or undefined: for readers that copy its units themselves. */
  record(key: string): string | undefined {
    const packed = this.records.get(key);
    return packed === undefined || !isLive(packed) ? undefined : packed;
  }

  /** The value under `key`, or undefined (no version: for readers that do not need one). */
  value(key: string): Value | undefined {
    const packed = this.records.get(key);
    return packed === undefined || !isLive(packed) ? undefined : unpackValue(packed);
  }

  /** Whether a live record is under `key`. */
  has(key: string): boolean {
    const packed = this.records.get(key);
    return packed !== undefined && isLive(packed);
  }

  /** The whole record under `key`. */
  get(key: string): ReadResult {
    return this.query(key, []);
  }

  /** The value at `path` inside the record `key` (the whole document for an empty path). */
  query(key: string, path: Path): ReadResult {
    const hit = this.locate(key, path);
    if (!hit.found) return hit;
    const { packed, at, version } = hit;
    return {
      found: true,
      value: at === WHOLE ? unpackValue(packed) : valueAt(packed, at),
      version,
    };
  }

  /**
   * Whether the record `key` has a value at `path` (the record itself for an empty path), with the
   * record's version: a QUERY's answer without building its value (for version-only reads).
   */
  probe(key: string, path: Path): { found: boolean; version?: Version } {
    const hit = this.locate(key, path);
    return hit.found ? { found: true, version: hit.version } : hit;
  }

  /** Where the value at `path` is in the record `key` (`WHOLE` for the document), or the miss. */
  private locate(
    key: string,
    path: Path,
  ):
    | { found: true; packed: string; at: number; version: Version }
    | { found: false; version?: Version } {
    const packed = this.records.get(key);
    if (packed === undefined) return { found: false };
    const version = packedVersion(packed);
    if (!isLive(packed)) return { found: false, version };
    const at = path.length === 0 ? WHOLE : find(packed, path);
    // The record's version still comes back: a broker comparing replicas must see this miss as the
    // answer of that version, newer than an old replica's value at the same path.
    if (at === MISSING) return { found: false, version };
    return { found: true, packed, at, version };
  }

  /**
   * Live keys starting with `prefix`, in order, after `after`: at most `limit`, and no more than about
   * `maxBytes` of them (at least one); `cursor` when more may follow.
   */
  scan(
    prefix: string,
    limit: number,
    after?: string,
    maxBytes = Infinity,
  ): { keys: string[]; cursor?: string } {
    const keys: string[] = [];
    if (limit === 0) return { keys };
    let bytes = 0;
    for (const [key, packed] of this.records.entries(
      prefix,
      after === undefined ? undefined : { after },
    )) {
      if (!isLive(packed)) continue;
      // UTF-8 takes at most 3 bytes per code unit; 5 more for the string's header.
      const cost = key.length * 3 + 5;
      if (keys.length === limit || (keys.length > 0 && bytes + cost > maxBytes))
        return { keys, cursor: keys[keys.length - 1] };
      keys.push(key);
      bytes += cost;
    }
    return { keys };
  }

  /**
   * Packed records and tombstones in key order, at most `limit` after `after` (for snapshots: nothing is
   * unpacked); `cursor` when more may follow.
   */
  exportRecords(limit: number, after?: string): { entries: [string, string][]; cursor?: string } {
    const entries: [string, string][] = [];
    for (const entry of this.records.entries('', after === undefined ? undefined : { after })) {
      if (entries.length === limit)
        return { entries, cursor: (entries[limit - 1] as [string, string])[0] };
      entries.push(entry);
    }
    return { entries };
  }

  /** Records and tombstones with versions, in key order, for repair; `cursor` when more may follow. */
  export(
    limit: number,
    after?: string,
    maxBytes = Infinity,
  ): { entries: ExportEntry[]; cursor?: string } {
    const entries: ExportEntry[] = [];
    if (limit === 0) return { entries };
    let bytes = 0;
    for (const [key, packed] of this.records.entries(
      '',
      after === undefined ? undefined : { after },
    )) {
      // The packed record is about as large as its msgpack (more for text beyond Latin-1: the page
      // budget leaves room for that); a page always holds at least one record.
      const cost = packed.length + key.length * 3 + 16;
      if (entries.length === limit || (entries.length > 0 && bytes + cost > maxBytes))
        return { entries, cursor: (entries[entries.length - 1] as ExportEntry).key };
      bytes += cost;
      entries.push(
        isLive(packed)
          ? { key, value: unpackValue(packed), version: packedVersion(packed) }
          : { key, value: null, version: packedVersion(packed), deleted: true },
      );
    }
    return { entries };
  }
}
