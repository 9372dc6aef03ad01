import { NOT_INTEGER, RespError, SYNTAX, upper } from './session.js';

const INT64_MAX = 2n ** 63n - 1n;
const INT64_MIN = -(2n ** 63n);

/**
 * A COUNT or limit argument: a whole number of Redis's integer range (else `ERR value is not an
 * integer or out of range`), at least 1 (else `ERR syntax error`, as Redis answers `COUNT 0`).
 */
export function countArg(arg: Buffer | undefined): number {
  const text = arg?.toString('latin1') ?? '';
  if (!/^-?(0|[1-9][0-9]{0,18})$/.test(text)) throw new RespError(NOT_INTEGER);
  const n = BigInt(text);
  if (n > INT64_MAX || n < INT64_MIN) throw new RespError(NOT_INTEGER);
  if (n < 1n) throw new RespError(SYNTAX);
  return Number(n);
}

/** SCAN's options after its cursor. */
export interface ScanOptions {
  /** `MATCH`: a glob (default `*`). */
  pattern: string;
  /** `COUNT`: keys examined per call (default 10). */
  count: number;
  /** `TYPE`, in lower case. */
  type?: string;
}

/** `[MATCH pattern] [COUNT n] [TYPE t]` from `args[from]` on; an option without a value, or an unknown one: `ERR syntax error`. */
export function parseScanOptions(args: Buffer[], from = 2): ScanOptions {
  const options: ScanOptions = { pattern: '*', count: 10 };
  for (let i = from; i < args.length; i += 2) {
    const option = upper(args[i]);
    const value = args[i + 1];
    if (value === undefined) throw new RespError(SYNTAX);
    if (option === 'MATCH') options.pattern = value.toString('utf8');
    else if (option === 'COUNT') options.count = countArg(value);
    else if (option === 'TYPE') options.type = value.toString('utf8').toLowerCase();
    else throw new RespError(SYNTAX);
  }
  return options;
}
