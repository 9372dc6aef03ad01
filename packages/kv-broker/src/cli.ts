import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import {
  Broker,
  BrokerError,
  readServerFile,
  run as runCommand,
  type Placement,
} from '@triekv/broker';
import { loadFile, reportLoad } from './load-file.js';
import { note, writeResult, type Output } from './output.js';
import { shell } from './shell.js';

const EXIT_USAGE = 2;

interface Flags {
  servers: string;
  input?: string;
  k: number;
  placement: Placement;
  json: boolean;
  command: string[];
  timeout: number;
  authToken?: string;
}

function positive(name: string): (text: string) => number {
  return (text) => {
    if (!/^\d+$/.test(text.trim()) || Number(text) < 1)
      throw new InvalidArgumentError(`${name} must be a whole number >= 1`);
    return Number(text);
  };
}

function program(version: string): Command {
  return new Command('kv-broker')
    .description('Load data into a triekv cluster (each record on k servers), then query it.')
    .requiredOption('-s, --servers <file>', 'server file: one "HOST PORT" per line')
    .option('-i, --input <file>', 'data file to load first (one record per line)')
    .requiredOption('-k, --k <k>', 'replicas per record', positive('k'))
    .addOption(
      new Option('--placement <placement>', 'where records go')
        .choices(['hash', 'random'])
        .default('hash'),
    )
    .option('--json', 'print one JSON object per command', false)
    .option(
      '-c, --command <command>',
      'run this command (repeatable), then exit',
      (c: string, all: string[]) => [...all, c],
      [],
    )
    .option('--timeout <ms>', 'per-request timeout', positive('timeout'), 5000)
    .addOption(
      new Option('--auth-token <token>', 'token for servers that require one').env(
        'TRIEKV_AUTH_TOKEN',
      ),
    )
    .version(version, '-V, --version')
    .addHelpText(
      'after',
      `
Commands (in the shell, with -c, or one per line on stdin):
  GET key | QUERY key.sub.sub | PUT "key" : { ... } | DELETE key | SCAN prefix [limit]
  COMPUTE expr WHERE x = QUERY path [AND y = QUERY path]... | STATUS | REPAIR | HELP | EXIT

Example:
  kv-broker -s serverFile.txt -i dataToIndex.txt -k 2
  kv-broker -s serverFile.txt -k 2 -c "GET key1" -c "COMPUTE 2*(x+3) WHERE x = QUERY key1.level"`,
    )
    .exitOverride()
    .configureOutput({ outputError: (text, write) => write(`kv-broker: ${text}`) });
}

/** Runs kv-broker with `argv` (as `process.argv`); resolves with the exit code. */
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
  const interactive = flags.command.length === 0 && process.stdin.isTTY === true;
  const out: Output = {
    json: flags.json,
    color: interactive && process.stdout.isTTY === true && !('NO_COLOR' in process.env),
  };
  const errOut = { color: process.stderr.isTTY === true && !('NO_COLOR' in process.env) };

  let broker: Broker;
  try {
    const servers = await readServerFile(flags.servers);
    broker = new Broker({
      servers,
      k: flags.k,
      placement: flags.placement,
      requestTimeoutMs: flags.timeout,
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
  try {
    const status = await broker.start();
    const up = status.filter((s) => s.up).length;
    note(`connected to ${up} of ${status.length} servers`, errOut);
    for (const s of status.filter((x) => !x.up)) note(`  ${s.server} is down`, errOut, 'warn');
    if (up < flags.k)
      note(
        `WARNING: only ${up} servers are up: writes cannot reach k=${flags.k} replicas`,
        errOut,
        'warn',
      );
    broker.on('down', (server) => note(`server ${server} went down`, errOut, 'warn'));
    broker.on('up', (server) => note(`server ${server} is back up`, errOut));
    broker.on('repaired', (server, copied) =>
      note(`repaired ${server}: ${copied} records copied`, errOut),
    );

    if (flags.input !== undefined) {
      try {
        reportLoad(await loadFile(broker, flags.input), flags.input, errOut);
      } catch (error) {
        const e = error as NodeJS.ErrnoException;
        const reason = e.code === 'ENOENT' ? 'no such file' : e.message;
        note(`kv-broker: error: cannot load ${flags.input}: ${reason}`, errOut, 'error');
        return e.code === 'ENOENT' || e.code === 'EISDIR' || e.code === 'EACCES' ? EXIT_USAGE : 1;
      }
    }

    let failed = false;
    if (flags.command.length > 0) {
      for (const line of flags.command) {
        const result = await runCommand(broker, line);
        if (result.exit === true) break;
        if (!result.ok) failed = true;
        writeResult(result, out);
      }
    } else if (interactive) {
      failed = await shell(broker, out);
    } else {
      for await (const line of createInterface({ input: process.stdin, crlfDelay: Infinity })) {
        if (line.trim().length === 0 || line.trimStart().startsWith('#')) continue;
        const result = await runCommand(broker, line);
        if (result.exit === true) break;
        if (!result.ok) failed = true;
        writeResult(result, out);
      }
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
    await broker.close();
  }
}
