import fc from 'fast-check';
import { RespParser, RespProtocolError, splitArgs, type RespCommand } from '@triekv/resp';

/** A command as a client sends it: a multibulk array of bulk strings. */
function multibulk(args: Buffer[]): Buffer {
  return Buffer.concat([
    Buffer.from(`*${args.length}\r\n`),
    ...args.flatMap((a) => [Buffer.from(`$${a.length}\r\n`), a, Buffer.from('\r\n')]),
  ]);
}

const text = (commands: (RespCommand | RespProtocolError)[]): (string[] | string)[] =>
  commands.map((c) =>
    c instanceof RespProtocolError ? c.message : c.map((a) => a.toString('latin1')),
  );

/** Feeds `bytes` to a parser cut at `cuts` (positions), returning everything it produced. */
function feed(
  bytes: Buffer,
  cuts: number[],
  parser = new RespParser(),
): (RespCommand | RespProtocolError)[] {
  const out: (RespCommand | RespProtocolError)[] = [];
  let from = 0;
  for (const cut of [
    ...cuts.filter((c) => c > 0 && c < bytes.length).sort((a, b) => a - b),
    bytes.length,
  ]) {
    out.push(...parser.push(bytes.subarray(from, cut)));
    from = cut;
  }
  return out;
}

describe('RespParser', () => {
  it('reads multibulk commands, binary-safe, whatever the chunk boundaries', () => {
    const arg = fc.uint8Array({ maxLength: 40 }).map((b) => Buffer.from(b));
    const commandArb = fc.array(arg, { minLength: 1, maxLength: 5 });
    fc.assert(
      fc.property(
        fc.array(commandArb, { minLength: 1, maxLength: 6 }),
        fc.array(fc.nat(400)),
        (commands, cuts) => {
          const bytes = Buffer.concat(commands.map(multibulk));
          const got = feed(bytes, cuts);
          expect(got).toEqual(commands);
        },
      ),
      { numRuns: 400 },
    );
  });

  it('reads a bulk string that arrives a byte at a time, and one of 1 MiB in 64 KiB chunks', () => {
    const parser = new RespParser();
    const bytes = multibulk([Buffer.from('SET'), Buffer.from('k'), Buffer.from('v\r\n\0x')]);
    const got = feed(
      bytes,
      Array.from({ length: bytes.length }, (_, i) => i),
      parser,
    );
    expect(text(got)).toEqual([['SET', 'k', 'v\r\n\0x']]);
    const big = Buffer.alloc(1 << 20, 0xab);
    const frame = multibulk([Buffer.from('SET'), Buffer.from('big'), big]);
    const chunks = Array.from(
      { length: Math.ceil(frame.length / 65536) },
      (_, i) => (i + 1) * 65536,
    );
    const [command] = feed(frame, chunks) as RespCommand[];
    expect((command as RespCommand)[2]?.equals(big)).toBe(true);
  });

  it('reads inline commands as telnet sends them, with Redis quoting', () => {
    const got = feed(
      Buffer.from("PING\r\nset k \"a b\\x41\\n\" 'it\\'s'\n\r\n   \nGET k\n"),
      [3, 11, 20],
    );
    expect(text(got)).toEqual([['PING'], ['set', 'k', 'a bA\n', "it's"], ['GET', 'k']]);
    expect(splitArgs(Buffer.from('  a   "" b '))).toEqual([
      Buffer.from('a'),
      Buffer.from(''),
      Buffer.from('b'),
    ]);
  });

  it.each([
    ['*x\r\n', 'Protocol error: invalid multibulk length'],
    ['*2\r\n$3\r\nGET\r\n:1\r\n', "Protocol error: expected '$', got ':'"],
    ['*1\r\n$-5\r\n', 'Protocol error: invalid bulk length'],
    ['*1\r\n$3\r\nGETxx', "Protocol error: expected '\\r\\n' after a bulk string"],
    ['SET k "unbalanced\r\n', 'Protocol error: unbalanced quotes in request'],
    ['SET k "closed"x\r\n', 'Protocol error: unbalanced quotes in request'],
  ])('refuses %j, and stays refused', (input, message) => {
    const parser = new RespParser();
    const got = parser.push(Buffer.from(input));
    expect(text(got).at(-1)).toBe(message);
    expect(text(parser.push(Buffer.from('*1\r\n$4\r\nPING\r\n')))).toEqual([message]);
  });

  it('refuses declared sizes over its limits before allocating anything for them', () => {
    const limits = { maxBulkBytes: 1024, maxArgs: 8, maxInlineBytes: 64 };
    expect(text(new RespParser(limits).push(Buffer.from('*1\r\n$999999999999\r\n')))).toEqual([
      'Protocol error: invalid bulk length',
    ]);
    expect(text(new RespParser(limits).push(Buffer.from('*1\r\n$1025\r\n')))).toEqual([
      'Protocol error: invalid bulk length',
    ]);
    expect(text(new RespParser(limits).push(Buffer.from('*9\r\n')))).toEqual([
      'Protocol error: invalid multibulk length',
    ]);
    // An inline line that never ends is refused once it passes the limit, not buffered forever.
    const inline = new RespParser(limits);
    expect(inline.push(Buffer.from('x'.repeat(60)))).toEqual([]);
    expect(text(inline.push(Buffer.from('x'.repeat(10))))).toEqual([
      'Protocol error: too big inline request',
    ]);
    // A bulk of exactly the limit is fine.
    const body = Buffer.alloc(1024, 0x61);
    expect(
      new RespParser(limits).push(multibulk([Buffer.from('SET'), Buffer.from('k'), body])),
    ).toHaveLength(1);
  });

  it('skips empty multibulks and blank lines, as Redis does', () => {
    expect(
      text(new RespParser().push(Buffer.from('*0\r\n*-1\r\n\r\n*1\r\n$4\r\nPING\r\n'))),
    ).toEqual([['PING']]);
  });
});
