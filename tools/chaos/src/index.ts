/**
 * @packageDocumentation
 * The triekv torture test: a cluster of real kv-server processes behind fault proxies (or in network
 * namespaces), brokers running a workload, a nemesis killing, pausing and cutting off servers, and a
 * checker that replays the recorded history against a model of the store.
 */
export { FaultProxy, type ProxyMode } from './proxy.js';
export {
  LoopbackNetwork,
  NETWORK_FAULTS,
  NetnsNetwork,
  type Network,
  type NetworkFault,
} from './network.js';
export { ChaosCluster, ChaosNode } from './cluster.js';
export { Nemesis, possibleFaults, type FaultKind, type NemesisOptions } from './nemesis.js';
export { Workload, type WorkloadOptions } from './workload.js';
export { check, explain, type CheckResult, type Violation, type ViolationKind } from './checker.js';
export {
  formatOp,
  isDownWarning,
  versionText,
  type History,
  type NemesisEvent,
  type Op,
  type OpKind,
  type UnsafeWindow,
} from './history.js';
export { DEFAULT_CHAOS, passed, runChaos, type ChaosOptions, type ChaosReport } from './run.js';
export { formatReport, run } from './cli.js';
