/**
 * @packageDocumentation
 * The command-line plumbing every triekv app shares, so that they behave alike: a commander program
 * with `--version` and errors prefixed with the app's name, exit code 2 on usage errors, strict
 * whole-number options with ranges (`1e20`, `-1` and `0x10` are refused with a message that names the
 * option), a quiet exit 0 when the reader of stdout goes away (`kv-broker ... | head -1`), and colour
 * only on a terminal without `NO_COLOR`.
 *
 * @example
 * ```ts
 * import { createProgram, exitOnClosedStdout, parseArgs, wholeNumber } from '@triekv/cli';
 *
 * exitOnClosedStdout();
 * const program = createProgram('kv-demo', { description: 'A demo.', version: '1.0.0' })
 *   .option('-n, --count <n>', 'how many', wholeNumber('count', { min: 1, max: 100 }), 10);
 * const exit = parseArgs(program, process.argv);
 * if (exit !== undefined) process.exitCode = exit;
 * ```
 */
export { EXIT_FAILURE, EXIT_OK, EXIT_USAGE } from './exit-codes.js';
export { parseWholeNumber, wholeNumber, type WholeNumberRange } from './numbers.js';
export { createProgram, packageVersion, parseArgs, type ProgramOptions } from './program.js';
export { exitOnClosedStdout, useColor, type OutputStream } from './streams.js';
export { readFlagFile } from './files.js';
