import type { Version } from '@triekv/protocol';
import { Float, type Doc, type Value } from '@triekv/record';
import {
  FLOAT64_UNITS,
  NUM_UNITS,
  UnitWriter,
  readFloat64,
  readNum,
  readVarint,
  trieGet,
  varintEnd,
  writeTrie,
} from '@triekv/trie';

/**
 * A stored record, packed into one string of UTF-16 code units: its version, and its document with a
 * trie over the keys of every nested document. A store keeps records by the million, and a string is
 * one heap object however deep the document: the garbage collector copies and marks one object per
 * record where a tree of maps, arrays and tries would cost it a dozen. A record never changes (a write
 * replaces it whole), so nothing is ever edited in place.
 *
 * Numbers take byte-sized units, so a record whose keys and strings are Latin-1 is a one-byte string
 * (half the memory of a two-byte one): a varint (`UnitWriter#varint`, one unit below 128) wherever the
 * number is known when it is written, a 4-unit number where it is filled in later, a float64 in 8.
 *
 *   record    [kind: 0 tombstone, 1 document, 2 other value] [wall: varint] [counter: varint]
 *             [node length: varint] [node units] [document, for kind 1 | tag payload, for kind 2]
 *   document  [trie position: number] [end: number] [entry...] [trie]
 *   entry     [key length: varint] [key units] [tag] [payload]
 *   payload   INT: varint | NUMBER, WHOLE: float64 | STRING: [length: varint] [units]
 *             | BIGINT: [length: varint] [sign: 0 or 1] [magnitude bytes, most significant first]
 *             | BYTES: [length: varint] [one unit per byte] | TRUE, FALSE, NULL: nothing
 *             | DOC: a document | LIST: [end: number] [count: varint] [tag payload...]
 *
 * Entries are in the document's own key order (a read gives it back as written); the document's trie
 * (`writeTrie`'s layout) maps each key to the position of its entry's tag, so a QUERY walks one trie
 * per level and reads nothing else.
 */

const TOMBSTONE = 0;
/** A record whose value is a document (every record before lists and scalars could be stored). */
const LIVE = 1;
/** A record whose value is not a document: a tagged value follows the version. */
const LIVE_VALUE = 2;
/**
 * Not a record but a log entry's marker that the key was evicted (handed off: removed from this
 * server with no tombstone) at a version; never stored in the store.
 */
const EVICTED = 3;

/** A float, or a negative int (or -0), held in a `number`: a float64. */
const NUMBER = 1;
/** A float with a whole value (`Float`), kept apart from an int so that it reads back as a float. */
const WHOLE = 2;
const BIGINT = 3;
const STRING = 4;
const DOC = 5;
/** An int from 0 to 2^53 (not -0) in a `number`: a varint, usually one to three units. */
const INT = 6;
const LIST = 7;
const TRUE = 8;
const FALSE = 9;
const NULL = 10;
const BYTES = 11;

const NUM = NUM_UNITS;
const F64 = FLOAT64_UNITS;

/** The writer every record is packed in (packing is synchronous and never reentrant). */
const out = new UnitWriter();
/**
 * Keys and entry positions of the documents being packed: a document takes the next `size` places,
 * its nested documents the places after those, so no array is allocated per document.
 */
const keyStack: string[] = [];
const positionStack: number[] = [];
let stackTop = 0;
/** The most places the scratch keeps between records. */
const KEEP_KEYS = 4096;

/** Packs a record: `value` at `version` (a document, or any other value). */
export function packRecord(value: Value, version: Version): string {
  return pack(value instanceof Map ? LIVE : LIVE_VALUE, value, version);
}

/** Packs a tombstone: the record deleted at `version`. */
export function packTombstone(version: Version): string {
  return pack(TOMBSTONE, null, version);
}

/** Packs an eviction marker (for the log): the key removed here, with no tombstone, up to `version`. */
export function packEviction(version: Version): string {
  return pack(EVICTED, null, version);
}

/** Whether `packed` is an eviction marker, not a record. */
export function isEviction(packed: string): boolean {
  return packed.charCodeAt(0) === EVICTED;
}

