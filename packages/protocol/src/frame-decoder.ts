import { unpackChecked, type UnpackError, type UnpackLimits } from './codec.js';
import { toMessage } from './decode.js';
import { FastDecoder } from './fast-codec.js';
import {
  DEFAULT_MAX_DEPTH,
  DEFAULT_MAX_FRAME_SIZE,
  DEFAULT_MAX_INT_BYTES,
  DEFAULT_MAX_ITEMS,
  ENVELOPE_DEPTH,
  HEADER_BYTES,
} from './defaults.js';
import { ErrorCode, ProtocolError } from './errors.js';
import type { Message } from './messages.js';

/** Limits for decoding. */
export interface DecoderOptions {
  /** Largest frame body accepted; a larger declared length is refused before anything is buffered. @default 16 MiB */
  maxFrameSize?: number;
  /** Deepest document nesting accepted in values. @default 64 */
  maxDepth?: number;
  /** Most array elements and map entries in one frame, at every depth. @default 1048576 */
  maxItems?: number;
  /** Largest integer, in bytes of its magnitude. @default 64 */
  maxIntBytes?: number;
}

/** What `push` yields for each frame: the message, or the error that frame caused. */
export type Decoded = Message | ProtocolError;

/**
 * Splits a byte stream into frames and decodes them, for any chunk boundaries (one byte at a time
 * included). It never throws: a bad frame yields a `ProtocolError` in its place and decoding goes on
 * with the next frame; an over-long frame length is fatal (`error.fatal`), after which nothing more is
 * decoded. Memory held between pushes is bounded by the frame size limit.
 */
export class FrameDecoder {
  private readonly maxFrameSize: number;
  private readonly maxDepth: number;
  private readonly limits: UnpackLimits;
  /** Bytes of the frame in progress (header included), as received. */
  private parts: Uint8Array[] = [];
  private partsLength = 0;
  /** Body length of the frame in progress, once its header is complete; -1 before. */
  private bodyLength = -1;
  private failure: ProtocolError | undefined;
  private readonly fast: FastDecoder;

  constructor(options?: DecoderOptions) {
    this.maxFrameSize = options?.maxFrameSize ?? DEFAULT_MAX_FRAME_SIZE;
    this.maxDepth = options?.maxDepth ?? DEFAULT_MAX_DEPTH;
    this.limits = {
      maxNesting: this.maxDepth + ENVELOPE_DEPTH,
      maxItems: options?.maxItems ?? DEFAULT_MAX_ITEMS,
      maxIntBytes: options?.maxIntBytes ?? DEFAULT_MAX_INT_BYTES,
    };
    this.fast = new FastDecoder(this.limits.maxItems);
  }

  /** Bytes held for a frame not complete yet. */
  get pending(): number {
    return this.partsLength;
  }

  /**
   * How large the frame in progress is, header included: its declared length once the header is in,
   * else the bytes held so far. A server bounds unauthenticated clients with it.
   */
  get pendingFrameBytes(): number {
    return this.bodyLength >= 0 ? HEADER_BYTES + this.bodyLength : this.partsLength;
  }

  /** The fatal error that stopped decoding, if any. */
  get failed(): ProtocolError | undefined {
    return this.failure;
  }

  /** Feeds bytes; returns every frame they complete, in order. */
  push(chunk: Uint8Array): Decoded[] {
    const out: Decoded[] = [];
    if (this.failure !== undefined || chunk.length === 0) return out;
    let data = chunk;
    if (this.partsLength > 0) {
      const rest = this.continueFrame(data, out);
      if (rest === undefined) return out;
      data = rest;
    }
    let offset = 0;
    while (data.length - offset >= HEADER_BYTES) {
      const length = readLength(data, offset);
      if (!this.lengthOk(length, out)) return out;
      const end = offset + HEADER_BYTES + length;
      if (end > data.length) break;
      out.push(this.decodeBody(data, offset + HEADER_BYTES, end));
      offset = end;
    }
    if (offset < data.length) {
      // Keep a copy of the tail, so a large chunk is not kept alive for a few bytes of it.
      const tail = Uint8Array.prototype.slice.call(data, offset);
      this.parts = [tail];
      this.partsLength = tail.length;
      this.bodyLength = tail.length >= HEADER_BYTES ? readLength(tail, 0) : -1;
    }
    return out;
  }

