import { Float, normalizeInt, type Doc, type Value } from '@triekv/record';
import { HEADER_BYTES } from './defaults.js';
import {
  OK_FIELDS,
  OPCODES,
  type ExportEntry,
  type Message,
  type OkReply,
  type WireRecord,
} from './messages.js';
import type { Version } from './version.js';

/**
 * A msgpack writer and reader specialised to the messages that carry records (PUT, PUT_BATCH, GET,
 * QUERY, DELETE, OK, NOT_FOUND): they travel by the million, and a general codec spends much of its
 * time on what these never contain. The bytes are ordinary msgpack, the same messages msgpackr reads
 * and writes (so either side may use either codec); anything outside the fast path (other message
 * types, unusual fields, ints beyond 64 bits, any malformed input) is left to the general codec, which
 * also produces every error. `encodeFast` and `decodeFast` return undefined for those.
 */

const FLOAT_EXT = 0x46;
const OP_PUT = OPCODES.PUT;
const OP_PUT_BATCH = OPCODES.PUT_BATCH;
const OP_GET = OPCODES.GET;
const OP_QUERY = OPCODES.QUERY;
const OP_DELETE = OPCODES.DELETE;
const OP_OK = OPCODES.OK;
const OP_NOT_FOUND = OPCODES.NOT_FOUND;

/**
 * Thrown inside the writer or the reader to leave the fast path. One instance made once: throwing it
 * costs no stack capture.
 */
const BAIL = new Error('not for the fast path');

// ---------------------------------------------------------------- writer

/** Frames are written into this buffer one after another and handed out as views of it (no copy). */
let out = Buffer.allocUnsafe(64 * 1024);
let view = new DataView(out.buffer, out.byteOffset, out.byteLength);
let start = 0;
let pos = 0;

/** Makes room for `n` more bytes, moving the frame written so far into a new buffer if needed. */
function room(n: number): void {
  if (pos + n <= out.length) return;
  const written = pos - start;
  const next = Buffer.allocUnsafe(Math.max(64 * 1024, (written + n) * 2));
  out.copy(next, 0, start, pos);
  out = next;
  view = new DataView(out.buffer, out.byteOffset, out.byteLength);
  start = 0;
  pos = written;
}

function writeUint(v: number): void {
  room(9);
  if (v < 0x80) out[pos++] = v;
  else if (v < 0x100) {
    out[pos++] = 0xcc;
    out[pos++] = v;
  } else if (v < 0x10000) {
    out[pos++] = 0xcd;
    view.setUint16(pos, v);
    pos += 2;
  } else if (v <= 0xffffffff) {
    out[pos++] = 0xce;
    view.setUint32(pos, v);
    pos += 4;
  } else {
    out[pos++] = 0xcb;
    view.setFloat64(pos, v);
    pos += 8;
  }
}

function writeNumber(v: number): void {
  if (v >>> 0 === v) return writeUint(v);
  room(9);
  if (v >> 0 === v) {
    if (v >= -0x20) out[pos++] = 0x100 + v;
    else if (v >= -0x80) {
      out[pos++] = 0xd0;
      out[pos++] = v + 0x100;
    } else if (v >= -0x8000) {
      out[pos++] = 0xd1;
      view.setInt16(pos, v);
      pos += 2;
    } else {
      out[pos++] = 0xd2;
      view.setInt32(pos, v);
      pos += 4;
    }
    return;
  }
  out[pos++] = 0xcb;
  view.setFloat64(pos, v);
  pos += 8;
}

