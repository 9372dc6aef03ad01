/** Whether this platform stores a Uint16Array little-endian (as `Buffer#toString('utf16le')` reads it). */
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * Units a number takes (`num`): four, one byte each, high byte first. Byte-sized units keep a string of
 * numbers and Latin-1 text a one-byte string, half the memory of a two-byte one.
 */
export const NUM_UNITS = 4;
/** Units a float64 takes (`float64`): eight, one byte each. */
export const FLOAT64_UNITS = 8;

/** Scratch for moving a float64 in and out of eight byte-sized units. */
const f64 = new Float64Array(1);
const f64Bytes = new Uint8Array(f64.buffer);

/** Room a writer starts with, and the most it keeps between builds (one large string is not kept). */
const INITIAL_UNITS = 1024;
const KEEP_UNITS = 64 * 1024;

/** Above this many units, `fromCharCode.apply` would exceed the engine's argument limit. */
const CHUNK = 8192;

/**
 * A growable buffer of UTF-16 code units, for building a string that holds structured data: a trie, or a
 * whole record with the tries of its nested documents. Reused from build to build, so building a string
 * allocates only the string itself.
 */
export class UnitWriter {
  private units = new Uint16Array(INITIAL_UNITS);
  private bytes = Buffer.from(this.units.buffer);
  /** Units written. */
  length = 0;

  /** Empties the buffer, keeping its room unless a large build grew it past `KEEP_UNITS`. */
  reset(): void {
    this.length = 0;
    if (this.units.length > KEEP_UNITS) {
      this.units = new Uint16Array(INITIAL_UNITS);
      this.bytes = Buffer.from(this.units.buffer);
    }
  }

  /** Makes room for `more` units. */
  room(more: number): void {
    const need = this.length + more;
    if (need <= this.units.length) return;
    let size = this.units.length * 2;
    while (size < need) size *= 2;
    const units = new Uint16Array(size);
    units.set(this.units.subarray(0, this.length));
    this.units = units;
    this.bytes = Buffer.from(units.buffer);
  }

  /** Appends one code unit (0 to 0xffff). */
  unit(u: number): void {
    if (this.length === this.units.length) this.room(1);
    this.units[this.length++] = u;
  }

  /** Appends a number from 0 to 2^32 - 1 as four byte-sized units, high byte first. */
  num(n: number): void {
    this.room(NUM_UNITS);
    this.setNum(this.length, n);
    this.length += NUM_UNITS;
  }

  /**
   * Appends a whole number from 0 to 2^53 as a varint: seven bits per byte-sized unit, low bits first,
   * the top bit set on every unit but the last (one unit below 128, two below 16,384). For numbers that
   * are written once and never patched.
   */
  varint(n: number): void {
    this.room(8);
    const units = this.units;
    let at = this.length;
    while (n >= 0x80) {
      units[at++] = (n % 0x80) | 0x80;
      n = Math.floor(n / 0x80);
    }
    units[at++] = n;
    this.length = at;
  }

  /** Overwrites the number at `at` (written by `num`). */
  setNum(at: number, n: number): void {
    const units = this.units;
    units[at] = (n >>> 24) & 0xff;
    units[at + 1] = (n >>> 16) & 0xff;
    units[at + 2] = (n >>> 8) & 0xff;
    units[at + 3] = n & 0xff;
  }

  /** Appends the code units of `s`. */
  text(s: string): void {
    const n = s.length;
    this.room(n);
    const units = this.units;
    let at = this.length;
    for (let i = 0; i < n; i++) units[at++] = s.charCodeAt(i);
    this.length = at;
  }

  /** Appends bytes, one unit each (read back as a latin1 slice of the string). */
  byteUnits(b: Uint8Array): void {
    this.room(b.length);
    this.units.set(b, this.length);
    this.length += b.length;
  }

  /** Appends any number, bit for bit, as eight byte-sized units (read back with `readFloat64`). */
  float64(x: number): void {
    this.room(FLOAT64_UNITS);
    f64[0] = x;
    const units = this.units;
    let at = this.length;
    for (let i = 0; i < FLOAT64_UNITS; i++) units[at++] = f64Bytes[i] as number;
    this.length = at;
  }

  /** The units written, as a string. */
  toString(): string {
    if (LITTLE_ENDIAN) return this.bytes.toString('utf16le', 0, 2 * this.length);
    let s = '';
    for (let i = 0; i < this.length; i += CHUNK)
      s += String.fromCharCode.apply(
        null,
        this.units.subarray(i, Math.min(this.length, i + CHUNK)) as unknown as number[],
      );
    return s;
  }
}

/** The number written by `UnitWriter#num` at `at`. */
export function readNum(s: string, at: number): number {
  return (
    s.charCodeAt(at) * 0x1000000 +
    ((s.charCodeAt(at + 1) << 16) | (s.charCodeAt(at + 2) << 8) | s.charCodeAt(at + 3))
  );
}

/** The number written by `UnitWriter#varint` at `at`. */
export function readVarint(s: string, at: number): number {
  let u = s.charCodeAt(at);
  if (u < 0x80) return u;
  let result = 0;
  let scale = 1;
  for (;;) {
    result += (u & 0x7f) * scale;
    if (u < 0x80) return result;
    scale *= 0x80;
    u = s.charCodeAt(++at);
  }
}

/** Where the varint at `at` ends (the position after its last unit). */
export function varintEnd(s: string, at: number): number {
  while (s.charCodeAt(at) >= 0x80) at++;
  return at + 1;
}

/** The number written by `UnitWriter#float64` at `at`. */
export function readFloat64(s: string, at: number): number {
  for (let i = 0; i < FLOAT64_UNITS; i++) f64Bytes[i] = s.charCodeAt(at + i);
  return f64[0] as number;
}
