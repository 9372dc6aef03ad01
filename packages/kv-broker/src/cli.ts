import { constants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { Option, type Command } from 'commander';
import { DEFAULT_MAX_FRAME_SIZE } from '@triekv/protocol';
import type { InputFormat, Style } from '@triekv/record';
import {
  EXIT_USAGE,
  createProgram,
  exitOnClosedStdout,
  packageVersion,
  readFlagFile,
  parseArgs,
  useColor,
  wholeNumber,
} from '@triekv/cli';
import {
  Broker,
  BrokerError,
  defaults,
  type Angles,
  readServerFile,
  run as runCommand,
  runScript,
  type ClientTls,
  type Placement,
} from '@triekv/broker';
import { DEFAULT_SCAN_CURSORS, createGateway, type TlsOptions } from '@triekv/gateway';
import { brokerHttp, type HttpService } from '@triekv/observe';
import pino, { type Logger } from 'pino';
import { loadFile, reportLoad } from './load-file.js';
import { BatchedStdout, Notices, note, writeResult, type Output } from './output.js';
import { MoveBar } from './move-progress.js';
import { shell } from './shell.js';

interface Flags {
  servers: string;
  input?: string;
  k: number;
  placement: Placement;
  json: boolean;
  command: string[];
  timeout: number;
  loadTimeout: number;
  heartbeatTimeout: number;
  maxFrame: number;
  maxLine: number;
  authToken?: string;
  strict: boolean;
  format: InputFormat;
  style: Style;
  angles: Angles;
  respPort?: number;
  window: number;
  respAddress: string;
  respAuthToken?: string;
  strictReads: boolean;
  scanCursors: number;
  resp3Attributes: boolean;
  logLevel: string;
  rebalanceRate: number;
  httpPort?: number;
  httpAddress: string;
  httpAuthToken?: string;
  tlsCa?: string;
  tlsCert?: string;
  tlsKey?: string;
  tlsInsecure: boolean;
  respTlsCert?: string;
  respTlsKey?: string;
  respTlsCa?: string;
  httpTlsCert?: string;
  httpTlsKey?: string;
}

const LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'];

const HELP_AFTER = `
Commands (in the shell, with -c, or one per line on stdin):
  GET key | QUERY key.sub.sub | PUT "key" : { ... } | DELETE key | SCAN [prefix [limit]]
  COMPUTE expr WHERE x = QUERY path [AND y = QUERY path]... | STATUS | REPAIR | HELP | EXIT
  ADD SERVER host port [name] [FORCE] | REMOVE SERVER name|host:port [FORCE] | REBALANCE

Service mode (--resp-port): no shell; serves Redis clients until SIGINT/SIGTERM, logs JSON on stderr.

Example:
  kv-broker -s serverFile.txt -i dataToIndex.txt -k 2
  kv-broker -s serverFile.txt -k 2 --resp-port 6380      (then: redis-cli -p 6380 SET k v)
  kv-broker -s serverFile.txt -k 2 -c "GET key1" -c "COMPUTE 2*(x+3) WHERE x = QUERY key1.level"
  kv-broker -s serverFile.txt -k 2 -c "ADD SERVER 127.0.0.1 8004"`;

function program(version: string): Command {
  return createProgram('kv-broker', {
    description: 'Load data into a triekv cluster (each record on k servers), then query it.',
    version,
    helpAfter: HELP_AFTER,
  })
    .requiredOption('-s, --servers <file>', 'server file: one "HOST PORT" per line')
    .option('-i, --input <file>', 'data file to load first (one record per line)')
    .requiredOption('-k, --k <k>', 'replicas per record', wholeNumber('k', { min: 1 }))
    .addOption(
      new Option('--placement <placement>', 'where records go')
        .choices(['hash', 'random'])
        .default('hash'),
    )
    .option('--json', 'print one JSON object per command', false)
    .addOption(
      new Option('--format <format>', 'what -i holds: text (a record per line), json, or auto')
        .choices(['text', 'json', 'auto'])
        .default('auto'),
    )
    .option('--strict', 'refuse a line of -i with a key repeated inside a document', false)
    .addOption(
      new Option('--style <style>', 'how results print: colon (canonical) or arrow')
        .choices(['colon', 'arrow'])
        .default('colon'),
    )
    .addOption(
      new Option('--angles <unit>', "COMPUTE's sin, cos and tan take degrees or radians")
        .choices(['degrees', 'radians'])
        .default('degrees'),
    )
    .option(
      '-c, --command <command>',
      'run this command (repeatable), then exit',
      (c: string, all: string[]) => [...all, c],
      [],
    )
    .option(
      '--timeout <ms>',
      'per-request timeout (a request that times out fails alone: the server is not marked down)',
      wholeNumber('timeout', { min: 1 }),
      defaults.DEFAULT_REQUEST_TIMEOUT_MS,
    )
    .option(
      '--load-timeout <ms>',
      'how long -i retries a batch whose server is slow or unreachable (with backoff) before counting its records under-replicated; also how long it waits for a server when none is up',
      wholeNumber('load-timeout', { min: 0 }),
      defaults.DEFAULT_LOAD_TIMEOUT_MS,
    )
    .option(
      '--heartbeat-timeout <ms>',
      'a server that sends nothing this long while a request waits is marked down (idle servers are pinged every second)',
      wholeNumber('heartbeat-timeout', { min: 1 }),
      defaults.DEFAULT_HEARTBEAT_TIMEOUT_MS,
    )
    .option(
      '--max-frame <bytes>',
      "largest request frame (keep it the servers' --max-frame); replies may be 1 MiB larger",
      wholeNumber('max-frame', { min: 64 }),
      DEFAULT_MAX_FRAME_SIZE,
    )
    .option(
      '--max-line <chars>',
      'longest line of -i that is loaded (a longer one is reported and skipped)',
      wholeNumber('max-line', { min: 1 }),
      DEFAULT_MAX_FRAME_SIZE,
    )
    .addOption(
      new Option('--auth-token <token>', 'token for servers that require one').env(
        'TRIEKV_AUTH_TOKEN',
      ),
    )
    .option(
      '--tls-ca <file>',
      'TLS to the servers: verify them with this CA (PEM; the certificate must name the host or IP dialled)',
    )
    .option(
      '--tls-cert <file>',
      'TLS to the servers: this client certificate (PEM), for mutual TLS',
    )
    .option('--tls-key <file>', "the client certificate's private key (PEM)")
    .option(
      '--tls-insecure',
      'TLS to the servers without verifying them: for testing only (logged as a warning)',
      false,
    )
    .option(
      '--window <n>',
      'commands read from stdin that run at once (results still print in input order; commands on one key run in order)',
      wholeNumber('window', { min: 1 }),
      defaults.DEFAULT_SCRIPT_WINDOW,
    )
    .option(
      '--rebalance-rate <keys>',
      'ADD SERVER, REMOVE SERVER and REBALANCE copy (and remove) at most this many keys a second',
      wholeNumber('rebalance-rate', { min: 1 }),
      defaults.DEFAULT_REBALANCE_RATE,
    )
    .option(
      '--resp-port <port>',
      'service mode: serve the cluster to Redis clients on this port (0: any free port) until SIGINT/SIGTERM',
      wholeNumber('resp-port', { min: 0, max: 65535 }),
    )
    .option('--resp-address <host>', 'service mode: address to listen on', '127.0.0.1')
    .option(
      '--http-port <port>',
      'serve the dashboard (/), /metrics (Prometheus) and /healthz over HTTP on this port (0: any free port), in the shell and in service mode',
      wholeNumber('http-port', { min: 0, max: 65535 }),
    )
    .option('--http-address <host>', 'address of the HTTP listener', '127.0.0.1')
    .option('--http-tls-cert <file>', 'HTTPS for --http-port with this certificate (PEM)')
    .option('--http-tls-key <file>', "the HTTPS certificate's key (PEM)")
    .addOption(
      new Option(
        '--http-auth-token <token>',
        'the dashboard and /metrics want this token (Bearer, or the login form); default: --resp-auth-token',
      ).env('TRIEKV_HTTP_AUTH_TOKEN'),
    )
    .addOption(
      new Option(
        '--resp-auth-token <token>',
        "service mode: clients must AUTH with this token (not the servers' --auth-token)",
      ).env('TRIEKV_RESP_AUTH_TOKEN'),
    )
    .option(
      '--resp-tls-cert <file>',
      'service mode: TLS on the RESP port with this certificate (PEM); with --resp-tls-key',
    )
    .option('--resp-tls-key <file>', "service mode: the RESP port certificate's key (PEM)")
    .option(
      '--resp-tls-ca <file>',
      'service mode: Redis clients must present a certificate signed by this CA (mutual TLS)',
    )
    .option(
      '--scan-cursors <n>',
      "service mode: SCAN cursors kept (the oldest expire: resuming from one answers 'ERR invalid cursor')",
      wholeNumber('scan-cursors', { min: 1 }),
      DEFAULT_SCAN_CURSORS,
    )
    .option(
      '--strict-reads',
      'service mode: a read while k or more servers are down answers -DEGRADED instead of a value that may be wrong',
      false,
    )
    .option(
      '--resp3-attributes',
      'service mode: RESP3 replies to degraded reads carry the warning as an attribute (many clients cannot read attributes)',
      false,
    )
    .addOption(
      new Option('--log-level <level>', 'service mode: log level (logs go to stderr, as JSON)')
        .choices(LEVELS)
        .default('info'),
    );
}

/** Service mode: the gateway on `--resp-port` until SIGINT or SIGTERM; resolves with the exit code. */
async function serve(broker: Broker, flags: Flags, logger: Logger, tls: Tls): Promise<number> {
  const gateway = createGateway({
    broker,
    host: flags.respAddress,
    port: flags.respPort,
    strictReads: flags.strictReads,
    scanCursors: flags.scanCursors,
    degradedAttributes: flags.resp3Attributes,
    logger,
    ...(flags.respAuthToken === undefined ? {} : { authToken: flags.respAuthToken }),
    ...(tls.resp === undefined ? {} : { tls: tls.resp }),
  });
  try {
    await gateway.listen();
  } catch (error) {
    logger.flush();
    process.stderr.write(`kv-broker: error: ${(error as Error).message}\n`);
    return 1;
  }
  const address = gateway.address();
  process.stdout.write(`listening for RESP on ${address.host}:${address.port}\n`);
  if (tls.resp !== undefined)
    process.on('SIGHUP', () => {
      try {
        gateway.reloadTls(readTls(flags).resp as TlsOptions);
        logger.info('reloaded the RESP port TLS certificates');
      } catch (error) {
        logger.error(
          { reason: (error as Error).message },
          'cannot reload the TLS certificates: the old ones stay in use',
        );
      }
    });
  const signal = await new Promise<string>((resolve) => {
    process.once('SIGINT', () => resolve('SIGINT'));
    process.once('SIGTERM', () => resolve('SIGTERM'));
  });
  logger.info({ signal }, 'shutting down: answering the commands received, then closing');
  await gateway.close();
  logger.flush();
  return 0;
}

/** The TLS settings of the flags, their files read. */
interface Tls {
  client?: ClientTls;
  resp?: TlsOptions;
  http?: TlsOptions;
}

/** A certificate and key given together (or neither), with an optional CA. */
function pair(
  names: [string, string, string?],
  cert: string | undefined,
  key: string | undefined,
  ca?: string,
): TlsOptions | undefined {
  if (cert === undefined && key === undefined) {
    if (ca !== undefined && names[2] !== undefined)
      throw new Error(`${names[2]} needs ${names[0]} and ${names[1]}`);
    return undefined;
  }
  if (cert === undefined || key === undefined)
    throw new Error(`${names[0]} and ${names[1]} go together`);
  return {
    cert: readFlagFile(names[0], cert),
    key: readFlagFile(names[1], key),
    ...(ca === undefined ? {} : { ca: readFlagFile(names[2] as string, ca) }),
  };
}

/** Reads the TLS files the flags name; throws a clear error. */
function readTls(flags: Flags): Tls {
  const own = pair(['--tls-cert', '--tls-key'], flags.tlsCert, flags.tlsKey);
  const wantsClient = flags.tlsCa !== undefined || own !== undefined || flags.tlsInsecure;
  const resp = pair(
    ['--resp-tls-cert', '--resp-tls-key', '--resp-tls-ca'],
    flags.respTlsCert,
    flags.respTlsKey,
    flags.respTlsCa,
  );
  const http = pair(['--http-tls-cert', '--http-tls-key'], flags.httpTlsCert, flags.httpTlsKey);
  return {
    ...(wantsClient
      ? {
          client: {
            ...(flags.tlsCa === undefined ? {} : { ca: readFlagFile('--tls-ca', flags.tlsCa) }),
            ...(own === undefined ? {} : { cert: own.cert, key: own.key }),
            ...(flags.tlsInsecure ? { insecure: true } : {}),
          },
        }
      : {}),
    ...(resp === undefined ? {} : { resp }),
    ...(http === undefined ? {} : { http }),
  };
}

/** Why `path` cannot be loaded (missing, a directory, unreadable), or undefined when it can be. */
async function unusableInput(path: string): Promise<string | undefined> {
  try {
    const info = await stat(path);
    if (info.isDirectory()) return 'it is a directory, not a data file';
    await access(path, constants.R_OK);
    return undefined;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return 'no such file';
    if (code === 'EACCES') return 'permission denied';
    return (error as Error).message;
  }
}

const plural = (n: number, one: string, many: string): string => `${n} ${n === 1 ? one : many}`;

/** Runs kv-broker with `argv` (as `process.argv`); resolves with the exit code. */
export async function run(argv: string[]): Promise<number> {
  exitOnClosedStdout(process.stdout);
  exitOnClosedStdout(process.stderr);
  const cli = program(packageVersion(join(__dirname, '..')));
  const exit = parseArgs(cli, argv);
  if (exit !== undefined) return exit;
  const flags = cli.opts<Flags>();
  const interactive =
    flags.command.length === 0 && flags.respPort === undefined && process.stdin.isTTY === true;
  const out: Output = { json: flags.json, color: interactive && useColor(process.stdout) };
  const errOut = { color: useColor(process.stderr) };
  const notices = new Notices(errOut);

  // Inputs are checked before connecting: a typo costs no connection attempts.
  if (flags.respPort !== undefined && flags.command.length > 0) {
    note('kv-broker: error: -c cannot be used with --resp-port', errOut, 'error');
    return EXIT_USAGE;
  }
  if (flags.input !== undefined) {
    const reason = await unusableInput(flags.input);
    if (reason !== undefined) {
      note(`kv-broker: error: cannot load ${flags.input}: ${reason}`, errOut, 'error');
      return EXIT_USAGE;
    }
  }
  let broker: Broker;
  let tls: Tls;
  try {
    tls = readTls(flags);
  } catch (error) {
    note(`kv-broker: error: ${(error as Error).message}`, errOut, 'error');
    return EXIT_USAGE;
  }
  if (flags.tlsInsecure)
    note(
      'WARNING: --tls-insecure: the servers are not verified (anyone on the network can pretend to be one); for testing only',
      errOut,
      'warn',
    );
  try {
    const servers = await readServerFile(flags.servers);
    broker = new Broker({
      ...(tls.client === undefined ? {} : { tls: tls.client }),
      servers,
      k: flags.k,
      placement: flags.placement,
      requestTimeoutMs: flags.timeout,
      heartbeatTimeoutMs: flags.heartbeatTimeout,
      angles: flags.angles,
      maxFrameSize: flags.maxFrame,
      rebalanceRate: flags.rebalanceRate,
      ...(flags.authToken === undefined ? {} : { authToken: flags.authToken }),
    });
  } catch (error) {
    note(
      `kv-broker: error: ${(error as Error).message.replace(/^options\./, '')}`,
      errOut,
      'error',
    );
    return EXIT_USAGE;
  }
  let http: HttpService | undefined;
  try {
    const status = await broker.start();
    const up = status.filter((s) => s.up).length;
    note(`connected to ${up} of ${plural(status.length, 'server', 'servers')}`, errOut);
    for (const s of status.filter((x) => !x.up))
      note(`  ${s.server} is down${s.reason === undefined ? '' : `: ${s.reason}`}`, errOut, 'warn');
    if (up < flags.k)
      note(
        `WARNING: only ${plural(up, 'server is', 'servers are')} up: writes cannot reach k=${flags.k} replicas`,
        errOut,
        'warn',
      );
    const service = flags.respPort !== undefined;
    const logger = pino({ level: flags.logLevel, base: { pid: process.pid } }, pino.destination(2));
    if (service) {
      // A service logs what a shell prints as notices.
      broker.on('down', (server) => logger.warn({ server }, 'server went down'));
      broker.on('up', (server) => logger.info({ server }, 'server is back up'));
      broker.on('repaired', (server, copied) => logger.info({ server, copied }, 'repaired'));
      broker.on('repairFailed', (reason) => logger.error({ reason }, 'repair failed'));
      broker.on('membership', (m) =>
        logger.info(
          {
            members: m.members.map((x) => x.name),
            change: m.change,
            moving: m.previous !== undefined,
          },
          'membership changed',
        ),
      );
    } else {
      const wentDown = new Set<string>();
      broker.on('down', (server) => {
        wentDown.add(server);
        notices.write(`server ${server} went down`, 'warn');
      });
      // A server that was down is back; one that joined the membership is connected to.
      broker.on('up', (server) =>
        notices.write(
          wentDown.delete(server) ? `server ${server} is back up` : `connected to ${server}`,
        ),
      );
      broker.on('repaired', (server, copied) =>
        notices.write(`repaired ${server}: ${plural(copied, 'record', 'records')} copied`),
      );
      broker.on('membership', (m) =>
        notices.write(
          `membership: ${plural(m.members.length, 'member', 'members')}${m.change === undefined ? '' : ` (${m.change}${m.previous === undefined ? ', done' : ', moving data'})`}`,
        ),
      );
    }

    if (flags.httpPort !== undefined) {
      const token = flags.httpAuthToken ?? flags.respAuthToken;
      http = brokerHttp(broker, {
        host: flags.httpAddress,
        port: flags.httpPort,
        ...(tls.http === undefined ? {} : { tls: tls.http }),
        ...(token === undefined ? {} : { authToken: token }),
      });
      http.onError = (error, path) => logger.error({ err: error, path }, 'HTTP request failed');
      try {
        const at = await http.listen();
        const scheme = tls.http === undefined ? 'http' : 'https';
        note(`dashboard: ${scheme}://${at.host}:${at.port}/ (metrics: /metrics)`, errOut);
      } catch (error) {
        note(
          `kv-broker: error: cannot serve HTTP on ${flags.httpAddress}:${flags.httpPort}: ${(error as Error).message}`,
          errOut,
          'error',
        );
        return 1;
      }
    }

    if (flags.input !== undefined) {
      const retrying = new Set<string>();
      try {
        const summary = await loadFile(broker, flags.input, {
          maxLineLength: flags.maxLine,
          loadTimeoutMs: flags.loadTimeout,
          format: flags.format,
          duplicateKeys: flags.strict ? 'error' : 'last',
          onRetry: (server, error) => {
            // Once per server and load: a pause of a few seconds retries many batches.
            if (retrying.has(server)) return;
            retrying.add(server);
            notices.write(
              `retrying batches: ${error.message} (for up to ${flags.loadTimeout} ms, --load-timeout)`,
              'warn',
            );
          },
        });
        reportLoad(summary, flags.input, errOut);
      } catch (error) {
        const reason = error instanceof BrokerError ? error.message : (error as Error).message;
        note(`kv-broker: error: cannot load ${flags.input}: ${reason}`, errOut, 'error');
        return 1;
      }
    }

    if (service) return await serve(broker, flags, logger, tls);
    let failed = false;
    const bar = new MoveBar();
    const options = { style: flags.style, onProgress: bar.update, json: flags.json };
    if (flags.command.length > 0) {
      for (const line of flags.command) {
        const result = await runCommand(broker, line, options);
        bar.stop();
        if (result.exit === true) break;
        if (!result.ok) failed = true;
        writeResult(result, out);
      }
    } else if (interactive) {
      // At a terminal a failed command is an answer, not a failure of the session: exit 0.
      await shell(broker, out, notices, options, () => bar.stop());
    } else {
      // Many commands in flight, results in input order; commands on one key keep their order.
      const stdout = new BatchedStdout();
      const script = await runScript(
        broker,
        createInterface({ input: process.stdin, crlfDelay: Infinity }),
        (result) => {
          writeResult(result, out, stdout.write);
          return stdout.ready();
        },
        { ...options, window: flags.window },
      );
      bar.stop();
      stdout.flush();
      if (script.failed) failed = true;
    }
    return failed ? 1 : 0;
  } catch (error) {
    note(
      `kv-broker: error: ${error instanceof BrokerError ? error.message : String(error)}`,
      errOut,
      'error',
    );
    return 1;
  } finally {
    await http?.close();
    await broker.close();
  }
}
