/** Chance that a value becomes a nested document, where the depth limit allows one. */
export const DEFAULT_NEST_PROBABILITY = 0.25;
/** Ints are drawn uniformly from [0, DEFAULT_INT_RANGE). */
export const DEFAULT_INT_RANGE = 1000;
/** Floats are drawn from [0, DEFAULT_FLOAT_RANGE) with two decimals. */
export const DEFAULT_FLOAT_RANGE = 1000;
/** Output is written in chunks of about this many characters. */
export const CHUNK_CHARS = 64 * 1024;
