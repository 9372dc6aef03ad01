import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { createServer, type KvServer, type ServerOptions } from '@triekv/server';

/** Starts an in-process server on 127.0.0.1, port 0. Close it with `server.close()`. */
export async function startServer(
  options: ServerOptions = {},
): Promise<{ server: KvServer; port: number }> {
  const server = createServer({ host: '127.0.0.1', port: 0, ...options });
  const { port } = await server.listen();
  return { server, port };
}

/** A kv-server running as a real process. */
export interface ServerProcess {
  child: ChildProcess;
  port: number;
  /** The RESP port, when started with `--resp-port`. */
  respPort?: number;
  /** The metrics port, when started with `--metrics-port`. */
  metricsPort?: number;
  stdout: () => string;
  stderr: () => string;
  /** Resolves with the exit code (or the signal name) once the process has ended. */
  exited: Promise<number | string>;
  /** Sends a signal (SIGKILL, SIGTERM, SIGSTOP, ...). */
  kill(signal?: NodeJS.Signals): void;
}

const BIN = join(__dirname, '..', '..', 'kv-server', 'bin', 'kv-server.js');

/** Where and how a server process starts. */
export interface SpawnOptions {
  /** @default '127.0.0.1' */
  address?: string;
  /** @default 0 */
  port?: number;
  /** A command the server runs under, such as `['ip', 'netns', 'exec', 'ns1']` (it must exec). */
  prefix?: string[];
  /**
   * In a process group of its own, so that Ctrl-C at the terminal reaches only the parent (which then
   * stops the server itself). @default false
   */
  detached?: boolean;
}

/** Spawns `kv-server -p 0 ...args` and waits for its `listening on HOST:PORT` line. */
export function startServerProcess(
  args: string[] = [],
  env: NodeJS.ProcessEnv = process.env,
  options: SpawnOptions = {},
): Promise<ServerProcess> {
  const command = [
    ...(options.prefix ?? []),
    process.execPath,
    BIN,
    '-a',
    options.address ?? '127.0.0.1',
    '-p',
    String(options.port ?? 0),
    '--log-level',
    'warn',
    ...args,
  ];
  const child = spawn(command[0] as string, command.slice(1), {
    stdio: ['ignore', 'pipe', 'pipe'],
    env,
    detached: options.detached ?? false,
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr.on('data', (c: Buffer) => (err += c.toString()));
  const exited = new Promise<number | string>((resolve) =>
    child.once('exit', (code, signal) => resolve(code ?? signal ?? 'unknown')),
  );
  return new Promise((resolve, reject) => {
    const wantsResp = args.includes('--resp-port');
    const wantsMetrics = args.includes('--metrics-port');
    const onData = (): void => {
      const match = /listening on [^\s]+:(\d+)\n/.exec(out);
      if (match === null) return;
      const resp = /listening for RESP on [^\s]+:(\d+)\n/.exec(out);
      if (wantsResp && resp === null) return;
      const metrics = /serving metrics on https?:\/\/[^\s]+:(\d+)\/metrics\n/.exec(out);
      if (wantsMetrics && metrics === null) return;
      child.stdout.off('data', onData);
      resolve({
        child,
        port: Number(match[1]),
        ...(resp === null ? {} : { respPort: Number(resp[1]) }),
        ...(metrics === null ? {} : { metricsPort: Number(metrics[1]) }),
        stdout: () => out,
        stderr: () => err,
        exited,
        kill: (signal = 'SIGTERM') => void child.kill(signal),
      });
    };
    child.stdout.on('data', onData);
    void exited.then((code) =>
      reject(new Error(`kv-server exited (${code}) before listening: ${err}`)),
    );
  });
}
