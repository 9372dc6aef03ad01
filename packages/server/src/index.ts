/**
 * @packageDocumentation
 * The triekv server as a library: a TCP listener speaking the triekv protocol over a record store indexed
 * only by tries (the top-level keys, and the keys inside every stored document). Every record carries a
 * version; older writes are ignored and deletes leave tombstones. Bad input is answered with an ERROR and
 * never stops the server. `kv-server` is a thin command line over it.
 *
 * @example
 * ```ts
 * import { createServer } from '@triekv/server';
 *
 * const server = createServer({ host: '127.0.0.1', port: 0 });
 * const { host, port } = await server.listen();
 * console.log(`listening on ${host}:${port}`);
 * process.once('SIGTERM', () => void server.close());
 * ```
 */
export { KvServer, createServer, type ServerOptions, type ServerStatus } from './server.js';
export { Store, type ReadResult, type WriteResult } from './store.js';
export { handle, type HandlerContext } from './handler.js';
export { ListenError, ServerError, ServerStateError } from './errors.js';
export {
  DataDir,
  type FsyncPolicy,
  type PersistenceOptions,
  type Recovery,
} from './persistence/data-dir.js';
export { DataDirError } from './persistence/errors.js';
export { execute as executeResp, respCommandNames, type RespContext } from './resp/commands.js';
export { Counters, type RequestObserver } from './stats.js';
export { typeOf as respType } from './resp/key-commands.js';
export * as defaults from './defaults.js';
export {
  MIN_TLS_VERSION,
  createListener,
  reloadListener,
  tlsClientProblem,
  type TlsOptions,
} from './tls.js';
