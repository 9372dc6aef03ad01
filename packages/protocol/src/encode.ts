import { RESERVE_START_SPACE } from 'msgpackr';
import { packr } from './codec.js';
import { encodeFast } from './fast-codec.js';
import { DEFAULT_MAX_FRAME_SIZE, HEADER_BYTES } from './defaults.js';
import { ErrorCode, ProtocolError } from './errors.js';
import { Kind, LAYOUTS, OK_FIELDS, fieldCount, type Field, type Layout } from './layout.js';
import type { ExportEntry, Member, Membership, Message, WireRecord } from './messages.js';

const wireMembers = (members: Member[]): unknown[] => members.map((m) => [m.name, m.host, m.port]);

/** Options for encoding. */
export interface EncodeOptions {
  /** Refuse to produce a frame body larger than this. @default 16 MiB */
  maxFrameSize?: number;
}

/** A field as msgpackr packs it: records as `[key, value, version]`, absent optional fields as nil. */
function wireField(kind: Kind, v: unknown): unknown {
  switch (kind) {
    case Kind.OPT_STRING:
    case Kind.OPT_VERSION:
      return v ?? null;
    case Kind.RECORDS:
      return (v as WireRecord[]).map((r) => [r.key, r.value, r.version]);
    case Kind.ENTRIES:
      return (v as ExportEntry[]).map((r) =>
        r.deleted === true ? [r.key, null, r.version, true] : [r.key, r.value, r.version],
      );
    case Kind.FLAG:
      return v === true;
    case Kind.MEMBERS: {
      const m = v as Membership;
      return [
        m.version,
        wireMembers(m.members),
        m.previous === undefined ? null : wireMembers(m.previous),
        m.change ?? null,
      ];
    }
    default:
      return v;
  }
}

/** The positional array a message travels as: `[opcode, id, ...fields]` (its layout, layout.ts). */
export function toWire(message: Message): unknown[] {
  const l = LAYOUTS[message.type] as Layout | undefined;
  if (l === undefined)
    throw new TypeError(`unknown message type ${String((message as { type: unknown }).type)}`);
  const m = message as unknown as Record<string, unknown>;
  const wire: unknown[] = [l.op, message.id];
  if (message.type === 'OK') {
    const fields = new Map<string, unknown>();
    for (const f of OK_FIELDS)
      if (m[f.name] !== undefined) fields.set(f.name, wireField(f.kind, m[f.name]));
    wire.push(fields);
    return wire;
  }
  const n = fieldCount(l, message);
  for (let i = 0; i < n; i++) {
    const f = l.fields[i] as Field;
    wire.push(wireField(f.kind, m[f.name]));
  }
  return wire;
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
