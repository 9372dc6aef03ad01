import { isUtf8 } from 'node:buffer';
import { Float, normalizeInt, type Doc, type List, type Value } from '@triekv/record';
import { FLOAT_EXT } from './defaults.js';
import { BAIL } from './msgpack-writer.js';

/** Buffer's native slicers (undocumented, but what `toString('utf8' | 'latin1', ...)` calls). */
interface Slicer {
  utf8Slice(start: number, end: number): string;
  latin1Slice(start: number, end: number): string;
}

const fromCharCode = String.fromCharCode;

/**
 * Document keys repeat across records by the million ("name", "age", ...): short ones come from this
 * cache, so every stored document shares one string per key instead of holding copies. One cache is
 * shared by every reader (`KeyCache.shared`), so the strings are shared across connections too.
 */
export class KeyCache {
  readonly slots: (string | undefined)[];
  readonly mask: number;

  /** @param bits the cache holds 2^bits keys */
  constructor(bits = 12) {
    this.slots = new Array<string | undefined>(1 << bits);
    this.mask = (1 << bits) - 1;
  }

  static readonly shared = new KeyCache();
}

/**
 * A msgpack reader over one range of bytes at a time (`reset`). It reads only what the fast path
 * knows, the shortest way; anything else (or anything malformed or truncated) throws `BAIL`, and the
 * caller hands the bytes to the general decoder, which says what is wrong.
 */
export class MsgpackReader {
  private buffer: ArrayBufferLike | undefined;
  private src = Buffer.alloc(0) as Buffer & Slicer;
  private view = new DataView(this.src.buffer);
  /** Where the next byte is read. */
  at = 0;
  /** The end of the range. */
  end = 0;
  /** Deepest document nesting taken (deeper bails). */
  maxDepth = 64;
  /** Array elements and map entries read since `reset`; past `maxItems` the reader bails. */
  private items = 0;
  maxItems = Number.MAX_SAFE_INTEGER;

  constructor(private readonly keys: KeyCache = KeyCache.shared) {}

  /** Reads `data[from..to)` next. */
  reset(data: Uint8Array, from: number, to: number, maxDepth: number): void {
    // Views over the whole ArrayBuffer, kept while ranges keep coming from the same one (the frames
    // of a chunk): no DataView or Buffer made per frame.
    if (data.buffer !== this.buffer) {
      this.buffer = data.buffer;
      this.src = Buffer.from(data.buffer) as Buffer & Slicer;
      this.view = new DataView(data.buffer);
    }
    this.at = data.byteOffset + from;
    this.end = data.byteOffset + to;
    this.maxDepth = maxDepth;
    this.items = 0;
  }

  /** Counts `n` more items; over the limit, the general decoder says so. */
  private counted(n: number): number {
    this.items += n;
    if (this.items > this.maxItems) throw BAIL;
    return n;
  }

  /** Whether the whole range has been read. */
  get done(): boolean {
    return this.at === this.end;
  }

  /** The next byte, without reading it (-1 at the end). */
  peek(): number {
    return this.at < this.end ? (this.src[this.at] as number) : -1;
  }

  byte(): number {
    if (this.at >= this.end) throw BAIL;
    return this.src[this.at++] as number;
  }

  private need(n: number): void {
    if (this.at + n > this.end) throw BAIL;
  }

  /** nil, if it is next (then read). */
  nil(): boolean {
    if (this.peek() !== 0xc0) return false;
    this.at++;
    return true;
  }

  boolean(): boolean {
    const b = this.byte();
    if (b === 0xc3) return true;
    if (b === 0xc2) return false;
    throw BAIL;
  }

  /** An int (any msgpack int format) after its first byte `b`: a number, or a bigint beyond the safe range. */
  private int(b: number): number | bigint {
    if (b < 0x80) return b;
    if (b >= 0xe0) return b - 0x100;
    const view = this.view;
    const at = this.at;
    switch (b) {
      case 0xcc:
        this.need(1);
        this.at += 1;
        return this.src[at] as number;
      case 0xcd:
        this.need(2);
        this.at += 2;
        return view.getUint16(at);
      case 0xce:
        this.need(4);
        this.at += 4;
        return view.getUint32(at);
      case 0xcf:
        this.need(8);
        this.at += 8;
        return normalizeInt(view.getBigUint64(at));
      case 0xd0:
        this.need(1);
        this.at += 1;
        return view.getInt8(at);
      case 0xd1:
        this.need(2);
        this.at += 2;
        return view.getInt16(at);
      case 0xd2:
        this.need(4);
        this.at += 4;
        return view.getInt32(at);
      case 0xd3:
        this.need(8);
        this.at += 8;
        return normalizeInt(view.getBigInt64(at));
      default:
        throw BAIL;
    }
  }

  /** A whole number >= 0 in the safe range (ids, counts, version parts); an integral float64 too. */
  count(): number {
    const b = this.byte();
    if (b === 0xcb) {
      const f = this.float64();
      if (Number.isSafeInteger(f) && f >= 0) return f;
      throw BAIL;
    }
    const v = this.int(b);
    if (typeof v === 'number' && v >= 0) return v;
    throw BAIL;
  }

  private float64(): number {
    this.need(8);
    const f = this.view.getFloat64(this.at);
    this.at += 8;
    return f;
  }