function writeString(s: string): void {
  const length = s.length;
  if (length < 32) {
    // Short and (usually) ASCII: byte by byte, no encoder call.
    room(1 + length);
    const at = pos;
    let i = 0;
    for (; i < length; i++) {
      const c = s.charCodeAt(i);
      if (c >= 0x80) break;
      out[at + 1 + i] = c;
    }
    if (i === length) {
      out[at] = 0xa0 | length;
      pos = at + 1 + length;
      return;
    }
  }
  // UTF-8 takes at most 3 bytes per UTF-16 code unit; write after the widest header it may need, then
  // move the bytes back if a narrower one fits.
  const max = length * 3;
  const header = max < 32 ? 1 : max < 0x100 ? 2 : max < 0x10000 ? 3 : 5;
  room(header + max);
  const bytes = out.write(s, pos + header, max, 'utf8');
  const need = bytes < 32 ? 1 : bytes < 0x100 ? 2 : bytes < 0x10000 ? 3 : 5;
  if (need < header) out.copyWithin(pos + need, pos + header, pos + header + bytes);
  if (need === 1) out[pos] = 0xa0 | bytes;
  else if (need === 2) {
    out[pos] = 0xd9;
    out[pos + 1] = bytes;
  } else if (need === 3) {
    out[pos] = 0xda;
    view.setUint16(pos + 1, bytes);
  } else {
    out[pos] = 0xdb;
    view.setUint32(pos + 1, bytes);
  }
  pos += need + bytes;
}

/** An array or map header: the fix form below 16, else 16 or 32 bits after `tag16` (or `tag16 + 1`). */
function writeHeader(n: number, fix: number, tag16: number): void {
  room(5);
  if (n < 16) out[pos++] = fix | n;
  else if (n < 0x10000) {
    out[pos++] = tag16;
    view.setUint16(pos, n);
    pos += 2;
  } else {
    out[pos++] = tag16 + 1;
    view.setUint32(pos, n);
    pos += 4;
  }
}

function writeTrue(): void {
  room(1);
  out[pos++] = 0xc3;
}

function writeArrayHeader(n: number): void {
  writeHeader(n, 0x90, 0xdc);
}

function writeMapHeader(n: number): void {
  writeHeader(n, 0x80, 0xde);
}

function writeDocEntry(value: Value, key: string): void {
  writeString(key);
  writeValue(value);
}

function writeValue(v: Value): void {
  switch (typeof v) {
    case 'string':
      return writeString(v);
    case 'number':
      return writeNumber(v);
    case 'bigint':
      if (v < -0x8000000000000000n || v > 0xffffffffffffffffn) throw BAIL;
      room(9);
      if (v <= 0x7fffffffffffffffn) {
        out[pos++] = 0xd3;
        view.setBigInt64(pos, v);
      } else {
        out[pos++] = 0xcf;
        view.setBigUint64(pos, v);
      }
      pos += 8;
      return;
    default:
      if (v instanceof Float) {
        room(10);
        out[pos++] = 0xd7;
        out[pos++] = FLOAT_EXT;
        view.setFloat64(pos, v.value);
        pos += 8;
        return;
      }
      if (v instanceof Map) {
        writeMapHeader(v.size);
        v.forEach(writeDocEntry);
        return;
      }
      throw BAIL;
  }
}

function writeVersion(v: Version): void {
  room(1);
  out[pos++] = 0x93;
  writeNumber(v[0]);
  writeNumber(v[1]);
  writeString(v[2]);
}

function writeRecord(r: WireRecord | ExportEntry): void {
  room(1);
  out[pos++] = 0x93;
  writeString(r.key);
  if (r.value === null) {
    room(1);
    out[pos++] = 0xc0;
  } else writeValue(r.value);
  writeVersion(r.version);
}

function writeOk(m: OkReply): void {
  if (m.stats !== undefined || m.server !== undefined) throw BAIL;
  let fields = 0;
  for (const name of OK_FIELDS) if (m[name] !== undefined) fields++;
  writeMapHeader(fields);
  if (m.value !== undefined) {
    writeString('value');
    writeValue(m.value);
  }
  if (m.version !== undefined) {
    writeString('version');
    writeVersion(m.version);
  }
  if (m.applied !== undefined) {
    writeString('applied');
    room(1);
    out[pos++] = m.applied ? 0xc3 : 0xc2;
  }
  if (m.appliedCount !== undefined) {
    writeString('appliedCount');
    writeNumber(m.appliedCount);
  }
  if (m.ignoredCount !== undefined) {
    writeString('ignoredCount');
    writeNumber(m.ignoredCount);
  }
  if (m.keys !== undefined) {
    writeString('keys');
    writeArrayHeader(m.keys.length);
    for (const k of m.keys) writeString(k);
  }
  if (m.entries !== undefined) {
    writeString('entries');
    writeArrayHeader(m.entries.length);
    for (const e of m.entries) writeRecord(e);
  }
  if (m.cursor !== undefined) {
    writeString('cursor');
    writeString(m.cursor);
  }
}

