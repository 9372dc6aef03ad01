/**
 * @packageDocumentation
 * Random data sets in the triekv record format, for tests, demos and benchmarks. Seeded (the same seed
 * gives the same bytes), streaming (memory stays flat for any number of lines), and within the limits
 * asked for: nesting depth, keys per document (distinct, taken from a key file with their types), and
 * string length.
 *
 * @example
 * ```ts
 * import { generateLines, parseKeyFile } from '@triekv/datagen';
 *
 * const keys = parseKeyFile('name string\nage int\nheight float\n');
 * for (const line of generateLines({ keys, lines: 3, maxDepth: 2, maxKeys: 3, maxLength: 5, seed: 'demo' })) {
 *   console.log(line); // "key1" : { "age" : 613 ; "name" : "xQ3" }  (for example)
 * }
 * ```
 */
export { DatagenError, KeyFileError, OptionError, OutputError } from './errors.js';
export { parseKeyFile, readKeyFile, type KeySpec, type KeyType } from './key-file.js';
export { LineGenerator, checkOptions, generateLines, type GenerateOptions } from './generate.js';
export { writeDataset, writeDatasetFile, type WriteOptions } from './write.js';
export { Random } from './random.js';
