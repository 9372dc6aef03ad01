#!/usr/bin/env node
import { spawnSync } from 'node:child_process';
import { runReport } from './report-doc.js';
import { runBrokerBench } from './suites/broker.js';
import { runChaosBench } from './suites/chaos.js';
import { runDatagenBench } from './suites/datagen.js';
import { runDurabilityBench } from './suites/durability.js';
import { runProtocolBench } from './suites/protocol.js';
import { runRecordBench } from './suites/record.js';
import { runServerBench } from './suites/server.js';
import { runTrieBench } from './suites/trie.js';

const suites: Record<string, () => Promise<void>> = {
  trie: runTrieBench,
  record: runRecordBench,
  datagen: runDatagenBench,
  protocol: runProtocolBench,
  server: runServerBench,
  broker: runBrokerBench,
  durability: runDurabilityBench,
  chaos: runChaosBench,
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