function writeMessage(m: Message): void {
  switch (m.type) {
    case 'PUT':
      writeArrayHeader(5);
      writeUint(OP_PUT);
      writeNumber(m.id);
      writeString(m.key);
      writeValue(m.value);
      writeVersion(m.version);
      return;
    case 'PUT_BATCH':
      writeArrayHeader(3);
      writeUint(OP_PUT_BATCH);
      writeNumber(m.id);
      writeArrayHeader(m.records.length);
      for (const r of m.records) writeRecord(r);
      return;
    case 'GET':
      writeArrayHeader(m.versionOnly === true ? 4 : 3);
      writeUint(OP_GET);
      writeNumber(m.id);
      writeString(m.key);
      if (m.versionOnly === true) writeTrue();
      return;
    case 'QUERY':
      writeArrayHeader(m.versionOnly === true ? 5 : 4);
      writeUint(OP_QUERY);
      writeNumber(m.id);
      writeString(m.key);
      writeArrayHeader(m.path.length);
      for (const p of m.path) writeString(p);
      if (m.versionOnly === true) writeTrue();
      return;
    case 'DELETE':
      writeArrayHeader(4);
      writeUint(OP_DELETE);
      writeNumber(m.id);
      writeString(m.key);
      writeVersion(m.version);
      return;
    case 'OK':
      writeArrayHeader(3);
      writeUint(OP_OK);
      writeNumber(m.id);
      writeOk(m);
      return;
    case 'NOT_FOUND':
      writeArrayHeader(3);
      writeUint(OP_NOT_FOUND);
      writeNumber(m.id);
      if (m.version === undefined) {
        room(1);
        out[pos++] = 0xc0;
      } else writeVersion(m.version);
      return;
    default:
      throw BAIL;
  }
}

/**
 * Runs `write(item)` from `start`: the bytes it wrote, as a view into the shared buffer that is never
 * written again, or undefined when it left the fast path.
 */
function take<T>(write: (item: T) => void, item: T): Uint8Array | undefined {
  try {
    write(item);
  } catch (error) {
    pos = start;
    if (error === BAIL) return undefined;
    throw error;
  }
  const bytes = out.subarray(start, pos);
  // The next starts on an 8-byte boundary (aligned reads for whoever looks at it as numbers).
  pos = (pos + 7) & ~7;
  start = pos;
  return bytes;
}

/** A frame: room for the length, the message, then the length. */
function writeFrame(message: Message): void {
  room(HEADER_BYTES);
  pos = start + HEADER_BYTES;
  writeMessage(message);
  view.setUint32(start, pos - start - HEADER_BYTES);
}

/**
 * The frame of `message` (4-byte length, then msgpack), or undefined when the message is not one the
 * fast path writes. The frame is a view into a shared buffer that is never written again.
 */
export function encodeFast(message: Message): Uint8Array | undefined {
  return take(writeFrame, message);
}

/**
 * The msgpack bytes of one record as a PUT_BATCH carries it (`[key, value, version]`), or undefined when
 * it is not one the fast path writes. A view into a shared buffer that is never written again.
 */
export function encodeRecordFast(record: WireRecord): Uint8Array | undefined {
  return take(writeRecord, record);
}

// ---------------------------------------------------------------- reader

/** Buffer's native slicers (undocumented, but what `toString('utf8' | 'latin1', ...)` calls). */
interface Slicer {
  utf8Slice(start: number, end: number): string;
  latin1Slice(start: number, end: number): string;
}
let srcBuffer: ArrayBufferLike | undefined;
let src = Buffer.alloc(0) as Buffer & Slicer;
let srcView = new DataView(src.buffer);
let at = 0;
let end = 0;
let maxDepth = 64;

