/** Limits of the request parser; every one is checked before anything is allocated for it. */
export interface ParserLimits {
  /** Largest bulk string (one argument), bytes. @default 16 MiB */
  maxBulkBytes?: number;
  /** Most arguments in one command (the command name included). @default 1,048,576 */
  maxArgs?: number;
  /** Longest inline command (what telnet and `redis-cli` in a pipe without `--pipe` may send), bytes. @default 65,536 */
  maxInlineBytes?: number;
}

export const DEFAULT_MAX_BULK_BYTES = 16 * 1024 * 1024;
export const DEFAULT_MAX_ARGS = 1024 * 1024;
export const DEFAULT_MAX_INLINE_BYTES = 64 * 1024;

/**
 * A request that cannot be read: Redis answers `-ERR Protocol error: ...` and closes the connection,
 * and so should a server using this parser (what follows in the stream cannot be trusted).
 */
export class RespProtocolError extends Error {
  constructor(readonly detail: string) {
    super(`Protocol error: ${detail}`);
    this.name = 'RespProtocolError';
  }
}

/** One command: its arguments, the name first, as the bytes the client sent. */
export type RespCommand = Buffer[];

const CR = 0x0d;
const LF = 0x0a;
const STAR = 0x2a;
const DOLLAR = 0x24;

/**
 * Views of received bytes as Buffers, made the way Node makes its own (a Uint8Array subclass whose
 * prototype is Buffer's): half the cost of `subarray`, which checks and normalises its arguments.
 */
class View extends Uint8Array {}
Object.setPrototypeOf(View.prototype, Buffer.prototype as object);

function view(buffer: Buffer, from: number, to: number): Buffer {
  return new View(
    buffer.buffer as ArrayBuffer,
    buffer.byteOffset + from,
    to - from,
  ) as unknown as Buffer;
}

const enum State {
  /** Between commands: `*N` or an inline line. */
  Start,
  /** Inside a multibulk: `$L` next. */
  BulkHeader,
  /** Inside a bulk string: its bytes and CRLF. */
  BulkBody,
}

/**
 * A streaming parser of Redis requests: multibulk arrays of bulk strings (what every client sends) and
 * inline commands (what telnet sends: words separated by spaces, with `"..."` and `'...'` quoting).
 * Takes any chunk boundaries; copies a bulk string once, into a buffer of its declared size, however
 * many chunks it arrives in. Never allocates more than a limit allows; a protocol error is sticky.
 */
export class RespParser {
  private readonly maxBulk: number;
  private readonly maxArgs: number;
  private readonly maxInline: number;
  /** Bytes received and not yet consumed (between `pos` and the end). */
  private buffer: Buffer = Buffer.alloc(0);
  private pos = 0;
  private state = State.Start;
  /** Arguments still to read in the current multibulk, and those read so far. */
  private remaining = 0;
  private args: Buffer[] = [];
  /** The bulk string being filled, and how much of it (with its CRLF) has arrived. */
  private bulk: Buffer | undefined;
  private bulkFilled = 0;
  private failed: RespProtocolError | undefined;

  constructor(limits: ParserLimits = {}) {
    this.maxBulk = limits.maxBulkBytes ?? DEFAULT_MAX_BULK_BYTES;
    this.maxArgs = limits.maxArgs ?? DEFAULT_MAX_ARGS;
    this.maxInline = limits.maxInlineBytes ?? DEFAULT_MAX_INLINE_BYTES;
  }

  /** Bytes held for a command not yet complete (for backpressure and limits). */
  get pendingBytes(): number {
    return this.buffer.length - this.pos + (this.bulk === undefined ? 0 : this.bulkFilled);
  }

  /**
   * The commands completed by `chunk`, in order; a protocol error ends the list (and every later
   * call returns it again). Arguments may be views of the chunks pushed (no copy when a bulk string
   * arrives whole): a chunk's memory must not be reused while its commands are in use, as a socket's
   * never is.
   */
  push(chunk: Buffer): (RespCommand | RespProtocolError)[] {
    if (this.failed !== undefined) return [this.failed];
    const out: (RespCommand | RespProtocolError)[] = [];
    let data = chunk;
    let at = 0;
    // A bulk body takes straight from the chunk, without joining it to what came before.
    if (this.state === State.BulkBody) at = this.fillBulk(data, 0);
    if (this.state === State.BulkBody) return out;
    if (this.pos < this.buffer.length) {
      data = Buffer.concat([this.buffer.subarray(this.pos), data.subarray(at)]);
      at = 0;
    }
    this.buffer = data;
    this.pos = at;
    try {
      this.finishCommand(out);
      for (;;) {
        if (!this.step(out)) break;
      }
    } catch (error) {
      if (!(error instanceof RespProtocolError)) throw error;
      this.failed = error;
      this.buffer = Buffer.alloc(0);
      this.pos = 0;
      out.push(error);
      return out;
    }
    if (this.pos >= this.buffer.length) {
      this.buffer = Buffer.alloc(0);
      this.pos = 0;
    }
    return out;
  }

