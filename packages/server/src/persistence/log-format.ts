import { crc32 } from 'node:zlib';
// Importing @triekv/protocol also registers its msgpack extension for Float, which entry bodies need.
import { normalizeVersion, type Version } from '@triekv/protocol';
import { Packr, Unpackr } from 'msgpackr';
import { normalizeInt, type Doc } from '@triekv/record';
import { isPackedRecord, packRecord, packTombstone } from '../packed.js';

/**
 * The on-disk format shared by the log and snapshots: a 8-byte header (`TKV` magic, a format version byte,
 * and a u32 file kind), then entries `[u32 length][u32 crc32 of body][body]`. Length and checksum make a
 * torn or corrupt entry detectable; the format version lets a newer server refuse to misread an older
 * one's files and back.
 *
 * Format 2 bodies hold the record as the store keeps it (`packRecord`'s string, version and tombstone
 * included), so a write is logged without being encoded again and a restart puts records back without
 * decoding them: `[1][encoding: 0 latin1, 1 utf16le][u32 key bytes][key, UTF-8][record units]`, the
 * record in one byte per unit when every unit is below 256 (a record of Latin-1 text), else two.
 * Format 3 is format 2 whose records may hold any value (lists, booleans, null, bytes, a top-level value
 * that is not a document): new tags in the packed record, so a format 2 record reads as it did.
 * Format 4 is format 3 whose log may also hold eviction markers (`packEviction`: a key handed off to
 * its replicas and removed here, with no tombstone).
 * Format 1 bodies (still read) are a msgpack array `[op, key, value | nil, [wall, counter, node]]`.
 */
export const FORMAT_VERSION = 4;
export const HEADER_BYTES = 8;
export const ENTRY_HEAD = 8;
const MAGIC = [0x54, 0x4b, 0x56]; // "TKV"

/** File kinds, stored in the header. */
export const FileKind = { Log: 1, Snapshot: 2 } as const;
export type FileKind = (typeof FileKind)[keyof typeof FileKind];

/** Format 1 entry operations. */
export const Op = { Put: 1, Delete: 2 } as const;
export type Op = (typeof Op)[keyof typeof Op];

/** The first byte of a format 2 body (a format 1 body starts with a msgpack array, 0x94). */
const PACKED_BODY = 1;
const LATIN1 = 0;
const UTF16 = 1;
/** Bytes of a format 2 body before the key. */
const PACKED_HEAD = 6;

/** One change: the packed record (a document or a tombstone, with its version) stored under `key`. */
export interface LogEntry {
  key: string;
  record: string;
}

/** A format 1 body's fields. */
interface LegacyEntry {
  op: Op;
  key: string;
  value: Doc | null;
  version: Version;
}

// The same options as the wire codec (so Float and bigints survive), used for format 1 bodies.
const options = {
  useRecords: false,
  mapsAsObjects: false,
  useBigIntExtension: true,
  int64AsType: 'bigint' as const,
};
const packr = new Packr(options);
const unpackr = new Unpackr({ ...options, structuredClone: false });

/** A file header of the given kind. */
export function header(kind: FileKind): Buffer {
  const bytes = Buffer.alloc(HEADER_BYTES);
  bytes.set(MAGIC, 0);
  bytes[3] = FORMAT_VERSION;
  bytes.writeUInt32BE(kind, 4);
  return bytes;
}

/** Checks a file header; returns a reason when it is not ours (or is newer), else undefined. */
export function checkHeader(bytes: Buffer, kind: FileKind): string | undefined {
  if (bytes.length < HEADER_BYTES || MAGIC.some((m, i) => bytes[i] !== m))
    return 'not a triekv data file';
  const version = bytes[3] as number;
  if (version > FORMAT_VERSION) {
    return `written by a newer triekv (format ${version}; this server reads format ${FORMAT_VERSION})`;
  }
  if (bytes.readUInt32BE(4) !== kind)
    return kind === FileKind.Log ? 'not a log file' : 'not a snapshot file';
  return undefined;
}

/** Whether every code unit of `text` is below 256 (it can be stored in one byte per unit). */
function oneByte(text: string): boolean {
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) > 0xff) return false;
  return true;
}

/** One entry, framed and checksummed (format 2). */
export function encodeEntry(entry: LogEntry): Buffer {
  const { key, record } = entry;
  const keyBytes = Buffer.byteLength(key, 'utf8');
  const latin1 = oneByte(record);
  const recordBytes = latin1 ? record.length : record.length * 2;
  const length = PACKED_HEAD + keyBytes + recordBytes;
  const out = Buffer.allocUnsafe(ENTRY_HEAD + length);
  out.writeUInt32BE(length, 0);
  out[ENTRY_HEAD] = PACKED_BODY;
  out[ENTRY_HEAD + 1] = latin1 ? LATIN1 : UTF16;
  out.writeUInt32BE(keyBytes, ENTRY_HEAD + 2);
  const keyAt = ENTRY_HEAD + PACKED_HEAD;
  out.write(key, keyAt, keyBytes, 'utf8');
  out.write(record, keyAt + keyBytes, recordBytes, latin1 ? 'latin1' : 'utf16le');
  out.writeUInt32BE(crc32(out.subarray(ENTRY_HEAD)), 4);
  return out;
}