function byte(): number {
  if (at >= end) throw BAIL;
  return src[at++] as number;
}

function need(n: number): void {
  if (at + n > end) throw BAIL;
}

/** A flag: true, or false for false or nil (anything else is left to the general decoder). */
function readTrue(): boolean {
  const b = byte();
  if (b === 0xc3) return true;
  if (b === 0xc2 || b === 0xc0) return false;
  throw BAIL;
}

/** An int (any msgpack int format) as a number, or a bigint beyond the safe range. */
function readInt(b: number): number | bigint {
  if (b < 0x80) return b;
  if (b >= 0xe0) return b - 0x100;
  let v: number | bigint;
  switch (b) {
    case 0xcc:
      need(1);
      return src[at++] as number;
    case 0xcd:
      need(2);
      v = srcView.getUint16(at);
      at += 2;
      return v;
    case 0xce:
      need(4);
      v = srcView.getUint32(at);
      at += 4;
      return v;
    case 0xcf:
      need(8);
      v = srcView.getBigUint64(at);
      at += 8;
      return normalizeInt(v);
    case 0xd0:
      need(1);
      v = srcView.getInt8(at);
      at += 1;
      return v;
    case 0xd1:
      need(2);
      v = srcView.getInt16(at);
      at += 2;
      return v;
    case 0xd2:
      need(4);
      v = srcView.getInt32(at);
      at += 4;
      return v;
    case 0xd3:
      need(8);
      v = srcView.getBigInt64(at);
      at += 8;
      return normalizeInt(v);
    default:
      throw BAIL;
  }
}

/** A whole number >= 0 in the safe range (ids, counts, version parts); an integral float64 too. */
function readCount(): number {
  const b = byte();
  if (b === 0xcb) {
    need(8);
    const f = srcView.getFloat64(at);
    at += 8;
    if (Number.isSafeInteger(f) && f >= 0) return f;
    throw BAIL;
  }
  const v = readInt(b);
  if (typeof v === 'number' && v >= 0) return v;
  throw BAIL;
}

const fromCharCode = String.fromCharCode;

/** Short ASCII strings straight from the bytes, by arity (no array, no native call). */
function asciiAt(from: number, length: number): string | undefined {
  const b = src;
  for (let i = from; i < from + length; i++) if ((b[i] as number) >= 0x80) return undefined;
  switch (length) {
    case 0:
      return '';
    case 1:
      return fromCharCode(b[from] as number);
    case 2:
      return fromCharCode(b[from] as number, b[from + 1] as number);
    case 3:
      return fromCharCode(b[from] as number, b[from + 1] as number, b[from + 2] as number);
    case 4:
      return fromCharCode(
        b[from] as number,
        b[from + 1] as number,
        b[from + 2] as number,
        b[from + 3] as number,
      );
    default:
      return b.latin1Slice(from, from + length);
  }
}

function readStringBody(length: number): string {
  need(length);
  const from = at;
  at += length;
  if (length < 64) {
    const ascii = asciiAt(from, length);
    if (ascii !== undefined) return ascii;
  }
  return src.utf8Slice(from, at);
}

/**
 * Document keys repeat across records by the million ("name", "age", ...): short ones come from this
 * cache, so every stored document shares one string per key instead of holding copies.
 */
const KEY_CACHE_SIZE = 4096;
const keyCache: (string | undefined)[] = new Array<string | undefined>(KEY_CACHE_SIZE);

