/**
 * @packageDocumentation
 * Redis's protocol as a pure codec, with no sockets: a streaming request parser (multibulk arrays and
 * inline commands, any chunk boundaries, limits checked before allocating), a reply writer for RESP2
 * and RESP3, and a command table that answers `COMMAND`, `COMMAND COUNT`, `COMMAND INFO` and
 * `COMMAND DOCS`. kv-server's RESP port and the broker's service mode are built on it.
 *
 * @example
 * ```ts
 * import { RespParser, RespWriter } from '@triekv/resp';
 *
 * const parser = new RespParser();
 * const writer = new RespWriter();
 * for (const command of parser.push(Buffer.from('*1\r\n$4\r\nPING\r\n'))) {
 *   if (command instanceof Error) break; // -ERR Protocol error: ..., then close
 *   writer.simple('PONG');
 * }
 * socket.write(writer.take());
 * ```
 */
export {
  DEFAULT_MAX_ARGS,
  DEFAULT_MAX_BULK_BYTES,
  DEFAULT_MAX_INLINE_BYTES,
  RespParser,
  RespProtocolError,
  splitArgs,
  type ParserLimits,
  type RespCommand,
} from './parser.js';
export { R, RespWriter, formatDouble, type Protocol, type RespValue } from './writer.js';
export {
  CommandTable,
  command,
  parseArgs,
  type ArgumentDoc,
  type CommandSpec,
} from './commands.js';
export { COMMANDS } from './table.js';
export { NameIndex, utf8Text } from './bytes.js';
export {
  BEFORE_AUTH,
  CONNECTION_HANDLERS,
  NOT_INTEGER,
  RespError,
  SYNTAX,
  sameSecret,
  upper,
  type RespSession,
  type SessionContext,
  type SessionHandler,
} from './session.js';
export { countArg, parseScanOptions, type ScanOptions } from './scan-args.js';
export {
  CursorError,
  DEFAULT_SCAN_CURSORS,
  DEFAULT_SCAN_CURSOR_UNITS,
  ScanCursors,
} from './cursor.js';
export { globMatch, literalPrefix } from './glob.js';
export {
  JsonPathError,
  evaluate as evaluateJsonPath,
  jsonType,
  parseJsonPath,
  type JsonPath,
  type Match as JsonPathMatch,
  type Step as JsonPathStep,
} from './json-path.js';