/** A format 1 entry (for tests of reading older directories). */
export function encodeLegacyEntry(entry: LegacyEntry): Buffer {
  const body = packr.pack([entry.op, entry.key, entry.value, entry.version]);
  const out = Buffer.allocUnsafe(ENTRY_HEAD + body.length);
  out.writeUInt32BE(body.length, 0);
  out.writeUInt32BE(crc32(body), 4);
  body.copy(out, ENTRY_HEAD);
  return out;
}

/** What reading entries from a buffer found. */
export interface ScanResult {
  /** Good entries read (each was passed to the callback). */
  count: number;
  /** Offset just past the last good entry. */
  goodEnd: number;
  /** Set when bytes after `goodEnd` are not a complete, valid entry. */
  /**
   * `incomplete`: the entry runs past the end of the file (what a crash mid-write leaves); otherwise
   * it is complete and damaged (a checksum mismatch, an undecodable body).
   */
  problem?: { offset: number; reason: string; incomplete: boolean; laterValidEntry: boolean };
}

/**
 * Reads the entries of `bytes` from `start`, passing each to `onEntry` as it goes (none is kept), and
 * stops at the first one that is torn or corrupt.
 */
export function scanEntries(
  bytes: Buffer,
  start: number,
  onEntry: (key: string, record: string) => void,
): ScanResult {
  let count = 0;
  let at = start;
  while (at < bytes.length) {
    const bad = (reason: string, incomplete = false): ScanResult => ({
      count,
      goodEnd: at,
      problem: { offset: at, reason, incomplete, laterValidEntry: findsValidEntry(bytes, at + 1) },
    });
    if (bytes.length - at < ENTRY_HEAD) return bad('incomplete entry header', true);
    const length = bytes.readUInt32BE(at);
    if (length > bytes.length - at - ENTRY_HEAD)
      return bad('entry runs past the end of the file', true);
    const body = bytes.subarray(at + ENTRY_HEAD, at + ENTRY_HEAD + length);
    if (crc32(body) !== bytes.readUInt32BE(at + 4)) return bad('checksum mismatch');
    const entry = decodeBody(body);
    if (entry === undefined) return bad('undecodable entry');
    onEntry(entry.key, entry.record);
    count++;
    at += ENTRY_HEAD + length;
  }
  return { count, goodEnd: at };
}

/** Whether any position from `from` on starts a complete entry with a valid checksum. */
function findsValidEntry(bytes: Buffer, from: number): boolean {
  for (let at = from; at + ENTRY_HEAD <= bytes.length; at++) {
    const length = bytes.readUInt32BE(at);
    if (length === 0 || length > bytes.length - at - ENTRY_HEAD) continue;
    const body = bytes.subarray(at + ENTRY_HEAD, at + ENTRY_HEAD + length);
    if (crc32(body) === bytes.readUInt32BE(at + 4) && decodeBody(body) !== undefined) return true;
  }
  return false;
}

function decodeBody(body: Buffer): LogEntry | undefined {
  return body[0] === PACKED_BODY ? decodePacked(body) : decodeLegacy(body);
}

/** A format 2 body: the key and the record as the store keeps it. */
function decodePacked(body: Buffer): LogEntry | undefined {
  if (body.length < PACKED_HEAD) return undefined;
  const encoding = body[1];
  const keyBytes = body.readUInt32BE(2);
  const recordAt = PACKED_HEAD + keyBytes;
  if (recordAt > body.length) return undefined;
  if (encoding !== LATIN1 && (encoding !== UTF16 || (body.length - recordAt) % 2 !== 0))
    return undefined;
  const key = body.toString('utf8', PACKED_HEAD, recordAt);
  const record = body.toString(encoding === LATIN1 ? 'latin1' : 'utf16le', recordAt);
  return isPackedRecord(record) ? { key, record } : undefined;
}

/** A format 1 body: decoded and packed as a write of it would have been. */
function decodeLegacy(body: Buffer): LogEntry | undefined {
  let raw: unknown;
  try {
    // No structured-clone references (a planted file cannot make replay expand a tree of 2^depth
    // nodes). Bodies are checksummed and written by us, so they skip the frame scan (scanMsgpack): it
    // made a restart of 1M records about twice as slow.
    raw = unpackr.unpack(body);
  } catch {
    return undefined;
  }
  if (!Array.isArray(raw) || raw.length < 4) return undefined;
  const [op, key, value, version] = raw as [unknown, unknown, unknown, unknown];
  if ((op !== Op.Put && op !== Op.Delete) || typeof key !== 'string') return undefined;
  if (op === Op.Put && !(value instanceof Map)) return undefined;
  const v = normalizeVersion(version);
  if (v === undefined) return undefined;
  return {
    key,
    record: op === Op.Put ? packRecord(normalizeDoc(value as Doc), v) : packTombstone(v),
  };
}

/** Bigints that fit a number come back as numbers, as they went in. */
function normalizeDoc(doc: Doc): Doc {
  for (const [k, v] of doc) {
    if (typeof v === 'bigint') doc.set(k, normalizeInt(v));
    else if (v instanceof Map) normalizeDoc(v);
  }
  return doc;
}
