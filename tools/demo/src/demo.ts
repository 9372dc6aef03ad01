#!/usr/bin/env node
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readKeyFile, writeDatasetFile } from '@triekv/datagen';
import { parseRecord } from '@triekv/record';
import { createServer, type KvServer } from '@triekv/server';
import { makeCertificates } from '@triekv/test-utils';
import { exampleCommands } from './examples.js';

const SERVERS = 3;
const RECORDS = 1000;
const K = 2;
const SEED = 'triekv-demo';

/**
 * `npm start`: three servers on free ports of 127.0.0.1 (in this process), 1000 generated records
 * (fixed seed), and the kv-broker shell loading them with k=2, with its dashboard on a free port;
 * `npm start -- --tls` runs it all over TLS with throwaway certificates. EXIT or Ctrl-D in the shell stops
 * everything this started and removes its files.
 */
async function main(argv: string[]): Promise<number> {
  const unknown = argv.filter((a) => a !== '--tls');
  if (unknown.length > 0) {
    process.stderr.write(`demo: error: unknown option ${unknown[0]} (npm start [-- --tls])\n`);
    return 2;
  }
  const root = join(__dirname, '..', '..', '..');
  const dir = mkdtempSync(join(tmpdir(), 'triekv-demo-'));
  const servers: KvServer[] = [];
  // --tls: throwaway certificates (openssl), TLS between the broker and the servers and on the dashboard.
  const certs = argv.includes('--tls') ? makeCertificates() : undefined;
  try {
    const lines: string[] = [];
    const tls =
      certs === undefined
        ? undefined
        : { cert: readFileSync(certs.serverCert), key: readFileSync(certs.serverKey) };
    for (let i = 0; i < SERVERS; i++) {
      const server = createServer({
        host: '127.0.0.1',
        port: 0,
        ...(tls === undefined ? {} : { tls }),
      });
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
    if (certs !== undefined)
      process.stderr.write(
        `demo: TLS everywhere; the throwaway CA is ${certs.ca} (curl --cacert ${certs.ca} ..., or let the browser accept it)\n`,
      );
    process.stderr.write(
      `demo: ${SERVERS} servers (${lines.map((l) => l.replace(' ', ':')).join(', ')}), ${RECORDS} records in ${dataFile}\n` +
        `demo: try  ${[...exampleCommands(sample), 'EXIT'].join('  |  ')}\n`,
    );
    const broker = join(root, 'packages', 'kv-broker', 'bin', 'kv-broker.js');
    const child = spawn(
      process.execPath,
      // The dashboard on a free port: kv-broker prints its URL (dashboard: http://127.0.0.1:PORT/).
      [
        broker,
        ...['-s', serverFile, '-i', dataFile, '-k', String(K), '--http-port', '0'],
        ...(certs === undefined
          ? []
          : [
              ...['--tls-ca', certs.ca],
              ...['--http-tls-cert', certs.serverCert, '--http-tls-key', certs.serverKey],
            ]),
      ],
      { stdio: 'inherit' },
    );
    // The shell owns the terminal now: Ctrl-C belongs to it, not to this process.
    process.on('SIGINT', () => undefined);
    return await new Promise<number>((resolve) => child.once('exit', (code) => resolve(code ?? 1)));
  } finally {
    await Promise.all(servers.map((s) => s.close()));
    rmSync(dir, { recursive: true, force: true });
    if (certs !== undefined) rmSync(certs.dir, { recursive: true, force: true });
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`demo: error: ${(error as Error).message}\n`);
    process.exit(1);
  },
);