  /** One step of the machine over `buffer` from `pos`; false when it needs more bytes. */
  private step(out: (RespCommand | RespProtocolError)[]): boolean {
    const buffer = this.buffer;
    if (this.pos >= buffer.length) return false;
    switch (this.state) {
      case State.Start: {
        if (buffer[this.pos] !== STAR) return this.inline(out);
        let n = this.quickHeader(this.pos);
        if (n >= 0) this.pos = this.headerEnd;
        else {
          const end = this.lineEnd(this.pos, this.maxInline, 'invalid multibulk length');
          if (end < 0) return false;
          n = this.integer(this.pos + 1, end, 'invalid multibulk length');
          this.pos = end + 2;
        }
        if (n > this.maxArgs) throw new RespProtocolError('invalid multibulk length');
        if (n <= 0) return true; // `*0` and `*-1` are empty: Redis skips them
        this.remaining = n;
        this.args = [];
        this.state = State.BulkHeader;
        return true;
      }
      case State.BulkHeader: {
        if (buffer[this.pos] !== DOLLAR)
          throw new RespProtocolError(
            `expected '$', got '${String.fromCharCode(buffer[this.pos] as number)}'`,
          );
        let length = this.quickHeader(this.pos);
        if (length >= 0) this.pos = this.headerEnd;
        else {
          const end = this.lineEnd(this.pos, 32, 'invalid bulk length');
          if (end < 0) return false;
          length = this.integer(this.pos + 1, end, 'invalid bulk length');
          this.pos = end + 2;
        }
        if (length < 0 || length > this.maxBulk) throw new RespProtocolError('invalid bulk length');
        if (this.pos + length + 2 <= buffer.length) {
          // All there: the argument is a view of the received bytes (a socket never reuses a chunk).
          if (buffer[this.pos + length] !== CR || buffer[this.pos + length + 1] !== LF)
            throw new RespProtocolError("expected '\\r\\n' after a bulk string");
          this.args.push(view(buffer, this.pos, this.pos + length));
          this.pos += length + 2;
          if (--this.remaining === 0) {
            this.state = State.Start;
            this.finishCommand(out);
          }
          return true;
        }
        // Allocated only now that the length is known to be within the limit.
        this.bulk = Buffer.allocUnsafe(length + 2);
        this.bulkFilled = 0;
        this.state = State.BulkBody;
        this.pos = this.fillBulk(buffer, this.pos);
        if (this.state === State.BulkBody) {
          this.pos = buffer.length;
          return false;
        }
        this.finishCommand(out);
        return true;
      }
      case State.BulkBody:
        return false;
    }
  }

  /** Copies what `data` holds of the bulk being filled; the position after what it took. */
  private fillBulk(data: Buffer, from: number): number {
    const bulk = this.bulk as Buffer;
    const take = Math.min(bulk.length - this.bulkFilled, data.length - from);
    data.copy(bulk, this.bulkFilled, from, from + take);
    this.bulkFilled += take;
    if (this.bulkFilled < bulk.length) return from + take;
    if (bulk[bulk.length - 2] !== CR || bulk[bulk.length - 1] !== LF)
      throw new RespProtocolError("expected '\\r\\n' after a bulk string");
    this.args.push(bulk.subarray(0, bulk.length - 2));
    this.bulk = undefined;
    this.remaining--;
    this.state = this.remaining > 0 ? State.BulkHeader : State.Start;
    return from + take;
  }

  /** Emits the multibulk just completed, if one is. */
  private finishCommand(out: (RespCommand | RespProtocolError)[]): void {
    if (this.state === State.Start && this.args.length > 0) {
      out.push(this.args);
      this.args = [];
    }
  }

