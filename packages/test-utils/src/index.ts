/**
 * @packageDocumentation
 * Private test helpers shared by the triekv test suites: `RawClient` (a bare protocol client),
 * `startServer` (in-process), `startServerProcess` (a real kv-server process), `startMuteServer` (one
 * that never answers) and `waitFor`.
 *
 * @example
 * ```ts
 * const { server, port } = await startServer();
 * const client = await RawClient.connect(port);
 * await client.request({ type: 'PING' });
 * await client.close();
 * await server.close();
 * ```
 */
export { RawClient, type Outgoing } from './raw-client.js';
export {
  startServer,
  startServerProcess,
  type ServerProcess,
  type SpawnOptions,
} from './servers.js';
export { waitFor } from './wait-for.js';
export { rawExchange } from './raw-exchange.js';
export { PYTHON, hasRedisPy, runPython } from './python.js';
export { startMuteServer, type MuteServer } from './mute-server.js';
export { seededRandom } from './random.js';
export { runBin, type BinRun } from './run-bin.js';
export { hasOpenssl, makeCertificates, type Certificates } from './certificates.js';
