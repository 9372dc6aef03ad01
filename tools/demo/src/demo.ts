#!/usr/bin/env node
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readKeyFile, writeDatasetFile } from '@triekv/datagen';
import { parseRecord } from '@triekv/record';
import { createServer, type KvServer } from '@triekv/server';
import { exampleCommands } from './examples.js';

const SERVERS = 3;
const RECORDS = 1000;
const K = 2;
const SEED = 'triekv-demo';

/**
 * `npm start`: three servers on free ports of 127.0.0.1 (in this process), 1000 generated records
 * (fixed seed), and the kv-broker shell loading them with k=2, with its dashboard on a free port. EXIT or Ctrl-D in the shell stops
 * everything this started and removes its files.
 */
async function main(): Promise<number> {
  const root = join(__dirname, '..', '..', '..');
  const dir = mkdtempSync(join(tmpdir(), 'triekv-demo-'));
  const servers: KvServer[] = [];
  try {
    const lines: string[] = [];
    for (let i = 0; i < SERVERS; i++) {
      const server = createServer({ host: '127.0.0.1', port: 0 });
      const { host, port } = await server.listen();
      servers.push(server);
      lines.push(`${host} ${port}`);
    }
    const serverFile = join(dir, 'serverFile.txt');
    writeFileSync(serverFile, `${lines.join('\n')}\n`);
    const keys = await readKeyFile(join(root, 'test-fixtures', 'keyFile.txt'));
    const dataFile = join(dir, 'dataToIndex.txt');
    await writeDatasetFile(
      { keys, lines: RECORDS, maxDepth: 3, maxKeys: 5, maxLength: 4, seed: SEED },
      dataFile,
    );
    const sample = readFileSync(dataFile, 'utf8')
      .split('\n')
      .slice(0, 50)
      .filter(Boolean)
      .map((l) => parseRecord(l));
    process.stderr.write(
      `demo: ${SERVERS} servers (${lines.map((l) => l.replace(' ', ':')).join(', ')}), ${RECORDS} records in ${dataFile}\n` +
        `demo: try  ${[...exampleCommands(sample), 'EXIT'].join('  |  ')}\n`,
    );
    const broker = join(root, 'packages', 'kv-broker', 'bin', 'kv-broker.js');
    const child = spawn(
      process.execPath,
      // The dashboard on a free port: kv-broker prints its URL (dashboard: http://127.0.0.1:PORT/).
      [broker, '-s', serverFile, '-i', dataFile, '-k', String(K), '--http-port', '0'],
      { stdio: 'inherit' },
    );
    // The shell owns the terminal now: Ctrl-C belongs to it, not to this process.
    process.on('SIGINT', () => undefined);
    return await new Promise<number>((resolve) => child.once('exit', (code) => resolve(code ?? 1)));
  } finally {
    await Promise.all(servers.map((s) => s.close()));
    rmSync(dir, { recursive: true, force: true });
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`demo: error: ${(error as Error).message}\n`);
    process.exit(1);
  },
);