function pack(kind: number, value: Value, version: Version): string {
  out.reset();
  out.unit(kind);
  out.varint(version[0]);
  out.varint(version[1]);
  out.varint(version[2].length);
  out.text(version[2]);
  if (kind === LIVE || kind === LIVE_VALUE) {
    stackTop = 0;
    if (kind === LIVE) writeDoc(value as Doc);
    else writeValue(value);
    // A document of very many keys is not kept alive (nor its keys) by the scratch it passed through.
    if (keyStack.length > KEEP_KEYS) {
      keyStack.length = 0;
      positionStack.length = 0;
    }
  }
  return out.toString();
}

function writeDoc(doc: Doc): void {
  const header = out.length;
  out.num(0);
  out.num(0);
  const from = stackTop;
  stackTop += doc.size;
  let at = from;
  // forEach, not for-of: no [key, value] pair allocated per entry on this path of every write.
  doc.forEach((value, key) => {
    out.varint(key.length);
    out.text(key);
    keyStack[at] = key;
    positionStack[at++] = out.length;
    writeValue(value);
  });
  out.setNum(header, out.length);
  writeTrie(out, keyStack, positionStack, from, at);
  out.setNum(header + NUM, out.length);
  stackTop = from;
}

function writeValue(value: Value): void {
  if (typeof value === 'string') {
    out.unit(STRING);
    out.varint(value.length);
    out.text(value);
  } else if (typeof value === 'number') {
    if (Number.isSafeInteger(value) && value >= 0 && !Object.is(value, -0)) {
      out.unit(INT);
      out.varint(value);
    } else {
      out.unit(NUMBER);
      out.float64(value);
    }
  } else if (value instanceof Map) {
    out.unit(DOC);
    writeDoc(value);
  } else if (value instanceof Float) {
    out.unit(WHOLE);
    out.float64(value.value);
  } else if (typeof value === 'boolean') {
    out.unit(value ? TRUE : FALSE);
  } else if (value === null) {
    out.unit(NULL);
  } else if (Array.isArray(value)) {
    out.unit(LIST);
    const header = out.length;
    out.num(0);
    out.varint(value.length);
    for (const item of value) writeValue(item);
    out.setNum(header, out.length);
  } else if (value instanceof Uint8Array) {
    out.unit(BYTES);
    out.varint(value.length);
    out.byteUnits(value);
  } else {
    // Binary, not decimal text: a sign unit, then the magnitude's bytes, most significant first
    // (hexadecimal conversions are linear in the size; decimal ones are not).
    const negative = value < 0n;
    let hex = (negative ? -value : value).toString(16);
    if (hex.length % 2 === 1) hex = `0${hex}`;
    out.unit(BIGINT);
    out.varint(1 + hex.length / 2);
    out.unit(negative ? 1 : 0);
    for (let i = 0; i < hex.length; i += 2) out.unit(parseInt(hex.slice(i, i + 2), 16));
  }
}

/** Whether the record holds a value (it is not a tombstone). */
export function isLive(packed: string): boolean {
  return packed.charCodeAt(0) !== TOMBSTONE;
}

/** Where a varint at `at` that ends before `end` ends, or -1 when it runs past `end` (or past 2^53). */
function boundedVarintEnd(packed: string, at: number, end: number): number {
  for (let i = 0; i < 8 && at < end; i++, at++) if (packed.charCodeAt(at) < 0x80) return at + 1;
  return -1;
}

/**
 * Whether `packed` has a record's envelope: a kind, a version whose parts lie inside it, and for a
 * document a header whose end is the string's end. What recovery checks of a record a log or snapshot
 * holds (each entry is checksummed too): reading a record never runs past its end.
 */
