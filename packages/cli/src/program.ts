import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command, CommanderError } from 'commander';
import { EXIT_USAGE } from './exit-codes.js';

/** The `version` of the package.json in `dir` (an app passes `join(__dirname, '..')`). */
export function packageVersion(dir: string): string {
  const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as {
    version?: unknown;
  };
  return typeof manifest.version === 'string' ? manifest.version : '0.0.0';
}

/** What `createProgram` needs to know about the app. */
export interface ProgramOptions {
  /** The one-line description at the top of `--help`. */
  description: string;
  /** Printed by `-V, --version`. */
  version: string;
  /** Text after the options in `--help` (examples). */
  helpAfter?: string;
}

/**
 * A commander program set up the way every triekv app behaves: `-V, --version`, errors prefixed with
 * the app's name, and no `process.exit` of its own (`parseArgs` turns the outcome into an exit code).
 */
export function createProgram(name: string, options: ProgramOptions): Command {
  const program = new Command(name)
    .description(options.description)
    .version(options.version, '-V, --version')
    .exitOverride()
    .configureOutput({ outputError: (text, write) => write(`${name}: ${text}`) });
  if (options.helpAfter !== undefined) program.addHelpText('after', options.helpAfter);
  return program;
}

/**
 * Parses `argv` (as `process.argv`): undefined when the app should go on, or the exit code to end
 * with: 0 after `--help` or `--version`, `EXIT_USAGE` (2) after a usage error (commander has printed
 * it).
 */
export function parseArgs(program: Command, argv: readonly string[]): number | undefined {
  try {
    program.parse(argv);
    return undefined;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : EXIT_USAGE;
    throw error;
  }
}
