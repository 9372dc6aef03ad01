import { join } from 'node:path';
import { InvalidArgumentError, Option, type Command } from 'commander';
import {
  EXIT_FAILURE,
  EXIT_USAGE,
  readFlagFile,
  createProgram,
  exitOnClosedStdout,
  packageVersion,
  parseArgs,
  wholeNumber,
} from '@triekv/cli';
import { serverHttp, type HttpService } from '@triekv/observe';
import pino from 'pino';
import { ServerError, createServer, defaults, type TlsOptions } from '@triekv/server';

const LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

interface Flags {
  address: string;
  port: number;
  authToken?: string;
  maxFrame: number;
  maxConnections: number;
  maxUnauthenticated: number;
  authTimeout: number;
  maxItems: number;
  maxDocKeys: number;
  maxClockDrift: number;
  maxIntBytes: number;
  idleTimeout: number;
  scanCursors: number;
  logLevel: string;
  dataDir?: string;
  fsync: 'always' | 'batch' | 'off';
  recover: boolean;
  compactMinBytes: number;
  compactRatio: number;
  respPort?: number;
  metricsPort?: number;
  metricsAddress?: string;
  respAddress?: string;
  tlsCert?: string;
  tlsKey?: string;
  tlsCa?: string;
}

function program(version: string): Command {
  return createProgram('kv-server', {
    description: 'Run a triekv server: records in tries, served over TCP.',
    version,
    helpAfter:
      '\nExample:\n  kv-server -a 127.0.0.1 -p 8000\n  kv-server -p 8000 --resp-port 6380      (then: redis-cli -p 6380 SET k v)\n  kv-server -p 8001 --data-dir ./data1 --fsync batch\n  TRIEKV_AUTH_TOKEN=s3cret kv-server -p 0 --log-level warn',
  })
    .option('-a, --address <host>', 'address to listen on', defaults.DEFAULT_HOST)
    .option(
      '-p, --port <port>',
      'port to listen on (0 picks a free one)',
      wholeNumber('port', { max: 65535 }),
      8000,
    )
    .addOption(
      new Option('--auth-token <token>', 'require clients to authenticate with this token')
        .env('TRIEKV_AUTH_TOKEN')
        .argParser(nonEmpty('auth-token')),
    )
    .option(
      '--max-frame <bytes>',
      'largest request frame; a larger one closes that connection',
      wholeNumber('max-frame', { min: 16 }),
      defaults.DEFAULT_MAX_FRAME_SIZE,
    )
    .option(
      '--max-connections <n>',
      'most open connections',
      wholeNumber('max-connections', { min: 1 }),
      defaults.DEFAULT_MAX_CONNECTIONS,
    )
    .option(
      '--max-unauthenticated <n>',
      'with a token: most connections not yet authenticated (a limit of their own)',
      wholeNumber('max-unauthenticated', { min: 1 }),
      defaults.DEFAULT_MAX_UNAUTHENTICATED,
    )
    .option(
      '--auth-timeout <ms>',
      'with a token: close a connection that has not authenticated within this time (0: never)',
      wholeNumber('auth-timeout'),
      defaults.DEFAULT_AUTH_TIMEOUT_MS,
    )
    .option(
      '--max-items <n>',
      'most array elements and map entries in one request frame',
      wholeNumber('max-items', { min: 1 }),
      defaults.DEFAULT_MAX_ITEMS,
    )
    .option(
      '--max-clock-drift <ms>',
      "refuse writes whose version is further ahead of this server's clock",
      wholeNumber('max-clock-drift'),
      defaults.DEFAULT_MAX_CLOCK_DRIFT_MS,
    )
    .option(
      '--max-doc-keys <n>',
      'most keys in one document, at any depth',
      wholeNumber('max-doc-keys', { min: 1 }),
      defaults.DEFAULT_MAX_DOC_KEYS,
    )
    .option(
      '--max-int-bytes <n>',
      'largest integer in a value, in bytes (64: about 154 digits)',
      wholeNumber('max-int-bytes', { min: 8, max: 1 << 20 }),
      defaults.DEFAULT_MAX_INT_BYTES,
    )
    .option(
      '--idle-timeout <ms>',
      'close connections idle this long (0: never)',
      wholeNumber('idle-timeout'),
      0,
    )
    .option(
      '--scan-cursors <n>',
      "RESP port: SCAN cursors kept (the oldest expire: resuming from one answers 'ERR invalid cursor')",
      wholeNumber('scan-cursors', { min: 1 }),
      defaults.DEFAULT_SCAN_CURSORS,
    )
    .option(
      '--resp-port <port>',
      "also speak Redis's protocol (RESP2 and RESP3) on this port, on the same records (0 picks a free one); off unless given",
      wholeNumber('resp-port', { max: 65535 }),
    )
    .option('--resp-address <host>', 'address of the RESP listener (default: --address)')
    .option(
      '--tls-cert <file>',
      'TLS on every port (native, RESP, metrics): the server certificate (PEM); with --tls-key',
    )
    .option('--tls-key <file>', "the certificate's private key (PEM)")
    .option(
      '--tls-ca <file>',
      'mutual TLS: clients must present a certificate signed by this CA (PEM)',
    )
    .option(
      '--metrics-port <port>',
      'serve /metrics (Prometheus) and /healthz over HTTP on this port (0 picks a free one); off unless given',
      wholeNumber('metrics-port', { max: 65535 }),
    )
    .option(
      '--metrics-address <host>',
      'address of the metrics listener (default 127.0.0.1; it wants --auth-token as a bearer token when one is set)',
    )
    .option(
      '--data-dir <dir>',
      'keep records in this directory (log + snapshots); without it, memory only',
    )
    .option(
      '--compact-min-bytes <bytes>',
      'with --data-dir: the smallest log worth compacting into a snapshot',
      wholeNumber('compact-min-bytes', { min: 1 }),
      16 * 1024 * 1024,
    )
    .option(
      '--compact-ratio <n>',
      'with --data-dir: compact once the log is this many times the last snapshot',
      wholeNumber('compact-ratio', { min: 1 }),
      2,
    )
    .option(
      '--recover',
      'with --data-dir: start from what is there when files are missing or damaged (logged loudly)',
      false,
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
    );
}

