import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command, CommanderError, InvalidArgumentError } from 'commander';
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

/** Exit code for bad input (flags, key file), as documented in the README. */
const EXIT_USAGE = 2;

const EXAMPLE = `
Example:
  kv-gen -k keyFile.txt -n 1000 -d 3 -m 5 -l 4 -o dataToIndex.txt --seed 42
  kv-gen -k keyFile.txt -n 10 -d 1 -m 3 -l 6 | head -3`;

function wholeNumber(min: number): (text: string) => number {
  return (text) => {
    if (!/^\d+$/.test(text.trim()) || Number(text) < min || !Number.isSafeInteger(Number(text))) {
      throw new InvalidArgumentError(`expected a whole number >= ${min}`);
    }
    return Number(text);
  };
}

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
  return new Command('kv-gen')
    .description('Make a random data set in the triekv record format, one record per line.')
    .requiredOption(
      '-k, --key-file <file>',
      'key file: one "name type" per line (types: string, int, float)',
    )
    .requiredOption(
      '-n, --lines <n>',
      'number of records to make (keys key1 .. keyN)',
      wholeNumber(0),
    )
    .requiredOption(
      '-d, --max-depth <d>',
      'deepest nesting of documents inside a record (0: flat)',
      wholeNumber(0),
    )
    .requiredOption(
      '-m, --max-keys <m>',
      'most keys in one document (each has 0..m)',
      wholeNumber(0),
    )
    .requiredOption(
      '-l, --max-length <l>',
      'longest string value (1..l characters of [A-Za-z0-9])',
      wholeNumber(1),
    )
    .option('-o, --output <file>', 'write to this file (atomically) instead of stdout')
    .option('--seed <seed>', 'seed for a reproducible data set (any text)')
    .version(version, '-V, --version')
    .addHelpText('after', EXAMPLE)
    .exitOverride()
    .configureOutput({
      outputError: (text, write) => write(`kv-gen: ${text.replace(/^error: /, 'error: ')}`),
    });
}

/** Runs kv-gen with `argv` (as `process.argv`); resolves with the exit code. */
export async function run(argv: string[]): Promise<number> {
  const manifest = readFileSync(join(__dirname, '..', 'package.json'), 'utf8');
  const { version } = JSON.parse(manifest) as { version: string };
  const cli = program(version);
  try {
    cli.parse(argv);
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : EXIT_USAGE;
    throw error;
  }
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
      await writeToStdout(options, abort.signal);
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
    return 1;
  } finally {
    process.off('SIGINT', onSignal);
  }
}

/** Streams to stdout; a closed pipe (`kv-gen ... | head`) ends the run quietly. */
async function writeToStdout(options: GenerateOptions, signal: AbortSignal): Promise<void> {
  const closed = new AbortController();
  const onError = (error: NodeJS.ErrnoException): void => {
    if (error.code === 'EPIPE') closed.abort();
  };
  process.stdout.on('error', onError);
  try {
    await writeDataset(options, process.stdout, {
      signal: AbortSignal.any([signal, closed.signal]),
    });
  } catch (error) {
    if (!closed.signal.aborted) throw error;
  } finally {
    process.stdout.off('error', onError);
  }
}