function readKeyBody(length: number): string {
  if (length > 16) return readStringBody(length);
  need(length);
  const from = at;
  const b = src;
  let hash = length;
  for (let i = from; i < from + length; i++) {
    const c = b[i] as number;
    if (c >= 0x80) return readStringBody(length);
    hash = (Math.imul(hash, 31) + c) | 0;
  }
  const slot = hash & (KEY_CACHE_SIZE - 1);
  const cached = keyCache[slot];
  if (cached !== undefined && cached.length === length) {
    let same = true;
    for (let i = 0; i < length; i++)
      if (cached.charCodeAt(i) !== b[from + i]) {
        same = false;
        break;
      }
    if (same) {
      at += length;
      return cached;
    }
  }
  const key = readStringBody(length);
  keyCache[slot] = key;
  return key;
}

function readKey(): string {
  const b = byte();
  if ((b & 0xe0) === 0xa0) return readKeyBody(b & 0x1f);
  return readStringAfter(b);
}

/** A string, given its first byte (already read). */
/** The 16-bit size after `tag16`, the 32-bit size after `tag16 + 1`, or -1 for any other byte. */
function readWideSize(b: number, tag16: number): number {
  let n = -1;
  if (b === tag16) {
    need(2);
    n = srcView.getUint16(at);
    at += 2;
  } else if (b === tag16 + 1) {
    need(4);
    n = srcView.getUint32(at);
    at += 4;
  }
  return n;
}

function readStringAfter(b: number): string {
  if ((b & 0xe0) === 0xa0) return readStringBody(b & 0x1f);
  if (b === 0xd9) {
    need(1);
    return readStringBody(src[at++] as number);
  }
  const n = readWideSize(b, 0xda);
  if (n < 0) throw BAIL;
  return readStringBody(n);
}

function readString(): string {
  return readStringAfter(byte());
}

function readArrayLength(): number {
  const b = byte();
  if ((b & 0xf0) === 0x90) return b & 0x0f;
  const n = readWideSize(b, 0xdc);
  if (n < 0) throw BAIL;
  return n;
}

function readMapLengthAfter(b: number): number {
  if ((b & 0xf0) === 0x80) return b & 0x0f;
  return readWideSize(b, 0xde);
}

function readDoc(b: number, depth: number): Doc {
  const n = readMapLengthAfter(b);
  if (n < 0 || depth > maxDepth) throw BAIL;
  const doc: Doc = new Map();
  for (let i = 0; i < n; i++) {
    const key = readKey();
    doc.set(key, readValue(depth));
  }
  return doc;
}

/** A record value; `depth` is that of the document it sits in. */
function readValue(depth: number): Value {
  const b = byte();
  if (b < 0x80 || b >= 0xe0) return b < 0x80 ? b : b - 0x100;
  if ((b & 0xe0) === 0xa0 || (b >= 0xd9 && b <= 0xdb)) return readStringAfter(b);
  if ((b & 0xf0) === 0x80 || b === 0xde || b === 0xdf) return readDoc(b, depth + 1);
  if (b === 0xcb) {
    need(8);
    const f = srcView.getFloat64(at);
    at += 8;
    if (!Number.isFinite(f)) throw BAIL;
    return f;
  }
  if (b === 0xca) {
    need(4);
    const f = srcView.getFloat32(at);
    at += 4;
    if (!Number.isFinite(f)) throw BAIL;
    return f;
  }
  if (b === 0xd7) {
    need(9);
    if (src[at] !== FLOAT_EXT) throw BAIL;
    const f = srcView.getFloat64(at + 1);
    at += 9;
    if (!Number.isFinite(f)) throw BAIL;
    return new Float(f);
  }
  return readInt(b);
}

function readTopDoc(): Doc {
  return readDoc(byte(), 1);
}

function readVersion(): Version {
  if (readArrayLength() !== 3) throw BAIL;
  const wall = readCount();
  const counter = readCount();
  return [wall, counter, readString()];
}

function readRecord(allowTombstone: boolean): WireRecord | ExportEntry {
  if (readArrayLength() !== 3) throw BAIL;
  const key = readString();
  let value: Doc | null;
  if (allowTombstone && src[at] === 0xc0 && at < end) {
    at++;
    value = null;
  } else value = readTopDoc();
  return { key, value, version: readVersion() };
}

