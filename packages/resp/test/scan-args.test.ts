import { countArg, parseScanOptions } from '@triekv/resp';

const b = (...words: string[]): Buffer[] => words.map((w) => Buffer.from(w));

describe('SCAN arguments', () => {
  it('reads MATCH, COUNT and TYPE in any order and case, with defaults', () => {
    expect(parseScanOptions(b('SCAN', '0'))).toEqual({ pattern: '*', count: 10 });
    expect(
      parseScanOptions(b('SCAN', '0', 'count', '37', 'MATCH', 'user:*', 'Type', 'STRING')),
    ).toEqual({ pattern: 'user:*', count: 37, type: 'string' });
  });

  it('refuses an unknown option or one without its value with a syntax error', () => {
    expect(() => parseScanOptions(b('SCAN', '0', 'LIMIT', '3'))).toThrow(/^ERR syntax error$/);
    expect(() => parseScanOptions(b('SCAN', '0', 'MATCH'))).toThrow(/^ERR syntax error$/);
  });

  it('takes counts as Redis does: integers only, at least 1', () => {
    expect(countArg(Buffer.from('1000'))).toBe(1000);
    for (const bad of ['abc', '1.5', '007', '', '99999999999999999999'])
      expect(() => countArg(Buffer.from(bad))).toThrow(
        /^ERR value is not an integer or out of range$/,
      );
    for (const low of ['0', '-3'])
      expect(() => countArg(Buffer.from(low))).toThrow(/^ERR syntax error$/);
    expect(() => countArg(undefined)).toThrow(/not an integer/);
  });
});
