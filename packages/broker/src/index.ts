/**
 * @packageDocumentation
 * The triekv client library: a broker over a cluster of triekv servers. It keeps persistent, pipelined
 * connections (reconnecting with backoff), places every record on k servers by rendezvous hashing (or at
 * random), stamps writes with a hybrid logical clock, reads from a key's replicas taking the newest version
 * and repairing stale copies, refuses deletes it could not apply everywhere, loads files in batches, and
 * repairs servers that come back. The command language of `kv-broker` lives here too.
 *
 * @example
 * ```ts
 * import { Broker } from '@triekv/broker';
 * import { parseValue } from '@triekv/record';
 *
 * const broker = new Broker({ servers: [{ host: '127.0.0.1', port: 8000 }, { host: '127.0.0.1', port: 8001 }], k: 2 });
 * await broker.start();
 * await broker.put('person1', parseValue('{ "name" : "John" ; "age" : 22 }') as Map<string, never>);
 * const r = await broker.query(['person1', 'age']); // { found: true, value: 22, ... }
 * await broker.close();
 * ```
 */
export {
  Broker,
  type BrokerObserver,
  type BrokerOptions,
  type MembershipInfo,
  type Placement,
  type ReadResult,
  type ServerStatus,
  type WriteResult,
} from './broker.js';
export { Cluster, memberOf, type ClusterOptions, type ClusterView } from './cluster.js';
export {
  ServerConnection,
  tlsProblem,
  type CallOptions,
  type ClientTls,
  type ConnectionOptions,
  type ConnectionState,
} from './server-connection.js';
export { parseServerFile, readServerFile, type ServerAddress } from './server-file.js';
export { HybridClock } from '@triekv/protocol';
export { hash32, rendezvousOrder } from './rendezvous.js';
export { runScript, type ScriptOptions } from './script.js';
export { KeyOrder } from './key-order.js';
export { load, type LoadOptions, type LoadProgress, type LoadSummary } from './load.js';
export { repair, type RepairOptions, type RepairProgress, type RepairSummary } from './repair.js';
export {
  changeMembership,
  finishMove,
  rebalance,
  versionText,
  type MembershipChange,
  type RebalanceOptions,
  type RebalanceProgress,
  type RebalanceSummary,
} from './rebalance.js';
export {
  computeWith,
  evaluate,
  operandOf,
  parseExpression,
  variablesOf,
  type Angles,
  type Bindings,
  type ComputeResult,
  type EvaluateOptions,
  type Expr,
  type Operand,
} from './compute.js';
export {
  COMMANDS,
  HELP,
  JsonText,
  execute,
  failure,
  parseCommand,
  run,
  toJsonLine,
  type Command,
  type CommandResult,
  type ExecuteOptions,
} from './commands.js';
export {
  BrokerClosedError,
  BrokerError,
  CommandError,
  ComputeError,
  DeleteRefusedError,
  MembershipError,
  type MembershipReason,
  OverloadedError,
  RemoteError,
  ServerDownError,
  ServerFileError,
  TimeoutError,
  UnavailableError,
} from './errors.js';
export * as defaults from './defaults.js';
