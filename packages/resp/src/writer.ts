/** Which protocol a connection speaks: RESP2 (the default) or RESP3 (after `HELLO 3`). */
export type Protocol = 2 | 3;

/**
 * A reply as a tree, for replies that are not on a hot path (INFO, COMMAND, HELLO): written by
 * `RespWriter#reply` in either protocol. RESP3 types fall back to their RESP2 forms on a RESP2
 * connection as Redis does: a map to a flat array, a set to an array, a double and a big number to a
 * bulk string, a boolean to 1 or 0, null to a null bulk string, a verbatim string to a bulk string,
 * and attributes are dropped.
 */
export type RespValue =
  | { type: 'simple'; value: string }
  | { type: 'error'; value: string }
  | { type: 'integer'; value: number | bigint }
  | { type: 'bulk'; value: Buffer | string | null }
  | { type: 'array'; value: RespValue[] | null }
  | { type: 'map'; value: [RespValue, RespValue][] }
  | { type: 'set'; value: RespValue[] }
  | { type: 'double'; value: number }
  | { type: 'bignum'; value: bigint }
  | { type: 'boolean'; value: boolean }
  | { type: 'null' }
  | { type: 'verbatim'; format: string; value: string }
  | { type: 'attribute'; attributes: [RespValue, RespValue][]; value: RespValue };

/** Shorthands for building reply trees. */
export const R = {
  simple: (value: string): RespValue => ({ type: 'simple', value }),
  error: (value: string): RespValue => ({ type: 'error', value }),
  integer: (value: number | bigint): RespValue => ({ type: 'integer', value }),
  bulk: (value: Buffer | string | null): RespValue => ({ type: 'bulk', value }),
  array: (value: RespValue[] | null): RespValue => ({ type: 'array', value }),
  map: (value: [RespValue, RespValue][]): RespValue => ({ type: 'map', value }),
  set: (value: RespValue[]): RespValue => ({ type: 'set', value }),
  double: (value: number): RespValue => ({ type: 'double', value }),
  bignum: (value: bigint): RespValue => ({ type: 'bignum', value }),
  boolean: (value: boolean): RespValue => ({ type: 'boolean', value }),
  null: (): RespValue => ({ type: 'null' }),
  verbatim: (value: string, format = 'txt'): RespValue => ({ type: 'verbatim', format, value }),
  /** A map of string keys, the common case (HELLO, COMMAND DOCS). */
  fields: (entries: [string, RespValue][]): RespValue => ({
    type: 'map',
    value: entries.map(([k, v]) => [{ type: 'bulk', value: k }, v]),
  }),
} as const;

const CRLF = Buffer.from('\r\n');
const OK = Buffer.from('+OK\r\n');
const SMALL_INTS = Array.from({ length: 1000 }, (_, i) => Buffer.from(`:${i}\r\n`));

/**
 * Writes replies into one growing buffer that a connection sends with one socket write per batch of
 * replies (`take()`), in RESP2 or RESP3 as `protocol` says.
 */
export class RespWriter {
  private out: Buffer = Buffer.allocUnsafe(16 * 1024);
  private at = 0;

  constructor(public protocol: Protocol = 2) {}

  /** Bytes written since the last `take()`. */
  get length(): number {
    return this.at;
  }

  /** What was written since the last call, as a buffer of its own. */
  take(): Buffer {
    const bytes = Buffer.from(this.out.subarray(0, this.at));
    this.at = 0;
    // A buffer grown for one large reply is not kept for the small ones after it.
    if (this.out.length > 1024 * 1024) this.out = Buffer.allocUnsafe(16 * 1024);
    return bytes;
  }

