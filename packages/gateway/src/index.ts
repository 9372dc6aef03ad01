/**
 * @packageDocumentation
 * kv-broker's service mode as a library: a RESP listener in front of a `@triekv/broker` cluster, so
 * that any Redis client gets placement, versions, k-way replication, newest-wins reads with read
 * repair and delete refusal.
 *
 * @example
 * ```ts
 * import { Broker } from '@triekv/broker';
 * import { createGateway } from '@triekv/gateway';
 *
 * const broker = new Broker({ servers, k: 2 });
 * await broker.start();
 * const gateway = createGateway({ broker, port: 6380 });
 * await gateway.listen(); // redis-cli -p 6380 SET k v
 * ```
 */
export { Gateway, createGateway, gatewayCommands, type GatewayOptions } from './gateway.js';
export type { GatewayStats } from './commands.js';
export { DEFAULT_SCAN_CURSORS } from '@triekv/resp';
export type { TlsOptions } from '@triekv/server';
