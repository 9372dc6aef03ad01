/**
 * @packageDocumentation
 * The triekv wire protocol, as pure code (no sockets, no timers): typed messages, `encodeFrame` to turn
 * one into bytes (a 4-byte big-endian length, then msgpack), and a `FrameDecoder` that turns a byte
 * stream, split anywhere, back into messages. Values keep their types across the wire: ints and floats
 * stay distinct (a whole float such as 17.0 arrives as a float), ints beyond 2^53 stay exact, document
 * key order is kept. The server and the broker both speak it.
 *
 * @example
 * ```ts
 * import { encodeFrame, FrameDecoder, PROTOCOL_VERSION } from '@triekv/protocol';
 *
 * const bytes = encodeFrame({ type: 'GET', id: 1, key: 'person1' });
 * const decoder = new FrameDecoder({ maxFrameSize: 1 << 20 });
 * for (const item of decoder.push(bytes)) {
 *   if (item instanceof Error) console.error(item.code, item.message);
 *   else console.log(item.type, item.id); // GET 1
 * }
 * ```
 */
export {
  PROTOCOL_VERSION,
  DEFAULT_MAX_FRAME_SIZE,
  DEFAULT_MAX_DEPTH,
  DEFAULT_MAX_INT_BYTES,
  DEFAULT_MAX_ITEMS,
  HEADER_BYTES,
  REPLY_SLACK,
} from './defaults.js';
export { UnpackError, unpackChecked, type UnpackLimits } from './codec.js';
export { scanMsgpack, type ScanLimits, type ScanProblem } from './msgpack-scan.js';
export { ErrorCode, ProtocolError } from './errors.js';
export { ZERO_VERSION, compareVersions, isVersion, type Version } from './version.js';
export {
  OPCODES,
  isRequest,
  type DeleteRequest,
  type ErrorReply,
  type ExportEntry,
  type EvictRequest,
  type ExportRequest,
  type GetRequest,
  type HelloRequest,
  type Member,
  type MembersRequest,
  type MembersSetRequest,
  type Membership,
  type Message,
  type MessageType,
  type NotFoundReply,
  type OkReply,
  type PingRequest,
  type PutBatchRequest,
  type PutRequest,
  type QueryRequest,
  type Reply,
  type Request,
  type ScanRequest,
  type ServerInfo,
  type Stats,
  type StatsRequest,
  type WireRecord,
} from './messages.js';
export { encodeFrame, toWire, type EncodeOptions } from './encode.js';
export { PutBatchWriter, encodeRecord } from './batch-writer.js';
export { checkValue, normalizeVersion, toMessage } from './decode.js';
export { FrameDecoder, decodeFrame, type Decoded, type DecoderOptions } from './frame-decoder.js';
export { HybridClock } from './hlc.js';