export function isPackedRecord(packed: string): boolean {
  const end = packed.length;
  const kind = packed.charCodeAt(0);
  if (kind !== TOMBSTONE && kind !== LIVE && kind !== LIVE_VALUE && kind !== EVICTED) return false;
  const counter = boundedVarintEnd(packed, 1, end);
  const node = counter < 0 ? -1 : boundedVarintEnd(packed, counter, end);
  const text = node < 0 ? -1 : boundedVarintEnd(packed, node, end);
  if (text < 0) return false;
  const docAt = text + readVarint(packed, node);
  if (kind === TOMBSTONE || kind === EVICTED) return docAt === end;
  if (kind === LIVE_VALUE) return docAt < end && valueEndWithin(packed, docAt, end) === end;
  if (docAt + 2 * NUM > end) return false;
  const entriesEnd = readNum(packed, docAt);
  return entriesEnd >= docAt + 2 * NUM && entriesEnd <= end && readNum(packed, docAt + NUM) === end;
}

/** Where the counter starts (after the kind and the wall time). */
function counterAt(packed: string): number {
  return varintEnd(packed, 1);
}

/** The record's version. */
export function packedVersion(packed: string): Version {
  const counter = counterAt(packed);
  const node = varintEnd(packed, counter);
  const text = varintEnd(packed, node);
  return [
    readVarint(packed, 1),
    readVarint(packed, counter),
    packed.slice(text, text + readVarint(packed, node)),
  ];
}

/**
 * Negative, zero or positive as the record's version is older than, equal to or newer than `version`
 * (`compareVersions` without building the record's version).
 */
export function compareToPacked(packed: string, version: Version): number {
  const wall = readVarint(packed, 1);
  if (wall !== version[0]) return wall < version[0] ? -1 : 1;
  const counterPosition = counterAt(packed);
  const counter = readVarint(packed, counterPosition);
  if (counter !== version[1]) return counter < version[1] ? -1 : 1;
  const node = version[2];
  const nodeAt = varintEnd(packed, counterPosition);
  const length = readVarint(packed, nodeAt);
  const text = varintEnd(packed, nodeAt);
  const shared = Math.min(length, node.length);
  for (let i = 0; i < shared; i++) {
    const a = packed.charCodeAt(text + i);
    const b = node.charCodeAt(i);
    if (a !== b) return a < b ? -1 : 1;
  }
  return length === node.length ? 0 : length < node.length ? -1 : 1;
}

/** Where a live record's value starts: its document (kind 1), or its tag (kind 2). */
export function docStart(packed: string): number {
  const nodeAt = varintEnd(packed, counterAt(packed));
  return varintEnd(packed, nodeAt) + readVarint(packed, nodeAt);
}

/**
 * Where the bytes of a live record whose value is bytes (what RESP strings are) start, or -1 for any
 * other record; their count is `bytesLength`. One unit per byte: a reply copies them without a buffer
 * made in between.
 */
export function bytesStart(packed: string): number {
  if (packed.charCodeAt(0) !== LIVE_VALUE) return -1;
  const at = docStart(packed);
  return packed.charCodeAt(at) === BYTES ? varintEnd(packed, at + 1) : -1;
}

/** How many bytes the record of `bytesStart` holds. */
export function bytesLength(packed: string): number {
  return readVarint(packed, docStart(packed) + 1);
}

/** The index a path step stands for in a list, or -1 (a key that is not digits). */
function indexOfStep(step: string | number): number {
  return typeof step === 'number' ? step : -1;
}

/**
 * The position of the value at `path` (at least one step) in a live record, or -1 when a step finds
 * nothing or a scalar is in the way. A string steps into a document (one trie walk per level), a number
 * into a list (a walk over the values before it; on a document, it is the key of its digits).
 */
export function find(packed: string, path: readonly (string | number)[]): number {
  // The position of the current value's tag; a kind 1 record's document has none (-1 stands for it).
  let at = packed.charCodeAt(0) === LIVE ? -1 : docStart(packed);
  let doc = at === -1 ? docStart(packed) : -1;
  for (const step of path) {
    if (at !== -1) {
      const tag = packed.charCodeAt(at);
      if (tag === DOC) doc = at + 1;
      else if (tag === LIST) {
        const index = indexOfStep(step);
        const count = readVarint(packed, at + 1 + NUM);
        if (index < 0 || index >= count) return -1;
        let item = varintEnd(packed, at + 1 + NUM);
        for (let i = 0; i < index; i++) item = valueEnd(packed, item);
        at = item;
        continue;
      } else return -1;
    }
    const position = trieGet(packed, readNum(packed, doc), String(step));
    if (position === undefined) return -1;
    at = position;
  }
  return at;
}

