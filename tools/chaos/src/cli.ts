import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { join } from 'node:path';
import { Option, type Command } from 'commander';
import {
  EXIT_USAGE,
  createProgram,
  exitOnClosedStdout,
  packageVersion,
  parseArgs,
  wholeNumber,
} from '@triekv/cli';
import { possibleFaults, type FaultKind } from './nemesis.js';
import { NetnsNetwork } from './network.js';
import { DEFAULT_CHAOS, passed, runChaos, type ChaosReport } from './run.js';

interface Flags {
  seed?: number;
  duration: number;
  servers: number;
  k: number;
  durable: number;
  brokers: number;
  via: 'broker' | 'gateway';
  clients: number;
  keys: number;
  network: 'loopback' | 'netns';
  overload: boolean;
  membership: boolean;
  tls: boolean;
  spares: number;
  faults?: string;
  json?: string;
  history?: string;
}

function program(): Command {
  const d = DEFAULT_CHAOS;
  return createProgram('triekv-chaos', {
    description:
      'Torture a local triekv cluster: brokers write and read while servers are killed, paused and cut off; then check the history.',
    version: packageVersion(join(__dirname, '..')),
    helpAfter:
      '\nExample:\n  npm run chaos -- --seed 7 --duration 30\n  npm run chaos -- --network netns --duration 20\n',
  })
    .option(
      '--seed <n>',
      'seed of the workload and the faults (default: random, printed)',
      wholeNumber('seed'),
    )
    .option(
      '--duration <s>',
      'seconds of faults and load',
      wholeNumber('duration', { min: 1 }),
      d.durationMs / 1000,
    )
    .option(
      '--servers <n>',
      'servers in the cluster',
      wholeNumber('servers', { min: 2 }),
      d.servers,
    )
    .option('-k <k>', 'replicas per record', wholeNumber('k', { min: 2 }), d.k)
    .option(
      '--durable <n>',
      'servers (the first ones) with a data directory',
      wholeNumber('durable'),
      d.durable,
    )
    .option(
      '--brokers <n>',
      'brokers running the workload at once',
      wholeNumber('brokers', { min: 1 }),
      d.brokers,
    )
    .option(
      '--clients <n>',
      'clients per broker, one operation in flight each',
      wholeNumber('clients', { min: 1 }),
      d.clientsPerBroker,
    )
    .option('--keys <n>', 'keys the workload uses', wholeNumber('keys', { min: 1 }), d.keys)
    .addOption(
      new Option(
        '--via <how>',
        'how clients reach each broker: in this process, or through a RESP gateway in front of it',
      )
        .choices(['broker', 'gateway'])
        .default('broker'),
    )
    .addOption(
      new Option(
        '--network <kind>',
        'where the servers run: loopback (fault proxies) or netns (one network namespace each; root)',
      )
        .choices(['loopback', 'netns'])
        .default(d.network),
    )
    .option(
      '--faults <list>',
      'single-server faults, comma-separated: kill, pause, and delay, drop, blackhole (loopback) or partition (netns); none for none (default: all of them)',
    )
    .option('--no-overload', 'never kill k servers at once')
    .option(
      '--tls',
      'TLS between brokers and servers (certificates made with openssl; loopback only)',
      false,
    )
    .option(
      '--spares <n>',
      'servers started outside the membership: the nemesis adds them one at a time, then removes members back to --servers',
      wholeNumber('spares', { min: 1, max: 8 }),
      1,
    )
    .option(
      '--no-membership',
      'never add or remove servers (by default the spares are added to the cluster and members removed again, data moving under load)',
    )
    .option('--json <file>', 'write the report (without the history) as JSON')
    .option('--history <file>', 'write the whole history as JSON');
}

/** The `--faults` list, or an error naming what is wrong with it. */
function faultList(flags: Flags): FaultKind[] | string {
  const possible = possibleFaults(flags.network);
  if (flags.faults === undefined) return possible;
  const text = flags.faults.trim();
  if (text === 'none') return [];
  const list = text.split(',').map((f) => f.trim());
  const bad = list.filter((f) => !(possible as readonly string[]).includes(f));
  if (bad.length > 0)
    return `--faults: ${bad.map((f) => JSON.stringify(f)).join(', ')}: expected some of ${possible.join(', ')} (on --network ${flags.network}), or none`;
  return list as FaultKind[];
}

