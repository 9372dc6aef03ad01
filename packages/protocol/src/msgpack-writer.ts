import { Float, type Value } from '@triekv/record';
import { FLOAT_EXT } from './defaults.js';

/**
 * Thrown inside a writer or reader to leave the fast path for the general codec. One instance made
 * once: throwing it costs no stack capture.
 */
export const BAIL = new Error('not for the fast path');

/** A string with a lone surrogate: it has no UTF-8 form, so it cannot be sent. */
export class LoneSurrogateError extends TypeError {
  constructor() {
    super('a string holds a lone surrogate (half of a UTF-16 pair): it is not valid Unicode');
    this.name = 'LoneSurrogateError';
  }
}

/** Bytes a writer's buffer starts with and grows from. */
const CHUNK = 64 * 1024;
/** A buffer grown past this for one large output is not kept for the next (small) ones. */
const KEEP = 1024 * 1024;

/** `n` rounded up to a multiple of 8. */
const align8 = (n: number): number => (n + 7) & ~7;

/**
 * A msgpack writer over a buffer of its own. Each output (`begin` … `take`) is written after the
 * previous one and handed out as a view of the buffer, which is never written again: no copy per
 * frame. Outputs start on 8-byte boundaries; the buffer's length is always a multiple of 8, so the
 * boundary never lies past its end.
 */
export class MsgpackWriter {
  private out: Buffer = Buffer.allocUnsafe(CHUNK);
  private view: DataView = new DataView(this.out.buffer, this.out.byteOffset, this.out.byteLength);
  private start = 0;
  /** Where the next byte goes. */
  pos = 0;

  /** Makes room for `n` more bytes, moving the output written so far into a new buffer if needed. */
  room(n: number): void {
    if (this.pos + n <= this.out.length) return;
    const written = this.pos - this.start;
    const next = Buffer.allocUnsafe(Math.max(CHUNK, align8((written + n) * 2)));
    if (written > 0) this.out.copy(next, 0, this.start, this.pos);
    this.setBuffer(next);
    this.pos = written;
  }

  private setBuffer(buffer: Buffer): void {
    this.out = buffer;
    this.view = new DataView(buffer.buffer, buffer.byteOffset, buffer.byteLength);
    this.start = 0;
  }

  /** Starts an output, with `skip` bytes left free at its start (filled in with `setUint32At`). */
  begin(skip = 0): void {
    this.pos = this.start;
    this.room(skip);
    this.pos = this.start + skip;
  }

  /** Ends the output begun last: its bytes, as a view that nothing will write again. */
  take(): Uint8Array {
    const bytes = this.out.subarray(this.start, this.pos);
    if (this.out.length > KEEP) {
      // A large output is not followed by small ones pinning its buffer.
      this.setBuffer(Buffer.allocUnsafe(CHUNK));
      this.pos = 0;
    } else {
      // The next output starts on an 8-byte boundary (aligned reads for whoever looks at it as
      // numbers); the buffer's length is a multiple of 8, so this is at most its end.
      this.pos = align8(this.pos);
      this.start = this.pos;
    }
    return bytes;
  }

  /** Drops the output begun last. */
  abandon(): void {
    this.pos = this.start;
  }

  /** Bytes of the output begun last, so far. */
  get length(): number {
    return this.pos - this.start;
  }

  /** Writes a big-endian uint32 at `offset` bytes from the output's start. */
  setUint32At(offset: number, v: number): void {
    this.view.setUint32(this.start + offset, v);
  }

  /**
   * Overwrites the byte `offset` bytes from the output's start (written earlier in this output). Offsets,
   * not positions: the output moves to a new buffer when it grows.
   */
  setByteAt(offset: number, b: number): void {
    this.out[this.start + offset] = b;
  }

  byte(b: number): void {
    this.room(1);
    this.out[this.pos++] = b;
  }

  nil(): void {
    this.byte(0xc0);
  }

  boolean(v: boolean): void {
    this.byte(v ? 0xc3 : 0xc2);
  }

  uint(v: number): void {
    this.room(9);
    const out = this.out;
    if (v < 0x80) out[this.pos++] = v;
    else if (v < 0x100) {
      out[this.pos++] = 0xcc;
      out[this.pos++] = v;
    } else if (v < 0x10000) {
      out[this.pos++] = 0xcd;
      this.view.setUint16(this.pos, v);
      this.pos += 2;
    } else if (v <= 0xffffffff) {
      out[this.pos++] = 0xce;
      this.view.setUint32(this.pos, v);
      this.pos += 4;
    } else this.float64(v);
  }

  number(v: number): void {
    if (v >>> 0 === v) return this.uint(v);
    this.room(9);
    const out = this.out;
    if (v >> 0 === v) {
      if (v >= -0x20) out[this.pos++] = 0x100 + v;
      else if (v >= -0x80) {
        out[this.pos++] = 0xd0;
        out[this.pos++] = v + 0x100;
      } else if (v >= -0x8000) {
        out[this.pos++] = 0xd1;
        this.view.setInt16(this.pos, v);
        this.pos += 2;
      } else {
        out[this.pos++] = 0xd2;
        this.view.setInt32(this.pos, v);
        this.pos += 4;
      }
      return;
    }
    this.float64(v);
  }

