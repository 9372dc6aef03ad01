import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import pino from 'pino';
import { ServerError, createServer, defaults } from '@triekv/server';

const EXIT_USAGE = 2;
const LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

function wholeNumber(
  name: string,
  min: number,
  max = Number.MAX_SAFE_INTEGER,
): (text: string) => number {
  return (text) => {
    const n = Number(text);
    if (!/^\d+$/.test(text.trim()) || n < min || n > max) {
      throw new InvalidArgumentError(`${name} must be a whole number from ${min} to ${max}`);
    }
    return n;
  };
}

interface Flags {
  address: string;
  port: number;
  authToken?: string;
  maxFrame: number;
  maxConnections: number;
  idleTimeout: number;
  logLevel: string;
  dataDir?: string;
  fsync: 'always' | 'batch' | 'off';
}

function program(version: string): Command {
  return new Command('kv-server')
    .description('Run a triekv server: records in tries, served over TCP.')
    .option('-a, --address <host>', 'address to listen on', defaults.DEFAULT_HOST)
    .option(
      '-p, --port <port>',
      'port to listen on (0 picks a free one)',
      wholeNumber('port', 0, 65535),
      8000,
    )
    .addOption(
      new Option('--auth-token <token>', 'require clients to authenticate with this token').env(
        'TRIEKV_AUTH_TOKEN',
      ),
    )
    .option(
      '--max-frame <bytes>',
      'largest request frame; a larger one closes that connection',
      wholeNumber('max-frame', 16),
      defaults.DEFAULT_MAX_FRAME_SIZE,
    )
    .option(
      '--max-connections <n>',
      'most open connections',
      wholeNumber('max-connections', 1),
      defaults.DEFAULT_MAX_CONNECTIONS,
    )
    .option(
      '--idle-timeout <ms>',
      'close connections idle this long (0: never)',
      wholeNumber('idle-timeout', 0),
      0,
    )
    .option(
      '--data-dir <dir>',
      'keep records in this directory (log + snapshots); without it, memory only',
    )
    .addOption(
      new Option('--fsync <policy>', 'with --data-dir: when writes reach the disk')
        .choices(['always', 'batch', 'off'])
        .default('batch'),
    )
    .addOption(
      new Option('--log-level <level>', 'log level (logs go to stderr, as JSON)')
        .choices(LEVELS)
        .default('info'),
    )
    .version(version, '-V, --version')
    .addHelpText(
      'after',
      '\nExample:\n  kv-server -a 127.0.0.1 -p 8000\n  kv-server -p 8001 --data-dir ./data1 --fsync batch\n  TRIEKV_AUTH_TOKEN=s3cret kv-server -p 0 --log-level warn',
    )
    .exitOverride()
    .configureOutput({ outputError: (text, write) => write(`kv-server: ${text}`) });
}

/** Runs kv-server with `argv` (as `process.argv`); resolves with the exit code once it has stopped. */
export async function run(argv: string[]): Promise<number> {
  const { version } = JSON.parse(readFileSync(join(__dirname, '..', 'package.json'), 'utf8')) as {
    version: string;
  };
  const cli = program(version);
  try {
    cli.parse(argv);
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : EXIT_USAGE;
    throw error;
  }
  const flags = cli.opts<Flags>();
  const logger = pino({ level: flags.logLevel, base: { pid: process.pid } }, pino.destination(2));
  const server = createServer({
    host: flags.address,
    port: flags.port,
    ...(flags.authToken === undefined ? {} : { authToken: flags.authToken }),
    maxFrameSize: flags.maxFrame,
    maxConnections: flags.maxConnections,
    idleTimeoutMs: flags.idleTimeout,
    ...(flags.dataDir === undefined ? {} : { dataDir: flags.dataDir, fsync: flags.fsync }),
    logger,
  });
  let address: { host: string; port: number };
  try {
    address = await server.listen();
  } catch (error) {
    process.stderr.write(
      `kv-server: error: ${error instanceof ServerError ? error.message : String(error)}\n`,
    );
    return 1;
  }
  process.stdout.write(`listening on ${address.host}:${address.port}\n`);
  const stop = await new Promise<string>((resolve) => {
    process.once('SIGINT', () => resolve('SIGINT'));
    process.once('SIGTERM', () => resolve('SIGTERM'));
  });
  logger.info({ signal: stop }, 'shutting down');
  await server.close();
  logger.flush();
  return 0;
}
