import { EventEmitter } from 'node:events';
import {
  EXIT_USAGE,
  createProgram,
  exitOnClosedStdout,
  parseArgs,
  parseWholeNumber,
  useColor,
  wholeNumber,
} from '@triekv/cli';

describe('whole numbers', () => {
  it.each([
    ['0', {}, 0],
    [' 42 ', {}, 42],
    ['65535', { max: 65535 }, 65535],
    ['9007199254740991', {}, Number.MAX_SAFE_INTEGER],
  ])('takes %j within %j', (text, range, expected) => {
    expect(parseWholeNumber('n', text, range)).toBe(expected);
  });

  it.each([
    ['1e20', {}, 'n must be a whole number >= 0, got "1e20"'],
    ['-1', {}, 'n must be a whole number >= 0, got "-1"'],
    ['0x10', {}, 'n must be a whole number >= 0, got "0x10"'],
    ['1.5', {}, 'n must be a whole number >= 0, got "1.5"'],
    ['', {}, 'n must be a whole number >= 0, got ""'],
    ['0', { min: 1 }, 'n must be a whole number >= 1, got "0"'],
    ['70000', { max: 65535 }, 'n must be a whole number from 0 to 65535, got "70000"'],
    ['9007199254740993', {}, 'n must be a whole number >= 0'],
  ])('refuses %j within %j', (text, range, message) => {
    expect(() => parseWholeNumber('n', text, range)).toThrow(message);
  });
});

describe('programs', () => {
  const program = (): ReturnType<typeof createProgram> =>
    createProgram('demo', { description: 'A demo.', version: '1.2.3' })
      .option('-n, --count <n>', 'how many', wholeNumber('count', { min: 1 }), 10)
      .configureOutput({ writeOut: () => undefined, writeErr: () => undefined });

  it('goes on after good arguments, with the parsed values', () => {
    const p = program();
    expect(parseArgs(p, ['node', 'demo', '-n', '3'])).toBeUndefined();
    expect(p.opts()).toEqual({ count: 3 });
  });

  it('ends with 0 after --help and --version, and 2 after a usage error', () => {
    expect(parseArgs(program(), ['node', 'demo', '--help'])).toBe(0);
    expect(parseArgs(program(), ['node', 'demo', '-V'])).toBe(0);
    expect(parseArgs(program(), ['node', 'demo', '-n', '1e20'])).toBe(EXIT_USAGE);
    expect(parseArgs(program(), ['node', 'demo', '--nope'])).toBe(EXIT_USAGE);
  });
});

describe('terminals', () => {
  it('colours only a terminal, and never with NO_COLOR set or TERM=dumb', () => {
    expect(useColor({ isTTY: true }, {})).toBe(true);
    expect(useColor({ isTTY: false }, {})).toBe(false);
    expect(useColor({}, {})).toBe(false);
    expect(useColor({ isTTY: true }, { NO_COLOR: '1' })).toBe(false);
    expect(useColor({ isTTY: true }, { NO_COLOR: '' })).toBe(true);
    expect(useColor({ isTTY: true }, { TERM: 'dumb' })).toBe(false);
  });

  it('runs the closed-stdout action once on EPIPE, and rethrows other errors', () => {
    const stream = new EventEmitter();
    let closed = 0;
    exitOnClosedStdout(stream, () => closed++);
    const epipe = Object.assign(new Error('write EPIPE'), { code: 'EPIPE' });
    stream.emit('error', epipe);
    stream.emit('error', epipe);
    expect(closed).toBe(1);
    const other = Object.assign(new Error('disk'), { code: 'EIO' });
    expect(() => stream.emit('error', other)).toThrow('disk');
  });
});