  private float64(v: number): void {
    this.room(9);
    this.out[this.pos++] = 0xcb;
    this.view.setFloat64(this.pos, v);
    this.pos += 8;
  }

  /** An int in 64 bits; beyond them the general codec's bigint extension is needed (bails). */
  bigint(v: bigint): void {
    if (v < -0x8000000000000000n || v > 0xffffffffffffffffn) throw BAIL;
    this.room(9);
    if (v <= 0x7fffffffffffffffn) {
      this.out[this.pos++] = 0xd3;
      this.view.setBigInt64(this.pos, v);
    } else {
      this.out[this.pos++] = 0xcf;
      this.view.setBigUint64(this.pos, v);
    }
    this.pos += 8;
  }

  string(s: string): void {
    const length = s.length;
    if (length < 32) {
      // Short and (usually) ASCII: byte by byte, no encoder call.
      this.room(1 + length);
      const at = this.pos;
      let i = 0;
      for (; i < length; i++) {
        const c = s.charCodeAt(i);
        if (c >= 0x80) break;
        this.out[at + 1 + i] = c;
      }
      if (i === length) {
        this.out[at] = 0xa0 | length;
        this.pos = at + 1 + length;
        return;
      }
    }
    // A lone surrogate would be written as U+FFFD: "\uD800" and "\uFFFD" would be one key.
    if (!s.isWellFormed()) throw new LoneSurrogateError();
    // UTF-8 takes at most 3 bytes per UTF-16 code unit; write after the widest header it may need,
    // then move the bytes back if a narrower one fits.
    const max = length * 3;
    const header = max < 32 ? 1 : max < 0x100 ? 2 : max < 0x10000 ? 3 : 5;
    this.room(header + max);
    const pos = this.pos;
    const b = this.out;
    const bytes = b.write(s, pos + header, max, 'utf8');
    const need = bytes < 32 ? 1 : bytes < 0x100 ? 2 : bytes < 0x10000 ? 3 : 5;
    if (need < header) b.copyWithin(pos + need, pos + header, pos + header + bytes);
    if (need === 1) b[pos] = 0xa0 | bytes;
    else if (need === 2) {
      b[pos] = 0xd9;
      b[pos + 1] = bytes;
    } else if (need === 3) {
      b[pos] = 0xda;
      this.view.setUint16(pos + 1, bytes);
    } else {
      b[pos] = 0xdb;
      this.view.setUint32(pos + 1, bytes);
    }
    this.pos = pos + need + bytes;
  }

  /** An array or map header: the fix form below 16, else 16 or 32 bits after `tag16` (or `tag16 + 1`). */
  private header(n: number, fix: number, tag16: number): void {
    this.room(5);
    if (n < 16) this.out[this.pos++] = fix | n;
    else if (n < 0x10000) {
      this.out[this.pos++] = tag16;
      this.view.setUint16(this.pos, n);
      this.pos += 2;
    } else {
      this.out[this.pos++] = tag16 + 1;
      this.view.setUint32(this.pos, n);
      this.pos += 4;
    }
  }

  arrayHeader(n: number): void {
    this.header(n, 0x90, 0xdc);
  }

  /** Bytes, as msgpack bin. */
  bin(bytes: Uint8Array): void {
    const n = bytes.length;
    this.room(5 + n);
    if (n < 0x100) {
      this.out[this.pos++] = 0xc4;
      this.out[this.pos++] = n;
    } else if (n < 0x10000) {
      this.out[this.pos++] = 0xc5;
      this.view.setUint16(this.pos, n);
      this.pos += 2;
    } else {
      this.out[this.pos++] = 0xc6;
      this.view.setUint32(this.pos, n);
      this.pos += 4;
    }
    this.out.set(bytes, this.pos);
    this.pos += n;
  }

  mapHeader(n: number): void {
    this.header(n, 0x80, 0xde);
  }

  /**
   * A record value: ints, floats (`Float` as ext 0x46 with its raw bits), strings, bytes (bin),
   * documents (maps), lists (arrays), booleans and null (nil).
   */
  value(v: Value): void {
    switch (typeof v) {
      case 'string':
        return this.string(v);
      case 'number':
        return this.number(v);
      case 'bigint':
        return this.bigint(v);
      case 'boolean':
        return this.boolean(v);
      default:
        if (v === null) return this.nil();
        if (Array.isArray(v)) {
          this.arrayHeader(v.length);
          for (const item of v) this.value(item);
          return;
        }
        if (v instanceof Uint8Array) {
          this.bin(v);
          return;
        }
        if (v instanceof Float) {
          this.room(10);
          this.out[this.pos++] = 0xd7;
          this.out[this.pos++] = FLOAT_EXT;
          this.view.setFloat64(this.pos, v.value);
          this.pos += 8;
          return;
        }
        if (v instanceof Map) {
          this.mapHeader(v.size);
          v.forEach(writeEntry, this);
          return;
        }
        throw BAIL;
    }
  }
}

/** One document entry (a `Map#forEach` callback: no `[key, value]` array per entry). */
function writeEntry(this: MsgpackWriter, value: Value, key: string): void {
  this.string(key);
  this.value(value);
}