  /**
   * Call when the stream ends: returns an INCOMPLETE error if it ended inside a frame, else undefined.
   */
  end(): ProtocolError | undefined {
    if (this.failure !== undefined || this.partsLength === 0) return undefined;
    const error =
      this.bodyLength < 0
        ? new ProtocolError(
            ErrorCode.INCOMPLETE,
            `incomplete frame header: ${this.partsLength} of ${HEADER_BYTES} bytes`,
          )
        : new ProtocolError(
            ErrorCode.INCOMPLETE,
            `incomplete frame: ${this.partsLength - HEADER_BYTES} of ${this.bodyLength} body bytes`,
          );
    this.failure = error;
    return error;
  }

  /** Adds `data` to the frame in progress; returns what is left of `data` once it completes. */
  private continueFrame(data: Uint8Array, out: Decoded[]): Uint8Array | undefined {
    if (this.bodyLength < 0) {
      const needed = HEADER_BYTES - this.partsLength;
      if (data.length < needed) {
        this.append(data);
        return undefined;
      }
      const header = concat([...this.parts, data.subarray(0, needed)], HEADER_BYTES);
      this.bodyLength = readLength(header, 0);
      if (!this.lengthOk(this.bodyLength, out)) return undefined;
    }
    const total = HEADER_BYTES + this.bodyLength;
    const missing = total - this.partsLength;
    if (data.length < missing) {
      this.append(data);
      return undefined;
    }
    const frame = concat([...this.parts, data.subarray(0, missing)], total);
    this.parts = [];
    this.partsLength = 0;
    this.bodyLength = -1;
    out.push(this.decodeBody(frame, HEADER_BYTES, total));
    return data.subarray(missing);
  }

  private append(data: Uint8Array): void {
    this.parts.push(data);
    this.partsLength += data.length;
  }

  private lengthOk(length: number, out: Decoded[]): boolean {
    if (length <= this.maxFrameSize) return true;
    this.failure = new ProtocolError(
      ErrorCode.FRAME_TOO_LARGE,
      `frame of ${length} bytes exceeds the limit of ${this.maxFrameSize} bytes`,
    );
    this.parts = [];
    this.partsLength = 0;
    out.push(this.failure);
    return false;
  }

  /** Decodes the body at `data[start..end)`, in place: no view per frame. */
  private decodeBody(data: Uint8Array, start: number, end: number): Decoded {
    // The record-carrying messages have a reader of their own (fast-codec.ts); anything it does not
    // take (other types, anything unusual or malformed) goes through msgpackr and the checks of decode.ts.
    const fast = this.fast.decode(data, start, end, this.maxDepth);
    if (fast !== undefined) return fast;
    let value: unknown;
    try {
      value = unpackChecked(data, start, end, this.limits);
    } catch (error) {
      const e = error as UnpackError;
      const code =
        e.kind === 'limit'
          ? ErrorCode.LIMIT
          : e.kind === 'value'
            ? ErrorCode.BAD_VALUE
            : ErrorCode.CORRUPT;
      const message = e.kind === 'corrupt' ? `corrupt frame: ${e.message}` : e.message;
      return new ProtocolError(code, message, peekId(data, start, end), { cause: error });
    }
    return toMessage(value, this.maxDepth);
  }
}

function readLength(data: Uint8Array, offset: number): number {
  return (
    (data[offset] as number) * 0x1000000 +
    (((data[offset + 1] as number) << 16) |
      ((data[offset + 2] as number) << 8) |
      (data[offset + 3] as number))
  );
}

function concat(parts: Uint8Array[], length: number): Uint8Array {
  return Buffer.concat(parts, length);
}

/** Decodes exactly one complete frame (header included); for tests and tools. */
export function decodeFrame(frame: Uint8Array, options?: DecoderOptions): Decoded {
  const decoder = new FrameDecoder(options);
  const out = decoder.push(frame);
  const incomplete = decoder.end();
  if (incomplete !== undefined) return incomplete;
  if (out.length !== 1) {
    return new ProtocolError(ErrorCode.CORRUPT, `expected one frame, found ${out.length}`);
  }
  return out[0] as Decoded;
}

/**
 * The request id of a frame refused before decoding, when it starts as messages do (`[opcode, id, ...]`
 * with a small id), so the error reply can name the request; else undefined.
 */
function peekId(data: Uint8Array, start: number, end: number): number | undefined {
  if (end - start < 3 || ((data[start] as number) & 0xf0) !== 0x90) return undefined;
  const b = data[start + 2] as number;
  if (b <= 0x7f) return b;
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  if (b === 0xcc && end - start >= 4) return data[start + 3];
  if (b === 0xcd && end - start >= 5) return view.getUint16(start + 3);
  if (b === 0xce && end - start >= 7) return view.getUint32(start + 3);
  if (b === 0xcb && end - start >= 11) {
    const id = view.getFloat64(start + 3);
    return Number.isSafeInteger(id) && id >= 0 ? id : undefined;
  }
  return undefined;
}
