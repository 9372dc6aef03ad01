import {
  COMMANDS,
  CommandTable,
  R,
  RespWriter,
  parseArgs,
  type Protocol,
  type RespValue,
} from '@triekv/resp';

const written = (value: RespValue, protocol: Protocol): string => {
  const w = new RespWriter(protocol);
  w.reply(value);
  return w.take().toString('latin1');
};

describe('RespWriter', () => {
  it.each<[string, RespValue, string, string]>([
    ['simple', R.simple('OK'), '+OK\r\n', '+OK\r\n'],
    ['error', R.error('ERR no'), '-ERR no\r\n', '-ERR no\r\n'],
    ['integer', R.integer(42), ':42\r\n', ':42\r\n'],
    [
      'negative big integer',
      R.integer(-(2n ** 70n)),
      `:${-(2n ** 70n)}\r\n`,
      `:${-(2n ** 70n)}\r\n`,
    ],
    ['bulk', R.bulk(Buffer.from([0, 255])), '$2\r\n\x00\xff\r\n', '$2\r\n\x00\xff\r\n'],
    ['utf-8 bulk', R.bulk('é'), '$2\r\n\xc3\xa9\r\n', '$2\r\n\xc3\xa9\r\n'],
    ['null bulk', R.bulk(null), '$-1\r\n', '_\r\n'],
    ['null array', R.array(null), '*-1\r\n', '_\r\n'],
    [
      'array',
      R.array([R.integer(1), R.bulk('a')]),
      '*2\r\n:1\r\n$1\r\na\r\n',
      '*2\r\n:1\r\n$1\r\na\r\n',
    ],
    ['map', R.fields([['a', R.integer(1)]]), '*2\r\n$1\r\na\r\n:1\r\n', '%1\r\n$1\r\na\r\n:1\r\n'],
    ['set', R.set([R.simple('x')]), '*1\r\n+x\r\n', '~1\r\n+x\r\n'],
    ['double', R.double(1.5), '$3\r\n1.5\r\n', ',1.5\r\n'],
    ['infinite double', R.double(-Infinity), '$4\r\n-inf\r\n', ',-inf\r\n'],
    [
      'big number',
      R.bignum(2n ** 64n),
      '$20\r\n18446744073709551616\r\n',
      '(18446744073709551616\r\n',
    ],
    ['boolean', R.boolean(true), ':1\r\n', '#t\r\n'],
    ['null', R.null(), '$-1\r\n', '_\r\n'],
    ['verbatim', R.verbatim('a\r\nb'), '$4\r\na\r\nb\r\n', '=8\r\ntxt:a\r\nb\r\n'],
    [
      'attribute',
      { type: 'attribute', attributes: [[R.bulk('ttl'), R.integer(3)]], value: R.integer(1) },
      ':1\r\n',
      '|1\r\n$3\r\nttl\r\n:3\r\n:1\r\n',
    ],
  ])('writes %s in RESP2 and RESP3', (_what, value, resp2, resp3) => {
    expect(written(value, 2)).toBe(resp2);
    expect(written(value, 3)).toBe(resp3);
  });

  it('keeps replies apart: take() returns what was written since the last call', () => {
    const w = new RespWriter();
    w.simple('PONG');
    w.bulk(Buffer.alloc(100_000, 0x61));
    const first = w.take();
    expect(first.length).toBe(7 + 9 + 100_000 + 2);
    w.integer(7);
    expect(w.take().toString()).toBe(':7\r\n');
    expect(first.subarray(0, 7).toString()).toBe('+PONG\r\n');
  });
});

describe('command table', () => {
  const table = new CommandTable(COMMANDS);

  it('knows arities as Redis counts them', () => {
    expect(table.arityError(table.get('GET')!, 2)).toBeUndefined();
    expect(table.arityError(table.get('get')!, 3)).toBe(
      "ERR wrong number of arguments for 'get' command",
    );
    expect(table.arityError(table.get('mset')!, 5)).toBeUndefined();
    expect(table.arityError(table.get('mset')!, 2)).toBeDefined();
    expect(table.get('nosuch')).toBeUndefined();
  });

  it('answers COMMAND INFO with the ten fields and COMMAND DOCS with arguments', () => {
    const info = written(table.info(table.get('set')!), 2);
    expect(
      info.startsWith('*10\r\n$3\r\nset\r\n:-3\r\n*2\r\n+write\r\n+denyoom\r\n:1\r\n:1\r\n:1\r\n'),
    ).toBe(true);
    const docs = written(R.map([table.docs(table.get('scan')!)]), 3);
    expect(docs).toContain('$7\r\nsummary\r\n');
    expect(docs).toContain('$5\r\ntoken\r\n$5\r\nMATCH\r\n');
    expect(docs).toContain('+optional\r\n');
  });

  it('parses argument specs: tokens, one-of, optional and multiple', () => {
    expect(
      parseArgs('key:key value:string [NX|XX] [GET] [COUNT count:integer] field:string...'),
    ).toEqual([
      { name: 'key', type: 'key' },
      { name: 'value', type: 'string' },
      {
        name: 'nx-xx',
        type: 'oneof',
        optional: true,
        arguments: [
          { name: 'nx', type: 'pure-token', token: 'NX' },
          { name: 'xx', type: 'pure-token', token: 'XX' },
        ],
      },
      { name: 'get', type: 'pure-token', token: 'GET', optional: true },
      { name: 'count', type: 'integer', token: 'COUNT', optional: true },
      { name: 'field', type: 'string', multiple: true },
    ]);
  });
});
