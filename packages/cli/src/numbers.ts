import { InvalidArgumentError } from 'commander';

/** The range a whole-number option accepts. */
export interface WholeNumberRange {
  /** @default 0 */
  min?: number;
  /** @default Number.MAX_SAFE_INTEGER */
  max?: number;
}

/**
 * The whole number `text` holds: decimal digits only (no sign, exponent, fraction or hex: `1e20`
 * and `0x10` are refused), within `range`. Throws a `RangeError` saying what was expected and what
 * was given.
 */
export function parseWholeNumber(name: string, text: string, range: WholeNumberRange = {}): number {
  const min = range.min ?? 0;
  const max = range.max ?? Number.MAX_SAFE_INTEGER;
  const trimmed = text.trim();
  const n = Number(trimmed);
  if (!/^\d+$/.test(trimmed) || !Number.isSafeInteger(n) || n < min || n > max) {
    const bounds = max === Number.MAX_SAFE_INTEGER ? `>= ${min}` : `from ${min} to ${max}`;
    throw new RangeError(`${name} must be a whole number ${bounds}, got ${JSON.stringify(text)}`);
  }
  return n;
}

/** A commander argument parser for a whole-number option (see `parseWholeNumber`). */
export function wholeNumber(name: string, range: WholeNumberRange = {}): (text: string) => number {
  return (text) => {
    try {
      return parseWholeNumber(name, text, range);
    } catch (error) {
      throw new InvalidArgumentError((error as Error).message);
    }
  };
}
