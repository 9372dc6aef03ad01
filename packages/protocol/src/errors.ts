/**
 * Stable error codes: the ones a `FrameDecoder` reports, and the ones a server puts in ERROR replies.
 * Callers branch on these; messages may change.
 */
export const ErrorCode = {
  /** A frame's declared length is over the limit (the stream cannot go on). */
  FRAME_TOO_LARGE: 'FRAME_TOO_LARGE',
  /** The stream ended inside a frame. */
  INCOMPLETE: 'INCOMPLETE',
  /** A frame's body is not one valid msgpack message. */
  CORRUPT: 'CORRUPT',
  /** A message with a type this side does not know. */
  UNKNOWN_TYPE: 'UNKNOWN_TYPE',
  /** A message with a missing or mistyped field. */
  BAD_MESSAGE: 'BAD_MESSAGE',
  /** A value that is not a record value, or nested too deeply. */
  BAD_VALUE: 'BAD_VALUE',
  /** Authentication is required first (server). */
  AUTH_REQUIRED: 'AUTH_REQUIRED',
  /** Wrong token (server). */
  AUTH_FAILED: 'AUTH_FAILED',
  /** The peer speaks a protocol version this side does not (server). */
  PROTOCOL_VERSION: 'PROTOCOL_VERSION',
  /** A request over a configured limit, such as key length (server). */
  LIMIT: 'LIMIT',
  /** The server is shutting down and takes no new requests. */
  SHUTTING_DOWN: 'SHUTTING_DOWN',
  /** An unexpected failure on the server; the connection stays usable. */
  INTERNAL: 'INTERNAL',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** A protocol failure found locally (decoding or encoding); a separate branch from ERROR replies. */
export class ProtocolError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    /** The request id of the bad message, when it could be read (so a reply can name it). */
    readonly id?: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'ProtocolError';
  }

  /** Whether the byte stream cannot be decoded any further (the connection should close). */
  get fatal(): boolean {
    return this.code === ErrorCode.FRAME_TOO_LARGE || this.code === ErrorCode.INCOMPLETE;
  }
}