  /**
   * The whole number of a header line at `from` (`*3\r\n`, `$16\r\n`) read in one pass, with the
   * position after its CRLF in `headerEnd`; -1 when the line is not plain digits and CRLF all there
   * (the careful path then reads it, or says what is wrong).
   */
  private headerEnd = 0;
  private quickHeader(from: number): number {
    const buffer = this.buffer;
    const end = Math.min(buffer.length, from + 17);
    let at = from + 1;
    let n = 0;
    let c = 0;
    while (at < end) {
      c = buffer[at] as number;
      if (c < 0x30 || c > 0x39) break;
      n = n * 10 + (c - 0x30);
      at++;
    }
    if (at === from + 1 || c !== CR || at + 1 >= buffer.length || buffer[at + 1] !== LF) return -1;
    this.headerEnd = at + 2;
    return n;
  }

  /** Where the CRLF (or LF) ending the line at `from` is, or -1 when it has not arrived (within `max`). */
  private lineEnd(from: number, max: number, tooLong: string): number {
    const buffer = this.buffer;
    const limit = Math.min(buffer.length, from + max + 2);
    const lf = buffer.indexOf(LF, from);
    if (lf < 0 || lf >= limit) {
      if (buffer.length - from > max) throw new RespProtocolError(tooLong);
      return -1;
    }
    if (lf === from || buffer[lf - 1] !== CR) throw new RespProtocolError(tooLong);
    return lf - 1;
  }

  /** The decimal integer of the header line `[from, to)` (at most 18 digits: no string is made). */
  private integer(from: number, to: number, what: string): number {
    const buffer = this.buffer;
    const negative = buffer[from] === 0x2d;
    let at = negative ? from + 1 : from;
    if (at === to || to - at > 18) throw new RespProtocolError(what);
    let n = 0;
    for (; at < to; at++) {
      const d = (buffer[at] as number) - 0x30;
      if (d < 0 || d > 9) throw new RespProtocolError(what);
      n = n * 10 + d;
    }
    return negative ? -n : n;
  }

  /** An inline command: one line, split into words (Redis's `sdssplitargs`). */
  private inline(out: (RespCommand | RespProtocolError)[]): boolean {
    const buffer = this.buffer;
    const lf = buffer.indexOf(LF, this.pos);
    if (lf < 0) {
      if (buffer.length - this.pos > this.maxInline)
        throw new RespProtocolError('too big inline request');
      return false;
    }
    if (lf - this.pos > this.maxInline) throw new RespProtocolError('too big inline request');
    const end = lf > this.pos && buffer[lf - 1] === CR ? lf - 1 : lf;
    const words = splitArgs(buffer.subarray(this.pos, end));
    this.pos = lf + 1;
    // An empty line is no command (Redis ignores it too).
    if (words.length > 0) out.push(words);
    return true;
  }
}

const SPACE = (c: number): boolean =>
  c === 0x20 || c === 0x09 || c === 0x0d || c === 0x0b || c === 0x0c;

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  return -1;
}

/**
 * Splits an inline command into arguments as Redis does: words separated by spaces; `"..."` with
 * `\n \r \t \b \a \\ \" \xHH` escapes; `'...'` with only `\'`; a closing quote must be followed by a
 * space or the end.
 */
export function splitArgs(line: Buffer): Buffer[] {
  const args: Buffer[] = [];
  let i = 0;
  for (;;) {
    while (i < line.length && SPACE(line[i] as number)) i++;
    if (i >= line.length) return args;
    const bytes: number[] = [];
    const quote = line[i];
    if (quote === 0x22 || quote === 0x27) {
      i++;
      for (;;) {
        if (i >= line.length) throw new RespProtocolError('unbalanced quotes in request');
        const c = line[i] as number;
        if (c === quote) {
          i++;
          if (i < line.length && !SPACE(line[i] as number))
            throw new RespProtocolError('unbalanced quotes in request');
          break;
        }
        if (c === 0x5c && i + 1 < line.length) {
          const e = line[i + 1] as number;
          if (quote === 0x27) {
            if (e === 0x27) {
              bytes.push(0x27);
              i += 2;
              continue;
            }
          } else if (e === 0x78 && i + 3 < line.length) {
            const hi = hexValue(line[i + 2] as number);
            const lo = hexValue(line[i + 3] as number);
            if (hi >= 0 && lo >= 0) {
              bytes.push(hi * 16 + lo);
              i += 4;
              continue;
            }
          } else {
            const mapped: Record<number, number> = {
              0x6e: 10,
              0x72: 13,
              0x74: 9,
              0x62: 8,
              0x61: 7,
            };
            bytes.push(mapped[e] ?? e);
            i += 2;
            continue;
          }
        }
        bytes.push(c);
        i++;
      }
    } else {
      while (i < line.length && !SPACE(line[i] as number)) bytes.push(line[i++] as number);
    }
    args.push(Buffer.from(bytes));
  }
}