function validate(flags: Flags): string | undefined {
  if (flags.k > flags.servers) return `-k ${flags.k} is more than --servers ${flags.servers}`;
  if (flags.tls && flags.network === 'netns')
    return '--tls runs on the loopback network only (its certificate names 127.0.0.1)';
  if (flags.durable > flags.servers)
    return `--durable ${flags.durable} is more than --servers ${flags.servers}`;
  const faults = faultList(flags);
  if (typeof faults === 'string') return faults;
  return undefined;
}

/** Runs the torture test with `argv` (as `process.argv`); resolves with the exit code. */
export async function run(argv: string[]): Promise<number> {
  // A closed stdout must not stop a run that has servers to clean up: its output is just dropped.
  exitOnClosedStdout(process.stdout, () => undefined);
  const cli = program();
  const exit = parseArgs(cli, argv);
  if (exit !== undefined) return exit;
  const flags = cli.opts<Flags>();
  const invalid = validate(flags);
  if (invalid !== undefined) {
    process.stderr.write(`triekv-chaos: error: ${invalid}\n`);
    return EXIT_USAGE;
  }
  if (flags.network === 'netns') {
    const available = await NetnsNetwork.available();
    if (!available.ok) {
      process.stderr.write(`triekv-chaos: error: --network netns: ${available.reason}\n`);
      return EXIT_USAGE;
    }
  }
  const seed = flags.seed ?? Math.floor(Math.random() * 1_000_000);
  const abort = new AbortController();
  const onSignal = (): void => {
    process.stderr.write('triekv-chaos: interrupted; healing faults and checking what ran\n');
    abort.abort();
  };
  process.once('SIGINT', onSignal);
  let report: ChaosReport;
  try {
    report = await runChaos({
      seed,
      durationMs: flags.duration * 1000,
      servers: flags.servers,
      k: flags.k,
      durable: flags.durable,
      brokers: flags.brokers,
      clientsPerBroker: flags.clients,
      via: flags.via,
      keys: flags.keys,
      network: flags.network,
      overload: flags.overload,
      membership: flags.membership,
      tls: flags.tls,
      spares: flags.spares,
      faults: faultList(flags) as FaultKind[],
      log: (line) => process.stderr.write(`${line}\n`),
      signal: abort.signal,
    });
  } finally {
    process.off('SIGINT', onSignal);
  }
  const { history, ...summary } = report;
  if (flags.json !== undefined) writeJson(flags.json, summary);
  if (flags.history !== undefined) writeJson(flags.history, history);
  process.stdout.write(formatReport(report, flags.duration));
  return passed(report) ? 0 : 1;
}

function writeJson(file: string, data: unknown): void {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, `${JSON.stringify(data, null, 2)}\n`);
}

const n = (x: number): string => Math.round(x).toLocaleString('en-US');

/** The human summary: verdict, figures, and for each violation the history around its key. */
export function formatReport(report: ChaosReport, durationS: number): string {
  const lines: string[] = [];
  const verdict = passed(report) ? 'PASSED' : 'FAILED';
  lines.push(
    `chaos: ${verdict}, seed ${report.seed}, ${(report.elapsedMs / 1000).toFixed(1)} s on ${report.network}`,
  );
  lines.push(
    `operations: ${n(report.ops)} (${n(report.opsPerSecond)}/s): ${Object.entries(report.outcomes)
      .map(([k, v]) => `${k} ${n(v)}`)
      .join(', ')}`,
  );
  lines.push(
    `faults: ${
      Object.entries(report.faults)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ') || 'none'
    }`,
  );
  const c = report.check;
  lines.push(
    `checked: ${n(c.reads)} reads and ${n(c.scans)} scans (${n(c.strict)} held to the newest acknowledged version, ${n(c.warned)} warned that k or more servers were down) against ${n(c.writes)} acknowledged writes: ${c.violations} violations`,
  );
  for (const crash of report.crashes) lines.push(`crash: ${crash}`);
  if (report.failure !== undefined) lines.push(`failure: ${report.failure}`);
  for (const v of report.violations) {
    lines.push('', `violation (${v.kind}) on ${v.key}: ${v.message}`, ...v.history);
  }
  if (!passed(report))
    lines.push(
      '',
      `reproduce with: npm run chaos -- --seed ${report.seed} --duration ${durationS}${report.network === 'netns' ? ' --network netns' : ''}`,
    );
  return `${lines.join('\n')}\n`;
}
