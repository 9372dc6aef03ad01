import { formatFloat, formatString } from '@triekv/record';
import { DEFAULT_FLOAT_RANGE, DEFAULT_INT_RANGE, DEFAULT_NEST_PROBABILITY } from './defaults.js';
import { OptionError } from './errors.js';
import type { KeySpec } from './key-file.js';
import { Random } from './random.js';

/** What to generate. Mirrors the `kv-gen` flags. */
export interface GenerateOptions {
  /** The keys documents may use, with their value types (the key file). */
  keys: readonly KeySpec[];
  /** How many records (lines): keys `key1` … `keyN`. */
  lines: number;
  /** Deepest nesting of documents under a record's document (0: flat records). */
  maxDepth: number;
  /** Most keys in one document (each document has 0..maxKeys, uniformly). */
  maxKeys: number;
  /** Longest string value (strings are 1..maxLength characters of [A-Za-z0-9]). */
  maxLength: number;
  /** Seed for a reproducible data set; any string. @default a random seed */
  seed?: string;
  /** Chance that a value is a nested document where depth allows. @default 0.25 */
  nestProbability?: number;
}

const ALPHANUMERIC = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

function checkCount(name: string, value: unknown, min: number): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) {
    throw new OptionError(`${name} must be a whole number >= ${min}, got ${String(value)}`, name);
  }
  return value;
}

/** Checks every option, naming the one at fault. */
export function checkOptions(options: GenerateOptions): void {
  checkCount('lines', options.lines, 0);
  checkCount('maxDepth', options.maxDepth, 0);
  checkCount('maxKeys', options.maxKeys, 0);
  checkCount('maxLength', options.maxLength, 1);
  if (!Array.isArray(options.keys))
    throw new OptionError('keys must be an array of { name, type }', 'keys');
  if (options.maxKeys > options.keys.length) {
    throw new OptionError(
      `maxKeys (${options.maxKeys}) is larger than the number of keys in the key file (${options.keys.length}): keys within one document are distinct`,
      'maxKeys',
    );
  }
  const p = options.nestProbability ?? DEFAULT_NEST_PROBABILITY;
  if (!(p >= 0 && p <= 1))
    throw new OptionError(`nestProbability must be in [0, 1], got ${p}`, 'nestProbability');
}

/**
 * Makes records in canonical text, one line at a time, straight from the PRNG (no documents are built
 * and formatted): the same seed gives the same lines, byte for byte.
 */
export class LineGenerator {
  private readonly random: Random;
  private readonly names: string[];
  private readonly types: KeySpec['type'][];
  /** A permutation of key indexes, partly reshuffled for each document to pick distinct keys. */
  private readonly order: Int32Array;
  private readonly nest: number;
  private produced = 0;

  constructor(private readonly options: GenerateOptions) {
    checkOptions(options);
    this.random = new Random(options.seed ?? String(Math.random()));
    this.names = options.keys.map((k) => formatString(k.name));
    this.types = options.keys.map((k) => k.type);
    this.order = Int32Array.from(options.keys, (_, i) => i);
    this.nest = options.nestProbability ?? DEFAULT_NEST_PROBABILITY;
  }

  /** Whether every line has been produced. */
  get done(): boolean {
    return this.produced >= this.options.lines;
  }

  /** The next line (without a newline), or undefined when done. */
  next(): string | undefined {
    if (this.done) return undefined;
    this.produced++;
    return `"key${this.produced}" : ${this.doc(0)}`;
  }

  private doc(depth: number): string {
    const random = this.random;
    const count = random.below(this.options.maxKeys + 1);
    if (count === 0) return '{}';
    const order = this.order;
    const canNest = depth < this.options.maxDepth;
    // Partial Fisher-Yates: the first `count` slots get distinct keys. They are copied out before any
    // value is made, because a nested document reshuffles the same permutation.
    const picked = new Array<number>(count);
    for (let i = 0; i < count; i++) {
      const j = i + random.below(order.length - i);
      const k = order[j] as number;
      order[j] = order[i] as number;
      order[i] = k;
      picked[i] = k;
    }
    let out = '{ ';
    for (let i = 0; i < count; i++) {
      const k = picked[i] as number;
      if (i > 0) out += ' ; ';
      out += this.names[k] as string;
      out += ' : ';
      out += canNest && random.float() < this.nest ? this.doc(depth + 1) : this.scalar(k);
    }
    return `${out} }`;
  }

  private scalar(key: number): string {
    const random = this.random;
    switch (this.types[key]) {
      case 'int':
        return String(random.below(DEFAULT_INT_RANGE));
      case 'float':
        return formatFloat(random.below(DEFAULT_FLOAT_RANGE * 100) / 100);
      default: {
        const length = 1 + random.below(this.options.maxLength);
        let s = '"';
        for (let i = 0; i < length; i++) s += ALPHANUMERIC[random.below(62)] as string;
        return `${s}"`;
      }
    }
  }
}

/** Every line of the data set, lazily (memory stays flat for any `lines`). */
export function* generateLines(options: GenerateOptions): Generator<string, void, undefined> {
  const generator = new LineGenerator(options);
  for (let line = generator.next(); line !== undefined; line = generator.next()) yield line;
}
