import { HEADER_BYTES } from './defaults.js';
import { compileReader, compileWriter, type MessageReader, type MessageWriter } from './codegen.js';
import { Kind, LAYOUTS, LAYOUTS_BY_OP } from './layout.js';
import type { ExportEntry, Message, WireRecord } from './messages.js';
import { MsgpackReader } from './msgpack-reader.js';
import { BAIL, MsgpackWriter } from './msgpack-writer.js';
import type { Version } from './version.js';

/**
 * The fast codec: messages written and read straight between typed objects and msgpack bytes, walking
 * each message's layout (layout.ts). The bytes are ordinary msgpack, the same msgpackr reads and
 * writes for `toWire` (so either side may use either codec). What it does not take (the STATS and
 * HELLO info maps, ints beyond 64 bits, anything malformed) throws `BAIL` inside, and the general codec
 * handles it, which also produces every error.
 */

// ---------------------------------------------------------------- writing

function writeVersion(w: MsgpackWriter, v: Version): void {
  w.byte(0x93);
  w.number(v[0]);
  w.number(v[1]);
  w.string(v[2]);
}

/** `[key, value, version]`; a tombstone `[key, nil, version, true]`. */
function writeRecord(w: MsgpackWriter, r: WireRecord | ExportEntry): void {
  const deleted = (r as ExportEntry).deleted === true;
  w.byte(deleted ? 0x94 : 0x93);
  w.string(r.key);
  if (deleted) w.nil();
  else w.value(r.value);
  writeVersion(w, r.version);
  if (deleted) w.boolean(true);
}

function writeField(w: MsgpackWriter, kind: Kind, v: unknown): void {
  switch (kind) {
    case Kind.COUNT:
      return w.number(v as number);
    case Kind.STRING:
      return w.string(v as string);
    case Kind.OPT_STRING:
      return v === undefined ? w.nil() : w.string(v as string);
    case Kind.VALUE:
      return w.value(v as WireRecord['value']);
    case Kind.PATH: {
      const path = v as (string | number)[];
      w.arrayHeader(path.length);
      for (const s of path) {
        if (typeof s === 'string') w.string(s);
        else w.number(s);
      }
      return;
    }
    case Kind.VERSION:
      return writeVersion(w, v as Version);
    case Kind.OPT_VERSION:
      return v === undefined ? w.nil() : writeVersion(w, v as Version);
    case Kind.STRINGS: {
      const strings = v as string[];
      w.arrayHeader(strings.length);
      for (const s of strings) w.string(s);
      return;
    }
    case Kind.RECORDS:
    case Kind.ENTRIES: {
      const records = v as (WireRecord | ExportEntry)[];
      w.arrayHeader(records.length);
      for (const r of records) writeRecord(w, r);
      return;
    }
    case Kind.FLAG:
    case Kind.BOOLEAN:
      return w.boolean(v === true);
    default:
      // The info maps (STATS, SERVER) are rare: msgpackr writes them.
      throw BAIL;
  }
}

const WRITERS = new Map<string, MessageWriter>(
  Object.values(LAYOUTS).map((l) => [l.type, compileWriter(l, writeField)]),
);

function writeMessage(w: MsgpackWriter, m: Message): void {
  const write = WRITERS.get(m.type);
  if (write === undefined) throw BAIL;
  write(w, m);
}

/** The shared writer of `encodeFast` and `encodeRecordFast`. */
const writer = new MsgpackWriter();

/**
 * The frame of `message` (4-byte length, then msgpack), or undefined when the fast path does not write
 * it. The frame is a view into a buffer that is never written again.
 */
export function encodeFast(message: Message, w: MsgpackWriter = writer): Uint8Array | undefined {
  w.begin(HEADER_BYTES);
  try {
    writeMessage(w, message);
  } catch (error) {
    w.abandon();
    if (error === BAIL) return undefined;
    throw error;
  }
  w.setUint32At(0, w.length - HEADER_BYTES);
  return w.take();
}

/**
 * The msgpack bytes of one record as a PUT_BATCH carries it (`[key, value, version]`), or undefined when
 * the fast path does not write it. A view into a buffer that is never written again.
 */
