import { RESERVE_START_SPACE } from 'msgpackr';
import { packr } from './codec.js';
import { encodeFast } from './fast-codec.js';
import { DEFAULT_MAX_FRAME_SIZE, HEADER_BYTES } from './defaults.js';
import { ErrorCode, ProtocolError } from './errors.js';
import { OK_FIELDS, OPCODES, type Message } from './messages.js';

/** Options for encoding. */
export interface EncodeOptions {
  /** Refuse to produce a frame body larger than this. @default 16 MiB */
  maxFrameSize?: number;
}

/** The positional array a message travels as: `[opcode, id, ...fields]`. */
export function toWire(message: Message): unknown[] {
  const op = OPCODES[message.type];
  switch (message.type) {
    case 'HELLO':
      return [op, message.id, message.protocol, message.token ?? null, message.client ?? null];
    case 'PING':
    case 'STATS':
      return [op, message.id];
    case 'PUT':
      return [op, message.id, message.key, message.value, message.version];
    case 'PUT_BATCH':
      return [op, message.id, message.records.map((r) => [r.key, r.value, r.version])];
    case 'GET':
      return message.versionOnly === true
        ? [op, message.id, message.key, true]
        : [op, message.id, message.key];
    case 'QUERY':
      return message.versionOnly === true
        ? [op, message.id, message.key, message.path, true]
        : [op, message.id, message.key, message.path];
    case 'DELETE':
      return [op, message.id, message.key, message.version];
    case 'SCAN':
      return [op, message.id, message.prefix, message.limit, message.after ?? null];
    case 'EXPORT':
      return [op, message.id, message.after ?? null, message.limit];
    case 'OK': {
      const fields = new Map<string, unknown>();
      for (const name of OK_FIELDS) {
        const field = message[name];
        if (field === undefined) continue;
        fields.set(
          name,
          name === 'entries' ? message.entries?.map((e) => [e.key, e.value, e.version]) : field,
        );
      }
      return [op, message.id, fields];
    }
    case 'NOT_FOUND':
      return [op, message.id, message.version ?? null];
    case 'ERROR':
      return [op, message.id, message.code, message.message];
    default:
      throw new TypeError(`unknown message type ${String((message as { type: unknown }).type)}`);
  }
}

/** The error for a message whose body is over the frame limit. */
export function frameTooLarge(length: number, limit: number, id: number): ProtocolError {
  return new ProtocolError(
    ErrorCode.FRAME_TOO_LARGE,
    `message of ${length} bytes exceeds the frame limit of ${limit} bytes`,
    id,
  );
}

/** One frame: a 4-byte big-endian body length, then the message in msgpack. */
export function encodeFrame(message: Message, options?: EncodeOptions): Uint8Array {
  // The record-carrying messages have a writer of their own (fast-codec.ts); the rest go through
  // msgpackr, which leaves HEADER_BYTES free at the start of its output for the length (no copy).
  const fast = encodeFast(message);
  const frame = fast ?? packr.pack(toWire(message), RESERVE_START_SPACE | HEADER_BYTES);
  const length = frame.length - HEADER_BYTES;
  const limit = options?.maxFrameSize ?? DEFAULT_MAX_FRAME_SIZE;
  if (length > limit) throw frameTooLarge(length, limit, message.id);
  if (fast === undefined) (frame as Buffer).writeUInt32BE(length, 0);
  return frame;
}
