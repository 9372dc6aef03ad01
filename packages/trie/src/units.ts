/** Whether this platform stores a Uint16Array little-endian (as `Buffer#toString('utf16le')` reads it). */
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Scratch for moving a float64 in and out of four code units. */
const f64 = new Float64Array(1);
const f64Units = new Uint16Array(f64.buffer);

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

  /** Appends a number from 0 to 2^32 - 1 as two units, high then low 16 bits. */
  num(n: number): void {
    this.room(2);
    this.units[this.length++] = n / 0x10000;
    this.units[this.length++] = n;
  }

  /** Overwrites the number at `at` (written by `num`). */
  setNum(at: number, n: number): void {
    this.units[at] = n / 0x10000;
    this.units[at + 1] = n;
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

  /** Appends any number, bit for bit, as four units (read back with `readFloat64`). */
  float64(x: number): void {
    this.room(4);
    f64[0] = x;
    const units = this.units;
    units[this.length++] = f64Units[0] as number;
    units[this.length++] = f64Units[1] as number;
    units[this.length++] = f64Units[2] as number;
    units[this.length++] = f64Units[3] as number;
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
  return s.charCodeAt(at) * 0x10000 + s.charCodeAt(at + 1);
}

/** The number written by `UnitWriter#float64` at `at`. */
export function readFloat64(s: string, at: number): number {
  f64Units[0] = s.charCodeAt(at);
  f64Units[1] = s.charCodeAt(at + 1);
  f64Units[2] = s.charCodeAt(at + 2);
  f64Units[3] = s.charCodeAt(at + 3);
  return f64[0] as number;
}