export function encodeRecordFast(
  record: WireRecord,
  w: MsgpackWriter = writer,
): Uint8Array | undefined {
  w.begin();
  try {
    writeRecord(w, record);
  } catch (error) {
    w.abandon();
    if (error === BAIL) return undefined;
    throw error;
  }
  return w.take();
}

// ---------------------------------------------------------------- reading

function readVersion(r: MsgpackReader): Version {
  if (r.arrayLength() !== 3) throw BAIL;
  const wall = r.count();
  const counter = r.count();
  return [wall, counter, r.string()];
}

function readRecord(r: MsgpackReader, allowTombstone: boolean): WireRecord | ExportEntry {
  const n = r.arrayLength();
  if (n !== 3 && !(n === 4 && allowTombstone)) throw BAIL;
  const key = r.string();
  const value = r.value(0);
  const version = readVersion(r);
  if (n === 3) return { key, value, version };
  if (!r.boolean() || value !== null) throw BAIL;
  return { key, value: null, version, deleted: true };
}

/** A field's value, or undefined for one that is absent (nil, an unset flag). */
function readField(r: MsgpackReader, kind: Kind): unknown {
  switch (kind) {
    case Kind.COUNT:
      return r.count();
    case Kind.STRING:
      return r.string();
    case Kind.OPT_STRING:
      return r.nil() ? undefined : r.string();
    case Kind.VALUE:
      return r.value(0);
    case Kind.PATH: {
      const n = r.arrayLength();
      const path: (string | number)[] = [];
      for (let i = 0; i < n; i++) {
        const b = r.peek();
        // A string (a key), else a whole number (an index); anything else bails.
        path.push((b & 0xe0) === 0xa0 || (b >= 0xd9 && b <= 0xdb) ? r.string() : r.count());
      }
      return path;
    }
    case Kind.VERSION:
      return readVersion(r);
    case Kind.OPT_VERSION:
      return r.nil() ? undefined : readVersion(r);
    case Kind.STRINGS: {
      const n = r.arrayLength();
      const strings: string[] = [];
      for (let i = 0; i < n; i++) strings.push(r.string());
      return strings;
    }
    case Kind.RECORDS:
    case Kind.ENTRIES: {
      const n = r.arrayLength();
      const tombstones = kind === Kind.ENTRIES;
      const records: (WireRecord | ExportEntry)[] = [];
      for (let i = 0; i < n; i++) records.push(readRecord(r, tombstones));
      return records;
    }
    case Kind.FLAG:
      return r.nil() ? undefined : r.boolean() || undefined;
    case Kind.BOOLEAN:
      return r.boolean();
    default:
      throw BAIL;
  }
}

const bail = (): never => {
  throw BAIL;
};

const READERS: (MessageReader | undefined)[] = LAYOUTS_BY_OP.map((l) =>
  l === undefined ? undefined : compileReader(l, readField, bail),
);

function readMessage(r: MsgpackReader): Message {
  const n = r.arrayLength() - 2;
  const op = r.count();
  const l = LAYOUTS_BY_OP[op];
  const id = r.count();
  if (l === undefined || n < l.required || n > l.fields.length) throw BAIL;
  return (READERS[op] as MessageReader)(r, id, n);
}

/**
 * Reads one frame body each: the message, or undefined when the fast path does not read it (then the
 * general decoder reads it, and reports what is wrong with it if anything is).
 */
export class FastDecoder {
  private readonly reader = new MsgpackReader();

  /** @param maxItems most array elements and map entries in one message (more: left to the general decoder) */
  constructor(maxItems = Number.MAX_SAFE_INTEGER) {
    this.reader.maxItems = maxItems;
  }

  /** The message in `data[from..to)` (a frame body), or undefined. */
  decode(data: Uint8Array, from: number, to: number, maxDepth: number): Message | undefined {
    const r = this.reader;
    r.reset(data, from, to, maxDepth);
    try {
      const message = readMessage(r);
      return r.done ? message : undefined;
    } catch (error) {
      if (error === BAIL) return undefined;
      throw error;
    }
  }
}

const fastDecoder = new FastDecoder();

/** `FastDecoder#decode` on a shared decoder (for tests and one-off reads). */
export function decodeFast(
  data: Uint8Array,
  from: number,
  to: number,
  maxDepth: number,
): Message | undefined {
  return fastDecoder.decode(data, from, to, maxDepth);
}
