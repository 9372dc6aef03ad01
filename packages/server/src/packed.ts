import type { Version } from '@triekv/protocol';
import { Float, type Doc, type Value } from '@triekv/record';
import {
  FLOAT64_UNITS,
  NUM_UNITS,
  UnitWriter,
  readFloat64,
  readNum,
  trieGet,
  writeTrie,
} from '@triekv/trie';

/**
 * A stored record, packed into one string of UTF-16 code units: its version, and its document with a
 * trie over the keys of every nested document. A store keeps records by the million, and a string is
 * one heap object however deep the document: the garbage collector copies and marks one object per
 * record where a tree of maps, arrays and tries would cost it a dozen. A record never changes (a write
 * replaces it whole), so nothing is ever edited in place.
 *
 * Layout (a "number" is four units of one byte each, a float64 eight, bit for bit: byte-sized units keep
 * a record whose keys and strings are Latin-1 a one-byte string, half the memory of a two-byte one):
 *
 *   record    [kind: 0 tombstone, 1 document] [wall: float64] [counter: float64]
 *             [node length: number] [node units] [document, for kind 1]
 *   document  [trie position: number] [end: number] [entry...] [trie]
 *   entry     [key length: number] [key units] [tag] [payload]
 *   payload   NUMBER, WHOLE: a float64 | BIGINT, STRING: [length: number] [units] | DOC: a document
 *
 * Entries are in the document's own key order (a read gives it back as written); the document's trie
 * (`writeTrie`'s layout) maps each key to the position of its entry's tag, so a QUERY walks one trie
 * per level and reads nothing else.
 */

const TOMBSTONE = 0;
const LIVE = 1;

/** An int or a float held in a `number`. */
const NUMBER = 1;
/** A float with a whole value (`Float`), kept apart from an int so that it reads back as a float. */
const WHOLE = 2;
const BIGINT = 3;
const STRING = 4;
const DOC = 5;

const NUM = NUM_UNITS;
const F64 = FLOAT64_UNITS;
/** Where the length of the version's node id is (after the kind, the wall time and the counter). */
const NODE = 1 + F64 + F64;

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

/** Packs a record: `doc` at `version`, or a tombstone at `version` when `doc` is null. */
export function packRecord(doc: Doc | null, version: Version): string {
  out.reset();
  out.unit(doc === null ? TOMBSTONE : LIVE);
  out.float64(version[0]);
  out.float64(version[1]);
  out.num(version[2].length);
  out.text(version[2]);
  if (doc !== null) {
    stackTop = 0;
    writeDoc(doc);
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
    out.num(key.length);
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
    out.num(value.length);
    out.text(value);
  } else if (typeof value === 'number') {
    out.unit(NUMBER);
    out.float64(value);
  } else if (value instanceof Map) {
    out.unit(DOC);
    writeDoc(value);
  } else if (value instanceof Float) {
    out.unit(WHOLE);
    out.float64(value.value);
  } else {
    const digits = value.toString();
    out.unit(BIGINT);
    out.num(digits.length);
    out.text(digits);
  }
}

/** Whether the record is a document (not a tombstone). */
export function isLive(packed: string): boolean {
  return packed.charCodeAt(0) === LIVE;
}

/** The record's version. */
export function packedVersion(packed: string): Version {
  const length = readNum(packed, NODE);
  return [
    readFloat64(packed, 1),
    readFloat64(packed, 1 + F64),
    packed.slice(NODE + NUM, NODE + NUM + length),
  ];
}

/**
 * Negative, zero or positive as the record's version is older than, equal to or newer than `version`
 * (`compareVersions` without building the record's version).
 */
export function compareToPacked(packed: string, version: Version): number {
  const wall = readFloat64(packed, 1);
  if (wall !== version[0]) return wall < version[0] ? -1 : 1;
  const counter = readFloat64(packed, 1 + F64);
  if (counter !== version[1]) return counter < version[1] ? -1 : 1;
  const node = version[2];
  const length = readNum(packed, NODE);
  const shared = Math.min(length, node.length);
  for (let i = 0; i < shared; i++) {
    const a = packed.charCodeAt(NODE + NUM + i);
    const b = node.charCodeAt(i);
    if (a !== b) return a < b ? -1 : 1;
  }
  return length === node.length ? 0 : length < node.length ? -1 : 1;
}

/** Where a live record's document starts. */
export function docStart(packed: string): number {
  return NODE + NUM + readNum(packed, NODE);
}

/**
 * The position of the value at `path` (at least one key) in a live record, or -1 when a key is missing
 * or a non-document is in the way. Walks one trie per level.
 */
export function find(packed: string, path: readonly string[]): number {
  let doc = docStart(packed);
  let at = -1;
  for (let level = 0; level < path.length; level++) {
    if (level > 0) {
      if (packed.charCodeAt(at) !== DOC) return -1;
      doc = at + 1;
    }
    const position = trieGet(packed, readNum(packed, doc), path[level] as string);
    if (position === undefined) return -1;
    at = position;
  }
  return at;
}

/** The value at a position `find` gave (a document comes back as a `Map` in its written order). */
export function valueAt(packed: string, at: number): Value {
  return readValue(packed, at);
}

/** A live record's document, as a `Map` in its written key order. */
export function unpackDoc(packed: string): Doc {
  return readDoc(packed, docStart(packed));
}

function readDoc(packed: string, doc: number): Doc {
  const result: Doc = new Map();
  const entriesEnd = readNum(packed, doc);
  let at = doc + 2 * NUM;
  while (at < entriesEnd) {
    const keyLength = readNum(packed, at);
    const key = packed.slice(at + NUM, at + NUM + keyLength);
    at += NUM + keyLength;
    result.set(key, readValue(packed, at));
    at = valueEnd(packed, at);
  }
  return result;
}

function readValue(packed: string, at: number): Value {
  switch (packed.charCodeAt(at)) {
    case NUMBER:
      return readFloat64(packed, at + 1);
    case WHOLE:
      return new Float(readFloat64(packed, at + 1));
    case BIGINT:
      return BigInt(packed.slice(at + 1 + NUM, at + 1 + NUM + readNum(packed, at + 1)));
    case STRING:
      return packed.slice(at + 1 + NUM, at + 1 + NUM + readNum(packed, at + 1));
    default:
      return readDoc(packed, at + 1);
  }
}

/** Where the entry after the value at `at` begins. */
function valueEnd(packed: string, at: number): number {
  switch (packed.charCodeAt(at)) {
    case NUMBER:
    case WHOLE:
      return at + 1 + F64;
    case BIGINT:
    case STRING:
      return at + 1 + NUM + readNum(packed, at + 1);
    default:
      return readNum(packed, at + 1 + NUM);
  }
}
