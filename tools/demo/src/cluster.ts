#!/usr/bin/env node
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  EXIT_FAILURE,
  createProgram,
  exitOnClosedStdout,
  packageVersion,
  parseArgs,
  wholeNumber,
} from '@triekv/cli';

interface Flags {
  servers: number;
  port: number;
  dataDir?: string;
  serverFile?: string;
}

const root = join(__dirname, '..', '..', '..');
const BIN = join(root, 'packages', 'kv-server', 'bin', 'kv-server.js');

/** One kv-server process and where it listens. */
interface Member {
  child: ChildProcess;
  port: number;
  exited: Promise<void>;
}

/** Starts `kv-server -p PORT ...` and resolves once it prints its `listening on` line. */
function startOne(port: number, args: string[]): Promise<Member> {
  const child = spawn(process.execPath, [BIN, '-p', String(port), '--log-level', 'warn', ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
    // Its own process group: Ctrl-C at the terminal reaches this script, which stops the servers.
    detached: true,
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const match = /listening on \S+:(\d+)\n/.exec(out);
      if (match !== null) resolve({ child, port: Number(match[1]), exited });
    });
    void exited.then(() => reject(new Error(`the server on port ${port} exited before listening`)));
  });
}

/**
 * `npm run cluster`: N kv-server processes on consecutive ports of 127.0.0.1 (8000, 8001, ... by
 * default: what test-fixtures/serverFile.txt lists), each printed with its pid; Ctrl-C (or SIGTERM)
 * stops them all gracefully. The pids are the servers' own, so `kill PID` stops one of them.
 */
async function main(argv: string[]): Promise<number> {
  exitOnClosedStdout(process.stdout, () => undefined);
  const program = createProgram('cluster', {
    description: 'Run a local cluster of kv-server processes until Ctrl-C.',
    version: packageVersion(join(__dirname, '..')),
    helpAfter:
      '\nExample:\n  npm run cluster                       # 3 servers on 8000-8002\n  npm run cluster -- -n 5 -p 9000 --data-dir ./data --server-file servers.txt',
  })
    .option(
      '-n, --servers <n>',
      'how many servers',
      wholeNumber('servers', { min: 1, max: 100 }),
      3,
    )
    .option(
      '-p, --port <port>',
      'port of the first server (the next ones follow it; 0: any free port for each)',
      wholeNumber('port', { max: 65000 }),
      8000,
    )
    .option('--data-dir <dir>', 'durable servers: the i-th keeps its data in DIR/server-i')
    .option('--server-file <file>', 'write the "HOST PORT" list here (for kv-broker -s)');
  const exit = parseArgs(program, argv);
  if (exit !== undefined) return exit;
  const flags = program.opts<Flags>();
  const members: Member[] = [];
  let stopping = false;
  const stop = async (): Promise<void> => {
    for (const m of members) m.child.kill('SIGTERM');
    await Promise.all(members.map((m) => m.exited));
  };
  try {
    for (let i = 0; i < flags.servers; i++) {
      const port = flags.port === 0 ? 0 : flags.port + i;
      const args =
        flags.dataDir === undefined ? [] : ['--data-dir', join(flags.dataDir, `server-${port}`)];
      members.push(await startOne(port, args));
    }
  } catch (error) {
    process.stderr.write(`cluster: error: ${(error as Error).message}\n`);
    await stop();
    return EXIT_FAILURE;
  }
  const list = members.map((m) => `127.0.0.1 ${m.port}`).join('\n');
  if (flags.serverFile !== undefined) writeFileSync(flags.serverFile, `${list}\n`);
  for (const m of members) process.stdout.write(`127.0.0.1 ${m.port}  pid ${m.child.pid}\n`);
  process.stderr.write(
    `cluster: ${members.length} servers up${flags.serverFile === undefined ? '' : ` (listed in ${flags.serverFile})`}; Ctrl-C stops them\n`,
  );
  for (const m of members)
    void m.exited.then(() => {
      if (!stopping) process.stderr.write(`cluster: the server on port ${m.port} has exited\n`);
    });
  await new Promise<void>((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
  stopping = true;
  process.stderr.write('cluster: stopping the servers\n');
  await stop();
  return 0;
}

main(process.argv).then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`cluster: error: ${(error as Error).message}\n`);
    process.exit(1);
  },
);
