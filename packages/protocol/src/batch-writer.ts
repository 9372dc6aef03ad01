import { packr } from './codec.js';
import { DEFAULT_MAX_FRAME_SIZE, HEADER_BYTES } from './defaults.js';
import { frameTooLarge } from './encode.js';
import { encodeRecordFast } from './fast-codec.js';
import { Kind, LAYOUTS } from './layout.js';
import type { WireRecord } from './messages.js';

/**
 * The frame's start, filled in by `frame()`: the body length, then PUT_BATCH's `[opcode, id, records]`
 * array header, the id as a float64 (9 bytes, so that any id fits the room kept for it) and the
 * records' array length as 32 bits. Ordinary msgpack, only not the shortest forms.
 */
const HEAD = HEADER_BYTES + 1 + 1 + 9 + 5;
const LAYOUT = LAYOUTS.PUT_BATCH;
if (LAYOUT.fields.length !== 1 || LAYOUT.fields[0]?.kind !== Kind.RECORDS)
  throw new Error('PutBatchWriter writes a PUT_BATCH of one field, its records');
const ARRAY_HEADER = 0x90 | (LAYOUT.fields.length + 2);

/**
 * The msgpack bytes of one record as a PUT_BATCH carries it, for `PutBatchWriter#add`: encode a record
 * once, add it to the batch of every server it goes to. The bytes are valid until the next call.
 */
export function encodeRecord(record: WireRecord): Uint8Array {
  return encodeRecordFast(record) ?? packr.pack([record.key, record.value, record.version]);
}

/**
 * Builds one PUT_BATCH frame from records already encoded (`encodeRecord`), copying their bytes in as
 * they come: a load that sends each record to k servers encodes it once, not k times, and keeps no
 * record objects alive while a batch fills up.
 */
export class PutBatchWriter {
  private buffer: Buffer;
  private length = HEAD;
  private records = 0;

  /**
   * @param sizeHint bytes to start with (a load passes its last batch's size)
   * @param maxFrameSize largest frame body `frame()` produces (it throws above) @default 16 MiB
   */
  constructor(
    sizeHint = 16 * 1024,
    private readonly maxFrameSize = DEFAULT_MAX_FRAME_SIZE,
  ) {
    this.buffer = Buffer.allocUnsafe(Math.max(HEAD + 64, sizeHint));
  }

  /** Records added. */
  get count(): number {
    return this.records;
  }

  /** Bytes of the frame so far. */
  get bytes(): number {
    return this.length;
  }

  /** Whether adding `record` keeps the frame body within the frame limit. */
  fits(record: Uint8Array): boolean {
    return this.length + record.length - HEADER_BYTES <= this.maxFrameSize;
  }

  /** Whether `record` fits a batch of its own under a frame limit of `maxFrameSize` bytes. */
  static fitsAlone(record: Uint8Array, maxFrameSize = DEFAULT_MAX_FRAME_SIZE): boolean {
    return HEAD + record.length - HEADER_BYTES <= maxFrameSize;
  }

  /** Adds a record's bytes (from `encodeRecord`). */
  add(record: Uint8Array): void {
    const need = this.length + record.length;
    if (need > this.buffer.length) {
      const grown = Buffer.allocUnsafe(Math.max(need, this.buffer.length * 2));
      this.buffer.copy(grown, 0, 0, this.length);
      this.buffer = grown;
    }
    this.buffer.set(record, this.length);
    this.length = need;
    this.records++;
  }

  /**
   * The whole frame, with request id `id`. Throws a `ProtocolError` (FRAME_TOO_LARGE) when the body is
   * over the frame limit. The writer is done with after this.
   */
  frame(id: number): Uint8Array {
    const body = this.length - HEADER_BYTES;
    if (body > this.maxFrameSize) throw frameTooLarge(body, this.maxFrameSize, id);
    const b = this.buffer;
    b.writeUInt32BE(body, 0);
    b[4] = ARRAY_HEADER;
    b[5] = LAYOUT.op;
    b[6] = 0xcb;
    b.writeDoubleBE(id, 7);
    b[15] = 0xdd;
    b.writeUInt32BE(this.records, 16);
    return b.subarray(0, this.length);
  }
}