/** A live record's value: its document as a `Map` in its written key order, or its other value. */
export function unpackValue(packed: string): Value {
  const start = docStart(packed);
  return packed.charCodeAt(0) === LIVE ? readDoc(packed, start) : valueAt(packed, start);
}

function readDoc(packed: string, doc: number): Doc {
  const result: Doc = new Map();
  const entriesEnd = readNum(packed, doc);
  let at = doc + 2 * NUM;
  while (at < entriesEnd) {
    const keyAt = varintEnd(packed, at);
    const key = packed.slice(keyAt, keyAt + readVarint(packed, at));
    at = keyAt + key.length;
    result.set(key, valueAt(packed, at));
    at = valueEnd(packed, at);
  }
  return result;
}

/** A BIGINT payload's value: a sign unit, then magnitude bytes (see `writeValue`). */
function bigintOf(units: string): bigint {
  let hex = '0x';
  for (let i = 1; i < units.length; i++) hex += units.charCodeAt(i).toString(16).padStart(2, '0');
  const magnitude = BigInt(hex);
  return units.charCodeAt(0) === 1 ? -magnitude : magnitude;
}

/** The text of a STRING or BIGINT payload whose tag is at `at`. */
function textAt(packed: string, at: number): string {
  const start = varintEnd(packed, at + 1);
  return packed.slice(start, start + readVarint(packed, at + 1));
}

/** The value at a position `find` gave (a document comes back as a `Map` in its written order). */
export function valueAt(packed: string, at: number): Value {
  switch (packed.charCodeAt(at)) {
    case INT:
      return readVarint(packed, at + 1);
    case NUMBER:
      return readFloat64(packed, at + 1);
    case WHOLE:
      return new Float(readFloat64(packed, at + 1));
    case BIGINT:
      return bigintOf(textAt(packed, at));
    case STRING:
      return textAt(packed, at);
    case TRUE:
      return true;
    case FALSE:
      return false;
    case NULL:
      return null;
    case BYTES: {
      const start = varintEnd(packed, at + 1);
      // Every unit is below 256: latin1 gives the bytes back in one native copy.
      const bytes = Buffer.from(packed.slice(start, start + readVarint(packed, at + 1)), 'latin1');
      return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length);
    }
    case LIST: {
      const count = readVarint(packed, at + 1 + NUM);
      const list: Value[] = new Array<Value>(count);
      let item = varintEnd(packed, at + 1 + NUM);
      for (let i = 0; i < count; i++) {
        list[i] = valueAt(packed, item);
        item = valueEnd(packed, item);
      }
      return list;
    }
    default:
      return readDoc(packed, at + 1);
  }
}

/** Where the entry after the value at `at` begins. */
function valueEnd(packed: string, at: number): number {
  switch (packed.charCodeAt(at)) {
    case INT:
      return varintEnd(packed, at + 1);
    case NUMBER:
    case WHOLE:
      return at + 1 + F64;
    case BIGINT:
    case STRING:
    case BYTES:
      return varintEnd(packed, at + 1) + readVarint(packed, at + 1);
    case TRUE:
    case FALSE:
    case NULL:
      return at + 1;
    case LIST:
      return readNum(packed, at + 1);
    default:
      return readNum(packed, at + 1 + NUM);
  }
}

/**
 * Where the tagged value at `at` ends, checked to lie within `end` (-1 when it does not, or its tag
 * is unknown): recovery's check of a kind 2 record, whose value has no header of its own.
 */
function valueEndWithin(packed: string, at: number, end: number): number {
  const tag = packed.charCodeAt(at);
  if (tag < NUMBER || tag > BYTES) return -1;
  if (tag === INT || tag === STRING || tag === BIGINT || tag === BYTES) {
    const after = boundedVarintEnd(packed, at + 1, end);
    if (after < 0) return -1;
  } else if ((tag === LIST || tag === DOC) && at + 1 + NUM > end) return -1;
  const next = valueEnd(packed, at);
  return next > at && next <= end ? next : -1;
}