function readOk(id: number): OkReply {
  const n = readMapLengthAfter(byte());
  if (n < 0) throw BAIL;
  const reply: OkReply = { type: 'OK', id };
  for (let i = 0; i < n; i++) {
    const name = readString();
    switch (name) {
      case 'value':
        if (reply.value !== undefined) throw BAIL;
        reply.value = readValue(0);
        break;
      case 'version':
        reply.version = readVersion();
        break;
      case 'applied': {
        const b = byte();
        if (b !== 0xc2 && b !== 0xc3) throw BAIL;
        reply.applied = b === 0xc3;
        break;
      }
      case 'appliedCount':
        reply.appliedCount = readCount();
        break;
      case 'ignoredCount':
        reply.ignoredCount = readCount();
        break;
      case 'keys': {
        const count = readArrayLength();
        const keys: string[] = [];
        for (let k = 0; k < count; k++) keys.push(readString());
        reply.keys = keys;
        break;
      }
      case 'entries': {
        const count = readArrayLength();
        const entries: ExportEntry[] = [];
        for (let k = 0; k < count; k++) entries.push(readRecord(true));
        reply.entries = entries;
        break;
      }
      case 'cursor':
        reply.cursor = readString();
        break;
      default:
        throw BAIL;
    }
  }
  return reply;
}

function readMessage(): Message {
  const fields = readArrayLength();
  const op = readCount();
  const id = readCount();
  switch (op) {
    case OP_PUT: {
      if (fields !== 5) throw BAIL;
      const key = readString();
      const value = readTopDoc();
      return { type: 'PUT', id, key, value, version: readVersion() };
    }
    case OP_PUT_BATCH: {
      if (fields !== 3) throw BAIL;
      const count = readArrayLength();
      const records: WireRecord[] = [];
      for (let i = 0; i < count; i++) records.push(readRecord(false) as WireRecord);
      return { type: 'PUT_BATCH', id, records };
    }
    case OP_GET: {
      if (fields !== 3 && fields !== 4) throw BAIL;
      const key = readString();
      return fields === 4 && readTrue()
        ? { type: 'GET', id, key, versionOnly: true }
        : { type: 'GET', id, key };
    }
    case OP_QUERY: {
      if (fields !== 4 && fields !== 5) throw BAIL;
      const key = readString();
      const count = readArrayLength();
      const path: string[] = [];
      for (let i = 0; i < count; i++) path.push(readString());
      return fields === 5 && readTrue()
        ? { type: 'QUERY', id, key, path, versionOnly: true }
        : { type: 'QUERY', id, key, path };
    }
    case OP_DELETE: {
      if (fields !== 4) throw BAIL;
      const key = readString();
      return { type: 'DELETE', id, key, version: readVersion() };
    }
    case OP_OK:
      if (fields !== 3) throw BAIL;
      return readOk(id);
    case OP_NOT_FOUND: {
      if (fields !== 3) throw BAIL;
      if (src[at] === 0xc0 && at < end) {
        at++;
        return { type: 'NOT_FOUND', id };
      }
      return { type: 'NOT_FOUND', id, version: readVersion() };
    }
    default:
      throw BAIL;
  }
}

/**
 * The message in `data[from..to)` (a frame body), or undefined when it is not one the fast path reads:
 * then the general decoder reads it, and reports what is wrong with it if anything is.
 */
export function decodeFast(
  data: Uint8Array,
  from: number,
  to: number,
  depthLimit: number,
): Message | undefined {
  // Views over the whole ArrayBuffer, kept while frames keep coming from the same one (the frames of a
  // chunk, or of the encoder's buffer): no DataView or Buffer made per frame.
  if (data.buffer !== srcBuffer) {
    srcBuffer = data.buffer;
    src = Buffer.from(data.buffer) as Buffer & Slicer;
    srcView = new DataView(data.buffer);
  }
  at = data.byteOffset + from;
  end = data.byteOffset + to;
  maxDepth = depthLimit;
  try {
    const message = readMessage();
    return at === end ? message : undefined;
  } catch (error) {
    if (error === BAIL) return undefined;
    throw error;
  }
}