  /** Short ASCII strings straight from the bytes, by arity (no array, no native call). */
  private ascii(from: number, length: number): string | undefined {
    const b = this.src;
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

  private stringBody(length: number): string {
    this.need(length);
    const from = this.at;
    this.at += length;
    if (length < 64) {
      const ascii = this.ascii(from, length);
      if (ascii !== undefined) return ascii;
    }
    // Invalid UTF-8 would become U+FFFD and silently merge different keys: the general decoder refuses it.
    if (!isUtf8(this.src.subarray(from, this.at))) throw BAIL;
    return this.src.utf8Slice(from, this.at);
  }

  /** A short string through the key cache. */
  private keyBody(length: number): string {
    if (length > 16) return this.stringBody(length);
    this.need(length);
    const from = this.at;
    const b = this.src;
    let hash = length;
    for (let i = from; i < from + length; i++) {
      const c = b[i] as number;
      if (c >= 0x80) return this.stringBody(length);
      hash = (Math.imul(hash, 31) + c) | 0;
    }
    const slots = this.keys.slots;
    const slot = hash & this.keys.mask;
    const cached = slots[slot];
    if (cached !== undefined && cached.length === length) {
      let same = true;
      for (let i = 0; i < length; i++)
        if (cached.charCodeAt(i) !== b[from + i]) {
          same = false;
          break;
        }
      if (same) {
        this.at += length;
        return cached;
      }
    }
    const key = this.stringBody(length);
    slots[slot] = key;
    return key;
  }

  /** The 16-bit size after `tag16`, the 32-bit size after `tag16 + 1`, or -1 for any other byte. */
  private wideSize(b: number, tag16: number): number {
    const at = this.at;
    if (b === tag16) {
      this.need(2);
      this.at += 2;
      return this.view.getUint16(at);
    }
    if (b === tag16 + 1) {
      this.need(4);
      this.at += 4;
      return this.view.getUint32(at);
    }
    return -1;
  }

  /** A string, given its first byte (already read). */
  private stringAfter(b: number): string {
    if ((b & 0xe0) === 0xa0) return this.stringBody(b & 0x1f);
    if (b === 0xd9) {
      this.need(1);
      return this.stringBody(this.src[this.at++] as number);
    }
    const n = this.wideSize(b, 0xda);
    if (n < 0) throw BAIL;
    return this.stringBody(n);
  }

  string(): string {
    return this.stringAfter(this.byte());
  }

  /** A document key: a string, short ones through the key cache. */
  key(): string {
    const b = this.byte();
    if ((b & 0xe0) === 0xa0) return this.keyBody(b & 0x1f);
    return this.stringAfter(b);
  }

  arrayLength(): number {
    const b = this.byte();
    if ((b & 0xf0) === 0x90) return this.counted(b & 0x0f);
    const n = this.wideSize(b, 0xdc);
    if (n < 0) throw BAIL;
    return this.counted(n);
  }

  private mapLengthAfter(b: number): number {
    if ((b & 0xf0) === 0x80) return this.counted(b & 0x0f);
    const n = this.wideSize(b, 0xde);
    if (n < 0) throw BAIL;
    return this.counted(n);
  }

  mapLength(): number {
    return this.mapLengthAfter(this.byte());
  }

  /** A document at nesting `depth` (a record's own document is 1), given its first byte. */
  private docAfter(b: number, depth: number): Doc {
    const n = this.mapLengthAfter(b);
    if (depth > this.maxDepth) throw BAIL;
    const doc: Doc = new Map();
    for (let i = 0; i < n; i++) {
      const key = this.key();
      doc.set(key, this.value(depth));
    }
    return doc;
  }

  /** A record's document. */
  doc(): Doc {
    return this.docAfter(this.byte(), 1);
  }

  /** A list at nesting `depth`, given its first byte. */
  private listAfter(b: number, depth: number): List {
    const n = (b & 0xf0) === 0x90 ? this.counted(b & 0x0f) : this.counted(this.wideSize(b, 0xdc));
    if (depth > this.maxDepth) throw BAIL;
    const list: List = [];
    for (let i = 0; i < n; i++) list.push(this.value(depth));
    return list;
  }

  /** Bytes (msgpack bin), copied out of the frame, given the first byte. */
  private binAfter(b: number): Uint8Array {
    let n: number;
    if (b === 0xc4) {
      this.need(1);
      n = this.src[this.at++] as number;
    } else {
      this.need(b === 0xc5 ? 2 : 4);
      n = b === 0xc5 ? this.view.getUint16(this.at) : this.view.getUint32(this.at);
      this.at += b === 0xc5 ? 2 : 4;
    }
    this.need(n);
    const bytes = Uint8Array.prototype.slice.call(this.src, this.at, this.at + n) as Uint8Array;
    this.at += n;
    return bytes;
  }

  /** A record value; `depth` is that of the document or list it sits in (0 for a bare value). */
  value(depth: number): Value {
    const b = this.byte();
    if (b < 0x80 || b >= 0xe0) return b < 0x80 ? b : b - 0x100;
    if ((b & 0xe0) === 0xa0 || (b >= 0xd9 && b <= 0xdb)) return this.stringAfter(b);
    if ((b & 0xf0) === 0x80 || b === 0xde || b === 0xdf) return this.docAfter(b, depth + 1);
    if ((b & 0xf0) === 0x90 || b === 0xdc || b === 0xdd) return this.listAfter(b, depth + 1);
    if (b === 0xc0) return null;
    if (b === 0xc2 || b === 0xc3) return b === 0xc3;
    if (b >= 0xc4 && b <= 0xc6) return this.binAfter(b);
    if (b === 0xcb) {
      const f = this.float64();
      if (!Number.isFinite(f)) throw BAIL;
      return f;
    }
    if (b === 0xca) {
      this.need(4);
      const f = this.view.getFloat32(this.at);
      this.at += 4;
      if (!Number.isFinite(f)) throw BAIL;
      return f;
    }
    if (b === 0xd7) {
      this.need(9);
      if (this.src[this.at] !== FLOAT_EXT) throw BAIL;
      this.at++;
      const f = this.float64();
      if (!Number.isFinite(f)) throw BAIL;
      return new Float(f);
    }
    return this.int(b);
  }
}
