import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { Command } from 'commander';
import {
  EXIT_FAILURE,
  EXIT_USAGE,
  createProgram,
  exitOnClosedStdout,
  packageVersion,
  parseArgs,
  wholeNumber,
} from '@triekv/cli';
import {
  DatagenError,
  OptionError,
  readKeyFile,
  writeDataset,
  writeDatasetFile,
  type GenerateOptions,
} from '@triekv/datagen';

/** The flag behind each generator option, to name it in errors. */
const FLAGS: Record<string, string> = {
  lines: '-n/--lines',
  maxDepth: '-d/--max-depth',
  maxKeys: '-m/--max-keys',
  maxLength: '-l/--max-length',
};

const EXAMPLE = `
Example:
  kv-gen -k keyFile.txt -n 1000 -d 3 -m 5 -l 4 -o dataToIndex.txt --seed 42
  kv-gen -k keyFile.txt -n 10 -d 1 -m 3 -l 6 | head -3`;

interface Flags {
  keyFile: string;
  lines: number;
  maxDepth: number;
  maxKeys: number;
  maxLength: number;
  output?: string;
  seed?: string;
}

function program(version: string): Command {
  return createProgram('kv-gen', {
    description: 'Make a random data set in the triekv record format, one record per line.',
    version,
    helpAfter: EXAMPLE,
  })
    .requiredOption(
      '-k, --key-file <file>',
      'key file: one "name type" per line (types: string, int, float)',
    )
    .requiredOption(
      '-n, --lines <n>',
      'number of records to make (keys key1 .. keyN)',
      wholeNumber('lines'),
    )
    .requiredOption(
      '-d, --max-depth <d>',
      'deepest nesting of documents inside a record (0: flat)',
      wholeNumber('max-depth'),
    )
    .requiredOption(
      '-m, --max-keys <m>',
      'most keys in one document (each has 0..m)',
      wholeNumber('max-keys'),
    )
    .requiredOption(
      '-l, --max-length <l>',
      'longest string value (1..l characters of [A-Za-z0-9])',
      wholeNumber('max-length', { min: 1 }),
    )
    .option('-o, --output <file>', 'write to this file (atomically) instead of stdout')
    .option('--seed <seed>', 'seed for a reproducible data set (any text)');
}

/** Runs kv-gen with `argv` (as `process.argv`); resolves with the exit code. */
export async function run(argv: string[]): Promise<number> {
  const stdoutClosed = new AbortController();
  exitOnClosedStdout(process.stdout, () => stdoutClosed.abort());
  const cli = program(packageVersion(join(__dirname, '..')));
  const exit = parseArgs(cli, argv);
  if (exit !== undefined) return exit;
  const flags = cli.opts<Flags>();
  const seed = flags.seed ?? randomBytes(6).toString('hex');
  const abort = new AbortController();
  const onSignal = (): void => abort.abort(new Error('interrupted'));
  process.once('SIGINT', onSignal);
  try {
    const keys = await readKeyFile(flags.keyFile);
    const options: GenerateOptions = {
      keys,
      lines: flags.lines,
      maxDepth: flags.maxDepth,
      maxKeys: flags.maxKeys,
      maxLength: flags.maxLength,
      seed,
    };
    if (flags.output === undefined) {
      await writeToStdout(options, abort.signal, stdoutClosed.signal);
    } else {
      const lines = await writeDatasetFile(options, flags.output, { signal: abort.signal });
      process.stderr.write(`kv-gen: wrote ${lines} records to ${flags.output} (seed ${seed})\n`);
    }
    return 0;
  } catch (error) {
    if (abort.signal.aborted) {
      process.stderr.write('kv-gen: interrupted; no output file was left behind\n');
      return 130;
    }
    if (error instanceof OptionError) {
      process.stderr.write(
        `kv-gen: error: ${FLAGS[error.option] ?? error.option}: ${error.message}\n`,
      );
      return EXIT_USAGE;
    }
    if (error instanceof DatagenError) {
      process.stderr.write(`kv-gen: error: ${error.message}\n`);
      return EXIT_USAGE;
    }
    process.stderr.write(`kv-gen: error: ${(error as Error).message}\n`);
    return EXIT_FAILURE;
  } finally {
    process.off('SIGINT', onSignal);
  }
}

/** Streams to stdout; a closed pipe (`kv-gen ... | head`) ends the run quietly. */
async function writeToStdout(
  options: GenerateOptions,
  signal: AbortSignal,
  closed: AbortSignal,
): Promise<void> {
  try {
    await writeDataset(options, process.stdout, { signal: AbortSignal.any([signal, closed]) });
  } catch (error) {
    if (!closed.aborted) throw error;
  }
}