/** A parser for an option that must not be empty (an empty token would let nobody in, or anybody). */
function nonEmpty(name: string): (text: string) => string {
  return (text) => {
    if (text.length === 0) throw new InvalidArgumentError(`${name} must not be empty`);
    return text;
  };
}

/** The TLS files of the flags, read; undefined without --tls-cert. Throws a clear error. */
function readTls(flags: Flags): TlsOptions | undefined {
  if (flags.tlsCert === undefined && flags.tlsKey === undefined) {
    if (flags.tlsCa !== undefined) throw new Error('--tls-ca needs --tls-cert and --tls-key');
    return undefined;
  }
  if (flags.tlsCert === undefined || flags.tlsKey === undefined)
    throw new Error('--tls-cert and --tls-key go together');

  return {
    cert: readFlagFile('--tls-cert', flags.tlsCert),
    key: readFlagFile('--tls-key', flags.tlsKey),
    ...(flags.tlsCa === undefined ? {} : { ca: readFlagFile('--tls-ca', flags.tlsCa) }),
  };
}

/** Runs kv-server with `argv` (as `process.argv`); resolves with the exit code once it has stopped. */
export async function run(argv: string[]): Promise<number> {
  exitOnClosedStdout(process.stdout, () => undefined);
  const cli = program(packageVersion(join(__dirname, '..')));
  const exit = parseArgs(cli, argv);
  if (exit !== undefined) return exit;
  const flags = cli.opts<Flags>();
  const logger = pino({ level: flags.logLevel, base: { pid: process.pid } }, pino.destination(2));
  let tls: TlsOptions | undefined;
  try {
    tls = readTls(flags);
  } catch (error) {
    process.stderr.write(`kv-server: error: ${(error as Error).message}\n`);
    return EXIT_USAGE;
  }
  const server = createServer({
    ...(tls === undefined ? {} : { tls }),
    host: flags.address,
    port: flags.port,
    ...(flags.authToken === undefined ? {} : { authToken: flags.authToken }),
    maxFrameSize: flags.maxFrame,
    maxConnections: flags.maxConnections,
    maxUnauthenticated: flags.maxUnauthenticated,
    authTimeoutMs: flags.authTimeout,
    maxItems: flags.maxItems,
    maxDocKeys: flags.maxDocKeys,
    maxClockDriftMs: flags.maxClockDrift,
    maxIntBytes: flags.maxIntBytes,
    idleTimeoutMs: flags.idleTimeout,
    scanCursors: flags.scanCursors,
    ...(flags.respPort === undefined ? {} : { respPort: flags.respPort }),
    ...(flags.respAddress === undefined ? {} : { respHost: flags.respAddress }),
    ...(flags.dataDir === undefined
      ? {}
      : {
          dataDir: flags.dataDir,
          fsync: flags.fsync,
          recover: flags.recover,
          minCompactBytes: flags.compactMinBytes,
          compactRatio: flags.compactRatio,
        }),
    logger,
  });
  let address: { host: string; port: number };
  try {
    address = await server.listen();
  } catch (error) {
    process.stderr.write(
      `kv-server: error: ${error instanceof ServerError ? error.message : String(error)}\n`,
    );
    return EXIT_FAILURE;
  }
  process.stdout.write(`listening on ${address.host}:${address.port}\n`);
  if (flags.respPort !== undefined) {
    const resp = server.respAddress();
    process.stdout.write(`listening for RESP on ${resp.host}:${resp.port}\n`);
  }
  let metrics: HttpService | undefined;
  if (flags.metricsPort !== undefined) {
    metrics = serverHttp(server, {
      host: flags.metricsAddress ?? '127.0.0.1',
      port: flags.metricsPort,
      ...(tls === undefined ? {} : { tls }),
      ...(flags.authToken === undefined ? {} : { authToken: flags.authToken }),
    });
    metrics.onError = (error, path) => logger.error({ err: error, path }, 'metrics request failed');
    try {
      const at = await metrics.listen();
      const scheme = tls === undefined ? 'http' : 'https';
      process.stdout.write(`serving metrics on ${scheme}://${at.host}:${at.port}/metrics\n`);
    } catch (error) {
      process.stderr.write(
        `kv-server: error: cannot serve metrics on ${flags.metricsAddress ?? '127.0.0.1'}:${flags.metricsPort}: ${(error as Error).message}\n`,
      );
      await server.close();
      return EXIT_FAILURE;
    }
  }
  if (tls !== undefined)
    // New certificates (a renewal) without dropping a connection: connections open keep theirs.
    process.on('SIGHUP', () => {
      try {
        const fresh = readTls(flags) as TlsOptions;
        server.reloadTls(fresh);
        metrics?.reloadTls(fresh);
      } catch (error) {
        logger.error(
          { reason: (error as Error).message },
          'cannot reload the TLS certificates: the old ones stay in use',
        );
      }
    });
  const stop = await new Promise<string>((resolve) => {
    process.once('SIGINT', () => resolve('SIGINT'));
    process.once('SIGTERM', () => resolve('SIGTERM'));
  });
  logger.info({ signal: stop }, 'shutting down');
  await metrics?.close();
  await server.close();
  logger.flush();
  return 0;
}