  private room(n: number): void {
    if (this.at + n <= this.out.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.out.length * 2, this.at + n));
    this.out.copy(next, 0, 0, this.at);
    this.out = next;
  }

  private ascii(text: string): void {
    this.room(text.length);
    this.at += this.out.write(text, this.at, 'latin1');
  }

  /** `<prefix><n>\r\n` for a whole number, its digits written straight into the buffer. */
  private header(prefix: number, n: number): void {
    this.room(24);
    const out = this.out;
    out[this.at++] = prefix;
    if (n < 10) out[this.at++] = 0x30 + n;
    else {
      const digits = n < 100 ? 2 : n < 1000 ? 3 : n < 10000 ? 4 : String(n).length;
      let at = this.at + digits;
      this.at = at;
      for (let x = n; x > 0; x = Math.floor(x / 10)) out[--at] = 0x30 + (x % 10);
    }
    out[this.at++] = 0x0d;
    out[this.at++] = 0x0a;
  }

  private raw(bytes: Buffer): void {
    this.room(bytes.length);
    bytes.copy(this.out, this.at);
    this.at += bytes.length;
  }

  /** `+OK` */
  simple(text: string): void {
    if (text === 'OK') return this.raw(OK);
    this.ascii(`+${text.replace(/[\r\n]/g, ' ')}\r\n`);
  }

  /** `-ERR message` (the message starts with its prefix: `ERR`, `WRONGTYPE`, `NOAUTH`, ...). */
  error(message: string): void {
    this.room(Buffer.byteLength(message) + 3);
    this.out[this.at++] = 0x2d;
    this.at += this.out.write(message.replace(/[\r\n]/g, ' '), this.at, 'utf8');
    this.out[this.at++] = 0x0d;
    this.out[this.at++] = 0x0a;
  }

  integer(n: number | bigint): void {
    if (typeof n === 'number' && n >= 0 && n < SMALL_INTS.length && Number.isInteger(n))
      this.raw(SMALL_INTS[n] as Buffer);
    else this.ascii(`:${n}\r\n`);
  }

  /** A bulk string (binary-safe), or the null reply for `null`. */
  bulk(value: Buffer | Uint8Array | string | null): void {
    if (value === null) return this.null();
    if (typeof value === 'string') {
      const length = Buffer.byteLength(value);
      this.header(0x24, length);
      this.room(length + 2);
      this.at += this.out.write(value, this.at, 'utf8');
    } else {
      this.header(0x24, value.length);
      this.room(value.length + 2);
      this.out.set(value, this.at);
      this.at += value.length;
    }
    this.raw(CRLF);
  }

  /**
   * A bulk string of the `length` units of `text` from `start`, one byte each (units below 256: bytes
   * kept one per unit in a string), copied without a buffer made for them.
   */
  bulkUnits(text: string, start: number, length: number): void {
    this.header(0x24, length);
    this.room(length + 2);
    const out = this.out;
    let at = this.at;
    if (length <= 64) for (let i = 0; i < length; i++) out[at++] = text.charCodeAt(start + i);
    else at += out.write(text.slice(start, start + length), at, 'latin1');
    out[at++] = 0x0d;
    out[at++] = 0x0a;
    this.at = at;
  }

  /** Bytes another writer wrote (in this writer's protocol), appended as they are. */
  append(bytes: Buffer): void {
    this.raw(bytes);
  }

  /**
   * RESP3 attributes (`|n` and its pairs of bulk strings) for the reply that follows; nothing in RESP2,
   * which has none (Redis drops them there too).
   */
  attributes(pairs: [string, string][]): void {
    if (this.protocol !== 3 || pairs.length === 0) return;
    this.header(0x7c, pairs.length);
    for (const [name, value] of pairs) {
      this.bulk(name);
      this.bulk(value);
    }
  }

  /** An array header of `n` items (the items follow), or the null array for `null`. */
  array(n: number | null): void {
    if (n === null) this.ascii(this.protocol === 3 ? '_\r\n' : '*-1\r\n');
    else this.header(0x2a, n);
  }

  /** A map header of `n` pairs (RESP2: an array of 2n items). */
  map(n: number): void {
    this.ascii(this.protocol === 3 ? `%${n}\r\n` : `*${n * 2}\r\n`);
  }

  /** A set header of `n` items (RESP2: an array). */
  set(n: number): void {
    this.ascii(this.protocol === 3 ? `~${n}\r\n` : `*${n}\r\n`);
  }

  /** The null reply: `_` in RESP3, the null bulk string in RESP2. */
  null(): void {
    this.ascii(this.protocol === 3 ? '_\r\n' : '$-1\r\n');
  }

  /** A double (RESP3 `,`; RESP2 a bulk string of its text, as INCRBYFLOAT answers). */
  double(n: number): void {
    const text = Number.isFinite(n) ? formatDouble(n) : n > 0 ? 'inf' : n < 0 ? '-inf' : 'nan';
    if (this.protocol === 3) this.ascii(`,${text}\r\n`);
    else this.bulk(text);
  }

  /** A big number (RESP3 `(`; RESP2 a bulk string). */
  bignum(n: bigint): void {
    if (this.protocol === 3) this.ascii(`(${n}\r\n`);
    else this.bulk(String(n));
  }

  /** A boolean (RESP3 `#t`/`#f`; RESP2 the integer 1 or 0). */
  boolean(value: boolean): void {
    if (this.protocol === 3) this.ascii(value ? '#t\r\n' : '#f\r\n');
    else this.integer(value ? 1 : 0);
  }

  /** A verbatim string (RESP3 `=`, as INFO and CLIENT INFO reply; RESP2 a bulk string). */
  verbatim(text: string, format = 'txt'): void {
    if (this.protocol !== 3) return this.bulk(text);
    const length = Buffer.byteLength(text) + 4;
    this.ascii(`=${length}\r\n${format}:`);
    this.room(length);
    this.at += this.out.write(text, this.at, 'utf8');
    this.raw(CRLF);
  }

  /** A whole reply tree. */
  reply(value: RespValue): void {
    switch (value.type) {
      case 'simple':
        return this.simple(value.value);
      case 'error':
        return this.error(value.value);
      case 'integer':
        return this.integer(value.value);
      case 'bulk':
        return this.bulk(value.value);
      case 'array':
        this.array(value.value === null ? null : value.value.length);
        if (value.value !== null) for (const item of value.value) this.reply(item);
        return;
      case 'map':
        this.map(value.value.length);
        for (const [k, v] of value.value) {
          this.reply(k);
          this.reply(v);
        }
        return;
      case 'set':
        this.set(value.value.length);
        for (const item of value.value) this.reply(item);
        return;
      case 'double':
        return this.double(value.value);
      case 'bignum':
        return this.bignum(value.value);
      case 'boolean':
        return this.boolean(value.value);
      case 'null':
        return this.null();
      case 'verbatim':
        return this.verbatim(value.value, value.format);
      case 'attribute':
        if (this.protocol === 3) {
          this.ascii(`|${value.attributes.length}\r\n`);
          for (const [k, v] of value.attributes) {
            this.reply(k);
            this.reply(v);
          }
        }
        return this.reply(value.value);
    }
  }
}

/** A double as Redis prints one: the shortest text that reads back exactly, `17` for 17.0. */
export function formatDouble(n: number): string {
  if (Object.is(n, -0)) return '-0';
  return String(n);
}
