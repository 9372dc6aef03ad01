#!/usr/bin/env node
import { spawnSync } from 'node:child_process';
import { runReport } from './report-doc.js';

/**
 * Suites load on demand: a suite's process holds only its own modules. (Merely loading ioredis, which
 * the server and broker suites use for their Redis baselines, slows our protocol codec by about 40% in
 * the same process: it subclasses String, after which V8 runs every charCodeAt about twice as slowly.
 * Those suites load it only after measuring our rows.)
 */
const suites: Record<string, () => Promise<void>> = {
  trie: async () => (await import('./suites/trie.js')).runTrieBench(),
  record: async () => (await import('./suites/record.js')).runRecordBench(),
  datagen: async () => (await import('./suites/datagen.js')).runDatagenBench(),
  protocol: async () => (await import('./suites/protocol.js')).runProtocolBench(),
  server: async () => (await import('./suites/server.js')).runServerBench(),
  broker: async () => (await import('./suites/broker.js')).runBrokerBench(),
  durability: async () => (await import('./suites/durability.js')).runDurabilityBench(),
  resp: async () => (await import('./suites/resp.js')).runRespBench(),
  chaos: async () => (await import('./suites/chaos.js')).runChaosBench(),
};

async function main(argv: string[]): Promise<void> {
  if (argv.length === 1 && argv[0] === 'report') return runReport();
  const wanted = argv.length > 0 ? argv : Object.keys(suites);
  const unknown = wanted.filter((name) => !(name in suites));
  if (unknown.length > 0) {
    console.error(
      `bench: unknown suite ${unknown.join(', ')}; known: ${Object.keys(suites).join(', ')}, report`,
    );
    process.exit(2);
  }
  if (wanted.length === 1) {
    await (suites[wanted[0] as string] as () => Promise<void>)();
    return;
  }
  // Several suites: each in a fresh process, so one suite's heap (the trie's two million keys) does not
  // slow the next one down.
  for (const name of wanted) {
    const child = spawnSync(process.execPath, [...process.execArgv, __filename, name], {
      stdio: 'inherit',
    });
    if (child.status !== 0)
      throw new Error(`suite ${name} failed (exit ${child.status ?? child.signal})`);
  }
  // The full run ends with the report.
  if (argv.length === 0) await runReport();
}

main(process.argv.slice(2)).catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
